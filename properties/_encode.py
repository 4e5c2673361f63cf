"""The z3 transition relation of a model, derived by running ``Model.step``.

A world is a tree of small integers; here every leaf becomes a 16-bit z3
variable.  For every input the composed system can receive, ``Model.step`` is
executed over the symbolic world (``_sym.Paths``): each feasible path gives a
condition on the pre-state and the post-state as terms.  The relation is

    T(s, s') = OR_j (sel = j AND C_j(s))  AND  AND_f s'_f = ITE_j(sel = j, e_jf(s), s_f)

where ``sel`` names the path taken, and each field lists only the paths that
change it.  Field domains (which values a field can hold at all) are the
type invariants: the paths are derived for pre-states inside them, so the z3
engine proves them inductive with the other invariants rather than assuming
them of the post-state.  A path whose execution met a value it could not
represent is dropped from the relation and its condition kept
(``dropped_conds``): a proof stands only if no reachable state can take it.

The same machinery evaluates properties: a predicate over worlds is run
symbolically and its paths folded into one formula (``_sym.truth``).
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import z3

from ipsecmm.model import (
    FIRST_MID,
    InKind,
    Input,
    IState,
    Kind,
    Model,
    Reason,
    RState,
    SAState,
    World,
)

from ._sym import WIDTH, Paths, Sym, bv, truth

Leaf = tuple[str, ...]


def leaves(obj: Any, path: Leaf = ()) -> Iterator[tuple[Leaf, Any]]:
    """(path, value) of every integer leaf of a record tree, in a fixed order."""
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):
        for name, value in zip(obj._fields, obj, strict=True):
            yield from leaves(value, (*path, name))
    elif isinstance(obj, tuple):
        for k, value in enumerate(obj):
            yield from leaves(value, (*path, str(k)))
    else:
        yield path, obj


def rebuild(template: Any, values: Iterator[Any]) -> Any:
    """``template`` with its leaves replaced, in ``leaves`` order, by ``values``."""
    if isinstance(template, tuple) and hasattr(template, "_fields"):
        return type(template)(*(rebuild(v, values) for v in template))
    if isinstance(template, tuple):
        return tuple(rebuild(v, values) for v in template)
    return next(values)


def concrete(value: Any) -> int:
    """A leaf's value as a Python int (z3 numeral or int)."""
    if isinstance(value, Sym):
        value = value.e
    if isinstance(value, z3.ExprRef):
        v = z3.simplify(value)
        if not z3.is_bv_value(v):
            raise ValueError(f"not a constant: {value}")
        return int(v.as_long())
    return int(value)


@dataclass
class PathInfo:
    index: int
    inp: Input
    conds: z3.BoolRef
    changes: dict[int, z3.BitVecRef]
    result: World  # the post-state as a record of terms


