"""An independent judge of address requests: acceptable, or which check fails first.

The responder machine decides by its rows (``model/_machines.py``).  The
properties that say whether it decided *right* (MOB-REASON, MOB-PRECHECK,
MH-PRECHECK, SCN-VALIDATE, LIVE-CONVERGE) must not read those rows back, or a
wrong row would pass by construction.  So this module restates the checks
from the draft itself, over plain Python sets and the scenario's own
configuration, sharing no guard, mask or helper with the machines:

1. the request names an SA the responder knows (draft 10.3.2: a request says
   which SA it is for); a new CHILD_SA needs a free slot instead;
2. the SA is active (draft 8: multihoming is not for an SA that is not
   active; mobility may revive one, reading R5 of docs/model.md);
3. every address the request names belongs to the requester (draft 10.3.1,
   "who decides");
4. the request makes sense for the SA as it is: the replaced or removed
   address is in use, the new one is not yet, a removal keeps an address
   (draft 5.3), alternates are not current addresses (draft 5.4);
5. each new address has a partner of its family on the responder's side of
   the SA (RFC 4301 5: an SA's outer header has one family);
6. the PAD authorises it for the peer's identity, then the SPD covers it in
   transport mode, then local policy accepts its network and the protection
   that network asks for (draft 9.1's order, 10.3.1, 11);
7. where local policy asks for it, the address answers a return routability
   check (draft 4.1, RFC 4555 3.7): judged on whether it works.

Requests are judged in the draft's terms (:class:`Ask`): what the user of a
profile meant, or what a message of the wire asks, translated by
:func:`wire_ask` from the RFCs' meaning of each message.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from ipsecmm.model import (
    ALLSA,
    NOADDR,
    Action,
    Kind,
    Mode,
    Model,
    Msg,
    PeerState,
    Reason,
    SAState,
)

#: The actions whose acceptance the draft's checks decide.
JUDGED = (Action.UPDATE, Action.ADD, Action.REMOVE, Action.SET_ALT, Action.CREATE)
_CHECK_OF = {Action.CHECK_UPDATE: Action.UPDATE, Action.CHECK_ADD: Action.ADD,
             Action.CHECK_REMOVE: Action.REMOVE, Action.CHECK_ALT: Action.SET_ALT}


class Ask(NamedTuple):
    """A request in the draft's terms: who asks what of which SA."""

    action: Action
    requester: int
    sa: int
    old: int | None = None
    new: int | None = None
    addrs: frozenset[int] = frozenset()


class Judgement(NamedTuple):
    reason: Reason  # OK when every check passes
    verify: frozenset[int] = frozenset()  # new addresses still to pass return routability

    @property
    def acceptable(self) -> bool:
        return self.reason == Reason.OK


def members(mask: Any) -> frozenset[int]:
    mask = int(mask)
    return frozenset(k for k in range(mask.bit_length()) if mask >> k & 1)


def _addr(v: Any) -> int | None:
    v = int(v)
    return None if v == NOADDR else v


def asked(m: Model, msg: Msg, requester: int) -> Ask | None:
    """The change a user asked for, from the initiator's record of it
    (``Initiator.asked``, written in the draft's explicit form).  A
    check-only question is judged as the change it asks about."""
    k = int(msg.kind)
    if not 1 <= k <= max(a.value for a in Action):
        return None
    action = _CHECK_OF.get(Action(k), Action(k))
    if action not in JUDGED:
        return None
    return Ask(action, requester, int(msg.sa), _addr(msg.old), _addr(msg.new), members(msg.addrs))


def question(m: Model, msg: Msg) -> Action | None:
    """The check-only action a user asked for, or None."""
    k = int(msg.kind)
    if 1 <= k <= max(a.value for a in Action) and Action(k) in _CHECK_OF:
        return Action(k)
    return None


