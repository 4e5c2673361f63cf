"""The abstract message of the model and its IKEv2 bytes, both ways.

``encode(message, session)`` lays a :class:`Message` out as an IKEv2 message
protected by the session's IKE_SA; ``decode(data, session)`` reads any IKEv2
message structurally and, where the model has a counterpart, back into a
``Message``.  docs/encoding.md maps every field; the layouts are RFC 7296's,
RFC 4555's for MOBIKE, and the proposed ones of docs/encoding.md for the
draft's extension.

Decoding is total: bytes either decode or raise :class:`WireError` with the
offset and the field.  What a message holds that the model has no counterpart
for is listed in ``Decoded.unmodelled`` rather than dropped in silence.
"""

from __future__ import annotations

import ipaddress
import struct
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from ipsecmm.model._vocab import Kind, Peer, Reason

from . import _numbers as N
from ._crypto import IkeKeys, nat_hash, open_sk, seal
from ._errors import IN_SK, WireError
from ._payloads import (
    Attribute,
    Buf,
    Delete,
    Encrypted,
    KeyExchange,
    Nonce,
    Notify,
    Payload,
    Proposal,
    SAPayload,
    Selector,
    TrafficSelectors,
    Transform,
    chain,
    parse_chain,
)

HEADER = 28
ALL_SAS = "*"  # MOBIKE moves every SA of the IKE_SA at once

MM_KINDS = frozenset(N.MM_ACTION)
_COOKIE_KINDS = (Kind.PROBE, Kind.RR_CHALLENGE, Kind.MOBIKE_UPDATE, Kind.MOBIKE_ADDITIONAL)
#: Refusal codes each kind's answer can carry on the wire.
_CODES: dict[Kind, frozenset[Reason]] = {
    **{k: frozenset(N.MM_ERROR) | {Reason.UNACCEPTABLE_ADDRESSES} for k in MM_KINDS},
    Kind.MOBIKE_UPDATE: frozenset({Reason.UNACCEPTABLE_ADDRESSES}),
    Kind.MOBIKE_ADDITIONAL: frozenset({Reason.UNACCEPTABLE_ADDRESSES}),
    Kind.CREATE: frozenset({Reason.TS_UNACCEPTABLE, Reason.NO_PROPOSAL_CHOSEN}),
    Kind.DELETE: frozenset(), Kind.PROBE: frozenset(), Kind.RR_CHALLENGE: frozenset(),
}
_STANDARD_CODE = {Reason.UNACCEPTABLE_ADDRESSES: N.UNACCEPTABLE_ADDRESSES, Reason.TS_UNACCEPTABLE: N.TS_UNACCEPTABLE,
                  Reason.NO_PROPOSAL_CHOSEN: N.NO_PROPOSAL_CHOSEN}
_CODE_REASON = {**{v: r for r, v in _STANDARD_CODE.items()}, **N.ERROR_REASON}


# ---------------------------------------------------------------- what is encoded


@dataclass(frozen=True)
class ChildSA:
    """A CHILD_SA's ESP SPIs: ``spi_i`` is the one the original initiator of
    the IKE_SA (peer I) receives with, ``spi_r`` the other peer's."""

    spi_i: bytes
    spi_r: bytes
    transport: bool = False

    def spi(self, side: Peer) -> bytes:
        return self.spi_i if side == Peer.I else self.spi_r


@dataclass(frozen=True)
class Session:
    """What both ends of an IKE_SA know: its SPIs and keys, its CHILD_SAs by
    name, and the UDP port it runs on.  ``forger`` is an IKE_SA no peer has,
    whose keys an off-path attacker uses: its messages are well-formed but
    not protected by the session's IKE_SA (the model's ``protected: false``)."""

    ike: IkeKeys
    children: Mapping[str, ChildSA] = field(default_factory=dict)
    ike_name: str = "ike"
    forger: IkeKeys | None = None
    port: int = 4500

    @classmethod
    def derive(cls, secret: bytes, children: Mapping[str, ChildSA], ike_name: str = "ike", port: int = 4500) -> Session:
        """The same secret gives the same SPIs and keys (HKDF-SHA-256)."""
        return cls(IkeKeys.derive(secret, "ike"), dict(children), ike_name, IkeKeys.derive(secret, "forger"), port)

    def table(self) -> list[str]:
        """Wireshark ``ikev2_decryption_table`` rows: the IKE_SA, then the forger's."""
        return [k.row() for k in (self.ike, self.forger) if k is not None]

    def to_json(self) -> dict[str, Any]:
        return {"ike": self.ike.to_json(), "forger": None if self.forger is None else self.forger.to_json(),
                "ike_name": self.ike_name, "port": self.port,
                "children": {n: {"i": c.spi_i.hex(), "r": c.spi_r.hex(), "transport": c.transport}
                             for n, c in sorted(self.children.items())}}

    @classmethod
    def from_json(cls, d: Any) -> Session:
        try:
            children = {str(n): ChildSA(bytes.fromhex(c["i"]), bytes.fromhex(c["r"]), bool(c["transport"]))
                        for n, c in d["children"].items()}
            forger = None if d.get("forger") is None else IkeKeys.from_json(d["forger"])
            return cls(IkeKeys.from_json(d["ike"]), children, str(d["ike_name"]), forger, int(d["port"]))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise WireError(None, "session", f"malformed ({type(exc).__name__}: {exc})") from None


