"""Lockstep exploration of two models: do they look the same from outside?

Two models of one scenario and profile (in practice the original and a
mutant) are run side by side under the same inputs.  A product state is a pair
of worlds; from it every input either world enables (the union: an input one
world refuses leaves that world where it is) steps both, each
deterministically.  After every step the observable parts are compared:

* what each step *says*: the events the step reports of kinds ``send``,
  ``answer`` and ``refuse`` (what goes on the wire, what an initiator reports
  to its user, whether it refused an action itself), with each message
  reduced to its wire fields;
* what each world *holds*: the messages in flight (every field but the ghosts
  ``why`` and ``intent``) and both peers' SAD and SPD.

Everything else (machine states, message ID counters, caches, pending
requests, budgets) is internal: it may differ, and the search goes on from
the pair.  The first difference ends the search with the run that shows it
(breadth-first, so a shortest one).  A search that ends without one has
visited every reachable pair: the two models cannot be told apart by what the
scenario lets anyone observe.

Machine steps are memoized on the peer state, as ``Model.fire_cached`` does,
but with their events.  When the second model shares rows with the first
(``changed`` names the groups whose rows differ), a pair of equal worlds
stepped through a machine step of an unchanged group needs only one side.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ipsecmm.model import Event, Input, Model, Msg, PeerState, Role, World
from ipsecmm.model import _render as render
from ipsecmm.model._machines import MInput, Out, Result

#: wire fields of a message: everything before the ghost fields
_WIRE = Msg._fields.index("why")
assert Msg._fields[_WIRE:] == ("why", "intent"), "ghost fields must stay last"
_SAID = ("send", "answer", "refuse")

Group = tuple[int, int, int]  # (role, trigger, state): the dispatch index key


def wire(msg: Msg) -> tuple[Any, ...]:
    return tuple(msg[:_WIRE])


def said(events: list[Event]) -> tuple[Any, ...]:
    """The observable events of a step, messages reduced to their wire fields.
    The detail text is left out: a refusal's names the check that decided,
    which is a ghost."""
    return tuple((ev.what, ev.peer, wire(ev.msg), int(ev.reason), int(ev.sa)) for ev in events if ev.what in _SAID)


def held(w: World) -> tuple[Any, ...]:
    """The observable contents of a world."""
    return (tuple(wire(m) for m in w.chan[0]), tuple(wire(m) for m in w.chan[1]),
            w.peers[0].sad, w.peers[0].spd, w.peers[1].sad, w.peers[1].spd)


def changed_groups(m0: Model, m1: Model) -> frozenset[Group]:
    """Dispatch groups whose rows are not the very same row objects."""
    keys = set(m0.rows) | set(m1.rows)
    res = set()
    for k in keys:
        a, b = m0.rows.get(k, ()), m1.rows.get(k, ())
        if len(a) != len(b) or any(x is not y for x, y in zip(a, b, strict=True)):
            res.add(k)
    return frozenset(res)


class _Side:
    """One model, stepped with its events; worlds interned in ``worlds``."""

    def __init__(self, m: Model, worlds: dict[World, World]) -> None:
        self.m = m
        self.worlds = worlds
        self.memo: dict[tuple[Any, ...], tuple[PeerState, Result | None, tuple[Event, ...]]] = {}
        self.group: Group | None = None  # the dispatch group of the last machine step

    def fire(self, m: Model, ps: PeerState, p: int, role: Role, x: MInput, out: Out) -> Result | None:
        key = (id(ps), p, role, x)
        hit = self.memo.get(key)
        if hit is None or hit[0] is not ps:
            ev: list[Event] = []
            res = Model.fire(m, ps, p, role, x, ev)
            hit = self.memo[key] = (ps, res, tuple(ev))  # holding ps keeps its id from being reused
        part = ps.ini if role == Role.INITIATOR else ps.rsp
        self.group = (int(role), int(x.trigger), int(part.st))
        if out is not None:
            out.extend(hit[2])
        return hit[1]

    def step(self, w: World, inp: Input) -> tuple[World, tuple[Any, ...], list[Event]]:
        ev: list[Event] = []
        self.group = None
        w2 = self.m.step(w, inp, ev, fire=self.fire)
        if w2 is None:
            return w, said(ev), ev
        w2 = self.m.canonical(w2)
        return self.worlds.setdefault(w2, w2), said(ev), ev


@dataclass
class Lockstep:
    """The outcome: ``equal`` when no reachable pair differs."""

    equal: bool
    states: int  # product states visited
    run: list[Input] | None = None  # the inputs up to and including the distinguishing step
    difference: str = ""
    complete: bool = True  # False: stopped at the state limit without a difference


def _events_text(m: Model, events: list[Event]) -> str:
    said_ = [render.event(m, ev._replace(detail="")) for ev in events if ev.what in _SAID]
    return ", ".join(t for t in said_ if t) or "nothing"


def _chan_text(m: Model, ch: tuple[Msg, ...]) -> str:
    return "[" + ", ".join(render.message(m, msg) for msg in ch if msg.kind) + "]"


def describe(m0: Model, e0: list[Event], e1: list[Event], x: World, y: World) -> str:
    """What tells the two sides apart after a step, for people: the reports
    of the step, or the parts of the worlds that differ (the original's
    value, then the mutant's)."""
    if said(e0) != said(e1):
        return f"the step reports {_events_text(m0, e0)} on the original, {_events_text(m0, e1)} on the mutant"
    res = []
    for d, who in ((0, "I"), (1, "R")):
        if tuple(map(wire, x.chan[d])) != tuple(map(wire, y.chan[d])):
            res.append(f"in flight from {who}: {_chan_text(m0, x.chan[d])} vs {_chan_text(m0, y.chan[d])}")
    for p, who in ((0, "I"), (1, "R")):
        a, b = x.peers[p], y.peers[p]
        for k in range(m0.n_slots):
            if a.sad[k] != b.sad[k]:
                res.append(f"{who}'s SAD[{render.slot(m0, k)}]: {render._sa_text(m0, k, a.sad[k])} vs "
                           f"{render._sa_text(m0, k, b.sad[k])}")
            if a.spd[k] != b.spd[k]:
                sa, sb = a.spd[k], b.spd[k]
                res.append(f"{who}'s SPD[{render.slot(m0, k)}]: I{render.addrs(m0, sa.sel_i)} R{render.addrs(m0, sa.sel_r)} "
                           f"vs I{render.addrs(m0, sb.sel_i)} R{render.addrs(m0, sb.sel_r)}")
    return "; ".join(res) + " (original vs mutant)"


def lockstep(m0: Model, m1: Model, changed: frozenset[Group] | None = None, max_states: int | None = None) -> Lockstep:
    """Explore the product of ``m0`` and ``m1`` (same scenario) until the first
    observable difference.  ``changed``: the dispatch groups where ``m1``'s
    rows differ from ``m0``'s, when ``m1`` shares the others (see
    :func:`changed_groups`); None when nothing may be assumed.  ``max_states``:
    give up (``complete`` False, ``equal`` False) beyond that many pairs."""
    worlds: dict[World, World] = {}
    a, b = _Side(m0, worlds), _Side(m1, worlds)
    x0 = a.worlds.setdefault(m0.canonical(m0.initial()), m0.canonical(m0.initial()))
    y0 = b.worlds.setdefault(m1.canonical(m1.initial()), m1.canonical(m1.initial()))
    obs: dict[int, tuple[World, tuple[Any, ...]]] = {}

    def seen(w: World) -> tuple[Any, ...]:
        hit = obs.get(id(w))
        if hit is None or hit[0] is not w:
            hit = obs[id(w)] = (w, held(w))
        return hit[1]

    pairs: list[tuple[World, World]] = [(x0, y0)]
    parent: list[int] = [-1]
    via: list[Input | None] = [None]
    index: dict[tuple[int, int], int] = {(id(x0), id(y0)): 0}

    def run_to(j: int) -> list[Input]:
        path: list[Input] = []
        while j > 0:
            inp = via[j]
            assert inp is not None
            path.append(inp)
            j = parent[j]
        return path[::-1]

    if seen(x0) != seen(y0):
        return Lockstep(False, 1, [], "the initial worlds")
    frontier = [0]
    while frontier:
        nxt: list[int] = []
        for i in frontier:
            x, y = pairs[i]
            inputs = m0.inputs(x)
            if y is not x or changed is None:
                known = set(inputs)
                inputs = inputs + [inp for inp in m1.inputs(y) if inp not in known]
            for inp in inputs:
                x2, s0, e0 = a.step(x, inp)
                if y is x and changed is not None and (a.group is None or a.group not in changed):
                    y2, s1, e1 = x2, s0, e0  # the same machine step of the same rows on the same world
                else:
                    y2, s1, e1 = b.step(y, inp)
                if s0 != s1 or (x2 is not y2 and seen(x2) != seen(y2)):
                    return Lockstep(False, len(pairs), [*run_to(i), inp], describe(m0, e0, e1, x2, y2))
                key = (id(x2), id(y2))
                if key not in index:
                    index[key] = len(pairs)
                    pairs.append((x2, y2))
                    parent.append(i)
                    via.append(inp)
                    nxt.append(index[key])
                    if max_states is not None and len(pairs) >= max_states:
                        return Lockstep(False, len(pairs), complete=False)
        frontier = nxt
    return Lockstep(True, len(pairs))


def replay_pair(m0: Model, m1: Model, inputs: list[Input]) -> tuple[int, str] | None:
    """Step both models along ``inputs`` (an input a world refuses leaves it
    as it is) and return the first step (1-based) whose observables differ,
    with what differs; None when none does.  The check of a kept
    distinguishing run, independent of the search that found it."""
    w0, w1 = m0.canonical(m0.initial()), m1.canonical(m1.initial())
    for n, inp in enumerate(inputs, 1):
        e0: list[Event] = []
        e1: list[Event] = []
        v0 = m0.step(w0, inp, e0)
        v1 = m1.step(w1, inp, e1)
        w0 = w0 if v0 is None else m0.canonical(v0)
        w1 = w1 if v1 is None else m1.canonical(v1)
        if said(e0) != said(e1) or held(w0) != held(w1):
            return n, describe(m0, e0, e1, w0, w1)
    return None


__all__ = ["Lockstep", "changed_groups", "describe", "held", "lockstep", "replay_pair", "said", "wire"]
