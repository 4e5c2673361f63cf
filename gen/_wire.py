"""The model's runs and the vectors on the wire: sessions, messages, captures.

The codec (``ipsecmm.wire``) knows IKEv2 and nothing of scenarios; this module
gives it what a scenario implies.  A group of vectors (and every run of a
scenario) has one IKE_SA, derived from the scenario's name and the seed, and
the CHILD_SA SPIs the vectors already carry (``_vectors.spis``).  Messages go
through the vectors' abstract form (``_vectors.message``), so a run and a
vector of the same exchange give the same bytes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ipsecmm.model import Kind, Mode, Peer, Reason, Scenario
from ipsecmm.model._machines import base_kind
from ipsecmm.properties import Run
from ipsecmm.wire import ChildSA, Frame, Message, Session, WireError, datagram, decode, encode

from ._vectors import NOTIFY, ROLES, message
from ._vectors import spis as draw_spis

#: IKEv2 alone runs on port 500; MOBIKE moves to 4500 with NAT traversal
#: (RFC 4555 3.3), and the extension is MOBIKE's successor, so does the same.
PORTS = {"ikev2": 500, "mobike": 4500, "mm": 4500}


def secret(sc: Scenario, seed: int = 0) -> bytes:
    return f"ipsecmm/{sc.name}/{seed}".encode()


def session_for(sc: Scenario, profile: str, seed: int = 0, spis: Mapping[str, Mapping[str, str]] | None = None,
                keys: Any = None) -> Session:
    """The IKE_SA of a scenario: keys from its name and the seed, CHILD_SA
    SPIs as the vectors give them (``spis``: a test group's, else drawn from
    the seed).  ``keys``: a test group's ``wire``, which wins when present."""
    if keys is not None:
        return Session.from_json(keys)
    children = {name: ChildSA(bytes.fromhex(x["i"]), bytes.fromhex(x["r"]),
                              sc.slots[sc.slot_index(name)].mode == Mode.TRANSPORT)
                for name, x in (spis if spis is not None else draw_spis(sc, seed)).items()}
    return Session.derive(secret(sc, seed), children, ike_name=sc.slots[0].name, port=PORTS[profile])


def to_dict(msg: Message) -> dict[str, Any]:
    """A wire message in the vectors' abstract form (``_vectors.message``)."""
    kind = Kind(msg.kind)
    d: dict[str, Any] = {
        "exchange": "CREATE_CHILD_SA" if kind == Kind.CREATE else "INFORMATIONAL",
        "message_id": msg.mid, "response": msg.response, "kind": kind.name,
        "notify": NOTIFY.get(kind, f"MM_{base_kind(kind).name}" + ("_CHECK" if base_kind(kind) != kind else "")),
        "src": msg.src, "dst": msg.dst, "protected": msg.protected,
    }
    if msg.response:
        d["reason"] = Reason(msg.reason).name
        return d
    for key in ("sa", "old", "new"):
        if getattr(msg, key) is not None:
            d[key] = getattr(msg, key)
    if kind in (Kind.SET_ALT, Kind.CHECK_ALT, Kind.MOBIKE_ADDITIONAL):
        d["addresses"] = list(msg.addresses)
    return d


