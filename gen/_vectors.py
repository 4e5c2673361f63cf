"""Conformance vectors: reachable runs of the model, seen from one peer.

A vector is a run of the model told from the point of view of one peer, the
system under test (SUT): the tester plays the other peer, the user and the
network, and at every step the vector says what the SUT must send, what it
must report, and what its SAD and SPD must hold afterwards.

Which runs: the shortest run (breadth-first, so minimal) that reaches each
coverage goal in the ``mm`` profile:

* every row of the initiator and responder tables that some state fires;
* every refusal reason, as a negative vector;
* every capability requirement of the registry, as a positive vector (its
  witness);
* every guard's no: a run in which the guard is asked and says no (once
  over all scenarios);
* every class of every address and list field of each request kind and
  role (``field_classes``; once over all scenarios);
* optionally every pair of consecutive rows of one machine (2-switch);
* then every mutant of the yardstick that some vector could catch and none
  of the above does (``_adequate``), as a vector of the role it is caught in.

Runs are deduplicated (equal runs merge their goals, a run that is a prefix
of another is dropped into it), projected onto each role (the steps that
role's system under test sees), and deduplicated again after projection.
Rows no state fires, guards that never say no and field classes no run
carries are listed in the coverage report with the reason.

Everything is deterministic: goals, runs, vectors and ids come out in the
same order with the same bytes for the same model, scenario and seed.  Ids
are hashes of the content, so they survive regeneration.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import random
from dataclasses import dataclass, field
from typing import Any

from ipsecmm._files import Output, name_in_file, scenario_in_file
from ipsecmm.model import (
    NOADDR,
    NOSA,
    Action,
    Event,
    InKind,
    Input,
    Kind,
    Mode,
    Model,
    Msg,
    Peer,
    PeerState,
    Reason,
    Role,
    Row,
    SAState,
    Scenario,
    ScenarioError,
    World,
    all_rows,
    get_profile,
    group_key,
)
from ipsecmm.model._machines import base_kind
from ipsecmm.model._vocab import ADDRESS_KINDS
from ipsecmm.properties import REGISTRY, Checker, Explorer, Run, input_json
from ipsecmm.properties._runs import _bounds

ROLES = {0: "initiator", 1: "responder"}
SUTS = {v: k for k, v in ROLES.items()}
SCHEMA_ID = "https://ipsecmm.invalid/schemas/vectors-1.schema.json"


# --------------------------------------------------------------------------- goals


def _guard_label(row: Row) -> str:
    return "" if row.guard is None else row.guard.label


def _reason_of(row: Row) -> str | None:
    """The refusal reason a row gives (responder answers and initiator local
    refusals alike), or None."""
    return None if row.effect.reason is None else row.effect.reason.name


@dataclass
class Coverage:
    """First (shortest) run per goal, found by one traced exploration."""

    scenario: Scenario
    profile: str
    rows: dict[str, list[Input]] = field(default_factory=dict)
    reasons: dict[str, list[Input]] = field(default_factory=dict)
    pairs: dict[str, list[Input]] = field(default_factory=dict)
    #: first run per guarded row in which its guard is asked and says no
    #: (the input goes to a later row, or is refused)
    falses: dict[str, list[Input]] = field(default_factory=dict)
    #: first run per class of a request's field (see ``field_classes``)
    data: dict[str, list[Input]] = field(default_factory=dict)
    #: the (role, kind, field) combinations some run carries: the classes of each are the data goals
    carried: set[tuple[str, str, str]] = field(default_factory=set)
    goals: dict[str, list[Input]] = field(default_factory=dict)
    arrived: set[str] = field(default_factory=set)  # "machine:STATE:trigger" pairs some state dispatches
    asked: set[str] = field(default_factory=set)  # rows some state tries (their guard is evaluated)
    states: int = 0
    complete: bool = True


#: The classes of each kind of field (the data goals of a (role, kind, field)).
FIELD_CLASSES = {
    "address": ("whose=own", "whose=peer's", "family=same", "family=other",
                "set=current", "set=alternate", "set=absent"),
    "list": ("size=empty", "size=one", "size=several", "overlap=none", "overlap=current"),
}


def field_classes(m: Model, ps: PeerState, side: int, sa: int, fields: dict[str, int],
                  lists: dict[str, int]) -> list[tuple[str, str]]:
    """The classes of a request's fields, as (field, class), relative to the
    peer state ``ps`` that judges it: ``side`` is the peer whose addresses
    the fields name (the sender of a request, the initiator of an action),
    ``sa`` the SA they are about (its entry in ``ps``)."""
    entry = ps.sad[sa] if 0 <= sa < m.n_slots else None
    cur = 0 if entry is None else int(entry.cur_i if side == 0 else entry.cur_r)
    alt = 0 if entry is None else int(entry.alt_i if side == 0 else entry.alt_r)
    fams = {m.sc.addresses[k].family for k in range(m.n_addr) if cur >> k & 1}
    res = []
    for name, a in fields.items():
        if a == NOADDR or a >= m.n_addr:
            continue
        res.append((name, "whose=own" if m.owned[side] >> a & 1 else "whose=peer's"))
        res.append((name, "family=same" if m.sc.addresses[a].family in fams else "family=other"))
        res.append((name, "set=current" if cur >> a & 1 else "set=alternate" if alt >> a & 1 else "set=absent"))
    for name, mask in lists.items():
        n = bin(mask).count("1")
        res.append((name, "size=empty" if n == 0 else "size=one" if n == 1 else "size=several"))
        res.append((name, "overlap=current" if mask & cur else "overlap=none"))
    return res


#: The request kinds whose messages carry a list of addresses.
_LISTS = (Kind.SET_ALT, Kind.CHECK_ALT, Kind.MOBIKE_ADDITIONAL)


def data_goals(m: Model, w: World, inp: Input) -> list[tuple[tuple[str, str, str], str]]:
    """The data goals an input meets: a request delivered to a responder, or
    an action a user asks of an initiator, with each field's class."""
    if inp.kind == InKind.ACT and inp.act is not None:
        x = inp.act
        role, kind, ps, side = "initiator", Action(x.trigger.value).name, w.peers[inp.peer], inp.peer
        fields = {"old": int(x.old), "new": int(x.new)}
        lists = {"addresses": int(x.addrs)} if Action(x.trigger.value) in (Action.SET_ALT, Action.CHECK_ALT) else {}
        sa = int(x.sa)
    elif inp.kind == InKind.DELIVER:
        msg = w.chan[inp.peer][inp.idx]
        if msg.resp or Kind(int(msg.kind)) not in ADDRESS_KINDS:
            return []
        role, kind, ps, side = "responder", Kind(int(msg.kind)).name, w.peers[1 - inp.peer], inp.peer
        fields = {"old": int(msg.old), "new": int(msg.new)}
        lists = {"addresses": int(msg.addrs)} if Kind(int(msg.kind)) in _LISTS else {}
        sa = int(msg.sa)
    else:
        return []
    return [((role, kind, f), c) for f, c in field_classes(m, ps, side, sa, fields, lists)]