@dataclass(frozen=True)
class Message:
    """The model's message as it travels (``Msg`` of the model with names and
    IP addresses instead of indices).  ``sender`` is the peer that sent it:
    ``Peer.I`` is the original initiator of the IKE_SA.  ``src`` and ``dst``
    travel in the IP header, not in the IKE message: ``decode`` is told them.
    ``sa`` is a name of the session (``"*"``: every SA, MOBIKE's update); an
    answer names it only where its bytes do (an accepted CREATE, a DELETE)."""

    kind: Kind
    sender: Peer
    mid: int
    response: bool = False
    src: str | None = None
    dst: str | None = None
    protected: bool = True
    reason: Reason = Reason.OK
    sa: str | None = None
    old: str | None = None
    new: str | None = None
    addresses: tuple[str, ...] = ()


@dataclass(frozen=True)
class Header:
    spi_i: bytes
    spi_r: bytes
    next_payload: int
    version: int
    exchange: int
    flags: int
    mid: int
    length: int

    @property
    def from_initiator(self) -> bool:
        return bool(self.flags & N.FLAG_I)

    @property
    def response(self) -> bool:
        return bool(self.flags & N.FLAG_R)


@dataclass(frozen=True)
class Decoded:
    """A decoded message: its header and payloads (the SK payload holds what
    it decrypted to), the abstract message where the model has one, and what
    the message carries that the model has no counterpart for."""

    header: Header
    payloads: tuple[Payload, ...]
    message: Message | None
    unmodelled: tuple[str, ...] = ()
    protected: bool | None = None  # None: not decrypted (no keys)

    def inner(self) -> tuple[Payload, ...]:
        """The payloads inside the SK payload (empty when there is none or it was not opened)."""
        for p in self.payloads:
            if isinstance(p, Encrypted) and p.contents is not None:
                return p.contents
        return ()


# ---------------------------------------------------------------- encoding


def encode(msg: Message, session: Session) -> bytes:
    """The IKEv2 message for ``msg``; ``WireError`` (no offset) when the
    message has a field its kind cannot carry, or lacks one it needs."""
    kind = Kind(msg.kind)
    if kind == Kind.EMPTY:
        raise WireError(None, "Message.kind", "EMPTY is no message")
    if not 0 <= msg.mid < 1 << 32:
        raise WireError(None, "Message.mid", f"{msg.mid} does not fit the 32-bit Message ID")
    keys = session.ike if msg.protected else session.forger
    if keys is None:
        raise WireError(None, "Message.protected", "false needs a session with a forger's IKE_SA")
    sender = Peer(msg.sender)
    payloads = _answer(msg, kind, sender, session, keys) if msg.response else _request(msg, kind, sender, session, keys)
    exchange = N.CREATE_CHILD_SA if kind == Kind.CREATE else N.INFORMATIONAL
    flags = (N.FLAG_I if sender == Peer.I else 0) | (N.FLAG_R if msg.response else 0)
    header = keys.spi_i + keys.spi_r + struct.pack("!BBBBII", N.SK, 0x20, exchange, flags, msg.mid, 0)
    first = payloads[0].type if payloads else N.NONE
    return seal(keys, sender == Peer.I, header, first, chain(payloads))


def _need(msg: Message, kind: Kind, name: str, present: bool, why: str = "") -> None:
    value = getattr(msg, name)
    if present and (value is None or value == ()):
        raise WireError(None, f"{kind.name}.{name}", "missing" + (f": {why}" if why else ""))
    if not present and value not in (None, ()):
        raise WireError(None, f"{kind.name}.{name}", f"{value!r} cannot be carried: {why}")


def _ip(text: str | None, what: str) -> bytes:
    try:
        return ipaddress.ip_address(str(text)).packed
    except ValueError:
        raise WireError(None, what, f"{text!r} is not an IP address") from None


def _target(session: Session, name: str | None, side: Peer, what: str) -> tuple[int, bytes]:
    """Protocol ID and SPI naming an SA: none for the IKE_SA, the ESP SPI
    ``side`` receives with for a CHILD_SA (as REKEY_SA and Delete do, RFC 7296 1.3.3, 3.11)."""
    if name == session.ike_name:
        return N.PROTO_NONE, b""
    child = session.children.get(str(name))
    if child is None:
        raise WireError(None, what, f"{name!r} is not an SA of the session")
    return N.PROTO_ESP, child.spi(side)


def _notify(ntype: int, data: bytes = b"", proto: int = 0, spi: bytes = b"") -> Notify:
    return Notify(N.NOTIFY, protocol=proto, spi=spi, notify_type=ntype, data=data)


def cookie(keys: IkeKeys, kind: Kind, requester: Peer, mid: int) -> bytes:
    """COOKIE2 data (RFC 4555 4.2.5: 8 to 64 octets the responder cannot
    predict): a MAC of what the check is for, so that the requester, and a
    decoder holding the secret, can tell a path probe from a return
    routability check from the bytes alone."""
    return keys.mac(b"cookie2", kind.name.encode(), bytes([requester]), struct.pack("!I", mid))[:16]


