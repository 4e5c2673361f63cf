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
from collections.abc import Callable, Iterator, Mapping
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
    Scenario,
    ScenarioError,
    Used,
    World,
    get_profile,
)
from ipsecmm.model._scenario import _join, _Reader, _tname, number, shown, shown_source
from ipsecmm.properties._runs import PEERS, input_from_json

from ._vectors import (
    SCHEMA_ID,
    abstract_steps,
    all_rows,
    is_data_name,
    message,
    outcome_of,
    reasons_in,
    scenario_from_doc,
    snapshot,
    vector_id,
    vector_result,
)

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
        where = f"{shown_source(file)}: {key}" if key else shown_source(file)
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


def _key(path: Any) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{shown(str(p))}" for p in path).lstrip(".")


def _value(v: Any) -> str:
    """A value of a vector file as a message shows it, on one line."""
    if isinstance(v, str):
        return shown(v)
    if isinstance(v, bool) or v is None:
        return json.dumps(v)
    if isinstance(v, int):
        return number(v)
    text = json.dumps(v, sort_keys=True)
    return text if len(text) <= 80 else f"{_tname(v)} of {len(v)}"


def _schema_problem(err: Any) -> tuple[str, str]:
    """A schema error as (key, problem), quoting what the file holds with
    ``shown`` (jsonschema's own messages print Python reprs)."""
    import jsonschema

    if err.validator in ("oneOf", "anyOf") and err.context:
        return _schema_problem(jsonschema.exceptions.best_match(err.context))
    key, inst, want = _key(err.absolute_path), err.instance, err.validator_value
    if err.validator == "required":
        missing = next(k for k in want if k not in inst)
        return _join(key, missing), "missing required key"
    if err.validator == "additionalProperties":
        allowed = set(err.schema.get("properties", {}))
        extra = next(k for k in inst if k not in allowed)
        return _join(key, shown(extra)), f"unknown key (expected one of: {', '.join(sorted(allowed))})"
    if err.validator == "type":
        kinds = [want] if isinstance(want, str) else want
        names = {"string": "a string", "integer": "an integer", "boolean": "true or false", "object": "an object",
                 "array": "a list", "null": "null", "number": "a number"}
        return key, f"expected {' or '.join(names.get(k, k) for k in kinds)}, got {_tname(inst).replace('table', 'object')}"
    if err.validator == "enum":
        return key, f"{_value(inst)} is not one of: {', '.join(map(str, want))}"
    if err.validator == "const":
        return key, f"{_value(inst)} is not {_value(want)}"
    if err.validator == "pattern":
        return key, f"{_value(inst)} does not have the form {want}"
    if err.validator in ("minimum", "minItems", "minLength"):
        return key, f"{_value(inst)} is too small (at least {want})"
    if err.validator == "uniqueItems":
        return key, "holds the same item twice"
    return key, " ".join(err.message.split())[:200]


