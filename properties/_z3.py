"""The z3 engine: induction and bounded model checking over the transition
relation derived from the tables (``_encode``).

* **Induction (Houdini).**  The candidates are every state invariant of the
  registry plus the strengthening lemmas of ``_lemmas`` (the invariants alone
  are rarely inductive: the lemmas say what an exchange in flight looks
  like).  Those false in the initial state are dropped; then, repeatedly,
  every candidate that can fail after one step from a state satisfying all
  remaining candidates is dropped.
  The set that survives is inductive and holds initially, so each of its
  members holds in every reachable state: *proved*, for the scenario's sizes.
  Soundness does not depend on the explorer, so the two engines are
  independent opinions.
* **k-induction.**  An invariant Houdini could not keep is tried again with
  longer paths: no state within k-1 steps of the initial one violates it
  (BMC), and every path of k steps through states that satisfy it, and
  everything already proved, ends in a state that satisfies it too.  The
  smallest such k up to the configured bound makes it *proved*.
* **Bounded model checking.**  From the initial state, the shortest depth at
  which an invariant fails.  A violation the explorer reports must be found
  by BMC at exactly the explorer's depth (both are shortest), which is the
  engines' cross-check on the runs they report.

Step invariants are checked by the explorer alone: evaluating their
predicates symbolically forks too much to fit a minute.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import z3

from ipsecmm.model import Model, Scenario, World, get_profile

from . import _preds as P
from ._encode import Encoding, Slice
from ._lemmas import LEMMAS
from ._registry import REGISTRY, Invariant

TIMEOUT_MS = 20_000
#: A slice's query asks about every candidate at once: a loaded machine must
#: not turn it into a give-up (that falls back to one query per candidate,
#: which costs more).
JOINT_TIMEOUT_MS = 180_000


@dataclass
class Z3Result:
    """What the z3 engine concluded for one profile (plain data: it crosses a
    process boundary)."""

    profile: str
    proved: list[str] = field(default_factory=list)  # requirement IDs
    lemmas: list[str] = field(default_factory=list)  # the lemmas that survived with them
    fell: dict[str, str] = field(default_factory=dict)
    bmc_depth: dict[str, int | None] = field(default_factory=dict)
    k_proved: dict[str, int] = field(default_factory=dict)  # requirement ID -> the k that proved it (k >= 2)
    k: int = 1  # k-induction was tried up to this k
    types: str = ""  # "" when the type invariants were proved with the rest; else why not
    dropped: int = 0  # symbolic paths the relation could not represent (each shown unreachable, or nothing proved)
    depth: int = 0
    paths: int = 0
    build_seconds: float = 0.0
    seconds: float = 0.0
    error: str = ""


NOT_INDUCTIVE = "not inductive, even with the other candidates as lemmas"


class Z3Engine:
    def __init__(self, m: Model, enc: Encoding | None = None) -> None:
        self.m = m
        self.enc = enc if enc is not None else Encoding(m, cache=True)
        self.nxt = self.enc.fresh("n")
        self.sel = z3.BitVec("sel", 16)
        self.dom = z3.And(*self.enc.domains)
        self.type_failure = ""  # why the type invariants could not be proved, if they could not
        self._field = {v.get_id(): k for k, v in enumerate(self.enc.pre)}
        # The slices are over the encoding's own variables, which ``nxt``
        # and ``sel`` are (same names): no renaming.
        self.slices = self.enc.slices()
        self._unsettled = set(self.enc.unsettled)

    @property
    def T(self) -> z3.BoolRef:
        """The whole relation over ``enc.pre``, ``nxt`` and ``sel``."""
        return self.enc.relation(self.enc.pre, self.nxt, self.sel)

    def _sub(self, sl: Slice) -> list[tuple[z3.BitVecRef, z3.BitVecRef]]:
        """Pre-state to post-state variable of each field ``sl`` changes (a
        field it does not change keeps its value)."""
        return [(self.enc.pre[k], self.nxt[k]) for k in sorted(sl.changed)]

    def reads(self, f: z3.ExprRef) -> frozenset[int]:
        """The fields of the pre-state ``f`` mentions."""
        seen: set[int] = set()
        out = set()
        stack = [f]
        while stack:
            x = stack.pop()
            key = x.get_id()
            if key in seen:
                continue
            seen.add(key)
            if key in self._field:
                out.add(self._field[key])
            stack += x.children()
        return frozenset(out)

    def next_of(self, f: z3.BoolRef) -> z3.BoolRef:
        return z3.substitute(f, *zip(self.enc.pre, self.nxt, strict=True))

    def state(self, pred: Callable[[Model, World], Any]) -> z3.BoolRef:
        return self.enc.state_formula(lambda w: pred(self.m, w))

    def solver(self, timeout_ms: int = TIMEOUT_MS) -> z3.Solver:
        # Everything is bit-vectors of fixed width: simplifying, solving the
        # many equalities of the relation away and bit-blasting to SAT is an
        # order of magnitude faster here than the default incremental solver.
        s = z3.Then("simplify", "solve-eqs", "bit-blast", "sat").solver()
        s.set("timeout", timeout_ms)
        return s

    def holds_initially(self, f: z3.BoolRef) -> bool:
        init = self.m.initial()
        s = self.solver()
        s.add(self.enc.equals(self.enc.pre, init), z3.Not(f))
        return s.check() == z3.unsat

    def houdini(self, candidates: dict[str, z3.BoolRef]) -> tuple[list[str], dict[str, str]]:
        """The largest inductive subset of ``candidates`` that holds initially,
        together with the type invariants (every field's domain).

        A round asks, slice by slice, whether a candidate the slice's paths
        can change fails after one of them from a state satisfying every live
        candidate; each candidate a counterexample breaks is dropped, and the
        round is asked again until none is.  Then the same for the domains of
        the fields the slice may take out of theirs.  The domains are never
        dropped: the relation is only derived for states inside them, so if
        a step from such a state can leave them, nothing is proved
        (``type_failure`` says which field).  When everything is inductive
        (the usual case once the lemmas are right) that is one unsatisfiable
        query per slice and kind."""
        fell: dict[str, str] = {}
        alive = {}
        for name, f in candidates.items():
            if self.holds_initially(f):
                alive[name] = f
            else:
                fell[name] = "false in the initial state"
        reads = {name: self.reads(f) for name, f in alive.items()}
        while True:
            bad = self._round(alive, reads)
            if bad is None:
                self.type_failure = "the solver could not decide the candidates"
            elif not bad:
                bad = self._types(alive, reads)
                if not bad and bad is not None:
                    break
            if bad is None:
                return [], {**fell, **{n: f"no proof: {self.type_failure}" for n in alive}}
            for name, why in bad.items():
                del alive[name]
                fell[name] = why
        excluded = self._dropped_excluded(list(alive.values()))
        if not excluded:
            self.type_failure = (f"{self.enc.dropped} symbolic path(s) could not be represented in the relation "
                                 "and the invariants do not rule out the states they start from")
            return [], {**fell, **{n: f"no proof: {self.type_failure}" for n in alive}}
        return sorted(alive), fell

    def _after(self, sl: Slice, alive: dict[str, z3.BoolRef],
               reads: dict[str, frozenset[int]]) -> dict[str, z3.BoolRef]:
        """The live candidates a path of ``sl`` can change, after it."""
        sub = self._sub(sl)
        return {n: z3.substitute(f, *sub) for n, f in alive.items() if reads[n] & sl.changed}

    def _round(self, alive: dict[str, z3.BoolRef], reads: dict[str, frozenset[int]]) -> dict[str, str] | None:
        """The candidates some step breaks from a state satisfying them all
        (every slice asked with the same live set), or None when the solver
        could not decide."""
        bad: dict[str, str] = {}
        for sl in self.slices:
            after = self._after(sl, alive, reads)
            if not after:
                continue
            s = self.solver(JOINT_TIMEOUT_MS)
            s.add(self.dom, sl.T, *self._domains(sl), *alive.values(), z3.Or(*(z3.Not(a) for a in after.values())))
            r = s.check()
            if r == z3.unsat:
                continue
            found: dict[str, str] = {}
            if r == z3.sat:
                cti = s.model()
                found = {n: NOT_INDUCTIVE for n, a in after.items() if z3.is_false(cti.eval(a, model_completion=True))}
            if not found:
                found = self._one_by_one(sl, alive, after)
                if not found:
                    return None
            bad.update(found)
        return bad

    def _obligations(self, sl: Slice) -> list[int]:
        """The fields ``sl`` changes that may leave their domain: only those
        in ``Encoding.unsettled`` can (the rest keep it by construction,
        which needs no solver)."""
        return sorted(sl.changed & self._unsettled)

    def _domains(self, sl: Slice) -> list[z3.BoolRef]:
        """The domains of ``sl``'s obligations, over the post-state."""
        sub = self._sub(sl)
        return [z3.substitute(self.enc.domains[k], *sub) for k in self._obligations(sl)]

    def _types(self, alive: dict[str, z3.BoolRef], reads: dict[str, frozenset[int]]) -> dict[str, str] | None:
        """Whether a step from a state satisfying ``alive`` can leave the
        domains: {} when none can; the candidates such a step breaks; or
        None (and ``type_failure``) when it breaks none, or the solver could
        not decide."""
        for sl in self.slices:
            doms = self._domains(sl)
            if not doms:
                continue
            t = self.solver(JOINT_TIMEOUT_MS)
            t.add(self.dom, sl.T, *alive.values(), z3.Not(z3.And(*doms)))
            rt = t.check()
            if rt == z3.unsat:
                continue
            if rt == z3.unknown:
                self.type_failure = f"the solver could not decide the type invariants ({t.reason_unknown()})"
                return None
            cti = t.model()
            after = self._after(sl, alive, reads)
            bad = {n: NOT_INDUCTIVE for n, a in after.items() if z3.is_false(cti.eval(a, model_completion=True))}
            if bad:
                return bad
            names = [self.enc.names[k] for k, d in zip(self._obligations(sl), doms, strict=True)
                     if z3.is_false(cti.eval(d, model_completion=True))]
            self.type_failure = f"the type invariant of {', '.join(names[:3])} is not inductive with the proved invariants"
            return None
        return {}

    def _dropped_excluded(self, proved: list[z3.BoolRef]) -> bool:
        """No state satisfying the domains and ``proved`` takes a path the
        relation had to drop."""
        if not self.enc.dropped_conds:
            return True
        s = self.solver()
        s.add(self.dom, *proved, z3.Or(*self.enc.dropped_conds))
        return s.check() == z3.unsat

    def _one_by_one(self, sl: Slice, alive: dict[str, z3.BoolRef], after: dict[str, z3.BoolRef]) -> dict[str, str]:
        """One query per candidate: where the slice's query gave up, smaller
        ones may not, and a candidate the solver cannot decide is dropped."""
        bad = {}
        for name, a in after.items():
            s = self.solver()
            s.add(self.dom, sl.T, *self._domains(sl), *alive.values(), z3.Not(a))
            r = s.check()
            if r == z3.sat:
                bad[name] = NOT_INDUCTIVE
            elif r == z3.unknown:
                bad[name] = f"solver gave up ({s.reason_unknown()})"
        return bad

    def at(self, f: z3.BoolRef, state: list[z3.BitVecRef]) -> z3.BoolRef:
        """``f`` (over the pre-state) over the variables ``state``."""
        return z3.substitute(f, *zip(self.enc.pre, state, strict=True))

    def k_induction(self, f: z3.BoolRef, assume: list[z3.BoolRef], k_max: int) -> int | None:
        """The smallest k in 2..``k_max`` for which ``f`` is k-inductive, or
        None.  ``assume`` are formulas already proved to hold in every
        reachable state, so constraining every state of the path with them
        keeps the argument sound while ruling out unreachable paths."""
        for k in range(2, k_max + 1):
            if self.bmc(z3.Not(f), k - 1) is not None:
                return None  # a real violation: no k will prove it
            path = [self.enc.fresh(f"k{k}.{i}") for i in range(k + 1)]
            s = self.solver()
            for i, st in enumerate(path):
                s.add(self.at(self.dom, st), *(self.at(a, st) for a in assume))
                if i < k:
                    s.add(self.at(f, st), self.enc.relation(st, path[i + 1], z3.BitVec(f"ksel{k}.{i}", 16)))
            s.add(z3.Not(self.at(f, path[k])))
            if s.check() == z3.unsat:
                return k
        return None

    def bmc(self, bad: z3.BoolRef, depth: int) -> int | None:
        """The shortest depth <= ``depth`` at which a reachable state satisfies
        ``bad``, or None.  A solver that gives up is an error, never a None."""
        states = [self.enc.fresh("b0")]
        init = self.enc.equals(states[0], self.m.initial())
        steps: list[z3.BoolRef] = []
        for d in range(depth + 1):
            s = self.solver()
            s.add(init, *steps, z3.substitute(bad, *zip(self.enc.pre, states[d], strict=True)))
            r = s.check()
            if r == z3.unknown:
                raise RuntimeError(f"BMC at depth {d}: solver gave up ({s.reason_unknown()})")
            if r == z3.sat:
                return d
            if d == depth:
                break
            states.append(self.enc.fresh(f"b{d + 1}"))
            steps.append(self.enc.relation(states[d], states[d + 1], z3.BitVec(f"bsel{d}", 16)))
        return None


def invariants() -> dict[str, Invariant]:
    """The registry's state invariants (requirements made of them only)."""
    res = {}
    for r in REGISTRY:
        invs = [c for c in r.checks if isinstance(c, Invariant)]
        if invs and len(invs) == len(r.checks):
            res[r.id] = invs[0] if len(invs) == 1 else Invariant(partial(_all, invs=invs))
    return res


def _all(m: Model, w: World, *, invs: list[Invariant]) -> Any:
    ok: Any = True
    for inv in invs:
        ok = ok & _implies(m, w, inv=inv)
    return ok


def _implies(m: Model, w: World, *, inv: Invariant) -> Any:
    if inv.when is None:
        return inv.then(m, w)
    return P.NOT(inv.when(m, w)) | inv.then(m, w)


#: k-induction is tried up to this k by default (1: plain induction only).
K_DEFAULT = 2


def run_z3(sc: Scenario, profile: str, depth: int = 0, k: int = K_DEFAULT,
           log: Callable[[str], None] | None = None) -> Z3Result:
    """Induction for every state invariant, then k-induction up to ``k`` for
    those it did not prove; with ``depth`` > 0, bounded model checking to
    that depth for every one still unproved (the shortest counterexample, or
    none).  ``log`` hears what it is doing (a check's progress)."""
    say = log or (lambda text: None)
    t0 = time.perf_counter()
    res = Z3Result(profile, depth=depth, k=k)
    try:
        say("deriving the relation from the tables")
        m = Model(sc, get_profile(profile, sc.options))
        eng = Z3Engine(m)
        res.paths = eng.enc.n_paths
        res.build_seconds = time.perf_counter() - t0
        invs = invariants()
        cands = {rid: eng.state(partial(_implies, inv=inv)) for rid, inv in invs.items()}
        cands.update({name: eng.state(f) for name, f in LEMMAS.items()})
        say(f"induction: {len(cands)} invariants and lemmas over {res.paths:,} paths")
        survivors, res.fell = eng.houdini(cands)
        res.types = eng.type_failure
        res.dropped = eng.enc.dropped
        res.proved = [name for name in survivors if name in invs]
        res.lemmas = [name for name in survivors if name not in invs]
        if k >= 2 and not res.types:
            assume = [cands[name] for name in survivors]
            for rid in invs:
                if rid not in res.proved:
                    say(f"k-induction up to k={k}: {rid}")
                    found = eng.k_induction(cands[rid], assume, k)
                    if found is not None:
                        res.k_proved[rid] = found
                        assume.append(cands[rid])
        if depth > 0:
            for rid in invs:
                if rid not in res.proved and rid not in res.k_proved:
                    say(f"bounded model checking to depth {depth}: {rid}")
                    res.bmc_depth[rid] = eng.bmc(z3.Not(cands[rid]), depth)
    except Exception as exc:  # pragma: no cover - reported, never a pass
        res.error = f"{type(exc).__name__}: {exc}"
    res.seconds = time.perf_counter() - t0
    return res