def data_name(key: tuple[str, str, str], cls: str) -> str:
    return f"{key[0]}:{key[1]}.{key[2]}:{cls}"


def is_data_name(name: str) -> bool:
    """Whether ``name`` is one ``data_name`` can write (for vector files' ``covers``)."""
    role, _, rest = name.partition(":")
    what, _, cls = rest.partition(":")
    kind, _, fld = what.partition(".")
    known = Kind.__members__ if role == "responder" else Action.__members__ if role == "initiator" else {}
    return kind in known and fld in ("old", "new", "addresses") and \
        cls in FIELD_CLASSES["list" if fld == "addresses" else "address"]


def traced_coverage(sc: Scenario, profile: str, pairs: bool = False,
                    goals: tuple[tuple[str, Any], ...] = ()) -> Coverage:
    """Explore ``sc`` exhaustively, recording the first run that fires each
    row, each refusal reason, each capability goal of ``goals`` (step
    predicates) and (optionally) each consecutive pair of rows of a machine.

    Rows that leave the world as it was (an initiator refusing an action
    locally) are no edge of the state graph, so they are caught where the
    successors are computed, not on the edges."""
    m = Model(sc, get_profile(profile, sc.options))
    cov = Coverage(sc, profile)
    open_goals = list(goals)
    by_name = all_rows(m)
    names = {id(r): k for k, r in by_name.items()}
    cache: dict[Any, Any] = {}
    last_rows: dict[int, tuple[str, ...]] = {0: ()}
    traced_rows: dict[tuple[int, Input], tuple[tuple[str, ...], tuple[str, ...]]] = {}
    ex = Explorer(m)

    def note(fired: tuple[str, ...], i: int, inp: Input, falses: tuple[str, ...] = ()) -> list[Input] | None:
        run = None
        for name in falses:
            if name not in cov.falses:
                run = run or [*ex.run_to(i), inp]
                cov.falses[name] = run
        for name in fired:
            if name not in cov.rows:
                run = run or [*ex.run_to(i), inp]
                cov.rows[name] = run
            reason = _reason_of(by_name[name])
            if reason and reason not in cov.reasons:
                run = run or [*ex.run_to(i), inp]
                cov.reasons[reason] = run
        return run

    def data(i: int, w: World, inp: Input) -> None:
        for key, cls in data_goals(m, w, inp):
            cov.carried.add(key)
            name = data_name(key, cls)
            if name not in cov.data:
                cov.data[name] = [*ex.run_to(i), inp]

    fired: list[Row] = []  # rows the input being tried fired, in order
    said_no: list[Row] = []  # guarded rows it was tried on that did not take it

    def fire(model: Model, ps: PeerState, p: int, role: Role, x: Any, out: Any) -> Any:
        key = (id(ps), p, role, x)
        hit = cache.get(key)
        if hit is None or hit[0] is not ps:
            row, res = model.dispatch(ps, p, role, x, None)
            part = ps.ini if role == Role.INITIATOR else ps.rsp
            tried = model.rows.get((int(role), int(x.trigger), int(part.st)), ())
            before = tried[:tried.index(row)] if row is not None else tried
            hit = cache[key] = (ps, row, res, tuple(r for r in before if r.guard is not None))
            cov.asked.update(names[id(r)] for r in (*before, *(() if row is None else (row,))))
            cov.arrived.add(group_key(role, part.st, x.trigger))
        if hit[1] is not None:
            fired.append(hit[1])
        said_no.extend(hit[3])
        return hit[2]

    def traced(w: World) -> list[tuple[Input, World]]:
        res = []
        for inp in m.inputs(w):
            fired.clear()
            said_no.clear()
            w2 = m._env[inp.kind](w, inp, None, fire)
            rows = tuple(names[id(r)] for r in fired)
            falses = tuple(names[id(r)] for r in said_no)
            if w2 is not None and w2 != w:
                res.append((inp, m.canonical(w2)))
                traced_rows[(id(w), inp)] = (rows, falses)
            elif (rows or falses) and inp.kind == InKind.ACT:
                note(rows, ex.index[w], inp, falses)
                data(ex.index[w], w, inp)
        return res

    m_successors = m.successors
    m.successors = traced
    try:

        def on_edge(i: int, w: World, inp: Input, j: int, w2: World) -> None:
            fired, falses = traced_rows.pop((id(w), inp), ((), ()))
            if inp.kind in (InKind.ACT, InKind.DELIVER):
                data(i, w, inp)
            if open_goals and inp.kind == InKind.DELIVER:
                for name, goal in list(open_goals):
                    if goal(m, w, inp, w2):
                        cov.goals[name] = [*ex.run_to(i), inp]
                        open_goals.remove((name, goal))
            if not fired and not falses:
                return
            run = note(fired, i, inp, falses)
            if not fired:
                return
            if pairs:
                before = last_rows.get(i, ())
                for a in before:
                    for b in fired:
                        if a.split(":")[0] == b.split(":")[0]:
                            key = f"{a} -> {b}"
                            if key not in cov.pairs:
                                run = run or [*ex.run_to(i), inp]
                                cov.pairs[key] = run
                if j not in last_rows:
                    last_rows[j] = fired

        stats = ex.run(on_edge=on_edge)
    finally:
        m.successors = m_successors
    cov.states = stats.states
    cov.complete = stats.complete
    return cov


