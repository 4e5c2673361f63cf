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

import dataclasses
import math

from ipsecmm.model import Action, InKind, Input, Kind, Model, SAState, Scenario, World, get_profile, parse_scenario

from . import _preds as P
from ._check import Verdict, attempt_run, model_of, offered, search, with_bounds
from ._explorer import Explorer
from ._runs import Run

MOVE_ACTIONS = (Action.UPDATE, Action.ADD, Action.REMOVE, Action.CREATE, Action.DELETE)


def moved_traffic(m: Model, w: World) -> bool:
    """Some declared CHILD_SA's traffic moved, on both peers, from one of the
    addresses it started with to one it did not: the SA itself, or a new SA of
    its mode that replaced it."""
    if not P.at_rest(m, w):
        return False
    for k in range(1, m.n_slots):
        spec = m.sc.slots[k]
        if spec.state == SAState.ABSENT:
            continue
        a, b = w.peers[0].sad[k], w.peers[1].sad[k]
        if a.state == SAState.ACTIVE and a.cur_i & ~spec.cur_i and spec.cur_i & ~a.cur_i and P.same_addresses(a, b):
            return True
        if a.state == SAState.DELETED and b.state == SAState.DELETED:
            for j in range(1, m.n_slots):
                x, y = w.peers[0].sad[j], w.peers[1].sad[j]
                if (x.gen == 1 and x.state == SAState.ACTIVE and m.mode[j] == m.mode[k]
                        and x.cur_i & ~spec.cur_i and P.same_addresses(x, y)):
                    return True
    return False


def declared_child(m: Model, k: int) -> bool:
    """A CHILD_SA the scenario sets up (not one a CREATE_CHILD_SA may add):
    the SAs whose move ``moved_traffic`` counts."""
    return 0 < k < m.n_slots and m.sc.slots[k].state != SAState.ABSENT


def with_reachability(sc: Scenario, required: bool) -> Scenario:
    """``sc`` with every network's local policy asking for return
    routability (or none asking), all else as it was."""
    nets = sorted({a.network for a in sc.addresses})
    peers = tuple(dataclasses.replace(cfg, networks={
        n: dataclasses.replace(cfg.policy(n), require_rr=required) for n in nets}) for cfg in sc.peers)
    return dataclasses.replace(sc, peers=(peers[0], peers[1]))


def wire_exchanges(run: Run) -> tuple[int, int]:
    """Exchanges a run puts on the wire: (request/response exchanges the
    initiators start, return routability round trips the responders start).
    Retransmissions and duplicates are the same exchange again."""
    requests = checks = 0
    for _, inp, events, _ in run.replay():
        if inp.kind in (InKind.TIMEOUT, InKind.DUPLICATE):
            continue
        for ev in events:
            if ev.what != "send" or ev.msg.resp:
                continue
            if ev.msg.kind == Kind.RR_CHALLENGE:
                checks += 1
            elif inp.kind == InKind.ACT:
                requests += 1
    return requests, checks


def single_exchange(sc: Scenario, profile: str) -> Verdict:
    """MOB-SINGLE-EXCHANGE, counted on the wire in two cases: every network
    lets the new address in unverified, and every network asks for return
    routability.  The requirement is about the mobility signalling, so the
    verdict is the first case's count; the second is reported beside it."""

    if not offered(with_reachability(sc, False), (Action.UPDATE,), declared_child):
        return Verdict("not-applicable", "scenario", "",
                       detail=f"scenario {sc.name} offers no UPDATE of one of its CHILD_SAs that the draft's checks "
                              "accept, in any reachable state: there is no mobility to count")
    cases = {"without return routability": False, "with return routability": True}
    counts: dict[str, int | None] = {}
    runs: list[Run] = []
    notes = []
    for label, rr in cases.items():
        found = None
        for requests in (1, 2, 3):
            scn = with_bounds(with_reachability(sc, rr), requests=requests, moves=0, forge=0, drops=0,
                              retransmits=0, actions=MOVE_ACTIONS)
            m = model_of(scn, profile)

            def goal(mm: Model, pre: World, inp: Input, post: World) -> bool:
                return moved_traffic(mm, post)

            inputs, stats, _ = search(m, goal)
            if inputs is not None:
                found = Run(scn, profile, inputs, label="")
                break
            if not stats.complete:
                return Verdict("inconclusive", "structural", f"{label}, {requests} request(s): {stats.stopped}")
        if found is None:
            counts[label] = None
            notes.append(f"{label}: no run of up to three requests moves an SA")
            continue
        ask, check = wire_exchanges(found)
        counts[label] = ask + check
        found.label = f"the fewest exchanges that move an SA, {label}: {ask + check}"
        if not runs or runs[0].inputs != found.inputs:
            runs.append(found)
        extra = f" ({ask} request(s) + {check} COOKIE2 round trip(s))" if check else ""
        notes.append(f"{label}: {ask + check}{extra}")
    if not model_of(sc, profile).prof.return_routability:
        notes.append("the profile has no return routability check at all (see INV-RR)")
    first = counts["without return routability"]
    status = "holds" if first == 1 else "violated"
    return Verdict(status, "structural", "exchanges on the wire, fewest over runs of up to 3 requests",
                   runs=runs, value=counts, detail="; ".join(notes))


