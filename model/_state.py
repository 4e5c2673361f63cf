"""Dynamic state of the composed system, as frozen and hashable records.

Everything that changes during a run lives here; everything that does not
(addresses, families, networks, PAD, SPD policy, local policy, bounds) is in the
scenario.  Address sets are bit masks over the scenario's address indices, so a
record is a tree of small integers.  The same record classes hold z3 terms when
the symbolic encoding executes the model (see ``_sym``), which is why no field
is a Python set or a variable-length list: channels are fixed-size tuples padded
with ``EMPTY`` messages.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from ._vocab import NOADDR, NOSA, IState, Kind, Reason, RState, SAState

# Field types are ``Any`` because the same records carry ints (concrete runs)
# and z3 terms (symbolic runs).


class Msg(NamedTuple):
    """One IKE message.  ``why`` and ``intent`` are ghost fields: they are not
    on the wire; properties use them to compare what was meant with what the
    wire could say."""

    kind: Any = Kind.EMPTY
    resp: Any = 0  # 0 request, 1 response
    mid: Any = 0  # IKE message ID (for RR_CHALLENGE: the request it verifies)
    sa: Any = NOSA  # the SA the request names (CREATE: the new slot)
    old: Any = NOADDR  # address replaced or removed
    new: Any = NOADDR  # address added or replacing
    addrs: Any = 0  # address set (alternates)
    src: Any = NOADDR  # IP source address
    dst: Any = NOADDR  # IP destination address
    prot: Any = 1  # 1 when protected by the IKE_SA, 0 when forged
    reason: Any = Reason.OK  # response: the code on the wire
    why: Any = Reason.OK  # ghost: the check that actually decided
    intent: Any = NOSA  # ghost: the SA the user meant


EMPTY = Msg()


class SAEntry(NamedTuple):
    """One slot of a peer's SAD.  ``cur_*`` are the addresses in use on each
    side; ``alt_*`` the alternates each side announced; ``out`` the remote
    addresses this peer actually sends to (differs from the peer's current
    addresses only after a failover)."""

    state: Any = SAState.ABSENT
    gen: Any = 0  # key generation: a fresh negotiation gives new keys and SPIs
    cur_i: Any = 0
    cur_r: Any = 0
    alt_i: Any = 0
    alt_r: Any = 0
    out: Any = 0


class SPDEntry(NamedTuple):
    """Address selectors of the SPD entry behind an SA slot.  Transport mode:
    the addresses themselves.  Tunnel mode and the IKE_SA: zero, because the
    selectors are inner addresses that mobility never touches."""

    sel_i: Any = 0
    sel_r: Any = 0


class Initiator(NamedTuple):
    st: Any = IState.IDLE
    mid: Any = 0  # message ID of the next (or outstanding) request
    retries: Any = 0
    req: Msg = EMPTY  # outstanding request, kept for retransmission
    probed: Any = 0  # own addresses confirmed reachable by a PROBE
    #: ghost: what the user asked for, in the draft's explicit form (kind = the
    #: action's number, with its SA and addresses), whatever the profile's wire
    #: made of it.  Never read by a machine; properties judge requests by it.
    asked: Msg = EMPTY
    #: RFC 4555 3.5 (profiles that update first): the own addresses of the
    #: IKE_SA before the outstanding UPDATE_SA_ADDRESSES moved them, to go
    #: back to on UNACCEPTABLE_ADDRESSES
    back: Any = 0
    #: 1 when a new move came while an UPDATE_SA_ADDRESSES was outstanding:
    #: its answer is ignored and a new one is sent (RFC 4555 3.5)
    again: Any = 0


class Responder(NamedTuple):
    st: Any = RState.READY
    mid: Any = 0  # message ID expected next
    cache: Msg = EMPTY  # last response sent, replayed for a retransmission
    pending: Msg = EMPTY  # request waiting for return routability
    verified: Any = 0  # remote addresses that passed return routability
    #: 1 while the check of a request answered already (RFC 4555 3.5) is
    #: still to be sent: the responder's own request, sent on its timer once
    #: its answer has left (the model's channel holds one message)
    due: Any = 0


class PeerState(NamedTuple):
    sad: tuple[SAEntry, ...]
    spd: tuple[SPDEntry, ...]
    ini: Initiator
    rsp: Responder


class Used(NamedTuple):
    """How much of each environment budget a run has used."""

    requests: Any = 0
    moves: Any = 0
    forged: Any = 0
    dropped: Any = 0


class World(NamedTuple):
    up: Any  # addresses currently working
    peers: tuple[PeerState, PeerState]  # indexed by Peer
    chan: tuple[tuple[Msg, ...], tuple[Msg, ...]]  # chan[d]: messages sent by peer d
    used: Used


def _fast_replace(cls: Any) -> None:
    """Give a record class a ``_replace`` that builds the tuple directly.

    ``NamedTuple._replace`` goes through ``_make`` and a keyword dict and costs
    several times more; the explorer calls it millions of times per run.
    """
    fields = cls._fields
    args = ", ".join(f"{f}=_KEEP" for f in fields)
    items = ", ".join(f"self[{k}] if {f} is _KEEP else {f}" for k, f in enumerate(fields))
    src = f"def _replace(self, *, {args}):\n    return _new(_cls, ({items},))\n"
    ns: dict[str, Any] = {"_KEEP": _KEEP, "_new": tuple.__new__, "_cls": cls}
    exec(src, ns)
    cls._replace = ns["_replace"]


_KEEP = object()
for _cls in (Msg, SAEntry, SPDEntry, Initiator, Responder, PeerState, Used, World):
    _fast_replace(_cls)


def set_peer(w: World, p: int, ps: PeerState) -> World:
    if p == 0:
        return w._replace(peers=(ps, w.peers[1]))
    return w._replace(peers=(w.peers[0], ps))


def set_slot(entries: tuple[Any, ...], k: int, value: Any) -> tuple[Any, ...]:
    return entries[:k] + (value,) + entries[k + 1 :]


def chan_put(w: World, d: int, msg: Msg) -> World:
    """Append ``msg`` to channel ``d``; a full channel loses it (``w`` unchanged)."""
    ch = w.chan[d]
    for i in range(len(ch)):
        if ch[i].kind == Kind.EMPTY:
            ch = set_slot(ch, i, msg)
            return w._replace(chan=(ch, w.chan[1]) if d == 0 else (w.chan[0], ch))
    return w


def chan_take(w: World, d: int, i: int) -> World:
    """Remove message ``i`` of channel ``d``, keeping the channel packed."""
    ch = w.chan[d]
    ch = ch[:i] + ch[i + 1 :] + (EMPTY,)
    return w._replace(chan=(ch, w.chan[1]) if d == 0 else (w.chan[0], ch))


def quiescent(w: World) -> bool:
    """No exchange in flight: both machines at rest and both channels empty."""
    for ps in w.peers:
        if ps.ini.st == IState.WAIT or ps.rsp.st != RState.READY:
            return False
    for ch in w.chan:
        for m in ch:
            if m.kind != Kind.EMPTY:
                return False
    return True
