"""Strengthening lemmas for the z3 induction (``_z3``).

The registry's state invariants are true in every reachable state but are
rarely inductive on their own: a state that satisfies them and violates them
one step later usually has an exchange in an impossible shape (an answer in
flight for a request nobody sent, a responder two message IDs ahead, a held
request that never passed the checks).  The lemmas below rule those shapes
out.  Each is stated over worlds in the model's own terms, evaluated by the
same symbolic execution as the requirements, and is a Houdini candidate like
them: one that is false initially or not inductive with the others simply
drops out, so a lemma can make the induction stronger but never unsound.

Directions.  Peer ``p``'s initiator talks to peer ``q = 1 - p``'s responder:
its requests travel on ``chan[p]``, the answers on ``chan[q]``.  The cheap
lemmas are stated for both directions: for a peer whose user never acts (not
in ``Model.mobile``) the initiator stays at rest, so its direction holds
trivially.  The costly ones (whose symbolic evaluation forks) only for the
directions a request can take.

Every lemma holds in every reachable state of the built-in scenarios under
each profile's default reading; ``tests/test_z3.py`` checks that on the
explorer's states.  Under other readings some do not (``apply_early`` breaks
``databases_follow`` as it breaks INV-AGREE), and they drop out.
"""

from __future__ import annotations

import itertools
import weakref
from collections.abc import Callable
from typing import Any

from ipsecmm.model import (
    EMPTY,
    IState,
    Kind,
    MInput,
    Model,
    Msg,
    PeerState,
    Role,
    RState,
    SAState,
    Trigger,
    World,
)
from ipsecmm.model import _ops as ops
from ipsecmm.model._machines import AGAIN_IGNORE, _rr_needed, request_for
from ipsecmm.model._vocab import recv_trigger

from . import _preds as P

NOT = P.NOT


def _imp(a: Any, b: Any) -> Any:
    return NOT(a) | b


def _same(a: tuple[Any, ...], b: tuple[Any, ...]) -> Any:
    """Field-wise equality of two flat records, as one formula (concretely,
    a tuple comparison: the explorer-side check runs on every state)."""
    if _concrete(a) and _concrete(b):
        return a == b
    ok: Any = True
    for x, y in zip(a, b, strict=True):
        ok = ok & (x == y)
    return ok


def _concrete(record: tuple[Any, ...]) -> bool:
    return all(isinstance(x, int) for x in record)


def _among(v: Any, values: Any) -> Any:
    if isinstance(v, int):
        return v in values
    hit: Any = False
    for x in values:
        hit = hit | (v == int(x))
    return hit


def _request(msg: Msg) -> Any:
    """A protected request (not a return routability message)."""
    return (msg.prot == 1) & (msg.resp == 0) & (msg.kind != Kind.EMPTY) & (msg.kind != Kind.RR_CHALLENGE)


def _response(msg: Msg) -> Any:
    """A protected answer to a request (not a return routability echo)."""
    return (msg.prot == 1) & (msg.resp == 1) & (msg.kind != Kind.EMPTY) & (msg.kind != Kind.RR_CHALLENGE)


_INITIAL: weakref.WeakKeyDictionary[Model, World] = weakref.WeakKeyDictionary()


def _initial(m: Model) -> World:
    """``m.initial()``, built once per model: the explorer-side check of the
    lemmas evaluates them on every reachable state."""
    w = _INITIAL.get(m)
    if w is None:
        w = _INITIAL[m] = m.initial()
    return w


# --------------------------------------------------------------------------- who moves


def initiators_at_rest(m: Model, w: World) -> Any:
    """A peer whose user never acts never starts an exchange: its initiator
    keeps its initial record, since only an action takes it out of IDLE."""
    init = _initial(m)
    ok: Any = True
    for p in (0, 1):
        if p in m.mobile:
            continue
        a, b = w.peers[p].ini, init.peers[p].ini
        ok = ok & (a.st == b.st) & (a.mid == b.mid) & (a.retries == b.retries) & (a.probed == b.probed)
        ok = ok & _same(a.req, b.req)
    return ok


def fixed_addresses_work(m: Model, w: World) -> Any:
    """Only the addresses of peers whose user acts are lost or gained: the
    others keep working as the scenario starts them."""
    movable = 0
    for p in m.mobile:
        movable |= m.owned[p]
    return ((w.up ^ _initial(m).up) & ~movable) == 0


