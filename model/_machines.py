"""Initiator and responder machines of IPsec mobility and multihoming.

Theory of operation
===================

Each peer runs two machines over its own databases: an *initiator* that turns a
user's action into one request and waits for its answer (IKEv2 keeps one
request outstanding, RFC 5996 2.3), and a *responder* that answers the other
peer's requests.  In the draft's setting the mobile node is the initiator of
every mobility exchange (draft 3, 10.3.1 "who decides"); with the option
``both_move`` the responder's peer may initiate too (draft 12 excludes it; the
option shows why).

A machine is one table of rows ``(state, trigger) [guard] / effect -> state``.
For a given state and trigger the rows are tried in the order declared and the
first whose guard holds fires.  The order *is* the specification of processing
order: on receipt of a request the responder

1. drops what the IKE_SA does not protect (draft 4.1, 14),
2. replays its cached answer to a retransmission and drops other message IDs
   (RFC 5996 2.1-2.2),
3. looks the named SA up and refuses an unknown or, for address actions, an
   inactive one (draft 8),
4. checks the request itself: owner (draft 10.3.1), presence, last address
   (draft 5.3), overlap of alternates (draft 5.4), address family,
5. then the PAD, the SPD (transport mode only: a tunnel's selectors are inner
   addresses, draft 10.3.1) and local policy, network acceptance first, then the
   protection the new network demands (draft 9.1, 11),
6. verifies return routability when its policy asks (draft 4.1, RFC 4555 3.7),
7. and only then applies the whole change at once.

Every refusal names the check that failed; the profile decides what the wire
can carry (``Profile.wire_reason``).  A check-only request runs steps 1-5 and
answers without touching any database (draft 4.2, 10.2.2).

Applying a change is one function shared by both peers, so the initiator's view
after an accepted answer is by construction the responder's view.  In transport
mode the SPD's address selectors follow the SAD; in tunnel mode only the SAD's
outer addresses change (draft 10.3.1).

When every address a peer sends to on an SA has stopped working the responder
switches to the next alternate its peer announced (draft 5.4, 8), and marks
the SA inactive when none is left.  Pairs ``(state, trigger)`` with no row are
*defined refusals* (see :func:`refusal`): the input changes nothing and the
machine reports why.

A machine sees only its own peer's state and the input.  An effect returns
the peer's new state and the messages to send; the composed system
(``_model``) puts them on the wire.  An initiator learns which of its own
addresses work from the ``up`` field of an action input: a host knows its
interfaces.

Guards and effects are written so that the symbolic encoding can execute them
with z3 terms (see ``_ops``): no sets, no variable-length data, and every value
used as an index passes through ``conc``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

from . import _ops as ops
from ._state import EMPTY, Msg, PeerState, SAEntry, SPDEntry, set_slot
from ._vocab import (
    ALLSA,
    NOADDR,
    NOSA,
    Action,
    IState,
    Kind,
    Mode,
    Reason,
    Role,
    RState,
    SAState,
    Trigger,
    act_trigger,
    recv_trigger,
)

if TYPE_CHECKING:
    from ._model import Model
    from ._profiles import Profile


class MInput(NamedTuple):
    """What a machine receives.  ``msg`` for receptions; action arguments for
    ``act_*``; ``sa`` and ``addrs`` (the dead addresses) for ``path_dead``."""

    trigger: Trigger
    msg: Msg = EMPTY
    sa: Any = NOSA
    old: Any = NOADDR
    new: Any = NOADDR
    addrs: Any = 0
    up: Any = 0  # act_*: the initiator's own addresses that currently work


class Event(NamedTuple):
    """An output of a step, for people and for conformance vectors."""

    what: str  # send | discard | refuse | answer | apply | failover | inactive
    peer: int
    msg: Msg = EMPTY
    reason: Any = Reason.OK
    sa: Any = NOSA
    detail: str = ""


Out = list[Event] | None
Sends = tuple[Msg, ...]
Result = tuple[PeerState, Sends]
GuardFn = Callable[["Model", PeerState, int, MInput], Any]
EffectFn = Callable[["Model", PeerState, int, MInput, Out], Result]


@dataclass(frozen=True)
class Guard:
    label: str
    fn: GuardFn = field(compare=False)

    def __call__(self, m: Model, ps: PeerState, p: int, x: MInput) -> Any:
        return self.fn(m, ps, p, x)


@dataclass(frozen=True)
class Effect:
    label: str
    fn: EffectFn = field(compare=False)
    #: the refusal this effect makes, when it is one (read by coverage and
    #: tools, so that nobody has to parse labels)
    reason: Reason | None = None

    def __call__(self, m: Model, ps: PeerState, p: int, x: MInput, out: Out) -> Result:
        return self.fn(m, ps, p, x, out)


@dataclass(frozen=True)
class Row:
    role: Role
    src: int
    trigger: Trigger
    guard: Guard | None
    effect: Effect
    dst: int
    reqs: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        g = f" [{self.guard.label}]" if self.guard else ""
        return f"{self.trigger.name.lower()}{g} / {self.effect.label}"


# --------------------------------------------------------------------------- helpers


def cur_of(e: SAEntry, q: int) -> Any:
    return e.cur_i if q == 0 else e.cur_r


def alt_of(e: SAEntry, q: int) -> Any:
    return e.alt_i if q == 0 else e.alt_r


def with_side(e: SAEntry, q: int, cur: Any, alt: Any) -> SAEntry:
    if q == 0:
        return e._replace(cur_i=cur, alt_i=alt)
    return e._replace(cur_r=cur, alt_r=alt)


def _slot(m: Model, sa: Any) -> int:
    """Concrete slot index, or NOSA when the value names no slot."""
    k = ops.conc(sa, m.slot_values)
    return k if k < m.n_slots else NOSA


def _kind(m: Model, kind: Any) -> Kind:
    return Kind(ops.conc(kind, m.kind_values))


def _sent(p: int, out: Out, *msgs: Msg) -> Sends:
    if out is not None:
        for msg in msgs:
            out.append(Event("send", p, msg))
    return msgs


def _introduced(m: Model, msg: Msg, kind: Kind) -> Any:
    """Addresses a request asks the responder to start trusting."""
    if kind in (Kind.UPDATE, Kind.ADD, Kind.CHECK_UPDATE, Kind.CHECK_ADD, Kind.CREATE):
        return ops.bit(msg.new)
    if kind in (Kind.SET_ALT, Kind.CHECK_ALT):
        return msg.addrs
    if kind == Kind.MOBIKE_UPDATE:
        return ops.bit(msg.src)
    return 0


def _named(m: Model, msg: Msg, kind: Kind) -> Any:
    """Addresses of the requester's side that a request names."""
    if kind in (Kind.UPDATE, Kind.CHECK_UPDATE):
        return ops.bit(msg.old) | ops.bit(msg.new)
    if kind in (Kind.REMOVE, Kind.CHECK_REMOVE):
        return ops.bit(msg.old)
    return _introduced(m, msg, kind)


_BASE = {
    Kind.CHECK_UPDATE: Kind.UPDATE,
    Kind.CHECK_ADD: Kind.ADD,
    Kind.CHECK_REMOVE: Kind.REMOVE,
    Kind.CHECK_ALT: Kind.SET_ALT,
}


def base_kind(kind: Kind) -> Kind:
    """The change a check-only kind asks about (the kind itself otherwise)."""
    return _BASE.get(kind, kind)


def _entry(m: Model, ps: PeerState, msg: Msg) -> SAEntry:
    """The SA a request names.  Guards after the lookup row may assume it exists."""
    return ps.sad[_slot(m, msg.sa)]


