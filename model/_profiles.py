"""The three protocol profiles that run on the same machines.

A profile says which user actions the initiator can express on the wire, which
request kinds the responder understands, and how a refusal is coded.  It never
carries its own copy of a guard or an effect: the tables filter and parameterise
the shared rows by these facts.

* ``ikev2`` (RFC 7296 alone): no way to change an SA's addresses.  Moving means
  CREATE_CHILD_SA for the new address, then deleting the old SA (draft 10.1.1).
* ``mobike`` (RFC 4555): UPDATE_SA_ADDRESSES takes the new address from the IP
  header and moves the IKE_SA with every tunnel-mode SA (RFC 4555 3.5);
  ADDITIONAL_*_ADDRESS lists replace the IKE_SA's alternates (3.6); COOKIE2
  return routability (3.7); UNACCEPTABLE_ADDRESSES names no check (4.1.1).
  The initiator moves its own SAs before it asks (3.5) and the responder
  answers before it checks return routability (3.5, 3.7).
* ``mm``: the draft's extension.  Explicit per-SA UPDATE, ADD, REMOVE and
  alternates in both modes, check-only variants, and refusals that name the
  failed check (draft 10.1.2, 10.2.2, 10.3.2).
"""

from __future__ import annotations

from dataclasses import dataclass

from ._scenario import Options
from ._vocab import Action, Kind, Reason

PROFILE_NAMES = ("ikev2", "mobike", "mm")


@dataclass(frozen=True)
class Profile:
    name: str
    options: Options
    #: user action -> request kind on the wire (absent: the profile cannot say it)
    wire: dict[Action, Kind]
    return_routability: bool
    #: the responder may switch to an alternate of its peer on its own
    responder_failover: bool
    #: refusals of address requests name the failed check
    precise_reasons: bool
    #: RFC 4555 3.5: the initiator moves its own IKE_SA and IPsec SAs before
    #: it sends UPDATE_SA_ADDRESSES, goes back to the addresses it used before
    #: when the answer is UNACCEPTABLE_ADDRESSES, and a new move while one is
    #: outstanding starts again instead of being refused BUSY
    update_first: bool = False
    #: RFC 4555 3.5: the responder moves the IKE_SA and answers first, then
    #: checks return routability and moves the IPsec SAs only once it passes
    answer_first: bool = False
    #: RFC 4555 3.5: an IPsec SA runs on the IKE_SA's pair of addresses, so a
    #: tunnel SA's addresses and alternates are the IKE_SA's (``Model`` takes
    #: this view of the scenario; transport SAs are outside RFC 4555, 1.1)
    ike_address_pair: bool = False

    @property
    def actions(self) -> frozenset[Action]:
        return frozenset(self.wire)

    @property
    def request_kinds(self) -> frozenset[Kind]:
        return frozenset(self.wire.values())

    def wire_reason(self, kind: Kind, why: Reason) -> Reason:
        """The code a refusal carries on the wire for a check that failed."""
        if why == Reason.OK:
            return Reason.OK
        if kind == Kind.CREATE:
            # CREATE_CHILD_SA is plain IKEv2 in every profile: RFC 5996 3.10.1
            # has only coarse error notifies for a refused negotiation.
            if why in (Reason.NOT_OWNER, Reason.FAMILY, Reason.PAD, Reason.SPD):
                return Reason.TS_UNACCEPTABLE
            return Reason.NO_PROPOSAL_CHOSEN
        if not self.precise_reasons:
            return Reason.UNACCEPTABLE_ADDRESSES
        return why


_COMMON = {Action.CREATE: Kind.CREATE, Action.DELETE: Kind.DELETE}

_WIRE: dict[str, dict[Action, Kind]] = {
    "ikev2": dict(_COMMON),
    # What a MOBIKE node does when its user asks for each action: the nearest
    # message RFC 4555 has, so that what the profile cannot do shows as an
    # effect that never happens, not as a request that is never sent.
    "mobike": {
        **_COMMON,
        Action.UPDATE: Kind.MOBIKE_UPDATE,
        Action.ADD: Kind.MOBIKE_ADDITIONAL,  # announce the address as an additional one (3.6)
        Action.REMOVE: Kind.MOBIKE_ADDITIONAL,  # stop announcing it
        Action.SET_ALT: Kind.MOBIKE_ADDITIONAL,
        Action.CHECK_UPDATE: Kind.PROBE,  # test the path from the address (3.7; draft 10.1.1)
        Action.CHECK_ADD: Kind.PROBE,
        Action.PROBE: Kind.PROBE,
    },
    "mm": {
        **_COMMON,
        Action.UPDATE: Kind.UPDATE,
        Action.ADD: Kind.ADD,
        Action.REMOVE: Kind.REMOVE,
        Action.SET_ALT: Kind.SET_ALT,
        Action.CHECK_UPDATE: Kind.CHECK_UPDATE,
        Action.CHECK_ADD: Kind.CHECK_ADD,
        Action.CHECK_REMOVE: Kind.CHECK_REMOVE,
        Action.CHECK_ALT: Kind.CHECK_ALT,
        Action.PROBE: Kind.PROBE,
    },
}


def get_profile(name: str, options: Options | None = None) -> Profile:
    if name not in _WIRE:
        raise KeyError(name)
    opts = options or Options()
    return Profile(
        name=name,
        options=opts,
        wire=_WIRE[name],
        return_routability=name != "ikev2",
        responder_failover=name == "mm",
        precise_reasons=name == "mm",
        update_first=name == "mobike",
        answer_first=name == "mobike",
        ike_address_pair=name == "mobike",
    )