def requests_counted(m: Model, w: World) -> Any:
    """Every request sent is counted once: it moves its initiator out of IDLE
    and the message ID moves on only when its answer arrives.  A MOBIKE
    move while an update is outstanding (RFC 4555 3.5) counts too, and is
    not always followed by a message ID of its own (a second one before the
    answer, or one while the new update waits for its timer, only changes
    the address that update asks for), so there the count is a bound."""
    init = _initial(m)
    if m.prof.update_first:
        # The move that makes the outstanding answer one to ignore has been
        # counted, and the message ID it needs comes with that answer.  (No
        # differences here: they would wrap around below the first ID.)
        ok: Any = True
        sent: Any = 0
        first = 0
        for p in m.mobile:
            ini = w.peers[p].ini
            first += init.peers[p].ini.mid
            ok = ok & (ini.mid >= init.peers[p].ini.mid)
            sent = sent + ini.mid + ops.pick(ini.st != IState.IDLE, 1, 0) + ops.pick(ini.again == AGAIN_IGNORE, 1, 0)
        return ok & (sent <= w.used.requests + first)
    total: Any = 0
    for p in m.mobile:
        ini = w.peers[p].ini
        total = total + (ini.mid - init.peers[p].ini.mid) + ops.pick(ini.st != IState.IDLE, 1, 0)
    return total == w.used.requests


# --------------------------------------------------------------------------- what a request can say

#: Fields of a request that come from the user's action alone (the others are
#: the exchange's: message ID, addresses of the packet, protection, reasons).
_ASKED = ("kind", "sa", "old", "new", "addrs", "intent")


_ASKABLE: weakref.WeakKeyDictionary[Model, dict[int, dict[int, dict[str, frozenset[int]]]]] = weakref.WeakKeyDictionary()


def _askable(m: Model, p: int) -> dict[int, dict[str, frozenset[int]]]:
    """Per request kind, the values each asked field takes over the user's
    alphabet (``request_for`` on each action).  Fields are taken one by one,
    so this over-approximates the alphabet, which is all a lemma needs."""
    per_peer = _ASKABLE.setdefault(m, {})
    if p not in per_peer:
        per_peer[p] = _askable_fields(m, p)
    return per_peer[p]


def _askable_fields(m: Model, p: int) -> dict[int, dict[str, frozenset[int]]]:
    # A request may depend on the IKE_SA's own side and on which of the
    # peer's addresses work: MOBIKE's list of additional addresses grows and
    # shrinks with the alternates and leaves out the address it is sent from
    # (RFC 4555 3.6), which is the first working current address, or else
    # the first working one.  So every set of the peer's own addresses is
    # tried as alternates, as current addresses and as working addresses.
    ps0 = _initial(m).peers[p]
    own = [k for k in range(m.n_addr) if m.owned[p] >> k & 1]
    subsets = [sum(1 << own[j] for j in range(len(own)) if bits >> j & 1) for bits in range(1 << len(own))]
    views = []
    for cur in subsets[1:]:
        for alt in subsets:
            e = ps0.sad[0]
            e = e._replace(cur_i=cur, alt_i=alt) if p == 0 else e._replace(cur_r=cur, alt_r=alt)
            views.append(ps0._replace(sad=(e, *ps0.sad[1:])))
    res: dict[int, dict[str, set[int]]] = {}
    for a in m.alphabet.get(p, ()):
        for ps, up in itertools.product(views, subsets):
            msg = request_for(m, ps, p, a._replace(up=up))
            per = res.setdefault(int(msg.kind), {f: set() for f in _ASKED})
            for f in _ASKED:
                per[f].add(int(getattr(msg, f)))
    return {k: {f: frozenset(v) for f, v in per.items()} for k, per in res.items()}


def _well_formed(m: Model, p: int, msg: Msg, table: dict[int, dict[str, frozenset[int]]]) -> Any:
    """``msg`` asks what a user of peer ``p`` can ask, from an address ``p``
    owns to one its peer owns."""
    if _concrete(msg):
        per = table.get(msg.kind)
        if per is None or not all(getattr(msg, f) in per[f] for f in _ASKED[1:]):
            return False
        return bool(m.owned[p] >> msg.src & 1) and bool(m.owned[1 - p] >> msg.dst & 1)
    hit: Any = False
    for kind, per in table.items():
        ok: Any = msg.kind == kind
        for f in _ASKED[1:]:
            ok = ok & _among(getattr(msg, f), per[f])
        hit = hit | ok
    return hit & (ops.has(m.owned[p], msg.src) != 0) & (ops.has(m.owned[1 - p], msg.dst) != 0)


