"""Vocabulary of the model: every enum the tables, records and tools share.

All enums are ``IntEnum`` so that a state is a tuple of small integers: cheap to
hash for the explorer and directly encodable as bit-vectors for z3.  Names are
what users see in runs, vectors and diagrams, so they are stable.
"""

from __future__ import annotations

from enum import IntEnum


class Peer(IntEnum):
    """The two peers.  I is the mobile node (initiator of mobility exchanges)."""

    I = 0  # noqa: E741 - the draft's own name for the mobile node
    R = 1

    @property
    def other(self) -> Peer:
        return Peer.R if self is Peer.I else Peer.I


class Role(IntEnum):
    """Which half of a peer handles an input: the one that asks or the one that answers."""

    INITIATOR = 0
    RESPONDER = 1


class Family(IntEnum):
    V4 = 0
    V6 = 1


class Mode(IntEnum):
    """IPsec mode of an SA slot.  IKE is the IKE_SA itself (slot 0)."""

    IKE = 0
    TRANSPORT = 1
    TUNNEL = 2


class Protection(IntEnum):
    """Strength of an SA, compared against a network's minimum (draft section 11)."""

    NONE = 0
    INTEGRITY = 1
    ENCRYPTION = 2


class SAState(IntEnum):
    ABSENT = 0  # declared in the scenario, not negotiated yet (CREATE_CHILD_SA fills it)
    ACTIVE = 1
    INACTIVE = 2  # responder saw every address it sends to stop working
    DELETED = 3


class IState(IntEnum):
    """States of the initiator machine."""

    IDLE = 0
    WAIT = 1  # one request outstanding (IKEv2 window of 1)
    DEAD = 2  # retransmissions exhausted: the IKE_SA is considered failed


class RState(IntEnum):
    """States of the responder machine."""

    READY = 0
    RR_WAIT = 1  # return routability check of a new address in progress


class Action(IntEnum):
    """What a user (or upper layer) asks the initiator to do."""

    UPDATE = 1
    ADD = 2
    REMOVE = 3
    SET_ALT = 4
    CHECK_UPDATE = 5
    CHECK_ADD = 6
    CHECK_REMOVE = 7
    CHECK_ALT = 8
    PROBE = 9
    CREATE = 10
    DELETE = 11


class Kind(IntEnum):
    """Kinds of IKE messages on the wire (the exchange plus its telling notify)."""

    EMPTY = 0  # unused channel slot / no message
    UPDATE = 1  # mm: explicit per-SA replace
    ADD = 2
    REMOVE = 3
    SET_ALT = 4
    CHECK_UPDATE = 5
    CHECK_ADD = 6
    CHECK_REMOVE = 7
    CHECK_ALT = 8
    PROBE = 9  # INFORMATIONAL with COOKIE2, sent from the address under test
    CREATE = 10  # CREATE_CHILD_SA without REKEY_SA
    DELETE = 11  # INFORMATIONAL with a Delete payload
    MOBIKE_UPDATE = 12  # INFORMATIONAL with UPDATE_SA_ADDRESSES (RFC 4555 3.5)
    MOBIKE_ADDITIONAL = 13  # ADDITIONAL_IP4/6_ADDRESS list (RFC 4555 3.6)
    RR_CHALLENGE = 14  # responder's COOKIE2 return routability check (RFC 4555 3.7)


#: Request kinds that ask only whether a change would be accepted (draft 4.2, 10.2.2).
CHECK_KINDS = frozenset({Kind.CHECK_UPDATE, Kind.CHECK_ADD, Kind.CHECK_REMOVE, Kind.CHECK_ALT})
#: Request kinds that change the addresses of a named SA.
CHANGE_KINDS = frozenset({Kind.UPDATE, Kind.ADD, Kind.REMOVE, Kind.SET_ALT})
#: Kinds whose refusals must say which check failed (MOB-REASON).
ADDRESS_KINDS = CHANGE_KINDS | CHECK_KINDS | {Kind.MOBIKE_UPDATE, Kind.MOBIKE_ADDITIONAL}


