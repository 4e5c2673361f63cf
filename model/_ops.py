"""Operations the guards and effects use where plain Python would not work on
both concrete values and z3 terms.

Guards and effects are ordinary Python over ints and NamedTuples.  The symbolic
encoding (``ipsecmm.properties``) runs the very same functions with z3-backed
values whose operators build terms and whose truth value forks the execution
into paths.  The few places where a value is used as an *index* or must become
one of a finite set of constants go through :func:`conc`; bit tricks that need a
loop over addresses go through the helpers below so that their symbolic form
stays a closed term.  On ints every helper is the obvious one-liner.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

# Installed by the symbolic executor; None while running concretely.
_fork: Any = None


def conc(value: Any, candidates: Sequence[int]) -> int:
    """``value`` as a concrete int.  Symbolically: fork once per feasible candidate."""
    if isinstance(value, int):
        return value
    return int(_fork.choose(value, candidates))


def bit(a: Any) -> Any:
    return 1 << a


def has(mask: Any, a: Any) -> Any:
    """Is address ``a`` in ``mask``?  (An int 0/1 or a symbolic bit.)"""
    return (mask >> a) & 1


def lowest(mask: Any) -> Any:
    """The lowest set bit of ``mask`` (0 when empty)."""
    return mask & -mask


def lowest_index(mask: Any, width: int) -> Any:
    """Index of the lowest set bit; ``width`` (meaning none) when ``mask`` is 0."""
    if isinstance(mask, int):
        return (mask & -mask).bit_length() - 1 if mask else width
    return _fork.lowest_index(mask, width)


def smear(mask: Any) -> Any:
    """Every bit at or below the highest set bit of ``mask`` (16-bit masks)."""
    m = mask | (mask >> 1)
    m = m | (m >> 2)
    m = m | (m >> 4)
    return m | (m >> 8)


def lnot(x: Any) -> Any:
    """Logical not that does not fork (``not`` would ask for a concrete truth)."""
    if isinstance(x, (bool, int)):
        return not x
    return _fork.lnot(x)


def pick(cond: Any, a: Any, b: Any) -> Any:
    """``a if cond else b`` without forking (a z3 ``If`` symbolically)."""
    if isinstance(cond, (bool, int)):
        return a if cond else b
    return _fork.ite(cond, a, b)
