"""Verdicts: every requirement of the registry, checked on a scenario, per profile.

Engines and what they may conclude:

* the explicit explorer (exhaustive for the scenario's bounds): invariants
  hold or are violated with a shortest run; capability goals are reached by a
  shortest run or shown unreachable; vacuity of every "when A then B";
* z3 (``_z3``): induction and k-induction over the relation derived from the
  tables, which upgrades an invariant to *proved* (for the scenario's sizes);
  bounded model checking, which finds witnesses and counterexamples and must
  agree with the explorer;
* the response engine: bounded response under fair delivery, on the same graph;
* structural computations (exchanges per move, SAs per address set).

Statuses: ``proved``, ``holds`` (with its bound: exhaustive for the scenario,
or a depth), ``violated`` (with a replayable run), ``inconclusive`` (a search
cut short, a solver that gave up), ``not-applicable``.  Nothing inconclusive
or vacuous counts as met.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Protocol, TextIO, runtime_checkable

from ipsecmm.model import (
    NOSA,
    Action,
    InKind,
    Input,
    IState,
    MInput,
    Model,
    SAState,
    Scenario,
    World,
    builtin_scenario,
    get_profile,
)
from ipsecmm.model._machines import user_request
from ipsecmm.model._vocab import act_trigger

from . import _oracle as O
from . import _preds as P
from ._explorer import Explorer, ExploreStats, StopSearch
from ._registry import (
    REGISTRY,
    Capability,
    Comparison,
    Finding,
    Invariant,
    Monitor,
    Plan,
    Requirement,
    Response,
    StepInvariant,
    Structural,
    by_id,
)
from ._runs import Run

MET = ("proved", "holds")
#: Every status a verdict can have (run files name one).
STATUSES = ("proved", "holds", "violated", "inconclusive", "not-applicable")

#: What the outputs call a finding that holds.  A finding (FIND-*) predicts
#: that a reading of the draft breaks a requirement; it holds when a run shows
#: that, which a green "holds" beside the other rows would hide.  The status
#: itself stays "holds" (the JSON and the exit code read it).
REPRODUCED = "reproduced"
REPRODUCED_MEANING = ("for a finding (FIND-*), holds means the problem was reproduced: a run shows what the "
                      "reading of the draft leads to")


def reproduced(r: Requirement, v: Verdict) -> bool:
    """Whether ``v`` is a finding whose problem a run reproduced."""
    return r.kind == "finding" and v.status == "holds"


@dataclass
class Verdict:
    status: str
    engine: str
    bound: Any = None
    seconds: float = 0.0
    detail: str = ""
    runs: list[Run] = field(default_factory=list)
    vacuous: bool = False
    value: Any = None
    #: declared limits of the profile that the evidence passes through
    #: (``declared_limits``): the verdict rests on them, not only on search
    declared: list[str] = field(default_factory=list)

    @property
    def met(self) -> bool:
        return self.status in MET and not self.vacuous


@dataclass
class ProfileReport:
    profile: str
    verdicts: dict[str, Verdict]
    explore: ExploreStats | None = None
    seconds: float = 0.0
    z3: Any = None


@dataclass
class Report:
    scenario: Scenario
    profiles: list[ProfileReport]
    seconds: float = 0.0

    def verdict(self, req: str, profile: str) -> Verdict:
        for pr in self.profiles:
            if pr.profile == profile:
                return pr.verdicts[req]
        raise KeyError(profile)

    def mm_meets_all(self) -> bool | None:
        """Whether mm meets every requirement it applies to; None when mm
        was not checked (nothing is known, which must not read as a pass)."""
        for pr in self.profiles:
            if pr.profile == "mm":
                return all(pr.verdicts[r.id].met for r in REGISTRY if "mm" in r.profiles)
        return None


# --------------------------------------------------------------------------- helpers


def with_options(sc: Scenario, **options: Any) -> Scenario:
    return dataclasses.replace(sc, options=sc.options.replace(**options))


def with_bounds(sc: Scenario, **bounds: Any) -> Scenario:
    return dataclasses.replace(sc, bounds=dataclasses.replace(sc.bounds, **bounds))


def planned(sc: Scenario, plan: Plan | None) -> Scenario:
    if plan is None:
        return sc
    base = builtin_scenario(plan.scenario) if plan.scenario else sc
    if plan.scenario:
        base = dataclasses.replace(base, options=sc.options)
    base = with_bounds(base, **dict(plan.bounds))
    if plan.actions:
        base = with_bounds(base, actions=plan.actions)
    return base


def model_of(sc: Scenario, profile: str, mutant: str | None = None) -> Model:
    m = Model(sc, get_profile(profile, sc.options))
    if mutant:
        from ._mutants import by_name

        by_name(mutant).apply(m)
    return m


class Known(Protocol):
    """States and steps already known to satisfy every invariant and step
    invariant being checked (a mutant's exploration skips them: they are the
    original model's, which meets them)."""

    def state(self, w: World) -> bool: ...

    def edge(self, w: World, inp: Input, w2: World) -> bool: ...

    def loops(self, w: World) -> bool:
        """Whether the steps of ``w`` that leave it as it was are the
        original's (see ``StepInvariant.loops``)."""
        ...


class _Hooks:
    """What the main exploration watches: invariants, step invariants and
    capability goals, keeping the first (shortest) hit of each.

    A property stops being evaluated once nothing more can be learnt from it
    (violated and premise seen; goal reached).  Properties that read only the
    peers' records, the delivered message and the working addresses are
    memoized on exactly those, which most edges share with others."""

    def __init__(self, m: Model, ex: Explorer, stop_on_violation: bool = False, known: Known | None = None) -> None:
        self.m = m
        self.ex = ex
        self.stop = stop_on_violation
        self.known = known
        self.state_props: list[tuple[str, int, Invariant]] = []
        self.step_props: list[tuple[str, int, StepInvariant]] = []
        self.goals: list[tuple[str, int, Callable[..., Any]]] = []
        self.violation: dict[tuple[str, int], list[Input]] = {}
        self.witness: dict[tuple[str, int], list[Input]] = {}
        self.antecedent: set[tuple[str, int]] = set()
        self.extra_state: list[Callable[[int, World], None]] = []
        self.extra_edge: list[Callable[[int, World, Input, int, World], None]] = []
        self._by_kind: dict[int, list[tuple[tuple[str, int], StepInvariant]]] = {}
        self._goals: list[tuple[tuple[str, int], Callable[..., Any]]] = []
        self._local: list[tuple[tuple[str, int], Invariant]] = []
        self._global: list[tuple[tuple[str, int], Invariant]] = []
        self._state_memo: dict[Any, Any] = {}
        self._edge_memo: dict[Any, Any] = {}
        self._loops: list[tuple[tuple[str, int], StepInvariant]] = []
        self._loop_memo: dict[Any, Any] = {}

    def prepare(self) -> None:
        self._by_kind = {int(k): [((n, i), p) for n, i, p in self.step_props if k in p.kinds] for k in InKind}
        self._global_steps = {k: [x for x in props if not x[1].local] for k, props in self._by_kind.items()}
        self._version = 0
        self._goals = [((n, i), g) for n, i, g in self.goals]
        self._local = [((n, i), inv) for n, i, inv in self.state_props if inv.local]
        self._global = [((n, i), inv) for n, i, inv in self.state_props if not inv.local]
        self._loops = [((n, i), p) for n, i, p in self.step_props if p.loops is not None]

    def _eval(self, inv: Invariant, w: World) -> tuple[bool, bool]:
        m = self.m
        premise = inv.when is None or bool(inv.when(m, w))
        return premise, (not premise) or bool(inv.then(m, w))

    def _record(self, key: tuple[str, int], premise: bool, ok: bool, run: Callable[[], list[Input]]) -> None:
        if premise:
            self.antecedent.add(key)
        if not ok and key not in self.violation:
            self.violation[key] = run()
            if self.stop:
                raise StopSearch

    def _on_loops(self, j: int, w: World) -> None:
        """The steps of ``w`` that leave it as it was (see
        ``StepInvariant.loops``), judged once per distinct pair of peer
        records, working addresses and request budget (what they read)."""
        m = self.m
        a, b = w.peers
        mk = (id(a), id(b), w.up, w.used.requests)
        hit = self._loop_memo.get(mk)
        if hit is not None and hit[0] is a and hit[1] is b:
            res = hit[2]
        else:
            res = []
            for key, sinv in self._loops:
                assert sinv.loops is not None
                res += [(key, inp, bool(sinv.then(m, w, inp, w))) for inp in sinv.loops(m, w)
                        if sinv.when(m, w, inp, w)]
            self._loop_memo[mk] = (a, b, res)
        for key, inp, ok in res:
            if key not in self.violation:
                self._record(key, True, ok, partial(self._run_then, j, inp))

    def _run_then(self, j: int, inp: Input) -> list[Input]:
        return [*self.ex.run_to(j), inp]

    def on_state(self, j: int, w: World) -> None:
        if self._loops and not (self.known is not None and self.known.loops(w)):
            self._on_loops(j, w)
        if self.known is not None and self.known.state(w):
            for f in self.extra_state:
                f(j, w)
            return
        if self._local:
            # Peer records are shared between worlds and reused by the machine
            # cache, so identity is a cheap key; the entry pins the objects and
            # is checked, so a reused identity can never answer wrongly.
            a, b = w.peers
            mk = (id(a), id(b), w.up)
            hit = self._state_memo.get(mk)
            if hit is not None and hit[0] is a and hit[1] is b:
                res = hit[2]
            else:
                res = tuple(self._eval(inv, w) for _, inv in self._local)
                self._state_memo[mk] = (a, b, res)
            for (key, _), (premise, ok) in zip(self._local, res, strict=True):
                if premise:
                    self._record(key, premise, ok, lambda: self.ex.run_to(j))
        for key, inv in self._global:
            premise, ok = self._eval(inv, w)
            self._record(key, premise, ok, lambda: self.ex.run_to(j))
        for f in self.extra_state:
            f(j, w)

    def on_edge(self, i: int, w: World, inp: Input, j: int, w2: World) -> None:
        m = self.m
        active = self._by_kind[inp.kind]
        if active and self.known is not None and self.known.edge(w, inp, w2):
            active = []
        goals = self._goals if inp.kind == InKind.DELIVER else ()
        if active or goals:
            what = w.chan[inp.peer][inp.idx] if inp.kind == InKind.DELIVER else inp
            a0, a1 = w.peers
            b0, b1 = w2.peers
            mk = (inp.kind, inp.peer, w.up, id(a0), id(a1), id(b0), id(b1), id(what))
            hit = self._edge_memo.get(mk)
            if hit is not None and hit[0] is a0 and hit[1] is a1 and hit[2] is b0 and hit[3] is b1 and hit[4] is what:
                memo = hit[5]
            else:
                memo = {}
                self._edge_memo[mk] = (a0, a1, b0, b1, what, memo)
            # The local properties' outcomes depend on the memo key alone:
            # computed once per distinct step, and only those whose premise
            # holds are kept, since the others have nothing to record.
            version = (inp.kind, self._version)
            fired = memo.get(version)
            if fired is None:
                fired = []
                seen: dict[int, tuple[bool, bool]] = {}
                for key, sinv in active:
                    if not sinv.local:
                        continue
                    res = seen.get(id(sinv))  # one property shared by several requirements
                    if res is None:
                        premise = bool(sinv.when(m, w, inp, w2))
                        res = seen[id(sinv)] = (premise, not premise or bool(sinv.then(m, w, inp, w2)))
                    if res[0]:
                        fired.append((key, res[1]))
                memo[version] = fired
            done = []
            for key, ok in fired:
                self._record(key, True, ok, lambda: [*self.ex.run_to(i), inp])
                if key in self.violation:
                    done.append(key)
            for key, sinv in self._global_steps[inp.kind]:
                premise = bool(sinv.when(m, w, inp, w2))
                if premise:
                    self._record(key, True, bool(sinv.then(m, w, inp, w2)), lambda: [*self.ex.run_to(i), inp])
                    if key in self.violation:
                        done.append(key)
            if done:
                self._version += 1
                for k in self._by_kind:
                    self._by_kind[k] = [x for x in self._by_kind[k] if x[0] not in done]
                    self._global_steps[k] = [x for x in self._global_steps[k] if x[0] not in done]
            found = []
            for key, goal in goals:
                hit = memo.get(key)
                if hit is None:
                    hit = memo[key] = bool(goal(m, w, inp, w2))
                if hit:
                    self.witness[key] = [*self.ex.run_to(i), inp]
                    found.append(key)
            if found:
                self._goals = [x for x in self._goals if x[0] not in found]
        for f in self.extra_edge:
            f(i, w, inp, j, w2)


#: A state graph an exploration recorded: its worlds, and per world its
#: steps (input, successor's index) in the order ``Model.successors`` gives.
Graph = tuple[list[World], list[list[tuple[Input, int]]]]


class GraphRecorder:
    """An edge hook that records the steps of an exploration, per world in
    the order the explorer takes them; ``graph`` is the result once the
    exploration is complete (worlds without steps included)."""

    def __init__(self) -> None:
        self.steps: list[list[tuple[Input, int]]] = []

    def __call__(self, i: int, w: World, inp: Input, j: int, w2: World) -> None:
        steps = self.steps
        while len(steps) <= i:
            steps.append([])
        steps[i].append((inp, j))

    def graph(self, worlds: list[World]) -> Graph:
        self.steps += [[] for _ in range(len(worlds) - len(self.steps))]
        return worlds, self.steps


def monitor_search(m: Model, mon: Monitor, max_states: int | None = None,
                   graph: Graph | None = None) -> tuple[list[Input] | None, int, bool]:
    """Breadth-first search of (world, history) pairs for a step after which
    ``mon.ok`` fails: (the shortest run to it or None, pairs explored,
    complete).  With ``graph`` (the main exploration's, complete), the
    steps are read off it instead of computed again for every pair, and a
    world stands for itself by its index: the same pairs in the same order."""
    world: Callable[[Any], World]
    steps: Callable[[Any], Iterable[tuple[Input, Any]]]
    if graph is None:
        root: Any = m.canonical(m.initial())
        world, steps = (lambda w: w), m.successors
    else:
        root = 0
        world, steps = graph[0].__getitem__, graph[1].__getitem__
    start = (root, mon.start(m, world(root)))
    index = {start: 0}
    nodes = [start]
    parent: list[tuple[int, Input | None]] = [(-1, None)]
    frontier = [0]
    while frontier:
        nxt = []
        for i in frontier:
            k, g = nodes[i]
            w = world(k)
            for inp, k2 in steps(k):
                w2 = world(k2)
                g2 = mon.update(m, g, w, inp, w2)
                if not mon.ok(m, g2, w, inp, w2):
                    path = [inp]
                    n = i
                    while n > 0:
                        n, via = parent[n]
                        assert via is not None
                        path.append(via)
                    path.reverse()
                    return path, len(nodes), True
                key = (k2, g2)
                if key not in index:
                    index[key] = len(nodes)
                    nodes.append(key)
                    parent.append((i, inp))
                    nxt.append(len(nodes) - 1)
            if max_states is not None and len(nodes) >= max_states:
                return None, len(nodes), False
        frontier = nxt
    return None, len(nodes), True


_EXERCISABLE: dict[Any, tuple[Scenario, bool]] = {}


def exercisable(sc: Scenario, cap: Capability, g: int) -> bool:
    """Does some reachable state of ``sc`` offer a user request for goal
    ``g`` of ``cap`` that the oracle accepts (see ``offered``)?"""
    return offered(sc, *cap.offer(g))


def offered(sc: Scenario, actions: tuple[Action, ...], slots: Any = None, any_answer: bool = False) -> bool:
    """Does some reachable state of ``sc`` (under the draft's extension, the
    profile that can say every request) offer a user request for one of
    ``actions``, naming a slot ``slots`` allows, that the oracle accepts?  A
    check-only question can always be asked, so it is offered whenever its
    action is; so is any request when ``any_answer`` (goals about refusals)."""
    key = (id(sc), actions, slots, any_answer)
    hit = _EXERCISABLE.get(key)
    if hit is not None and hit[0] is sc:  # the entry pins ``sc``, so its id is not reused
        return hit[1]
    m = model_of(sc, "mm")
    offers = {p: [x for x in m.alphabet[p] if Action(x.trigger.value) in actions] for p in m.mobile}
    if any(any_answer or O.question(m, user_request(x)) for p in m.mobile for x in offers[p]):
        return True
    found: list[bool] = []

    def on_state(j: int, w: World) -> None:
        if w.used.requests >= m.sc.bounds.requests:
            return  # no request left to ask with
        for p in m.mobile:
            if w.peers[p].ini.st != IState.IDLE:
                continue
            for x in offers[p]:
                ask = O.asked(m, user_request(x), p)
                if ask is None or (slots is not None and not slots(m, ask.sa)):
                    continue
                if ask.action == Action.SET_ALT and (not ask.addrs or ask.addrs == O.members(
                        P.alt(w.peers[p].sad[ask.sa], p))):
                    continue  # accepted, but it gives nothing new: no goal about alternates is reached by it
                if O.judge(m, w.peers[1 - p], ask, up=w.up).acceptable:
                    found.append(True)
                    raise StopSearch

    Explorer(m).run(on_state=on_state)
    _EXERCISABLE[key] = (sc, bool(found))
    return bool(found)


def first_step_exercisable(sc: Scenario, cap: Capability) -> bool:
    """Can the first step of a two-step capability (SCN-FALLBACK: a refusal)
    happen in ``sc`` at all, under the draft's extension?"""
    assert cap.after is not None
    inputs, _, _ = search(model_of(sc, "mm"), cap.after)
    return inputs is not None


def _holds(m: Model, w: World) -> bool:
    return True


def unexercised(sc: Scenario, r: Requirement) -> str:
    """Why scenario ``sc`` cannot exercise ``r`` at all ("" when it can): a
    capability searched in the scenario itself needs a user to be able to ask
    for its actions, so a scenario whose bounds exclude them says nothing about
    it either way."""
    direct = [c for c in r.checks if isinstance(c, Capability) and c.plan is None]
    if not direct:
        return ""
    if sc.bounds.requests == 0:
        return "the scenario allows no request (bounds.requests = 0)"
    allowed = sc.bounds.actions
    if not allowed:
        return ""
    missing = sorted({a for c in direct for a in c.needs} - set(allowed))
    if missing:
        names = ", ".join(a.name.lower() for a in missing)
        return f"the scenario's actions ({', '.join(a.name.lower() for a in allowed)}) exclude {names}"
    return ""


def violation_extra(rid: str, step: int, where: str, prop: str) -> dict[str, Any]:
    """What a counterexample records about its failure: the step to mark in
    its drawings (0: the initial state) and a caption saying what fails there.
    ``where``: "state" (the state the step enters breaks an invariant),
    "step" (the step itself breaks a step invariant) or a sentence of its own."""
    if where == "state":
        text = f"{rid} fails in the initial state" if step == 0 else f"{rid} fails in the state this step enters"
    elif where == "step":
        text = f"{rid} fails at this step"
    else:
        text = f"{rid}: {where}"
    return {"violation_step": step, "violation": text + (f" — {prop}" if prop else "")}


# --------------------------------------------------------------------------- searches


def search(m: Model, goal: Callable[..., Any], start: World | None = None,
           max_states: int | None = None) -> tuple[list[Input] | None, ExploreStats, World | None]:
    """Shortest run from ``start`` to a step satisfying ``goal``."""
    ex = Explorer(m, start=start, max_states=max_states)
    found: list[list[Input]] = []
    end: list[World] = []

    def on_edge(i: int, w: World, inp: Input, j: int, w2: World) -> None:
        if inp.kind == InKind.DELIVER and goal(m, w, inp, w2):
            found.append([*ex.run_to(i), inp])
            end.append(w2)
            raise StopSearch

    stats = ex.run(on_edge=on_edge)
    if found:
        return found[0], stats, end[0]
    return None, stats, None


def attempt_run(sc: Scenario, profile: str, action: Action, peer: int = 0, accepted: bool = True) -> Run | None:
    """The closest attempt at a capability the profile does not reach: the
    shortest run in which the user of ``peer`` asks for ``action`` and gets
    an answer, which shows what the profile's wire made of the request; or,
    when the profile has no message for it at all, the user's request being
    refused by its own initiator (a declared limit, which the run says).
    The attempt may take one request where the scenario's budget allows none;
    None when no answer to the action is reachable at all."""
    sc = with_bounds(sc, requests=max(1, sc.bounds.requests), actions=(action,))
    m = model_of(sc, profile)
    if action not in m.prof.wire:
        x = _example_action(m, action, peer)
        return Run(sc, profile, [Input(InKind.ACT, peer, 0, x)], label=f"attempt: {action.name}",
                   note=f"{profile} has no message for {action.name}: its initiator refuses it itself")

    def answered(mm: Model, pre: World, inp: Input, post: World, acceptable: bool = True) -> bool:
        ans = P.answer(mm, pre, inp)
        if ans is None or ans[0] != peer or int(pre.peers[peer].ini.asked.kind) != action:
            return False
        if not acceptable:
            return True
        ask = O.asked(mm, pre.peers[peer].ini.asked, peer)
        return ans[2].reason == 0 and (ask is None or O.judge(mm, pre.peers[1 - peer], ask).acceptable)

    # Closest: a request the draft's checks accept, accepted; else any answered
    # one (first, when the goals are about refusals: ``accepted`` false).
    inputs = search(m, answered)[0] if accepted else None
    if not inputs:
        inputs, _, _ = search(m, lambda mm, pre, inp, post: answered(mm, pre, inp, post, False))
    if not inputs:
        return None
    kind = m.prof.wire[action].name
    return Run(sc, profile, inputs, label=f"attempt: {action.name}",
               note=f"the shortest run in which {action.name} is answered ({profile} sends it as {kind})")


def _example_action(m: Model, action: Action, peer: int = 0) -> MInput:
    sc = m.sc
    sa = 1 if m.n_slots > 1 else 0
    own = [k for k in range(m.n_addr) if m.owned[peer] >> k & 1]
    old = P.cur(sc.slots[sa], peer)
    cur = [k for k in own if old >> k & 1] or own
    other = [k for k in own if not old >> k & 1] or own
    t = act_trigger(action)
    if action in (Action.UPDATE, Action.CHECK_UPDATE):
        return MInput(t, sa=sa, old=cur[0], new=other[0])
    if action in (Action.REMOVE, Action.CHECK_REMOVE):
        return MInput(t, sa=sa, old=cur[0])
    if action in (Action.SET_ALT, Action.CHECK_ALT):
        return MInput(t, sa=sa, addrs=1 << other[0])
    if action in (Action.ADD, Action.CHECK_ADD, Action.PROBE):
        return MInput(t, sa=sa if action != Action.PROBE else NOSA, new=other[0])
    return MInput(t, sa=sa)


def declared_limits(run: Run) -> list[str]:
    """The declared facts of a profile (its list of messages, its yes/no
    flags) that a run passes through.  A verdict whose evidence passes
    through one rests on what the profile declares, not only on behaviour
    the search derived; the evidence says so."""
    from ipsecmm.model import Kind, Reason
    from ipsecmm.model._vocab import COARSE_REASONS

    m = run.model()
    prof = m.prof
    found: list[str] = []

    def say(text: str) -> None:
        if text not in found:
            found.append(text)

    for w, inp, events, _ in run.replay():
        for ev in events:
            if ev.what == "refuse" and ev.reason == Reason.UNSUPPORTED:
                say(f"{prof.name} declares no message for this action (Profile.wire)")
            if ev.what == "refuse" and int(ev.reason) in COARSE_REASONS and ev.msg.kind != Kind.CREATE:
                say(f"{prof.name}'s refusals name no check: {Reason(int(ev.reason)).name} (Profile.precise_reasons)")
            if ev.what == "inactive" and not prof.responder_failover:
                e = w.peers[ev.peer].sad[int(ev.sa)]
                if P.alt(e, 1 - ev.peer) & w.up:
                    say(f"{prof.name}'s responder never fails over to alternates (Profile.responder_failover)")
        if not prof.return_routability and inp.kind == InKind.DELIVER:
            msg = w.chan[inp.peer][inp.idx]
            if not msg.resp and P.introduced(msg, P.kind_of(msg.kind)) & m.rr[1 - inp.peer]:
                say(f"{prof.name} has no return routability check (Profile.return_routability)")
    return found


# --------------------------------------------------------------------------- responses


def _deliverable(w: World, inp: Input) -> bool:
    msg = w.chan[inp.peer][inp.idx]
    return bool(w.up >> msg.dst & 1)


def fair_successors(m: Model, w: World, acts: bool) -> list[tuple[Input, World]]:
    """Successors under fair delivery: the network delivers (and loses only
    what cannot arrive), nothing moves and nobody forges.  Timers fire only when
    nothing can be delivered, and a responder's return routability timer before
    an initiator's retransmission timer: a responder must not hold a request
    longer than its initiator waits (an assumption, see docs/model.md)."""
    first: list[tuple[Input, World]] = []
    rr: list[tuple[Input, World]] = []
    timers: list[tuple[Input, World]] = []
    for inp, w2 in m.successors(w):
        k = inp.kind
        network = k == InKind.DELIVER or (k == InKind.DROP and not _deliverable(w, inp)) or k == InKind.PATH_DEAD
        if network or (k == InKind.ACT and acts):
            first.append((inp, w2))
        elif k == InKind.RR_TIMEOUT:
            rr.append((inp, w2))
        elif k == InKind.TIMEOUT:
            timers.append((inp, w2))
    if any(s[0].kind in (InKind.DELIVER, InKind.DROP) for s in first):
        return first
    return first + (rr or timers)


INF = 10**9


@dataclass
class CapabilitySearch:
    """What :func:`capability_search` found: a witness run per goal reached
    (the first step's run included), the goals (or the first step) missed,
    and whether every search that missed was exhaustive."""

    runs: list[tuple[str, list[Input]]]
    missing: list[str]
    complete: bool


def capability_search(m: Model, cap: Capability, max_states: int | None = None,
                      stop_at_miss: bool = False) -> CapabilitySearch:
    """The searches a capability's verdict rests on, in its order: the first
    step (``cap.after``, a refusal) if it has one, then each goal from the
    end of that step.  The checker asks it of the model; mutation adequacy
    asks it of a mutant, within a state limit and stopping at the first
    miss."""
    start_inputs: list[Input] = []
    start: World | None = None
    if cap.after is not None:
        inputs, stats, end = search(m, cap.after, max_states=max_states)
        if inputs is None:
            return CapabilitySearch([], ["the first step (a refusal)"], stats.complete)
        start_inputs, start = inputs, end
    runs: list[tuple[str, list[Input]]] = []
    missing: list[str] = []
    complete = True
    for label, goal in cap.goals:
        inputs, stats, _ = search(m, goal, start=start, max_states=max_states)
        complete = complete and (stats.complete or inputs is not None)
        if inputs is None:
            missing.append(label)
            if stop_at_miss:
                break
        else:
            runs.append((label, start_inputs + inputs))
    return CapabilitySearch(runs, missing, complete)


class _Bounded:
    """Longest fair distance to a goal, or INF when a fair run avoids it."""

    def __init__(self, m: Model, goal: Callable[[World], bool], acts: bool) -> None:
        self.m, self.goal, self.acts = m, goal, acts
        self.memo: dict[World, int] = {}
        self.stack: set[World] = set()

    def _known(self, w: World) -> int | None:
        if self.goal(w):
            return 0
        if w in self.memo:
            return self.memo[w]
        if w in self.stack:
            return INF  # a fair cycle that never reaches the goal
        return None

    def dist(self, w: World) -> int:
        """A depth-first search with its own stack of frames (world, fair
        successors, next one to visit, longest distance so far), not the
        interpreter's: a mutant that retransmits for ever makes fair paths
        thousands of steps long."""
        known = self._known(w)
        if known is not None:
            return known
        self.stack.add(w)
        frames: list[list[Any]] = [[w, fair_successors(self.m, w, self.acts), 0, -1]]
        while True:
            f = frames[-1]
            succ = f[1]
            if f[2] < len(succ):
                w2 = succ[f[2]][1]
                f[2] += 1
                known = self._known(w2)
                if known is not None:
                    f[3] = max(f[3], known)
                else:
                    self.stack.add(w2)
                    frames.append([w2, fair_successors(self.m, w2, self.acts), 0, -1])
                continue
            frames.pop()
            done = min(INF if not succ else 1 + f[3], INF)
            self.stack.discard(f[0])
            self.memo[f[0]] = done
            if not frames:
                return done
            frames[-1][3] = max(frames[-1][3], done)

    def bad_path(self, w: World) -> list[Input]:
        """A fair continuation that never reaches the goal."""
        path: list[Input] = []
        seen: set[World] = set()
        while not self.goal(w) and w not in seen:
            seen.add(w)
            succ = [(inp, w2) for inp, w2 in fair_successors(self.m, w, self.acts) if self.dist(w2) >= INF]
            if not succ:
                break
            inp, w = succ[0]
            path.append(inp)
        return path


def converge_goal(m: Model, p: int, k: int, ask: O.Ask | None = None, asked: Any = None) -> Callable[[World], bool]:
    """LIVE-CONVERGE's goal for a request of peer ``p`` naming slot ``k``:
    its initiator is done and both peers agree on the SA; for a request the
    oracle judged acceptable when it was sent (``ask``), its effect is also
    in force on both peers, so a refusal does not count as completing.  A
    request the user overtook by a newer move while it was outstanding
    (``asked``, the user's record of it, replaced while the initiator starts
    again: RFC 4555 3.5) is complete: the newer request is judged on its own."""

    def goal(w: World) -> bool:
        ini = w.peers[p].ini
        if ini.st != IState.IDLE:
            return bool(asked is not None and ini.again != 0 and ini.asked != asked)
        if ask is not None and not O.in_force(m, w, ask):
            return False
        if k == NOSA:
            return True
        # an SA one peer deleted is in force as gone: nothing of it left
        return bool(P.same_addresses(w.peers[0].sad[k], w.peers[1].sad[k])) and not P.left_behind(w, k)

    return goal


def failover_trigger(m: Model, w: World) -> tuple[int, int] | None:
    for p in (0, 1):
        for k in range(m.n_slots):
            e = w.peers[p].sad[k]
            if e.state != SAState.ACTIVE or not e.out or e.out & w.up:
                continue
            if P.alt(e, 1 - p) & w.up:
                return p, k
    return None


def failover_goal(m: Model, p: int, k: int) -> Callable[[World], bool]:
    def goal(w: World) -> bool:
        e = w.peers[p].sad[k]
        return bool(e.out & w.up)

    return goal


class _Responses:
    """Bounded response, checked as the exploration finds each trigger."""

    def __init__(self, m: Model, ex: Explorer, stop: bool, converge: bool, failover: bool) -> None:
        self.m, self.ex, self.stop = m, ex, stop
        self.converge, self.failover = converge, failover
        self.engines: dict[tuple[str, int, int, O.Ask | None, Any], _Bounded] = {}
        # name -> (triggers, worst bound, (run prefix, bad path) of the first failure)
        self.results: dict[str, tuple[int, int, tuple[list[Input], list[Input]] | None]] = {
            "converge": (0, 0, None), "failover": (0, 0, None)}
        self.seconds = {"converge": 0.0, "failover": 0.0}
        self.seen: set[Any] = set()

    def _check(self, name: str, w: World, p: int, k: int, prefix: Callable[[], list[Input]],
               ask: O.Ask | None = None, asked: Any = None) -> None:
        count, worst, bad = self.results[name]
        if bad is not None:
            return
        t = time.perf_counter()
        key = (name, p, k, ask, asked)
        eng = self.engines.get(key)
        if eng is None:
            goal = converge_goal(self.m, p, k, ask, asked) if name == "converge" else failover_goal(self.m, p, k)
            eng = self.engines[key] = _Bounded(self.m, goal, acts=name == "converge")
        d = eng.dist(w)
        if d >= INF:
            bad = (prefix(), eng.bad_path(w))
        self.results[name] = (count + 1, max(worst, d if d < INF else worst), bad)
        self.seconds[name] += time.perf_counter() - t
        if bad is not None and self.stop:
            raise StopSearch

    def on_edge(self, i: int, w: World, inp: Input, j: int, w2: World) -> None:
        if self.converge and inp.kind == InKind.ACT and w2.peers[inp.peer].ini.st == IState.WAIT:
            p = inp.peer
            req = w2.peers[p].ini.req
            k = P.slot_of(self.m, req.intent)
            # Acceptable as judged from the state the request was sent in,
            # the address's reachability included (draft 4.1).
            view = w2.peers[1 - p]
            ask = None if P.is_in(P.kind_of(req.kind), P.CHECKS) else O.wire_ask(self.m, req, p, view)
            if ask is not None and not O.judge(self.m, view, ask, up=w2.up).acceptable:
                ask = None
            key = ("c", j, p, k, ask)
            if key not in self.seen:
                self.seen.add(key)
                self._check("converge", w2, p, k, lambda: [*self.ex.run_to(i), inp], ask, w2.peers[p].ini.asked)

    def on_state(self, j: int, w: World) -> None:
        if self.failover:
            t = failover_trigger(self.m, w)
            if t is not None:
                self._check("failover", w, t[0], t[1], lambda: self.ex.run_to(j))


# --------------------------------------------------------------------------- progress


@runtime_checkable
class Progress(Protocol):
    """Where a check tells what it is doing.  ``task`` names one unit of work
    ("mm explore", "mm z3"); ``kind`` is "start", "note" (what the task is
    doing now) or "end" (``text``: what it found).  Events of tasks run in
    worker processes reach the parent's ``Progress`` through a queue, so a
    live display in the parent is the only writer to the terminal."""

    def event(self, task: str, kind: str, text: str) -> None: ...


class LineProgress:
    """Progress as plain lines on a stream."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def event(self, task: str, kind: str, text: str) -> None:
        if kind == "start":
            text = "started"
        print(f"[{task}] {text}", file=self.stream, flush=True)


class _Notes:
    """A writable stream whose lines become notes of a task: the explorer
    prints its progress, a task's display shows the latest line."""

    def __init__(self, progress: Progress, task: str) -> None:
        self.progress, self.task, self.buf = progress, task, ""

    def write(self, text: str) -> int:
        self.buf += text
        *lines, self.buf = self.buf.split("\n")
        for line in lines:
            if line.strip():
                self.progress.event(self.task, "note", line.strip())
        return len(text)

    def flush(self) -> None:
        pass


# In a worker process of ``Checker.run``: the queue its progress events go to.
_RELAY: Any = None


def _init_worker(queue: Any) -> None:
    global _RELAY
    _RELAY = queue


class _Relay:
    def __init__(self, queue: Any) -> None:
        self.queue = queue

    def event(self, task: str, kind: str, text: str) -> None:
        self.queue.put((task, kind, text))


def _summary(kind: str, result: Any) -> str:
    if kind == "explore":
        met = sum(v.met for v in result.verdicts.values())
        states = f"{result.explore.states:,} states, " if result.explore is not None else ""
        return f"{states}{met} of {len(result.verdicts)} requirements met"
    if result.error:
        return f"failed: {result.error}"
    return f"{result.paths:,} paths, {len(result.proved)} proved" + (
        f", {len(result.k_proved)} by k-induction" if result.k_proved else "")


# --------------------------------------------------------------------------- the checker


class Checker:
    def __init__(self, sc: Scenario, progress: TextIO | Progress | None = None, z3_engine: bool = True,
                 depth: int = 0, only: Iterable[str] | None = None, mutant: str | None = None, k: int = 2) -> None:
        self.sc = sc
        self.mutant = mutant
        self.progress: Progress | None = (
            progress if progress is None or isinstance(progress, Progress) else LineProgress(progress))
        self.task = ""  # the task whose notes ``log`` writes
        self.z3 = z3_engine
        self.depth = depth
        self.k = k  # k-induction up to this k for what plain induction leaves
        self.only = set(only) if only else None

    def log(self, text: str) -> None:
        if self.progress is not None:
            self.progress.event(self.task, "note", text)

    def run(self, profiles: Iterable[str], jobs: int = 1) -> Report:
        """Check each profile.  The explorer work and the z3 work of a profile
        are independent tasks; with ``jobs`` > 1 they run in worker processes,
        longest first, and are merged in a fixed order (so the report does not
        depend on which finished first)."""

        started = time.perf_counter()
        names = list(profiles)
        tasks: list[tuple[str, str]] = [(p, "explore") for p in names]
        if self.z3:
            tasks += [(p, "z3") for p in names]
        weight = {("mm", "z3"): 0, ("mm", "explore"): 1, ("mobike", "z3"): 2, ("mobike", "explore"): 3}
        tasks.sort(key=lambda t: weight.get(t, 9))
        results: dict[tuple[str, str], Any] = {}
        if jobs <= 1 or len(tasks) <= 1:
            for t in tasks:
                results[t] = _task(self.sc, t, self.depth, self.only, self.progress, self.k)
                self._end(t, results[t])
        else:
            results = self._pool(tasks, jobs)
        reports = []
        for p in names:
            rep: ProfileReport = results[(p, "explore")]
            if self.z3:
                rep.z3 = results[(p, "z3")]
                merge_z3(rep, rep.z3)
                rep.seconds += rep.z3.seconds
            reports.append(rep)

        return Report(self.sc, reports, time.perf_counter() - started)

    def _end(self, task: tuple[str, str], result: Any) -> None:
        if self.progress is not None:
            self.progress.event(" ".join(task), "end", _summary(task[1], result))

    def _pool(self, tasks: list[tuple[str, str]], jobs: int) -> dict[tuple[str, str], Any]:
        """Run ``tasks`` in ``jobs`` worker processes.  With progress, the
        workers send their events through a queue and the parent passes them
        on while it waits, so only the parent writes to the terminal."""
        import contextlib
        import multiprocessing
        import queue as queues

        ctx = multiprocessing.get_context("fork")
        relay = ctx.Queue() if self.progress is not None else None
        init, initargs = (_init_worker, (relay,)) if relay is not None else (None, ())
        with ctx.Pool(jobs, initializer=init, initargs=initargs) as pool:
            pending = {t: pool.apply_async(_task, (self.sc, t, self.depth, self.only, None, self.k)) for t in tasks}
            if relay is None or self.progress is None:
                return {t: res.get() for t, res in pending.items()}
            ended: set[str] = set()
            while len(ended) < len(pending):
                with contextlib.suppress(queues.Empty):
                    name, kind, text = relay.get(timeout=0.2)
                    if name not in ended:  # a worker's last notes may arrive after its result
                        self.progress.event(name, kind, text)
                for t, res in pending.items():
                    if " ".join(t) not in ended and res.ready():
                        ended.add(" ".join(t))
                        if res.successful():
                            self._end(t, res.get())
            return {t: res.get() for t, res in pending.items()}

    def wanted(self, r: Requirement) -> bool:
        return self.only is None or r.id in self.only

    # ------------------------------------------------------------------ one profile

    def check_profile(self, profile: str) -> ProfileReport:
        t0 = time.perf_counter()
        sc = self.sc
        verdicts: dict[str, Verdict] = {}
        for r in REGISTRY:
            if profile not in r.profiles and self.wanted(r):
                verdicts[r.id] = Verdict("not-applicable", "registry", detail=r.note)
            elif self.wanted(r) and (why := unexercised(sc, r)):
                verdicts[r.id] = Verdict("not-applicable", "scenario", detail=why)
        todo = [r for r in REGISTRY if profile in r.profiles and self.wanted(r) and r.id not in verdicts]
        self.log(f"exploring {sc.name}")
        main = self.main_pass(sc, profile, todo)
        verdicts.update(main.verdicts)
        for r in todo:
            v = verdicts.get(r.id)
            if v is not None and v.status in MET and any(isinstance(c, Monitor) for c in r.checks):
                self.log(f"[{profile}] {r.id}: history")
                verdicts[r.id] = self.with_monitors(r, profile, sc, v, main.graph)
        for r in todo:
            if r.id in verdicts:
                continue
            t = time.perf_counter()
            self.log(f"checking {r.id}")
            v = self.check_other(r, profile, main)
            v.seconds += time.perf_counter() - t
            verdicts[r.id] = v
        for v in verdicts.values():
            if v.status == "violated":
                for run in v.runs:
                    v.declared += [d for d in declared_limits(run) if d not in v.declared]
        return ProfileReport(profile, {r.id: verdicts[r.id] for r in REGISTRY if r.id in verdicts},
                             main.stats, time.perf_counter() - t0)

    # ------------------------------------------------------------------ the main exploration

    @dataclass
    class Main:
        stats: ExploreStats
        verdicts: dict[str, Verdict]
        responses: _Responses
        model: Model
        #: the explored graph, kept when a requirement asked has a history
        #: property (its search reads the steps off it)
        graph: Graph | None = None

    def main_pass(self, sc: Scenario, profile: str, todo: list[Requirement], stop: bool = False,
                  explorer: Callable[[Model], Explorer] | None = None) -> Checker.Main:
        """One exhaustive exploration evaluating every invariant, step
        invariant, direct capability goal and response trigger on the fly.
        With ``stop``, the search ends at the first violation (findings).
        ``explorer``: makes the explorer instead of ``Explorer`` (mutation
        adequacy explores a mutant through the original's graph); one with a
        ``known`` attribute (a :class:`Known`) spares the invariants of the
        states and steps it knows."""
        m = model_of(sc, profile, self.mutant)
        if explorer is None:
            ex = Explorer(m, progress=None if self.progress is None else _Notes(self.progress, self.task))
        else:
            ex = explorer(m)
        hooks = _Hooks(m, ex, stop_on_violation=stop, known=getattr(ex, "known", None))
        direct: list[tuple[Requirement, int, Capability]] = []
        for r in todo:
            for n, chk in enumerate(r.checks):
                if isinstance(chk, Invariant):
                    hooks.state_props.append((r.id, n, chk))
                    if chk.subject is not None:
                        hooks.state_props.append((f"{r.id}?", n, Invariant(_holds, chk.subject)))
                elif isinstance(chk, StepInvariant):
                    hooks.step_props.append((r.id, n, chk))
                elif isinstance(chk, Capability) and chk.plan is None and chk.after is None:
                    direct.append((r, n, chk))
                    for g, (_, goal) in enumerate(chk.goals):
                        hooks.goals.append((f"{r.id}#{n}", g, goal))
                    for j, inv in enumerate(chk.always):
                        hooks.step_props.append((f"{r.id}#{n}!", j, inv))
        responses = _Responses(m, ex, hooks.stop,
                               converge=any(r.id == "LIVE-CONVERGE" for r in todo),
                               failover=any(r.id == "LIVE-FAILOVER" for r in todo))
        edge, state = responses.on_edge, responses.on_state

        hooks.extra_edge.append(edge)
        hooks.extra_state.append(state)
        recorder: GraphRecorder | None = None
        if explorer is None and any(isinstance(c, Monitor) for r in todo for c in r.checks):
            recorder = GraphRecorder()
            hooks.extra_edge.append(recorder)
        hooks.prepare()
        started = time.perf_counter()
        stats = ex.run(on_state=hooks.on_state, on_edge=hooks.on_edge)
        graph = recorder.graph(ex.worlds) if recorder is not None and stats.complete else None
        secs = time.perf_counter() - started
        self.log(f"explored {stats.states:,} states, {stats.transitions:,} transitions in {secs:.1f}s")
        exhaustive = "exhaustive for the scenario" if stats.complete else f"search cut short: {stats.stopped}"
        verdicts: dict[str, Verdict] = {}
        for r in todo:
            props = [(n, c) for n, c in enumerate(r.checks) if isinstance(c, (Invariant, StepInvariant))]
            monitors = [c for c in r.checks if isinstance(c, Monitor)]
            if not props or len(props) + len(monitors) != len(r.checks):
                continue
            runs, vacuous, details = [], False, []
            for n, c in props:
                key = (r.id, n)
                if key in hooks.violation:
                    inputs = hooks.violation[key]
                    where = "state" if isinstance(c, Invariant) else "step"
                    runs.append(Run(sc, profile, inputs, label=f"counterexample to {r.id}", mutant=self.mutant,
                                    extra=violation_extra(r.id, len(inputs), where, r.property)))
                if c.when is not None and key not in hooks.antecedent:
                    vacuous = True
                    details.append("its premise never holds in a reachable state or step")
                if isinstance(c, Invariant) and c.subject is not None and (f"{r.id}?", n) not in hooks.antecedent:
                    vacuous = True
                    details.append(f"what it is about never occurs: {c.about}")
            if runs:
                verdicts[r.id] = Verdict("violated", "explorer", "shortest run (breadth-first)", secs, runs=runs[:1])
            elif not stats.complete:
                verdicts[r.id] = Verdict("inconclusive", "explorer", exhaustive, secs)
            else:
                verdicts[r.id] = Verdict("holds", "explorer", exhaustive, secs, detail="; ".join(details),
                                         vacuous=vacuous)
        for r, n, cap in direct:
            goal_runs: list[Run] = []
            missing = []
            for g, (label, _) in enumerate(cap.goals):
                key = (f"{r.id}#{n}", g)
                if key in hooks.witness:
                    goal_runs.append(Run(sc, profile, hooks.witness[key], label=f"witness: {label}", mutant=self.mutant))
                else:
                    missing.append(label)
            wrong = [hooks.violation[key] for j in range(len(cap.always)) if (key := (f"{r.id}#{n}!", j)) in hooks.violation]
            if wrong:
                run = Run(sc, profile, wrong[0], label=f"counterexample to {r.id}: a step the requirement forbids",
                          mutant=self.mutant, extra=violation_extra(r.id, len(wrong[0]), "step", r.property))
                verdicts[r.id] = Verdict("violated", "explorer", "shortest run (breadth-first)", secs,
                                         runs=[run, *goal_runs],
                                         detail="a step breaks what must hold every time: " + r.property.split("always: ")[-1])
                continue
            verdicts[r.id] = self.capability_verdict(r, cap, profile, sc, goal_runs, missing, stats.complete,
                                                     "explorer", exhaustive, secs)
        return Checker.Main(stats, verdicts, responses, m, graph)

    def capability_verdict(self, r: Requirement, cap: Capability, profile: str, sc: Scenario,
                           runs: list[Run], missing: list[str], complete: bool, engine: str, bound: str,
                           secs: float) -> Verdict:
        if not missing:
            return Verdict("holds", engine, bound, secs, runs=runs, detail="every goal has a witness")
        if not complete:
            return Verdict("inconclusive", engine, bound, secs, runs=runs,
                           detail=f"not reached before the search stopped: {', '.join(missing)}")
        # A goal no request could reach in this scenario, whatever the
        # protocol, says nothing about the protocol: judged by the oracle,
        # never by the profile's own rows.
        labels = [label for label, _ in cap.goals]
        idle = [g for g in missing
                if not (exercisable(sc, cap, labels.index(g)) if g in labels else first_step_exercisable(sc, cap))]
        missing = [g for g in missing if g not in idle]
        skipped = f"; not exercisable in scenario {sc.name} (no reachable state offers a request the draft's " \
                  f"checks accept): {', '.join(idle)}" if idle else ""
        if not missing:
            if len(idle) == len(labels):
                return Verdict("not-applicable", "scenario", bound, secs,
                               detail=f"scenario {sc.name} cannot exercise it: no reachable state offers a request "
                                      f"the draft's checks accept for {', '.join(idle)}")
            return Verdict("holds", engine, bound, secs, runs=runs, detail="every exercisable goal has a witness" + skipped)
        if sc.bounds.requests < 1:
            # Every goal is an answer to a request, so a budget of no request
            # reaches none under any profile: that says nothing of the profile.
            return Verdict("inconclusive", engine, f"unreachable ({bound})", secs, runs=runs,
                           detail=f"the scenario allows no request (requests = 0), so nothing can be attempted: "
                                  f"{', '.join(missing)}")
        attempt = attempt_run(sc, profile, cap.attempt, accepted=not cap.any_answer) if cap.attempt else None
        return Verdict("violated", engine, f"unreachable ({bound})", secs, runs=([attempt] if attempt else []) + runs,
                       detail=f"no run reaches: {', '.join(missing)}" + skipped)

    # ------------------------------------------------------------------ histories

    def with_monitors(self, r: Requirement, profile: str, sc: Scenario, v: Verdict,
                      graph: Graph | None = None) -> Verdict:
        """``v`` (what the step properties of ``r`` concluded) combined with
        the search of its history properties (over ``graph`` when the main
        pass kept it)."""
        for mon in (c for c in r.checks if isinstance(c, Monitor)):
            t = time.perf_counter()
            m = model_of(sc, profile, self.mutant)
            bad, states, complete = monitor_search(m, mon, graph=graph)
            secs = time.perf_counter() - t
            if bad is not None:
                run = Run(sc, profile, bad, label=f"counterexample to {r.id}", mutant=self.mutant,
                          extra=violation_extra(r.id, len(bad), "step", r.property))
                return Verdict("violated", "explorer (history)", "shortest run (breadth-first over runs' histories)",
                               v.seconds + secs, runs=[run])
            if not complete:
                return Verdict("inconclusive", "explorer (history)", "search cut short", v.seconds + secs)
            v = Verdict(v.status, v.engine, v.bound, v.seconds + secs, runs=v.runs, vacuous=v.vacuous,
                        detail="; ".join(x for x in (v.detail, f"and over every run's history ({states:,} "
                                                     "world-history pairs, exhaustive)") if x))
        return v

    # ------------------------------------------------------------------ the rest

    def check_other(self, r: Requirement, profile: str, main: Checker.Main) -> Verdict:
        chk = r.checks[0]
        if isinstance(chk, Capability):
            return self.check_capabilities(r, profile)
        if isinstance(chk, Comparison):
            return self.check_comparison(r, chk, profile)
        if isinstance(chk, Response):
            return self.check_response(r, chk, profile, main)
        if isinstance(chk, Structural):
            return self.check_structural(r, chk, profile)
        if isinstance(chk, Finding):
            return self.check_finding(r, chk, profile)
        raise TypeError(chk)

    def check_capabilities(self, r: Requirement, profile: str) -> Verdict:
        runs: list[Run] = []
        failures: list[Verdict] = []
        secs = 0.0
        for cap in r.checks:
            assert isinstance(cap, Capability)
            v = self.check_capability(r, cap, profile)
            secs += v.seconds
            runs += v.runs
            if v.status != "holds":
                failures.append(v)
        if failures:
            worst = failures[0]
            return Verdict(worst.status, worst.engine, worst.bound, secs, worst.detail, runs=runs)
        return Verdict("holds", "explorer", "shortest witness within the search plan", secs, runs=runs,
                       detail="every goal has a witness")

    def check_capability(self, r: Requirement, cap: Capability, profile: str) -> Verdict:
        t = time.perf_counter()
        sc = planned(self.sc, cap.plan)
        m = model_of(sc, profile)
        bound = "shortest run; " + (cap.plan.describe() if cap.plan else "the scenario's bounds")
        found = capability_search(m, cap)
        runs = [Run(sc, profile, inputs, label=f"witness: {label}") for label, inputs in found.runs]
        return self.capability_verdict(r, cap, profile, sc, runs, found.missing, found.complete, "explorer", bound,
                                       time.perf_counter() - t)

    def check_comparison(self, r: Requirement, chk: Comparison, profile: str) -> Verdict:
        t = time.perf_counter()
        first = self.check_capability(r, chk.capability, profile)
        if first.status != "holds":
            return first
        sc = planned(self.sc, chk.never_plan)
        m = model_of(sc, profile)
        ex = Explorer(m)
        hit: list[int] = []

        def on_state(j: int, w: World) -> None:
            if chk.never(m, w):
                hit.append(j)
                raise StopSearch

        stats = ex.run(on_state=on_state)
        secs = time.perf_counter() - t
        if hit:
            inputs = ex.run_to(hit[0])
            run = Run(sc, profile, inputs, label="an SA holding two addresses under UPDATE alone",
                      extra=violation_extra(r.id, len(inputs), "after this step an SA holds two current addresses, "
                                            "though only UPDATE was used", ""))
            return Verdict("violated", "explorer", "shortest run", secs, runs=first.runs + [run],
                           detail="UPDATE alone reached an overlap, so it could make before break too")
        if not stats.complete:
            return Verdict("inconclusive", "explorer", stats.stopped, secs, runs=first.runs)
        return Verdict("holds", "explorer", f"witness: shortest run; comparison: exhaustive ({chk.never_plan.describe()})",
                       secs, runs=first.runs,
                       detail=f"UPDATE alone never holds two addresses ({stats.states:,} states)")

    def check_response(self, r: Requirement, chk: Response, profile: str, main: Checker.Main) -> Verdict:
        resp = main.responses
        count, worst, bad = resp.results[chk.name]
        secs = resp.seconds[chk.name]
        if bad is not None:
            prefix, path = bad
            run = Run(main.model.sc, profile, prefix + path,
                      label=f"counterexample to {r.id}: a fair continuation that never gets there",
                      extra={"trigger_step": len(prefix),
                             **violation_extra(r.id, len(prefix), "from this step on, delivery is fair and the goal "
                                               "is never reached", r.property)},
                      mutant=self.mutant)
            return Verdict("violated", "response", "fair continuation", secs, runs=[run],
                           detail=f"from step {len(prefix)} on, delivery is fair and the goal is never reached")
        if not main.stats.complete:
            return Verdict("inconclusive", "response", main.stats.stopped, secs)
        if not count:
            return Verdict("holds", "response", "no trigger reachable", secs, vacuous=True,
                           detail="the premise never holds in a reachable state")
        bound = f"within {worst} fair steps, from {count:,} trigger states (exhaustive for the scenario)"
        return Verdict("holds", "response", bound, secs, value=worst)

    def check_structural(self, r: Requirement, chk: Structural, profile: str) -> Verdict:
        from ._structural import sa_count, single_exchange

        t = time.perf_counter()
        v = single_exchange(self.sc, profile) if chk.name == "single-exchange" else sa_count(profile)
        v.seconds = time.perf_counter() - t
        return v

    def check_finding(self, r: Requirement, chk: Finding, profile: str) -> Verdict:
        t = time.perf_counter()
        key, value = chk.option
        sc = with_options(self.sc, **{key: value})
        sub = Checker(sc, None, z3_engine=False, only=chk.breaks)
        todo = [by_id()[rid] for rid in chk.breaks]
        main = sub.main_pass(sc, profile, todo, stop=True)
        verdicts = dict(main.verdicts)
        for rq in todo:
            if rq.id not in verdicts:
                verdicts[rq.id] = sub.check_other(rq, profile, main)
        broken = [(rid, verdicts[rid]) for rid in chk.breaks if verdicts[rid].status == "violated"]
        secs = time.perf_counter() - t
        if broken:
            rid, v = broken[0]
            runs = v.runs[:1]
            for run in runs:
                run.label = f"{r.id}: under {key}={value}, {rid} fails"
            return Verdict("holds", "explorer", f"under {key}={value}", secs, runs=runs,
                           detail=f"the reading is exposed: {', '.join(b for b, _ in broken)} fail(s) under {key}={value}")
        inconclusive = [rid for rid in chk.breaks if verdicts[rid].status == "inconclusive"]
        if inconclusive:
            return Verdict("inconclusive", "explorer", f"under {key}={value}", secs,
                           detail=f"could not decide {', '.join(inconclusive)}")
        if sc.bounds.requests < 1:
            # A reading of how a change is made shows only in runs that make one.
            return Verdict("inconclusive", "explorer", f"under {key}={value}", secs,
                           detail=f"the scenario allows no request (requests = 0), so the reading cannot show: "
                                  f"{', '.join(chk.breaks)} hold")
        return Verdict("violated", "explorer", f"under {key}={value}", secs,
                       detail=f"the reading breaks none of {', '.join(chk.breaks)}: the prediction is wrong")


def _task(sc: Scenario, task: tuple[str, str], depth: int, only: set[str] | None, progress: Progress | None,
          k: int = 2) -> Any:
    """One profile's explorer work or z3 work, in this process or a worker
    (whose progress, if any, goes to the parent's queue)."""
    from ._z3 import run_z3

    if progress is None and _RELAY is not None:
        progress = _Relay(_RELAY)
    profile, kind = task
    checker = Checker(sc, progress, False, depth, only)
    checker.task = f"{profile} {kind}"
    if progress is not None:
        progress.event(checker.task, "start", "")
    if kind == "explore":
        return checker.check_profile(profile)
    return run_z3(sc, profile, depth, k, log=checker.log)


def merge_z3(rep: ProfileReport, res: Any) -> None:
    """Fold the z3 engine's conclusions into the explorer's verdicts.  The two
    engines are independent; where they disagree the verdict says so and is
    not a pass."""
    verdicts = rep.verdicts
    if res.error:
        for v in verdicts.values():
            if v.status in ("holds", "violated") and v.engine == "explorer":
                v.detail = (v.detail + "; " if v.detail else "") + f"z3 failed: {res.error}"
        return
    if res.types:
        for v in verdicts.values():
            if v.status == "holds" and v.engine == "explorer":
                v.detail = (v.detail + "; " if v.detail else "") + f"z3 proves nothing: {res.types}"
    dropped = (f"; the {res.dropped} symbolic path(s) the relation could not represent start only in states "
               "the proved invariants exclude") if res.dropped else ""
    share = res.seconds / max(len(res.proved), 1)
    for rid in res.proved:
        found = verdicts.get(rid)
        if found is None or found.status == "not-applicable":
            continue
        v = found
        if v.status != "holds":
            verdicts[rid] = Verdict("inconclusive", "explorer + z3", None, v.seconds, runs=v.runs,
                                    detail=f"ENGINES DISAGREE: z3 proves it, the explorer says {v.status}")
            continue
        verdicts[rid] = Verdict("proved", "z3 induction", "any reachable state (the scenario's sizes)",
                                v.seconds + share, vacuous=v.vacuous,
                                detail=f"inductive with the other proved invariants, {len(res.lemmas)} "
                                       f"lemmas and every field's type invariant{dropped}; the explorer agrees ({v.bound})")
    for rid, k in res.k_proved.items():
        found = verdicts.get(rid)
        if found is None or found.status == "not-applicable":
            continue
        if found.status != "holds":
            verdicts[rid] = Verdict("inconclusive", "explorer + z3", None, found.seconds, runs=found.runs,
                                    detail=f"ENGINES DISAGREE: z3 {k}-induction proves it, the explorer says {found.status}")
            continue
        verdicts[rid] = Verdict("proved", f"z3 {k}-induction", "any reachable state (the scenario's sizes)",
                                found.seconds, vacuous=found.vacuous,
                                detail=f"{k}-inductive with the proved invariants and lemmas as assumptions; "
                                       f"the explorer agrees ({found.bound})")
    for rid, why in res.fell.items():
        if rid in res.k_proved:
            continue
        fell = verdicts.get(rid)
        if fell is not None and fell.status == "holds":
            fell.detail = (fell.detail + "; " if fell.detail else "") + f"z3: {why}"
    for rid, depth in res.bmc_depth.items():
        bmc = verdicts.get(rid)
        if bmc is None:
            continue
        v = bmc
        explorer_depth = len(v.runs[0].inputs) if v.status == "violated" and v.runs else None
        if depth is None and explorer_depth is None:
            v.detail = (v.detail + "; " if v.detail else "") + f"BMC: no counterexample up to depth {res.depth}"
        elif depth == explorer_depth:
            v.detail = (v.detail + "; " if v.detail else "") + f"BMC finds it at the same depth {depth}"
            v.engine = "explorer + bmc"
        elif explorer_depth is None or depth is None or depth < explorer_depth:
            verdicts[rid] = Verdict("inconclusive", "explorer + bmc", None, v.seconds, runs=v.runs,
                                    detail=f"ENGINES DISAGREE: BMC depth {depth}, explorer depth {explorer_depth}")


def check(sc: Scenario, profiles: Iterable[str], progress: TextIO | None = None, z3_engine: bool = True,
          depth: int = 0, jobs: int = 2, k: int = 2) -> Report:
    return Checker(sc, progress, z3_engine, depth, k=k).run(profiles, jobs)


def _judges_steps(c: Any) -> bool:
    """Checks a mutant can break in the main exploration: invariants,
    responses, and capabilities' every-step conditions."""
    return isinstance(c, (Invariant, StepInvariant, Response)) or (isinstance(c, Capability) and bool(c.always))


def _killing_props(profile: str, among: Iterable[str] | None) -> list[Requirement]:
    """The properties that can kill a mutant under ``profile`` (only those
    of ``among`` when given)."""
    keep = None if among is None else set(among)
    return [r for r in REGISTRY if profile in r.profiles and (keep is None or r.id in keep)
            and any(_judges_steps(c) for c in r.checks)]


def _violations(sc: Scenario, profile: str, todo: list[Requirement], mutant: str | None,
                stop: bool) -> Iterable[tuple[str, Run]]:
    checker = Checker(sc, None, False, 0, None, mutant)
    main = checker.main_pass(sc, profile, todo, stop=stop)
    for r in todo:
        v = main.verdicts.get(r.id)
        if v is None and isinstance(r.checks[0], Response):
            v = checker.check_response(r, r.checks[0], profile, main)
        if v is not None and v.status == "violated" and v.runs:
            yield r.id, v.runs[0]


def holding(sc: Scenario, profile: str = "mm") -> list[str]:
    """The properties that can kill a mutant and that the unmutated model
    keeps: a property the profile itself breaks (INV-RR under ikev2) would
    "kill" every mutant and tell nothing about it."""
    todo = _killing_props(profile, None)
    broken = {rid for rid, _ in _violations(sc, profile, todo, None, stop=False)}
    return [r.id for r in todo if r.id not in broken]


def killers(sc: Scenario, mutant: str, profile: str = "mm", among: Iterable[str] | None = None) -> list[tuple[str, int]]:
    """Every property (of ``among``, default all) a mutant breaks (a full
    exploration), with run lengths."""
    todo = _killing_props(profile, among)
    return [(rid, len(run.inputs)) for rid, run in _violations(sc, profile, todo, mutant, stop=False)]


def kill(sc: Scenario, mutant: str, profile: str = "mm", among: Iterable[str] | None = None) -> tuple[str, Run] | None:
    """The first property (of ``among``, default all; shortest
    counterexample) that a mutant breaks, with its run."""
    todo = _killing_props(profile, among)
    return next(iter(_violations(sc, profile, todo, mutant, stop=True)), None)
