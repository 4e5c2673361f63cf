"""Predicates over worlds and steps: the vocabulary the requirements use.

Every function here takes the model, a world (or a step: pre-world, input,
post-world) and returns a truth value.  They are written in the same style as
the guards: plain Python over record fields, no sets, no hashing of values, and
``ops.conc`` where a field indexes a table.  So the explorer evaluates them on
concrete worlds and the z3 engine on symbolic ones, and both read the same text.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from ipsecmm.model import (
    NOADDR,
    NOSA,
    Action,
    InKind,
    Input,
    IState,
    Kind,
    Mode,
    Model,
    Msg,
    PeerState,
    Reason,
    RState,
    SAState,
    World,
)
from ipsecmm.model import _ops as ops
from ipsecmm.model._machines import base_kind

from . import _oracle as O

KIND_VALUES = tuple(int(k) for k in Kind)
CHANGE = (Kind.UPDATE, Kind.ADD, Kind.REMOVE, Kind.SET_ALT, Kind.MOBIKE_UPDATE, Kind.MOBIKE_ADDITIONAL)
CHECKS = (Kind.CHECK_UPDATE, Kind.CHECK_ADD, Kind.CHECK_REMOVE, Kind.CHECK_ALT)
ADDRESS = CHANGE + CHECKS
PRECISE = tuple(r for r in Reason if 1 <= r.value < 20)


def kind_of(v: Any) -> Kind:
    return Kind(ops.conc(v, KIND_VALUES))


def slot_of(m: Model, v: Any) -> int:
    k = ops.conc(v, m.slot_values)
    return k if k < m.n_slots else NOSA


def is_in(k: Kind, kinds: tuple[Kind, ...]) -> bool:
    return k in kinds


# --------------------------------------------------------------------------- databases


# State predicates are written as one formula each: ``&``, ``|`` and
# ``ops.lnot`` instead of ``and``, ``or``, ``not`` and ``if``, so that the z3
# engine gets one term per predicate rather than one path per combination.
NOT = ops.lnot


def same_addresses(a: Any, b: Any) -> Any:
    return (a.cur_i == b.cur_i) & (a.cur_r == b.cur_r) & (a.alt_i == b.alt_i) & (a.alt_r == b.alt_r)


def same_databases(a: PeerState, b: PeerState) -> Any:
    """SAD (addresses, alternates, traffic, state, keys) and SPD equal.

    Concretely a tuple comparison, which shortcuts on identity (effects copy
    what they keep); symbolically one conjunction over the fields, because a
    tuple comparison would fork once per field."""
    if isinstance(a.sad[0].state, int):
        return a.sad == b.sad and a.spd == b.spd
    ok: Any = True
    for x, y in zip(a.sad + a.spd, b.sad + b.spd, strict=True):
        for f in range(len(x)):
            ok = ok & (x[f] == y[f])
    return ok


def quiescent(w: World) -> Any:
    ok: Any = True
    for ps in w.peers:
        ok = ok & (ps.ini.st != IState.WAIT) & (ps.rsp.st == RState.READY)
    for ch in w.chan:
        for msg in ch:
            ok = ok & (msg.kind == Kind.EMPTY)
    return ok


def live(w: World) -> Any:
    """Neither initiator has given up on the IKE_SA."""
    return (w.peers[0].ini.st != IState.DEAD) & (w.peers[1].ini.st != IState.DEAD)


def exists(e: Any) -> Any:
    return (e.state == SAState.ACTIVE) | (e.state == SAState.INACTIVE)


def cur(e: Any, side: int) -> Any:
    return e.cur_i if side == 0 else e.cur_r


def alt(e: Any, side: int) -> Any:
    return e.alt_i if side == 0 else e.alt_r


def introduced(msg: Msg, kind: Kind) -> Any:
    """Addresses a request asks its responder to start trusting."""
    if kind in (Kind.UPDATE, Kind.ADD, Kind.CHECK_UPDATE, Kind.CHECK_ADD, Kind.CREATE):
        return ops.bit(msg.new)
    if kind in (Kind.SET_ALT, Kind.CHECK_ALT, Kind.MOBIKE_ADDITIONAL):
        return msg.addrs
    if kind == Kind.MOBIKE_UPDATE:
        return ops.bit(msg.src)
    return 0


# --------------------------------------------------------------------------- steps


class Applied:
    """Which request a step carries out, if any, and where."""

    __slots__ = ("kind", "msg", "peer", "requester", "role")

    def __init__(self, peer: int, requester: int, msg: Msg, kind: Kind, role: str) -> None:
        self.peer = peer  # the peer whose machine handles the step
        self.requester = requester  # the peer that sent the request
        self.msg = msg  # the request
        self.kind = kind
        self.role = role  # "responder" (request or echo arrives) | "initiator" (answer arrives)


_memo: dict[str, tuple[Any, ...]] = {}


def _remember(name: str, pre: World, inp: Input, compute: Any) -> Any:
    """The last value of ``name`` for this exact step: several predicates ask
    the same question about one step in a row."""
    hit = _memo.get(name)
    if hit is not None and hit[0] is pre and hit[1] is inp:
        return hit[2]
    value = compute()
    if isinstance(pre.up, int):  # symbolic runs re-execute: never cache them
        _memo[name] = (pre, inp, value)
    return value


def carried(m: Model, pre: World, inp: Input) -> Applied | None:
    """The request a delivery step processes: a request reaching its responder,
    an echo completing a held request, or an answer reaching the initiator."""
    if inp.kind != InKind.DELIVER:
        return None
    return _remember("carried", pre, inp, lambda: _carried(m, pre, inp))


def _carried(m: Model, pre: World, inp: Input) -> Applied | None:
    msg = pre.chan[inp.peer][inp.idx]
    kind = kind_of(msg.kind)
    if kind == Kind.EMPTY:
        return None
    q = 1 - inp.peer
    ps = pre.peers[q]
    if kind == Kind.RR_CHALLENGE:
        if msg.resp == 0:
            return None  # a challenge: answered by an echo, no request carried out
        pend = ps.rsp.pending
        pk = kind_of(pend.kind)
        if pk == Kind.EMPTY:
            return None
        return Applied(q, inp.peer, pend, pk, "responder")
    if msg.resp == 0:
        return Applied(q, inp.peer, msg, kind, "responder")
    req = ps.ini.req
    rk = kind_of(req.kind)
    if rk == Kind.EMPTY:
        return None
    return Applied(q, q, req, rk, "initiator")


def answer(m: Model, pre: World, inp: Input) -> tuple[int, Msg, Msg] | None:
    """(initiator, its request, the answer) when a step delivers the answer an
    initiator is waiting for: protected, matching message ID and kind."""
    if inp.kind != InKind.DELIVER:
        return None
    return _remember("answer", pre, inp, lambda: _answer(m, pre, inp))


def _answer(m: Model, pre: World, inp: Input) -> tuple[int, Msg, Msg] | None:
    msg = pre.chan[inp.peer][inp.idx]
    if msg.resp == 0 or msg.prot == 0 or msg.kind == Kind.RR_CHALLENGE or msg.kind == Kind.EMPTY:
        return None
    q = 1 - inp.peer
    ini = pre.peers[q].ini
    if ini.st != IState.WAIT or ini.req.mid != msg.mid or ini.req.kind != msg.kind:
        return None
    return q, ini.req, msg


def refusal_sent(pre: World, post: World, p: int) -> Msg | None:
    """The refusal peer ``p``'s responder decided in this step, if it decided one."""
    a, b = pre.peers[p].rsp, post.peers[p].rsp
    if a is b:
        return None
    if b.mid == a.mid or b.cache.reason == Reason.OK:
        return None
    return b.cache


