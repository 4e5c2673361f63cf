"""Mutation adequacy: does some requirement kill each generated mutant?

For every mutant (``_genmutants``) and every shipped scenario the verdict is
one of:

*killed*
    some requirement that the original model meets on a scenario is violated
    there by the mutant: an invariant, a step invariant (a capability's
    every-step condition included) or a bounded response (the main
    exploration of ``Checker``, stopped at the first violation), a capability
    whose goal the scenario's own exploration reaches (a goal the mutant never
    reaches: the original's witness is kept), or a history property
    (``Monitor``, searched last: only for mutants nothing else kills).  Requirements the
    original itself does not meet on a scenario are not asked there.  A
    capability with a search plan of its own (other bounds, fewer actions,
    another scenario) or a first step to reach is asked on a *plan ground*:
    the scenario its plan makes of the default one (or of the plan's own),
    traced and judged like the shipped ones.  The killing requirement, the
    scenario and the run are kept.
*equivalent*
    on every shipped scenario the mutant behaves as the original does (plan
    grounds are for kills only), by one of three arguments, cheapest first:

    1. ``never-tried``/``never-fired``: its row is never tried (guard
       operators) or never fired (the others) in any reachable state of the
       scenario, so the two models dispatch every reachable machine step alike
       and their state graphs are the same;
    2. ``agrees``: every distinct machine step (peer state, input) that the
       original's exploration dispatches to a changed group gives the same
       result and the same observable events on the mutant: again the same
       state graph;
    3. ``lockstep``: the lockstep exploration (``_lockstep``) of the pair finds
       no observable difference in any reachable product state.

    When the machine steps give the same results but other events (an
    initiator's own refusal with another reason), the state graphs are the
    same, and only a step invariant that judges such steps
    (``StepInvariant.loops``, MOB-REASON's local reasons) can kill the
    mutant: it is asked at the worlds where those steps occur, then the
    lockstep exploration runs.  (These arguments assume what holds of the
    registry: requirements are predicates over worlds and steps, and never
    consult the tables themselves.)
*survives*
    some run distinguishes the mutant from the original by what can be
    observed, yet no requirement fails on any shipped scenario: a gap in the
    properties or in the scenarios.
*inconclusive*
    the mutated model raises, or its exploration of a scenario passes a state
    limit (a multiple of the original's states: a mutant can make a counter
    grow without bound) before either argument concludes; counted as not
    killed.

A mutant's exploration goes through the original's graph (``_diffexplore``):
where no machine step differs, the original's successors are read instead of
computed and the properties, which the original meets there, are not
evaluated again.

Scenarios are tried smallest first and a mutant stops at its first kill;
lockstep explorations (the expensive argument) run only for mutants no
requirement kills.  Mutants are judged in worker processes; the result does
not depend on how many.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, TextIO

from ipsecmm.model import Model, Role, Scenario, get_profile

from ._check import MET, Checker, capability_search, model_of, monitor_search, planned, search, violation_extra
from ._diffexplore import affected, factory
from ._genmutants import GenMutant, Trace, generate, shipped, traces
from ._lockstep import Group, changed_groups, lockstep, said
from ._mutants import Mutant
from ._registry import REGISTRY, Capability, Comparison, Invariant, Monitor, Requirement, Response, StepInvariant, by_id
from ._runs import Run, input_from_json

FORMAT = "ipsecmm-mutants/1"
#: A mutant's exploration stops at this many times the original's states, plus the slack.
LIMIT_FACTOR = 3
LIMIT_SLACK = 20_000


class _Incomplete(Exception):
    """A mutant's exploration of a scenario hit the state limit."""


# --------------------------------------------------------------------------- what is asked


def cheap(r: Requirement) -> bool:
    """Requirements one exploration of a scenario decides: invariants, step
    invariants, history properties, bounded responses, and capabilities whose
    goals are searched for in the scenario itself (no plan of their own, no
    first step)."""
    chks = r.checks
    if all(isinstance(c, (Invariant, StepInvariant, Monitor)) for c in chks):
        return True
    if len(chks) != 1:
        return False
    c = chks[0]
    return isinstance(c, Response) or (isinstance(c, Capability) and c.plan is None and c.after is None)


