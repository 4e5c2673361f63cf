"""Pinned sizes of the reachable state spaces.

A change to a guard, an effect, a bound or the environment almost always
changes these numbers.  When a change is intended, update the pins in the
same commit and say why; an unexplained change here is a bug.
"""

from __future__ import annotations

import pytest

from ipsecmm.properties import Explorer

from conftest import model

# (scenario, profile) -> (states, transitions, max depth)
PINNED = {
    ("default", "ikev2"): (3248, 12106, 9),
    ("default", "mobike"): (25490, 101079, 11),
    ("default", "mm"): (96569, 376417, 11),
    ("make-before-break", "mm"): (23512, 83918, 11),
    ("fallback", "ikev2"): (239, 327, 10),
    ("fallback", "mobike"): (702, 1110, 10),
    ("fallback", "mm"): (741, 1141, 10),
    ("policy-case1", "mm"): (35956, 147538, 10),
    ("stranded", "mm"): (6756, 20328, 9),
    ("reasons", "mm"): (123254, 474996, 11),
}


@pytest.mark.parametrize("key", sorted(PINNED), ids=lambda k: f"{k[0]}-{k[1]}")
def test_reachable_state_counts_are_pinned(key):
    stats = Explorer(model(*key)).run()
    assert stats.complete
    assert stats.deadlocks == 0
    assert (stats.states, stats.transitions, stats.max_depth) == PINNED[key]