class Decision(NamedTuple):
    """A responder answering a request in this step."""

    peer: int  # the responder
    request: Msg  # the request it decided on (a held one after return routability)
    answer: Msg  # what it sends back (OK or a refusal)
    held: bool  # decided on resuming a request held for return routability (echo or timer)


def decision(m: Model, pre: World, inp: Input, post: World) -> Decision | None:
    """The answer a responder decides in this step, if it decides one: a new
    request answered at once, or a held request answered when its echo comes
    back or its return routability timer fires."""
    if inp.kind != InKind.RR_TIMEOUT and inp.kind != InKind.DELIVER:
        return None
    hit = _memo.get("decision")
    if hit is not None and hit[0] is pre and hit[1] is inp and hit[3] is post:
        return hit[2]
    d = _decision(pre, inp, post)
    if isinstance(pre.up, int):
        _memo["decision"] = (pre, inp, d, post)
    return d


def _decision(pre: World, inp: Input, post: World) -> Decision | None:
    if inp.kind == InKind.RR_TIMEOUT:
        p = inp.peer
    elif inp.kind == InKind.DELIVER:
        msg = pre.chan[inp.peer][inp.idx]
        if msg.kind == Kind.EMPTY or msg.prot == 0 or (msg.resp != 0 and msg.kind != Kind.RR_CHALLENGE):
            return None
        p = 1 - inp.peer
    else:
        return None
    a, b = pre.peers[p].rsp, post.peers[p].rsp
    if a is b or b.mid == a.mid:
        return None
    held = a.st == RState.RR_WAIT
    req = a.pending if held else pre.chan[inp.peer][inp.idx]
    return Decision(p, req, b.cache, held)


def delivered(pre: World, inp: Input) -> Msg | None:
    if inp.kind != InKind.DELIVER:
        return None
    msg = pre.chan[inp.peer][inp.idx]
    return None if msg.kind == Kind.EMPTY else msg


# --------------------------------------------------------------------------- state invariants


def agree(m: Model, w: World) -> Any:
    """INV-AGREE: same address sets for every SA on both peers."""
    ok: Any = True
    for k in range(m.n_slots):
        ok = ok & same_addresses(w.peers[0].sad[k], w.peers[1].sad[k])
    return ok


def at_rest(m: Model, w: World) -> Any:
    return quiescent(w) & live(w)


def sad_spd(m: Model, w: World) -> Any:
    """INV-SAD-SPD: transport SAs only use address pairs their SPD selects."""
    ok: Any = True
    for p in (0, 1):
        ps = w.peers[p]
        for k in range(m.n_slots):
            if m.mode[k] != Mode.TRANSPORT:
                continue
            e, s = ps.sad[k], ps.spd[k]
            remote_sel = s.sel_r if p == 0 else s.sel_i
            covered = ((e.cur_i & ~s.sel_i) == 0) & ((e.cur_r & ~s.sel_r) == 0) & ((e.out & ~remote_sel) == 0)
            ok = ok & (NOT(exists(e)) | covered)
    return ok


def nonempty(m: Model, w: World) -> Any:
    """INV-NONEMPTY: an active SA has a current address on each side."""
    ok: Any = True
    for ps in w.peers:
        for e in ps.sad:
            ok = ok & ((e.state != SAState.ACTIVE) | ((e.cur_i != 0) & (e.cur_r != 0)))
    return ok


def alt_disjoint(m: Model, w: World) -> Any:
    ok: Any = True
    for ps in w.peers:
        for e in ps.sad:
            ok = ok & ((e.alt_i & e.cur_i) == 0) & ((e.alt_r & e.cur_r) == 0)
    return ok


def rr_verified(m: Model, w: World) -> Any:
    """INV-RR: a peer only sends to addresses its policy lets it use unverified,
    or that passed return routability."""
    ok: Any = True
    for p in (0, 1):
        ps = w.peers[p]
        for e in ps.sad:
            ok = ok & (NOT(exists(e)) | ((e.out & m.rr[p] & ~ps.rsp.verified) == 0))
    return ok


def pad_ok(m: Model, w: World) -> Any:
    """INV-PAD: every address an SA uses is authorised by the PAD."""
    ok: Any = True
    for p in (0, 1):
        for e in w.peers[p].sad:
            ok = ok & (NOT(exists(e)) | (((cur(e, 1 - p) | e.out) & ~m.pad[p]) == 0))
    return ok


def uses_alternate(m: Model, w: World) -> Any:
    hit: Any = False
    for p in (0, 1):
        for e in w.peers[p].sad:
            hit = hit | (exists(e) & ((e.out & alt(e, 1 - p)) != 0))
    return hit


def alternate_alone(m: Model, w: World) -> Any:
    """SCN-ALT-LAST-RESORT: traffic to an alternate never goes beside traffic
    to a current address."""
    ok: Any = True
    for p in (0, 1):
        for e in w.peers[p].sad:
            both = ((e.out & alt(e, 1 - p)) != 0) & ((e.out & cur(e, 1 - p)) != 0)
            ok = ok & (NOT(exists(e)) | NOT(both))
    return ok


def given_only(m: Model, w: World) -> Any:
    """SCN-OWNER-DECIDES (state part): a peer only sends to its peer's current
    addresses or to alternates its peer gave it."""
    ok: Any = True
    for p in (0, 1):
        for e in w.peers[p].sad:
            ok = ok & (NOT(exists(e)) | ((e.out & ~(cur(e, 1 - p) | alt(e, 1 - p))) == 0))
    return ok


# --------------------------------------------------------------------------- step invariants


def precheck_step(m: Model, pre: World, inp: Input) -> bool:
    """A check-only question of the user's (in whatever form the profile
    sends it) reaches the responder, or its answer reaches the initiator."""
    msg = delivered(pre, inp)
    if msg is None or msg.prot == 0 or msg.kind == Kind.RR_CHALLENGE:
        return False
    if msg.resp == 0 and is_in(kind_of(msg.kind), CHECKS):
        return True
    asker = inp.peer if msg.resp == 0 else 1 - inp.peer
    ini = pre.peers[asker].ini
    return ini.st == IState.WAIT and ini.req.mid == msg.mid and O.question(m, ini.asked) is not None


