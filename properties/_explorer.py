"""Breadth-first explicit-state exploration of the composed system.

The explorer enumerates every world reachable from the initial one under the
scenario's bounds, using the model's compiled dispatcher with memoized machine
steps (``Model.successors``).  Breadth-first order means the first time a
state is reached is by a shortest run, so every run the explorer reports
(witness, counterexample, deadlock) is minimal in steps.

States are stored once, with a parent pointer and the input that reached
them, which is all that is needed to rebuild a run.  Hooks let the property
engine check each new state and each transition as they are found; the
explorer itself knows nothing about requirements.

A search cut short by ``max_states`` or ``max_seconds`` says so in its result
(``complete=False``); callers must never read an incomplete search as a pass.
"""

from __future__ import annotations

import gc
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol, TextIO

from ipsecmm.model import Input, Model, World, quiescent

StateHook = Callable[[int, World], None]
#: the explorer reads its clock every this many expanded states: cheap (a few
#: milliseconds of work apart) and often enough to stop within a fraction of
#: a second of a time limit
CLOCK_EVERY = 256
EdgeHook = Callable[[int, World, Input, int, World], None]


class Writer(Protocol):
    """Where progress lines go: a terminal, or anything with ``write``."""

    def write(self, text: str, /) -> object: ...

    def flush(self) -> object: ...


class StopSearch(Exception):
    """Raised by a hook to end the search early (a witness was found)."""


@dataclass
class ExploreStats:
    profile: str
    scenario: str
    states: int = 0
    transitions: int = 0
    max_depth: int = 0
    deadlocks: int = 0
    terminal: int = 0
    seconds: float = 0.0
    complete: bool = False
    stopped: str = ""  # why an incomplete search stopped
    first_deadlock: int | None = None

    @property
    def rate(self) -> float:
        return self.states / self.seconds if self.seconds > 0 else 0.0

    def as_dict(self) -> dict[str, object]:
        return {
            "profile": self.profile,
            "scenario": self.scenario,
            "states": self.states,
            "transitions": self.transitions,
            "max_depth": self.max_depth,
            "deadlocks": self.deadlocks,
            "terminal": self.terminal,
            "seconds": round(self.seconds, 3),
            "states_per_second": round(self.rate),
            "complete": self.complete,
            "stopped": self.stopped,
        }


@dataclass
class Explorer:
    model: Model
    max_states: int | None = None
    max_seconds: float | None = None
    progress: Writer | None = None  # where to print progress (a terminal), or None
    start: World | None = None  # search from here instead of the initial world
    clock: Callable[[], float] = time.perf_counter  # seconds; tests pass a fake one
    worlds: list[World] = field(default_factory=list)
    parent: list[int] = field(default_factory=list)
    via: list[Input | None] = field(default_factory=list)
    depth: list[int] = field(default_factory=list)
    index: dict[World, int] = field(default_factory=dict)

    def run(self, on_state: StateHook | None = None, on_edge: EdgeHook | None = None) -> ExploreStats:
        m = self.model
        stats = ExploreStats(m.prof.name, m.sc.name)
        clock = self.clock
        started = clock()
        w0 = m.canonical(self.start if self.start is not None else m.initial())
        self._add(w0, -1, None, 0)
        last_report = started
        frontier = [0]
        depth = 0
        transitions = 0
        expanded = 0
        # The model interns the worlds it returns (``model._succ``), so a world
        # reached again is usually the very object stored: look it up by
        # identity first, and hash the whole world only when that fails.  Only
        # stored worlds are keyed by id: they stay alive, so no id is reused.
        by_id = {id(w0): 0}
        successors = m.successors
        worlds, index, parents, via, depths = self.worlds, self.index, self.parent, self.via, self.depth
        gc_was = gc.isenabled()
        gc.disable()  # millions of small tuples, no cycles: the collector only costs time
        try:
            if on_state:
                on_state(0, w0)
            while frontier:
                nxt: list[int] = []
                for i in frontier:
                    expanded += 1
                    if not expanded % CLOCK_EVERY:
                        # One level of a large search takes minutes: read the
                        # clock within levels too, so a time limit holds.
                        now = clock()
                        if self.max_seconds is not None and now - started > self.max_seconds:
                            stats.stopped = f"time limit {self.max_seconds:g}s reached"
                            break
                        if self.progress is not None and now - last_report >= 1.0:
                            last_report = now
                            self._report(depth, len(frontier), now - started)
                    w = worlds[i]
                    succ = successors(w)
                    if not succ:
                        if quiescent(w):
                            stats.terminal += 1
                        else:
                            stats.deadlocks += 1
                            if stats.first_deadlock is None:
                                stats.first_deadlock = i
                    for inp, w2 in succ:
                        transitions += 1
                        j = by_id.get(id(w2))
                        if j is None:
                            n = len(worlds)
                            j = index.setdefault(w2, n)  # hashes the world once, new or not
                            if j == n:
                                by_id[id(w2)] = j
                                worlds.append(w2)
                                parents.append(i)
                                via.append(inp)
                                depths.append(depth + 1)
                                nxt.append(j)
                                if on_state:
                                    on_state(j, w2)
                        if on_edge:
                            on_edge(i, w, inp, j, w2)
                    if self.max_states is not None and len(worlds) >= self.max_states:
                        stats.stopped = f"state limit {self.max_states} reached"
                        break
                if stats.stopped:
                    break
                if nxt:
                    depth += 1
                frontier = nxt
                now = clock()
                if self.max_seconds is not None and now - started > self.max_seconds and frontier:
                    stats.stopped = f"time limit {self.max_seconds:g}s reached"
                    break
                if self.progress is not None and now - last_report >= 1.0:
                    last_report = now
                    self._report(depth, len(frontier), now - started)
        except StopSearch:
            stats.stopped = "stopped by a hook"
        finally:
            if gc_was:
                gc.enable()
        stats.seconds = clock() - started
        stats.transitions = transitions
        stats.states = len(worlds)
        stats.max_depth = depth
        stats.complete = not stats.stopped
        return stats

    def _report(self, depth: int, frontier: int, elapsed: float) -> None:
        rate = len(self.worlds) / elapsed if elapsed > 0 else 0.0
        print(f"  depth {depth}: {len(self.worlds):,} states, frontier {frontier:,}, {rate:,.0f} states/s",
              file=self.progress, flush=True)

    def _add(self, w: World, parent: int, inp: Input | None, depth: int) -> int:
        j = len(self.worlds)
        self.index[w] = j
        self.worlds.append(w)
        self.parent.append(parent)
        self.via.append(inp)
        self.depth.append(depth)
        return j

    def run_to(self, j: int) -> list[Input]:
        """The inputs of the shortest run from the initial state to state ``j``."""
        path: list[Input] = []
        while j > 0:
            inp = self.via[j]
            assert inp is not None
            path.append(inp)
            j = self.parent[j]
        path.reverse()
        return path


def default_progress() -> TextIO | None:
    return sys.stderr if sys.stderr.isatty() else None
