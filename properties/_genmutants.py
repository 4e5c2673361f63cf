"""Mutants generated mechanically from the transition tables.

The seeded mutants (``_mutants``) are eleven plausible mistakes written by
hand.  These are every small change of one row (or one pair of rows) that the
tables admit, so that the properties are measured against mistakes nobody
thought of.  The operators, for each row of each machine of a profile:

``drop-guard``
    a guarded row fires whenever it is tried (its guard is dropped);
``negate-guard``
    a guarded row fires exactly when its guard is false;
``swap-next``
    the row and the next one of its (machine, state, trigger) group are tried
    in the opposite order;
``delete``
    the row is missing (when it was the group's last unconditional row, what
    it answered is then ignored: a group without any row that fires would have
    no defined refusal);
``reason(R)``
    a refusal row reports reason R instead of its own (see :func:`other_reason`);
``answer-ok``
    a refusal row of a check-only request answers OK instead (without any
    database change, like the accepting row of the same request);
``drop-sends``
    the row's effect sends nothing;
``drop-write(F)``
    the row's effect leaves field F of the peer state as it was before the
    effect (every SA or SPD slot for ``sad.*`` and ``spd.*``).

Which fields and sends a row's effect really writes is observed, not declared:
:func:`trace` explores a shipped scenario with the compiled dispatcher
watched, and :func:`generate` takes the union over every shipped scenario.
A field no exploration ever sees an effect change would give a mutant that
cannot differ anywhere.

A mutant is named after the row key (``row_key``: machine, state, trigger and
place in the group) and the operator, e.g.
``responder:READY:recv_update#9:negate-guard`` or
``initiator:WAIT:recv_response#2:drop-write(ini.mid)``.  The name alone says
how to build the mutant (:func:`from_name`), so a run, a vector or a
conformance adapter can name one without the generator.  Applying it rewrites
rows of a model instance through the same ``_rewrite``/``index_rows`` path as
the seeded mutants, so the compiled dispatcher, the ``transitions`` runtime and
the diagrams all see it.

Guards stay executable by the z3 encoding (negation through ``ops.lnot``),
although the verdicts in ``_adequacy`` only use the explorer.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ipsecmm.model import (
    Event,
    Kind,
    Model,
    PeerState,
    Reason,
    Role,
    Row,
    Scenario,
    Trigger,
    all_rows,
    builtin_names,
    builtin_scenario,
    get_profile,
    group_key,
    row_key,
)
from ipsecmm.model import _machines as mach
from ipsecmm.model import _ops as ops
from ipsecmm.model._machines import Effect, Guard, MInput, Out, Result
from ipsecmm.model._model import ROLE_NAMES, STATE_NAMES
from ipsecmm.model._vocab import CHECK_KINDS, LOCAL_REASONS, PRECISE_REASONS, recv_trigger

from ._diffexplore import Graph, Recorder, build
from ._explorer import Explorer
from ._mutants import Mutant, _rewrite

#: Fields of a peer state an effect may write, as ``part.field``.  The machine
#: state (``ini.st``, ``rsp.st``) is the row's destination, not the effect's.
FIELDS: tuple[str, ...] = (
    "sad.state", "sad.gen", "sad.cur_i", "sad.cur_r", "sad.alt_i", "sad.alt_r", "sad.out",
    "spd.sel_i", "spd.sel_r",
    "ini.mid", "ini.retries", "ini.req", "ini.probed",
    "rsp.mid", "rsp.cache", "rsp.pending", "rsp.verified",
)

#: The operators, in the order the generator applies them to a row.
OPERATORS: tuple[str, ...] = ("drop-guard", "negate-guard", "swap-next", "delete", "reason", "answer-ok",
                              "drop-sends", "drop-write")

#: What must happen on a scenario for a mutant of each operator to behave
#: differently there: its row *fired* (the effect or the order changes what a
#: firing does), or its row was *reached* (its guard evaluated: a changed guard
#: can make it fire where it did not).  A swap changes something only where the
#: first of the two rows fired: wherever it did not, either an earlier row fired
#: or both guards were false.
NEEDS = {"drop-guard": "reached", "negate-guard": "reached", "swap-next": "fired", "delete": "fired",
         "reason": "fired", "answer-ok": "fired", "drop-sends": "fired", "drop-write": "fired"}

_TRIGGER_KIND = {recv_trigger(k): k for k in Kind if k not in (Kind.EMPTY,)}
_NAME = re.compile(rf"^({'|'.join(ROLE_NAMES.values())}):([A-Z_]+):([a-z_]+)#(\d+):([a-z-]+)(?:\(([A-Za-z_.]+)\))?$")


# --------------------------------------------------------------------------- mutants


@dataclass(frozen=True)
class GenMutant(Mutant):
    """A generated mutant: one operator applied to one row."""

    row: str = ""  # the row key, in the original tables
    op: str = ""
    arg: str = ""  # the field of drop-write, the new reason of reason
    label: str = ""  # the row as the tables print it (filled by the generator)

    @property
    def group(self) -> str:
        return self.row.split("#")[0]

    @property
    def needs(self) -> str:
        return NEEDS[self.op]


def mutant_name(row: str, op: str, arg: str = "") -> str:
    return f"{row}:{op}({arg})" if arg else f"{row}:{op}"


def is_generated_name(name: str) -> bool:
    return _NAME.match(name) is not None


def from_name(name: str) -> GenMutant:
    """The generated mutant a name describes.  ``KeyError`` when the name is
    not one (whether the row exists is checked when it is applied)."""
    hit = _NAME.match(name)
    if hit is None:
        raise KeyError(name)
    role_name, state, trigger, index, op, arg = hit.groups()
    arg = arg or ""
    if op not in OPERATORS or (op in ("reason", "drop-write")) != bool(arg):
        raise KeyError(name)
    if op == "drop-write" and arg not in FIELDS:
        raise KeyError(name)
    if op == "reason" and arg not in Reason.__members__:
        raise KeyError(name)
    role = next(r for r, n in ROLE_NAMES.items() if n == role_name)
    if state not in STATE_NAMES[role] or trigger.upper() not in Trigger.__members__:
        raise KeyError(name)
    row = f"{role_name}:{state}:{trigger}#{index}"
    spot = (role, STATE_NAMES[role].index(state), Trigger[trigger.upper()], int(index))
    return GenMutant(name, _mistake(row, op, arg), _applier(spot, op, arg, name), row=row, op=op, arg=arg)


def _mistake(row: str, op: str, arg: str) -> str:
    return {
        "drop-guard": f"row {row} fires without checking its guard",
        "negate-guard": f"row {row} fires exactly when its guard is false",
        "swap-next": f"row {row} and the next row of its group are tried in the opposite order",
        "delete": f"row {row} is missing",
        "reason": f"row {row} reports {arg} instead of its own reason",
        "answer-ok": f"row {row} answers OK instead of refusing the check-only request",
        "drop-sends": f"row {row} sends nothing",
        "drop-write": f"row {row} does not write {arg}",
    }[op]


def _group(m: Model, role: Role, state: int, trigger: Trigger) -> list[Row]:
    return [r for r in m.rows_list[role] if r.src == state and r.trigger == trigger]


def _applier(spot: tuple[Role, int, Trigger, int], op: str, arg: str, name: str) -> Callable[[Model], None]:
    role, state, trigger, index = spot

    def apply(m: Model) -> None:
        group = _group(m, role, state, trigger)
        if index >= len(group):
            raise KeyError(f"{name}: the tables of profile {m.prof.name} have no such row")
        row = group[index]
        if op == "swap-next":
            if index + 1 >= len(group):
                raise KeyError(f"{name}: the row is the last of its group")
            nxt = group[index + 1]
            _rewrite(m, lambda r: nxt if r is row else row if r is nxt else r)
            return
        new = _mutate(m, row, group, op, arg, name)
        _rewrite(m, lambda r: new if r is row else r)

    return apply


def _mutate(m: Model, row: Row, group: list[Row], op: str, arg: str, name: str) -> Row | None:
    if op in ("drop-guard", "negate-guard"):
        if row.guard is None:
            raise KeyError(f"{name}: the row has no guard")
        if op == "drop-guard":
            return dataclasses.replace(row, guard=None)
        g = row.guard
        return dataclasses.replace(row, guard=Guard(f"not ({g.label})", lambda mm, ps, p, x: ops.lnot(g(mm, ps, p, x))))
    if op == "delete":
        if row.guard is None and not any(r.guard is None for r in group if r is not row):
            return Row(row.role, row.src, row.trigger, None, Effect("ignore (row deleted)", _ignore), row.src)
        return None
    if op == "reason":
        if row.effect.reason is None:
            raise KeyError(f"{name}: the row refuses nothing")
        return dataclasses.replace(row, effect=_with_reason(row.effect, row.role, row.effect.reason, Reason[arg]))
    if op == "answer-ok":
        kind = _TRIGGER_KIND.get(row.trigger)
        if row.effect.reason is None or kind not in CHECK_KINDS:
            raise KeyError(f"{name}: not a refusal of a check-only request")
        return dataclasses.replace(row, effect=mach.e_accept(kind))
    if op == "drop-sends":
        return dataclasses.replace(row, effect=_without_sends(row.effect))
    if op == "drop-write":
        return dataclasses.replace(row, effect=_without_write(row.effect, arg))
    raise KeyError(name)  # pragma: no cover - from_name checked the operator


def _ignore(m: Model, ps: PeerState, p: int, x: MInput, out: Out) -> Result:
    if out is not None and x.msg.kind != Kind.EMPTY:
        out.append(Event("discard", p, x.msg, detail="no row left"))
    return ps, ()


def _without_sends(inner: Effect) -> Effect:
    def fn(m: Model, ps: PeerState, p: int, x: MInput, out: Out) -> Result:
        buf: list[Event] | None = None if out is None else []
        ps2, _ = inner(m, ps, p, x, buf)
        if out is not None and buf is not None:
            out.extend(ev for ev in buf if ev.what != "send")
        return ps2, ()

    return Effect(f"{inner.label}, sending nothing", fn, inner.reason)


def revert(before: PeerState, after: PeerState, name: str) -> PeerState:
    """``after`` with field ``name`` (one of :data:`FIELDS`) as in ``before``."""
    part, f = name.split(".")
    if part in ("sad", "spd"):
        old, new = getattr(before, part), getattr(after, part)
        fixed = tuple(b._replace(**{f: getattr(a, f)}) for a, b in zip(old, new, strict=True))
        return after._replace(**{part: fixed})
    return after._replace(**{part: getattr(after, part)._replace(**{f: getattr(getattr(before, part), f)})})


def _without_write(inner: Effect, name: str) -> Effect:
    def fn(m: Model, ps: PeerState, p: int, x: MInput, out: Out) -> Result:
        ps2, sends = inner(m, ps, p, x, out)
        return revert(ps, ps2, name), sends

    return Effect(f"{inner.label}, not writing {name}", fn, inner.reason)


def _with_reason(inner: Effect, role: Role, old: Reason, new: Reason) -> Effect:
    """``inner`` with every trace of refusal ``old`` turned into ``new``: the
    answer sent and cached (wire code as the profile codes ``new`` for the
    request's kind, and the ghost ``why``) and the refusal event."""

    def fix(m: Model, msg: Any) -> Any:
        if msg.resp and msg.why == old:
            return msg._replace(why=new, reason=m.prof.wire_reason(Kind(int(msg.kind)), new))
        return msg

    def fn(m: Model, ps: PeerState, p: int, x: MInput, out: Out) -> Result:
        buf: list[Event] | None = None if out is None else []
        ps2, sends = inner(m, ps, p, x, buf)
        sends = tuple(fix(m, s) for s in sends)
        if ps2.rsp.cache is not ps.rsp.cache:
            ps2 = ps2._replace(rsp=ps2.rsp._replace(cache=fix(m, ps2.rsp.cache)))
        if out is not None and buf is not None:
            for ev in buf:
                if ev.what == "refuse" and role == Role.RESPONDER:
                    ev = ev._replace(reason=m.prof.wire_reason(Kind(int(ev.msg.kind)), new), detail=f"check {new.name}")
                elif ev.what == "refuse" and ev.reason == old:
                    ev = ev._replace(reason=new)
                elif ev.what == "send":
                    ev = ev._replace(msg=fix(m, ev.msg))
                out.append(ev)
        return ps2, sends

    return Effect(f"refuse({new.name})", fn, new)


def other_reason(row: Row, group: list[Row]) -> Reason:
    """The reason ``reason`` gives a refusal row instead of its own: the next
    distinct refusal reason of its group in table order (which is the order
    of the request kind's check pipeline), cyclically; a group with one
    refusal reason takes the next reason of the same class (a responder's
    precise reasons, or the initiator's local ones) in enumeration order."""
    own = row.effect.reason
    assert own is not None
    order: list[Reason] = []
    for r in group:
        if r.effect.reason is not None and r.effect.reason not in order:
            order.append(r.effect.reason)
    if len(order) < 2:
        cls = LOCAL_REASONS if own in LOCAL_REASONS else PRECISE_REASONS if own in PRECISE_REASONS else None
        order = sorted(cls) if cls else [r for r in Reason if r != Reason.OK]
    return order[(order.index(own) + 1) % len(order)]


# --------------------------------------------------------------------------- observation


@dataclass
class Trace:
    """What an exploration of one scenario does with the tables (the
    original model): which rows fire, which are tried, which groups are
    dispatched at all, what each firing row writes and sends, and every
    distinct machine step per group (for the local agreement check)."""

    scenario: Scenario
    profile: str
    states: int = 0
    steps: int = 0  # distinct machine steps (peer state, input)
    fired: set[str] = field(default_factory=set)
    reached: set[str] = field(default_factory=set)
    arrived: set[str] = field(default_factory=set)
    writes: dict[str, set[str]] = field(default_factory=dict)
    sends: set[str] = field(default_factory=set)
    calls: dict[tuple[int, int, int], list[tuple[PeerState, int, MInput]]] = field(default_factory=dict)
    #: the original's reachable graph (for exploring mutants through it)
    graph: Graph | None = None

    @property
    def name(self) -> str:
        return self.scenario.name


def written(before: PeerState, after: PeerState) -> set[str]:
    """The fields of :data:`FIELDS` that differ between two peer states."""
    res = set()
    for name in FIELDS:
        part, f = name.split(".")
        a, b = getattr(before, part), getattr(after, part)
        if part in ("sad", "spd"):
            if any(getattr(x, f) != getattr(y, f) for x, y in zip(a, b, strict=True)):
                res.add(name)
        elif getattr(a, f) != getattr(b, f):
            res.add(name)
    return res


def trace(sc: Scenario, profile: str, graph: bool = True) -> Trace:
    """Explore ``sc`` exhaustively under ``profile`` and record what the
    tables do (see :class:`Trace`), and with ``graph`` the reachable graph.
    The model memoizes machine steps on the peer state, so each distinct step
    is seen once."""
    m = Model(sc, get_profile(profile, sc.options))
    names = {id(r): k for k, r in all_rows(m).items()}
    tr = Trace(sc, profile)
    dispatch = m.dispatch

    def watched(ps: PeerState, p: int, role: Role, x: MInput, out: Out) -> tuple[Row | None, Result | None]:
        row, res = dispatch(ps, p, role, x, out)
        part = ps.ini if role == Role.INITIATOR else ps.rsp
        st = int(part.st)
        key = (int(role), int(x.trigger), st)
        tr.calls.setdefault(key, []).append((ps, p, x))
        tr.arrived.add(group_key(role, st, x.trigger))
        tried = m.rows.get(key, ())
        for r in tried:
            tr.reached.add(names[id(r)])
            if r is row:
                break
        if row is not None and res is not None:
            name = names[id(row)]
            tr.fired.add(name)
            tr.writes.setdefault(name, set()).update(written(ps, res[0]))
            if res[1]:
                tr.sends.add(name)
        return row, res

    m.dispatch = watched  # type: ignore[method-assign,unused-ignore]
    ex = Explorer(m)
    rec = Recorder()
    stats = ex.run(on_edge=rec.on_edge if graph else None)
    if not stats.complete:  # pragma: no cover - explorations without limits complete
        raise RuntimeError(f"exploration of {sc.name} stopped: {stats.stopped}")
    del m.dispatch  # back to the class's: later successors of the same worlds are memo hits anyway
    tr.states = stats.states
    if graph:
        tr.graph = build(m, ex, rec, tr.calls)
    tr.steps = sum(len(v) for v in tr.calls.values())
    return tr


def shipped() -> list[Scenario]:
    return [builtin_scenario(n) for n in builtin_names()]


def traces(profile: str, scenarios: Iterable[Scenario] | None = None, graph: bool = True) -> list[Trace]:
    return [trace(sc, profile, graph) for sc in (shipped() if scenarios is None else scenarios)]


# --------------------------------------------------------------------------- the generator


def _signature(m: Model) -> list[tuple[str, str]]:
    return [(k, f"{r.label} -> {r.dst}") for k, r in all_rows(m).items()]


def tables(profile: str, scenarios: list[Scenario]) -> Model:
    """A model with the tables every scenario of ``scenarios`` runs under
    ``profile``; the generated mutants are one set only if they agree (the
    tables depend on the profile's options, which a scenario may set)."""
    first = Model(scenarios[0], get_profile(profile, scenarios[0].options))
    sig = _signature(first)
    for sc in scenarios[1:]:
        if _signature(Model(sc, get_profile(profile, sc.options))) != sig:
            raise ValueError(f"scenario {sc.name} has other tables than {scenarios[0].name} under {profile} "
                             "(its options change them): judge it separately")
    return first


def generate(profile: str = "mm", observed: list[Trace] | None = None) -> list[GenMutant]:
    """Every generated mutant of ``profile``'s tables, in table order and
    operator order.  ``observed``: the traces of the shipped scenarios (made
    here when not given), which say what each effect writes and sends."""
    obs = traces(profile, graph=False) if observed is None else observed
    m = tables(profile, [t.scenario for t in obs])
    writes: dict[str, set[str]] = {}
    sends: set[str] = set()
    for t in obs:
        for k, fs in t.writes.items():
            writes.setdefault(k, set()).update(fs)
        sends |= t.sends
    res: list[GenMutant] = []
    for role in (Role.INITIATOR, Role.RESPONDER):
        for row in m.rows_list[role]:
            key = row_key(m, role, row)
            group = _group(m, role, row.src, row.trigger)
            ops_: list[tuple[str, str]] = []
            if row.guard is not None:
                ops_ += [("drop-guard", ""), ("negate-guard", "")]
            if group.index(row) + 1 < len(group):
                ops_.append(("swap-next", ""))
            ops_.append(("delete", ""))
            if row.effect.reason is not None:
                ops_.append(("reason", other_reason(row, group).name))
                if _TRIGGER_KIND.get(row.trigger) in CHECK_KINDS:
                    ops_.append(("answer-ok", ""))
            if key in sends:
                ops_.append(("drop-sends", ""))
            ops_ += [("drop-write", f) for f in FIELDS if f in writes.get(key, ())]
            for op, arg in ops_:
                mu = from_name(mutant_name(key, op, arg))
                res.append(dataclasses.replace(mu, label=row.label))
    return res


__all__ = ["FIELDS", "OPERATORS", "GenMutant", "Trace", "from_name", "generate", "trace", "traces"]