def _policy_slot(m: Model, msg: Msg, kind: Kind) -> int:
    """The SA whose policy applies: MOBIKE moves the IKE_SA; otherwise the named SA."""
    if kind == Kind.MOBIKE_UPDATE:
        return 0
    return _slot(m, msg.sa)


# --------------------------------------------------------------------------- the change itself


def mobike_move(m: Model, ps: PeerState, q: int, remote: bool, new: Any, ike: bool = True,
                children: bool = True) -> PeerState:
    """Side ``q`` of the IKE_SA (``ike``) and of every tunnel-mode SA
    (``children``) moves to the addresses ``new``: UPDATE_SA_ADDRESSES
    (RFC 4555 3.5).  The responder moves the IKE_SA when it answers and the
    IPsec SAs once return routability is verified; the initiator moves both
    before it asks."""
    sad = ps.sad
    for k in range(m.n_slots):
        if not (ike if k == 0 else children):
            continue
        e = sad[k]
        if m.mode[k] == Mode.TRANSPORT or e.state in (SAState.ABSENT, SAState.DELETED):
            continue  # RFC 4555 moves the IKE_SA and the tunnel-mode SAs only
        e = with_side(e, q, new, alt_of(e, q) & ~new)
        if remote:
            e = e._replace(out=new, state=SAState.ACTIVE)
        sad = set_slot(sad, k, e)
    return ps._replace(sad=sad)


def apply_change(m: Model, ps: PeerState, me: int, q: int, req: Msg, kind: Kind) -> PeerState:
    """Peer ``me`` applies request ``req`` of peer ``q``.  The responder calls it
    on acceptance and the initiator (``me == q``) on the accepted answer, so the
    two views cannot drift apart by construction."""
    sad, spd = ps.sad, ps.spd
    remote = me != q  # the changed addresses are the peer's: traffic goes there
    if kind == Kind.MOBIKE_UPDATE:
        return mobike_move(m, ps, q, remote, ops.bit(req.src))
    if kind == Kind.MOBIKE_ADDITIONAL:
        e = sad[0]
        return ps._replace(sad=set_slot(sad, 0, with_side(e, q, cur_of(e, q), req.addrs & ~cur_of(e, q))))
    k = _slot(m, req.sa)
    if k == NOSA:
        return ps  # names no SA: only a DELETE gets this far, and it deletes nothing
    if kind == Kind.CREATE:
        # The new SA takes the declared slot's other side; its creator's side
        # is the address the request names.  Fresh keys: generation 1.
        spec = m.sc.slots[k]
        other = spec.cur_r if q == 0 else spec.cur_i
        new = ops.bit(req.new)
        e = with_side(with_side(SAEntry(SAState.ACTIVE, 1), 1 - q, other, 0), q, new, 0)
        e = e._replace(out=new if remote else other)
        if m.mode[k] == Mode.TRANSPORT:
            spd = set_slot(spd, k, SPDEntry(e.cur_i, e.cur_r))
        return ps._replace(sad=set_slot(sad, k, e), spd=spd)
    if kind == Kind.DELETE:
        if sad[k].state in (SAState.ABSENT, SAState.DELETED):
            return ps
        return ps._replace(sad=set_slot(sad, k, SAEntry(SAState.DELETED)), spd=set_slot(spd, k, SPDEntry()))
    e = sad[k]
    cur, alt = cur_of(e, q), alt_of(e, q)
    if kind == Kind.UPDATE:
        nb = ops.bit(req.new)
        cur, alt = (cur & ~ops.bit(req.old)) | nb, alt & ~nb
    elif kind == Kind.ADD:
        nb = ops.bit(req.new)
        cur, alt = cur | nb, alt & ~nb
    elif kind == Kind.REMOVE:
        cur = cur & ~ops.bit(req.old)
    elif kind == Kind.SET_ALT:
        alt = req.addrs
    e = with_side(e, q, cur, alt)
    if remote:
        # Traffic returns to the peer's current addresses after any accepted
        # change: an explicit request supersedes a failover (draft 8).
        e = e._replace(out=cur)
        if kind == Kind.UPDATE:
            e = e._replace(state=SAState.ACTIVE)  # mobility revives a broken SA (draft 8)
    if m.mode[k] == Mode.TRANSPORT:
        spd = set_slot(spd, k, SPDEntry(e.cur_i, e.cur_r))
    return ps._replace(sad=set_slot(sad, k, e), spd=spd)


# --------------------------------------------------------------------------- initiator


def request_for(m: Model, ps: PeerState, p: int, x: MInput) -> Msg:
    """The request an action becomes on this profile's wire.  The source is a
    working address of our side of the IKE_SA, else any working address we
    own: IKEv2 answers to the source (RFC 5996 2.11)."""
    kind = m.prof.wire[Action(x.trigger.value)]
    mine = cur_of(ps.sad[0], p) & x.up
    src = ops.lowest_index(ops.pick(mine != 0, mine, m.owned[p] & x.up), m.n_addr)
    dst = ops.lowest_index(cur_of(ps.sad[0], 1 - p), m.n_addr)
    msg = Msg(kind=kind, mid=ps.ini.mid, sa=x.sa, old=x.old, new=x.new, addrs=x.addrs,
              src=src, dst=dst, intent=x.sa)
    if kind == Kind.MOBIKE_UPDATE:
        # RFC 4555 3.5: the new address is the IP source; no SA, no old address.
        return msg._replace(sa=ALLSA, old=NOADDR, new=NOADDR, src=x.new)
    if kind == Kind.MOBIKE_ADDITIONAL:
        # RFC 4555 3.6: one list of the node's other addresses, for the IKE_SA,
        # replacing the last one.  Asked to add or remove an address, all a
        # MOBIKE node can do is announce it or stop announcing it.
        # The list names the node's own addresses only: an address it does
        # not have is not one it can announce.
        listed = x.addrs
        act = Action(x.trigger.value)
        if act == Action.ADD:
            listed = alt_of(ps.sad[0], p) | ops.bit(x.new)
        elif act == Action.REMOVE:
            listed = alt_of(ps.sad[0], p) & ~ops.bit(x.old)
        # The address in the IP header is not listed again (RFC 4555 3.6:
        # one address goes in the header, the rest in the list; strongSwan
        # leaves the sending address out of every list it sends).
        return msg._replace(sa=0, old=NOADDR, new=NOADDR, addrs=listed & m.owned[p] & ~ops.bit(src))
    if kind == Kind.PROBE:
        # The address under test sends it (RFC 4555 3.7); it is also all that
        # MOBIKE has to ask about an address before using it (draft 10.1.1).
        return msg._replace(sa=NOSA, old=NOADDR, new=NOADDR, src=x.new)
    return msg


def user_request(x: MInput) -> Msg:
    """The ghost record of what the user asked (``Initiator.asked``)."""
    return Msg(kind=Kind(x.trigger.value), sa=x.sa, old=x.old, new=x.new, addrs=x.addrs, intent=x.sa)


def g_no_source(m: Model, ps: PeerState, p: int, x: MInput) -> Any:
    # NOADDR shifts every bit out, so "no address at all" reads as "not working".
    return ops.has(x.up, request_for(m, ps, p, x).src) == 0


def g_own_side_cut_off(m: Model, ps: PeerState, p: int, x: MInput) -> Any:
    """Draft 8: multihoming is not for an SA that is not active.  The
    initiator knows its own interfaces: an SA none of whose own current
    addresses works is cut off, whatever the responder has noticed yet, and
    only mobility (UPDATE) brings it back (reading R16, docs/model.md)."""
    k = _slot(m, x.sa)
    if k == NOSA:
        return False
    e = ps.sad[k]
    return ((e.state == SAState.ACTIVE) | (e.state == SAState.INACTIVE)) & ((cur_of(e, p) & x.up) == 0)


