"""Runs of the model: witnesses and counterexamples.

A run is the list of inputs that leads from the initial world of a model (a
scenario, a profile, its options and bounds) to the state or step a property
talks about.  It is the only evidence ipsecmm reports: it replays on the
``transitions`` runtime, prints as a step table, and saves as JSON (our own
format, readable back) and as ITF (the trace format of Apalache and Quint,
with the action taken on each state).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ipsecmm.model import (
    ALLSA,
    NOADDR,
    NOSA,
    PROFILE_NAMES,
    Action,
    Event,
    InKind,
    Input,
    MInput,
    Model,
    Runtime,
    Scenario,
    ScenarioError,
    World,
    builtin_names,
    builtin_scenario,
    get_profile,
)
from ipsecmm.model import _render as render
from ipsecmm.model._scenario import ACTION_NAMES, MAX_ADDRESSES, _join, _Reader, shown
from ipsecmm.model._vocab import act_trigger

from ._encode import leaves

PEERS = ("I", "R")
MARK = "✗"  # marks the step where a counterexample's property fails
RUN_FORMAT = "ipsecmm-run/1"  # what ``Run.to_json`` writes and ``load_runs`` reads


class ReplayError(Exception):
    """A run that is not a run of its model: step ``step`` (1-based) is not taken."""

    def __init__(self, step: int, message: str) -> None:
        super().__init__(message)
        self.step = step


@dataclass
class Run:
    """Inputs from the initial world of ``scenario`` under ``profile``."""

    scenario: Scenario
    profile: str
    inputs: list[Input]
    label: str = ""
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    mutant: str | None = None  # a seeded mutant the run belongs to

    def model(self) -> Model:
        m = Model(self.scenario, get_profile(self.profile, self.scenario.options))
        if self.mutant:
            from ._mutants import by_name

            by_name(self.mutant).apply(m)
        return m

    def replay(self) -> list[tuple[World, Input, list[Event], World]]:
        """Step the run on the ``transitions`` runtime; every input must be
        taken (a refused input means the run is not a run of this model)."""
        m = self.model()
        rt = Runtime(m)
        w = rt.initial()
        steps = []
        for n, inp in enumerate(self.inputs, 1):
            events: list[Event] = []
            w2 = rt.step(w, inp, events)
            if w2 is None:
                if inp.kind == InKind.ACT and any(e.what == "refuse" for e in events):
                    steps.append((w, inp, events, w))  # an attempt the initiator refuses itself
                    continue
                if n == len(self.inputs) and inp in m.inputs(w):
                    # a counterexample's last step may be one that changes
                    # nothing (a failure report ignored: StepInvariant.loops)
                    steps.append((w, inp, events, w))
                    continue
                raise ReplayError(n, f"step {n} ({describe_input(m, w, inp)}) is not taken")
            steps.append((w, inp, events, w2))
            w = w2
        return steps

    def final(self) -> World:
        steps = self.replay()
        return steps[-1][3] if steps else self.model().initial()

    def violation(self) -> tuple[int, str] | None:
        """For a counterexample: the step where its property fails (0: the
        initial state already does) and what fails there, as the checker
        recorded them in ``extra``; None for other runs."""
        step, text = self.extra.get("violation_step"), self.extra.get("violation")
        if type(step) is int and 0 <= step <= len(self.inputs) and isinstance(text, str):
            return step, text
        return None

    # ------------------------------------------------------------------ text

    def table(self) -> str:
        """One line per step; the step where a counterexample fails is marked
        with a cross and followed by what fails."""
        m = self.model()
        bad = self.violation()
        lines = [f"{'#':>3}  {'who':<8} {'input':<48} outcome"]
        if bad is not None and bad[0] == 0:
            lines.append(f"{0:>3}{MARK} {'-':<8} {'(the initial state)':<48} {MARK} {bad[1]}")
        for n, (w, inp, events, w2) in enumerate(self.replay(), 1):
            who, what = render.input_(m, w, inp)
            said = [t for t in (render.event(m, ev) for ev in events) if t]
            changes = render.world_diff(m, w, w2)
            outcome = "; ".join(said + changes) or "-"
            marked = bad is not None and bad[0] == n
            lines.append(f"{n:>3}{MARK if marked else ' '} {who:<8} {what:<48} {outcome}")
            if marked and bad is not None:
                lines.append(f"{'':>4} {'':<8} {'':<48} {MARK} {bad[1]}")
        return "\n".join(lines)

    def mermaid(self) -> str:
        """A Mermaid sequence diagram of the messages of the run."""
        m = self.model()
        out = ["sequenceDiagram", "    participant I as I (initiator)", "    participant R as R (responder)"]
        bad = self.violation()
        if bad is not None and bad[0] == 0:
            out.append(f"    Note over I,R: {MARK} {_mm(bad[1])}")
        for n, (w, inp, events, _) in enumerate(self.replay(), 1):
            who, what = render.input_(m, w, inp)
            if inp.kind == InKind.ACT:
                out.append(f"    Note over {who}: user: {_mm(what)}")
            elif inp.kind == InKind.DELIVER:
                msg = w.chan[inp.peer][inp.idx]
                a, b = PEERS[inp.peer], PEERS[1 - inp.peer]
                out.append(f"    {a}->>{b}: {_mm(render.message(m, msg))}")
            elif inp.kind == InKind.DROP:
                msg = w.chan[inp.peer][inp.idx]
                a, b = PEERS[inp.peer], PEERS[1 - inp.peer]
                out.append(f"    {a}-x{b}: lost: {_mm(render.message(m, msg))}")
            else:
                out.append(f"    Note over I,R: {who}: {_mm(what)}")
            for ev in events:
                if ev.what in ("refuse", "failover", "inactive"):
                    text = render.event(m, ev)
                    if text:
                        out.append(f"    Note over {PEERS[ev.peer]}: {_mm(text)}")
            if bad is not None and bad[0] == n:
                out.append(f"    Note over I,R: {MARK} step {n}: {_mm(bad[1])}")
        return "\n".join(out)

    # ------------------------------------------------------------------ files

    def to_json(self) -> dict[str, Any]:
        m = self.model()
        return {
            "format": RUN_FORMAT,
            "label": self.label,
            "note": self.note,
            "scenario": self.scenario.name,
            "profile": self.profile,
            "options": dataclasses.asdict(self.scenario.options),
            "bounds": _bounds(self.scenario),
            "inputs": [input_json(m, inp) for inp in self.inputs],
            **({"extra": self.extra} if self.extra else {}),
            **({"mutant": self.mutant} if self.mutant else {}),
        }

    def to_itf(self) -> dict[str, Any]:
        """ITF trace: one state per step, with the action that led to it."""
        m = self.model()
        steps = self.replay()
        worlds = [m.initial()] + [s[3] for s in steps]
        actions = ["init"] + [describe_input(m, s[0], s[1]) for s in steps]
        names = [".".join(p) for p, _ in leaves(worlds[0])]
        states = []
        for k, (w, act) in enumerate(zip(worlds, actions, strict=True)):
            st: dict[str, Any] = {"#meta": {"index": k}, "action_taken": act}
            for name, (_, value) in zip(names, leaves(w), strict=True):
                st[name] = int(value)
            states.append(st)
        return {
            "#meta": {"format": "ITF", "format-description": "https://apalache-mc.org/docs/adr/015adr-trace.html",
                      "source": f"ipsecmm {self.scenario.name} {self.profile}", "description": self.label},
            "vars": ["action_taken", *names],
            "states": states,
        }


def _bounds(sc: Scenario) -> dict[str, Any]:
    b = dataclasses.asdict(sc.bounds)
    b["actions"] = [a.name.lower() for a in sc.bounds.actions]
    return b


def _mm(text: str) -> str:
    # Mermaid reads ';' and '#' specially inside messages.
    return text.replace(";", ",").replace("#", "no. ")


def describe_input(m: Model, w: World, inp: Input) -> str:
    who, what = render.input_(m, w, inp)
    return f"{who}: {what}"


def _name_addr(m: Model, a: int) -> str | None:
    return None if a == NOADDR else m.sc.addresses[a].name


def input_json(m: Model, inp: Input) -> dict[str, Any]:
    d: dict[str, Any] = {"input": inp.kind.name.lower()}
    if inp.kind == InKind.ACT:
        assert inp.act is not None
        x = inp.act
        d["peer"] = PEERS[inp.peer]
        d["action"] = Action(x.trigger.value).name.lower()
        if x.sa != NOSA:
            d["sa"] = m.sc.slots[x.sa].name
        if x.old != NOADDR:
            d["old"] = _name_addr(m, x.old)
        if x.new != NOADDR:
            d["new"] = _name_addr(m, x.new)
        if x.addrs:
            d["addrs"] = m.sc.names(x.addrs)
        return d
    if inp.kind in (InKind.DELIVER, InKind.DROP, InKind.DUPLICATE):
        d["from"] = PEERS[inp.peer]
        d["index"] = inp.idx
    elif inp.kind in (InKind.LOSE, InKind.GAIN):
        d["address"] = m.sc.addresses[inp.idx].name
    elif inp.kind == InKind.FORGE:
        d["towards"] = PEERS[1 - inp.peer]
    else:
        d["peer"] = PEERS[inp.peer]
    return d


_PEER = {"I": 0, "R": 1}
#: The keys of each kind of input, besides "input" (what ``input_json`` writes).
_INPUT_KEYS: dict[InKind, tuple[set[str], set[str]]] = {  # required, optional
    InKind.ACT: ({"peer", "action"}, {"sa", "old", "new", "addrs"}),
    InKind.DELIVER: ({"from", "index"}, set()),
    InKind.DROP: ({"from", "index"}, set()),
    InKind.DUPLICATE: ({"from", "index"}, set()),
    InKind.LOSE: ({"address"}, set()),
    InKind.GAIN: ({"address"}, set()),
    InKind.TIMEOUT: ({"peer"}, set()),
    InKind.RR_TIMEOUT: ({"peer"}, set()),
    InKind.PATH_DEAD: ({"peer"}, set()),
    InKind.FORGE: ({"towards"}, set()),
}
_KINDS = {k.name.lower(): k for k in InKind}


def input_from_json(m: Model, d: Any, rd: _Reader | None = None, path: str = "input") -> Input:
    """An input as ``input_json`` writes it, checked against ``m``'s
    scenario: a wrong key, kind, name or index is reported through ``rd``
    (a ``ScenarioError`` naming ``path`` by default)."""
    rd = rd or _Reader("<input>")
    sc = m.sc
    t = rd.table(d, path, {"input"} | set().union(*(a | b for a, b in _INPUT_KEYS.values())))
    kind = rd.choice(t, "input", path, _KINDS)
    required, optional = _INPUT_KEYS[kind]
    rd.table(t, path, {"input"} | required | optional)
    for key in sorted(required):
        rd.get(t, key, path, object)
    addrs = {a.name: k for k, a in enumerate(sc.addresses)}
    if kind == InKind.ACT:
        slots = {s.name: k for k, s in enumerate(sc.slots)}
        x = MInput(act_trigger(rd.choice(t, "action", path, ACTION_NAMES)),
                   sa=rd.choice(t, "sa", path, slots, NOSA),
                   old=rd.choice(t, "old", path, addrs, NOADDR),
                   new=rd.choice(t, "new", path, addrs, NOADDR),
                   addrs=rd.mask(t["addrs"], _join(path, "addrs"), addrs) if "addrs" in t else 0)
        return Input(kind, rd.choice(t, "peer", path, _PEER), 0, x)
    if kind in (InKind.DELIVER, InKind.DROP, InKind.DUPLICATE):
        return Input(kind, rd.choice(t, "from", path, _PEER),
                     rd.index(t, "index", path, sc.bounds.channel, f"a place in a channel of {sc.bounds.channel}"))
    if kind in (InKind.LOSE, InKind.GAIN):
        a = rd.choice(t, "address", path, addrs)
        return Input(kind, int(sc.addresses[a].owner), a)
    if kind == InKind.FORGE:
        return Input(kind, 1 - rd.choice(t, "towards", path, _PEER))
    return Input(kind, rd.choice(t, "peer", path, _PEER))


# --------------------------------------------------------------------------- reading run files


class RunFileError(ScenarioError):
    """A run file that cannot be used: ``str()`` is the one-line message
    naming the file and the key."""


def load_runs(path: str | Path, base: Scenario | None = None) -> list[Run]:
    """The runs of a file ``ipsecmm check`` saved (a verdict's runs, or one
    run), each checked as strictly as a scenario file and replayed.  A run's
    scenario is the built-in one it names, or ``base`` (a scenario file the
    user names); its own bounds and options replace the scenario's, read
    with the scenario loader's own checks."""
    rd = _Reader(str(path), RunFileError)
    return runs_from_doc(rd.parse_json(rd.read_text(path)), rd, base)