def _request(msg: Message, kind: Kind, sender: Peer, session: Session, keys: IkeKeys) -> list[Payload]:
    if kind in MM_KINDS:
        base = {Kind.CHECK_UPDATE: Kind.UPDATE, Kind.CHECK_ADD: Kind.ADD, Kind.CHECK_REMOVE: Kind.REMOVE,
                Kind.CHECK_ALT: Kind.SET_ALT}.get(kind, kind)
        if msg.sa in (None, ALL_SAS):
            raise WireError(None, f"{kind.name}.sa", f"{msg.sa!r}: a request of the extension names one SA")
        proto, spi = _target(session, msg.sa, sender, f"{kind.name}.sa")
        out: list[Payload] = [_notify(N.MM_ACTION[kind], proto=proto, spi=spi)]
        _need(msg, kind, "old", base in (Kind.UPDATE, Kind.REMOVE), f"{base.name} names no old address")
        _need(msg, kind, "new", base in (Kind.UPDATE, Kind.ADD), f"{base.name} names no new address")
        if base != Kind.SET_ALT:
            _need(msg, kind, "addresses", False, f"{base.name} carries no alternates")
        if msg.old is not None:
            out.append(_notify(N.MM_OLD_ADDRESS, _ip(msg.old, f"{kind.name}.old")))
        if msg.new is not None:
            out.append(_notify(N.MM_NEW_ADDRESS, _ip(msg.new, f"{kind.name}.new")))
        out += [_notify(N.MM_ALTERNATE_ADDRESS, _ip(a, f"{kind.name}.addresses")) for a in msg.addresses]
        return out
    if kind == Kind.MOBIKE_UPDATE:
        if msg.sa != ALL_SAS:
            raise WireError(None, "MOBIKE_UPDATE.sa", f"{msg.sa!r} cannot be carried: RFC 4555 3.5 moves every SA ('*')")
        _need(msg, kind, "old", False, "RFC 4555 3.5 names no old address")
        _need(msg, kind, "new", False, "RFC 4555 3.5 takes the new address from the IP header (src)")
        _need(msg, kind, "addresses", False, "send the address list in its own request")
        return [_notify(N.UPDATE_SA_ADDRESSES), *_nat(msg, keys, session),
                _notify(N.COOKIE2, cookie(keys, kind, sender, msg.mid))]
    if kind == Kind.MOBIKE_ADDITIONAL:
        if msg.sa != session.ike_name:
            raise WireError(None, "MOBIKE_ADDITIONAL.sa",
                            f"{msg.sa!r} cannot be carried: RFC 4555 3.6 lists belong to the IKE_SA ({session.ike_name!r})")
        _need(msg, kind, "old", False, "RFC 4555 3.6 replaces the whole list")
        _need(msg, kind, "new", False, "RFC 4555 3.6 replaces the whole list")
        out = []
        for a in msg.addresses:
            ip = _ip(a, "MOBIKE_ADDITIONAL.addresses")
            out.append(_notify(N.ADDITIONAL_IP4_ADDRESS if len(ip) == 4 else N.ADDITIONAL_IP6_ADDRESS, ip))
        listed: list[Payload] = [*out] if out else [_notify(N.NO_ADDITIONAL_ADDRESSES)]
        return listed + [_notify(N.COOKIE2, cookie(keys, kind, sender, msg.mid))]
    if kind in (Kind.PROBE, Kind.RR_CHALLENGE):
        _need(msg, kind, "sa", False, "a COOKIE2 check names no SA")
        _need(msg, kind, "old", False, "a COOKIE2 check names no address")
        _need(msg, kind, "addresses", False, "a COOKIE2 check names no address")
        if kind == Kind.PROBE:
            _need(msg, kind, "new", False, "the address under test is the IP source (RFC 4555 3.10)")
        else:
            _need(msg, kind, "new", False, "the challenge goes to the address under test (dst)")
        return [_notify(N.COOKIE2, cookie(keys, kind, sender, msg.mid))]
    if kind == Kind.CREATE:
        if msg.sa in (None, ALL_SAS, session.ike_name):
            raise WireError(None, "CREATE.sa", f"{msg.sa!r}: CREATE_CHILD_SA here creates one named CHILD_SA")
        _need(msg, kind, "new", True, "the creator's address of the new SA travels in TSi")
        _need(msg, kind, "old", False, "a new SA replaces no address")
        _need(msg, kind, "addresses", False, "a new SA has no alternates yet")
        _, spi = _target(session, msg.sa, sender, "CREATE.sa")
        new = _ip(msg.new, "CREATE.new")
        out = [_notify(N.USE_TRANSPORT_MODE)] if session.children[str(msg.sa)].transport else []
        return out + [_sa(spi), Nonce(N.NONCE, data=keys.mac(b"nonce", bytes([sender]), struct.pack("!I", msg.mid))),
                      _ts(N.TSI, new, new), _ts(N.TSR, *_whole(len(new)))]
    if kind == Kind.DELETE:
        _need(msg, kind, "sa", True, "a Delete names its SA")
        _need(msg, kind, "old", False, "a Delete names no address")
        _need(msg, kind, "new", False, "a Delete names no address")
        _need(msg, kind, "addresses", False, "a Delete names no address")
        return [_delete(session, str(msg.sa), sender, "DELETE.sa")]
    raise WireError(None, "Message.kind", f"{kind.name} has no layout")  # pragma: no cover - every kind is above


