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

from ._sym import WIDTH, Paths, Sym, bv, conj, truth

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


#: Paths per slice of the relation.  The z3 engine asks one induction query
#: per slice: over the whole relation at once, the query took two to four
#: times as long as the slices' queries together (and swung by a factor of
#: two from run to run); a few hundred paths per slice measured best on the
#: default scenario (bench/check.py).
SLICE = 400


@dataclass
class Slice:
    """The relation restricted to a run of consecutive paths, over the
    encoding's own variables: ``sel`` names one of them, its condition holds,
    and each field in ``changed`` (those one of them changes) has its new
    value in ``n.*``.  The other fields keep their values; their ``n.*``
    variables are left out."""

    T: z3.BoolRef
    changed: frozenset[int]


@dataclass
class PathInfo:
    index: int
    inp: Input
    conds: z3.BoolRef
    changes: dict[int, z3.BitVecRef]  # field index -> its new value, for the fields the path changes


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
        #: every value each field may hold (its domain as a set), by field index
        self.ranges: list[frozenset[int]] = []
        self.domains = [self._domain(name, v) for name, v in zip(self.names, self.pre, strict=True)]
        assert len(self.ranges) == self.n, "every domain records its values"
        self.inputs = all_inputs(model)
        self.paths: list[PathInfo] = []
        self._relation: tuple[z3.BoolRef, list[z3.BitVecRef], z3.BitVecRef] | None = None
        self._slices: list[Slice] | None = None
        self.seconds = 0.0
        self.solver_checks = 0
        self.dropped = 0
        self.dropped_conds: list[z3.BoolRef] = []
        self.n_paths = 0
        self.cached = False  # the relation was read from the cache, not derived here
        #: the fields whose domain some path may leave (the rest keep theirs
        #: by construction): what the z3 engine must prove of the post-state
        self.unsettled: list[int] = []
        path = cache_file(model) if cache else None
        if path is not None and self._load(path):
            return
        self._build()
        self.n_paths = len(self.paths)
        self.unsettled = self._unsettled()
        if path is not None:
            self._save(path)

    # ---------------------------------------------------------------- cache

    def _save(self, path: Path) -> None:
        """The relation's slices (``slices``) and the conditions of dropped
        paths as SMT-LIB, so the next run with the same tables and scenario
        need not derive them."""
        s = z3.Solver()
        s.add(*(z3.Bool(f"slice.{i}") == sl.T for i, sl in enumerate(self.slices())))
        s.add(*(z3.Bool(f"dropped.{i}") == c for i, c in enumerate(self.dropped_conds)))
        text = (f"; ipsecmm relation: {self.n_paths} paths, {self.dropped} dropped\n"
                f"; unsettled: {' '.join(map(str, self.unsettled))}\n"
                + "".join(f"; slice {i} changes: {' '.join(map(str, sorted(sl.changed)))}\n"
                          for i, sl in enumerate(self.slices()))
                + s.to_smt2())
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.{os.getpid()}")
            tmp.write_text(text, encoding="utf-8")
            os.replace(tmp, path)
        except OSError:
            pass  # a cache that cannot be written is no cache, not an error

    def _load(self, path: Path) -> bool:
        """Read what ``_save`` wrote; False (derive afresh) for anything else."""
        try:
            text = path.read_text(encoding="utf-8")
            lines = text.split("\n")
            head, fields = lines[0].split(), lines[1].split()
            n_paths, dropped = int(head[3]), int(head[5])
            if fields[:2] != [";", "unsettled:"]:
                return False  # written by a version that did not record it
            unsettled = [int(k) for k in fields[2:]]
            changed = []
            for line in lines[2:]:
                words = line.split()
                if words[:2] != [";", "slice"]:
                    break
                changed.append(frozenset(int(k) for k in words[4:]))
            labelled: dict[str, z3.ExprRef] = {}
            for a in z3.parse_smt2_string(text):
                name, value = a.arg(0), a.arg(1)
                if not _is_label(name):  # z3 may put the other side first
                    name, value = value, name
                labelled[name.decl().name()] = value
        except (OSError, ValueError, IndexError, z3.Z3Exception):
            return False
        names = [f"slice.{i}" for i in range(len(changed))] + [f"dropped.{i}" for i in range(dropped)]
        if (sorted(labelled) != sorted(names) or any(not 0 <= k < self.n for k in unsettled)
                or any(not 0 <= k < self.n for c in changed for k in c)):
            return False
        self._slices = [Slice(labelled[f"slice.{i}"], c) for i, c in enumerate(changed)]
        self.n_paths, self.dropped, self.unsettled = n_paths, dropped, unsettled
        self.dropped_conds = [labelled[f"dropped.{i}"] for i in range(dropped)]
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
            self.ranges.append(frozenset(self.finite[v]))
            return z3.Or(*(v == int(x) for x in values))

        def upto(k: int) -> z3.BoolRef:
            return among(range(k + 1))

        if last in ("up", "cur_i", "cur_r", "alt_i", "alt_r", "out", "sel_i", "sel_r", "addrs", "probed", "verified", "back"):
            self.ranges.append(frozenset(range(all_addr + 1)))
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
                self.paths.append(PathInfo(len(self.paths), inp, conj(conds), changes))
        self.seconds = time.perf_counter() - started

    def _unsettled(self) -> list[int]:
        """The fields some path may take out of their domain, by an
        over-approximation of the values each path's new term can take
        (``_values``) when the pre-state is inside the domains.  A field
        every path leaves alone, copies, or sets to a value it may hold needs
        no solver."""
        allowed = self.ranges
        of_var = {v.get_id(): vals for v, vals in zip(self.pre, allowed, strict=True)}
        memo: dict[int, frozenset[int] | None] = {}
        res = []
        for k in range(self.n):
            for p in self.paths:
                e = p.changes.get(k)
                if e is None:
                    continue
                vals = _values(e, of_var, memo)
                if vals is None or not vals <= allowed[k]:
                    res.append(k)
                    break
        return res

    def run(self, fn: Callable[[], Any]) -> list[tuple[list[z3.BoolRef], Any, dict[int, z3.BitVecRef]]]:
        """Paths of ``fn`` over the symbolic pre-state, with the fields each
        path's resulting world changes."""
        px = Paths(self.domains, self.finite)
        out = []
        simple: dict[int, tuple[z3.ExprRef, z3.ExprRef]] = {}  # a term's id -> (term, its simplified form)
        for conds, res in px.run(fn):
            changes: dict[int, z3.BitVecRef] = {}
            if isinstance(res, World):
                for k, (_, value) in enumerate(leaves(res)):
                    if value is self._pre_syms[k]:
                        continue  # effects copy what they do not change
                    raw = bv(value)
                    seen = simple.get(raw.get_id())
                    if seen is None or not seen[0].eq(raw):
                        seen = simple[raw.get_id()] = (raw, z3.simplify(raw))
                    e = seen[1]
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
            # The slices, each keeping the fields it does not change: one
            # construction whether they were derived here or read back.
            rel = z3.Or(*(z3.And(sl.T, *(base_nxt[k] == self.pre[k] for k in range(self.n) if k not in sl.changed))
                          for sl in self.slices()))
            self._relation = (rel, base_nxt, base_sel)
        return self._relation

    def slices(self) -> list[Slice]:
        """The relation in slices of ``SLICE`` consecutive paths."""
        if self._slices is None:
            base_sel, base_nxt = z3.BitVec("sel", 16), self.fresh("n")
            self._slices = []
            for i in range(0, len(self.paths), SLICE):
                part = self.paths[i:i + SLICE]
                self._slices.append(Slice(self.part(part, base_nxt, base_sel),
                                          frozenset(k for p in part for k in p.changes)))
        return self._slices

    def part(self, paths: Sequence[PathInfo], nxt: Sequence[z3.BitVecRef], sel: z3.BitVecRef) -> z3.BoolRef:
        """The relation restricted to ``paths``: ``sel`` names one of them,
        its condition holds, and each field it changes has its new value in
        ``nxt``.  Fields none of them changes are left out of ``nxt``."""
        picked = {p.index: sel == p.index for p in paths}
        guards = [z3.And(picked[p.index], p.conds) for p in paths]
        changed: list[list[PathInfo]] = [[] for _ in range(self.n)]
        for p in paths:
            for k in p.changes:
                changed[k].append(p)
        # About a hundred thousand if-then-else nodes: made through the C
        # API, since z3.If's argument coercion costs more than z3 itself.
        ctx = sel.ctx
        eqs = []
        for k in range(self.n):
            if not changed[k]:
                continue
            expr: z3.BitVecRef = self.pre[k]
            for p in reversed(changed[k]):
                ast = z3.Z3_mk_ite(ctx.ref(), picked[p.index].as_ast(), p.changes[k].as_ast(), expr.as_ast())
                expr = z3.BitVecRef(ast, ctx)
            eqs.append(nxt[k] == expr)
        return z3.And(z3.Or(*guards), *eqs)

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