def asked(profile: str) -> list[Requirement]:
    return [r for r in REGISTRY if profile in r.profiles and cheap(r)]


def _verdict(checker: Checker, main: Checker.Main, r: Requirement, profile: str) -> Any:
    v = main.verdicts.get(r.id)
    if v is None and isinstance(r.checks[0], Response):
        v = checker.check_response(r, r.checks[0], profile, main)
    return v


@dataclass
class Ground:
    """One shipped scenario, prepared: what the original does there.  A
    *plan ground* is the scenario a capability's own search plan makes of a
    shipped one (other bounds, fewer actions); only those capabilities are
    asked there."""

    trace: Trace
    todo: list[str] = field(default_factory=list)  # requirements the original meets: those a mutant may fail
    excluded: list[str] = field(default_factory=list)  # those it does not meet, with the status
    witnesses: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # capability -> the original's witnesses
    #: on a plan ground: the planned capability of each requirement asked there
    plans: dict[str, Capability] = field(default_factory=dict)
    label: str = ""

    @property
    def name(self) -> str:
        return self.label or self.trace.name

    @property
    def scenario(self) -> Scenario:
        return self.trace.scenario

    @property
    def limit(self) -> int:
        """How many states a mutant's exploration of this scenario may reach:
        a mutant can make the state space infinite (a counter no guard stops)."""
        return LIMIT_FACTOR * self.trace.states + LIMIT_SLACK


def baseline(sc: Scenario, profile: str) -> tuple[list[str], list[str], dict[str, list[dict[str, Any]]]]:
    """The requirements of :func:`asked` that the original meets on ``sc``,
    those it does not, and the witnesses of the capabilities it meets."""
    todo = asked(profile)
    checker = Checker(sc, None, False)
    main = checker.main_pass(sc, profile, todo)
    kept, excluded, witnesses = [], [], {}
    for r in todo:
        v = _verdict(checker, main, r, profile)
        if v is not None and v.status in MET and any(isinstance(c, Monitor) for c in r.checks):
            v = checker.with_monitors(r, profile, sc, v)
        if v is not None and v.status in MET:
            kept.append(r.id)
            if isinstance(r.checks[0], Capability):
                witnesses[r.id] = [run.to_json() for run in v.runs]
        else:
            excluded.append(f"{r.id} ({'unchecked' if v is None else v.status})")
    return kept, excluded, witnesses


#: The shipped scenario a plan without a scenario of its own starts from:
#: the one ``ipsecmm check`` judges by default.
PLAN_BASE = "default"


def planned_capabilities(profile: str) -> list[tuple[Scenario, str, str, Capability]]:
    """Every capability with a search plan of its own (or a first step to
    reach before its goal), as (planned scenario, its label, requirement,
    the capability to search for there, plan removed)."""
    from ipsecmm.model import builtin_scenario

    res = []
    for r in REGISTRY:
        if profile not in r.profiles:
            continue
        for chk in r.checks:
            cap = chk.capability if isinstance(chk, Comparison) else chk
            if not isinstance(cap, Capability) or (cap.plan is None and cap.after is None):
                continue
            base = cap.plan.scenario if cap.plan is not None and cap.plan.scenario else PLAN_BASE
            sc = planned(builtin_scenario(base), cap.plan)
            label = base + (f" [{cap.plan.describe()}]" if cap.plan is not None else "")
            res.append((sc, label, r.id, dataclasses.replace(cap, plan=None)))
    return res


def plan_baseline(g: Ground, profile: str, caps: dict[str, Capability]) -> None:
    """Which of ``caps`` the original meets on plan ground ``g``, with their
    witnesses (the others are not asked there)."""
    checker = Checker(g.scenario, None, False)
    for rid, cap in caps.items():
        v = checker.check_capability(by_id()[rid], cap, profile)
        if v.status in MET:
            g.todo.append(rid)
            g.plans[rid] = cap
            g.witnesses[rid] = [run.to_json() for run in v.runs]
        else:
            g.excluded.append(f"{rid} ({v.status})")