def _answer(msg: Message, kind: Kind, sender: Peer, session: Session, keys: IkeKeys) -> list[Payload]:
    for name in ("old", "new", "addresses"):
        _need(msg, kind, name, False, "an answer names no address")
    reason = Reason(msg.reason)
    if reason != Reason.OK and reason not in _CODES[kind]:
        if reason.value >= 30:
            raise WireError(None, f"{kind.name}.reason", f"{reason.name} is decided by the initiator and never sent")
        codes = ", ".join(r.name for r in sorted(_CODES[kind])) or "none"
        raise WireError(None, f"{kind.name}.reason", f"{reason.name} cannot be said in a {kind.name} answer "
                                                     f"(its codes: {codes})")
    refusal: list[Payload] = [] if reason == Reason.OK else [_notify(N.MM_ERROR.get(reason) or _STANDARD_CODE[reason])]
    requester = Peer(1 - sender)
    if kind == Kind.CREATE:
        if reason != Reason.OK:
            _need(msg, kind, "sa", False, "a refused CREATE_CHILD_SA carries no SA payload")
            return refusal
        if msg.sa in (None, ALL_SAS, session.ike_name):
            raise WireError(None, "CREATE.sa", f"{msg.sa!r}: an accepted CREATE_CHILD_SA answers with the new SA's SPI")
        _, spi = _target(session, msg.sa, sender, "CREATE.sa")
        out = [_notify(N.USE_TRANSPORT_MODE)] if session.children[str(msg.sa)].transport else []
        nonce = keys.mac(b"nonce", bytes([sender]), struct.pack("!I", msg.mid))
        if msg.src is None or msg.dst is None:
            raise WireError(None, "CREATE.src", "an accepted CREATE_CHILD_SA answer narrows TSi/TSr to dst and src")
        src, dst = _ip(msg.src, "CREATE.src"), _ip(msg.dst, "CREATE.dst")
        return out + [_sa(spi), Nonce(N.NONCE, data=nonce), _ts(N.TSI, dst, dst), _ts(N.TSR, src, src)]
    if kind == Kind.DELETE:
        if msg.sa == session.ike_name:
            raise WireError(None, "DELETE.sa", "the answer to deleting the IKE_SA is empty (RFC 7296 1.4.1): leave sa out")
        return [] if msg.sa is None else [_delete(session, msg.sa, sender, "DELETE.sa")]
    _need(msg, kind, "sa", False, "this answer names no SA")
    if kind in MM_KINDS:
        return [_notify(N.MM_ACTION[kind]), *refusal]
    if kind == Kind.MOBIKE_UPDATE:
        return [*_nat(msg, keys, session), _notify(N.COOKIE2, cookie(keys, kind, requester, msg.mid)), *refusal]
    return [_notify(N.COOKIE2, cookie(keys, kind, requester, msg.mid)), *refusal]


def _nat(msg: Message, keys: IkeKeys, session: Session) -> list[Payload]:
    if msg.src is None or msg.dst is None:
        raise WireError(None, f"{Kind(msg.kind).name}.src", "NAT_DETECTION_* hash the IP addresses: src and dst are needed")
    src, dst = _ip(msg.src, "src"), _ip(msg.dst, "dst")
    return [_notify(N.NAT_DETECTION_SOURCE_IP, nat_hash(keys.spi_i, keys.spi_r, src, session.port)),
            _notify(N.NAT_DETECTION_DESTINATION_IP, nat_hash(keys.spi_i, keys.spi_r, dst, session.port))]


def _sa(spi: bytes) -> SAPayload:
    """The one ESP proposal: AES-CBC-128, HMAC-SHA2-256-128, no ESN (RFC 7296 3.3)."""
    return SAPayload(N.SA, proposals=(Proposal(1, N.PROTO_ESP, spi, (
        Transform(N.T_ENCR, N.ENCR_AES_CBC, (Attribute(N.ATTR_KEY_LENGTH, struct.pack("!H", 128)),)),
        Transform(N.T_INTEG, N.AUTH_HMAC_SHA2_256_128),
        Transform(N.T_ESN, N.ESN_NONE))),))


def _ts(typ: int, start: bytes, end: bytes) -> TrafficSelectors:
    ts_type = N.TS_IPV4_ADDR_RANGE if len(start) == 4 else N.TS_IPV6_ADDR_RANGE
    return TrafficSelectors(typ, selectors=(Selector(ts_type, 0, 0, 65535, start, end),))


def _whole(width: int) -> tuple[bytes, bytes]:
    return bytes(width), b"\xff" * width


def _delete(session: Session, name: str, side: Peer, what: str) -> Delete:
    proto, spi = _target(session, name, side, what)
    if proto == N.PROTO_NONE:
        return Delete(N.DELETE, protocol=N.PROTO_IKE, spi_size=0, spis=())
    return Delete(N.DELETE, protocol=N.PROTO_ESP, spi_size=4, spis=(spi,))


# ---------------------------------------------------------------- decoding


