"""Mutation-adequate vectors: every mutant some vector could catch, one does.

The yardstick is the set of generated table mutants (``properties/_genmutants``)
and the seeded faults (``properties/_mutants``), each run as an implementation
through the reference adapter.  A mutant is *caught* when some vector fails on
it.  The canonical vectors (``_vectors``) aim at rows, reasons and
capabilities; this module adds the vectors that catch what they miss.

For each mutant:

1. The canonical vectors that dispatch a changed group (recorded once per
   vector, on the original) are run on it, each on its group's scenario.
2. Otherwise, per scenario of the vectors, its changed rows are run on every
   machine step the original's exhaustive exploration makes with them
   (``_genmutants.Trace.calls``), per peer.  If none of the SUT's steps
   gives another result or says something else, no vector of the scenario
   can tell the mutant from the model with that peer as the SUT: the SUT
   walks the original's states step for step.
3. Otherwise a breadth-first search runs over pairs (world of the original's
   graph, the mutant SUT's world).  The tester follows the original run, as
   a vector does, and the mutant SUT is stepped exactly as the reference
   adapter steps it (``_conformance.drive``), so its first step whose sends,
   outcome or snapshot differ from the original's is the last step of a
   vector that fails on it.  While the mutant's state equals the original's
   the pair is the original's world itself, so the search starts only from
   the worlds where a step of the mutant differs (``_diffexplore.affected``),
   at the depth the original reaches them: the run found is a shortest one.
   A search that ends without a difference proves the mutant *unobservable*
   through the vectors of that scenario and role; one that passes
   ``SEARCH_LIMIT`` pairs leaves it *inconclusive*.

A mutant observable somewhere is *distinguishable*; one no vector of any
scenario can catch is *equivalent*, with the argument.  The runs found are
candidates; a greedy set cover over which candidate catches which mutant
keeps few of them, and each kept run becomes a vector of its role.  The
result does not depend on the number of worker processes.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ipsecmm.model import Event, InKind, Input, Model, Role, Scenario, World, get_profile
from ipsecmm.model._machines import MInput, Out, Result
from ipsecmm.properties._diffexplore import Graph, affected
from ipsecmm.properties._genmutants import Trace, traces
from ipsecmm.properties._genmutants import generate as generated_mutants
from ipsecmm.properties._lockstep import Group, changed_groups, said
from ipsecmm.properties._mutants import MUTANTS, Mutant

from ._conformance import adapter_model, drive, observed
from ._vectors import abstract, snapshot, vector_step

#: Pairs a search may visit before it gives up (inconclusive).
SEARCH_LIMIT = 200_000

Step = dict[str, Any]


def yardstick(profile: str, observed_: list[Trace]) -> list[Mutant]:
    """The generated mutants of the traced scenarios' tables, then the seeded
    faults that change them (a fault with nothing to rewrite in a profile is
    that profile)."""
    res: list[Mutant] = list(generated_mutants(profile, observed_))
    sc = observed_[0].scenario
    for mu in MUTANTS:
        if mu.changes(Model(sc, get_profile(profile, sc.options))):
            res.append(mu)
    return res


def twin(m0: Model, mu: Mutant) -> Model:
    """``m0``'s scenario with ``m0``'s own row objects, then mutated: the rows
    the mutant leaves alone stay identical (what ``changed_groups`` reads)."""
    m1 = Model(m0.sc, m0.prof)
    m1.rows_list = {role: list(rows) for role, rows in m0.rows_list.items()}
    m1.index_rows()
    mu.apply(m1)
    return m1


def differs(m: Model, sut: int, step: Step, w: World, events: list[Event]) -> bool:
    """Whether the SUT's step (``w`` after it, ``events`` said) fails the
    vector step ``step``, as ``run_case`` judges it."""
    exp = step["expect"]
    obs = observed(m, sut, events)
    # the model reports no bytes, so a vector's bytes are not compared (as in run_case)
    return (obs.sends != [abstract(d) for d in exp["sends"]] or obs.outcome != exp.get("outcome")
            or snapshot(m, w.peers[sut]) != exp["sad"])


def play(m: Model, sut: int, steps: list[Step]) -> frozenset[Group]:
    """The dispatch groups the SUT's machines use along ``steps`` on ``m``: a
    mutant whose changed groups miss them all passes the vector."""
    groups: set[Group] = set()

    def fire(mm: Model, ps: Any, p: int, role: Role, x: MInput, out: Out) -> Result | None:
        if p == sut:
            part = ps.ini if role == Role.INITIATOR else ps.rsp
            groups.add((int(role), int(x.trigger), int(part.st)))
        return Model.fire(mm, ps, p, role, x, out)

    w = m.initial()
    for st in steps:
        w, _ = drive(m, w, sut, st, lambda w_, inp, ev: m.step(w_, inp, ev, fire=fire))
    return frozenset(groups)


def first_failing(m1: Model, sut: int, steps: list[Step]) -> int | None:
    """The 1-based step at which mutant model ``m1`` fails the vector, or None."""
    w = m1.initial()
    for n, st in enumerate(steps, 1):
        w, events = drive(m1, w, sut, st, m1.step)
        if differs(m1, sut, st, w, events):
            return n
    return None


# --------------------------------------------------------------------------- one scenario


@dataclass
class Edge:
    inp: Input
    dst: int  # the original's world after it (the same world for a refused action)
    step: Step | None  # the vector step, None when the SUT sees nothing of it
    inner: bool = True  # may stand inside a run (a silently ignored action may only end one)


@dataclass
class Ground:
    """One scenario prepared for the search: the original's graph with its
    breadth-first tree, the adapter's model, and memos of what the original
    does at each step."""

    trace: Trace
    graph: Graph
    ma: Model  # the reference adapter's model of the scenario
    parent: array[int]
    via: array[int]
    depth: array[int]
    _edges: dict[tuple[int, int], list[Edge]] = field(default_factory=dict)
    _said: dict[tuple[Group, int], tuple[Any, Any]] = field(default_factory=dict)

    @property
    def scenario(self) -> Scenario:
        return self.trace.scenario

    def run_to(self, j: int) -> list[Input]:
        path = []
        while j > 0:
            path.append(self.graph.inputs[self.via[j]])
            j = self.parent[j]
        return path[::-1]

    def edges(self, i: int, sut: int) -> list[Edge]:
        """The original's steps out of world ``i`` with what ``sut`` sees of
        them, and the SUT's actions the original refuses or ignores there
        (no edge of the graph, but a vector step all the same)."""
        key = (i, sut)
        hit = self._edges.get(key)
        if hit is not None:
            return hit
        g, m = self.graph, self.graph.model
        w = g.worlds[i]
        res = []
        taken = set()
        for k, j in g.successors(i):
            inp = g.inputs[k]
            taken.add(inp)
            events: list[Event] = []
            m.step(w, inp, events)
            res.append(Edge(inp, j, vector_step(m, w, inp, events, g.worlds[j], sut)))
        for inp in m.inputs(w):
            if inp.kind != InKind.ACT or inp.peer != sut or inp in taken:
                continue
            events = []
            m.step(w, inp, events)
            step = vector_step(m, w, inp, events, w, sut)
            res.append(Edge(inp, i, step, inner=any(e.what == "refuse" for e in events)))
        self._edges[key] = res
        return res

    def said_by_original(self, grp: Group, k: int) -> tuple[Any, Any]:
        hit = self._said.get((grp, k))
        if hit is None:
            ps, p, x = self.trace.calls[grp][k]
            ev: list[Event] = []
            hit = self._said[(grp, k)] = (self.ma.dispatch(ps, p, Role(grp[0]), x, ev)[1], said(ev))
        return hit


def ground(tr: Trace, profile: str) -> Ground:
    g = tr.graph
    assert g is not None, "traced without its graph"
    n = len(g.worlds)
    parent = array("i", [-1] * n)
    via = array("i", [-1] * n)
    depth = array("i", [0] * n)
    # The explorer numbers worlds breadth-first, so the first world to reach
    # another is its parent on a shortest run, as the explorer found it.
    for i in range(n):
        for k, j in g.successors(i):
            if j and parent[j] < 0:
                parent[j], via[j], depth[j] = i, k, depth[i] + 1
    return Ground(tr, g, adapter_model(tr.scenario, profile), parent, via, depth)


def compare(gr: Ground, m1: Model, changed: frozenset[Group]) -> dict[int, dict[Group, set[int]]]:
    """Per peer, the machine steps of the original's exploration (positions in
    the trace's calls, per group) that the mutant answers otherwise or with
    other observable events."""
    res: dict[int, dict[Group, set[int]]] = {0: {}, 1: {}}
    for grp in sorted(changed):
        role = Role(grp[0])
        for k, (ps, p, x) in enumerate(gr.trace.calls.get(grp, ())):
            ev: list[Event] = []
            r1 = m1.dispatch(ps, p, role, x, ev)[1]
            if (r1, said(ev)) != gr.said_by_original(grp, k):
                res[p].setdefault(grp, set()).add(k)
    return res


@dataclass
class Found:
    status: str  # "found" | "unobservable" | "limit"
    inputs: list[Input] | None = None
    pairs: int = 0


def search(gr: Ground, m1: Model, sut: int, seeds: set[int], limit: int = SEARCH_LIMIT) -> Found:
    """The shortest run whose vector for ``sut`` fails on mutant model ``m1``
    (see the module docstring): breadth-first over pairs of the original's
    world and the mutant SUT's world, entered at the ``seeds`` (the
    original's worlds where some step of the mutant differs) at their depth."""
    m0, worlds, owned = gr.graph.model, gr.graph.worlds, m1.owned[sut]
    by_depth: dict[int, list[int]] = {}
    for j in sorted(seeds):
        by_depth.setdefault(gr.depth[j], []).append(j)
    # nodes: (original's world, mutant's world, parent node or -1 - seed world, input)
    nodes: list[tuple[int, World, int, Input]] = []
    seen: set[tuple[int, Any, int]] = set()

    def path(n: int, inp: Input) -> list[Input]:
        tail = [inp]
        while n >= 0:
            tail.append(nodes[n][3])
            n = nodes[n][2]
        return gr.run_to(-1 - n) + tail[::-1]

    def stepper(w: World, inp: Input, ev: list[Event]) -> World | None:
        return m1.step(w, inp, ev)

    frontier: list[int] = []
    levels = sorted(by_depth)
    d = levels[0] if levels else 0
    while frontier or any(x >= d for x in levels):
        sources = [(j, worlds[j], -1 - j) for j in by_depth.get(d, ())]
        sources += [(nodes[n][0], nodes[n][1], n) for n in frontier]
        nxt: list[int] = []
        for j, wm, parent in sources:
            for e in gr.edges(j, sut):
                wm2 = wm
                if e.step is not None:
                    wm2, events = drive(m1, wm, sut, e.step, stepper)
                    if differs(m1, sut, e.step, wm2, events):
                        return Found("found", path(parent, e.inp), len(nodes))
                    if not e.inner:
                        continue
                w = worlds[e.dst]
                peers = list(w.peers)
                peers[sut] = wm2.peers[sut]
                ps = m0.canonical(w._replace(peers=(peers[0], peers[1]))).peers[sut]
                up = wm2.up & owned
                if ps == w.peers[sut] and up == w.up & owned:
                    continue  # back in step with the original: its world's own seeds cover what follows
                key = (e.dst, ps, up)
                if key in seen:
                    continue
                seen.add(key)
                nodes.append((e.dst, wm2, parent, e.inp))
                nxt.append(len(nodes) - 1)
                if len(nodes) >= limit:
                    return Found("limit", None, len(nodes))
        frontier = nxt
        d += 1
    return Found("unobservable", None, len(nodes))


