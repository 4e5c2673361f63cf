"""Structural requirements: counts the model computes.

* MOB-SINGLE-EXCHANGE: the fewest request/response exchanges after which the
  traffic of an SA runs on a new address on both peers, found by searching
  with one request allowed, then two, then three.
* SCN-SA-COUNT: how many CHILD_SAs it takes to use m initiator and n
  responder addresses at once.  One SA carries as many addresses per side as
  the profile lets a peer add to it; that capacity is measured by exploring a
  one-SA scenario with only ADD, and the count follows: two CHILD_SAs (one
  pair, RFC 4301's two directions) per group of addresses one pair can carry.
"""

from __future__ import annotations

import math

from ipsecmm.model import Action, Input, Model, SAState, Scenario, World, get_profile, parse_scenario

from . import _preds as P
from ._check import Verdict, attempt_run, model_of, search, with_bounds
from ._explorer import Explorer
from ._runs import Run

MOVE_ACTIONS = (Action.UPDATE, Action.ADD, Action.REMOVE, Action.CREATE, Action.DELETE)


def moved_traffic(m: Model, w: World) -> bool:
    """Some declared CHILD_SA's traffic runs, on both peers, on addresses it did
    not start with: it moved itself, or a new SA of its mode replaced it."""
    if not P.at_rest(m, w):
        return False
    for k in range(1, m.n_slots):
        spec = m.sc.slots[k]
        if spec.state == SAState.ABSENT:
            continue
        a, b = w.peers[0].sad[k], w.peers[1].sad[k]
        if a.state == SAState.ACTIVE and a.cur_i and not a.cur_i & spec.cur_i and P.same_addresses(a, b):
            return True
        if a.state == SAState.DELETED and b.state == SAState.DELETED:
            for j in range(1, m.n_slots):
                x, y = w.peers[0].sad[j], w.peers[1].sad[j]
                if (x.gen == 1 and x.state == SAState.ACTIVE and m.mode[j] == m.mode[k]
                        and not x.cur_i & spec.cur_i and P.same_addresses(x, y)):
                    return True
    return False


def single_exchange(sc: Scenario, profile: str) -> Verdict:
    for requests in (1, 2, 3):
        scn = with_bounds(sc, requests=requests, moves=0, forge=0, drops=0, actions=MOVE_ACTIONS)
        m = model_of(scn, profile)

        def goal(mm: Model, pre: World, inp: Input, post: World) -> bool:
            return moved_traffic(mm, post)

        inputs, stats, _ = search(m, goal)
        if inputs is not None:
            run = Run(scn, profile, inputs, label=f"the fewest exchanges that move an SA: {requests}")
            status = "holds" if requests == 1 else "violated"
            return Verdict(status, "structural", f"searched with up to {requests} request(s)", runs=[run],
                           value=requests, detail=f"{requests} exchange(s)")
        if not stats.complete:
            return Verdict("inconclusive", "structural", f"{requests} request(s): {stats.stopped}")
    return Verdict("violated", "structural", "up to 3 requests", value=None,
                   detail="no run of up to three exchanges moves an SA")


def _multihomed(m_addrs: int) -> Scenario:
    """One SA between a node with ``m_addrs`` addresses and a responder with one."""
    addrs = "\n".join(
        f'[[address]]\nname = "a{k}"\nowner = "I"\nnetwork = "n{k}"\nip = "192.0.2.{k}"\n' for k in range(1, m_addrs + 1))
    text = f"""
[scenario]
name = "multihomed-{m_addrs}"
{addrs}
[[address]]
name = "r1"
owner = "R"
network = "dc"
ip = "198.51.100.1"

[ike]
i_addrs = ["a1"]
r_addrs = ["r1"]

[[sa]]
name = "sa"
mode = "tunnel"
i_addrs = ["a1"]
r_addrs = ["r1"]

[bounds]
requests = {max(m_addrs - 1, 0)}
moves = 0
forge = 0
drops = 0
retransmits = 0
actions = ["add"]
"""
    return parse_scenario(text, f"<multihomed {m_addrs}>")


def capacity(profile: str, n_addrs: int) -> tuple[int, Run | None]:
    """The most addresses of one side that one SA holds at once on both peers
    under ``profile``, and the shortest run that gets there."""
    sc = _multihomed(n_addrs)
    m = Model(sc, get_profile(profile, sc.options))
    ex = Explorer(m)
    best, where = 0, 0

    def on_state(j: int, w: World) -> None:
        nonlocal best, where
        a, b = w.peers[0].sad[1], w.peers[1].sad[1]
        n = bin(a.cur_i).count("1")
        if a.cur_i == b.cur_i and n > best:
            best, where = n, j

    ex.run(on_state=on_state)
    if best > 1:
        run = Run(sc, profile, ex.run_to(where), label=f"witness: one SA carries {best} initiator addresses")
    else:
        attempt = attempt_run(sc, profile, Action.ADD)  # None with one address: no request to make
        if attempt is None:
            return best, None
        run = attempt
        run.label = "an SA never carries a second address: the attempt"
    return best, run


def sa_count(profile: str, up_to: int = 4) -> Verdict:
    measured = {n: capacity(profile, n) for n in range(1, up_to + 1)}
    caps = {n: c for n, (c, _) in measured.items()}
    table = {}
    ok = True
    for mm in range(1, up_to + 1):
        for nn in range(1, up_to + 1):
            # The machines are the same for both peers, so the responder side
            # carries as many addresses as the initiator side (symmetry).
            pairs = math.ceil(mm / caps[mm]) * math.ceil(nn / caps[nn])
            table[f"{mm}x{nn}"] = 2 * pairs
            ok = ok and pairs == 1
    detail = ", ".join(f"{k}: {v}" for k, v in table.items() if k in ("1x1", "2x2", "3x4", "4x4"))
    return Verdict("holds" if ok else "violated", "structural", f"m x n up to {up_to} x {up_to}",
                   value={"child_sas": table, "capacity": caps}, detail=f"CHILD_SAs needed: {detail}",
                   runs=[run for run in (measured[up_to][1],) if run is not None])