# --------------------------------------------------------------------------- runs to vectors


@dataclass
class Source:
    """A run and the goals it covers."""

    run: Run
    goals: set[str]
    #: the SUTs whose vectors it makes (0 initiator, 1 responder); None: both
    roles: tuple[int, ...] | None = None


def _roles(a: tuple[int, ...] | None, b: tuple[int, ...] | None) -> tuple[int, ...] | None:
    return None if a is None or b is None else tuple(sorted(set(a) | set(b)))


def merge_runs(sources: list[Source]) -> list[Source]:
    """One source per distinct run; a run that is a prefix of another gives its
    goals to the longer one (the longer run covers them on the way)."""
    models: dict[tuple[str, str, str], Model] = {}
    keys: dict[int, tuple[Any, ...]] = {}

    def key_of(run: Run) -> tuple[Any, ...]:
        if id(run) not in keys:
            opts = json.dumps(vars(run.scenario.options), sort_keys=True)
            mk = (run.scenario.name, run.profile, opts)
            if mk not in models:
                models[mk] = run.model()
            m = models[mk]
            keys[id(run)] = (*mk, tuple(json.dumps(input_json(m, i), sort_keys=True) for i in run.inputs))
        return keys[id(run)]

    by_key: dict[tuple[Any, ...], Source] = {}
    for s in sources:
        key = key_of(s.run)
        if key in by_key:
            by_key[key].goals |= s.goals
            by_key[key].roles = _roles(by_key[key].roles, s.roles)
        else:
            by_key[key] = Source(s.run, set(s.goals), s.roles)
    merged = sorted(by_key.values(), key=lambda s: (len(s.run.inputs), key_of(s.run)))
    keep: list[Source] = []
    for k, s in enumerate(merged):
        ka = key_of(s.run)
        longer = [t for t in merged[k + 1:] if _prefix(ka, key_of(t.run))]
        if longer:
            longer[0].goals |= s.goals
            longer[0].roles = _roles(longer[0].roles, s.roles)
        else:
            keep.append(s)
    return sorted(keep, key=lambda s: key_of(s.run))


def _prefix(ka: tuple[Any, ...], kb: tuple[Any, ...]) -> bool:
    return ka[:3] == kb[:3] and len(ka[3]) < len(kb[3]) and kb[3][: len(ka[3])] == ka[3]


def _addr(m: Model, a: Any) -> str | None:
    a = int(a)
    return None if a == NOADDR or a >= m.n_addr else m.sc.addresses[a].ip


def _names(m: Model, mask: int) -> list[str]:
    return m.sc.names(int(mask))


NOTIFY = {
    Kind.MOBIKE_UPDATE: "UPDATE_SA_ADDRESSES",
    Kind.MOBIKE_ADDITIONAL: "ADDITIONAL_ADDRESSES",
    Kind.RR_CHALLENGE: "COOKIE2",
    Kind.PROBE: "COOKIE2",
    Kind.DELETE: "DELETE",
    Kind.CREATE: "CREATE_CHILD_SA",
}


def message(m: Model, msg: Msg) -> dict[str, Any]:
    """The abstract message of the vectors (see the schema)."""
    kind = Kind(int(msg.kind))
    d: dict[str, Any] = {
        "exchange": "CREATE_CHILD_SA" if kind == Kind.CREATE else "INFORMATIONAL",
        "message_id": int(msg.mid),
        "response": bool(msg.resp),
        "kind": kind.name,
        "notify": NOTIFY.get(kind, f"MM_{base_kind(kind).name}" + ("_CHECK" if base_kind(kind) != kind else "")),
        "src": _addr(m, msg.src),
        "dst": _addr(m, msg.dst),
        "protected": bool(msg.prot),
    }
    if msg.resp:
        d["reason"] = Reason(int(msg.reason)).name
    else:
        sa = int(msg.sa)
        if sa < m.n_slots:
            d["sa"] = m.sc.slots[sa].name
        elif sa != NOSA:
            d["sa"] = "*"
        if int(msg.old) != NOADDR:
            d["old"] = _addr(m, msg.old)
        if int(msg.new) != NOADDR:
            d["new"] = _addr(m, msg.new)
        if kind in (Kind.SET_ALT, Kind.CHECK_ALT, Kind.MOBIKE_ADDITIONAL):
            d["addresses"] = [m.sc.addresses[k].ip for k in range(m.n_addr) if int(msg.addrs) >> k & 1]
    return d


def snapshot(m: Model, ps: PeerState) -> dict[str, Any]:
    """A peer's SAD and SPD, by SA name (absent slots left out)."""
    sad = {}
    for k, e in enumerate(ps.sad):
        if e.state == SAState.ABSENT:
            continue
        entry: dict[str, Any] = {"state": SAState(int(e.state)).name.lower(), "keys": int(e.gen)}
        if e.state != SAState.DELETED:
            # A tunnel SA's selectors are the subnets behind the outer
            # addresses: they cover none of the scenario's addresses, and an
            # implementation that rewrites them on a move shows it here
            # (draft 10.3.1; EXT-MODES).
            entry.update({"i": _names(m, e.cur_i), "r": _names(m, e.cur_r), "i_alternates": _names(m, e.alt_i),
                          "r_alternates": _names(m, e.alt_r), "sends_to": _names(m, e.out),
                          "spd": {"i": _names(m, ps.spd[k].sel_i), "r": _names(m, ps.spd[k].sel_r)}})
        sad[m.sc.slots[k].name] = entry
    return sad