def validate(doc: Any, file: str) -> None:
    """Raise ``VectorFileError`` naming the first key that breaks the schema."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(schema())
    errors = sorted(validator.iter_errors(doc), key=lambda e: [str(p) for p in e.absolute_path])
    if errors:
        key, problem = _schema_problem(errors[0])
        raise VectorFileError(file, key or "(top level)", problem)


def is_vector_file(path: Path) -> bool:
    """Whether ``path`` is a vector file: JSON whose top-level ``$schema`` is
    the vectors' schema.  A file that does not parse is one when it names
    the schema anywhere, so that a damaged vector file is reported, not
    skipped as if it were some other JSON."""
    try:
        data = path.read_bytes()
    except OSError:
        return False
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError):
        return SCHEMA_ID.encode() in data
    return isinstance(doc, dict) and doc.get("$schema") == SCHEMA_ID


def vector_files(directory: Path) -> list[Path]:
    """The vector files under ``directory``: those ``is_vector_file`` takes,
    the files the pytest plugin collects (not the coverage report or ITF traces)."""
    try:
        is_dir = directory.is_dir()
    except OSError as exc:
        raise VectorFileError(str(directory), "", exc.strerror or str(exc)) from None
    if not is_dir:
        raise VectorFileError(str(directory), "", "no such directory")
    files = sorted(p for p in directory.rglob("*.json") if p.is_file() and is_vector_file(p))
    if not files:
        raise VectorFileError(str(directory), "", f"holds no vector files (JSON files whose $schema is {SCHEMA_ID})")
    return files


def load_file(path: Path) -> list[Case]:
    """The vectors of one file, checked: the schema, then everything the
    schema cannot say (see ``_check_group``)."""
    file = str(path)
    rd = _Reader(file, VectorFileError)
    doc = rd.parse_json(rd.read_text(path))
    validate(doc, file)
    cases = []
    for g, group in enumerate(doc["testGroups"]):
        try:
            sc = scenario_from_doc(group["scenario"], file)
        except ScenarioError as exc:
            key = f"testGroups[{g}].scenario" + ("" if exc.key in ("", "(top level)") else f".{exc.key}")
            raise VectorFileError(file, key, exc.problem) from None
        _check_group(rd, path, doc["profile"], sc, group, f"testGroups[{g}]")
        setup = Setup(group["role"], doc["profile"], group["scenario"], group["spis"], group.get("wire"))
        cases += [Case(t["id"], file, t["title"], setup, t) for t in group["tests"]]
    if doc["numberOfTests"] != len(cases):
        raise rd.fail("numberOfTests", f"{number(doc['numberOfTests'])}, but the file holds {len(cases)} vectors")
    seen: dict[str, int] = {}
    for k, c in enumerate(cases):
        if c.id in seen:
            raise rd.fail(f"id {c.id}", f"vectors {seen[c.id] + 1} and {k + 1} of the file have the same id")
        seen[c.id] = k
    return cases


def _check_group(rd: _Reader, path: Path, profile: str, sc: Any, group: dict[str, Any], where: str) -> None:
    """What the schema cannot check: that every name and IP a step uses is
    one of the group's scenario (else an adapter would fail on a vector, not
    on an implementation), that messages are what the model would say, and
    that the derived fields (ids, positions, reasons, result, covers,
    requirements, traces) are what the generator writes."""
    from ipsecmm.properties import by_id

    m = Model(sc, get_profile(profile, sc.options))
    sut = 0 if group["role"] == "initiator" else 1
    sas = {s.name: k for k, s in enumerate(sc.slots)}
    children = sorted(s.name for s in sc.slots[1:])
    if sorted(group["spis"]) != children:
        raise rd.fail(f"{where}.spis", f"names SAs {_value(sorted(group['spis']))}; the scenario's CHILD_SAs are "
                                       f"{_value(children)}")
    rows = set(all_rows(m))
    requirements = by_id()
    initial = snapshot(m, m.initial().peers[sut])
    itf = path.parent / "itf"
    for k, t in enumerate(group["tests"]):
        tpath = f"{where}.tests[{k}]"
        if t["tcId"] != k + 1:
            raise rd.fail(f"{tpath}.tcId", f"{number(t['tcId'])}, but it is vector {k + 1} of its group")
        for j, st in enumerate(t["steps"]):
            _check_step(rd, m, sut, sas, st, f"{tpath}.steps[{j}]")
        body = {"scenario": sc.name, "options": vars(sc.options), "profile": profile, "role": group["role"],
                "steps": abstract_steps(t["steps"])}
        if t["id"] != vector_id(body):
            raise rd.fail(f"{tpath}.id", f"{t['id']} is not the hash of the vector's content ({vector_id(body)}): "
                                         "the vector was edited, or its id was")
        for j, rid in enumerate(t["requirements"]):
            if rid not in requirements:
                raise rd.fail(f"{tpath}.requirements[{j}]", f"{shown(rid)} is not a requirement ID")
        for j, goal in enumerate(t["covers"]):
            what, _, name = goal.partition(" ")
            known = name in rows if what in ("row", "guard-false") else name in Reason.__members__ if what == "reason" \
                else _known_mutant(name, rows) if what == "mutant" else is_data_name(name) if what == "data" \
                else all(r in rows for r in name.split(" -> ")) and name.count(" -> ") == 1
            if not known:
                raise rd.fail(f"{tpath}.covers[{j}]", f"{shown(goal)} names no {what} of the {profile} tables")
        if t["reasons"] != reasons_in(t["steps"]):
            raise rd.fail(f"{tpath}.reasons", f"{_value(t['reasons'])}, but the steps' refusals are "
                                              f"{_value(reasons_in(t['steps']))}")
        result = vector_result(t["steps"], initial)
        if t["result"] != result:
            raise rd.fail(f"{tpath}.result", f"{t['result']}, but the last step makes it {result} "
                                             "(see docs/conformance.md)")
        if itf.is_dir() and not (path.parent / t["trace"]).is_file():
            raise rd.fail(f"{tpath}.trace", f"{t['trace']} is missing beside the vector file (its itf/ folder "
                                            "is there)")
    _check_wire(rd, sc, profile, group, sut, where)


def _known_mutant(name: str, rows: set[str]) -> bool:
    """A generated mutant's name (an operator on a row of the tables) or a
    seeded fault's."""
    from ipsecmm.properties._genmutants import from_name
    from ipsecmm.properties._mutants import MUTANTS

    try:
        return from_name(name).row in rows
    except KeyError:
        return any(mu.name == name for mu in MUTANTS)


