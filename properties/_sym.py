"""Symbolic execution of the model's own Python code with z3.

The guards and effects of ``ipsecmm.model`` are plain Python over ints and
NamedTuples.  Here the ints become :class:`Sym` values: their operators build
z3 bit-vector terms, and their truth value *forks* the execution.  A
:class:`Paths` executor runs a function again and again, once per feasible
sequence of decisions, and returns every path as (path condition, result).  So
the z3 transition relation is derived from the tables by running them, never
transcribed by hand, and the concrete and symbolic semantics are the same code.

Decisions are taken depth first with an incremental solver, so infeasible
branches are never followed.  Values used as indices go through
``ops.conc``, which forks once per feasible candidate.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import z3

from ipsecmm.model import _ops as ops

WIDTH = 16
MASK = (1 << WIDTH) - 1


def bv(x: Any) -> z3.BitVecRef:
    if isinstance(x, Sym):
        return x.e
    if isinstance(x, SymBool):
        return z3.If(x.e, z3.BitVecVal(1, WIDTH), z3.BitVecVal(0, WIDTH))
    k = int(x) & MASK
    got = _NUMERALS.get(k)
    if got is None:
        got = _NUMERALS[k] = z3.BitVecVal(k, WIDTH)
    return got


#: The model compares with a few small constants hundreds of thousands of
#: times per relation; z3.BitVecVal is a sixth of the derivation's time.
_NUMERALS: dict[int, z3.BitVecRef] = {}


def conj(conds: Sequence[z3.BoolRef]) -> z3.BoolRef:
    """``z3.And(*conds)`` without its per-argument coercion (a path has a few
    dozen conditions, and there are thousands of paths)."""
    if not conds:
        return z3.BoolVal(True)
    ctx = conds[0].ctx
    return z3.BoolRef(z3.Z3_mk_and(ctx.ref(), len(conds), (z3.Ast * len(conds))(*(c.as_ast() for c in conds))), ctx)


def boolean(x: Any) -> z3.BoolRef:
    if isinstance(x, SymBool):
        return x.e
    if isinstance(x, Sym):
        return x.e != 0
    return z3.BoolVal(bool(x))


class Sym:
    """A 16-bit unsigned value known only as a z3 term."""

    __slots__ = ("e",)

    def __init__(self, e: z3.BitVecRef) -> None:
        self.e = e

    def __add__(self, o: Any) -> Sym:
        return Sym(self.e + bv(o))

    __radd__ = __add__

    def __sub__(self, o: Any) -> Sym:
        return Sym(self.e - bv(o))

    def __rsub__(self, o: Any) -> Sym:
        return Sym(bv(o) - self.e)

    def __and__(self, o: Any) -> Sym:
        return Sym(self.e & bv(o))

    __rand__ = __and__

    def __or__(self, o: Any) -> Sym:
        return Sym(self.e | bv(o))

    __ror__ = __or__

    def __xor__(self, o: Any) -> Sym:
        return Sym(self.e ^ bv(o))

    __rxor__ = __xor__

    def __invert__(self) -> Sym:
        return Sym(~self.e)

    def __neg__(self) -> Sym:
        return Sym(-self.e)

    def __lshift__(self, o: Any) -> Sym:
        return Sym(self.e << bv(o))

    def __rlshift__(self, o: Any) -> Sym:
        return Sym(bv(o) << self.e)

    def __rshift__(self, o: Any) -> Sym:
        return Sym(z3.LShR(self.e, bv(o)))

    def __rrshift__(self, o: Any) -> Sym:
        return Sym(z3.LShR(bv(o), self.e))

    def __eq__(self, o: Any) -> SymBool:  # type: ignore[override]
        return SymBool(self.e == bv(o))

    def __ne__(self, o: Any) -> SymBool:  # type: ignore[override]
        return SymBool(self.e != bv(o))

    def __lt__(self, o: Any) -> SymBool:
        return SymBool(z3.ULT(self.e, bv(o)))

    def __le__(self, o: Any) -> SymBool:
        return SymBool(z3.ULE(self.e, bv(o)))

    def __gt__(self, o: Any) -> SymBool:
        return SymBool(z3.UGT(self.e, bv(o)))

    def __ge__(self, o: Any) -> SymBool:
        return SymBool(z3.UGE(self.e, bv(o)))

    def __bool__(self) -> bool:
        return current().decide(self.e != 0)

    def __hash__(self) -> int:
        raise TypeError("a symbolic value cannot be hashed; the model must not use it as a key")

    def __index__(self) -> int:
        raise TypeError("a symbolic value cannot index; the model must go through ops.conc")

    def __repr__(self) -> str:
        return f"Sym({self.e})"


class SymBool:
    """A truth value known only as a z3 formula."""

    __slots__ = ("e",)

    def __init__(self, e: z3.BoolRef) -> None:
        self.e = e

    def __and__(self, o: Any) -> SymBool:
        return SymBool(z3.And(self.e, boolean(o)))

    __rand__ = __and__

    def __or__(self, o: Any) -> SymBool:
        return SymBool(z3.Or(self.e, boolean(o)))

    __ror__ = __or__

    def __eq__(self, o: Any) -> SymBool:  # type: ignore[override]
        return SymBool(self.e == boolean(o))

    def __ne__(self, o: Any) -> SymBool:  # type: ignore[override]
        return SymBool(z3.Not((self == o).e))

    def __bool__(self) -> bool:
        return current().decide(self.e)

    def __hash__(self) -> int:
        raise TypeError("a symbolic value cannot be hashed")

    def __repr__(self) -> str:
        return f"SymBool({self.e})"


# --------------------------------------------------------------------------- path enumeration

_CURRENT: Paths | None = None


def current() -> Paths:
    if _CURRENT is None:
        raise RuntimeError("symbolic value used outside a Paths.run()")
    return _CURRENT


class Infeasible(Exception):
    """Raised inside a run when a value has no feasible candidate."""


class Paths:
    """Run a function over symbolic values once per feasible path.

    ``assumptions`` are the domains of the state's fields; they stay out of
    the solver, because ``finite`` already confines every field a decision
    reads (asserting them too gave the same paths, more slowly).
    ``finite`` gives, for the fields that hold one of a few values (kinds,
    states, slots, addresses...), the values they may hold.  Most decisions
    the model takes compare such a field with a constant; those are settled by
    tracking which values remain, without a solver.  Any other decision asks
    an incremental solver which sides are feasible given the path so far.
    """

    def __init__(self, assumptions: Sequence[z3.BoolRef] = (),
                 finite: dict[z3.BitVecRef, Sequence[int]] | None = None) -> None:
        self.assumptions = list(assumptions)
        self.finite = {v.get_id(): (v, frozenset(vals)) for v, vals in (finite or {}).items()}
        self.solver = z3.SolverFor("QF_BV")
        self._asserted = 0  # how many of the path's conditions the solver holds
        self._node = _Node()  # where the run is in its history of decisions
        self.checks = 0
        self.dropped = 0
        #: the path conditions at which execution met a value it cannot
        #: represent (a computed index outside its candidates): transitions
        #: the relation lacks, to be shown unreachable before anything is proved
        self.dropped_conds: list[list[z3.BoolRef]] = []

    # -- the hooks the model calls (through ops and Sym.__bool__)

    def _normal(self, c: z3.BoolRef) -> z3.BoolRef:
        """``c`` with the values the path has fixed substituted, simplified."""
        if self._known:
            c = z3.substitute(c, *self._known)
        return z3.simplify(c)

    def _settle(self, c: z3.BoolRef) -> tuple[bool | None, tuple[Any, int, bool] | None]:
        """Decide ``c`` (normalized) from what the path already knows, if
        possible; with ``_var_const(c)`` when it had to be computed."""
        if z3.is_true(c):
            return True, None
        if z3.is_false(c):
            return False, None
        key = c.hash()
        for prev, val in self._decided.get(key, ()):
            if prev.eq(c):
                return val, None
        neg = z3.simplify(z3.Not(c))
        for prev, val in self._decided.get(neg.hash(), ()):
            if prev.eq(neg):
                return not val, None
        vc = _var_const(c)
        var, const, positive = vc
        if var is not None:
            vals = self._values.get(var.get_id())
            if vals is not None:
                inside = const in vals
                if positive and not inside:
                    return False, vc
                if not positive and not inside:
                    return True, vc
                if len(vals) == 1:
                    return positive, vc
        return None, vc

    def _learn(self, c: z3.BoolRef, vc: tuple[Any, int, bool], choice: bool) -> None:
        # ``c`` was normalized before the choice, and nothing the path knows
        # has changed since: the same normal form serves here.
        self._decided.setdefault(c.hash(), []).append((c, choice))
        var, const, positive = vc
        if var is None:
            return
        equal = positive == choice
        vid = var.get_id()
        vals = self._values.get(vid)
        if equal:
            self._values[vid] = frozenset({const})
            self._known.append((var, z3.BitVecVal(const, WIDTH)))
        elif vals is not None:
            vals = vals - {const}
            self._values[vid] = vals
            if len(vals) == 1:
                (only,) = vals
                self._known.append((var, z3.BitVecVal(only, WIDTH)))

    def decide(self, c: z3.BoolRef) -> bool:
        # A decision the path already determines never consumes a recorded
        # choice: replaying a prefix must meet the recorded forks in order.
        node = self._node
        if node.c is None or not node.c.eq(c):
            # The first time execution reaches this point of its history (a
            # replayed prefix reaches it again with the same condition and
            # the same path knowledge, so the normal form is the same).
            node.c, node.sides = c, [None, None]
            node.norm = self._normal(c)
            node.settled, node.vc = self._settle(node.norm)
        settled = node.settled
        if settled is not None:
            self._conds.append(node.cond(settled))
            self._node = node.child(settled)
            return settled
        if self._pos < len(self._prefix):
            choice = self._prefix[self._pos]
            self._pos += 1
        else:
            t_ok = self._feasible(c)
            f_ok = self._feasible(z3.Not(c))
            if not (t_ok or f_ok):
                raise Infeasible(str(c))
            choice = t_ok
            if t_ok and f_ok:
                self._branches.append(len(self._trail))
            self._pos += 1
        self._trail.append(choice)
        self._conds.append(node.cond(choice))
        assert node.norm is not None and node.vc is not None  # an open decision's _settle computes vc
        self._learn(node.norm, node.vc, choice)
        self._node = node.child(choice)
        return choice

    def choose(self, value: Any, candidates: Sequence[int]) -> int:
        e = bv(value)
        for c in candidates:
            if self.decide(e == bv(c)):
                return c
        raise Infeasible(f"{value} outside {list(candidates)}")

    def lnot(self, x: Any) -> SymBool:
        return SymBool(z3.Not(boolean(x)))

    def ite(self, cond: Any, a: Any, b: Any) -> Sym:
        return Sym(z3.If(boolean(cond), bv(a), bv(b)))

    def lowest_index(self, mask: Any, width: int) -> Sym:
        e = bv(mask)
        res: z3.BitVecRef = z3.BitVecVal(width, WIDTH)
        for i in reversed(range(width)):
            res = z3.If(z3.Extract(i, i, e) == 1, z3.BitVecVal(i, WIDTH), res)
        return Sym(res)

    # -- the driver

    def _feasible(self, c: z3.BoolRef) -> bool:
        self.checks += 1
        # The path's conditions reach the solver only when it is asked
        # something: most of a replayed path is settled without it.
        for cond in self._conds[self._asserted:]:
            self.solver.add(cond)
        self._asserted = len(self._conds)
        self.solver.push()
        self.solver.add(c)
        r = self.solver.check()
        self.solver.pop()
        return r != z3.unsat

    def run(self, fn: Callable[[], Any]) -> list[tuple[list[z3.BoolRef], Any]]:
        """Every feasible path of ``fn()``: its conditions and its result."""
        global _CURRENT
        results: list[tuple[list[z3.BoolRef], Any]] = []
        pending: list[list[bool]] = [[]]
        root = _Node()
        outer, saved_fork = _CURRENT, ops._fork
        _CURRENT = self
        ops._fork = self
        try:
            while pending:
                self._prefix = pending.pop()
                self._pos = 0
                self._trail: list[bool] = []
                self._conds: list[z3.BoolRef] = []
                self._asserted = 0
                self._node = root
                self._branches: list[int] = []
                self._known: list[tuple[z3.BitVecRef, z3.BitVecRef]] = []
                self._values = {vid: vals for vid, (_, vals) in self.finite.items()}
                self._decided: dict[int, list[tuple[z3.BoolRef, bool]]] = {}
                self.solver.push()
                try:
                    res = fn()
                    results.append((list(self._conds), res))
                except Infeasible:
                    self.dropped += 1
                    self.dropped_conds.append(list(self._conds))
                finally:
                    self.solver.pop()
                # Every new branch point also has its other side to explore.
                for i in reversed(self._branches):
                    pending.append(self._trail[:i] + [not self._trail[i]])
        finally:
            _CURRENT, ops._fork = outer, saved_fork
        return results


class _Node:
    """A point of a run's history: the outcomes of every decision before it.
    Execution is deterministic given those outcomes (replay relies on it), so
    each point meets one condition; the point keeps it, its normal form
    there, and whether the path already determined it (``settled``)."""

    __slots__ = ("c", "kids", "norm", "settled", "sides", "vc")

    def __init__(self) -> None:
        self.c: z3.BoolRef | None = None
        self.norm: z3.BoolRef | None = None
        self.settled: bool | None = None
        self.vc: tuple[Any, int, bool] | None = None
        self.sides: list[z3.BoolRef | None] = [None, None]  # the condition of each outcome, once made
        self.kids: list[_Node | None] = [None, None]

    def cond(self, side: bool) -> z3.BoolRef:
        """The path condition of taking ``side``."""
        assert self.c is not None
        got = self.sides[side]
        if got is None:
            got = self.sides[side] = self.c if side else z3.Not(self.c)
        return got

    def child(self, outcome: bool) -> _Node:
        kid = self.kids[outcome]
        if kid is None:
            kid = self.kids[outcome] = _Node()
        return kid


def _var_const(c: z3.BoolRef) -> tuple[Any, int, bool]:
    """(var, constant, positive) when ``c`` is ``var == k`` or ``not var == k``."""
    positive = True
    if z3.is_not(c):
        c = c.arg(0)
        positive = False
    if z3.is_eq(c):
        a, b = c.arg(0), c.arg(1)
        if z3.is_bv_value(b) and z3.is_const(a) and not z3.is_bv_value(a):
            return a, b.as_long(), positive
        if z3.is_bv_value(a) and z3.is_const(b) and not z3.is_bv_value(b):
            return b, a.as_long(), positive
    return None, 0, positive


def truth(paths: list[tuple[list[z3.BoolRef], Any]]) -> z3.BoolRef:
    """The formula that a path-enumerated predicate is true."""
    disj = []
    for conds, res in paths:
        r = boolean(res)
        if z3.is_false(z3.simplify(r)):
            continue
        disj.append(conj([*conds, r]) if conds else r)
    return z3.Or(*disj) if disj else z3.BoolVal(False)
