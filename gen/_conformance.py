"""Running conformance vectors against a system under test.

An implementation is reached through an *adapter* (see ``Adapter``): the
runner resets it to a test group's scenario and role, feeds it the steps of a
vector one by one, and after each step compares what it sent, what it reported
and its SAD/SPD snapshot with what the vector expects.  The first difference
fails the vector; the failure names the step and shows expected and actual
side by side (``Mismatch.render``).

``ReferenceAdapter`` is the model itself, driven through its ``transitions``
runtime with only the SUT's half of the world observable.  It passes every
vector by construction, and with a seeded model mutant (``properties/_mutants``)
it becomes a faulty implementation the vectors must catch.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import import_module, resources
from pathlib import Path
from typing import Any, Protocol

from ipsecmm.model import (
    ALLSA,
    EMPTY,
    NOADDR,
    NOSA,
    Event,
    InKind,
    Input,
    Kind,
    Model,
    Msg,
    Reason,
    Runtime,
    ScenarioError,
    Used,
    World,
    get_profile,
)
from ipsecmm.properties._runs import PEERS, input_from_json

from ._vectors import message, outcome_of, scenario_from_doc, snapshot

SCHEMA_FILE = "vectors.schema.json"


# --------------------------------------------------------------------------- the adapter contract


@dataclass
class Setup:
    """What ``Adapter.reset`` is given: one test group's configuration."""

    role: str  # the role the SUT plays: "initiator" or "responder"
    profile: str  # "mm", "mobike" or "ikev2"
    scenario: dict[str, Any]  # addresses, SAs, PAD, SPD, policy (the scenario TOML's shape)
    spis: dict[str, dict[str, str]]  # per CHILD_SA: {"i": hex, "r": hex}
    wire: dict[str, Any] | None = None  # the IKE_SA's keys (docs/encoding.md), for adapters that speak bytes


@dataclass
class Observed:
    """What the SUT did in one step."""

    sends: list[dict[str, Any]] = field(default_factory=list)  # abstract messages, in order
    outcome: dict[str, Any] | None = None  # {"answer": REASON} or {"local": REASON}


class Adapter(Protocol):
    """The three calls the runner makes.  See docs/conformance.md."""

    def reset(self, setup: Setup) -> None: ...

    def step(self, step: Mapping[str, Any]) -> Observed: ...

    def snapshot(self) -> dict[str, Any]: ...


# --------------------------------------------------------------------------- loading vectors


class VectorFileError(Exception):
    """A vector file that cannot be used, with the file and the key."""

    def __init__(self, file: str, key: str, problem: str) -> None:
        self.file, self.key, self.problem = file, key, problem
        where = f"{file}: {key}" if key else file
        super().__init__(f"{where}: {problem}")


@dataclass
class Case:
    """One vector with what is needed to run it."""

    id: str
    file: str
    title: str
    setup: Setup
    test: dict[str, Any]


@cache
def schema() -> dict[str, Any]:
    text = resources.files("ipsecmm.gen").joinpath(SCHEMA_FILE).read_text(encoding="utf-8")
    return dict(json.loads(text))