class Reason(IntEnum):
    """Outcome codes.  Responder refusals first, then the wire codes of the
    older protocols, then outcomes the initiator decides locally."""

    OK = 0
    UNKNOWN_SA = 1
    INACTIVE_SA = 2
    NOT_OWNER = 3
    ABSENT = 4
    ALREADY_PRESENT = 5
    LAST_ADDRESS = 6
    ALT_OVERLAP = 7
    FAMILY = 8
    PAD = 9
    SPD = 10
    POLICY = 11
    PROTECTION = 12
    RR_FAILED = 13
    SLOT_IN_USE = 14
    # Coarse codes of RFC 4555 / RFC 5996, which do not say which check failed.
    UNACCEPTABLE_ADDRESSES = 20
    TS_UNACCEPTABLE = 21
    NO_PROPOSAL_CHOSEN = 22
    # Decided by the initiator without an exchange.
    UNSUPPORTED = 30
    BUSY = 31
    NO_SOURCE = 32
    GAVE_UP = 34


#: Reasons a responder can put in a refusal when it names the failed check.
PRECISE_REASONS = frozenset(r for r in Reason if 1 <= r.value < 20)
#: Reasons that only exist on the wire of the older profiles.
COARSE_REASONS = frozenset(
    {Reason.UNACCEPTABLE_ADDRESSES, Reason.TS_UNACCEPTABLE, Reason.NO_PROPOSAL_CHOSEN}
)
LOCAL_REASONS = frozenset(r for r in Reason if r.value >= 30)


class InKind(IntEnum):
    """Kinds of inputs to the composed system (two peers plus the network)."""

    ACT = 0  # a user asks a peer's initiator for an action
    DELIVER = 1  # the network delivers message ``idx`` of channel ``dir``
    DROP = 2
    DUPLICATE = 3
    LOSE = 4  # an address stops working (the node moves away)
    GAIN = 5  # an address starts working (the node attaches)
    TIMEOUT = 6  # the initiator's retransmission timer fires
    RR_TIMEOUT = 7  # the responder gives up waiting for a COOKIE2 echo
    PATH_DEAD = 8  # a peer concludes every address it sends to for an SA is dead
    FORGE = 9  # an off-path attacker injects an unprotected message


class Trigger(IntEnum):
    """Machine-level inputs: what the tables are keyed by."""

    # initiator
    ACT_UPDATE = 1
    ACT_ADD = 2
    ACT_REMOVE = 3
    ACT_SET_ALT = 4
    ACT_CHECK_UPDATE = 5
    ACT_CHECK_ADD = 6
    ACT_CHECK_REMOVE = 7
    ACT_CHECK_ALT = 8
    ACT_PROBE = 9
    ACT_CREATE = 10
    ACT_DELETE = 11
    RECV_RESPONSE = 20
    TIMEOUT = 21
    # responder
    RECV_UPDATE = 31
    RECV_ADD = 32
    RECV_REMOVE = 33
    RECV_SET_ALT = 34
    RECV_CHECK_UPDATE = 35
    RECV_CHECK_ADD = 36
    RECV_CHECK_REMOVE = 37
    RECV_CHECK_ALT = 38
    RECV_PROBE = 39
    RECV_CREATE = 40
    RECV_DELETE = 41
    RECV_MOBIKE_UPDATE = 42
    RECV_MOBIKE_ADDITIONAL = 43
    RECV_RR_CHALLENGE = 44
    RECV_RR_ECHO = 50
    RR_TIMEOUT = 51
    PATH_DEAD = 52


INITIATOR_TRIGGERS = tuple(t for t in Trigger if t.value < 30)
RESPONDER_TRIGGERS = tuple(t for t in Trigger if t.value > 30)


def act_trigger(action: Action) -> Trigger:
    return Trigger(action.value)


def recv_trigger(kind: Kind) -> Trigger:
    return Trigger(30 + kind.value)


def trigger_name(t: Trigger) -> str:
    return t.name.lower()


# Sentinels inside records.  They stay below 2**8 so every field fits the
# bit-vector width the symbolic encoding uses.
NOADDR = 0xFF
NOSA = 0xFF
ALLSA = 0xFE  # MOBIKE's implicit "every SA of this IKE_SA"