def _check_wire(rd: _Reader, sc: Any, profile: str, group: dict[str, Any], sut: int, where: str) -> None:
    """Every message's ``hex`` is the encoding of the message it stands beside,
    under the group's ``wire`` keys: an adapter that speaks bytes must not
    fail on a vector whose two forms disagree."""
    from ipsecmm.wire import WireError, encode

    from ._wire import Conversation, session_for

    try:
        session = session_for(sc, profile, spis=group["spis"], keys=group["wire"])
    except WireError as exc:
        raise rd.fail(f"{where}.wire", _line(exc)) from None
    for k, t in enumerate(group["tests"]):
        conv = Conversation(session)  # one IKE_SA per vector: answers find their requests in it
        for j, st in enumerate(t["steps"]):
            spath = f"{where}.tests[{k}].steps[{j}]"
            sent = [(f"{spath}.input.deliver", 1 - sut, st["input"]["deliver"])] if st["actor"] == "tester" else []
            sent += [(f"{spath}.expect.sends[{n}]", sut, d) for n, d in enumerate(st["expect"]["sends"])]
            for mpath, sender, d in sent:
                try:
                    data = encode(conv.wire(d, sender), session).hex()
                except WireError as exc:
                    raise rd.fail(mpath, f"the wire cannot carry this message: {_line(exc)}") from None
                if d["hex"] != data:
                    raise rd.fail(f"{mpath}.hex", f"not the encoding of this {d['kind']} "
                                                  f"{'response' if d['response'] else 'request'} under the group's "
                                                  "wire keys")


def _check_step(rd: _Reader, m: Model, sut: int, sas: dict[str, int], st: dict[str, Any], path: str) -> None:
    sc, x = m.sc, st["input"]
    addrs = {a.name: k for k, a in enumerate(sc.addresses)}
    if st["actor"] == "user":
        input_from_json(m, {**x, "input": "act", "peer": PEERS[sut]}, rd, f"{path}.input")
    elif st["actor"] == "tester":
        _check_message(rd, m, sas, x["deliver"], f"{path}.input.deliver")
    elif st["actor"] == "network":
        own = "interface" in x
        ips = {a.ip: k for k, a in enumerate(sc.addresses) if (a.owner == sut) == own}
        whose = "the implementation's" if own else "the tester's"
        for key, ip in ([("interface", x["interface"])] if own else
                        [(f"dead[{j}]", ip) for j, ip in enumerate(x["dead"])]):
            if ip not in ips:
                raise rd.fail(f"{path}.input.{key}", f"{shown(ip)} is not one of {whose} IP addresses in the scenario")
    exp = st["expect"]
    for j, msg in enumerate(exp["sends"]):
        _check_message(rd, m, sas, msg, f"{path}.expect.sends[{j}]")
    for name, entry in exp["sad"].items():
        epath = f"{path}.expect.sad.{shown(name)}"
        if name not in sas:
            raise rd.fail(epath, f"{shown(name)} is not an SA of the scenario")
        for key in ("i", "r", "i_alternates", "r_alternates", "sends_to"):
            if key in entry:
                rd.mask(entry[key], f"{epath}.{key}", addrs)
        for key in ("i", "r"):
            if key in entry.get("spd", {}):
                rd.mask(entry["spd"][key], f"{epath}.spd.{key}", addrs)