def plan_kill(g: Ground, m1: Model, rid: str) -> dict[str, Any] | None:
    """A planned capability the mutant ``m1`` no longer meets on plan ground
    ``g``: the checker's own searches (:func:`capability_search`), within
    the ground's state limit."""
    found = capability_search(m1, g.plans[rid], max_states=g.limit, stop_at_miss=True)
    if not found.missing:
        return None
    if found.complete:
        return _no_witness(g, rid)
    raise _Incomplete(f"its search of {g.name} for {found.missing[0]} of {rid} passed {g.limit:,} states")


# --------------------------------------------------------------------------- one mutant


@dataclass
class Context:
    profile: str
    grounds: list[Ground]
    mutants: list[Mutant]
    _models: dict[str, Model] = field(default_factory=dict)

    def model(self, g: Ground) -> Model:
        """The original model of a scenario (one per process)."""
        m = self._models.get(g.name)
        if m is None:
            m = self._models[g.name] = Model(g.scenario, get_profile(self.profile, g.scenario.options))
        return m


def twin(m0: Model, mutant: Mutant) -> Model:
    """A model of ``m0``'s scenario whose rows are ``m0``'s very row objects,
    then mutated: the rows the mutant leaves alone stay identical, which is
    what :func:`changed_groups` and the lockstep shortcut rely on."""
    m1 = Model(m0.sc, m0.prof)
    m1.rows_list = {role: list(rows) for role, rows in m0.rows_list.items()}
    m1.index_rows()
    mutant.apply(m1)
    return m1


def compare(m0: Model, m1: Model, tr: Trace, changed: frozenset[Group]) -> tuple[str, int, dict[Group, set[int]]]:
    """Run every reachable machine step of the changed groups on both models.
    ``("same", n, {})``: all ``n`` give the same result and observable events;
    ``("events", n, d)``: the same results (so the same state graph) but
    the steps ``d`` lists say something else (only a property that judges
    what a step says, such as an initiator's own refusal reason, can tell
    them apart); ``("differs",
    n, d)``: ``d`` lists, per group, the steps (positions in the trace's calls)
    whose results differ."""
    n = 0
    differing: dict[Group, set[int]] = {}
    told: dict[Group, set[int]] = {}
    for key in sorted(changed):
        role = Role(key[0])
        for k, (ps, p, x) in enumerate(tr.calls.get(key, ())):
            e0: list[Any] = []
            e1: list[Any] = []
            r0 = m0.dispatch(ps, p, role, x, e0)[1]
            r1 = m1.dispatch(ps, p, role, x, e1)[1]
            if r0 != r1:
                differing.setdefault(key, set()).add(k)
            elif said(e0) != said(e1):
                told.setdefault(key, set()).add(k)
            n += 1
    if differing:
        return "differs", n, differing
    return ("events", n, told) if told else ("same", n, {})


def _pruned(mu: Mutant, tr: Trace) -> str | None:
    if not isinstance(mu, GenMutant):
        return None
    if mu.needs == "reached" and mu.row not in tr.reached:
        return "never-tried"
    if mu.needs == "fired" and mu.row not in tr.fired:
        return "never-fired"
    return None


def _replays(g: Ground, m1: Model, rid: str) -> bool:
    """Whether every witness of capability ``rid`` takes the mutant through
    the very worlds it takes the original through (then the goal steps are
    the same steps, so the mutant reaches the goals too)."""
    graph = g.trace.graph
    assert graph is not None
    m0 = graph.model
    for run in g.witnesses[rid]:
        w0, w1 = m0.canonical(m0.initial()), m1.canonical(m1.initial())
        for d in run["inputs"]:
            inp = input_from_json(m0, d)
            v0, v1 = m0.step(w0, inp), m1.step(w1, inp)
            w0 = w0 if v0 is None else m0.canonical(v0)
            w1 = w1 if v1 is None else m1.canonical(v1)
            if w0 != w1:
                return False
    return True