def requests_well_formed(m: Model, w: World) -> Any:
    """Every request an initiator sent asks for something its user's alphabet
    contains: the outstanding one, every protected copy on the wire, and the
    one a responder holds.  (Forged messages are unprotected and read by no
    machine.)"""
    ok: Any = True
    for p in m.mobile:
        table = _askable(m, p)
        ini, rsp = w.peers[p].ini, w.peers[1 - p].rsp
        ok = ok & _imp(ini.st == IState.WAIT, _well_formed(m, p, ini.req, table))
        ok = ok & _imp(rsp.st == RState.RR_WAIT, _well_formed(m, p, rsp.pending, table))
        for msg in w.chan[p]:
            ok = ok & _imp(_request(msg), _well_formed(m, p, msg, table))
    return ok


def update_remembers(m: Model, w: World) -> Any:
    """An initiator that moved before it asked (MOBIKE, RFC 4555 3.5) keeps,
    while its UPDATE_SA_ADDRESSES is outstanding, a set of its own addresses
    to go back to (the IKE_SA's, which are never empty), and a move that came
    meanwhile marks only such an update; with nothing outstanding it keeps
    neither."""
    ok: Any = True
    if not m.prof.update_first:
        return ok
    for p in (0, 1):
        ini = w.peers[p].ini
        updating = (ini.st == IState.WAIT) & (ini.req.kind == Kind.MOBIKE_UPDATE)
        ok = ok & _imp(updating, (ini.back != 0) & ((ini.back & ~m.owned[p]) == 0))
        ok = ok & _imp(NOT(updating), (ini.back == 0) & (ini.again == 0))
    return ok


# --------------------------------------------------------------------------- one request at a time


def outstanding_request(m: Model, w: World) -> Any:
    """An initiator keeps exactly its outstanding request: while it waits, a
    protected request of its profile under the current message ID; otherwise
    nothing (answered, given up, or never sent)."""
    ok: Any = True
    for p in (0, 1):
        ini = w.peers[p].ini
        req = ini.req
        waiting = (req.mid == ini.mid) & (req.resp == 0) & (req.prot == 1) & (req.reason == 0) & (req.why == 0)
        waiting = waiting & _among(req.kind, m.prof.request_kinds)
        ok = ok & _imp(ini.st == IState.WAIT, waiting)
        ok = ok & _imp(ini.st != IState.WAIT, _same(req, EMPTY) & (ini.retries == 0))
    return ok


def window(m: Model, w: World) -> Any:
    """IKEv2's window of one (RFC 5996 2.3): the responder expects either the
    initiator's current message ID or, once it has answered the outstanding
    request, the next one; an idle initiator has been answered."""
    ok: Any = True
    for p in (0, 1):
        ini, rsp = w.peers[p].ini, w.peers[1 - p].rsp
        ok = ok & ((rsp.mid == ini.mid) | (rsp.mid == ini.mid + 1))
        ok = ok & _imp(ini.st == IState.IDLE, rsp.mid == ini.mid)
    return ok


def cached_answer(m: Model, w: World) -> Any:
    """The responder's cache is its answer to the previous message ID, and once
    it answered the outstanding request, it is the answer to that request."""
    ok: Any = True
    for p in (0, 1):
        ini, rsp = w.peers[p].ini, w.peers[1 - p].rsp
        c = rsp.cache
        shape = (c.mid + 1 == rsp.mid) & (c.resp == 1) & (c.prot == 1) & _among(c.kind, m.prof.request_kinds)
        ok = ok & _imp(c.kind != Kind.EMPTY, shape)
        answered = (rsp.mid == ini.mid + 1) & (ini.st == IState.WAIT)
        ok = ok & _imp(answered, (c.kind == ini.req.kind) & (c.mid == ini.mid))
    return ok


def requests_in_flight(m: Model, w: World) -> Any:
    """A protected request on the wire was sent by its initiator under a
    message ID it has used; under the current one, it is the outstanding
    request itself (a retransmission or a duplicate of it; after a MOBIKE
    move, from the address the request left before, ``_same_request``)."""
    ok: Any = True
    for p in (0, 1):
        ini = w.peers[p].ini
        for msg in w.chan[p]:
            current = (msg.mid == ini.mid) & _imp(ini.st == IState.WAIT, _same_request(m, msg, ini.req))
            current = current & (ini.st != IState.IDLE)
            ok = ok & _imp(_request(msg), (msg.mid < ini.mid) | current)
    return ok