def wire_ask(m: Model, msg: Msg, requester: int, responder_view: PeerState) -> Ask | None:
    """What a request on the wire asks, in the draft's terms, by the meaning
    the RFCs give each message (not by the rows that process it):

    * the extension's explicit requests say everything themselves;
    * UPDATE_SA_ADDRESSES replaces the requester's address of the IKE_SA by
      the IP source of the message (RFC 4555 3.5);
    * an ADDITIONAL_*_ADDRESS list becomes the IKE_SA's alternates (3.6);
    * CREATE_CHILD_SA sets up the named slot from the requester's address.
    """
    kind = Kind(int(msg.kind))
    if kind in (Kind.UPDATE, Kind.ADD, Kind.REMOVE, Kind.SET_ALT, Kind.CREATE):
        action = Action(kind.value)
    elif kind in (Kind.CHECK_UPDATE, Kind.CHECK_ADD, Kind.CHECK_REMOVE, Kind.CHECK_ALT):
        action = _CHECK_OF[Action(kind.value)]
    elif kind == Kind.MOBIKE_UPDATE:
        mine = members(_side(responder_view.sad[0], requester)[0])
        old = min(mine) if len(mine) == 1 else None
        return Ask(Action.UPDATE, requester, 0, old, _addr(msg.src))
    elif kind == Kind.MOBIKE_ADDITIONAL:
        return Ask(Action.SET_ALT, requester, 0, addrs=members(msg.addrs))
    else:
        return None
    return Ask(action, requester, int(msg.sa), _addr(msg.old), _addr(msg.new), members(msg.addrs))


def _side(e: Any, peer: int) -> tuple[Any, Any]:
    """(current, alternates) of ``peer``'s side of SAD entry ``e``."""
    return (e.cur_i, e.alt_i) if peer == 0 else (e.cur_r, e.alt_r)


def judge(m: Model, view: PeerState, ask: Ask, up: Any = None) -> Judgement:
    """How the responder holding ``view`` should answer ``ask``: OK, or the
    first check of the draft's list that fails.  ``up`` (the working
    addresses) decides return routability; without it, reachability is
    not judged (a check-only request does not test it: reading R8)."""
    sc = m.sc
    me = 1 - ask.requester
    n_slots = len(sc.slots)
    k = ask.sa
    # 1. the SA
    if ask.action == Action.CREATE:
        if k in (ALLSA, 0) or not 0 < k < n_slots or int(view.sad[k].state) != SAState.ABSENT:
            return Judgement(Reason.SLOT_IN_USE)
    else:
        if not 0 <= k < n_slots or int(view.sad[k].state) in (SAState.ABSENT, SAState.DELETED):
            return Judgement(Reason.UNKNOWN_SA)
        # 2. active, unless mobility revives it (reading R5)
        revives = ask.action == Action.UPDATE and m.opts.inactive_update == "allow"
        if int(view.sad[k].state) == SAState.INACTIVE and not revives:
            return Judgement(Reason.INACTIVE_SA)
    spec = sc.slots[k]
    entry = view.sad[k]
    theirs = members(_side(entry, ask.requester)[0])
    ours = members(_side(entry, me)[0])
    if ask.action == Action.CREATE:
        ours = members(spec.cur_r if me == 1 else spec.cur_i)  # the template's other side
    # 3. who decides
    named = set(ask.addrs)
    named |= {a for a in (ask.old, ask.new) if a is not None}
    owner = {j for j, a in enumerate(sc.addresses) if int(a.owner) == ask.requester}
    if named - owner:
        return Judgement(Reason.NOT_OWNER)
    # 4. the request against the SA as it stands
    if ask.action in (Action.UPDATE, Action.REMOVE) and ask.old not in theirs:
        return Judgement(Reason.ABSENT)
    if ask.action in (Action.UPDATE, Action.ADD) and ask.new in theirs:
        return Judgement(Reason.ALREADY_PRESENT)
    if ask.action == Action.REMOVE:
        if not theirs - {ask.old}:
            return Judgement(Reason.LAST_ADDRESS)
        return Judgement(Reason.OK)  # taking an address away needs no policy
    if ask.action == Action.SET_ALT and ask.addrs & theirs:
        return Judgement(Reason.ALT_OVERLAP)
    new = set(ask.addrs) if ask.action == Action.SET_ALT else {ask.new} if ask.new is not None else set()
    # 5. family
    families = {sc.addresses[j].family for j in ours}
    if any(sc.addresses[a].family not in families for a in new):
        return Judgement(Reason.FAMILY)
    # 6. PAD, SPD, local policy
    cfg = sc.peers[me]
    if new - members(cfg.pad):
        return Judgement(Reason.PAD)
    if spec.mode == Mode.TRANSPORT and new - members(spec.spd_allow[me]):
        return Judgement(Reason.SPD)
    policies = {a: cfg.policy(sc.addresses[a].network) for a in new}
    if not all(p.accept for p in policies.values()):
        return Judgement(Reason.POLICY)
    if any(p.min_protection > spec.protection for p in policies.values()):
        return Judgement(Reason.PROTECTION)
    # 7. return routability
    verify = frozenset(a for a, p in policies.items() if p.require_rr) - members(view.rsp.verified)
    if not m.prof.return_routability:
        verify = frozenset()  # the profile has no such check: nothing is waited for
    if up is not None and verify - members(up):
        return Judgement(Reason.RR_FAILED, verify)
    return Judgement(Reason.OK, verify)