def e_send_request(m: Model, ps: PeerState, p: int, x: MInput, out: Out) -> Result:
    msg = request_for(m, ps, p, x)
    return ps._replace(ini=ps.ini._replace(req=msg, retries=0, asked=user_request(x))), _sent(p, out, msg)


def e_apply_then_send(m: Model, ps: PeerState, p: int, x: MInput, out: Out) -> Result:
    """FIND-4.1-ORDER: the literal reading of draft 4.1, where the mobile node
    updates its own SAs before it tells its peer."""
    msg = request_for(m, ps, p, x)
    ps = apply_change(m, ps, p, p, msg, _kind(m, msg.kind))
    if out is not None:
        out.append(Event("apply", p, msg, sa=msg.sa, detail="before sending"))
    return ps._replace(ini=ps.ini._replace(req=msg, retries=0, asked=user_request(x))), _sent(p, out, msg)


def e_update_then_send(m: Model, ps: PeerState, p: int, x: MInput, out: Out) -> Result:
    """RFC 4555 3.5: the initiator moves its own IKE_SA and IPsec SAs to the
    new address, then sends UPDATE_SA_ADDRESSES from it, remembering where it
    was to go back there on UNACCEPTABLE_ADDRESSES."""
    msg = request_for(m, ps, p, x)
    back = cur_of(ps.sad[0], p)
    ps = mobike_move(m, ps, p, False, ops.bit(msg.src))
    if out is not None:
        out.append(Event("apply", p, msg, sa=msg.sa, detail="before sending (RFC 4555 3.5)"))
    ini = ps.ini._replace(req=msg, retries=0, asked=user_request(x), back=back, again=0)
    return ps._replace(ini=ini), _sent(p, out, msg)


def g_update_outstanding(m: Model, ps: PeerState, p: int, x: MInput) -> Any:
    return ps.ini.req.kind == Kind.MOBIKE_UPDATE


def e_restart(m: Model, ps: PeerState, p: int, x: MInput, out: Out) -> Result:
    """RFC 4555 3.5: a new move while UPDATE_SA_ADDRESSES is outstanding
    starts again: the own SAs move to the newer address, the outstanding
    request is retransmitted from there, its answer will be ignored and a new
    UPDATE_SA_ADDRESSES follows (strongSwan queues a new MOBIKE task and
    turns the active one's retransmissions into path probes)."""
    new = request_for(m, ps, p, x).src
    back = cur_of(ps.sad[0], p)
    ps = mobike_move(m, ps, p, False, ops.bit(new))
    if out is not None:
        out.append(Event("apply", p, ps.ini.req, sa=ALLSA, detail="a newer move (RFC 4555 3.5)"))
    ini = ps.ini
    ini = ini._replace(req=ini.req._replace(src=new), retries=0, asked=user_request(x), back=back,
                       again=ops.pick(ini.again == AGAIN_DUE, AGAIN_DUE, AGAIN_IGNORE))
    return ps._replace(ini=ini), ()


#: ``Initiator.again``: nothing pending; ignore the outstanding answer; a new
#: UPDATE_SA_ADDRESSES is prepared and goes out on the next timer
AGAIN_NONE, AGAIN_IGNORE, AGAIN_DUE = 0, 1, 2


def g_ignore_answer(m: Model, ps: PeerState, p: int, x: MInput) -> Any:
    return ps.ini.again == AGAIN_IGNORE


def e_prepare_update(m: Model, ps: PeerState, p: int, x: MInput, out: Out) -> Result:
    """The answer to an UPDATE_SA_ADDRESSES overtaken by a newer move gets no
    MOBIKE processing (RFC 4555 3.5); the next request, with the next message
    ID, asks for the newer address.  It goes out on the initiator's next timer
    rather than at once: the address it leaves from is the IKE_SA's, which the
    answer's delivery says nothing about."""
    ini = ps.ini
    _answer(out, p, x, ini.req)
    mine = cur_of(ps.sad[0], p)
    src = ops.lowest_index(mine, m.n_addr)
    dst = ops.lowest_index(cur_of(ps.sad[0], 1 - p), m.n_addr)
    req = Msg(kind=Kind.MOBIKE_UPDATE, mid=ini.mid + 1, sa=ALLSA, src=src, dst=dst, intent=ini.req.intent)
    return ps._replace(ini=ini._replace(mid=ini.mid + 1, req=req, retries=0, again=AGAIN_DUE)), ()


def g_update_due(m: Model, ps: PeerState, p: int, x: MInput) -> Any:
    return ps.ini.again == AGAIN_DUE


def e_send_due(m: Model, ps: PeerState, p: int, x: MInput, out: Out) -> Result:
    return ps._replace(ini=ps.ini._replace(again=AGAIN_NONE)), _sent(p, out, ps.ini.req)


def g_refused_update(m: Model, ps: PeerState, p: int, x: MInput) -> Any:
    return (x.msg.reason != Reason.OK) & (ps.ini.req.kind == Kind.MOBIKE_UPDATE)


def e_go_back(m: Model, ps: PeerState, p: int, x: MInput, out: Out) -> Result:
    """RFC 4555 3.5 lets a refused initiator try other addresses, keep on
    using the ones it used before, or disconnect; the model takes the second
    (strongSwan never refuses an update, and ignores a refusal)."""
    req = ps.ini.req
    _answer(out, p, x, req)
    ps = mobike_move(m, ps, p, False, ps.ini.back)
    if out is not None:
        out.append(Event("apply", p, req, sa=req.sa, detail="back to the previous addresses"))
    return _finish(ps), ()


def g_updated_first(m: Model, ps: PeerState, p: int, x: MInput) -> Any:
    return ps.ini.req.kind == Kind.MOBIKE_UPDATE


def e_refuse_local(reason: Reason) -> Effect:
    def fn(m: Model, ps: PeerState, p: int, x: MInput, out: Out) -> Result:
        if out is not None:
            out.append(Event("refuse", p, reason=reason, sa=x.sa, detail="initiator"))
        return ps, ()

    return Effect(f"refuse({reason.name})", fn, reason)


def _finish(ps: PeerState) -> PeerState:
    return ps._replace(ini=ps.ini._replace(mid=ps.ini.mid + 1, retries=0, req=EMPTY, asked=EMPTY, back=0,
                                           again=AGAIN_NONE))


def g_resp_unprotected(m: Model, ps: PeerState, p: int, x: MInput) -> Any:
    return x.msg.prot == 0


def g_resp_unexpected(m: Model, ps: PeerState, p: int, x: MInput) -> Any:
    req = ps.ini.req
    return (x.msg.mid != req.mid) | (x.msg.kind != req.kind)


def g_resp_refused(m: Model, ps: PeerState, p: int, x: MInput) -> Any:
    return x.msg.reason != Reason.OK


def g_resp_no_change(m: Model, ps: PeerState, p: int, x: MInput) -> Any:
    k = ps.ini.req.kind
    return (k >= Kind.CHECK_UPDATE) & (k <= Kind.PROBE)


def g_resp_early(m: Model, ps: PeerState, p: int, x: MInput) -> Any:
    k = ps.ini.req.kind
    return ((k >= Kind.UPDATE) & (k <= Kind.SET_ALT)) | (k == Kind.MOBIKE_UPDATE) | (k == Kind.MOBIKE_ADDITIONAL)


def _answer(out: Out, p: int, x: MInput, req: Msg) -> None:
    if out is not None:
        out.append(Event("answer", p, x.msg, reason=x.msg.reason, sa=req.sa))