def databases_unchanged(m: Model, pre: World, inp: Input, post: World) -> bool:
    return same_databases(pre.peers[0], post.peers[0]) and same_databases(pre.peers[1], post.peers[1])


def old_request_step(m: Model, pre: World, inp: Input) -> bool:
    """A protected request that is not the next one reaches a ready responder."""
    msg = delivered(pre, inp)
    if msg is None or msg.resp != 0 or msg.prot == 0 or msg.kind == Kind.RR_CHALLENGE:
        return False
    rsp = pre.peers[1 - inp.peer].rsp
    return rsp.st == RState.READY and msg.mid != rsp.mid


def applied_once(m: Model, pre: World, inp: Input, post: World) -> bool:
    """INV-ONCE: nothing changes, and a retransmission of the last request gets
    the cached answer again (unless the channel back is full)."""
    q = 1 - inp.peer
    if not same_databases(pre.peers[q], post.peers[q]):
        return False
    msg = pre.chan[inp.peer][inp.idx]
    rsp = pre.peers[q].rsp
    if msg.mid + 1 == rsp.mid and rsp.cache.kind == msg.kind:
        back = pre.chan[q]
        if back[len(back) - 1].kind == Kind.EMPTY:
            # The cached answer, sent back to where this copy came from (RFC
            # 7296 2.11): a MOBIKE initiator that moved retransmits from its
            # new address (RFC 4555 3.5).
            again = rsp.cache._replace(src=msg.dst, dst=msg.src)
            found = False
            for x in post.chan[q]:
                if x == again:
                    found = True
            return found
    return True


def sent_by(pre: World, inp: Input, post: World, p: int) -> list[Msg]:
    """The messages peer ``p`` put on the wire in this step, read off its
    outgoing channel (packed: sends append, a delivery or loss takes one out).
    Sends lost to a full channel or a dead source address are not seen: they
    are not observable either."""
    if inp.kind == InKind.DUPLICATE or inp.kind == InKind.FORGE:
        return []  # the network's copies and the attacker's messages: nobody sent them
    before = [x for x in pre.chan[p] if x.kind != Kind.EMPTY]
    if inp.kind in (InKind.DELIVER, InKind.DROP) and inp.peer == p and inp.idx < len(before):
        del before[inp.idx]
    after = [x for x in post.chan[p] if x.kind != Kind.EMPTY]
    return after[len(before):]


def _bare(x: Msg) -> Msg:
    # A cached answer may go back to the retransmission's source (RFC 7296
    # 2.11): the addresses are not part of what must repeat.
    return x._replace(src=NOADDR, dst=NOADDR)


def _lost(pre: World, p: int, src: Any) -> bool:
    """Whether a message peer ``p`` sends from ``src`` in this step is lost
    before it is seen: its outgoing channel is full, or the source address
    does not work (see ``Model._run``)."""
    ch = pre.chan[p]
    return ch[len(ch) - 1].kind != Kind.EMPTY or not pre.up >> int(src) & 1


def window_step(m: Model, pre: World, inp: Input, post: World) -> bool:
    """A step in which a responder may answer: a message delivered to it, or
    its return routability timer."""
    return inp.kind == InKind.DELIVER or inp.kind == InKind.RR_TIMEOUT


def window_kept(m: Model, pre: World, inp: Input, post: World) -> bool:
    """INV-ONCE, the responder's half of RFC 7296 2.1-2.2 that makes "at most
    once" checkable at all: an answer it puts on the wire that is not the
    repeat of its cached one moves its window past that request; and when
    its window moves, the answer goes out in the same step (unless the wire
    loses it).  A responder that answers but keeps
    expecting the same message ID would treat the retransmission as new and
    judge it again, and would drop the initiator's next request as out of
    window; one that decides but sends nothing leaves its initiator to
    retransmit for an answer it already has."""
    q = inp.peer if inp.kind == InKind.RR_TIMEOUT else 1 - inp.peer
    a, b = pre.peers[q].rsp, post.peers[q].rsp
    if a is b and pre.chan[q] is post.chan[q]:
        return True
    kept = _bare(a.cache)
    fresh = [x for x in sent_by(pre, inp, post, q)
             if x.resp == 1 and x.prot == 1 and x.kind != Kind.RR_CHALLENGE and _bare(x) != kept]
    for x in fresh:
        # Only the window: the cache itself is INV-ONCE's monitor's business,
        # and a canonical world drops it once no retransmission can come.
        if int(b.mid) != int(x.mid) + 1:
            return False
    if b.mid != a.mid and not fresh:
        return _lost(pre, q, b.cache.src)
    return True


def once_start(m: Model, w: World) -> Any:
    return (None, None, False)


def once_update(m: Model, ghost: Any, pre: World, inp: Input, post: World) -> Any:
    """INV-ONCE's history: per peer, the last answer it put on the wire, and
    whether some step failed to repeat it.  Independent of the responder's own
    cache: a responder that forgets to keep its answer still sent it once, and
    the retransmission shows what it kept."""
    if pre.chan is post.chan:
        return ghost  # nothing sent, nothing delivered: most steps (the ghost stays the same object)
    last = [ghost[0], ghost[1]]
    bad = ghost[2]
    msg = delivered(pre, inp)
    if msg is not None and msg.prot == 1 and msg.resp == 0 and msg.kind != Kind.RR_CHALLENGE:
        q = 1 - inp.peer
        prev = last[q]
        if (prev is not None and prev.mid == msg.mid and prev.kind == msg.kind
                and pre.peers[q].rsp.st == RState.READY
                and pre.chan[q][len(pre.chan[q]) - 1].kind == Kind.EMPTY
                and pre.up >> prev.src & 1 and pre.up >> msg.dst & 1):
            want = _bare(prev)
            if not any(_bare(x) == want for x in sent_by(pre, inp, post, q)):
                bad = True
    for p in (0, 1):
        if pre.chan[p] is post.chan[p]:
            continue
        for x in sent_by(pre, inp, post, p):
            if x.resp == 1 and x.prot == 1 and x.kind != Kind.RR_CHALLENGE:
                last[p] = x
    if last[0] is ghost[0] and last[1] is ghost[1] and bad == ghost[2]:
        return ghost
    return (last[0], last[1], bad)


def once_ok(m: Model, ghost: Any, pre: World, inp: Input, post: World) -> bool:
    return not ghost[2]


def unprotected_step(m: Model, pre: World, inp: Input) -> bool:
    msg = delivered(pre, inp)
    return msg is not None and msg.prot == 0


