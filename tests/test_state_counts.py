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
    # mobike's ADD/REMOVE announce or withdraw an additional address and its
    # checks probe the path (reading R17): more requests than before.
    ("default", "mobike"): (43074, 171299, 11),
    # An initiator no longer asks for multihoming on an SA it knows is cut off
    # (reading R16): fewer requests after a1 is lost.
    ("default", "mm"): (87597, 341689, 11),
    ("make-before-break", "mm"): (16512, 57934, 11),
    ("fallback", "ikev2"): (239, 327, 10),
    ("fallback", "mobike"): (702, 1110, 10),
    ("fallback", "mm"): (741, 1141, 10),
    ("policy-case1", "mm"): (32902, 136180, 10),
    ("stranded", "mm"): (6756, 20328, 9),
    ("reasons", "mm"): (113878, 440107, 11),
    ("multihomed", "mm"): (15772, 48315, 7),
    ("failover", "mm"): (15484, 55706, 10),
}


@pytest.mark.parametrize("key", sorted(PINNED), ids=lambda k: f"{k[0]}-{k[1]}")
def test_reachable_state_counts_are_pinned(key):
    stats = Explorer(model(*key)).run()
    assert stats.complete
    assert stats.deadlocks == 0
    assert (stats.states, stats.transitions, stats.max_depth) == PINNED[key]