def decode(data: bytes, session: Session | None = None, *, src: str | None = None, dst: str | None = None,
           ports: tuple[int, int] | None = None, answering: Kind | None = None) -> Decoded:
    """Read ``data`` (one IKE message, without the non-ESP marker).

    ``session`` gives the keys (without one, SK payloads stay closed); ``src``
    and ``dst`` the IP addresses it travelled between, ``ports`` the UDP ports
    (default: the session's); ``answering`` the kind of the request a response
    answers, as an IKEv2 peer knows it from the message ID (RFC 7296 2.2):
    only needed for answers whose bytes do not say it (an empty one)."""
    data = bytes(data)
    header = _header(data)
    payloads = parse_chain(Buf(data), header.next_payload, HEADER, len(data), outer=True)
    notes: list[str] = []
    keys: IkeKeys | None = None
    protected: bool | None = None
    sk = payloads[-1] if payloads and isinstance(payloads[-1], Encrypted) else None
    if session is not None:
        if (header.spi_i, header.spi_r) == (session.ike.spi_i, session.ike.spi_r):
            keys, protected = session.ike, True
        elif session.forger is not None and (header.spi_i, header.spi_r) == (session.forger.spi_i, session.forger.spi_r):
            keys, protected = session.forger, False
        elif sk is not None:
            raise WireError(0, "IKE SA Initiator's SPI", f"the SPIs {header.spi_i.hex()}/{header.spi_r.hex()} are not "
                                                         "this session's IKE_SA")
    inner: tuple[Payload, ...] | None = None
    if sk is not None and sk.type == N.SK and keys is not None:
        opened, plain = open_sk(data, sk, keys, header.from_initiator)
        inner = parse_chain(Buf(plain, 0, IN_SK), sk.inner_first, 0, len(plain), outer=False)
        payloads = (*payloads[:-1], replace(opened, contents=inner))
    elif sk is None:
        protected = None
    message = None
    if header.exchange in (N.IKE_SA_INIT, N.IKE_AUTH):
        notes.append(f"{N.EXCHANGES[header.exchange]}: the model begins with the IKE_SA set up "
                     "(message IDs 0 and 1 are spent before its first request)")
        notes += [_describe(p) for p in (inner or ()) + tuple(q for q in payloads if not isinstance(q, Encrypted))]
    elif header.exchange not in (N.CREATE_CHILD_SA, N.INFORMATIONAL):
        notes.append(f"exchange type {header.exchange}: the model has none such")
    elif sk is None:
        notes.append(f"{N.EXCHANGES[header.exchange]} without an SK payload: nothing the model sends is unprotected")
    elif sk.type == N.SKF:
        notes.append("an SKF fragment (RFC 7383): reassemble the message first")
    elif inner is None:
        notes.append("the SK payload was not opened: no keys")
    else:
        if len(payloads) > 1:
            notes += [f"{_describe(p)} before the SK payload" for p in payloads[:-1]]
        assert keys is not None and session is not None
        ctx = _Ctx(header, inner, session, keys, bool(protected), src, dst, ports or (session.port, session.port), notes)
        message = ctx.abstract(answering)
    return Decoded(header, payloads, message, tuple(notes), protected)


def _header(data: bytes) -> Header:
    buf = Buf(data)
    buf.need(0, HEADER, len(data), "IKE header")
    spi_i, spi_r = data[0:8], data[8:16]
    nxt, version, exchange, flags = data[16], data[17], data[18], data[19]
    mid, length = struct.unpack_from("!II", data, 20)
    if not any(spi_i):
        raise buf.err(0, "IKE SA Initiator's SPI", "zero (RFC 7296 3.1: it is never zero)")
    if version >> 4 != 2:
        raise buf.err(17, "Version", f"major version {version >> 4} is not IKEv2's 2")
    if length != len(data):
        raise buf.err(24, "Length", f"{length} but the message has {len(data)} octets")
    if not any(spi_r) and not (exchange == N.IKE_SA_INIT and not flags & N.FLAG_R):
        raise buf.err(8, "IKE SA Responder's SPI", "zero outside an IKE_SA_INIT request")
    return Header(spi_i, spi_r, nxt, version, exchange, flags, mid, length)


def _describe(p: Payload) -> str:
    if isinstance(p, Notify):
        return f"N({N.notify_name(p.notify_type)})"
    if isinstance(p, Delete):
        return f"D({len(p.spis)} SPI{'s' if len(p.spis) != 1 else ''})"
    return N.payload_name(p.type)


def _ip_text(raw: bytes) -> str:
    return str(ipaddress.ip_address(raw))