def receiver_unchanged(m: Model, pre: World, inp: Input, post: World) -> bool:
    """INV-AUTH: the receiver of an unprotected message keeps every record
    and sends nothing back: an answer (even the cached one) to a message
    anyone could have sent would make the responder a reflector, and only a
    protected message is known to come from the peer (draft 14)."""
    q = 1 - inp.peer
    a, b = pre.peers[q], post.peers[q]
    if not same_databases(a, b) or sent_by(pre, inp, post, q):
        return False
    for x, y in ((a.ini, b.ini), (a.rsp, b.rsp)):
        for f in range(len(x)):
            if x[f] != y[f]:
                return False
    return True


def refusal_step(m: Model, pre: World, inp: Input, post: World) -> bool:
    """A responder decides a refusal, or an initiator learns one."""
    if refusal_sent(pre, post, 0) is not None or refusal_sent(pre, post, 1) is not None:
        return True
    ans = answer(m, pre, inp)
    return ans is not None and ans[2].reason != Reason.OK


def refusal_harmless(m: Model, pre: World, inp: Input, post: World) -> bool:
    """SCN-REFUSAL-HARMLESS: the refusing responder and the refused initiator
    keep their databases, traffic included."""
    for p in (0, 1):
        if refusal_sent(pre, post, p) is not None and not same_databases(pre.peers[p], post.peers[p]):
            return False
    ans = answer(m, pre, inp)
    if ans is not None and ans[2].reason != Reason.OK:
        q = ans[0]
        if not same_databases(pre.peers[q], post.peers[q]):
            return False
    return True


def address_refusal_step(m: Model, pre: World, inp: Input, post: World) -> bool:
    """A responder refuses an address request (change or check-only), or the
    addresses of a new CHILD_SA."""
    d = decision(m, pre, inp, post)
    if d is None or d.answer.reason == Reason.OK:
        return False
    kind = kind_of(d.request.kind)
    return kind == Kind.CREATE or is_in(kind, ADDRESS)


def expected_reason(m: Model, pre: World, d: Decision, inp: Input) -> Reason | None:
    """What the oracle says the responder should have answered ``d.request``
    with, from the state it decided in; None when the oracle does not judge
    that kind of request."""
    view = pre.peers[d.peer]
    ask = O.wire_ask(m, d.request, 1 - d.peer, view)
    if ask is None:
        return None
    j = O.judge(m, view, ask)
    if inp.kind == InKind.RR_TIMEOUT and j.acceptable and j.verify:
        return Reason.RR_FAILED  # the checks still pass; the echo never came
    return j.reason


def reasons_precise(m: Model, pre: World, inp: Input, post: World) -> bool:
    """MOB-REASON: a refused address request carries, on the wire, the check
    the independent oracle says fails first (never a refusal of an
    acceptable request, never a coarse code)."""
    d = decision(m, pre, inp, post)
    if d is None or d.answer.reason == Reason.OK:
        return True
    kind = kind_of(d.request.kind)
    if kind == Kind.CREATE:
        # A new CHILD_SA's addresses are refused in IKEv2's own words (RFC
        # 7296 3.10.1), which every profile shares: the code must still be
        # the one for the check that fails first.
        want = expected_reason(m, pre, d, inp)
        return want is None or int(d.answer.reason) == int(m.prof.wire_reason(Kind.CREATE, want))
    if not is_in(kind, ADDRESS):
        return True
    want = expected_reason(m, pre, d, inp)
    return want is None or int(d.answer.reason) == int(want)


def user_act(m: Model, pre: World, inp: Input, post: World) -> bool:
    """A user asks an idle initiator for something (whether or not a
    request goes out)."""
    return inp.kind == InKind.ACT and inp.act is not None and pre.peers[inp.peer].ini.st == IState.IDLE


def _local_expected(m: Model, w: World, inp: Input) -> Reason:
    a = inp.act
    assert a is not None
    p = inp.peer
    new = None if int(a.new) == NOADDR else int(a.new)
    return O.judge_local(m, w.peers[p], p, Action(a.trigger.value), int(a.sa), new, O.members(w.up & m.owned[p]))


def unchanged(*kinds: InKind) -> Any:
    """The inputs of those kinds that leave a world as it was: the state
    graph has no edge for them (see ``StepInvariant.loops``), yet something
    happened (a user heard a refusal, a failure report was ignored)."""
    wanted = frozenset(kinds)

    def loops(m: Model, w: World) -> list[Input]:
        res = []
        for inp in m.inputs(w):
            if inp.kind in wanted:
                w2 = m.step(w, inp, None, Model.fire_cached)
                if w2 is None or w2 == w:
                    res.append(inp)
        return res

    return loops


#: An initiator's own refusals of its user's requests.
local_refusals = unchanged(InKind.ACT)
#: Failure reports that change nothing.
ignored_reports = unchanged(InKind.PATH_DEAD)


def local_reasons_precise(m: Model, pre: World, inp: Input, post: World) -> bool:
    """MOB-REASON for the initiator's own refusals: it sends the user's
    request exactly when the oracle's local checks pass, and otherwise says
    the reason of the first that fails (reported to the user, not on the
    wire)."""
    want = _local_expected(m, pre, inp)
    p = inp.peer
    if post.peers[p].ini.st == IState.WAIT:
        # Sending means on the wire: an initiator that waits for an answer
        # to a request it never sent is refusing without saying so.
        req = post.peers[p].ini.req
        out = [x for x in sent_by(pre, inp, post, p) if x.resp == 0]
        return want == Reason.OK and (bool(out) or _lost(pre, p, req.src))
    events: list[Any] = []
    after = m.step(pre, inp, events)
    if after is not None and after.peers[p].ini.st == IState.WAIT:
        return want == Reason.OK
    said = [int(e.reason) for e in events if e.what == "refuse" and e.peer == p]
    return want != Reason.OK and said == [int(want)]


def waiting_timeout(m: Model, pre: World, inp: Input, post: World) -> bool:
    """An initiator's retransmission timer fires while it waits for an answer."""
    return inp.kind == InKind.TIMEOUT and pre.peers[inp.peer].ini.st == IState.WAIT


def gave_up_precise(m: Model, pre: World, inp: Input, post: World) -> bool:
    """MOB-REASON for a request that gets no answer (RFC 7296 2.1, 2.4): a
    timeout never passes unnoticed (the request goes out again, within the
    scenario's retransmission budget, or the initiator gives up), and giving
    up tells the user GAVE_UP, the one reason that says the peer did not
    answer, nothing else."""
    p = inp.peer
    if post == pre:
        return False  # the user would wait for ever, told nothing
    if post.peers[p].ini.st == IState.WAIT:
        # still waiting: only while retransmissions are left (a request sent
        # for ever is a peer never declared dead)
        return int(post.peers[p].ini.retries) <= m.sc.bounds.retransmits
    events: list[Any] = []
    m.step(pre, inp, events)
    said = [int(e.reason) for e in events if e.what == "refuse" and e.peer == p]
    return said == [int(Reason.GAVE_UP)]


#: Timers that change nothing.
ignored_timeouts = unchanged(InKind.TIMEOUT)