def outcome_of(events: list[Event], sut: int) -> dict[str, Any] | None:
    for ev in events:
        if ev.peer == sut and ev.what == "answer":
            return {"answer": Reason(int(ev.reason)).name}
        if ev.peer == sut and ev.what == "refuse" and ev.detail in ("initiator", "IKE_SA considered dead"):
            return {"local": Reason(int(ev.reason)).name}
    return None


def vector_step(m: Model, w: World, inp: Input, events: list[Event], w2: World, sut: int) -> dict[str, Any] | None:
    """One step of a run seen by ``sut`` (``w`` --``inp``--> ``w2``, saying
    ``events``): what the tester does and what the SUT must do, or None when
    the SUT sees nothing of it (the tester's own machine, the network between
    the tester's addresses, a message to the tester)."""
    k = inp.kind
    step: dict[str, Any] | None = None
    if k == InKind.ACT and inp.peer == sut:
        act = input_json(m, inp)
        step = {"actor": "user", "input": {k: v for k, v in act.items() if k not in ("input", "peer")}}
    elif k == InKind.DELIVER and inp.peer != sut:
        step = {"actor": "tester", "input": {"deliver": message(m, w.chan[inp.peer][inp.idx])}}
    elif k == InKind.TIMEOUT and inp.peer == sut:
        step = {"actor": "timer", "input": {"timer": "retransmission"}}
    elif k == InKind.RR_TIMEOUT and inp.peer == sut:
        step = {"actor": "timer", "input": {"timer": "return_routability"}}
    elif k == InKind.PATH_DEAD and inp.peer == sut:
        dead = m.owned[1 - sut] & ~w.up
        step = {"actor": "network", "input": {"dead": [m.sc.addresses[a].ip for a in range(m.n_addr) if dead >> a & 1]}}
    elif k in (InKind.LOSE, InKind.GAIN) and m.owned[sut] >> inp.idx & 1:
        step = {"actor": "network", "input": {"interface": m.sc.addresses[inp.idx].ip, "up": k == InKind.GAIN}}
    if step is None:
        return None
    sends = [message(m, ev.msg) for ev in events if ev.what == "send" and ev.peer == sut]
    expect: dict[str, Any] = {"sends": sends, "sad": snapshot(m, w2.peers[sut])}
    outcome = outcome_of(events, sut)
    if outcome is not None:
        expect["outcome"] = outcome
    step["expect"] = expect
    return step


def vector_steps(run: Run, sut: int) -> list[dict[str, Any]]:
    """The run seen by ``sut``: what the tester does, what the SUT must do."""
    m = run.model()
    steps = []
    for w, inp, events, w2 in run.replay():
        step = vector_step(m, w, inp, events, w2, sut)
        if step is not None:
            steps.append(step)
    return steps


def vector_result(steps: list[dict[str, Any]], initial_sad: dict[str, Any]) -> str:
    """``invalid`` when the SUT's last step refuses or discards what it
    brings, else ``valid``; read from the steps alone, so that anyone can
    check a vector's ``result``.  Refusing shows as a local outcome other
    than OK (GAVE_UP included) or an answer with a refusal reason, except
    the cached answer a retransmitted request gets again; discarding a
    message shows as nothing sent, nothing reported and the SAD unchanged
    (``initial_sad``: the SAD before the first step)."""
    last, exp = steps[-1], steps[-1]["expect"]
    before = steps[-2]["expect"]["sad"] if len(steps) > 1 else initial_sad
    if exp.get("outcome", {}).get("local", "OK") != "OK":
        return "invalid"
    refuses = any(s["response"] and s.get("reason", "OK") != "OK" for s in exp["sends"])
    if last["actor"] != "tester":
        return "invalid" if refuses else "valid"
    msg = abstract(last["input"]["deliver"])
    again = any(st["actor"] == "tester" and abstract(st["input"]["deliver"]) == msg for st in steps[:-1])
    if refuses and not again:
        return "invalid"
    quiet = not exp["sends"] and "outcome" not in exp and exp["sad"] == before
    return "invalid" if quiet else "valid"


def abstract(msg: dict[str, Any]) -> dict[str, Any]:
    """A message of a vector without its bytes (``hex``)."""
    return {k: v for k, v in msg.items() if k != "hex"}