def checker_scenario(name: str) -> Scenario | None:
    """The scenario ``ipsecmm check`` builds for SCN-SA-COUNT when ``name`` is
    one (``multihomed-I-N`` or ``multihomed-R-N``: no file of its own), else None."""
    import re

    from ._structural import _multihomed

    found = re.fullmatch(r"multihomed-([IR])-([1-9][0-9]?)", name)
    if found is None or int(found.group(2)) >= MAX_ADDRESSES:
        return None
    return _multihomed(int(found.group(2)), "IR".index(found.group(1)))


def runs_from_doc(doc: Any, rd: _Reader, base: Scenario | None = None) -> list[Run]:
    if isinstance(doc, dict) and "runs" in doc:  # a verdict's runs, as ``ipsecmm check --runs`` writes them
        from ._check import STATUSES
        from ._registry import by_id

        t = rd.table(doc, "", {"requirement", "profile", "status", "runs"})
        rid = rd.get(t, "requirement", "", str, None)
        if rid is not None and rid not in by_id():
            raise rd.fail("requirement", f"{shown(rid)} is not a requirement ID (ipsecmm requirements lists them)")
        rd.choice(t, "profile", "", {p: p for p in PROFILE_NAMES}, None)
        rd.choice(t, "status", "", {s: s for s in STATUSES}, None)
        items = rd.get(t, "runs", "", list)
        if not items:
            raise rd.fail("runs", "holds no run")
        return [_run(rd, d, f"runs[{k}]", base) for k, d in enumerate(items)]
    return [_run(rd, doc, "", base)]