def check_answered(m: Model, pre: World, inp: Input, post: World) -> bool:
    """A responder answers a check-only question of the user's (in mm a
    CHECK_* request; in another profile whatever the question became)."""
    return _question(m, pre, inp, post) is not None


def _question(m: Model, pre: World, inp: Input, post: World) -> tuple[Decision, O.Ask] | None:
    d = decision(m, pre, inp, post)
    if d is None:
        return None
    ini = pre.peers[1 - d.peer].ini
    if ini.st != IState.WAIT or int(ini.req.mid) != int(d.request.mid):
        return None  # an answer to a stale copy: not the user's question
    if O.question(m, ini.asked) is None:
        return None
    ask = O.asked(m, ini.asked, 1 - d.peer)
    return None if ask is None else (d, ask)


def check_truthful(m: Model, pre: World, inp: Input, post: World) -> bool:
    """MOB-PRECHECK / MH-PRECHECK: the answer to a check-only question is the
    oracle's judgement of the real change from the same state (database and
    policy checks; reachability is PROBE's business, reading R8)."""
    found = _question(m, pre, inp, post)
    if found is None:
        return True
    d, ask = found
    return int(d.answer.reason) == int(O.judge(m, pre.peers[d.peer], ask).reason)


def responder_change_step(m: Model, pre: World, inp: Input, post: World) -> bool:
    """A responder decides on a request (accepts or refuses it), or changes
    its databases on a request's arrival."""
    if decision(m, pre, inp, post) is not None:
        return True
    app = carried(m, pre, inp)
    return app is not None and app.role == "responder" and not same_databases(pre.peers[app.peer], post.peers[app.peer])


def validated(m: Model, pre: World, inp: Input, post: World) -> bool:
    """SCN-VALIDATE: a responder changes its databases for a request only
    when the oracle's checks (PAD, SPD, local policy, and the request's own
    sense) pass and every address policy wants verified has passed return
    routability; and it refuses only what those checks refuse (or what
    failed return routability)."""
    d = decision(m, pre, inp, post)
    app = carried(m, pre, inp)
    p = d.peer if d is not None else app.peer if app is not None else 0
    req = d.request if d is not None else app.msg if app is not None else None
    if req is None:
        return True
    changed = not same_databases(pre.peers[p], post.peers[p])
    if base_kind(kind_of(req.kind)) != kind_of(req.kind) and changed:
        return False  # a check-only request changed a database
    view = pre.peers[p]
    ask = O.wire_ask(m, req, 1 - p, view)
    if ask is None:
        return True
    j = O.judge(m, view, ask)
    refused = d is not None and d.answer.reason != Reason.OK
    if refused:
        return not j.acceptable or (bool(j.verify) and d is not None and d.held)
    if not changed:
        return True
    if not j.acceptable:
        return False
    return j.verify <= O.members(post.peers[p].rsp.verified)


def change_applied(m: Model, pre: World, inp: Input, post: World) -> bool:
    """An address change (not a check, not a new or deleted SA) is carried out."""
    app = carried(m, pre, inp)
    if app is None or not is_in(app.kind, CHANGE):
        return False
    return not same_databases(pre.peers[app.peer], post.peers[app.peer])


def keys_kept(m: Model, pre: World, inp: Input, post: World) -> bool:
    """SCN-NO-REAUTH: an accepted mobility keeps every SA's keys and SPIs."""
    for p in (0, 1):
        for a, b in zip(pre.peers[p].sad, post.peers[p].sad, strict=True):
            if a.gen != b.gen or exists(a) != exists(b):
                return False
    return True


def targeted(m: Model, pre: World, inp: Input, post: World) -> bool:
    """EXT-TARGET-SA: carrying out a request leaves every SA but the one the
    user named exactly as it was: state, keys, addresses and alternates of
    both sides, where traffic goes, and its SPD entry."""
    app = carried(m, pre, inp)
    if app is None:
        return True
    p = app.peer
    intent = slot_of(m, app.msg.intent)
    a, b = pre.peers[p], post.peers[p]
    for k in range(m.n_slots):
        if k == intent:
            continue
        if a.sad[k] != b.sad[k] or a.spd[k] != b.spd[k]:
            return False
    return True


def request_carried(m: Model, pre: World, inp: Input, post: World) -> bool:
    app = carried(m, pre, inp)
    return app is not None and not same_databases(pre.peers[app.peer], post.peers[app.peer])


def gains_peer_address(m: Model, pre: World, inp: Input, post: World) -> bool:
    for p in (0, 1):
        if pre.peers[p].sad is post.peers[p].sad:
            continue
        q = 1 - p
        for a, b in zip(pre.peers[p].sad, post.peers[p].sad, strict=True):
            if exists(a) and exists(b) and ((cur(b, q) | alt(b, q)) & ~(cur(a, q) | alt(a, q))) != 0:
                return True
    return False


def no_auto_add(m: Model, pre: World, inp: Input, post: World) -> bool:
    """SCN-NO-AUTO-ADD: a peer's address joins an SA only when a request names it."""
    app = carried(m, pre, inp)
    for p in (0, 1):
        q = 1 - p
        for a, b in zip(pre.peers[p].sad, post.peers[p].sad, strict=True):
            if not exists(a) or not exists(b):
                continue
            gained = (cur(b, q) | alt(b, q)) & ~(cur(a, q) | alt(a, q))
            if gained == 0:
                continue
            if app is None or app.requester != q:
                return False
            if (gained & ~introduced(app.msg, base_kind(app.kind))) != 0:
                return False
    return True


def alternate_taken(m: Model, pre: World, inp: Input, post: World) -> bool:
    for p in (0, 1):
        if pre.peers[p].sad is post.peers[p].sad:
            continue
        for a, b in zip(pre.peers[p].sad, post.peers[p].sad, strict=True):
            if exists(a) and (b.out & alt(b, 1 - p) & ~a.out) != 0:
                return True
    return False


def last_resort(m: Model, pre: World, inp: Input, post: World) -> bool:
    """SCN-ALT-LAST-RESORT (step part): a peer starts sending to an alternate
    only on a failure report, and only when every address it sent to is dead."""
    for p in (0, 1):
        for a, b in zip(pre.peers[p].sad, post.peers[p].sad, strict=True):
            # Still an alternate after the step: used as one, not promoted to
            # current by an UPDATE or ADD that named it.
            taken = exists(a) and (b.out & alt(b, 1 - p) & ~a.out) != 0
            if taken and (inp.kind != InKind.PATH_DEAD or inp.peer != p or (a.out & pre.up) != 0):
                return False
    return True


def multihoming_applied(m: Model, pre: World, inp: Input, post: World) -> bool:
    app = carried(m, pre, inp)
    if app is None or app.role != "responder":
        return False
    kinds: tuple[Kind, ...] = (Kind.ADD, Kind.REMOVE, Kind.SET_ALT)
    if m.opts.inactive_update == "refuse":
        kinds = (*kinds, Kind.UPDATE)
    return is_in(app.kind, kinds) and not same_databases(pre.peers[app.peer], post.peers[app.peer])