def _is_label(e: z3.ExprRef) -> bool:
    """Is ``e`` one of the constants ``_save`` names its entries with?"""
    return z3.is_const(e) and e.decl().name().split(".", 1)[0] in ("slice", "dropped")


_FULL = (1 << WIDTH) - 1
_LIMIT = 4096  # larger products of value sets are given up on (not settled)
_OPS: dict[int, Callable[[int, int], int]] = {
    z3.Z3_OP_BOR: lambda a, b: a | b,
    z3.Z3_OP_BAND: lambda a, b: a & b,
    z3.Z3_OP_BXOR: lambda a, b: a ^ b,
    z3.Z3_OP_BADD: lambda a, b: (a + b) & _FULL,
    z3.Z3_OP_BSUB: lambda a, b: (a - b) & _FULL,
    z3.Z3_OP_BSHL: lambda a, b: (a << b) & _FULL if b < WIDTH else 0,
    z3.Z3_OP_BLSHR: lambda a, b: a >> b if b < WIDTH else 0,
}


def _values(e: z3.ExprRef, of_var: dict[int, frozenset[int]],
            memo: dict[int, frozenset[int] | None]) -> frozenset[int] | None:
    """Every value the term ``e`` can take when each variable holds a value
    of its set in ``of_var`` (a superset: an if-then-else may take either
    side), or None when that is not computed cheaply."""
    key = e.get_id()
    if key in memo:
        return memo[key]
    res: frozenset[int] | None = None
    if z3.is_bv_value(e):
        res = frozenset({e.as_long()})
    elif z3.is_const(e):
        res = of_var.get(key)
    else:
        op = e.decl().kind()
        if op == z3.Z3_OP_ITE:
            a, b = _values(e.arg(1), of_var, memo), _values(e.arg(2), of_var, memo)
            res = a | b if a is not None and b is not None else None
        elif op == z3.Z3_OP_BNOT:
            a = _values(e.arg(0), of_var, memo)
            res = frozenset(~x & _FULL for x in a) if a is not None else None
        elif op in _OPS:
            fn = _OPS[op]
            acc = _values(e.arg(0), of_var, memo)
            for i in range(1, e.num_args()):
                b = _values(e.arg(i), of_var, memo)
                if acc is None or b is None or len(acc) * len(b) > _LIMIT:
                    acc = None
                    break
                acc = frozenset(fn(x, y) for x in acc for y in b)
            res = acc
    memo[key] = res
    return res


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