def e_report(m: Model, ps: PeerState, p: int, x: MInput, out: Out) -> Result:
    req = ps.ini.req
    _answer(out, p, x, req)
    if _kind(m, req.kind) == Kind.PROBE and x.msg.reason == Reason.OK:
        ps = ps._replace(ini=ps.ini._replace(probed=ps.ini.probed | ops.bit(req.src)))
    return _finish(ps), ()


def e_apply_own(m: Model, ps: PeerState, p: int, x: MInput, out: Out) -> Result:
    req = ps.ini.req
    _answer(out, p, x, req)
    ps = apply_change(m, ps, p, p, req, _kind(m, req.kind))
    if out is not None:
        out.append(Event("apply", p, req, sa=req.sa))
    return _finish(ps), ()


def g_retries_left(m: Model, ps: PeerState, p: int, x: MInput) -> Any:
    return ps.ini.retries < m.sc.bounds.retransmits


def e_retransmit(m: Model, ps: PeerState, p: int, x: MInput, out: Out) -> Result:
    ps = ps._replace(ini=ps.ini._replace(retries=ps.ini.retries + 1))
    return ps, _sent(p, out, ps.ini.req)


def e_give_up(m: Model, ps: PeerState, p: int, x: MInput, out: Out) -> Result:
    if out is not None:
        out.append(Event("refuse", p, ps.ini.req, reason=Reason.GAVE_UP, detail="IKE_SA considered dead"))
    return ps._replace(ini=ps.ini._replace(req=EMPTY, retries=0, asked=EMPTY, back=0, again=AGAIN_NONE)), ()


def e_discard(label: str) -> Effect:
    def fn(m: Model, ps: PeerState, p: int, x: MInput, out: Out) -> Result:
        if out is not None:
            out.append(Event("discard", p, x.msg, detail=label))
        return ps, ()

    return Effect(f"discard({label})", fn)


# --------------------------------------------------------------------------- responder checks


def g_unprotected(m: Model, ps: PeerState, p: int, x: MInput) -> Any:
    return x.msg.prot == 0


def g_retransmission(m: Model, ps: PeerState, p: int, x: MInput) -> Any:
    rsp = ps.rsp
    return (x.msg.mid + 1 == rsp.mid) & (rsp.cache.kind == x.msg.kind)


def g_not_expected(m: Model, ps: PeerState, p: int, x: MInput) -> Any:
    return x.msg.mid != ps.rsp.mid


def g_unknown_sa(m: Model, ps: PeerState, p: int, x: MInput) -> Any:
    k = _slot(m, x.msg.sa)
    if k == NOSA:
        return True
    st = ps.sad[k].state
    return (st == SAState.ABSENT) | (st == SAState.DELETED)


def g_inactive_sa(kind: Kind) -> GuardFn:
    def fn(m: Model, ps: PeerState, p: int, x: MInput) -> Any:
        if kind == Kind.UPDATE and m.opts.inactive_update == "allow":
            return False  # mobility is how a broken SA comes back (draft 8)
        return _entry(m, ps, x.msg).state == SAState.INACTIVE

    return fn


def g_not_owner(kind: Kind) -> GuardFn:
    def fn(m: Model, ps: PeerState, p: int, x: MInput) -> Any:
        return (_named(m, x.msg, kind) & ~m.owned[1 - p]) != 0

    return fn


def g_absent(m: Model, ps: PeerState, p: int, x: MInput) -> Any:
    return ops.has(cur_of(_entry(m, ps, x.msg), 1 - p), x.msg.old) == 0


def g_present(m: Model, ps: PeerState, p: int, x: MInput) -> Any:
    return ops.has(cur_of(_entry(m, ps, x.msg), 1 - p), x.msg.new) != 0


def g_last(m: Model, ps: PeerState, p: int, x: MInput) -> Any:
    return (cur_of(_entry(m, ps, x.msg), 1 - p) & ~ops.bit(x.msg.old)) == 0


def g_overlap(m: Model, ps: PeerState, p: int, x: MInput) -> Any:
    return (x.msg.addrs & cur_of(_entry(m, ps, x.msg), 1 - p)) != 0


def g_family(kind: Kind) -> GuardFn:
    def fn(m: Model, ps: PeerState, p: int, x: MInput) -> Any:
        intro = _introduced(m, x.msg, kind)
        mine = cur_of(ps.sad[_policy_slot(m, x.msg, kind)], p)
        bad: Any = 0
        for fam_mask in m.fam_mask:
            bad = bad | ((intro & fam_mask) != 0) & ((mine & fam_mask) == 0)
        return bad

    return fn


def g_pad(kind: Kind) -> GuardFn:
    def fn(m: Model, ps: PeerState, p: int, x: MInput) -> Any:
        return (_introduced(m, x.msg, kind) & ~m.pad[p]) != 0

    return fn


def g_spd(kind: Kind) -> GuardFn:
    def fn(m: Model, ps: PeerState, p: int, x: MInput) -> Any:
        k = _policy_slot(m, x.msg, kind)
        if m.mode[k] != Mode.TRANSPORT:
            return False  # a tunnel's selectors are inner addresses (draft 10.3.1)
        return (_introduced(m, x.msg, kind) & ~m.spd_allow[k][p]) != 0

    return fn


def g_policy(kind: Kind) -> GuardFn:
    def fn(m: Model, ps: PeerState, p: int, x: MInput) -> Any:
        return (_introduced(m, x.msg, kind) & ~m.accept[p]) != 0

    return fn


def g_protection(kind: Kind) -> GuardFn:
    def fn(m: Model, ps: PeerState, p: int, x: MInput) -> Any:
        k = _policy_slot(m, x.msg, kind)
        return (_introduced(m, x.msg, kind) & ~m.prot_ok[p][k]) != 0

    return fn


def _rr_needed(m: Model, ps: PeerState, p: int, msg: Msg, kind: Kind) -> Any:
    return _introduced(m, msg, kind) & m.rr[p] & ~ps.rsp.verified


def g_needs_rr(kind: Kind) -> GuardFn:
    def fn(m: Model, ps: PeerState, p: int, x: MInput) -> Any:
        return _rr_needed(m, ps, p, x.msg, kind) != 0

    return fn


def g_slot_in_use(m: Model, ps: PeerState, p: int, x: MInput) -> Any:
    k = _slot(m, x.msg.sa)
    if k == NOSA or k == 0:
        return True
    return ps.sad[k].state != SAState.ABSENT


# --------------------------------------------------------------------------- responder effects


def _respond(m: Model, ps: PeerState, p: int, req: Msg, why: Reason, kind: Kind, out: Out) -> Result:
    """Answer ``req`` (accepted when ``why`` is OK), cache the answer and move
    the window on."""
    wire = m.prof.wire_reason(kind, why)
    resp = Msg(kind=req.kind, resp=1, mid=req.mid, src=req.dst, dst=req.src, reason=wire, why=why)
    ps = ps._replace(rsp=ps.rsp._replace(mid=req.mid + 1, cache=resp, pending=EMPTY))
    if out is not None and why != Reason.OK:
        out.append(Event("refuse", p, req, reason=wire, sa=req.sa, detail=f"check {why.name}"))
    return ps, _sent(p, out, resp)


def e_refuse(reason: Reason, kind: Kind) -> Effect:
    def fn(m: Model, ps: PeerState, p: int, x: MInput, out: Out) -> Result:
        return _respond(m, ps, p, x.msg, reason, kind, out)

    return Effect(f"refuse({reason.name})", fn, reason)