def _check_message(rd: _Reader, m: Model, sas: dict[str, int], msg: dict[str, Any], path: str) -> None:
    """Every IP and SA ``msg`` names is in the scenario, and ``msg`` is what
    the model writes for the message it stands for: the exchange and notify
    of its kind, the fields of a request or of a response, and no others."""
    ips = {a.ip for a in m.sc.addresses}
    for key in ("src", "dst", "old", "new"):
        if msg.get(key) is not None and msg[key] not in ips:
            raise rd.fail(f"{path}.{key}", f"{shown(msg[key])} is not an IP address of the scenario")
    seen: set[str] = set()
    for j, ip in enumerate(msg.get("addresses", [])):
        if ip not in ips or ip in seen:
            problem = "is not an IP address of the scenario" if ip not in ips else "is listed twice"
            raise rd.fail(f"{path}.addresses[{j}]", f"{shown(ip)} {problem}")
        seen.add(ip)
    if "sa" in msg and msg["sa"] != "*" and msg["sa"] not in sas:
        raise rd.fail(f"{path}.sa", f"{shown(msg['sa'])} is not an SA of the scenario")
    again = message(m, message_from_json(m, msg))
    for key in sorted((set(msg) | set(again)) - {"hex"}):  # the bytes are checked apart (_check_wire)
        if key in msg and key in again and msg[key] == again[key]:
            continue
        what = f"a {msg['kind']} {'response' if msg['response'] else 'request'}"
        if key not in msg:
            problem = f"missing: {what} carries it"
        elif key not in again:
            problem = f"{what} has no {key}" + (" (leave the key out)" if msg[key] is None else "")
        else:
            problem = f"{_value(msg[key])} does not fit {what}: expected {_value(again[key])}"
        raise rd.fail(f"{path}.{key}", problem)


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
    """``package.module:factory`` or ``path/to/file.py:factory`` to the
    callable it names.  A module is imported as Python imports it (installed,
    or on ``PYTHONPATH``: the console script does not look in the current
    directory); a file is loaded from its path, with its directory put first
    on ``sys.path`` so that it can import its neighbours, as ``python FILE``
    would."""
    mod_name, sep, attr = spec.rpartition(":")
    if not sep or not mod_name or not attr:
        raise ValueError(f"--sut {shown(spec)}: expected package.module:factory or path/to/file.py:factory")
    try:
        mod = _import_file(mod_name) if mod_name.endswith(".py") else import_module(mod_name)
    except ImportError as exc:
        raise ValueError(f"--sut {shown(spec)}: cannot import {shown(mod_name)}: {_line(exc)}") from None
    except BaseException as exc:  # the adapter's own module failed: say so on one line, not with its traceback
        if isinstance(exc, KeyboardInterrupt):
            raise
        raise ValueError(f"--sut {shown(spec)}: importing {shown(mod_name)} raised {type(exc).__name__}: "
                         f"{_line(exc)}") from None
    obj: Any = mod
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise ValueError(f"--sut {shown(spec)}: {shown(mod_name)} has no attribute {shown(attr)}")
        obj = getattr(obj, part)
    if not callable(obj):
        raise ValueError(f"--sut {shown(spec)}: {shown(attr)} is not callable")
    return obj


def _line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:300]