def _found(kind: str, rid: str, g: Ground, run: dict[str, Any]) -> dict[str, Any]:
    return {"requirement": rid, "scenario": g.name, "steps": len(run["inputs"]), "evidence": kind, "run": run}


def _no_witness(g: Ground, rid: str) -> dict[str, Any]:
    run = dict(g.witnesses[rid][0])
    run["label"] = f"the original reaches the goal of {rid} by this run; the mutant by none (exhaustive)"
    return _found("no witness", rid, g, run)


def _steps_only(r: Requirement) -> Requirement:
    """``r`` with its capabilities' goals left out (what must hold on every
    step stays): through the original's graph the hooks see only the steps
    whose future may differ, so goals are looked for separately."""
    checks = tuple(dataclasses.replace(c, goals=()) if isinstance(c, Capability) else c for c in r.checks)
    return dataclasses.replace(r, checks=checks)


def kill_on(g: Ground, mu: Mutant, profile: str, differing: dict[Group, set[int]] | None = None) -> dict[str, Any] | None:
    """The first requirement the mutant breaks on the scenario of ``g``, with
    its run; None if it breaks none the original meets there.  First one
    exploration for the invariants, step invariants (capabilities' included)
    and responses, stopped at the first violation; then the capabilities'
    goals, each searched for only when one of the original's witnesses does
    not take the mutant through the very same worlds.  History properties
    (monitors) are :func:`monitor_kill`'s.

    ``differing``: the original's machine steps the mutant answers otherwise
    (see :func:`compare`), to explore the mutant through the original's graph
    (``_diffexplore``); None: explore it from scratch."""
    if not g.todo:
        return None
    if g.plans:
        m1 = model_of(g.scenario, profile, mu.name)
        for rid in g.todo:
            if not _replays(g, m1, rid):
                found = plan_kill(g, m1, rid)
                if found is not None:
                    return found
        return None
    todo = [r for r in REGISTRY if r.id in g.todo]
    sc = g.scenario
    checker = Checker(sc, None, False, 0, None, mu.name)
    graph = g.trace.graph
    explorer = None
    if differing is not None and graph is not None:
        explorer = factory(graph, affected(graph, differing), g.limit)
    steps = [_steps_only(r) for r in todo]
    main = checker.main_pass(sc, profile, steps, stop=True, explorer=explorer)
    for r in steps:
        v = _verdict(checker, main, r, profile)
        if v is not None and v.status == "violated" and v.runs:
            return _found("counterexample", r.id, g, v.runs[0].to_json())
    if not main.stats.complete:
        raise _Incomplete(f"its exploration of {g.name} passed {g.limit:,} states (the original has "
                          f"{g.trace.states:,}) without a violation")
    for r in todo:
        cap = r.checks[0]
        if not isinstance(cap, Capability) or _replays(g, main.model, r.id):
            continue
        for _, goal in cap.goals:
            inputs, stats, _ = search(main.model, goal, max_states=g.limit)
            if inputs is None and stats.complete:
                return _no_witness(g, r.id)
            if inputs is None:
                raise _Incomplete(f"its search of {g.name} for a goal of {r.id} passed {g.limit:,} states")
    return None


def monitor_kill(g: Ground, mu: Mutant, profile: str) -> dict[str, Any] | None:
    """The first history property (``Monitor``) the mutant breaks on the
    scenario of ``g``: a search over runs' histories, asked only of mutants
    nothing else kills (it cannot go through the original's graph)."""
    for r in REGISTRY:
        if r.id not in g.todo:
            continue
        for mon in (c for c in r.checks if isinstance(c, Monitor)):
            bad, _, complete = monitor_search(model_of(g.scenario, profile, mu.name), mon, max_states=g.limit)
            if bad is not None:
                run = Run(g.scenario, profile, bad, label=f"counterexample to {r.id}", mutant=mu.name,
                          extra=violation_extra(r.id, len(bad), "step", r.property))
                return _found("counterexample", r.id, g, run.to_json())
            if not complete:
                raise _Incomplete(f"its search of {g.name}'s histories for {r.id} passed {g.limit:,} pairs")
    return None


