"""Exploring a mutant through the original's graph.

A mutant's reachable graph on a scenario is mostly the original's: it differs
only where some machine step gives another result, and from there on.  This
module keeps the original's graph of a scenario compactly (:class:`Graph`:
integer adjacency, and which world makes which machine step) and explores a
mutant through it (:class:`DiffExplorer`), for the main exploration of
``Checker`` (its ``explorer`` hook):

* a world of the original none of whose inputs makes a machine step the
  mutant answers differently (an *unaffected* world) has the original's
  successors, read from the adjacency instead of being computed;
* every other world (affected, or new: not in the original's graph) is
  stepped by the mutant model;
* the hooks (the properties) see only the states and steps that can matter:
  new worlds and their steps, affected worlds and their steps, and the worlds
  from which the original's graph reaches an affected world (their futures in
  the mutant may differ, which bounded responses read).  A world from which no
  affected world is reachable has the original's whole future, where the
  original met every requirement asked; its steps are the original's.
* the explorer is also the ``Known`` of the hooks: a state of the original's
  graph and a step out of an unaffected world need no invariant evaluated (a
  step out of an affected world does, even to the original's successor: the
  mutant may say something else on the way).

Capability goals are evaluated only on the steps the hooks see, so a goal the
mutant seems to miss must be confirmed by a full exploration (``_adequacy``
does).  Runs (``run_to``) are exact: every world visited has its parent.
"""

from __future__ import annotations

import gc
import time
from array import array
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ipsecmm.model import Input, Model, PeerState, Role, World
from ipsecmm.model._machines import MInput, Out
from ipsecmm.model._succ import reads

from ._explorer import EdgeHook, Explorer, ExploreStats, StateHook, StopSearch

Group = tuple[int, int, int]  # (role, trigger, state): the dispatch index key
Call = tuple[PeerState, int, MInput]


@dataclass
class Graph:
    """The original's reachable graph of one scenario."""

    model: Model  # the original model that explored it (its memo holds these worlds' successors)
    worlds: list[World]
    index: dict[World, int]
    inputs: list[Input]  # distinct inputs; edges name them by position
    edge_off: array[int]  # successors of world i: edge_off[i] .. edge_off[i+1]
    edge_inp: array[int]
    edge_dst: array[int]
    rev_off: array[int]  # predecessors of world j: rev_off[j] .. rev_off[j+1]
    rev_src: array[int]
    #: group -> (worlds, positions in the trace's calls of that group): world
    #: ``worlds[n]`` has an input making machine step ``positions[n]``
    uses: dict[Group, tuple[array[int], array[int]]] = field(default_factory=dict)
    unknown: list[int] = field(default_factory=list)  # worlds with a step the trace never saw (none expected)

    def successors(self, i: int) -> list[tuple[int, int]]:
        """(input position, world) of the original's steps from world ``i``."""
        lo, hi = self.edge_off[i], self.edge_off[i + 1]
        return list(zip(self.edge_inp[lo:hi], self.edge_dst[lo:hi], strict=True))


class Recorder:
    """Collects the original's edges during its exploration (BFS hands a
    world's edges over together, worlds in index order)."""

    def __init__(self) -> None:
        self.src = array("i")
        self.inp = array("i")
        self.dst = array("i")
        self.inputs: list[Input] = []
        self.input_index: dict[Input, int] = {}

    def on_edge(self, i: int, w: World, inp: Input, j: int, w2: World) -> None:
        k = self.input_index.get(inp)
        if k is None:
            k = self.input_index[inp] = len(self.inputs)
            self.inputs.append(inp)
        self.src.append(i)
        self.inp.append(k)
        self.dst.append(j)