# --------------------------------------------------------------------------- every mutant

#: What the worker processes inherit (fork): set before a pool starts.
_SHARED: dict[str, Any] = {}


@dataclass
class Canon:
    """A vector, as the scorer needs it: its group's scenario (by name), the
    SUT, the steps, and the groups the original dispatches along them."""

    scenario: str
    sut: int
    steps: list[Step]
    groups: frozenset[Group]


def _judge(i: int) -> dict[str, Any]:
    """Phase one for mutant ``i``: caught by a canonical vector, a candidate
    run that catches it, or why none can."""
    grounds: list[Ground] = _SHARED["grounds"]
    canon: list[Canon] = _SHARED["canon"]
    mu: Mutant = _SHARED["mutants"][i]
    try:
        return _judge_one(grounds, canon, mu)
    except Exception as exc:  # a mutated model may index past a table: that is its verdict, not ours
        return {"verdict": "inconclusive", "why": f"the mutated model raises {type(exc).__name__}: {exc}"}


def _judge_one(grounds: list[Ground], canon: list[Canon], mu: Mutant) -> dict[str, Any]:
    models: dict[str, tuple[Model, frozenset[Group]]] = {}
    for n, c in enumerate(canon):
        if c.scenario not in models:
            m0 = _SHARED["adapters"][c.scenario]
            m1 = twin(m0, mu)
            models[c.scenario] = (m1, changed_groups(m0, m1))
        m1, changed = models[c.scenario]
        if c.groups & changed and first_failing(m1, c.sut, c.steps) is not None:
            return {"verdict": "canonical", "vector": n}
    prepared = []
    for gr in grounds:
        m1 = twin(gr.ma, mu)
        changed = changed_groups(gr.ma, m1)
        differing = compare(gr, m1, changed) if changed else {0: {}, 1: {}}
        prepared.append((gr, m1, changed, differing))
    why: dict[str, list[str]] = {}  # argument -> the scenarios (with figures) it holds on
    unsure: list[str] = []
    for gr, m1, _, differing in prepared:
        name = gr.scenario.name
        if not any(differing.values()):
            why.setdefault(_SAME, []).append(name)
            continue
        best: tuple[int, int, list[Input]] | None = None
        searched = []
        for sut in (0, 1):
            role = ROLE_NAMES[sut]
            if not differing[sut]:
                continue
            found = search(gr, m1, sut, affected(gr.graph, differing[sut]))
            if found.status == "found":
                assert found.inputs is not None
                if best is None or len(found.inputs) < best[0]:
                    best = (len(found.inputs), sut, found.inputs)
            elif found.status == "limit":
                unsure.append(f"its search of {name} as the {role} passed {found.pairs:,} pairs")
            else:
                searched.append(f"as the {role}: {found.pairs:,} pairs")
        if best is not None:
            return {"verdict": "found", "scenario": name, "sut": best[1], "inputs": best[2]}
        if searched:
            why.setdefault(_UNSEEN, []).append(f"{name} ({', '.join(searched)})")
    if unsure:
        return {"verdict": "inconclusive", "why": "no vector found, but " + "; ".join(unsure)}
    return {"verdict": "equivalent", "why": "; ".join(f"{arg} on {', '.join(scs)}" for arg, scs in why.items())}