#: The extension's requests that change a named SA's addresses or alternates.
_EXPLICIT = (Kind.ADD, Kind.REMOVE, Kind.SET_ALT)


def judge_local(m: Model, view: PeerState, me: int, action: Action, sa: int, new: int | None,
                working: frozenset[int]) -> Reason:
    """What initiator ``me`` holding ``view``, whose working addresses are
    ``working``, must do itself with a user's ``action`` before anything goes
    on the wire: OK when the request is to be sent, else the first of its own
    checks that fails.

    1. A request needs a working address to leave from (NO_SOURCE).  MOBIKE's
       update and its probe leave from the very address they are about (RFC
       4555 3.5, 3.7); any other request may leave from any address of the
       initiator's that works, since the answer returns to the source (RFC
       7296 2.11).  It comes first: without it nothing reaches the peer,
       whatever the request says.
    2. A change of a named SA's addresses or alternates (the extension's
       ADD, REMOVE and SET_ALT, and its UPDATE too where local policy keeps
       inactive SAs from moving) is only for an active SA (draft 8), and the
       initiator knows its own interfaces: an SA it holds none of whose own
       current addresses works is cut off, so it says INACTIVE_SA without
       asking.  MOBIKE's requests name no SA, and an SA the initiator does not
       hold is the responder's to refuse (UNKNOWN_SA)."""
    kind = m.prof.wire.get(action)
    if kind is None:
        return Reason.OK
    if kind in (Kind.MOBIKE_UPDATE, Kind.PROBE):
        if new not in working:
            return Reason.NO_SOURCE
    elif not working:
        return Reason.NO_SOURCE
    explicit = kind in _EXPLICIT or (kind == Kind.UPDATE and m.opts.inactive_update == "refuse")
    if explicit and 0 <= sa < len(m.sc.slots):
        e = view.sad[sa]
        held = int(e.state) in (SAState.ACTIVE, SAState.INACTIVE)
        if held and not members(_side(e, me)[0]) & working:
            return Reason.INACTIVE_SA
    return Reason.OK


def in_force(m: Model, w: Any, ask: Ask) -> bool:
    """Is the effect of an accepted ``ask`` in both peers' SADs?"""
    k = ask.sa
    if not 0 <= k < len(m.sc.slots):
        return False
    if int(w.peers[0].sad[k].gen) != int(w.peers[1].sad[k].gen):
        return False  # in force on both means one SA: the same keys on both peers
    sides = [_side(w.peers[p].sad[k], ask.requester) for p in (0, 1)]
    for p, (cur, alt) in enumerate(sides):
        cur, alt = members(cur), members(alt)
        if int(w.peers[p].sad[k].state) not in (SAState.ACTIVE, SAState.INACTIVE):
            return False
        if ask.action == Action.UPDATE and (ask.new not in cur or ask.old in cur):
            return False
        if ask.action in (Action.ADD, Action.CREATE) and ask.new not in cur:
            return False
        if ask.action == Action.CREATE and not int(w.peers[p].sad[k].out):
            return False  # a new SA is in force when it carries traffic
        if ask.action == Action.REMOVE and ask.old in cur:
            return False
        if ask.action == Action.SET_ALT and alt != ask.addrs:
            return False
    return True