def judge(ctx: Context, mu: Mutant) -> dict[str, Any]:
    """The verdict of one mutant over every prepared scenario (see the module
    docstring for the order of the arguments).  A mutated model that raises
    is ``inconclusive``, and so is one whose exploration passes the state
    limit (``Ground.limit``) before an answer: not killed, and listed."""
    entry: dict[str, Any] = {"name": mu.name, "mistake": mu.mistake}
    if isinstance(mu, GenMutant):
        entry.update(op=mu.op, row=mu.row, label=mu.label)
    try:
        return _judge(ctx, mu, entry)
    except RecursionError:
        return {**entry, "verdict": "inconclusive", "why": "a bounded response search recursed too deep"}
    except Exception as exc:  # a mutated model may index past a table: that is its verdict, not ours
        return {**entry, "verdict": "inconclusive", "why": f"the mutated model raises {type(exc).__name__}: {exc}"}


def _judge(ctx: Context, mu: Mutant, entry: dict[str, Any]) -> dict[str, Any]:
    evidence: dict[str, tuple[str, int]] = {}
    pending: list[tuple[Ground, Model, Model, frozenset[Group]]] = []
    unfinished: list[str] = []  # scenarios whose kill exploration passed the state limit
    histories: list[Ground] = []  # scenarios where the mutant's graph differs: ask the history properties there
    for g in ctx.grounds:
        why = _pruned(mu, g.trace)
        if why is not None:
            evidence[g.name] = (why, 0)
            continue
        m0 = ctx.model(g)
        m1 = twin(m0, mu)
        changed = changed_groups(m0, m1)
        how, n, differing = compare(m0, m1, g.trace, changed)
        if how == "same":
            evidence[g.name] = ("agrees", n)
            continue
        if how in ("differs", "events"):
            try:
                killed = kill_on(g, mu, ctx.profile, differing)
            except _Incomplete as exc:
                unfinished.append(str(exc))
                killed = None
            if killed is not None:
                return {**entry, "verdict": "killed", **killed}
            if how == "differs" and not g.label:
                histories.append(g)
        if g.label:
            # a plan ground is for kills only: equivalence is judged on the
            # shipped scenarios, so no lockstep exploration here
            evidence[g.name] = ("kill-only", n)
            continue
        pending.append((g, m0, m1, changed))
    for g in histories:
        try:
            killed = monitor_kill(g, mu, ctx.profile)
        except _Incomplete as exc:
            unfinished.append(str(exc))
            killed = None
        if killed is not None:
            return {**entry, "verdict": "killed", **killed}
    told: dict[str, Any] | None = None
    for g, m0, m1, changed in pending:
        res = lockstep(m0, m1, changed, g.limit)
        if not res.complete:
            unfinished.append(f"its lockstep exploration of {g.name} passed {g.limit:,} pairs without a difference")
            continue
        if not res.equal:
            assert res.run is not None
            run = Run(g.scenario, ctx.profile, res.run, label=f"distinguishes {mu.name} from the original",
                      note=f"step {len(res.run)} differs: {res.difference}", mutant=mu.name)
            told = {"scenario": g.name, "steps": len(res.run), "difference": res.difference, "run": run.to_json()}
            break
        evidence[g.name] = ("lockstep", res.states)
    if unfinished:
        return {**entry, "verdict": "inconclusive", "why": "not killed, but " + "; ".join(unfinished), **(told or {})}
    if told is not None:
        return {**entry, "verdict": "survives", **told, "evidence": {k: list(evidence[k]) for k in sorted(evidence)}}
    return {**entry, "verdict": "equivalent", "evidence": {g.name: list(evidence[g.name]) for g in ctx.grounds}}


# --------------------------------------------------------------------------- all of them

_CTX: Context | None = None  # the context a worker process inherits


#: Address space a worker may use: beyond it a mutant's explorations fail with
#: MemoryError (its verdict: inconclusive) instead of taking the machine down.
WORKER_MEMORY = 8 << 30


def _limit_memory() -> None:
    import resource

    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard == resource.RLIM_INFINITY or hard > WORKER_MEMORY:
        resource.setrlimit(resource.RLIMIT_AS, (WORKER_MEMORY, hard))