class Encoding:
    """The symbolic transition relation of ``model``."""

    def __init__(self, model: Model, prefix: str = "s", cache: bool = False) -> None:
        self.m = model
        self.template = model.initial()
        self.names = [".".join(p) for p, _ in leaves(self.template)]
        self.n = len(self.names)
        self.pre = [z3.BitVec(f"{prefix}.{n}", WIDTH) for n in self.names]
        self._pre_syms = [Sym(v) for v in self.pre]
        self.world = rebuild(self.template, iter(self._pre_syms))
        self.finite: dict[z3.BitVecRef, Sequence[int]] = {}
        self.domains = [self._domain(name, v) for name, v in zip(self.names, self.pre, strict=True)]
        self.inputs = all_inputs(model)
        self.paths: list[PathInfo] = []
        self._relation: tuple[z3.BoolRef, list[z3.BitVecRef], z3.BitVecRef] | None = None
        self.seconds = 0.0
        self.solver_checks = 0
        self.dropped = 0
        self.dropped_conds: list[z3.BoolRef] = []
        self.n_paths = 0
        self.cached = False  # the relation was read from the cache, not derived here
        path = cache_file(model) if cache else None
        if path is not None and self._load(path):
            return
        self._build()
        self.n_paths = len(self.paths)
        if path is not None:
            self._save(path)

    # ---------------------------------------------------------------- cache

    def _save(self, path: Path) -> None:
        """The relation (and the conditions of dropped paths) as SMT-LIB, so
        the next run with the same tables and scenario need not derive it."""
        rel, _, _ = self._formula()
        s = z3.Solver()
        s.add(rel, *(z3.Bool(f"dropped.{i}") == c for i, c in enumerate(self.dropped_conds)))
        text = f"; ipsecmm relation: {self.n_paths} paths, {self.dropped} dropped\n" + s.to_smt2()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.{os.getpid()}")
            tmp.write_text(text, encoding="utf-8")
            os.replace(tmp, path)
        except OSError:
            pass  # a cache that cannot be written is no cache, not an error

    def _load(self, path: Path) -> bool:
        try:
            text = path.read_text(encoding="utf-8")
            head = text.split("\n", 1)[0].split()
            n_paths, dropped = int(head[3]), int(head[5])
            asserted = list(z3.parse_smt2_string(text))
        except (OSError, ValueError, IndexError, z3.Z3Exception):
            return False
        if len(asserted) != 1 + dropped:
            return False
        self.n_paths, self.dropped = n_paths, dropped
        self.dropped_conds = [a.arg(1) for a in asserted[1:]]
        self._relation = (asserted[0], self.fresh("n"), z3.BitVec("sel", 16))
        self.cached = True
        return True

    # ---------------------------------------------------------------- domains

    def _domain(self, name: str, v: z3.BitVecRef) -> z3.BoolRef:
        m = self.m
        b = m.sc.bounds
        last = name.rsplit(".", 1)[-1]
        all_addr = (1 << m.n_addr) - 1

        def among(values: Sequence[int]) -> z3.BoolRef:
            self.finite[v] = [int(x) for x in values]
            return z3.Or(*(v == int(x) for x in values))

        def upto(k: int) -> z3.BoolRef:
            return among(range(k + 1))

        if last in ("up", "cur_i", "cur_r", "alt_i", "alt_r", "out", "sel_i", "sel_r", "addrs", "probed", "verified", "back"):
            return v & ~all_addr == 0
        if last == "kind":
            return among([int(k) for k in Kind])
        if last in ("resp", "prot", "gen", "due"):
            return upto(1)
        if last == "again":
            return upto(2)
        if last == "mid":
            return upto(FIRST_MID + b.requests + 1)
        if last in ("sa", "intent"):
            return among(m.slot_values)
        if last in ("old", "new", "src", "dst"):
            return among(m.addr_values)
        if last in ("reason", "why"):
            return among([int(r) for r in Reason])
        if last == "st":
            return among([int(s) for s in (IState if ".ini." in name else RState)])
        if last == "state":
            return among([int(s) for s in SAState])
        if last == "retries":
            return upto(b.retransmits)
        if last == "requests":
            return upto(b.requests)
        if last == "moves":
            return upto(b.moves)
        if last == "forged":
            return upto(b.forge)
        if last == "dropped":
            return upto(max(b.drops, 0))
        raise KeyError(f"no domain for field {name}")

    # ---------------------------------------------------------------- relation

    def _build(self) -> None:
        started = time.perf_counter()
        for inp in self.inputs:
            for conds, res, changes in self.run(partial(self.m.step, self.world, inp)):
                if res is None or not changes:
                    continue  # refused, or a no-op: not a transition
                self.paths.append(PathInfo(len(self.paths), inp, z3.And(*conds), changes, res))
        self.seconds = time.perf_counter() - started
        self.sel = z3.BitVec("sel", 16)

    def run(self, fn: Callable[[], Any]) -> list[tuple[list[z3.BoolRef], Any, dict[int, z3.BitVecRef]]]:
        """Paths of ``fn`` over the symbolic pre-state, with the fields each
        path's resulting world changes."""
        px = Paths(self.domains, self.finite)
        out = []
        for conds, res in px.run(fn):
            changes: dict[int, z3.BitVecRef] = {}
            if isinstance(res, World):
                for k, (_, value) in enumerate(leaves(res)):
                    if value is self._pre_syms[k]:
                        continue  # effects copy what they do not change
                    e = z3.simplify(bv(value))
                    if not e.eq(self.pre[k]):
                        changes[k] = e
            out.append((conds, res, changes))
        self.solver_checks += px.checks
        self.dropped += px.dropped
        self.dropped_conds += [z3.And(*c) if c else z3.BoolVal(True) for c in px.dropped_conds]
        return out

    def relation(self, pre: Sequence[z3.BitVecRef], nxt: Sequence[z3.BitVecRef], sel: z3.BitVecRef) -> z3.BoolRef:
        """T(pre, nxt) with the path selector ``sel``: built once over the
        encoding's own variables, then renamed in one substitution."""
        rel, base_nxt, base_sel = self._formula()
        pairs = [*zip(self.pre, pre, strict=True), *zip(base_nxt, nxt, strict=True), (base_sel, sel)]
        pairs = [(a, b) for a, b in pairs if not a.eq(b)]
        return z3.substitute(rel, *pairs) if pairs else rel

    def _formula(self) -> tuple[z3.BoolRef, list[z3.BitVecRef], z3.BitVecRef]:
        """T over the encoding's own variables ``pre``, ``n.*`` and ``sel``."""
        if self._relation is None:
            base_sel = z3.BitVec("sel", 16)
            base_nxt = self.fresh("n")
            guards = [z3.And(base_sel == p.index, p.conds) for p in self.paths]
            eqs = []
            for k in range(self.n):
                expr: z3.BitVecRef = self.pre[k]
                for p in reversed(self.paths):
                    e = p.changes.get(k)
                    if e is not None:
                        expr = z3.If(base_sel == p.index, e, expr)
                eqs.append(base_nxt[k] == expr)
            self._relation = (z3.And(z3.Or(*guards), *eqs), base_nxt, base_sel)
        return self._relation

    def fresh(self, prefix: str) -> list[z3.BitVecRef]:
        return [z3.BitVec(f"{prefix}.{n}", WIDTH) for n in self.names]

    def equals(self, vars_: Sequence[z3.BitVecRef], w: World) -> z3.BoolRef:
        return z3.And(*(v == concrete(x) for v, (_, x) in zip(vars_, leaves(w), strict=True)))

    def state_formula(self, pred: Callable[[World], Any]) -> z3.BoolRef:
        """``pred`` over the pre-state, as one formula."""
        return truth(Paths(self.domains, self.finite).run(lambda: pred(self.world)))

    def decode(self, model: z3.ModelRef, vars_: Sequence[z3.BitVecRef]) -> World:
        vals = (model.eval(v, model_completion=True).as_long() for v in vars_)
        return canonical_types(rebuild(self.template, vals))