def answers_in_flight(m: Model, w: World) -> Any:
    """A protected answer on the wire answers a message ID its responder has
    moved past; the answer to the latest one is the cached answer (a
    responder replays its cache and overwrites it only with a newer answer),
    save for the packet's addresses: a replay goes back to wherever the
    retransmission came from (RFC 7296 2.11), which after a MOBIKE move is
    not where the first copy came from (RFC 4555 3.5).  No initiator reads
    an answer's addresses, so the rest is all the induction needs."""
    ok: Any = True
    for p in (0, 1):
        rsp = w.peers[p].rsp
        for msg in w.chan[p]:
            latest = _same(_content(msg), _content(rsp.cache))
            ok = ok & _imp(_response(msg), (msg.mid < rsp.mid) & _imp(msg.mid + 1 == rsp.mid, latest))
    return ok


def _content(msg: Msg, header: tuple[str, ...] = ("src", "dst")) -> tuple[Any, ...]:
    """``msg`` without the ``header`` fields of its IP header."""
    return tuple(v for f, v in zip(msg._fields, msg, strict=True) if f not in header)


def _same_request(m: Model, copy: Msg, req: Msg) -> Any:
    """``copy`` is a copy of the request ``req``.  Where an initiator moves
    while its UPDATE_SA_ADDRESSES is outstanding (RFC 4555 3.5), it sends the
    request again from its newer address, and the copies sent before still
    carry the older one as their source."""
    if m.prof.update_first:
        moved = (copy.src == req.src) | (req.kind == Kind.MOBIKE_UPDATE)
        return _same(_content(copy, ("src",)), _content(req, ("src",))) & moved
    return _same(copy, req)


def _answered_hold(m: Model, pend: Msg) -> Any:
    """The held request was answered before its check: MOBIKE's
    UPDATE_SA_ADDRESSES, where the responder answers first (RFC 4555 3.5)."""
    if not m.prof.answer_first:
        return False
    return pend.kind == Kind.MOBIKE_UPDATE


def held_request(m: Model, w: World) -> Any:
    """A responder holds a request only while it checks return routability,
    and the request it holds is the initiator's outstanding one, not yet
    answered.  A MOBIKE responder answers UPDATE_SA_ADDRESSES before the
    check (RFC 4555 3.5): that request it holds under the message ID it
    answered, its cache is that answer, and until the answer arrives it is
    the initiator's outstanding request (or the initiator gave up on it)."""
    ok: Any = True
    for p in (0, 1):
        ini, rsp = w.peers[p].ini, w.peers[1 - p].rsp
        pend = rsp.pending
        ok = ok & _imp(rsp.st == RState.READY, _same(pend, EMPTY) & (rsp.due == 0))
        held = (pend.mid == rsp.mid) & (pend.resp == 0) & (pend.prot == 1) & (rsp.mid == ini.mid)
        held = held & (ini.st != IState.IDLE) & _imp(ini.st == IState.WAIT, _same_request(m, pend, ini.req))
        held = held & _among(pend.kind, m.prof.request_kinds) & (rsp.due == 0)
        answered = _answered_hold(m, pend)
        if answered is not False:
            early = (pend.mid + 1 == rsp.mid) & (pend.resp == 0) & (pend.prot == 1)
            early = early & (rsp.cache.mid == pend.mid) & (rsp.cache.kind == pend.kind)
            waiting = (ini.st != IState.IDLE) & _imp(ini.st == IState.WAIT, _same_request(m, pend, ini.req))
            early = early & _imp(ini.mid == pend.mid, waiting)
            held = (answered & early) | (NOT(answered) & held)
        ok = ok & _imp(rsp.st == RState.RR_WAIT, held)
    return ok