def _pool(jobs: int) -> Any:
    """Worker processes that inherit the prepared context (fork).  A worker
    that dies (killed for memory, say) breaks the pool with an error instead
    of leaving its task unanswered forever."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    return ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("fork"), initializer=_limit_memory)


def _judge_index(i: int) -> dict[str, Any]:
    assert _CTX is not None
    return judge(_CTX, _CTX.mutants[i])


def _baseline_task(args: tuple[str, str]) -> tuple[list[str], list[str], dict[str, list[dict[str, Any]]]]:
    name, profile = args
    from ipsecmm.model import builtin_scenario

    return baseline(builtin_scenario(name), profile)


def plan_grounds(profile: str) -> list[Ground]:
    """One ground per distinct planned scenario (see
    :func:`planned_capabilities`), judged: the original's witnesses kept."""
    by_label: dict[str, tuple[Scenario, dict[str, Capability]]] = {}
    for sc, label, rid, cap in planned_capabilities(profile):
        by_label.setdefault(label, (sc, {}))[1].setdefault(rid, cap)
    res = []
    for label in sorted(by_label):
        sc, caps = by_label[label]
        g = Ground(traces(profile, [sc])[0], label=label)
        plan_baseline(g, profile, caps)
        res.append(g)
    return res


def prepare(profile: str = "mm", jobs: int = 2, progress: TextIO | None = None,
            scenarios: list[Scenario] | None = None, plans: bool | None = None) -> Context:
    """Trace and judge the original on every scenario (by default every
    shipped one), smallest first, then (``plans``; by default with the
    shipped scenarios) on the scenarios of the capabilities' own search
    plans, and generate the mutants (from the shipped scenarios' traces)."""
    t = time.perf_counter()
    scs = shipped() if scenarios is None else scenarios
    obs = sorted(traces(profile, scs), key=lambda tr: (tr.states, tr.name))
    _log(progress, f"traced {len(obs)} scenarios in {time.perf_counter() - t:.1f}s")
    grounds = [Ground(tr) for tr in obs]
    t = time.perf_counter()
    if scenarios is None and jobs > 1:
        with _pool(jobs) as pool:
            bases = list(pool.map(_baseline_task, [(g.name, profile) for g in grounds]))
    else:
        bases = [baseline(g.scenario, profile) for g in grounds]
    for g, (kept, excluded, witnesses) in zip(grounds, bases, strict=True):
        g.todo, g.excluded, g.witnesses = kept, excluded, witnesses
    _log(progress, f"judged the original in {time.perf_counter() - t:.1f}s")
    mutants: list[Mutant] = list(generate(profile, obs))
    if scenarios is None if plans is None else plans:
        t = time.perf_counter()
        extra = plan_grounds(profile)
        grounds += sorted(extra, key=lambda g: (g.trace.states, g.name))
        _log(progress, f"traced and judged {len(extra)} search plans in {time.perf_counter() - t:.1f}s")
    return Context(profile, grounds, mutants)


def judge_all(ctx: Context, jobs: int = 2, progress: TextIO | None = None) -> Iterator[dict[str, Any]]:
    """Verdicts in the order of ``ctx.mutants``, whatever the number of workers."""
    global _CTX
    _CTX = ctx
    n = len(ctx.mutants)
    started = time.perf_counter()
    if jobs <= 1:
        results: Iterator[dict[str, Any]] = (judge(ctx, mu) for mu in ctx.mutants)
        for k, res in enumerate(results, 1):
            _tick(progress, k, n, started)
            yield res
        return
    with _pool(jobs) as pool:
        for k, res in enumerate(pool.map(_judge_index, range(n)), 1):
            _tick(progress, k, n, started)
            yield res


def _log(progress: TextIO | None, text: str) -> None:
    if progress is not None:
        print(text, file=progress, flush=True)


def _tick(progress: TextIO | None, k: int, n: int, started: float) -> None:
    if progress is not None and (k % 50 == 0 or k == n):
        print(f"  {k}/{n} mutants judged, {time.perf_counter() - started:.0f}s", file=progress, flush=True)