class _Ctx:
    """Reading one decrypted INFORMATIONAL or CREATE_CHILD_SA message back into
    the model's terms.  Payloads it uses are marked; every other one is noted
    as unmodelled."""

    def __init__(self, header: Header, inner: tuple[Payload, ...], session: Session, keys: IkeKeys, protected: bool,
                 src: str | None, dst: str | None, ports: tuple[int, int], notes: list[str]) -> None:
        self.h, self.inner, self.s, self.keys, self.protected = header, inner, session, keys, protected
        self.src, self.dst, self.ports, self.notes = src, dst, ports, notes
        self.sender = Peer.I if header.from_initiator else Peer.R
        self.used: set[int] = set()

    def err(self, p: Payload, fld: str, problem: str) -> WireError:
        return WireError(p.offset, fld, problem, IN_SK)

    def notifies(self, *types: int) -> list[Notify]:
        return [p for p in self.inner if isinstance(p, Notify) and p.notify_type in types]

    def of(self, cls: type[Any]) -> list[Any]:
        return [p for p in self.inner if isinstance(p, cls)]

    def use(self, *ps: Payload) -> None:
        self.used.update(id(p) for p in ps)

    def message(self, kind: Kind, **kw: Any) -> Message:
        return Message(kind, self.sender, self.h.mid, self.h.response, self.src, self.dst, self.protected, **kw)

    def abstract(self, answering: Kind | None) -> Message | None:
        if self.h.exchange == N.CREATE_CHILD_SA:
            msg = self.create_answer() if self.h.response else self.create()
        else:
            msg = self.answer(answering) if self.h.response else self.request()
        if msg is not None and self.h.response and answering is not None and msg.kind != answering:
            raise WireError(HEADER, "response", f"answers a {msg.kind.name} request, not {answering.name}", "")
        for p in self.inner:
            if id(p) not in self.used:
                self.notes.append(f"{_describe(p)}: the model has no counterpart")
        if self.h.flags & N.FLAG_V:
            self.notes.append("the Version flag is set: the model speaks IKEv2 only")
        return msg

    # ------------------------------------------------------------ helpers

    def plain(self, n: Notify, what: str) -> None:
        """RFC 4555 4 and docs/encoding.md: these notifies name no SA."""
        if n.protocol != 0 or n.spi:
            raise self.err(n, f"{what}.Protocol ID", f"{n.protocol} with a {len(n.spi)}-octet SPI; this notify names "
                                                     "no SA (Protocol ID 0, SPI Size 0)")

    def address(self, n: Notify, what: str) -> str:
        self.plain(n, what)
        if len(n.data) not in (4, 16):
            raise self.err(n, f"{what}.Notification Data", f"{len(n.data)} octets; an address has 4 (IPv4) or 16 (IPv6)")
        return _ip_text(n.data)

    def child_by_spi(self, spi: bytes, side: Peer, what: str) -> str | None:
        for name, c in sorted(self.s.children.items()):
            if c.spi(side) == spi:
                return name
        self.notes.append(f"{what}: SPI {spi.hex()} names no CHILD_SA of the session that {side.name} receives on")
        return None

    def target(self, n: Notify, what: str) -> str | None:
        if n.protocol == N.PROTO_NONE and not n.spi:
            return self.s.ike_name
        if n.protocol == N.PROTO_ESP and len(n.spi) == 4:
            return self.child_by_spi(n.spi, self.sender, what)
        raise self.err(n, f"{what}.Protocol ID", f"{n.protocol} with a {len(n.spi)}-octet SPI; an SA is named by "
                                                 "Protocol ID 0 and no SPI (the IKE_SA) or 3 and a 4-octet ESP SPI")

    def one(self, ns: list[Notify], what: str) -> Notify | None:
        if len(ns) > 1:
            raise self.err(ns[1], "Notify Message Type", f"a second {what} in one message")
        return ns[0] if ns else None

    def cookie_kind(self, n: Notify, requester: Peer) -> Kind | None:
        self.plain(n, "COOKIE2")
        if not 8 <= len(n.data) <= 64:
            raise self.err(n, "COOKIE2.Notification Data", f"{len(n.data)} octets; RFC 4555 4.2.5 asks for 8 to 64")
        for k in _COOKIE_KINDS:
            if n.data == cookie(self.keys, k, requester, self.h.mid):
                return k
        return None

    def no_data(self, n: Notify, what: str) -> None:
        self.plain(n, what)
        if n.data:
            raise self.err(n, f"{what}.Notification Data", f"{len(n.data)} octets; this notify carries none")

    def nat(self) -> bool:
        """Check NAT_DETECTION_* against the addresses and ports (RFC 7296 2.23)."""
        found = False
        for ntype, ip, port, what in ((N.NAT_DETECTION_SOURCE_IP, self.src, self.ports[0], "source"),
                                      (N.NAT_DETECTION_DESTINATION_IP, self.dst, self.ports[1], "destination")):
            n = self.one(self.notifies(ntype), N.notify_name(ntype))
            if n is None:
                continue
            found = True
            self.plain(n, N.notify_name(ntype))
            if len(n.data) != 20:
                raise self.err(n, f"{N.notify_name(ntype)}.Notification Data", f"{len(n.data)} octets; a SHA-1 hash has 20")
            self.use(n)
            if ip is not None and n.data != nat_hash(self.h.spi_i, self.h.spi_r, ipaddress.ip_address(ip).packed, port):
                self.notes.append(f"{N.notify_name(ntype)} does not hash the {what} {ip} port {port}: a NAT on the "
                                  "path, or a peer that fakes it to force UDP encapsulation (strongSwan's encap = yes); "
                                  "the model has neither")
        return found

    def refusal(self, kind: Kind | None) -> tuple[Reason, bool]:
        """The refusal code of an answer, and whether the model knows it."""
        errors = [p for p in self.inner if isinstance(p, Notify) and p.notify_type < 16384]
        if not errors:
            return Reason.OK, True
        e = self.one(errors, "error notify")
        assert e is not None
        reason = _CODE_REASON.get(e.notify_type)
        if reason is None:
            self.notes.append(f"error {N.notify_name(e.notify_type)}: the model has no such refusal")
            self.use(e)
            return Reason.OK, False
        if kind is not None and reason not in _CODES[kind]:
            raise self.err(e, "Notify Message Type", f"{N.notify_name(e.notify_type)} does not answer a {kind.name}")
        self.no_data(e, N.notify_name(e.notify_type))
        self.use(e)
        return reason, True

    # ------------------------------------------------------------ INFORMATIONAL

    def request(self) -> Message | None:
        action = self.one(self.notifies(*N.ACTION_KIND), "MM action")
        if action is not None:
            return self.mm_request(action)
        update = self.one(self.notifies(N.UPDATE_SA_ADDRESSES), "UPDATE_SA_ADDRESSES")
        listed = self.notifies(N.ADDITIONAL_IP4_ADDRESS, N.ADDITIONAL_IP6_ADDRESS, N.NO_ADDITIONAL_ADDRESSES)
        cookies = self.notifies(N.COOKIE2)
        c = self.one(cookies, "COOKIE2")
        told = self.cookie_kind(c, self.sender) if c is not None else None
        if c is not None:
            self.use(c)
        if update is not None:
            self.no_data(update, "UPDATE_SA_ADDRESSES")
            self.use(update)
            self.nat()
            if listed:
                self.notes.append("ADDITIONAL_*/NO_ADDITIONAL_ADDRESSES with UPDATE_SA_ADDRESSES: the model sends "
                                  "the list in a request of its own")
            return self.message(Kind.MOBIKE_UPDATE, sa=ALL_SAS)
        if listed:
            addrs = self.additional(listed)
            return self.message(Kind.MOBIKE_ADDITIONAL, sa=self.s.ike_name, addresses=addrs)
        deletes = self.of(Delete)
        if deletes:
            d = deletes[0]
            self.use(d)
            if len(deletes) > 1 or len(d.spis) > 1:
                self.notes.append(f"deletes {sum(max(1, len(x.spis)) for x in deletes)} SAs; the model's DELETE names one")
            return self.message(Kind.DELETE, sa=self.deleted(d))
        if c is not None:
            if told not in (Kind.PROBE, Kind.RR_CHALLENGE):
                # A cookie this codec did not make: the mobile node (the
                # original initiator) probes, its peer checks return routability.
                told = Kind.PROBE if self.sender == Peer.I else Kind.RR_CHALLENGE
                self.notes.append(f"COOKIE2 not made by this codec: read as {told.name}, from who sent it")
            return self.message(told)
        if not self.inner:
            self.notes.append("an empty INFORMATIONAL (a liveness check, RFC 7296 1.4) used as a path test "
                              "(RFC 4555 3.10): the model's PROBE carries COOKIE2")
            return self.message(Kind.PROBE)
        self.notes.append("an INFORMATIONAL request with nothing the model sends")
        return None

    def mm_request(self, action: Notify) -> Message:
        kind = N.ACTION_KIND[action.notify_type]
        name = N.mm_action_name(kind)
        if action.data:
            raise self.err(action, f"{name}.Notification Data", f"{len(action.data)} octets; the addresses travel "
                                                                "in their own notifies")
        sa = self.target(action, name)
        self.use(action)
        base = {Kind.CHECK_UPDATE: Kind.UPDATE, Kind.CHECK_ADD: Kind.ADD, Kind.CHECK_REMOVE: Kind.REMOVE,
                Kind.CHECK_ALT: Kind.SET_ALT}.get(kind, kind)
        olds, news = self.notifies(N.MM_OLD_ADDRESS), self.notifies(N.MM_NEW_ADDRESS)
        alts = self.notifies(N.MM_ALTERNATE_ADDRESS)
        want = {N.MM_OLD_ADDRESS: base in (Kind.UPDATE, Kind.REMOVE), N.MM_NEW_ADDRESS: base in (Kind.UPDATE, Kind.ADD)}
        got: dict[int, str | None] = {}
        for ntype, ns in ((N.MM_OLD_ADDRESS, olds), (N.MM_NEW_ADDRESS, news)):
            if not want[ntype] and ns:
                raise self.err(ns[0], "Notify Message Type", f"{N.notify_name(ntype)} does not belong in {name}")
            if want[ntype] and not ns:
                raise self.err(action, name, f"needs one {N.notify_name(ntype)}")
            n = self.one(ns, N.notify_name(ntype))
            got[ntype] = None if n is None else self.address(n, N.notify_name(ntype))
            if n is not None:
                self.use(n)
        if base != Kind.SET_ALT and alts:
            raise self.err(alts[0], "Notify Message Type", f"MM_ALTERNATE_ADDRESS does not belong in {name}")
        addrs = tuple(self.address(n, "MM_ALTERNATE_ADDRESS") for n in alts)
        self.use(*alts)
        if len(set(addrs)) != len(addrs):
            raise self.err(alts[0], "MM_ALTERNATE_ADDRESS", "an address is listed twice")
        return self.message(kind, sa=sa, old=got[N.MM_OLD_ADDRESS], new=got[N.MM_NEW_ADDRESS], addresses=addrs)

    def additional(self, listed: list[Notify]) -> tuple[str, ...]:
        none = [n for n in listed if n.notify_type == N.NO_ADDITIONAL_ADDRESSES]
        addrs = [n for n in listed if n.notify_type != N.NO_ADDITIONAL_ADDRESSES]
        if none and addrs:
            raise self.err(none[0], "NO_ADDITIONAL_ADDRESSES", "with ADDITIONAL_* addresses (RFC 4555 3.6: one or the other)")
        for n in none:
            self.no_data(n, "NO_ADDITIONAL_ADDRESSES")
        out = []
        for n in addrs:
            width = 4 if n.notify_type == N.ADDITIONAL_IP4_ADDRESS else 16
            name = N.notify_name(n.notify_type)
            self.plain(n, name)
            if len(n.data) != width:
                raise self.err(n, f"{name}.Notification Data", f"{len(n.data)} octets; RFC 4555 4.2.2 asks for {width}")
            out.append(_ip_text(n.data))
        self.use(*listed)
        if len(set(out)) != len(out):
            self.notes.append("an additional address is listed twice")
            out = list(dict.fromkeys(out))
        return tuple(out)

    def deleted(self, d: Delete) -> str | None:
        if d.protocol == N.PROTO_IKE:
            return self.s.ike_name
        if d.protocol == N.PROTO_AH:
            self.notes.append("an AH SA: the model's CHILD_SAs are ESP")
            return None
        return self.child_by_spi(d.spis[0], self.sender, "Delete") if d.spis else None

    def answer(self, answering: Kind | None) -> Message | None:
        requester = Peer(1 - self.sender)
        action = self.one(self.notifies(*N.ACTION_KIND), "MM action")
        if action is not None:
            kind = N.ACTION_KIND[action.notify_type]
            self.no_data(action, N.mm_action_name(kind))
            self.use(action)
            reason, known = self.refusal(kind)
            return self.message(kind, reason=reason) if known else None
        c = self.one(self.notifies(N.COOKIE2), "COOKIE2")
        told = self.cookie_kind(c, requester) if c is not None else None
        if c is not None:
            self.use(c)
        if self.nat():
            told = Kind.MOBIKE_UPDATE
        deletes = self.of(Delete)
        if deletes:
            d = deletes[0]
            self.use(*deletes)
            if told is not None:
                raise self.err(d, "Delete", f"in the answer to a {told.name}")
            reason, known = self.refusal(Kind.DELETE)
            return self.message(Kind.DELETE, sa=self.deleted(d)) if known else None
        kind = told or answering
        reason, known = self.refusal(kind)
        if kind is None:
            self.notes.append("an answer whose bytes do not say which request it answers; pass the request's kind")
            return None
        if not known:
            return None
        return self.message(kind, reason=reason)

    # ------------------------------------------------------------ CREATE_CHILD_SA

    def proposal_spi(self, what: str) -> tuple[SAPayload, bytes | None]:
        sas = self.of(SAPayload)
        if not sas:
            raise WireError(HEADER, what, "no SA payload", IN_SK)
        sa = sas[0]
        self.use(sa)
        first = sa.proposals[0]
        if len(sa.proposals) > 1:
            self.notes.append(f"{len(sa.proposals)} proposals; the model's CREATE has one")
        if first.protocol != N.PROTO_ESP:
            self.notes.append(f"a proposal for protocol {first.protocol}: the model creates ESP CHILD_SAs only "
                              "(rekeying the IKE_SA is not modelled)")
            return sa, None
        if len(first.spi) != 4:
            raise self.err(sa, "Proposal.SPI Size", f"{len(first.spi)}; an ESP SPI has 4 octets")
        return sa, first.spi

    def create(self) -> Message | None:
        _, spi = self.proposal_spi("CREATE_CHILD_SA request")
        nonces = self.of(Nonce)
        if not nonces:
            raise WireError(HEADER, "CREATE_CHILD_SA request", "no Nonce payload (RFC 7296 1.3)", IN_SK)
        self.use(*nonces, *self.notifies(N.USE_TRANSPORT_MODE))
        for n in self.notifies(N.USE_TRANSPORT_MODE):
            self.no_data(n, "USE_TRANSPORT_MODE")
        for n in self.notifies(N.REKEY_SA):
            self.use(n)
            self.notes.append("REKEY_SA: the model creates CHILD_SAs, it never rekeys one")
        for k in self.of(KeyExchange):
            self.use(k)
            self.notes.append("KE: the model's CREATE has no fresh Diffie-Hellman exchange")
        ts = {t.type: t for t in self.of(TrafficSelectors)}
        if N.TSI not in ts or N.TSR not in ts:
            raise WireError(HEADER, "CREATE_CHILD_SA request", "TSi and TSr are both needed (RFC 7296 1.3.1)", IN_SK)
        self.use(ts[N.TSI], ts[N.TSR])
        first = ts[N.TSI].selectors[0]
        new = None
        if first.start == first.end:
            new = _ip_text(first.start)
        else:
            self.notes.append("TSi is a range, not one address: the model's CREATE names the creator's address")
        if len(ts[N.TSI].selectors) > 1:
            self.notes.append("TSi has more than one selector")
        if spi is None:
            return None
        return self.message(Kind.CREATE, sa=self.child_by_spi(spi, self.sender, "SA"), new=new)

    def create_answer(self) -> Message | None:
        if self.of(SAPayload):
            _, spi = self.proposal_spi("CREATE_CHILD_SA answer")
            self.use(*self.of(Nonce), *self.of(TrafficSelectors), *self.notifies(N.USE_TRANSPORT_MODE))
            for k in self.of(KeyExchange):
                self.use(k)
                self.notes.append("KE: the model's CREATE has no fresh Diffie-Hellman exchange")
            reason, known = self.refusal(Kind.CREATE)
            if reason != Reason.OK:
                raise WireError(HEADER, "CREATE_CHILD_SA answer", "an SA payload with a refusal", IN_SK)
            if spi is None:
                return None
            return self.message(Kind.CREATE, sa=self.child_by_spi(spi, self.sender, "SA"))
        reason, known = self.refusal(Kind.CREATE)
        if reason == Reason.OK and known:
            raise WireError(HEADER, "CREATE_CHILD_SA answer", "neither an SA payload nor a refusal", IN_SK)
        return self.message(Kind.CREATE, reason=reason) if known else None


__all__ = ["ALL_SAS", "ChildSA", "Decoded", "Header", "Message", "Session", "cookie", "decode", "encode"]