def e_resend_cached(m: Model, ps: PeerState, p: int, x: MInput, out: Out) -> Result:
    """The cached answer goes back to where the retransmission came from
    (RFC 7296 2.11): a MOBIKE initiator that moved retransmits from its new
    address (RFC 4555 3.5).  Elsewhere a retransmission has the original's
    addresses, so this is the cached answer as it was."""
    return ps, _sent(p, out, ps.rsp.cache._replace(src=x.msg.dst, dst=x.msg.src))


def _accept(m: Model, ps: PeerState, p: int, req: Msg, kind: Kind, out: Out) -> Result:
    if base_kind(kind) == kind and kind != Kind.PROBE:
        ps = apply_change(m, ps, p, 1 - p, req, kind)
        if out is not None:
            out.append(Event("apply", p, req, sa=req.sa))
    return _respond(m, ps, p, req, Reason.OK, kind, out)


def e_accept(kind: Kind) -> Effect:
    def fn(m: Model, ps: PeerState, p: int, x: MInput, out: Out) -> Result:
        return _accept(m, ps, p, x.msg, kind, out)

    changes = base_kind(kind) == kind and kind != Kind.PROBE
    return Effect("apply; answer(OK)" if changes else "answer(OK)", fn)


def _challenge(m: Model, ps: PeerState, p: int, req: Msg, kind: Kind, out: Out) -> Sends:
    """COOKIE2 to the lowest address still to verify, from where the request
    arrived (RFC 4555 3.7).  The message ID of the request is the cookie."""
    target = ops.lowest_index(_rr_needed(m, ps, p, req, kind), m.n_addr)
    return _sent(p, out, Msg(kind=Kind.RR_CHALLENGE, mid=req.mid, src=req.dst, dst=target, intent=req.intent))


def e_answer_then_check(m: Model, ps: PeerState, p: int, x: MInput, out: Out) -> Result:
    """RFC 4555 3.5: the responder moves the IKE_SA to the IP source and
    answers, then checks return routability (3.7) before it moves the IPsec
    SAs.  It has no refusal left for a failed check: the answer is out."""
    req = x.msg
    ps = mobike_move(m, ps, 1 - p, True, ops.bit(req.src), children=False)
    if out is not None:
        out.append(Event("apply", p, req, sa=0, detail="the IKE_SA; the IPsec SAs after return routability"))
    ps, sends = _respond(m, ps, p, req, Reason.OK, Kind.MOBIKE_UPDATE, out)
    return ps._replace(rsp=ps.rsp._replace(pending=req, due=1)), sends


def g_check_due(m: Model, ps: PeerState, p: int, x: MInput) -> Any:
    return ps.rsp.due == 1


def e_send_check(m: Model, ps: PeerState, p: int, x: MInput, out: Out) -> Result:
    pend = ps.rsp.pending
    ps = ps._replace(rsp=ps.rsp._replace(due=0))
    return ps, _challenge(m, ps, p, pend, Kind.MOBIKE_UPDATE, out)


def g_answered_held(m: Model, ps: PeerState, p: int, x: MInput) -> Any:
    """The held request was answered before the check (answer-first profiles
    hold only UPDATE_SA_ADDRESSES that way)."""
    return ps.rsp.pending.kind == Kind.MOBIKE_UPDATE


def e_verify_move(m: Model, ps: PeerState, p: int, x: MInput, out: Out) -> Result:
    ps = _verify(ps, x)
    pend = ps.rsp.pending
    ps = mobike_move(m, ps, 1 - p, True, ops.bit(pend.src), ike=False)
    if out is not None:
        out.append(Event("apply", p, pend, sa=ALLSA, detail="the IPsec SAs, return routability verified"))
    # The check was sent, so ``due`` is clear already; clearing it here too
    # leaves nothing of the hold behind whatever state it came from, which
    # the z3 induction needs (it also starts from states no run reaches).
    return ps._replace(rsp=ps.rsp._replace(pending=EMPTY, due=0)), ()


def e_unverified(m: Model, ps: PeerState, p: int, x: MInput, out: Out) -> Result:
    """No echo: the IPsec SAs stay where they were and nothing is said to the
    initiator (RFC 4555 3.5 moves them only after the check; strongSwan's
    responder checks nothing and moves them at once)."""
    pend = ps.rsp.pending
    if out is not None:
        out.append(Event("unverified", p, pend, sa=ALLSA, detail="the IPsec SAs stay on the old address"))
    return ps._replace(rsp=ps.rsp._replace(pending=EMPTY)), ()


def e_start_rr(kind: Kind) -> Effect:
    def fn(m: Model, ps: PeerState, p: int, x: MInput, out: Out) -> Result:
        ps = ps._replace(rsp=ps.rsp._replace(pending=x.msg))
        return ps, _challenge(m, ps, p, x.msg, kind, out)

    return Effect("hold; send(RR_CHALLENGE)", fn)


def g_echo_foreign(m: Model, ps: PeerState, p: int, x: MInput) -> Any:
    """An echo that does not answer our outstanding challenge."""
    pend = ps.rsp.pending
    need = _rr_needed(m, ps, p, pend, _kind(m, pend.kind))
    return (x.msg.mid != pend.mid) | (ops.has(need, x.msg.src) == 0)


def g_echo_more(m: Model, ps: PeerState, p: int, x: MInput) -> Any:
    pend = ps.rsp.pending
    need = _rr_needed(m, ps, p, pend, _kind(m, pend.kind))
    return (need & ~ops.bit(x.msg.src)) != 0


def g_held_sa_broken(m: Model, ps: PeerState, p: int, x: MInput) -> Any:
    """While a request waited for return routability, its SA may have been
    marked inactive: the lookup has to hold when the change is made, not only
    when the request arrived."""
    pend = ps.rsp.pending
    kind = base_kind(_kind(m, pend.kind))
    k = _slot(m, pend.sa)
    if k == NOSA or kind == Kind.CREATE or kind == Kind.MOBIKE_UPDATE:
        return False
    if kind == Kind.UPDATE and m.opts.inactive_update == "allow":
        return False
    return ps.sad[k].state == SAState.INACTIVE


def e_refuse_held(m: Model, ps: PeerState, p: int, x: MInput, out: Out) -> Result:
    pend = ps.rsp.pending
    return _respond(m, ps, p, pend, Reason.INACTIVE_SA, _kind(m, pend.kind), out)


def _verify(ps: PeerState, x: MInput) -> PeerState:
    return ps._replace(rsp=ps.rsp._replace(verified=ps.rsp.verified | ops.bit(x.msg.src)))


def e_verify_next(m: Model, ps: PeerState, p: int, x: MInput, out: Out) -> Result:
    ps = _verify(ps, x)
    pend = ps.rsp.pending
    return ps, _challenge(m, ps, p, pend, _kind(m, pend.kind), out)


def e_verify_accept(m: Model, ps: PeerState, p: int, x: MInput, out: Out) -> Result:
    ps = _verify(ps, x)
    pend = ps.rsp.pending
    return _accept(m, ps, p, pend, _kind(m, pend.kind), out)


def e_rr_failed(m: Model, ps: PeerState, p: int, x: MInput, out: Out) -> Result:
    pend = ps.rsp.pending
    return _respond(m, ps, p, pend, Reason.RR_FAILED, _kind(m, pend.kind), out)


def g_pending_retransmission(m: Model, ps: PeerState, p: int, x: MInput) -> Any:
    return x.msg.mid == ps.rsp.pending.mid


def e_echo(m: Model, ps: PeerState, p: int, x: MInput, out: Out) -> Result:
    """COOKIE2 is copied back from the address it reached (RFC 4555 3.7)."""
    echo = Msg(kind=Kind.RR_CHALLENGE, resp=1, mid=x.msg.mid, src=x.msg.dst, dst=x.msg.src, intent=x.msg.intent)
    return ps, _sent(p, out, echo)