def summary(verdicts: list[dict[str, Any]]) -> dict[str, Any]:
    """Counts and the score: killed / (mutants - equivalent).  An inconclusive
    mutant counts as not killed."""
    total = len(verdicts)
    count = {v: sum(1 for e in verdicts if e["verdict"] == v)
             for v in ("killed", "equivalent", "survives", "inconclusive")}
    judged = total - count["equivalent"]
    return {"mutants": total, "killed": count["killed"], "equivalent": count["equivalent"],
            "survivors": count["survives"], "inconclusive": count["inconclusive"], "score": f"{count['killed']}/{judged}",
            "percent": round(100.0 * count["killed"] / judged, 1) if judged else 100.0}


def document(ctx: Context, verdicts: list[dict[str, Any]]) -> dict[str, Any]:
    """The whole result, as committed in ``properties/mutants.json``:
    deterministic (no timings)."""
    return {
        "format": FORMAT,
        "profile": ctx.profile,
        "scenarios": [{"name": g.name, "states": g.trace.states, "machine_steps": g.trace.steps,
                       "requirements": len(g.todo), "not_asked": g.excluded,
                       **({"plan_of": sorted(g.plans)} if g.label else {})} for g in ctx.grounds],
        "summary": summary(verdicts),
        "mutants": verdicts,
    }


def committed() -> dict[str, Any]:
    """The result committed with the package (``properties/mutants.json``,
    rewritten by ``make mutants``)."""
    import json
    from importlib import resources

    return json.loads(resources.files("ipsecmm.properties").joinpath("mutants.json").read_text(encoding="utf-8"))


def dumps(doc: dict[str, Any]) -> str:
    """The result as text: sorted keys, one mutant per line (a regenerated
    file diffs by mutant), byte-identical for the same result."""
    import json

    head = {k: v for k, v in doc.items() if k != "mutants"}
    text = json.dumps(head, indent=1, sort_keys=True, ensure_ascii=False)
    lines = [json.dumps(e, sort_keys=True, ensure_ascii=False, separators=(",", ":")) for e in doc["mutants"]]
    return text[:-2] + ',\n "mutants": [\n' + ",\n".join(f"  {x}" for x in lines) + "\n ]\n}\n"


def sample(mutants: list[Any], every: int) -> list[Any]:
    """Every ``every``-th generated mutant, from the first: a deterministic
    sample that spreads over machines, states and operators (the generator
    emits them row by row)."""
    return mutants[::every]


class UnknownMutant(ValueError):
    """A ``--name`` that the generator did not make for this profile."""


def pick(mutants: list[Any], names: Iterable[str]) -> list[Any]:
    """The mutants named, in the generator's order; a name the generator did
    not make is an error naming it (a typo must not judge nothing)."""
    wanted = set(names)
    unknown = sorted(wanted - {mu.name for mu in mutants})
    if unknown:
        raise UnknownMutant(f"no generated mutant of this profile is called {unknown[0]!r}")
    return [mu for mu in mutants if mu.name in wanted]


def run_all(profile: str = "mm", jobs: int = 2, progress: TextIO | None = None, every: int = 1,
            names: Iterable[str] = ()) -> dict[str, Any]:
    names = list(names)
    ctx = prepare(profile, jobs, progress)
    generated = len(ctx.mutants)
    ctx.mutants = pick(ctx.mutants, names) if names else sample(ctx.mutants, every)
    _log(progress, f"{len(ctx.mutants)} mutants of {profile}" + (f" (every {every}th of {generated})" if every > 1 else ""))
    doc = document(ctx, list(judge_all(ctx, jobs, progress)))
    doc["sample"] = {"every": every, "generated": generated}
    return doc


# --------------------------------------------------------------------------- text


def verdict_line(e: dict[str, Any]) -> str:
    if e["verdict"] == "killed":
        return f"killed by {e['requirement']} on {e['scenario']} in {e['steps']} steps"
    if e["verdict"] == "inconclusive":
        return f"INCONCLUSIVE: {e['why']}"
    if e["verdict"] == "survives":
        return f"SURVIVES: distinguished on {e['scenario']} in {e['steps']} steps"
    return "equivalent: " + equivalence(e)