class Conversation:
    """Turns the abstract messages of one run, in order, into wire messages.

    An answer's bytes name the SA only where IKEv2 puts it there (the SA
    payload of an accepted CREATE_CHILD_SA, the paired Delete of a DELETE);
    the abstract answer does not carry it, so it is taken from the request the
    answer is for, matched as a peer matches it: same kind and message ID,
    sent the other way (RFC 7296 2.2)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.requests: dict[tuple[int, str, int], Mapping[str, Any]] = {}

    def wire(self, d: Mapping[str, Any], sender: int) -> Message:
        kind = Kind[d["kind"]]
        response = bool(d["response"])
        sa = d.get("sa")
        if response:
            req = self.requests.get((1 - sender, d["kind"], int(d["message_id"])))
            named = req.get("sa") if req is not None else None
            deleted = kind == Kind.DELETE and named != self.session.ike_name
            created = kind == Kind.CREATE and d.get("reason", "OK") == "OK"
            sa = named if deleted or created else None
        else:
            self.requests[(sender, d["kind"], int(d["message_id"]))] = d
        return Message(kind, Peer(sender), int(d["message_id"]), response, d.get("src"), d.get("dst"),
                       bool(d["protected"]), Reason[d.get("reason", "OK")], sa, d.get("old"), d.get("new"),
                       tuple(d.get("addresses", ())))


@dataclass(frozen=True)
class Packet:
    step: int  # the run's (or vector's) step that put it on the wire, 1-based
    message: Message
    data: bytes  # the IKE message


def run_messages(run: Run) -> list[tuple[int, int, dict[str, Any]]]:
    """(step, sender, abstract message) for every message a run puts on the
    wire: sent, forged, or duplicated by the network."""
    m = run.model()
    out = []
    for n, (_w, _inp, events, _w2) in enumerate(run.replay(), 1):
        for ev in events:
            if ev.what in ("send", "forge", "duplicate"):
                out.append((n, int(ev.peer), message(m, ev.msg)))
    return out


def vector_messages(test: Mapping[str, Any], role: str) -> list[tuple[int, int, dict[str, Any]]]:
    """The same for one vector: what the tester delivers and what the system
    under test must send (the messages the tester never delivers are not in
    a vector).  The dicts are the vector's own."""
    sut = next(p for p, r in ROLES.items() if r == role)
    out = []
    for n, st in enumerate(test["steps"], 1):
        if st["actor"] == "tester":
            out.append((n, 1 - sut, st["input"]["deliver"]))
        out += [(n, sut, d) for d in st["expect"]["sends"]]
    return out


def add_hex(steps: list[dict[str, Any]], role: str, session: Session) -> None:
    """Put each message's IKE bytes beside its abstract form (``hex``)."""
    conv = Conversation(session)
    for _, sender, d in vector_messages({"steps": steps}, role):
        d["hex"] = encode(conv.wire(d, sender), session).hex()


class Loop:
    """Abstract message -> bytes -> abstract message, for an adapter that
    wants every message it receives and sends to cross the wire."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.conv = Conversation(session)

    def cross(self, d: Mapping[str, Any], sender: int) -> dict[str, Any]:
        msg = self.conv.wire(d, sender)
        data = encode(msg, self.session)
        if "hex" in d and d["hex"] != data.hex():
            raise WireError(None, "hex", f"the vector's bytes are not the encoding of its {msg.kind.name} message")
        back = decode(data, self.session, src=msg.src, dst=msg.dst).message
        if back is None:
            raise WireError(None, msg.kind.name, "the bytes decode to no message of the model")
        return {**to_dict(back), "hex": data.hex()}


def packets(session: Session, items: Iterable[tuple[int, int, Mapping[str, Any]]]) -> list[Packet]:
    conv = Conversation(session)
    res = []
    for step, sender, d in items:
        msg = conv.wire(d, sender)
        res.append(Packet(step, msg, encode(msg, session)))
    return res


def frames(pkts: list[Packet], port: int, start: int = 0) -> list[Frame]:
    """Each packet in IP and UDP, at second ``start + step`` (there is no clock
    in the model: a step is a second, and packets of a step a microsecond apart)."""
    out, last, k = [], None, 0
    for n, p in enumerate(pkts):
        if p.message.src is None or p.message.dst is None:
            raise WireError(None, f"{p.message.kind.name}.src", "a message without an address cannot be framed")
        k = k + 1 if p.step == last else 0
        last = p.step
        out.append(Frame(start + p.step, k, datagram(p.message.src, p.message.dst, p.data, port, n)))
    return out


__all__ = ["PORTS", "Conversation", "Loop", "Packet", "add_hex", "frames", "packets", "run_messages", "session_for", "to_dict",
           "vector_messages"]