def _run(rd: _Reader, d: Any, path: str, base: Scenario | None) -> Run:
    from ._mutants import MUTANTS

    if not isinstance(d, dict) or d.get("format") != RUN_FORMAT:
        raise rd.fail(path or "(top level)", f'not an ipsecmm run (expected "format": "{RUN_FORMAT}")')
    rd.table(d, path, {"format", "label", "note", "scenario", "profile", "options", "bounds", "inputs", "extra",
                       "mutant"})
    name = rd.name(d, "scenario", path)
    if base is None:
        made = checker_scenario(name)
        if made is None and name not in builtin_names():
            raise rd.fail(_join(path, "scenario"),
                          f"{shown(name)} is not a built-in scenario; name its file with --scenario")
        sc = made or builtin_scenario(name)
    elif name != base.name:
        raise rd.fail(_join(path, "scenario"), f"the run is of scenario {shown(name)}, the scenario given is "
                                               f"{shown(base.name)}")
    else:
        sc = base
    profile = rd.choice(d, "profile", path, {p: p for p in PROFILE_NAMES})
    sc = dataclasses.replace(sc, options=rd.options(d.get("options", {}), _join(path, "options"), sc.options),
                             bounds=rd.bounds(d.get("bounds", {}), _join(path, "bounds"), sc.bounds))
    mutant = rd.get(d, "mutant", path, str, None)
    run = Run(sc, profile, [], label=rd.get(d, "label", path, str, ""), note=rd.get(d, "note", path, str, ""),
              mutant=mutant)
    try:
        m = run.model()  # seeded and generated mutants alike (one lookup: _mutants.by_name)
    except KeyError:
        known = ", ".join(mu.name for mu in MUTANTS)
        raise rd.fail(_join(path, "mutant"), f"{shown(mutant)} is no mutant of {profile} (seeded: {known}; "
                                             "or a generated one, as ipsecmm mutants --generated names them)") from None
    ipath = _join(path, "inputs")
    run.inputs = [input_from_json(m, x, rd, f"{ipath}[{k}]") for k, x in enumerate(rd.get(d, "inputs", path, list))]
    # What the checker records about a run (see Run.violation and _check.violation_extra).
    epath = _join(path, "extra")
    extra = rd.table(d.get("extra", {}), epath, {"trigger_step", "violation_step", "violation"})
    for key in ("trigger_step", "violation_step"):
        if key in extra:
            rd.index(extra, key, epath, len(run.inputs) + 1, "a step of the run, 0 the initial state")
    rd.get(extra, "violation", epath, str, "")
    run.extra = dict(extra)
    try:
        run.replay()
    except ReplayError as exc:
        raise rd.fail(f"{ipath}[{exc.step - 1}]", str(exc)) from None
    return run


def dump(obj: Any) -> str:
    return json.dumps(obj, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


__all__ = ["ALLSA", "Run"]