def _next_alternate(m: Model, e: SAEntry, q: int) -> Any:
    """Alternates are tried in address order, each at most once per failure."""
    alt = alt_of(e, q)
    return alt & ~ops.smear(e.out & alt)


def _broken(m: Model, e: SAEntry, dead: Any) -> Any:
    """Does the reported failure cut this SA off?  Default reading: every
    address it sends to is dead; option failover="any": at least one is."""
    hit = e.out & dead
    cut = (hit == e.out) if m.opts.failover == "all" else (hit != 0)
    return (e.state == SAState.ACTIVE) & (e.out != 0) & cut


def g_has_alternate(m: Model, ps: PeerState, p: int, x: MInput) -> Any:
    """Some SA the failure cuts off has an alternate left to try."""
    any_alt: Any = False
    for k in range(m.n_slots):
        e = ps.sad[k]
        any_alt = any_alt | (_broken(m, e, x.addrs) & (_next_alternate(m, e, 1 - p) != 0))
    return any_alt


def _on_failure(m: Model, ps: PeerState, p: int, x: MInput, out: Out, failover: bool) -> Result:
    """Dead peer detection is per path, not per SA: one report of dead remote
    addresses moves every SA it cuts off to its next alternate, or marks it
    inactive when it has none (draft 5.4, 8).

    Written with ``ops.pick`` rather than ``if`` so that the symbolic encoding
    gets one path per report instead of one per combination of SAs."""
    sad, spd = ps.sad, ps.spd
    for k in range(m.n_slots):
        e = sad[k]
        broken = _broken(m, e, x.addrs)
        nxt = ops.lowest(_next_alternate(m, e, 1 - p)) if failover else 0
        moves = broken & (nxt != 0)
        stuck = broken & (nxt == 0)
        e2 = e._replace(out=ops.pick(moves, (e.out & ~x.addrs) | nxt, e.out),
                        state=ops.pick(stuck, SAState.INACTIVE, e.state))
        if m.mode[k] == Mode.TRANSPORT and failover:
            # The alternate passed the SPD check when announced; the selector
            # has to cover it before traffic goes there (RFC 4301 5.1).
            s = spd[k]
            grow = ops.pick(moves, nxt, 0)
            s = s._replace(sel_i=s.sel_i | grow) if p == 1 else s._replace(sel_r=s.sel_r | grow)
            spd = set_slot(spd, k, s)
        if out is not None and moves:
            out.append(Event("failover", p, sa=k))
        if out is not None and stuck:
            out.append(Event("inactive", p, sa=k))
        sad = set_slot(sad, k, e2)
    return ps._replace(sad=sad, spd=spd), ()


def e_failover(m: Model, ps: PeerState, p: int, x: MInput, out: Out) -> Result:
    return _on_failure(m, ps, p, x, out, True)


def e_mark_inactive(m: Model, ps: PeerState, p: int, x: MInput, out: Out) -> Result:
    return _on_failure(m, ps, p, x, out, False)


# --------------------------------------------------------------------------- tables

I_ = Role.INITIATOR
R_ = Role.RESPONDER

# Which checks each request kind runs, in order, after the SA lookup.  The
# reason a failing check reports is the Reason of the same name.
_PIPELINE: dict[Kind, tuple[str, ...]] = {
    Kind.UPDATE: ("owner", "absent", "present", "family", "pad", "spd", "policy", "protection"),
    Kind.ADD: ("owner", "present", "family", "pad", "spd", "policy", "protection"),
    Kind.REMOVE: ("owner", "absent", "last"),
    Kind.SET_ALT: ("owner", "overlap", "family", "pad", "spd", "policy", "protection"),
    Kind.CREATE: ("slot", "owner", "family", "pad", "spd", "policy", "protection"),
    Kind.MOBIKE_UPDATE: ("family", "pad", "policy", "protection"),
    Kind.MOBIKE_ADDITIONAL: (),
    Kind.DELETE: (),
    Kind.PROBE: (),
}

_CHECK_REQS: dict[str, tuple[str, ...]] = {
    "owner": ("SCN-OWNER-DECIDES",),
    "absent": ("MOB-REASON",),
    "present": ("MOB-REASON",),
    "last": ("INV-NONEMPTY",),
    "overlap": ("INV-ALT-DISJOINT",),
    "family": ("MOB-REASON",),
    "pad": ("SCN-VALIDATE", "INV-PAD"),
    "spd": ("SCN-VALIDATE", "INV-SAD-SPD"),
    "policy": ("SCN-VALIDATE", "SCN-POLICY-CASES"),
    "protection": ("SCN-VALIDATE", "SCN-POLICY-CASES"),
    "slot": (),
}


def _check_guard(name: str, kind: Kind) -> tuple[Guard, Reason]:
    if name == "owner":
        return Guard("not owner", g_not_owner(kind)), Reason.NOT_OWNER
    if name == "absent":
        return Guard("old address absent", g_absent), Reason.ABSENT
    if name == "present":
        return Guard("new address present", g_present), Reason.ALREADY_PRESENT
    if name == "last":
        return Guard("last address", g_last), Reason.LAST_ADDRESS
    if name == "overlap":
        return Guard("alternates overlap", g_overlap), Reason.ALT_OVERLAP
    if name == "family":
        return Guard("no same-family peer address", g_family(kind)), Reason.FAMILY
    if name == "pad":
        return Guard("PAD refuses", g_pad(kind)), Reason.PAD
    if name == "spd":
        return Guard("SPD refuses", g_spd(kind)), Reason.SPD
    if name == "policy":
        return Guard("policy refuses network", g_policy(kind)), Reason.POLICY
    if name == "protection":
        return Guard("policy needs stronger protection", g_protection(kind)), Reason.PROTECTION
    if name == "slot":
        return Guard("slot in use", g_slot_in_use), Reason.SLOT_IN_USE
    raise KeyError(name)