def was_active(m: Model, pre: World, inp: Input, post: World) -> bool:
    """SCN-ACTIVE-ONLY: address actions only change active SAs."""
    app = carried(m, pre, inp)
    assert app is not None
    k = slot_of(m, app.msg.sa)
    return k != NOSA and pre.peers[app.peer].sad[k].state == SAState.ACTIVE


def _moved_slot(m: Model, d: Decision) -> int:
    """The SA an accepted update moves: the named one, or MOBIKE's IKE_SA."""
    if kind_of(d.request.kind) == Kind.MOBIKE_UPDATE:
        return 0
    return slot_of(m, d.request.sa) if kind_of(d.request.kind) == Kind.UPDATE else NOSA


def update_accepted(m: Model, pre: World, inp: Input, post: World) -> bool:
    """A responder accepts an UPDATE of a named SA, or MOBIKE's update."""
    d = decision(m, pre, inp, post)
    # An empty answer is a cache the canonical world dropped (its initiator
    # gave up): nothing to read the outcome from.
    return (d is not None and d.answer.kind != Kind.EMPTY and d.answer.reason == Reason.OK
            and _moved_slot(m, d) != NOSA)


def revived(m: Model, pre: World, inp: Input, post: World) -> bool:
    """SCN-ACTIVE-ONLY, the way back (draft 8, reading R5 of docs/model.md):
    an SA the responder accepts an update for is active afterwards, so that
    the address actions the inactive state refuses work on it again."""
    d = decision(m, pre, inp, post)
    assert d is not None
    return post.peers[d.peer].sad[_moved_slot(m, d)].state == SAState.ACTIVE


def left_behind(w: World, k: int) -> bool:
    """Whether a peer that deleted SA slot ``k`` still holds something of it:
    addresses, alternates or traffic in the SAD, keys (a generation), or SPD
    selectors that would still steer traffic to it (RFC 4301 4.4.1: SPD
    entries point at SAs that exist)."""
    for ps in w.peers:
        e, s = ps.sad[k], ps.spd[k]
        if e.state == SAState.DELETED and (e.gen, e.cur_i, e.cur_r, e.alt_i, e.alt_r, e.out, s.sel_i, s.sel_r) != (0,) * 8:
            return True
    return False


def failure_report(m: Model, pre: World, inp: Input, post: World) -> bool:
    """A peer learns that addresses of the other stopped working."""
    return inp.kind == InKind.PATH_DEAD


def cut_off_handled(m: Model, pre: World, inp: Input, post: World) -> bool:
    """SCN-ACTIVE-ONLY, the other half: an active SA that a failure report
    cuts off (its traffic goes only to addresses now reported dead; with the
    option failover="any", to any of them) does not stay active sending
    there.  It either moves its traffic off those addresses (to an
    alternate, draft 5.4, which may itself prove dead later: it has not
    been tried) or stops being active (draft 8), and then address actions on
    it are refused."""
    p = inp.peer
    dead = m.owned[1 - p] & ~pre.up
    for k in range(m.n_slots):
        e, e2 = pre.peers[p].sad[k], post.peers[p].sad[k]
        hit = int(e.out) & dead
        cut = hit == int(e.out) if m.opts.failover == "all" else hit != 0
        if int(e.state) != SAState.ACTIVE or not int(e.out) or not cut:
            continue
        if int(e2.state) == SAState.ACTIVE and (not int(e2.out) or int(e2.out) & hit):
            return False
    return True


def side_changes(m: Model, pre: World, inp: Input, post: World) -> bool:
    """Some existing SA's addresses change (creating and deleting SAs are not
    address changes)."""
    for p in (0, 1):
        if pre.peers[p].sad is post.peers[p].sad:
            continue
        for a, b in zip(pre.peers[p].sad, post.peers[p].sad, strict=True):
            if exists(a) and exists(b) and not same_addresses(a, b):
                return True
    return False


def owner_decides(m: Model, pre: World, inp: Input, post: World) -> bool:
    """SCN-OWNER-DECIDES (step part): the addresses of a side change only by a
    request of that side's owner, carried out by either peer."""
    app = carried(m, pre, inp)
    for p in (0, 1):
        for a, b in zip(pre.peers[p].sad, post.peers[p].sad, strict=True):
            if not exists(a) or not exists(b):
                continue
            for side in (0, 1):
                if cur(a, side) == cur(b, side) and alt(a, side) == alt(b, side):
                    continue
                own_action = inp.kind == InKind.ACT and inp.peer == side and p == side  # apply_early
                if not own_action and (app is None or app.requester != side):
                    return False
    return True


# --------------------------------------------------------------------------- capability goals


def granted(m: Model, pre: World, inp: Input) -> tuple[int, Msg, Msg, int] | None:
    """(initiator, its request, the user's ghost record of what was asked,
    the slot the user named) when this step brings the initiator an OK
    answer.  Goals are stated over what follows for that slot, never over
    which message kind the profile sent."""
    ans = answer(m, pre, inp)
    if ans is None:
        return None
    q, req, msg = ans
    if msg.reason != Reason.OK:
        return None
    asked = pre.peers[q].ini.asked
    return q, req, asked, slot_of(m, asked.sa)


def _members(mask: Any) -> int:
    return bin(int(mask)).count("1")


def effect(m: Model, pre: World, post: World, q: int, k: int) -> tuple[int, int, int, int] | None:
    """How slot ``k``'s side ``q`` changed over an answer step, as seen once
    both peers hold the result: (current before, current after, alternates
    before, alternates after).  The initiator's pre-state is its view before
    the answer (the responder applied earlier); None unless both peers agree
    afterwards on an existing SA that keeps its keys."""
    if k == NOSA:
        return None
    a, b, before = post.peers[0].sad[k], post.peers[1].sad[k], pre.peers[q].sad[k]
    if not exists(before) or not exists(a) or not same_addresses(a, b):
        return None
    if a.gen != before.gen or b.gen != before.gen:
        return None  # new keys: another SA in the old one's place, not this SA changed
    c0 = int(cur(before, q))
    ini = pre.peers[q].ini
    if m.prof.update_first and ini.req.kind == Kind.MOBIKE_UPDATE and ini.back and m.mode[k] != Mode.TRANSPORT:
        # RFC 4555 3.5: this initiator moved the IKE_SA and its tunnel SAs
        # before it asked; the addresses it left are the ones it remembered.
        c0 = int(ini.back)
    return c0, int(cur(a, q)), int(alt(before, q)), int(alt(a, q))


def replaced(c0: int, c1: int) -> bool:
    """One address of the set swapped for another, the rest kept."""
    return _members(c0) == _members(c1) and _members(c0 & ~c1) == 1