#: How each argument of equivalence reads, with the scenarios it holds on.
_ARGUMENT = {
    "never-tried": "row never tried on {}",
    "never-fired": "row never fired on {}",
    "agrees": "same result as the original on every reachable machine step of the changed rows on {}",
    "lockstep": "lockstep exploration finds no observable difference on {}",
    "kill-only": "its changed rows act otherwise, but no capability of the search plan fails, on {} "
                 "(equivalence is not judged there)",
}
_COUNTED = {"agrees": "machine steps", "lockstep": "product states"}


def equivalence(e: dict[str, Any]) -> str:
    """The evidence of an equivalent (or not yet distinguished) mutant,
    grouped by argument: ``evidence`` maps a scenario to [argument, count]."""
    by: dict[str, list[str]] = {}
    for sc, (how, n) in sorted(e["evidence"].items()):
        by.setdefault(how, []).append(f"{sc} ({n:,} {_COUNTED[how]})" if how in _COUNTED else sc)
    return "; ".join(_ARGUMENT[how].format(", ".join(scs)) for how, scs in by.items())


def text(doc: dict[str, Any]) -> str:
    plans = sum(1 for sc in doc["scenarios"] if "plan_of" in sc)
    lines = [f"generated mutants of profile {doc['profile']} on {len(doc['scenarios']) - plans} shipped scenarios"
             + (f" and {plans} scenarios of capabilities' search plans" if plans else "")]
    for s in doc["scenarios"]:
        na = f"; not asked (the original fails them): {', '.join(s['not_asked'])}" if s["not_asked"] else ""
        lines.append(f"  {s['name']}: {s['states']:,} states, {s['machine_steps']:,} machine steps, "
                     f"{s['requirements']} requirements{na}")
    lines.append("")
    for e in doc["mutants"]:
        lines.append(f"{e['name']}  {verdict_line(e)}")
    s = doc["summary"]
    part = doc.get("sample", {"every": 1})
    of = (f" (a sample: every {part['every']}th of the {part['generated']:,} generated; "
          f"--every 1 judges them all)") if part["every"] > 1 else ""
    lines += ["", f"score: {s['score']} killed ({s['percent']}%) of {s['mutants']} mutants{of}, "
                  f"{s['equivalent']} equivalent, {s['survivors']} surviving"
                  + (f", {s['inconclusive']} inconclusive" if s["inconclusive"] else "")]
    survivors = [e for e in doc["mutants"] if e["verdict"] == "survives"]
    lines += ["", f"SURVIVORS ({len(survivors)}): distinguishable, killed by no requirement"]
    for e in survivors:
        lines.append(f"  {e['name']}: {e['mistake']} [{e.get('label', '')}]")
        lines.append(f"    distinguished on {e['scenario']} in {e['steps']} steps: {e['difference']}")
        lines.append(f"    run: {_inputs(e['run'])}")
    unsure = [e for e in doc["mutants"] if e["verdict"] == "inconclusive"]
    if unsure:
        lines += ["", f"INCONCLUSIVE ({len(unsure)}): neither killed nor shown equivalent"]
        for e in unsure:
            lines.append(f"  {e['name']}: {e['mistake']} [{e.get('label', '')}]: {e['why']}")
            if "run" in e:
                lines.append(f"    distinguished on {e['scenario']} in {e['steps']} steps: {e['difference']}")
    equivalent = [e for e in doc["mutants"] if e["verdict"] == "equivalent"]
    lines += ["", f"EQUIVALENT ({len(equivalent)}): the same observable behaviour on every shipped scenario"]
    for e in equivalent:
        lines.append(f"  {e['name']}: {equivalence(e)}")
    return "\n".join(lines) + "\n"


def _inputs(run: dict[str, Any]) -> str:
    return ", ".join(" ".join(f"{k}={v}" for k, v in x.items()) for x in run["inputs"])