def build(m: Model, ex: Explorer, rec: Recorder, calls: dict[Group, list[Call]]) -> Graph:
    """The graph of a finished exploration ``ex`` of ``m`` whose edges
    ``rec`` recorded, with ``calls`` the machine steps it made per group."""
    n = len(ex.worlds)
    off = array("i", [0] * (n + 1))
    for i in rec.src:
        off[i + 1] += 1
    for i in range(n):
        off[i + 1] += off[i]
    roff = array("i", [0] * (n + 1))
    for j in rec.dst:
        roff[j + 1] += 1
    for j in range(n):
        roff[j + 1] += roff[j]
    rsrc = array("i", [0] * len(rec.dst))
    fill = array("i", roff[:n])
    for i, j in zip(rec.src, rec.dst, strict=True):
        rsrc[fill[j]] = i
        fill[j] += 1
    g = Graph(m, ex.worlds, ex.index, rec.inputs, off, rec.inp, rec.dst, roff, rsrc)
    _uses(g, calls)
    return g


def _uses(g: Graph, calls: dict[Group, list[Call]]) -> None:
    """Which machine step each input of each world makes.  The step an input
    makes depends only on the parts of the world its handler reads, so it is
    found once per combination of those parts (by running the handler with a
    dispatcher that notes the step and refuses it)."""
    m = g.model
    pos = {key: {(id(ps), p, x): k for k, (ps, p, x) in enumerate(lst)} for key, lst in calls.items()}
    noted: list[tuple[int, Role, PeerState, MInput]] = []

    def probe(mm: Model, ps: PeerState, p: int, role: Role, x: MInput, out: Out) -> None:
        noted.append((p, role, ps, x))

    memo: dict[tuple[Any, ...], tuple[Group, int] | None] = {}
    uses: dict[Group, tuple[array[int], array[int]]] = {}
    for i, w in enumerate(g.worlds):
        parts = (w.up, id(w.used), id(w.peers[0]), id(w.peers[1]), id(w.chan[0]), id(w.chan[1]))
        for inp in m.inputs(w):
            key = (inp, *(parts[k] for k in reads(inp)))
            if key in memo:
                hit = memo[key]
            else:
                noted.clear()
                m._env[inp.kind](w, inp, None, probe)
                hit = None
                if noted:
                    p, role, ps, x = noted[0]
                    part = ps.ini if role == Role.INITIATOR else ps.rsp
                    grp = (int(role), int(x.trigger), int(part.st))
                    k = pos.get(grp, {}).get((id(ps), p, x))
                    hit = (grp, -1 if k is None else k)
                memo[key] = hit
            if hit is None:
                continue
            grp, k = hit
            if k < 0:
                g.unknown.append(i)
                continue
            ws, ks = uses.get(grp) or uses.setdefault(grp, (array("i"), array("i")))
            ws.append(i)
            ks.append(k)
    g.uses = uses


def affected(g: Graph, differing: dict[Group, set[int]]) -> set[int]:
    """Worlds of the original with an input whose machine step the mutant
    answers differently (``differing``: positions in the trace's calls)."""
    res = set(g.unknown)
    for grp, ks in differing.items():
        if not ks or grp not in g.uses:
            continue
        ws, pos = g.uses[grp]
        res.update(w for w, k in zip(ws, pos, strict=True) if k in ks)
    return res


def ancestors(g: Graph, start: set[int]) -> set[int]:
    """``start`` and every world of the original's graph that reaches it."""
    res = set(start)
    stack = list(start)
    off, src = g.rev_off, g.rev_src
    while stack:
        j = stack.pop()
        for n in range(off[j], off[j + 1]):
            i = src[n]
            if i not in res:
                res.add(i)
                stack.append(i)
    return res