#: Where derived relations are kept between runs (IPSECMM_CACHE; "off" disables).
def cache_dir() -> Path | None:
    where = os.environ.get("IPSECMM_CACHE", "")
    if where == "off":
        return None
    if where:
        return Path(where)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "ipsecmm"


def _source_digest() -> str:
    """The source the relation is derived from: the model, and this module and
    the symbolic executor that derive it."""
    import ipsecmm.model as model_pkg

    h = hashlib.sha256(z3.get_version_string().encode())
    files = sorted(Path(model_pkg.__file__).parent.glob("*.py")) + [Path(__file__), Path(__file__).with_name("_sym.py")]
    for f in files:
        h.update(f.name.encode() + b"\0" + f.read_bytes())
    return h.hexdigest()


_DIGEST: list[str] = []


def cache_file(m: Model) -> Path | None:
    """The cache entry of ``m``'s relation, or None when there is no cache or
    ``m``'s rows are not the tables' own (a mutant's relation is not kept)."""
    where = cache_dir()
    if where is None or not getattr(m, "pristine", False):
        return None
    if not _DIGEST:
        _DIGEST.append(_source_digest())
    key = hashlib.sha256(repr((_DIGEST[0], m.prof.name, m.sc, m.prof.options)).encode()).hexdigest()[:32]
    return where / f"relation-{key}.smt2"


def canonical_types(w: World) -> World:
    """A decoded world with the enum-typed fields restored, so that it compares
    equal to the worlds the model builds."""
    from ipsecmm.model import SAEntry

    def fix(obj: Any, name: str = "") -> Any:
        if isinstance(obj, tuple) and hasattr(obj, "_fields"):
            vals = []
            for f, v in zip(obj._fields, obj, strict=True):
                vals.append(fix(v, f if not isinstance(obj, SAEntry) or f != "state" else "sastate"))
            return type(obj)(*vals)
        if isinstance(obj, tuple):
            return tuple(fix(v, name) for v in obj)
        return obj

    return fix(w)


def all_inputs(m: Model) -> list[Input]:
    """Every input the composed system may receive, whatever the state."""
    b = m.sc.bounds
    res: list[Input] = []
    for p in m.mobile:
        res += [Input(InKind.ACT, p, 0, a) for a in m.alphabet[p]]
        res.append(Input(InKind.TIMEOUT, p))
    for d in (0, 1):
        for i in range(b.channel):
            res += [Input(InKind.DELIVER, d, i), Input(InKind.DROP, d, i), Input(InKind.DUPLICATE, d, i)]
        res.append(Input(InKind.FORGE, d))
    for p in m.mobile:
        for a in range(m.n_addr):
            if m.owned[p] >> a & 1:
                res += [Input(InKind.LOSE, p, a), Input(InKind.GAIN, p, a)]
    for p in (0, 1):
        res += [Input(InKind.RR_TIMEOUT, p), Input(InKind.PATH_DEAD, p)]
    return res