def _multihomed(n_addrs: int, side: int = 0) -> Scenario:
    """One SA between a node with ``n_addrs`` addresses on ``side`` (0: the
    initiator I, 1: the responder R) and a peer with one.  For the responder
    side, R's user may act too (option both_move): only an address's owner
    adds it (SCN-OWNER-DECIDES)."""
    many, one = ("I", "R") if side == 0 else ("R", "I")
    net = "192.0.2" if side == 0 else "198.51.100"
    addrs = "\n".join(
        f'[[address]]\nname = "{many.lower()}{k}"\nowner = "{many}"\nnetwork = "n{k}"\nip = "{net}.{k}"\n'
        for k in range(1, n_addrs + 1))
    other_ip = "198.51.100.1" if side == 0 else "192.0.2.1"
    i1, r1 = ("i1", "r1")
    text = f"""
[scenario]
name = "multihomed-{many}-{n_addrs}"
{addrs}
[[address]]
name = "{one.lower()}1"
owner = "{one}"
network = "dc"
ip = "{other_ip}"

[ike]
i_addrs = ["{i1}"]
r_addrs = ["{r1}"]

[[sa]]
name = "sa"
mode = "tunnel"
i_addrs = ["{i1}"]
r_addrs = ["{r1}"]

[bounds]
requests = {max(n_addrs - 1, 0)}
moves = 0
forge = 0
drops = 0
retransmits = 0
actions = ["add"]

[options]
both_move = {"true" if side == 1 else "false"}
"""
    return parse_scenario(text, f"<multihomed {many} {n_addrs}>")


def capacity(profile: str, n_addrs: int, side: int = 0) -> tuple[int, Run | None]:
    """The most addresses of ``side`` that one SA holds at once on both peers
    under ``profile``, measured by exploring a one-SA scenario where that side
    has ``n_addrs`` addresses and may add them; and the shortest run there."""
    sc = _multihomed(n_addrs, side)
    m = Model(sc, get_profile(profile, sc.options))
    ex = Explorer(m)
    best, where = 0, 0

    def on_state(j: int, w: World) -> None:
        nonlocal best, where
        a, b = w.peers[0].sad[1], w.peers[1].sad[1]
        c = P.cur(a, side)
        n = bin(c).count("1")
        if c == P.cur(b, side) and n > best:
            best, where = n, j

    ex.run(on_state=on_state)
    who = "initiator" if side == 0 else "responder"
    if best > 1:
        run = Run(sc, profile, ex.run_to(where), label=f"witness: one SA carries {best} {who} addresses")
    else:
        attempt = attempt_run(sc, profile, Action.ADD, peer=side)
        if attempt is None:
            return best, None
        run = attempt
        run.label = f"an SA never carries a second {who} address: the attempt"
    return best, run


def sa_count(profile: str, up_to: int = 4) -> Verdict:
    """SCN-SA-COUNT from capacities measured on both sides: an SA pair (one
    per direction, RFC 4301) serves as many address pairs as one SA carries
    addresses of each side at once."""
    measured = {(side, n): capacity(profile, n, side) for side in (0, 1) for n in range(1, up_to + 1)}
    caps = {side: {n: measured[(side, n)][0] for n in range(1, up_to + 1)} for side in (0, 1)}
    table = {}
    ok = True
    for mm in range(1, up_to + 1):
        for nn in range(1, up_to + 1):
            pairs = math.ceil(mm / caps[0][mm]) * math.ceil(nn / caps[1][nn])
            table[f"{mm}x{nn}"] = 2 * pairs
            ok = ok and pairs == 1
    detail = ", ".join(f"{k}: {v}" for k, v in table.items() if k in ("1x1", "2x2", "3x4", "4x4"))
    caps_text = f"one SA carries up to {caps[0][up_to]} initiator and {caps[1][up_to]} responder addresses"
    return Verdict("holds" if ok else "violated", "structural", f"m x n up to {up_to} x {up_to}, measured on both sides",
                   value={"child_sas": table, "capacity": {"initiator": caps[0], "responder": caps[1]}},
                   detail=f"{caps_text}; CHILD_SAs needed: {detail}",
                   runs=[run for run in (measured[(0, up_to)][1], measured[(1, up_to)][1]) if run is not None])