def goal_update(m: Model, pre: World, inp: Input, post: World) -> bool:
    """MOB-UPDATE: the named SA has one of the initiator's addresses replaced
    by another, on both peers, with the same keys."""
    g = granted(m, pre, inp)
    if g is None:
        return False
    e = effect(m, pre, post, g[0], g[3])
    return e is not None and replaced(e[0], e[1])


def goal_precheck(*actions: Action, other_source: bool = False) -> Any:
    """MOB-PRECHECK / MH-PRECHECK: the user's check-only question (one of
    ``actions``) is answered, the answer is the oracle's judgement of the
    real change from the responder's state, and (``other_source``) the
    address asked about is not the IP source of the question."""

    def goal(m: Model, pre: World, inp: Input, post: World) -> bool:
        ans = answer(m, pre, inp)
        if ans is None:
            return False
        q, req, msg = ans
        asked_msg = pre.peers[q].ini.asked
        if O.question(m, asked_msg) not in actions:
            return False
        ask = O.asked(m, asked_msg, q)
        if ask is None or (other_source and (ask.new is None or ask.new == int(req.src))):
            return False
        if not (same_databases(pre.peers[0], post.peers[0]) and same_databases(pre.peers[1], post.peers[1])):
            return False
        return int(msg.reason) == int(O.judge(m, pre.peers[1 - q], ask).reason)

    goal.__name__ = "goal_precheck_" + "_".join(a.name.lower() for a in actions)
    return goal


def goal_add(m: Model, pre: World, inp: Input, post: World) -> bool:
    """MH-ADD: the named SA gains a current address of the initiator and keeps
    the others, holds two or more on both peers, and the responder sends to
    all of them."""
    g = granted(m, pre, inp)
    if g is None:
        return False
    q, _, _, k = g
    e = effect(m, pre, post, q, k)
    if e is None or not (e[1] & ~e[0]) or (e[0] & ~e[1]) or _members(e[1]) < 2:
        return False
    return int(post.peers[1 - q].sad[k].out) == e[1]


def goal_remove(m: Model, pre: World, inp: Input, post: World) -> bool:
    """MH-REMOVE: the named SA loses a current address of the initiator and
    keeps at least one other, on both peers."""
    g = granted(m, pre, inp)
    if g is None:
        return False
    e = effect(m, pre, post, g[0], g[3])
    return e is not None and e[1] != 0 and not (e[1] & ~e[0]) and e[1] != e[0]


def goal_alternates(m: Model, pre: World, inp: Input, post: World, child_only: bool = False) -> bool:
    """MH-ALTERNATE: the named SA holds new alternates of the initiator on
    both peers (EXT-ALT-PER-SA: a CHILD_SA)."""
    g = granted(m, pre, inp)
    if g is None or (child_only and g[3] == 0):
        return False
    e = effect(m, pre, post, g[0], g[3])
    return e is not None and e[3] != 0 and e[3] != e[2]


def goal_alternates_child(m: Model, pre: World, inp: Input, post: World) -> bool:
    return goal_alternates(m, pre, inp, post, child_only=True)


def goal_explicit(m: Model, pre: World, inp: Input, post: World) -> bool:
    """EXT-EXPLICIT: the user named the address to replace and the new one;
    exactly that swap happened on the named SA, and the new address was not
    the IP source of the request."""
    g = granted(m, pre, inp)
    if g is None:
        return False
    q, req, asked, k = g
    if int(asked.old) == NOADDR or int(asked.new) == NOADDR or int(asked.new) == int(req.src):
        return False
    e = effect(m, pre, post, q, k)
    return e is not None and e[0] & ~e[1] == 1 << int(asked.old) and e[1] & ~e[0] == 1 << int(asked.new)


MODE_EFFECTS = ("UPDATE", "ADD", "REMOVE", "alternates")
MODE_ACTIONS = {"UPDATE": Action.UPDATE, "ADD": Action.ADD, "REMOVE": Action.REMOVE, "alternates": Action.SET_ALT}


def in_mode(mode: Mode) -> Any:
    def pred(m: Model, k: int) -> bool:
        return 0 <= k < m.n_slots and m.mode[k] == mode

    return pred


def child_slot(m: Model, k: int) -> bool:
    return 0 < k < m.n_slots


def goal_mode(mode: Mode, change: str) -> Any:
    """EXT-MODES: on an SA of ``mode``, the effect of ``change`` (a swap, an
    address gained, one lost, new alternates) is in force on both peers, with
    the SPD following the SAD in transport mode and untouched in tunnel mode
    (draft 10.3.1)."""

    def goal(m: Model, pre: World, inp: Input, post: World) -> bool:
        g = granted(m, pre, inp)
        if g is None or g[3] == NOSA or m.mode[g[3]] != mode:
            return False
        q, _, _, k = g
        e = effect(m, pre, post, q, k)
        if e is None or post.peers[0].spd[k] != post.peers[1].spd[k]:
            return False
        c0, c1, a0, a1 = e
        spd_moved = pre.peers[q].spd[k] != post.peers[q].spd[k]
        if change == "alternates":
            return a1 != a0 and a1 != 0 and c0 == c1 and not spd_moved
        if change == "UPDATE":
            ok = replaced(c0, c1)
        elif change == "ADD":
            ok = bool(c1 & ~c0) and not c0 & ~c1
        else:
            ok = c1 != 0 and bool(c0 & ~c1) and not c1 & ~c0
        return ok and spd_moved == (mode == Mode.TRANSPORT)

    goal.__name__ = f"goal_{mode.name.lower()}_{change.lower()}"
    return goal


def goal_refused(m: Model, pre: World, inp: Input, post: World) -> bool:
    ans = answer(m, pre, inp)
    return ans is not None and ans[2].reason != Reason.OK


def goal_fallback(m: Model, pre: World, inp: Input, post: World) -> bool:
    """SCN-FALLBACK: a new CHILD_SA replaced an old one on a new address: the
    DELETE of the old one is answered, and an SA of the same mode created by
    a negotiation is active on both peers, with the same fresh keys on both,
    each peer sending to the other's current addresses, and an initiator
    address the old one did not use."""
    g = granted(m, pre, inp)
    if g is None or g[3] == NOSA or int(g[2].kind) != Action.DELETE:
        return False
    k = g[3]
    if post.peers[0].sad[k].state != SAState.DELETED or post.peers[1].sad[k].state != SAState.DELETED:
        return False
    old = pre.peers[g[0]].sad[k].cur_i
    for j in range(1, m.n_slots):
        a, b = post.peers[0].sad[j], post.peers[1].sad[j]
        # Consistent means usable: one fresh key set held by both peers, and
        # each sending to the other's current addresses.
        if (a.gen == 1 and b.gen == 1 and a.state == SAState.ACTIVE and b.state == SAState.ACTIVE
                and same_addresses(a, b) and a.out == a.cur_r and b.out == b.cur_i
                and m.mode[j] == m.mode[k] and a.cur_i & ~old):
            return True
    return False