def held_request_checked(m: Model, w: World) -> Any:
    """A held request passed every check before return routability, and they
    would pass again: they read the PAD, policy and the responder's address
    sets, which nothing changes while it waits.  Only the SA's activity may
    change meanwhile (``g_held_sa_broken`` looks again), so that check is
    left out.  And some address of it still waits for verification."""
    ok: Any = True
    for p in m.mobile:  # a responder holds only what an initiator sent (held_request)
        q = 1 - p
        ps = w.peers[q]
        if ps.rsp.st == RState.RR_WAIT:
            # An answered hold went through the checks before its answer;
            # now it is a retransmission to them, and nothing is decided on
            # it any more but whether the IPsec SAs follow: it still has an
            # address to verify.
            pend = ps.rsp.pending
            answered = _answered_hold(m, pend)
            passes = _passes_until_rr(m, ps, q, pend)
            if answered is not False:
                unverified = _rr_needed(m, ps, q, pend, Kind.MOBIKE_UPDATE) != 0
                passes = (answered & unverified) | (NOT(answered) & passes)
            ok = ok & passes
    return ok


#: The label of the lookup row whose outcome may change while a request is
#: held (``g_inactive_sa``); every other check before return routability reads
#: what stays put.
_MAY_CHANGE_WHILE_HELD = "SA inactive"


def _passes_until_rr(m: Model, ps: PeerState, q: int, msg: Msg) -> Any:
    kind = P.kind_of(msg.kind)
    if kind in (Kind.EMPTY, Kind.RR_CHALLENGE):
        return False
    x = MInput(recv_trigger(kind), msg)
    # In the rows' order: later guards may assume what earlier ones checked
    # (the SA exists), so a failed check ends the evaluation as it ends the
    # machine's.
    for row in m.rows.get((int(Role.RESPONDER), int(x.trigger), int(RState.READY)), ()):
        if row.dst == RState.RR_WAIT:
            return row.guard is None or row.guard(m, ps, q, x)
        if row.guard is not None and row.guard.label != _MAY_CHANGE_WHILE_HELD and row.guard(m, ps, q, x):
            return False
    return False  # this kind never waits for return routability


# --------------------------------------------------------------------------- the databases follow the exchange


def _synced(a: PeerState, b: PeerState) -> Any:
    """The two peers' SADs hold the same address sets and the same SAs exist,
    so applying one request to both gives the same address sets again."""
    ok: Any = True
    for x, y in zip(a.sad, b.sad, strict=True):
        ok = ok & P.same_addresses(x, y)
        ok = ok & ((x.state == SAState.ABSENT) == (y.state == SAState.ABSENT))
        ok = ok & ((x.state == SAState.DELETED) == (y.state == SAState.DELETED))
    return ok


def _after_answer(m: Model, w: World, p: int) -> PeerState:
    """Peer ``p`` as it will be once the answer its peer cached reaches it."""
    ps = w.peers[p]
    res = m.fire(ps, p, Role.INITIATOR, MInput(Trigger.RECV_RESPONSE, w.peers[1 - p].rsp.cache), None)
    return ps if res is None else res[0]


def databases_follow(m: Model, w: World) -> Any:
    """The peers' SADs differ only by the request in the middle of its
    exchange.  With every responder at its initiator's message ID, nothing
    is half done and the SADs agree; when a responder has carried out the
    outstanding request and the answer is still on its way, the SADs agree
    once the initiator has taken that answer.  This is INV-AGREE made
    inductive: it holds in flight, not only at rest.

    Not stated for MOBIKE's order (RFC 4555 3.5): its initiator moves before
    it asks and again while it waits, and its responder moves the IKE_SA when
    it answers and the IPsec SAs only after the check, so the SADs differ in
    more shapes than one exchange in flight; the lemma claims nothing there,
    and z3 proves no INV-AGREE for that profile (the explorer still judges
    it)."""
    ok: Any = True
    if m.prof.update_first:
        return ok
    level = []
    for p in (0, 1):
        ini, rsp = w.peers[p].ini, w.peers[1 - p].rsp
        level.append(rsp.mid == ini.mid)
    ok = ok & _imp(level[0] & level[1], _synced(w.peers[0], w.peers[1]))
    for p in (0, 1):
        ini, rsp = w.peers[p].ini, w.peers[1 - p].rsp
        half = (rsp.mid == ini.mid + 1) & (ini.st == IState.WAIT) & level[1 - p]
        if p in m.mobile:  # otherwise never half done (initiators_at_rest)
            ok = ok & _imp(half, _synced(_after_answer(m, w, p), w.peers[1 - p]))
    return ok


# --------------------------------------------------------------------------- address sets


def owned_sides(m: Model, w: World) -> Any:
    """Each side of every SA holds only addresses of that side's owner: the
    scenario starts so, a request only names its sender's own addresses or is
    refused (SCN-OWNER-DECIDES), and the initiator applies what its
    responder accepted."""
    ok: Any = True
    for ps in w.peers:
        for e in ps.sad:
            ok = ok & ((e.cur_i | e.alt_i) & ~m.owned[0] == 0) & ((e.cur_r | e.alt_r) & ~m.owned[1] == 0)
    return ok