def _import_file(name: str) -> Any:
    import importlib.util
    import sys

    path = Path(name).resolve()
    if not path.is_file():
        raise ImportError("no such file")
    mod_name = f"ipsecmm_sut_{path.stem}"
    spec = importlib.util.spec_from_file_location(mod_name, path)
    if spec is None or spec.loader is None:  # pragma: no cover - a .py path always has a loader
        raise ImportError("not loadable as Python")
    mod = importlib.util.module_from_spec(spec)
    if str(path.parent) not in sys.path:
        sys.path.insert(0, str(path.parent))
    sys.modules[mod_name] = mod  # dataclasses and pickling look modules up by name
    spec.loader.exec_module(mod)
    return mod


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
    values: they never decide anything (see ``Msg``).  ``load_file`` has
    checked that ``message`` gives ``d`` back, exchange and notify included,
    so nothing ``d`` says is lost here."""
    kind = Kind[d["kind"]]
    sa = d.get("sa")
    sa_idx = NOSA if sa is None else ALLSA if sa == "*" else m.sc.slot_index(sa)
    reason = Reason[d["reason"]] if "reason" in d else Reason.OK
    return Msg(kind=kind, resp=int(d["response"]), mid=d["message_id"], sa=sa_idx,
               old=_ip_index(m, d.get("old")), new=_ip_index(m, d.get("new")),
               addrs=sum(1 << _ip_index(m, ip) for ip in d.get("addresses", [])),
               src=_ip_index(m, d["src"]), dst=_ip_index(m, d["dst"]), prot=int(d["protected"]),
               reason=reason, why=reason, intent=sa_idx)


#: How the reference adapter steps its world: the ``transitions`` runtime's
#: ``step`` or the compiled ``Model.step`` (a differential test proves them equal).
Stepper = Callable[[World, Input, list[Event]], "World | None"]


def adapter_model(sc: Scenario, profile: str) -> Model:
    """The model the reference adapter runs for scenario ``sc``.  The search
    bounds limit runs, not the implementation: one request at a time is all
    a step can ask, so the budgets are refreshed at every step (``drive``)."""
    sc = dataclasses.replace(sc, bounds=dataclasses.replace(sc.bounds, requests=1, moves=1, forge=0, drops=-1))
    return Model(sc, get_profile(profile, sc.options))


def adapter_world(m: Model, w: World) -> World:
    """``w`` as a step of the reference adapter begins: budgets unused, no
    message in flight (the tester hands over each message itself)."""
    empty = (EMPTY,) * m.sc.bounds.channel
    return w._replace(used=Used(), chan=(empty, empty))


def drive(m: Model, w: World, sut: int, step: Mapping[str, Any], stepper: Stepper,
          deliver: Mapping[str, Any] | None = None) -> tuple[World, list[Event]]:
    """One vector step on the model as an implementation: the world after it
    and the events it reports.  ``w``: the world so far, of which only the
    SUT's half and its interfaces count; ``deliver``: the tester's message
    when it differs from the step's own (the wire adapter's decoded copy).
    Pure: the reference adapter and the mutation search (``_adequate``) both
    step through here, so what the search predicts is what the adapter does."""
    tester = 1 - sut
    w = adapter_world(m, w)
    x = step["input"]
    inp: Input | None = None
    if step["actor"] == "user":  # the run format's action, with the peer implied
        inp = input_from_json(m, {**x, "input": "act", "peer": PEERS[sut]})
    elif step["actor"] == "tester":
        msg = message_from_json(m, x["deliver"] if deliver is None else deliver)
        empty = w.chan[0]
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
        w2 = stepper(w, inp, events)
        w = w if w2 is None else w2
    return w, events


def observed(m: Model, sut: int, events: list[Event]) -> Observed:
    return Observed([message(m, ev.msg) for ev in events if ev.what == "send" and ev.peer == sut],
                    outcome_of(events, sut))


class ReferenceAdapter:
    """The model as an implementation: one peer of a world whose other half
    the tester plays.  ``mutant`` names a seeded or generated model mutant
    (``ipsecmm mutants``, ``ipsecmm mutants --generated``); with ``wire``,
    every message it receives and sends crosses the codec (abstract -> bytes
    -> abstract), and a vector's bytes must be the ones the codec writes."""

    def __init__(self, mutant: str | None = None, wire: bool = False) -> None:
        self.mutant = mutant
        self.wire = wire
        self.loop: Any = None
        self.model: Model | None = None
        self.stepper: Stepper | None = None
        self.w: World | None = None
        self.sut = 0
        self._built: dict[str, tuple[Model, Stepper]] = {}

    def reset(self, setup: Setup) -> None:
        # Building the transitions machines costs more than running a vector,
        # and a model never changes once built, so one per scenario is kept.
        key = json.dumps([setup.scenario, setup.profile], sort_keys=True)
        built = self._built.get(key)
        if built is None:
            m = adapter_model(scenario_from_doc(setup.scenario, "vector scenario"), setup.profile)
            if self.mutant is not None:
                from ipsecmm.properties._mutants import by_name

                by_name(self.mutant).apply(m)
            built = self._built[key] = (m, Runtime(m).step)
        self.model, self.stepper = built
        self.w = built[0].initial()
        self.sut = 0 if setup.role == "initiator" else 1
        if self.wire:
            from ._wire import Loop, session_for

            self.loop = Loop(session_for(built[0].sc, setup.profile, spis=setup.spis, keys=setup.wire))

    def step(self, step: Mapping[str, Any]) -> Observed:
        m, w = self.model, self.w
        assert m is not None and self.stepper is not None and w is not None, "reset first"
        deliver = None
        if self.wire and step["actor"] == "tester":
            deliver = self.loop.cross(step["input"]["deliver"], 1 - self.sut)
        self.w, events = drive(m, w, self.sut, step, self.stepper, deliver)
        obs = observed(m, self.sut, events)
        if self.wire:
            obs.sends = [self.loop.cross(d, self.sut) for d in obs.sends]
        return obs

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