def abstract_steps(steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``steps`` without the messages' bytes: what a vector's id hashes (the
    bytes follow the keys, which follow the seed; the id does not)."""
    out = []
    for st in steps:
        x = st["input"]
        if st["actor"] == "tester" and isinstance(x.get("deliver"), dict):
            x = {**x, "deliver": abstract(x["deliver"])}
        exp = {**st["expect"], "sends": [abstract(d) for d in st["expect"]["sends"]]}
        out.append({**st, "input": x, "expect": exp})
    return out


def scenario_doc(sc: Scenario) -> dict[str, Any]:
    """The scenario of a test group, in the shape of a scenario TOML file, so
    that ``scenario_from_doc`` reads it back through the same validation."""
    addresses = [{"name": a.name, "owner": a.owner.name, "family": "v6" if a.family else "v4", "network": a.network,
                  "ip": a.ip, "up": a.up} for a in sc.addresses]

    def sides(s: Any) -> dict[str, Any]:
        d: dict[str, Any] = {"i_addrs": sc.names(s.cur_i), "r_addrs": sc.names(s.cur_r)}
        if s.alt_i:
            d["i_alternates"] = sc.names(s.alt_i)
        if s.alt_r:
            d["r_alternates"] = sc.names(s.alt_r)
        return d

    sas = []
    for s in sc.slots[1:]:
        d: dict[str, Any] = {"name": s.name, "mode": s.mode.name.lower(), "protection": s.protection.name.lower(),
                             "state": s.state.name.lower(), **sides(s)}
        if s.mode == Mode.TRANSPORT:
            d["spd"] = {p.name: sc.names(s.spd_allow[p]) for p in Peer}
        sas.append(d)
    peers = {}
    for p in Peer:
        cfg = sc.peers[p]
        peers[p.name] = {"pad": sc.names(cfg.pad), "network": {
            net: {"accept": pol.accept, "require_rr": pol.require_rr, "min_protection": pol.min_protection.name.lower()}
            for net, pol in sorted(cfg.networks.items())}}
    bounds = _bounds(sc)
    return {"scenario": {"name": sc.name, "description": sc.description}, "address": addresses,
            "ike": sides(sc.slots[0]), "sa": sas, "peer": peers, "bounds": bounds,
            "options": dict(sorted(vars(sc.options).items()))}


def scenario_from_doc(doc: Any, source: str) -> Scenario:
    """Read a test group's scenario back (raises ``ScenarioError`` naming
    ``source`` and the key when it is not a valid scenario)."""
    from ipsecmm.model._scenario import _build, _Reader

    return _build(doc, _Reader(source))


def spis(sc: Scenario, seed: int) -> dict[str, dict[str, str]]:
    """SPIs for the group's SAs.  The model has no SPIs (they never decide
    anything); vectors carry them so an implementation can key its SAD.
    Drawn from the seed, so a different seed gives different values."""
    rng = random.Random(f"{sc.name}/{seed}")
    return {s.name: {"i": f"{rng.getrandbits(32):08x}", "r": f"{rng.getrandbits(32):08x}"} for s in sc.slots[1:]}


def vector_id(doc: dict[str, Any]) -> str:
    body = json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(body).hexdigest()[:16]


# --------------------------------------------------------------------------- the generator


@dataclass
class Generated:
    files: dict[str, str]  # relative path -> text
    coverage: dict[str, Any]
    mutants: list[str] = field(default_factory=list)  # the mutation yardstick (not written: coverage says the rest)


def generate(scenarios: list[Scenario], profile: str = "mm", seed: int = 0, pairs: bool = False,
             mutants: bool = True, jobs: int = 2) -> Generated:
    """Vectors for ``profile`` covering the rows and refusal reasons reachable
    in ``scenarios`` and the capability requirements of the registry (their
    direct goals searched in the first scenario, planned ones as planned),
    then, with ``mutants``, the vectors that make every distinguishable
    mutant of the yardstick fail one (``_adequate``; ``jobs`` worker
    processes, the result does not depend on how many)."""
    from ipsecmm.properties._registry import Capability, Comparison

    from . import _wire

    caps = [r for r in REGISTRY if r.kind == "capability" and profile in r.profiles]
    stems = file_stems(scenarios, profile)
    direct = []
    for r in caps:
        for chk in r.checks:
            if isinstance(chk, Capability) and chk.plan is None and chk.after is None:
                direct += [(f"{r.id}|{label}", goal) for label, goal in chk.goals]
    sources: list[Source] = []
    covs = [traced_coverage(sc, profile, pairs, tuple(direct) if k == 0 else ()) for k, sc in enumerate(scenarios)]
    m0 = Model(scenarios[0], get_profile(profile, scenarios[0].options))
    total_rows = all_rows(m0)
    said_no: set[str] = set()
    classes: set[str] = set()
    for cov in covs:
        for name, inputs in sorted(cov.data.items()):
            if name not in classes:  # one goal over all scenarios, as a guard's no
                classes.add(name)
                sources.append(Source(Run(cov.scenario, profile, inputs, label=f"a field of class {name}"),
                                      {f"data {name}"}))
        for name, inputs in sorted(cov.rows.items()):
            sources.append(Source(Run(cov.scenario, profile, inputs, label=f"fires {name}"), {f"row {name}"}))
        for reason, inputs in sorted(cov.reasons.items()):
            sources.append(Source(Run(cov.scenario, profile, inputs, label=f"refusal {reason}"), {f"reason {reason}"}))
        for pair, inputs in sorted(cov.pairs.items()):
            sources.append(Source(Run(cov.scenario, profile, inputs, label=f"pair {pair}"), {f"pair {pair}"}))
        # a guard's no is one goal over all scenarios (the first that gives it),
        # not one per scenario as the rows are: the suite stays lean
        for name, inputs in sorted(cov.falses.items()):
            if name not in said_no:
                said_no.add(name)
                sources.append(Source(Run(cov.scenario, profile, inputs, label=f"the guard of {name} says no"),
                                      {f"guard-false {name}"}))
    cap_status: dict[str, str] = {}
    found = covs[0].goals
    checker = Checker(scenarios[0], None, z3_engine=False)
    for r in caps:
        ok = True
        for chk in r.checks:
            if isinstance(chk, Capability) and chk.plan is None and chk.after is None:
                for label, _ in chk.goals:
                    witness = found.get(f"{r.id}|{label}")
                    if witness is None:
                        ok = False
                    else:
                        sources.append(Source(Run(scenarios[0], profile, witness, label=f"witness: {label}"),
                                              {f"requirement {r.id}"}))
            else:
                v = checker.check_comparison(r, chk, profile) if isinstance(chk, Comparison) \
                    else checker.check_capability(r, chk, profile) if isinstance(chk, Capability) else None
                if v is None or v.status != "holds":
                    ok = False
                    continue
                sources += [Source(run, {f"requirement {r.id}"}) for run in v.runs]
        cap_status[r.id] = "holds" if ok else "violated"
    merged = merge_runs(sources)
    projected = _project(merged)
    adequacy = None
    given = {sc.name: sc for sc in scenarios}
    if mutants:
        from ._adequate import adequate

        # every canonical vector is run as the reference adapter runs it: on
        # its group's scenario
        docs = _group_scenarios(projected, given)
        canonical = [(docs[scn], SUTS[role], c["steps"]) for (scn, role), cands in sorted(projected.items())
                     for c in cands]
        adequacy = adequate(profile, scenarios, canonical, jobs)
        for scn, sut, inputs, names in adequacy.runs:
            label = f"catches mutant {names[0]}" + (f" (+{len(names) - 1} more)" if len(names) > 1 else "")
            sources.append(Source(Run(given[scn], profile, inputs, label=label), {f"mutant {n}" for n in names},
                                  roles=(sut,)))
        merged = merge_runs(sources)
        projected = _project(merged)
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    scenario_docs: dict[str, dict[str, Any]] = {}
    itf: dict[str, str] = {}
    docs = _group_scenarios(projected, given)
    for (scn, role), cands in sorted(projected.items()):
        for c in cands:
            run, steps, goals = c["run"], c["steps"], c["goals"]
            reqs = sorted(g.split(" ", 1)[1] for g in goals if g.startswith("requirement "))
            covers = sorted(g for g in goals if not g.startswith("requirement "))
            body = {"scenario": scn, "options": vars(run.scenario.options), "profile": profile, "role": role,
                    "steps": steps}
            vid = vector_id(body)  # of the abstract steps: the keys (and so the bytes) follow the seed, the id does not
            session = _wire.session_for(run.scenario, profile, seed)
            _wire.add_hex(steps, role, session)
            m = run.model()
            initial = snapshot(m, m.initial().peers[0 if role == ROLES[0] else 1])
            # The profile is part of a trace's name: the same inputs give other
            # states under another profile, and profiles may share a directory.
            inputs = [input_json(m, i) for i in run.inputs]
            trace = f"itf/{vector_id({'profile': profile, 'scenario': scn, 'inputs': inputs})}.itf.json"
            groups.setdefault((scn, role), []).append({
                "id": vid, "title": _title(run.label, reqs, covers), "requirements": reqs, "covers": covers,
                "reasons": reasons_in(steps), "result": vector_result(steps, initial),
                "comment": f"{run.label}; " + (
                    f"the shortest run to a step where the mutant, as the {role}, does otherwise than the model"
                    if covers and not reqs and all(g.startswith("mutant ") for g in covers) else
                    f"the shortest run found breadth-first, seen from the {role}"),
                "trace": trace, "steps": steps})
            # A capability's search plan may change a scenario's bounds and keep
            # its name: the group's configuration is the scenario itself (the
            # budgets bound runs, not implementations; the adapter refreshes them).
            base = docs[scn]
            scenario_docs[scn] = {"scenario": scenario_doc(base), "spis": spis(base, seed),
                                  "wire": _wire.session_for(base, profile, seed).to_json()}
            itf[trace] = _dump(run.to_itf(), compact=True)
    files: dict[str, str] = {}
    for (scn, role), tests in sorted(groups.items()):
        tests.sort(key=lambda t: t["id"])
        for k, t in enumerate(tests, 1):
            t["tcId"] = k
        doc = {"$schema": SCHEMA_ID, "generator": "ipsecmm", "profile": profile, "numberOfTests": len(tests),
               "notes": {"valid": "the SUT accepts what the run asks and ends in the expected state",
                         "invalid": "the SUT must refuse or discard what the last step brings, as its expectations say"},
               "testGroups": [{"role": role, **scenario_docs[scn], "tests": tests}]}
        files[f"{profile}-{stems.get(scn) or name_in_file(scn)}-{role}.json"] = _dump(doc)
    files.update(itf)
    coverage = _coverage(covs, total_rows, [t for ts in groups.values() for t in ts], cap_status, profile, pairs)
    coverage["mutants"] = None if adequacy is None else {
        **adequacy.report, "vectors": sum(1 for ts in groups.values() for t in ts
                                          if any(g.startswith("mutant ") for g in t["covers"]))}
    files[coverage_file(profile)] = _dump(coverage)
    return Generated(files, coverage, [] if adequacy is None else adequacy.names)


def _group_scenarios(projected: dict[tuple[str, str], list[dict[str, Any]]],
                     given: dict[str, Scenario]) -> dict[str, Scenario]:
    """The scenario each group of vectors is configured with: the given one
    of that name, else (a capability's plan on another built-in scenario)
    the first vector's."""
    docs: dict[str, Scenario] = {}
    for (scn, _), cands in sorted(projected.items()):
        docs.setdefault(scn, given.get(scn) or cands[0]["run"].scenario)
    return docs


def _title(label: str, reqs: list[str], covers: list[str]) -> str:
    if reqs:
        return f"{', '.join(reqs)}: {label.removeprefix('witness: ')}"
    # a mutant goal names the vector only when it covers nothing else
    lead = sorted(covers, key=lambda g: 2 if g.startswith("mutant ") else 1 if g.startswith(("data ", "guard-false "))
                  else 0)
    first = lead[0].split(" ", 1)[1] if lead else label
    kind = lead[0].split(" ", 1)[0] if lead else ""
    text = {"reason": f"refusal {first}", "row": f"transition {first}", "pair": f"transitions {first}",
            "guard-false": f"the guard of {first} says no", "data": f"field class {first}",
            "mutant": f"catches mutant {first}"}.get(kind, first)
    return text + (f" (+{len(covers) - 1} more)" if len(covers) > 1 else "")


def reasons_in(steps: list[dict[str, Any]]) -> list[str]:
    """The refusal codes the SUT must send or report somewhere in ``steps``."""
    found = set()
    for st in steps:
        exp = st["expect"]
        found |= {m["reason"] for m in exp["sends"] if m.get("reason", "OK") != "OK"}
        found |= {v for v in exp.get("outcome", {}).values() if v != "OK"}
    return sorted(found)


def _project(merged: list[Source]) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """Each run seen from each role, deduplicated again at that level: two runs
    that differ only in what the tester does unseen give the same vector, and
    a vector whose steps begin another's gives that one its goals."""
    out: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for src in merged:
        for sut in (0, 1) if src.roles is None else src.roles:
            steps = vector_steps(src.run, sut)
            if steps:
                key = [json.dumps(st, sort_keys=True) for st in steps]
                out.setdefault((src.run.scenario.name, ROLES[sut]), []).append(
                    {"run": src.run, "steps": steps, "goals": set(src.goals), "key": key})
    for group, cands in out.items():
        cands.sort(key=lambda c: (len(c["key"]), c["key"]))
        kept: list[dict[str, Any]] = []
        for k, c in enumerate(cands):
            longer = next((d for d in cands[k + 1:] if d["key"][: len(c["key"])] == c["key"]), None)
            if longer is not None:
                longer["goals"] |= c["goals"]
            else:
                kept.append(c)
        out[group] = kept
    return out


# Why a class of rows no run fires, for the coverage report.  Each entry is
# checked against the exploration: it is only given for a row that no state
# of any scenario fired.
_WHY = {
    "unprotected": "the attacker of the scenarios forges one request kind (the profile's strongest: ADD in mm) "
                   "and forged answers; every other kind meets this same first check",
    "unexpected message ID": "with a window of 1 and one message in flight per direction, no request arrives "
                             "with a message ID that is neither the next nor the last one",
    "request being verified": "only a request that needs return routability puts the responder in RR_WAIT, and "
                              "with a window of 1 the only request that can arrive then is its own retransmission",
}


def _coverage(covs: list[Coverage], total_rows: dict[str, Row], tests: list[dict[str, Any]], cap_status: dict[str, str],
              profile: str, pairs: bool) -> dict[str, Any]:
    goals = {g for t in tests for g in t["covers"]}
    covered_rows = {g.split(" ", 1)[1] for g in goals if g.startswith("row ")}
    covered_reasons = {g.split(" ", 1)[1] for g in goals if g.startswith("reason ")}
    witnessed = {r for t in tests for r in t["requirements"]}
    arrived = set().union(*(c.arrived for c in covs))
    fired = set().union(*(c.rows for c in covs))
    said_no = set().union(*(c.falses for c in covs))
    asked = set().union(*(c.asked for c in covs))
    covered_false = {g.split(" ", 1)[1] for g in goals if g.startswith("guard-false ")}
    where = f"exhaustive over {', '.join(c.scenario.name for c in covs)} ({sum(c.states for c in covs):,} states)"
    machines = {}
    for machine in ("initiator", "responder"):
        names = [n for n in total_rows if n.startswith(machine + ":")]
        unreachable = {}
        for n in names:
            if n in fired:
                continue
            row = total_rows[n]
            group = n.rsplit("#", 1)[0]
            _, state, trig = group.split(":")
            if group not in arrived:
                why = f"no {trig} ever reaches the {machine} in {state}"
            elif row.guard is None:
                why = f"{trig} reaches {state} but an earlier row always takes it"
            else:
                why = f"{trig} reaches {state} but the guard '{row.guard.label}' never holds there first"
            if group not in arrived and state == "RR_WAIT":
                hint: str | None = _WHY["request being verified"]
            elif row.effect.label == "discard(message ID)":
                hint = _WHY["unexpected message ID"]
            else:
                hint = _WHY.get(row.guard.label if row.guard else "")
            unreachable[n] = f"{why}; {where}" + (f". Likely because {hint}" if hint else "")
        covered = [n for n in names if n in covered_rows]
        guarded = [n for n in names if total_rows[n].guard is not None]
        never_no = {n: (f"the guard '{_guard_label(total_rows[n])}' is asked but never says no"
                        if n in asked else "the row is never tried") + f"; {where}"
                    for n in guarded if n not in said_no}
        machines[machine] = {"total": len(names), "reachable": sum(1 for n in names if n in fired),
                             "covered": len(covered), "unreachable": unreachable,
                             "guards": {"total": len(guarded), "yes": sum(1 for n in guarded if n in covered_rows),
                                        "no": sum(1 for n in guarded if n in covered_false),
                                        "never_no": never_no}}
    carried = set().union(*(c.carried for c in covs))
    universe = [data_name(key, cls) for key in sorted(carried)
                for cls in FIELD_CLASSES["list" if key[2] == "addresses" else "address"]]
    covered_data = {g.split(" ", 1)[1] for g in goals if g.startswith("data ")}
    refusal_reasons = [r.name for r in Reason if 1 <= r.value < 20 or r.name in ("NO_SOURCE", "GAVE_UP")]
    caps = sorted(cap_status)
    return {
        "profile": profile,
        "scenarios": [c.scenario.name for c in covs],
        "complete": all(c.complete for c in covs),
        "transitions": machines,
        "reasons": {"total": len(refusal_reasons), "covered": sum(1 for r in refusal_reasons if r in covered_reasons),
                    "uncovered": {r: f"no run refuses with it ({where})" for r in refusal_reasons
                                  if r not in covered_reasons}},
        "requirements": {"total": len(caps), "covered": sum(1 for c in caps if c in witnessed),
                         "uncovered": {c: ("no witness vector" if cap_status[c] == "holds" else
                                           f"the capability is {cap_status[c]} in {profile}")
                                       for c in caps if c not in witnessed}},
        "data": {"total": len(universe), "covered": sum(1 for d in universe if d in covered_data),
                 "uncovered": {d: f"no run carries such a field ({where}): the peers of the scenarios send and "
                                  "ask what a conforming peer and user would" for d in universe
                               if d not in covered_data}},
        "pairs": {"covered": len({g for g in goals if g.startswith("pair ")})} if pairs else None,
        "vectors": len(tests),
        "steps": sum(len(t["steps"]) for t in tests),
    }


def summary_rows(cov: dict[str, Any]) -> list[tuple[str, str]]:
    """The coverage summary as (what, figures) lines: printed by ``ipsecmm
    vectors`` and shown by the report."""
    where = coverage_file(cov["profile"])
    rows = [(f"{machine} transitions", f"{t['covered']} covered / {t['reachable']} reachable / {t['total']} in the table"
             + (f" ({len(t['unreachable'])} unreachable, each with its reason in {where})" if t["unreachable"] else ""))
            for machine, t in cov["transitions"].items()]
    for machine, t in cov["transitions"].items():
        g = t.get("guards")
        if g:
            rows.append((f"{machine} guards", f"{g['yes']} seen saying yes, {g['no']} saying no, of {g['total']}"
                         + (f" ({len(g['never_no'])} never say no, each with the reason in {where})"
                            if g["never_no"] else "")))
    if cov.get("data"):
        d = cov["data"]
        rows.append(("field classes", f"{d['covered']} / {d['total']} (class of each address and list field of "
                     f"each request kind and role; the uncovered are listed in {where})"))
    r, q = cov["reasons"], cov["requirements"]
    rows.append(("refusal reasons", f"{r['covered']} / {r['total']}"
                 + (f" (missing: {', '.join(r['uncovered'])})" if r["uncovered"] else "")))
    rows.append(("capability requirements", f"{q['covered']} / {q['total']}"
                 + (f" (missing: {', '.join(q['uncovered'])})" if q["uncovered"] else "")))
    if cov.get("pairs"):
        rows.append(("transition pairs", f"{cov['pairs']['covered']} covered"))
    mu = cov.get("mutants")
    if mu:
        pct = 100.0 * mu["caught"] / mu["distinguishable"] if mu["distinguishable"] else 100.0
        rows.append(("mutation score", f"{mu['caught']} of {mu['distinguishable']} distinguishable mutants fail a "
                                       f"vector ({pct:.1f}%); {len(mu['equivalent'])} equivalent, "
                                       f"{len(mu['inconclusive'])} inconclusive, of {mu['mutants']} "
                                       f"({mu['generated']} generated, {mu['seeded']} seeded faults)"))
    rows.append(("vectors", f"{cov['vectors']} vectors, {cov['steps']} steps, profile {cov['profile']}, "
                            f"scenarios {', '.join(cov['scenarios'])}"
                            + ("" if cov["complete"] else " (INCOMPLETE exploration)")))
    return rows


def _dump(obj: Any, compact: bool = False) -> str:
    # Traces are read by tools, vectors also by people reviewing a diff.
    if compact:
        return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n"
    return json.dumps(obj, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def coverage_file(profile: str) -> str:
    """Where in a vectors directory the coverage of ``profile``'s vectors
    lives: one file per profile, as profiles may share the directory, and in
    a folder of its own, so that readers of the vector files (``*.json`` at
    the top) never take it for one."""
    return f"coverage/{profile}.json"


def vectors_owner(profile: str) -> str:
    """The manifest owner of a profile's vectors: generating them again
    replaces them, and leaves other profiles' vectors in the directory alone."""
    return f"vectors --profile {profile}"


def file_stems(scenarios: list[Scenario], profile: str) -> dict[str, str]:
    """The part of the vector files' names each scenario name becomes: the
    given scenarios and the built-in ones the profile's capability plans
    search.  Raises ``ScenarioError`` (key ``scenario.name``) for a name that
    cannot be part of a file name, and for two scenarios whose vectors would
    land in one file."""
    from ipsecmm.model import builtin_scenario
    from ipsecmm.model._scenario import shown
    from ipsecmm.properties._registry import Capability, Comparison

    def same(a: Scenario, b: Scenario) -> bool:
        # Plans change bounds and options; what must agree is the rest.
        return dataclasses.replace(a, source="", bounds=b.bounds, options=b.options) == \
            dataclasses.replace(b, source="")

    chosen: list[Scenario] = list(scenarios)
    for r in REGISTRY:
        if r.kind != "capability" or profile not in r.profiles:
            continue
        for chk in r.checks:
            plans = [chk.plan] if isinstance(chk, Capability) else \
                [chk.capability.plan, chk.never_plan] if isinstance(chk, Comparison) else []
            for plan in plans:
                if plan is not None and plan.scenario:
                    chosen.append(builtin_scenario(plan.scenario))
    by_name: dict[str, Scenario] = {}
    by_stem: dict[str, Scenario] = {}
    stems: dict[str, str] = {}
    for k, sc in enumerate(chosen):
        if sc.name in by_name:
            other = by_name[sc.name]
            if k < len(scenarios):
                raise ScenarioError(sc.source, "scenario.name", f"{shown(sc.name)} is also the name of "
                                    f"{other.source} (vector files are named by it)")
            if not same(other, sc):
                raise ScenarioError(other.source, "scenario.name",
                                    f"{shown(sc.name)} is the name of a built-in scenario the vectors also use "
                                    "(vector files are named by it)")
            continue
        stem = scenario_in_file(sc)
        if stem in by_stem:
            other = by_stem[stem]
            raise ScenarioError(sc.source, "scenario.name",
                                f"{shown(sc.name)} and {shown(other.name)} of {other.source} give the same "
                                f"vector file names ({profile}-{stem}-*.json)")
        by_name[sc.name], by_stem[stem], stems[sc.name] = sc, sc, stem
    return stems


def write(gen: Generated, out: Output) -> None:
    """Put ``gen``'s files into ``out``; the files of the profile's previous
    vectors there that this generation no longer writes are removed when
    ``out`` closes (a vector that disappears must not linger)."""
    for rel, text in sorted(gen.files.items()):
        out.write(rel, text)


__all__ = ["Generated", "generate", "scenario_from_doc", "write"]