def initiator_rows(prof: Profile) -> list[Row]:
    rows: list[Row] = []
    send = Effect("send(request)", e_send_request)
    early = Effect("apply; send(request)", e_apply_then_send)
    update_first = Effect("update own SAs; send(request)", e_update_then_send)
    for action in Action:
        if action not in prof.wire:
            continue  # a defined refusal: the profile cannot say it (see refusal())
        trig = act_trigger(action)
        kind = prof.wire[action]
        rows.append(Row(I_, IState.IDLE, trig, Guard("no working source", g_no_source),
                        e_refuse_local(Reason.NO_SOURCE), IState.IDLE))
        if kind in (Kind.ADD, Kind.REMOVE, Kind.SET_ALT) or (kind == Kind.UPDATE and prof.options.inactive_update == "refuse"):
            rows.append(Row(I_, IState.IDLE, trig, Guard("own side of the SA cut off", g_own_side_cut_off),
                            e_refuse_local(Reason.INACTIVE_SA), IState.IDLE, ("SCN-ACTIVE-ONLY",)))
        is_change = kind in (Kind.UPDATE, Kind.ADD, Kind.REMOVE, Kind.SET_ALT,
                             Kind.MOBIKE_UPDATE, Kind.MOBIKE_ADDITIONAL)
        eff = early if (prof.options.apply_early and is_change) else send
        reqs = ("FIND-4.1-ORDER",) if eff is early else _ACTION_REQS.get(action, ())
        if kind == Kind.MOBIKE_UPDATE and prof.update_first:
            eff, reqs = update_first, _ACTION_REQS.get(action, ())
        rows.append(Row(I_, IState.IDLE, trig, None, eff, IState.WAIT, reqs))
        if kind == Kind.MOBIKE_UPDATE and prof.update_first:
            # RFC 4555 3.5: a newer move starts again; anything else waits (BUSY).
            rows += [
                Row(I_, IState.WAIT, trig, Guard("no working source", g_no_source),
                    e_refuse_local(Reason.NO_SOURCE), IState.WAIT),
                Row(I_, IState.WAIT, trig, Guard("an update outstanding", g_update_outstanding),
                    Effect("update own SAs again; readdress the request", e_restart), IState.WAIT,
                    ("MOB-UPDATE", "LIVE-CONVERGE")),
                Row(I_, IState.WAIT, trig, None, e_refuse_local(Reason.BUSY), IState.WAIT),
            ]
    rr = Trigger.RECV_RESPONSE
    rows += [
        Row(I_, IState.WAIT, rr, Guard("unprotected", g_resp_unprotected), e_discard("unprotected"),
            IState.WAIT, ("INV-AUTH",)),
        Row(I_, IState.WAIT, rr, Guard("not our request", g_resp_unexpected), e_discard("unexpected"),
            IState.WAIT, ("INV-ONCE",)),
    ]
    if prof.update_first:
        rows += [
            Row(I_, IState.WAIT, rr, Guard("a newer move came", g_ignore_answer),
                Effect("ignore; prepare a new update", e_prepare_update), IState.WAIT, ("LIVE-CONVERGE",)),
            Row(I_, IState.WAIT, rr, Guard("update refused", g_refused_update), Effect("go back; report", e_go_back),
                IState.IDLE, ("MOB-REASON", "SCN-REFUSAL-HARMLESS", "INV-AGREE")),
        ]
    rows += [
        Row(I_, IState.WAIT, rr, Guard("refused", g_resp_refused), Effect("report", e_report),
            IState.IDLE, ("MOB-REASON", "SCN-REFUSAL-HARMLESS")),
        Row(I_, IState.WAIT, rr, Guard("check or probe", g_resp_no_change), Effect("report", e_report),
            IState.IDLE, ("MOB-PRECHECK", "MH-PRECHECK", "INV-PRECHECK-PURE")),
    ]
    if prof.update_first:
        rows.append(Row(I_, IState.WAIT, rr, Guard("updated before sending", g_updated_first),
                        Effect("report", e_report), IState.IDLE, ("INV-AGREE", "MOB-UPDATE")))
    if prof.options.apply_early:
        rows.append(Row(I_, IState.WAIT, rr, Guard("applied before sending", g_resp_early),
                        Effect("report", e_report), IState.IDLE, ("FIND-4.1-ORDER",)))
    rows += [
        Row(I_, IState.WAIT, rr, None, Effect("apply; report", e_apply_own), IState.IDLE,
            ("INV-AGREE", "MOB-UPDATE", "MH-ADD", "MH-REMOVE", "MH-ALTERNATE")),
    ]
    if prof.update_first:
        rows.append(Row(I_, IState.WAIT, Trigger.TIMEOUT, Guard("a new update due", g_update_due),
                        Effect("send(request)", e_send_due), IState.WAIT, ("LIVE-CONVERGE",)))
    rows += [
        Row(I_, IState.WAIT, Trigger.TIMEOUT, Guard("retries left", g_retries_left),
            Effect("send(request again)", e_retransmit), IState.WAIT, ("INV-ONCE",)),
        Row(I_, IState.WAIT, Trigger.TIMEOUT, None, Effect("give up", e_give_up, Reason.GAVE_UP), IState.DEAD,
            ("LIVE-CONVERGE",)),
    ]
    return rows


_ACTION_REQS: dict[Action, tuple[str, ...]] = {
    Action.UPDATE: ("MOB-UPDATE", "EXT-EXPLICIT", "EXT-TARGET-SA"),
    Action.ADD: ("MH-ADD", "EXT-TARGET-SA"),
    Action.REMOVE: ("MH-REMOVE", "EXT-TARGET-SA"),
    Action.SET_ALT: ("MH-ALTERNATE", "EXT-ALT-PER-SA"),
    Action.CHECK_UPDATE: ("MOB-PRECHECK",),
    Action.CHECK_ADD: ("MH-PRECHECK",),
    Action.CHECK_REMOVE: ("MH-PRECHECK",),
    Action.CHECK_ALT: ("MH-PRECHECK",),
    Action.PROBE: ("MOB-PRECHECK",),
    Action.CREATE: ("SCN-FALLBACK",),
    Action.DELETE: ("SCN-FALLBACK",),
}