def goal_moved_off(m: Model, pre: World, inp: Input, post: World) -> bool:
    """SCN-MAKE-BEFORE-BREAK: a REMOVE takes an SA off every address it started on."""
    g = granted(m, pre, inp)
    if g is None or g[3] == NOSA:
        return False
    q, _, _, k = g
    start = cur(m.sc.slots[k], q)
    a, b = post.peers[q].sad[k], post.peers[1 - q].sad[k]
    return cur(a, q) != 0 and (cur(a, q) & start) == 0 and cur(a, q) == cur(b, q)


def overlap(m: Model, w: World) -> Any:
    """Some SA holds more than one current address on a side (old and new at once)."""
    hit: Any = False
    for e in w.peers[1].sad:
        for side in (0, 1):
            c = cur(e, side)
            hit = hit | ((c & (c - 1)) != 0)
    return hit


def policy_outcome(expected: Reason) -> Any:
    """SCN-POLICY-CASES: the answer to a move says what section 11 predicts."""

    def goal(m: Model, pre: World, inp: Input, post: World) -> bool:
        ans = answer(m, pre, inp)
        if ans is None:
            return False
        q, _, msg = ans
        asked = pre.peers[q].ini.asked
        if int(asked.kind) != Action.UPDATE:
            return False
        if expected == Reason.OK:
            e = effect(m, pre, post, q, slot_of(m, asked.sa))
            return msg.reason == Reason.OK and e is not None and replaced(e[0], e[1])
        return int(msg.reason) == int(expected)

    goal.__name__ = f"answer_is_{expected.name.lower()}"
    return goal


# --------------------------------------------------------------------------- history: refusals stay harmless


Dbs = tuple[tuple[Any, Any], tuple[Any, Any]]


def databases(w: World) -> Dbs:
    return ((w.peers[0].sad, w.peers[0].spd), (w.peers[1].sad, w.peers[1].spd))


def _own_step(m: Model, pre: World, inp: Input, p: int, mid: Any) -> bool:
    """Does this step handle the request of initiator ``p`` with message ID
    ``mid`` (sending, delivering it, its challenge, echo or answer, its
    timers)?"""
    k = inp.kind
    if k in (InKind.ACT, InKind.TIMEOUT):
        return inp.peer == p
    if k == InKind.RR_TIMEOUT:
        return inp.peer == 1 - p and pre.peers[1 - p].rsp.pending.mid == mid
    if k == InKind.DELIVER:
        return pre.chan[inp.peer][inp.idx].mid == mid
    return False


def _mirror(shadow: Dbs, pre: World, post: World) -> Dbs:
    """``shadow`` with every SA and SPD entry that this step changed taken
    over: a step that is not the refused request's own may change the
    databases (a failure report, another request), and the shadow world
    without the refused request changes with it."""
    out = []
    for p in (0, 1):
        sad, spd = shadow[p]
        a, b = pre.peers[p], post.peers[p]
        if a.sad is not b.sad:
            sad = tuple(y if x != y else s for s, x, y in zip(sad, a.sad, b.sad, strict=True))
        if a.spd is not b.spd:
            spd = tuple(y if x != y else s for s, x, y in zip(spd, a.spd, b.spd, strict=True))
        out.append((sad, spd))
    return (out[0], out[1])


def harmless_start(m: Model, w: World) -> Any:
    return (None, None)


def harmless_update(m: Model, ghost: Any, pre: World, inp: Input, post: World) -> Any:
    """SCN-REFUSAL-HARMLESS's history, per initiator: ``None``, or (refused?,
    message ID, the databases of a world in which that request was never
    made).  Set when a request goes out, kept through the request's own
    steps, following every other step; marked refused when a refusal is
    decided or learned; dropped on an accepted answer or a new request."""
    res = list(ghost)
    for p in (0, 1):
        g = res[p]
        ini0, ini1 = pre.peers[p].ini, post.peers[p].ini
        if inp.kind == InKind.ACT and inp.peer == p and ini1.st == IState.WAIT and ini0.st != IState.WAIT:
            res[p] = (False, ini1.req.mid, databases(pre))
            continue
        if g is None:
            continue
        refused, mid, shadow = g
        if not _own_step(m, pre, inp, p, mid):
            shadow = _mirror(shadow, pre, post)
        d = decision(m, pre, inp, post)
        if d is not None and d.peer == 1 - p and d.request.mid == mid and d.answer.reason != Reason.OK:
            refused = True
        ans = answer(m, pre, inp)
        if ans is not None and ans[0] == p and ans[1].mid == mid:
            if ans[2].reason == Reason.OK:
                res[p] = None
                continue
            refused = True
        if ini1.st == IState.DEAD and not refused:
            res[p] = None  # never answered: neither accepted nor refused
            continue
        res[p] = (refused, mid, shadow)
    return (res[0], res[1])


def harmless_ok(m: Model, ghost: Any, pre: World, inp: Input, post: World) -> bool:
    """After the step, every refused request's shadow equals the databases:
    the refusal changed nothing, then or since."""
    now = databases(post)
    return all(g is None or not g[0] or g[2] == now for g in ghost)


# --------------------------------------------------------------------------- subjects (vacuity)
#
# An invariant with no premise is still vacuous when what it talks about never
# happens: alternates that never exist cannot overlap anything.  Each subject
# says what must occur in some reachable state for the invariant to have been
# put to the test.


def any_transport_sa(m: Model, w: World) -> bool:
    return any(m.mode[k] == Mode.TRANSPORT and exists(w.peers[p].sad[k]) for p in (0, 1) for k in range(m.n_slots))


def any_alternate(m: Model, w: World) -> bool:
    return any(exists(e) and (e.alt_i or e.alt_r) for ps in w.peers for e in ps.sad)


def addresses_changed(m: Model, w: World) -> bool:
    """Some SA's current addresses differ from those it was set up with."""
    for ps in w.peers:
        for k, e in enumerate(ps.sad):
            spec = m.sc.slots[k]
            if exists(e) and (e.cur_i != spec.cur_i or e.cur_r != spec.cur_r):
                return True
    return False


def new_address_in_use(m: Model, w: World) -> bool:
    """Some SA uses (or sends to) an address it did not start with."""
    for p, ps in enumerate(w.peers):
        for k, e in enumerate(ps.sad):
            spec = m.sc.slots[k]
            if exists(e) and (cur(e, 1 - p) | e.out) & ~cur(spec, 1 - p):
                return True
    return False


def traffic_needing_rr(m: Model, w: World) -> bool:
    """Some SA sends to an address whose network asks for return routability."""
    return any(exists(e) and e.out & m.rr[p] for p, ps in enumerate(w.peers) for e in ps.sad)


def traffic_to_alternate_or_given(m: Model, w: World) -> bool:
    return any(exists(e) and e.out & alt(e, 1 - p) for p, ps in enumerate(w.peers) for e in ps.sad) \
        or addresses_changed(m, w)
