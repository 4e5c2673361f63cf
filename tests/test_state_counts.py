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
    # Everywhere: what a host sends from an address that stopped working is
    # lost (a retransmission from a dead a1 no longer arrives).
    ("default", "ikev2"): (3233, 12040, 9),
    # mobike's ADD/REMOVE announce or withdraw an additional address and its
    # checks probe the path (reading R17).  RFC 4555 3.5's order: the
    # initiator moves first, the responder answers before it checks return
    # routability and sends the check on its own timer, a newer move restarts
    # an outstanding update; the tunnel SA runs on the IKE_SA's addresses.
    ("default", "mobike"): (44155, 177300, 14),
    # An initiator no longer asks for multihoming on an SA it knows is cut off
    # (reading R16): fewer requests after a1 is lost.
    ("default", "mm"): (86322, 337339, 11),
    ("make-before-break", "mm"): (16188, 56852, 11),
    ("fallback", "ikev2"): (239, 327, 10),
    # A refused update sends the initiator back to a1 (RFC 4555 3.5), and an
    # UPDATE while one is outstanding restarts it instead of being BUSY.
    ("fallback", "mobike"): (1956, 4604, 10),
    ("fallback", "mm"): (741, 1141, 10),
    ("policy-case1", "mm"): (31822, 131428, 10),
    ("stranded", "mm"): (6516, 19544, 9),
    ("reasons", "mm"): (112408, 435393, 11),
    ("multihomed", "mm"): (15644, 47923, 7),
    ("failover", "mm"): (15190, 54463, 10),
    # Two requests over one address pair: the responder's window after a refusal.
    ("window", "mm"): (11297, 31886, 12),
    ("window", "mobike"): (2029, 5509, 12),
}


@pytest.mark.parametrize("key", sorted(PINNED), ids=lambda k: f"{k[0]}-{k[1]}")
def test_reachable_state_counts_are_pinned(key):
    stats = Explorer(model(*key)).run()
    assert stats.complete
    assert stats.deadlocks == 0
    assert (stats.states, stats.transitions, stats.max_depth) == PINNED[key]