def alternates_authorised(m: Model, w: World) -> Any:
    """Alternates a peer may fail over to are in its PAD: mm's alternates
    request passes the PAD check like any address it introduces.  (MOBIKE
    does not check its ADDITIONAL_ADDRESSES list against the PAD, and never
    sends to an alternate by itself.)"""
    ok: Any = True
    if not m.prof.responder_failover:
        return ok
    for p in (0, 1):
        for e in w.peers[p].sad:
            ok = ok & ((P.alt(e, 1 - p) & ~m.pad[p]) == 0)
    return ok


def ike_sa_exists(m: Model, w: World) -> Any:
    """The IKE_SA (slot 0) is never absent or deleted: no request can create
    or delete it, so every request has an IKE_SA to be sent over (and its
    addresses to be sent from and to)."""
    ok: Any = True
    for ps in w.peers:
        ok = ok & P.exists(ps.sad[0])
    return ok


def current_nonempty(m: Model, w: World) -> Any:
    """INV-NONEMPTY for every SA that exists, inactive ones included: marking
    an SA inactive leaves its addresses alone, and an UPDATE revives it."""
    ok: Any = True
    for ps in w.peers:
        for e in ps.sad:
            ok = ok & _imp(P.exists(e), (e.cur_i != 0) & (e.cur_r != 0))
    return ok


def sends_to_current(m: Model, w: World) -> Any:
    """A peer fails over only when addresses of its peer stop working, and
    those of a peer whose user never acts never do: towards such a peer,
    traffic goes exactly to its current addresses."""
    ok: Any = True
    for p in (0, 1):
        if 1 - p in m.mobile:
            continue
        for e in w.peers[p].sad:
            ok = ok & _imp(P.exists(e), e.out == P.cur(e, 1 - p))
    return ok


def used_addresses_verified(m: Model, w: World) -> Any:
    """Where the profile checks return routability (not plain IKEv2), it
    covers every address a responder accepted, not only those it sends to:
    current addresses came through the same check, and so did alternates
    where a responder may fail over to them (mm verifies an alternates
    request; MOBIKE does not verify its ADDITIONAL_ADDRESSES list, and never
    fails over by itself).  ``verified`` only grows.  A responder that
    answers first (MOBIKE, RFC 4555 3.5) moves the IKE_SA to the new address
    before the check and leaves it there if the check fails: only its IPsec
    SAs wait for the check."""
    ok: Any = True
    if not m.prof.return_routability:
        return ok
    for p in (0, 1):
        ps = w.peers[p]
        for k, e in enumerate(ps.sad):
            if k == 0 and m.prof.answer_first:
                continue
            used = P.cur(e, 1 - p) | e.out
            if m.prof.responder_failover:
                used = used | P.alt(e, 1 - p)
            ok = ok & _imp(P.exists(e), (used & m.rr[p] & ~ps.rsp.verified) == 0)
    return ok


LEMMAS: dict[str, Callable[[Model, World], Any]] = {
    "lemma: sides hold their owner's addresses": owned_sides,
    "lemma: alternates are authorised by the PAD": alternates_authorised,
    "lemma: initiators without a user stay at rest": initiators_at_rest,
    "lemma: addresses of peers that never move keep working": fixed_addresses_work,
    "lemma: requests sent are counted": requests_counted,
    "lemma: requests ask what a user can ask": requests_well_formed,
    "lemma: an initiator keeps exactly its outstanding request": outstanding_request,
    "lemma: a MOBIKE update remembers where it left from": update_remembers,
    "lemma: window of one": window,
    "lemma: the cache answers the previous message ID": cached_answer,
    "lemma: requests in flight are current or old": requests_in_flight,
    "lemma: answers in flight are cached or old": answers_in_flight,
    "lemma: a held request is the outstanding one": held_request,
    "lemma: a held request passed the checks": held_request_checked,
    "lemma: SADs differ only by the exchange in flight": databases_follow,
    "lemma: the IKE_SA always exists": ike_sa_exists,
    "lemma: existing SAs have current addresses": current_nonempty,
    "lemma: traffic to a fixed peer goes to its current addresses": sends_to_current,
    "lemma: accepted addresses passed return routability": used_addresses_verified,
}