def validate(doc: Any, file: str) -> None:
    """Raise ``VectorFileError`` naming the first key that breaks the schema."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(schema())
    errors = sorted(validator.iter_errors(doc), key=lambda e: [str(p) for p in e.absolute_path])
    if errors:
        err = errors[0]
        key = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in err.absolute_path).lstrip(".")
        raise VectorFileError(file, key or "(top level)", err.message)


def vector_files(directory: Path) -> list[Path]:
    """The vector files of ``directory`` (not the coverage report or ITF traces)."""
    if not directory.is_dir():
        raise VectorFileError(str(directory), "", "no such directory")
    files = sorted(p for p in directory.glob("*.json") if p.name != "coverage.json")
    if not files:
        raise VectorFileError(str(directory), "", "holds no vector files (*.json)")
    return files


def load_file(path: Path) -> list[Case]:
    file = str(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise VectorFileError(file, "", f"cannot read: {exc}") from None
    except json.JSONDecodeError as exc:
        raise VectorFileError(file, f"line {exc.lineno} column {exc.colno}", f"not valid JSON: {exc.msg}") from None
    validate(doc, file)
    cases = []
    for g, group in enumerate(doc["testGroups"]):
        try:
            scenario_from_doc(group["scenario"], f"{file}: testGroups[{g}].scenario")
        except ScenarioError as exc:
            raise VectorFileError(file, f"testGroups[{g}].scenario.{exc.key}".rstrip("."), exc.problem) from None
        setup = Setup(group["role"], doc["profile"], group["scenario"], group["spis"], group.get("wire"))
        cases += [Case(t["id"], file, t["title"], setup, t) for t in group["tests"]]
    return cases


def load_vectors(directory: Path) -> list[Case]:
    cases = [c for f in vector_files(directory) for c in load_file(f)]
    seen: dict[str, str] = {}
    for c in cases:
        if c.id in seen:
            raise VectorFileError(c.file, f"id {c.id}", f"the same id is also in {seen[c.id]}")
        seen[c.id] = c.file
    return cases


def default_vectors() -> Path:
    """The canonical vectors shipped with the package (``vectors/`` in the repository)."""
    return Path(str(resources.files("ipsecmm.gen").joinpath("vectors")))


# --------------------------------------------------------------------------- running


@dataclass
class Mismatch:
    """The first step where the SUT did not do what the vector expects."""

    case: Case
    step: int  # 1-based
    what: str  # "sends" | "outcome" | "sad" | "error"
    expected: Any
    actual: Any

    def render(self) -> str:
        st = self.case.test["steps"][self.step - 1]
        lines = [f"vector {self.case.id} ({self.case.title})",
                 f"  {self.case.file}, role under test: {self.case.setup.role}",
                 f"step {self.step} of {len(self.case.test['steps'])}: {st['actor']} {_compact(st['input'])}"]
        if self.what == "error":
            lines.append(f"  the adapter raised: {self.actual}")
            return "\n".join(lines)
        lines.append(f"  {self.what} differ:")
        exp = json.dumps(self.expected, indent=1, sort_keys=True).splitlines()
        act = json.dumps(self.actual, indent=1, sort_keys=True).splitlines()
        lines += ["    " + ln for ln in difflib.unified_diff(exp, act, "expected", "actual", lineterm="", n=2)]
        return "\n".join(lines)


def _compact(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"))


def run_case(adapter: Adapter, case: Case) -> Mismatch | None:
    """Run one vector; ``None`` when the SUT did everything it should."""
    try:
        adapter.reset(case.setup)
    except Exception as exc:  # an adapter bug is the SUT's failure, not the runner's
        return Mismatch(case, 1, "error", None, f"reset: {type(exc).__name__}: {exc}")
    for n, st in enumerate(case.test["steps"], 1):
        exp = st["expect"]
        try:
            got = adapter.step(st)
            sad = adapter.snapshot()
        except Exception as exc:
            return Mismatch(case, n, "error", None, f"{type(exc).__name__}: {exc}")
        # An implementation's bytes differ from the vectors' (its IVs, cookies
        # and nonces are its own): what it sent is compared in abstract form,
        # and its bytes too only if it reports them (``hex``) for every message.
        keep = bool(got.sends) and all("hex" in d for d in got.sends)
        want = [{k: v for k, v in d.items() if keep or k != "hex"} for d in exp["sends"]]
        sent = [{k: v for k, v in d.items() if keep or k != "hex"} for d in got.sends]
        if sent != want:
            return Mismatch(case, n, "sends", want, sent)
        if got.outcome != exp.get("outcome"):
            return Mismatch(case, n, "outcome", exp.get("outcome"), got.outcome)
        if sad != exp["sad"]:
            return Mismatch(case, n, "sad", exp["sad"], sad)
    return None


def load_factory(spec: str) -> Any:
    """``package.module:factory`` to the callable it names."""
    mod_name, sep, attr = spec.partition(":")
    if not sep or not mod_name or not attr:
        raise ValueError(f"--sut {spec!r}: expected package.module:factory")
    try:
        mod = import_module(mod_name)
    except ImportError as exc:
        raise ValueError(f"--sut {spec!r}: cannot import {mod_name}: {exc}") from None
    obj: Any = mod
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise ValueError(f"--sut {spec!r}: {mod_name} has no attribute {attr}")
        obj = getattr(obj, part)
    if not callable(obj):
        raise ValueError(f"--sut {spec!r}: {attr} is not callable")
    return obj


def fault_table(cases: list[Case], faults: Mapping[str, Any]) -> Iterator[tuple[str, list[Mismatch]]]:
    """For each seeded fault (name -> adapter factory), the vectors it fails."""
    for name, factory in faults.items():
        adapter = factory()
        yield name, [mm for c in cases if (mm := run_case(adapter, c)) is not None]


# --------------------------------------------------------------------------- the reference adapter


def _ip_index(m: Model, ip: str | None) -> int:
    if ip is None:
        return NOADDR
    for k, a in enumerate(m.sc.addresses):
        if a.ip == ip:
            return k
    raise ValueError(f"address {ip} is not in the scenario")


def message_from_json(m: Model, d: Mapping[str, Any]) -> Msg:
    """The model's message for an abstract one.  Ghost fields get neutral
    values: they never decide anything (see ``Msg``)."""
    kind = Kind[d["kind"]]
    sa = d.get("sa")
    sa_idx = NOSA if sa is None else ALLSA if sa == "*" else m.sc.slot_index(sa)
    reason = Reason[d["reason"]] if "reason" in d else Reason.OK
    return Msg(kind=kind, resp=int(d["response"]), mid=d["message_id"], sa=sa_idx,
               old=_ip_index(m, d.get("old")), new=_ip_index(m, d.get("new")),
               addrs=sum(1 << _ip_index(m, ip) for ip in d.get("addresses", [])),
               src=_ip_index(m, d["src"]), dst=_ip_index(m, d["dst"]), prot=int(d["protected"]),
               reason=reason, why=reason, intent=sa_idx)


class ReferenceAdapter:
    """The model as an implementation: one peer of a world whose other half
    the tester plays.  ``mutant`` names a seeded fault of ``ipsecmm mutants``;
    with ``wire``, every message it receives and sends crosses the codec
    (abstract -> bytes -> abstract), and a vector's bytes must be the ones
    the codec writes."""

    def __init__(self, mutant: str | None = None, wire: bool = False) -> None:
        self.mutant = mutant
        self.wire = wire
        self.loop: Any = None
        self.model: Model | None = None
        self.rt: Runtime | None = None
        self.w: World | None = None
        self.sut = 0
        self._built: dict[str, tuple[Model, Runtime]] = {}

    def reset(self, setup: Setup) -> None:
        # Building the transitions machines costs more than running a vector,
        # and a model never changes once built, so one per scenario is kept.
        key = json.dumps([setup.scenario, setup.profile], sort_keys=True)
        built = self._built.get(key)
        if built is None:
            sc = scenario_from_doc(setup.scenario, "vector scenario")
            # The search bounds limit runs, not the implementation: one request
            # at a time is all a step can ask, so budgets are refreshed per step.
            sc = dataclasses.replace(sc, bounds=dataclasses.replace(sc.bounds, requests=1, moves=1, forge=0, drops=-1))
            m = Model(sc, get_profile(setup.profile, sc.options))
            if self.mutant is not None:
                from ipsecmm.properties._mutants import MUTANTS

                next(mu for mu in MUTANTS if mu.name == self.mutant).apply(m)
            built = self._built[key] = (m, Runtime(m))
        self.model, self.rt = built
        self.w = built[0].initial()
        self.sut = 0 if setup.role == "initiator" else 1
        if self.wire:
            from ._wire import Loop, session_for

            self.loop = Loop(session_for(built[0].sc, setup.profile, spis=setup.spis, keys=setup.wire))

    def step(self, step: Mapping[str, Any]) -> Observed:
        m, rt, w = self.model, self.rt, self.w
        assert m is not None and rt is not None and w is not None, "reset first"
        sut, tester = self.sut, 1 - self.sut
        empty = (EMPTY,) * m.sc.bounds.channel
        w = w._replace(used=Used(), chan=(empty, empty))
        x = step["input"]
        inp: Input | None = None
        if step["actor"] == "user":  # the run format's action, with the peer implied
            inp = input_from_json(m, {**x, "input": "act", "peer": PEERS[sut]})
        elif step["actor"] == "tester":
            msg = message_from_json(m, self.loop.cross(x["deliver"], tester) if self.wire else x["deliver"])
            chan = [empty, empty]
            chan[tester] = (msg, *empty[1:])
            w = w._replace(chan=(chan[0], chan[1]))
            inp = Input(InKind.DELIVER, tester, 0)
        elif step["actor"] == "timer":
            inp = Input(InKind.TIMEOUT if x["timer"] == "retransmission" else InKind.RR_TIMEOUT, sut)
        elif "dead" in x:
            dead = sum(1 << _ip_index(m, ip) for ip in x["dead"])
            w = w._replace(up=(w.up & ~m.owned[tester]) | (m.owned[tester] & ~dead))
            inp = Input(InKind.PATH_DEAD, sut)
        else:
            bit = 1 << _ip_index(m, x["interface"])
            w = w._replace(up=w.up | bit if x["up"] else w.up & ~bit)
        events: list[Event] = []
        if inp is not None:
            w2 = rt.step(w, inp, events)
            w = w if w2 is None else w2
        self.w = w
        sends = [message(m, ev.msg) for ev in events if ev.what == "send" and ev.peer == sut]
        if self.wire:
            sends = [self.loop.cross(d, sut) for d in sends]
        return Observed(sends, outcome_of(events, sut))

    def snapshot(self) -> dict[str, Any]:
        assert self.model is not None and self.w is not None, "reset first"
        return snapshot(self.model, self.w.peers[self.sut])


def reference() -> ReferenceAdapter:
    """The factory ``ipsecmm conformance`` uses by default."""
    return ReferenceAdapter()


def reference_wire() -> ReferenceAdapter:
    """The model speaking bytes: ``ipsecmm conformance --sut ipsecmm.gen:reference_wire``."""
    return ReferenceAdapter(wire=True)


def mutant_factories() -> dict[str, Any]:
    """One faulty reference adapter per seeded model mutant."""
    from ipsecmm.properties._mutants import MUTANTS

    return {mu.name: (lambda name=mu.name: ReferenceAdapter(name)) for mu in MUTANTS}


__all__ = [
    "Adapter",
    "Case",
    "Mismatch",
    "Observed",
    "ReferenceAdapter",
    "Setup",
    "VectorFileError",
    "fault_table",
    "load_factory",
    "load_vectors",
    "run_case",
]