ROLE_NAMES = {0: "initiator", 1: "responder"}
_SAME = ("every machine step the original's exploration makes in a changed row's state and trigger gives "
         "the same result and report on the mutant")
_UNSEEN = "the search finds no run whose vector differs at any step"


def _catches(i: int) -> list[int]:
    """Phase two for pending mutant ``i``: which candidates catch it."""
    adapters: dict[str, Model] = _SHARED["adapters"]
    cands: list[Canon] = _SHARED["candidates"]
    mu: Mutant = _SHARED["mutants"][i]
    models: dict[str, tuple[Model, frozenset[Group]]] = {}
    res = []
    for n, c in enumerate(cands):
        if c.scenario not in models:
            m1 = twin(adapters[c.scenario], mu)
            models[c.scenario] = (m1, changed_groups(adapters[c.scenario], m1))
        m1, changed = models[c.scenario]
        try:
            if c.groups & changed and first_failing(m1, c.sut, c.steps) is not None:
                res.append(n)
        except Exception:
            res.append(n)
    return res


def _map(fn: Callable[[int], Any], n: int, jobs: int) -> list[Any]:
    """``fn`` over ``range(n)`` in worker processes that inherit ``_SHARED``
    (fork); the results come back in order, whatever the number of workers."""
    if jobs <= 1 or n < 2:
        return [fn(i) for i in range(n)]
    from ipsecmm.properties._adequacy import _pool

    with _pool(jobs) as pool:
        return list(pool.map(fn, range(n), chunksize=4))