def responder_rows(prof: Profile) -> list[Row]:
    rows: list[Row] = []
    for kind in sorted(prof.request_kinds):
        trig = recv_trigger(kind)
        base = base_kind(kind)
        rows += [
            Row(R_, RState.READY, trig, Guard("unprotected", g_unprotected), e_discard("unprotected"),
                RState.READY, ("INV-AUTH",)),
            Row(R_, RState.READY, trig, Guard("retransmission", g_retransmission),
                Effect("send(cached answer)", e_resend_cached), RState.READY, ("INV-ONCE",)),
            Row(R_, RState.READY, trig, Guard("unexpected message ID", g_not_expected),
                e_discard("message ID"), RState.READY, ("INV-ONCE",)),
        ]
        if kind not in (Kind.MOBIKE_UPDATE, Kind.PROBE, Kind.DELETE, Kind.CREATE):
            # RFC 5996 1.4.1: deleting an SA that is already gone is answered
            # normally, so DELETE has no lookup refusal.
            rows.append(Row(R_, RState.READY, trig, Guard("SA unknown", g_unknown_sa),
                            e_refuse(Reason.UNKNOWN_SA, kind), RState.READY, ("MOB-REASON",)))
            if kind != Kind.MOBIKE_ADDITIONAL:
                rows.append(Row(R_, RState.READY, trig, Guard("SA inactive", g_inactive_sa(base)),
                                e_refuse(Reason.INACTIVE_SA, kind), RState.READY, ("SCN-ACTIVE-ONLY",)))
        for check in _PIPELINE[base]:
            guard, reason = _check_guard(check, base)
            rows.append(Row(R_, RState.READY, trig, guard, e_refuse(reason, kind), RState.READY,
                            ("MOB-REASON",) + _CHECK_REQS[check]))
        if prof.return_routability and base == kind and _PIPELINE[base] and base != Kind.REMOVE:
            start = e_start_rr(kind)
            if kind == Kind.MOBIKE_UPDATE and prof.answer_first:
                start = Effect("move the IKE_SA; answer(OK); hold", e_answer_then_check)
            rows.append(Row(R_, RState.READY, trig, Guard("needs return routability", g_needs_rr(kind)),
                            start, RState.RR_WAIT, ("INV-RR",)))
        reqs = ("INV-PRECHECK-PURE", "MOB-PRECHECK", "MH-PRECHECK") if base != kind else _KIND_REQS.get(kind, ())
        rows.append(Row(R_, RState.READY, trig, None, e_accept(kind), RState.READY, reqs))
        rows.append(Row(R_, RState.RR_WAIT, trig, Guard("unprotected", g_unprotected), e_discard("unprotected"),
                        RState.RR_WAIT, ("INV-AUTH",)))
        if prof.answer_first:
            # The request under check was answered already: its retransmission
            # gets the answer again.
            rows.append(Row(R_, RState.RR_WAIT, trig, Guard("retransmission", g_retransmission),
                            Effect("send(cached answer)", e_resend_cached), RState.RR_WAIT, ("INV-ONCE",)))
        rows += [
            Row(R_, RState.RR_WAIT, trig, Guard("request being verified", g_pending_retransmission),
                e_discard("still verifying"), RState.RR_WAIT, ("INV-ONCE",)),
            Row(R_, RState.RR_WAIT, trig, None, e_discard("message ID"), RState.RR_WAIT, ("INV-ONCE",)),
        ]
    if prof.return_routability:
        ch = Trigger.RECV_RR_CHALLENGE
        echo = Trigger.RECV_RR_ECHO
        for st in RState:
            rows += [
                Row(R_, st, ch, Guard("unprotected", g_unprotected), e_discard("unprotected"), st, ("INV-AUTH",)),
                Row(R_, st, ch, None, Effect("send(echo)", e_echo), st, ("INV-RR",)),
            ]
        rows += [
            Row(R_, RState.RR_WAIT, echo, Guard("unprotected", g_unprotected), e_discard("unprotected"),
                RState.RR_WAIT, ("INV-AUTH",)),
            Row(R_, RState.RR_WAIT, echo, Guard("not our challenge", g_echo_foreign), e_discard("unexpected"),
                RState.RR_WAIT, ("INV-RR",)),
            Row(R_, RState.RR_WAIT, echo, Guard("more to verify", g_echo_more),
                Effect("verify; send(RR_CHALLENGE)", e_verify_next), RState.RR_WAIT, ("INV-RR",)),
        ]
        if prof.answer_first:
            rows.append(Row(R_, RState.RR_WAIT, echo, Guard("answered already", g_answered_held),
                            Effect("verify; move the IPsec SAs", e_verify_move), RState.READY, ("INV-RR", "INV-AGREE")))
        rows += [
            Row(R_, RState.RR_WAIT, echo, Guard("SA went inactive meanwhile", g_held_sa_broken),
                Effect("refuse(INACTIVE_SA)", e_refuse_held, Reason.INACTIVE_SA), RState.READY, ("SCN-ACTIVE-ONLY",)),
            Row(R_, RState.RR_WAIT, echo, None, Effect("verify; apply; answer(OK)", e_verify_accept),
                RState.READY, ("INV-RR", "SCN-VALIDATE")),
        ]
        if prof.answer_first:
            rows += [
                Row(R_, RState.RR_WAIT, Trigger.RR_TIMEOUT, Guard("check due", g_check_due),
                    Effect("send(RR_CHALLENGE)", e_send_check), RState.RR_WAIT, ("INV-RR",)),
                Row(R_, RState.RR_WAIT, Trigger.RR_TIMEOUT, Guard("answered already", g_answered_held),
                    Effect("leave the IPsec SAs", e_unverified), RState.READY, ("INV-RR",)),
            ]
        rows += [
            # The timer, like the echo, resumes the held request: a check that
            # fails by then is reported first (draft 8's order; findings F4).
            Row(R_, RState.RR_WAIT, Trigger.RR_TIMEOUT, Guard("SA went inactive meanwhile", g_held_sa_broken),
                Effect("refuse(INACTIVE_SA)", e_refuse_held, Reason.INACTIVE_SA), RState.READY, ("SCN-ACTIVE-ONLY",)),
            Row(R_, RState.RR_WAIT, Trigger.RR_TIMEOUT, None, Effect("refuse(RR_FAILED)", e_rr_failed, Reason.RR_FAILED),
                RState.READY, ("INV-RR", "MOB-REASON")),
        ]
    for st in RState:
        if prof.responder_failover:
            rows.append(Row(R_, st, Trigger.PATH_DEAD, Guard("alternate left", g_has_alternate),
                            Effect("fail over; mark the rest inactive", e_failover), st,
                            ("LIVE-FAILOVER", "SCN-ALT-LAST-RESORT")))
        rows.append(Row(R_, st, Trigger.PATH_DEAD, None, Effect("mark inactive", e_mark_inactive), st,
                        ("SCN-ACTIVE-ONLY",)))
    return rows


_KIND_REQS: dict[Kind, tuple[str, ...]] = {
    Kind.UPDATE: ("MOB-UPDATE", "MOB-SINGLE-EXCHANGE", "EXT-EXPLICIT", "EXT-MODES", "EXT-TARGET-SA"),
    Kind.ADD: ("MH-ADD", "EXT-MODES", "EXT-TARGET-SA"),
    Kind.REMOVE: ("MH-REMOVE", "EXT-MODES", "EXT-TARGET-SA"),
    Kind.SET_ALT: ("MH-ALTERNATE", "EXT-ALT-PER-SA"),
    Kind.MOBIKE_UPDATE: ("MOB-UPDATE",),
    Kind.MOBIKE_ADDITIONAL: ("MH-ALTERNATE",),
    Kind.CREATE: ("SCN-FALLBACK",),
    Kind.DELETE: ("SCN-FALLBACK",),
    Kind.PROBE: ("MOB-PRECHECK",),
}


@dataclass(frozen=True)
class Refusal:
    """A (state, trigger) pair with no row: the input changes nothing and the
    machine reports ``reason`` (OK means: dropped silently)."""

    role: Role
    states: frozenset[int]
    triggers: frozenset[Trigger]
    reason: Reason
    why: str


def refusal_rows(prof: Profile) -> list[Refusal]:
    """The defined refusals, declared like the rows.  Together with the rows
    they cover every (state, trigger) pair exactly once (a test checks it)."""
    acts = frozenset(act_trigger(a) for a in Action)
    said = frozenset(act_trigger(a) for a in prof.wire)
    kinds = frozenset(recv_trigger(k) for k in prof.request_kinds)
    all_recv = frozenset(recv_trigger(k) for k in Kind if k not in (Kind.EMPTY, Kind.RR_CHALLENGE))
    rr = frozenset({Trigger.RECV_RR_CHALLENGE, Trigger.RECV_RR_ECHO, Trigger.RR_TIMEOUT})
    idle, wait, dead = IState.IDLE, IState.WAIT, IState.DEAD
    # a newer move while UPDATE_SA_ADDRESSES is outstanding has rows (RFC 4555 3.5)
    restart = frozenset(act_trigger(a) for a, k in prof.wire.items() if k == Kind.MOBIKE_UPDATE and prof.update_first)
    ready, rr_wait = RState.READY, RState.RR_WAIT
    res = [
        Refusal(I_, frozenset({idle}), acts - said, Reason.UNSUPPORTED, "the profile's wire cannot express it"),
        Refusal(I_, frozenset({wait}), acts - restart, Reason.BUSY, "one request at a time (RFC 5996 2.3)"),
        Refusal(I_, frozenset({dead}), acts, Reason.GAVE_UP, "the IKE_SA is considered dead (RFC 5996 2.4)"),
        Refusal(I_, frozenset({idle, dead}), frozenset({Trigger.RECV_RESPONSE, Trigger.TIMEOUT}), Reason.OK,
                "no request outstanding: a stray answer or timer is dropped"),
        Refusal(R_, frozenset({ready, rr_wait}), all_recv - kinds, Reason.UNSUPPORTED,
                "a request kind this profile does not know is dropped"),
    ]
    if prof.return_routability:
        res.append(Refusal(R_, frozenset({ready}), frozenset({Trigger.RECV_RR_ECHO, Trigger.RR_TIMEOUT}), Reason.OK,
                           "no return routability check outstanding"))
    else:
        res.append(Refusal(R_, frozenset({ready, rr_wait}), rr, Reason.UNSUPPORTED,
                           "the profile has no return routability check"))
    return res


def refusal(role: Role, state: int, trigger: Trigger, prof: Profile) -> Reason:
    """The reason a (state, trigger) pair without a row reports."""
    for r in refusal_rows(prof):
        if r.role == role and state in r.states and trigger in r.triggers:
            return r.reason
    raise LookupError(f"no row and no defined refusal for {role.name} {state} {trigger.name}")