class DiffExplorer(Explorer):
    """Breadth-first exploration of mutant ``model`` through the original's
    graph ``g``; ``hot``: the original's affected worlds.  Also the ``known``
    of the hooks (see the module docstring)."""

    def __init__(self, model: Model, g: Graph, hot: set[int], max_states: int | None = None) -> None:
        super().__init__(model, max_states=max_states)
        self.g = g
        self.hot = hot
        self.watched = ancestors(g, hot)
        self.known = self
        self._state_known = False
        self._edge_known = False
        self._loops_known = False

    # Known: answers for the state or step being handed to the hooks.
    def state(self, w: World) -> bool:
        return self._state_known

    def edge(self, w: World, inp: Input, w2: World) -> bool:
        return self._edge_known

    def loops(self, w: World) -> bool:
        return self._loops_known

    def run(self, on_state: StateHook | None = None, on_edge: EdgeHook | None = None) -> ExploreStats:
        m, g = self.model, self.g
        stats = ExploreStats(m.prof.name, m.sc.name)
        started = time.perf_counter()
        w0 = m.canonical(m.initial())
        r0 = g.index.get(w0, -1)
        orig = array("i", [r0])  # per node: its world in the original's graph, or -1
        node_of: dict[int, int] = {r0: 0} if r0 >= 0 else {}
        new_index: dict[World, int] = {} if r0 >= 0 else {w0: 0}
        worlds, parents, via, depths = self.worlds, self.parent, self.via, self.depth
        worlds.append(g.worlds[r0] if r0 >= 0 else w0)
        parents.append(-1)
        via.append(None)
        depths.append(0)
        watched, hot, inputs, gworlds = self.watched, self.hot, g.inputs, g.worlds
        transitions = 0
        gc_was = gc.isenabled()
        gc.disable()
        try:
            if on_state and (r0 < 0 or r0 in watched):
                self._state_known = r0 >= 0
                self._loops_known = r0 >= 0 and r0 not in hot
                on_state(0, worlds[0])
            frontier = [0]
            depth = 0
            while frontier:
                nxt: list[int] = []
                for i in frontier:
                    w = worlds[i]
                    r = orig[i]
                    steps: list[tuple[Input, World, int]]
                    if r >= 0 and r not in hot:
                        steps = [(inputs[k], gworlds[j], j) for k, j in g.successors(r)]
                        original: dict[Input, int] | None = None
                    else:
                        steps = [(inp, w2, g.index.get(w2, -1)) for inp, w2 in m.successors(w)]
                        original = None if r < 0 else {inputs[k]: j for k, j in g.successors(r)}
                    report = on_edge is not None and (r < 0 or r in watched)
                    for inp, w2, rj in steps:
                        transitions += 1
                        if rj >= 0:
                            j = node_of.get(rj, -1)
                            w2 = gworlds[rj]
                        else:
                            j = new_index.get(w2, -1)
                        if j < 0:
                            j = len(worlds)
                            if rj >= 0:
                                node_of[rj] = j
                            else:
                                new_index[w2] = j
                            worlds.append(w2)
                            orig.append(rj)
                            parents.append(i)
                            via.append(inp)
                            depths.append(depth + 1)
                            nxt.append(j)
                            if on_state and (rj < 0 or rj in watched):
                                self._state_known = rj >= 0
                                self._loops_known = rj >= 0 and rj not in hot
                                on_state(j, w2)
                            if self.max_states is not None and len(worlds) >= self.max_states:
                                raise _Limit
                        if report:
                            assert on_edge is not None
                            # a step of the original: from an unaffected world
                            # any step.  From an affected one none, not even a
                            # step to the world the original goes to: the
                            # mutant may say something else on the way (a
                            # reason, a report), and only the step can tell.
                            self._edge_known = r >= 0 and original is None
                            on_edge(i, w, inp, j, w2)
                if nxt:
                    depth += 1
                frontier = nxt
        except StopSearch:
            stats.stopped = "stopped by a hook"
        except _Limit:
            stats.stopped = f"state limit {self.max_states} reached"
        finally:
            if gc_was:
                gc.enable()
        stats.seconds = time.perf_counter() - started
        stats.transitions = transitions
        stats.states = len(worlds)
        stats.max_depth = max(depths) if depths else 0
        stats.complete = not stats.stopped
        return stats


class _Limit(Exception):
    pass


def factory(g: Graph, hot: set[int], max_states: int | None = None) -> Callable[[Model], Explorer]:
    return lambda m: DiffExplorer(m, g, hot, max_states)


__all__ = ["DiffExplorer", "Graph", "Recorder", "affected", "ancestors", "build", "factory"]