@dataclass
class Adequacy:
    """The outcome: extra runs (scenario name, SUT, inputs, the mutants they
    were chosen for) and the figures for the coverage report."""

    runs: list[tuple[str, int, list[Input], list[str]]]
    report: dict[str, Any]
    names: list[str]  # the yardstick, in order


def adequate(profile: str, scenarios: list[Scenario], canonical: list[tuple[Scenario, int, list[Step]]],
             jobs: int = 2) -> Adequacy:
    """Runs of ``scenarios`` to add to the ``canonical`` vectors (their
    group's scenario, SUT, steps) so that every distinguishable mutant of the
    yardstick fails some vector."""
    trs = traces(profile, scenarios)
    grounds = sorted((ground(tr, profile) for tr in trs), key=lambda g: (g.trace.states, g.scenario.name))
    by_name = {g.scenario.name: g for g in grounds}
    adapters = {name: g.ma for name, g in by_name.items()}
    for sc, _, _ in canonical:
        if sc.name not in adapters:
            adapters[sc.name] = adapter_model(sc, profile)
    mutants = yardstick(profile, trs)
    canon = [Canon(sc.name, sut, steps, play(adapters[sc.name], sut, steps)) for sc, sut, steps in canonical]
    _SHARED.clear()
    _SHARED.update(grounds=grounds, canon=canon, mutants=mutants, adapters=adapters)
    try:
        first = _map(_judge, len(mutants), jobs)
        pending = [k for k, v in enumerate(first) if v["verdict"] == "found"]
        cands = []
        for k in pending:
            v = first[k]
            gr = by_name[v["scenario"]]
            from ipsecmm.properties import Run

            from ._vectors import vector_steps

            steps = vector_steps(Run(gr.scenario, profile, v["inputs"]), v["sut"])
            cands.append(Canon(v["scenario"], v["sut"], steps, play(gr.ma, v["sut"], steps)))
        _SHARED.update(candidates=cands, mutants=[mutants[k] for k in pending])
        caught = _map(_catches, len(pending), jobs)
    finally:
        _SHARED.clear()
    chosen = cover(len(cands), caught)
    runs = []
    for n in chosen:
        v = first[pending[n]]
        names = [mutants[pending[b]].name for b, cs in enumerate(caught) if n in cs]
        runs.append((v["scenario"], v["sut"], v["inputs"], names))
    equivalent = {mutants[k].name: v["why"] for k, v in enumerate(first) if v["verdict"] == "equivalent"}
    unsure = {mutants[k].name: v["why"] for k, v in enumerate(first) if v["verdict"] == "inconclusive"}
    distinguishable = len(mutants) - len(equivalent) - len(unsure)
    report = {
        "mutants": len(mutants),
        "generated": sum(1 for mu in mutants if mu not in MUTANTS),
        "seeded": sum(1 for mu in mutants if mu in MUTANTS),
        "distinguishable": distinguishable,
        "caught_by_canonical": sum(1 for v in first if v["verdict"] == "canonical"),
        "caught": sum(1 for v in first if v["verdict"] == "canonical") + len(pending),
        "equivalent": dict(sorted(equivalent.items())),
        "inconclusive": dict(sorted(unsure.items())),
        "scenarios": [g.scenario.name for g in grounds],
    }
    return Adequacy(runs, report, [mu.name for mu in mutants])


def cover(n: int, caught: list[list[int]]) -> list[int]:
    """A small set of the ``n`` candidates that catches every mutant
    (``caught[b]``: the candidates that catch mutant ``b``; each catches its
    own): greedy, most new catches first, ties to the earlier candidate, then
    every chosen candidate whose catches the others make up is dropped."""
    by_cand: list[set[int]] = [set() for _ in range(n)]
    for b, cs in enumerate(caught):
        for c in cs:
            by_cand[c].add(b)
    left = {b for b, cs in enumerate(caught) if cs}
    chosen: list[int] = []
    while left:
        best = max(range(n), key=lambda c: (len(by_cand[c] & left), -c))
        chosen.append(best)
        left -= by_cand[best]
    for c in reversed(list(chosen)):
        others = set().union(*(by_cand[o] for o in chosen if o != c))
        if by_cand[c] <= others:
            chosen.remove(c)
    return sorted(chosen)


__all__ = ["Adequacy", "adequate", "cover", "first_failing", "search", "yardstick"]
