"""IKEv2 payloads as structures: parse strictly, build exactly (RFC 7296 3.2-3.16).

Parsing never trusts a length: every field is bounds-checked before it is read,
and every problem is a :class:`WireError` with the offset of the field.  The
encrypted payload's contents are parsed by ``_crypto`` once decrypted; here it
is opaque.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from . import _numbers as N
from ._errors import WireError

# ---------------------------------------------------------------- structures


@dataclass(frozen=True)
class Attribute:
    type: int
    value: bytes  # TV attributes: the two octets of the value
    tv: bool = True


@dataclass(frozen=True)
class Transform:
    type: int
    id: int
    attributes: tuple[Attribute, ...] = ()


@dataclass(frozen=True)
class Proposal:
    number: int
    protocol: int
    spi: bytes
    transforms: tuple[Transform, ...]


@dataclass(frozen=True)
class Selector:
    ts_type: int
    ip_protocol: int
    start_port: int
    end_port: int
    start: bytes
    end: bytes


@dataclass(frozen=True)
class Payload:
    """Any payload.  ``offset`` is where its generic header starts (counted as
    ``WireError.where`` says); it does not take part in comparisons."""

    type: int
    offset: int = field(default=0, compare=False)
    critical: bool = False


@dataclass(frozen=True)
class Raw(Payload):
    """A payload kept as its body: one the codec reads no further (CERT,
    Vendor ID, CP, EAP, ...) or of a type it does not know."""

    body: bytes = b""


@dataclass(frozen=True)
class Notify(Payload):
    protocol: int = 0
    spi: bytes = b""
    notify_type: int = 0
    data: bytes = b""


@dataclass(frozen=True)
class Delete(Payload):
    protocol: int = 0
    spi_size: int = 0
    spis: tuple[bytes, ...] = ()


@dataclass(frozen=True)
class SAPayload(Payload):
    proposals: tuple[Proposal, ...] = ()


@dataclass(frozen=True)
class Nonce(Payload):
    data: bytes = b""


@dataclass(frozen=True)
class KeyExchange(Payload):
    group: int = 0
    data: bytes = b""


@dataclass(frozen=True)
class Ident(Payload):
    """IDi, IDr (3.5) and AUTH (3.8) share a layout: one type octet, three reserved, data."""

    id_type: int = 0
    data: bytes = b""


@dataclass(frozen=True)
class TrafficSelectors(Payload):
    selectors: tuple[Selector, ...] = ()


@dataclass(frozen=True)
class Encrypted(Payload):
    """The SK payload.  ``inner_first`` is its Next Payload field: the type of
    the first payload inside.  ``contents`` are the decrypted payloads, when
    the keys were known; ``verified`` whether the ICV matched."""

    inner_first: int = 0
    iv: bytes = b""
    ciphertext: bytes = b""
    icv: bytes = b""
    contents: tuple[Payload, ...] | None = None


# ---------------------------------------------------------------- parsing


class Buf:
    """A byte string with checked reads; offsets are reported as
    ``base + position`` counted as ``where`` says."""

    __slots__ = ("base", "data", "where")

    def __init__(self, data: bytes, base: int = 0, where: str = "") -> None:
        self.data, self.base, self.where = data, base, where

    def err(self, pos: int, fld: str, problem: str) -> WireError:
        return WireError(self.base + pos, fld, problem, self.where)

    def need(self, pos: int, n: int, end: int, fld: str) -> None:
        if pos + n > end:
            left = max(0, end - pos)
            raise self.err(pos, fld, f"needs {n} octet{'s' if n != 1 else ''}, {left} left")

    def u8(self, pos: int, end: int, fld: str) -> int:
        self.need(pos, 1, end, fld)
        return self.data[pos]

    def u16(self, pos: int, end: int, fld: str) -> int:
        self.need(pos, 2, end, fld)
        return int(struct.unpack_from("!H", self.data, pos)[0])

    def u32(self, pos: int, end: int, fld: str) -> int:
        self.need(pos, 4, end, fld)
        return int(struct.unpack_from("!I", self.data, pos)[0])

    def take(self, pos: int, n: int, end: int, fld: str) -> bytes:
        self.need(pos, n, end, fld)
        return self.data[pos : pos + n]


def parse_chain(buf: Buf, first: int, start: int, end: int, outer: bool) -> tuple[Payload, ...]:
    """The payloads from ``start`` to ``end`` beginning with type ``first``.
    In the outer chain an SK (or SKF) payload ends the chain (RFC 7296 3.14:
    it is the last payload; its Next Payload names the first one inside)."""
    res: list[Payload] = []
    pos, typ = start, first
    while typ != N.NONE:
        name = N.payload_name(typ)
        buf.need(pos, 4, end, f"{name} payload header")
        nxt = buf.data[pos]
        critical = bool(buf.data[pos + 1] & 0x80)
        length = buf.u16(pos + 2, end, f"{name}.Payload Length")
        if length < 4:
            raise buf.err(pos + 2, f"{name}.Payload Length", f"{length} is shorter than the generic header (4)")
        if pos + length > end:
            raise buf.err(pos + 2, f"{name}.Payload Length", f"{length} runs past the end ({end - pos} octets left)")
        body_end = pos + length
        if typ in (N.SK, N.SKF):
            if not outer:
                raise buf.err(pos, "Next Payload", f"an {name} payload inside an encrypted payload")
            if body_end != end:
                raise buf.err(pos, f"{name} payload", f"must be the last payload; {end - body_end} octets follow it")
            res.append(_encrypted(buf, typ, pos, body_end, nxt, critical))
            return tuple(res)
        res.append(_body(buf, typ, pos, pos + 4, body_end, critical))
        pos, typ = body_end, nxt
    if pos != end:
        raise buf.err(pos, "payload chain", f"{end - pos} octets after the last payload")
    return tuple(res)


def _encrypted(buf: Buf, typ: int, at: int, end: int, inner_first: int, critical: bool) -> Encrypted:
    # The IV and ICV lengths belong to the negotiated algorithms, so the body
    # is split by ``_crypto`` when it opens the payload.  An SKF fragment
    # (RFC 7383) has two 16-bit numbers first; reassembly is not this codec's
    # business, so a fragment stays opaque.
    if typ == N.SKF:
        buf.need(at + 4, 4, end, "SKF.Fragment Number")
    return Encrypted(typ, at, critical, inner_first, b"", buf.data[at + 4 : end], b"")


def _body(buf: Buf, typ: int, at: int, pos: int, end: int, critical: bool) -> Payload:
    name = N.payload_name(typ)
    d = buf.data
    if typ == N.NOTIFY:
        proto = buf.u8(pos, end, "Notify.Protocol ID")
        size = buf.u8(pos + 1, end, "Notify.SPI Size")
        ntype = buf.u16(pos + 2, end, "Notify.Notify Message Type")
        spi = buf.take(pos + 4, size, end, "Notify.SPI")
        return Notify(typ, at, critical, proto, spi, ntype, d[pos + 4 + size : end])
    if typ == N.DELETE:
        proto = buf.u8(pos, end, "Delete.Protocol ID")
        size = buf.u8(pos + 1, end, "Delete.SPI Size")
        count = buf.u16(pos + 2, end, "Delete.Num of SPIs")
        if proto == N.PROTO_IKE and (size or count):
            raise buf.err(pos + 1, "Delete.SPI Size", "deleting the IKE SA names no SPI (RFC 7296 3.11)")
        if proto in (N.PROTO_AH, N.PROTO_ESP) and size != 4:
            raise buf.err(pos + 1, "Delete.SPI Size", f"{size} is not 4 for an AH or ESP SA")
        if proto not in (N.PROTO_IKE, N.PROTO_AH, N.PROTO_ESP):
            raise buf.err(pos, "Delete.Protocol ID", f"{proto} is not IKE (1), AH (2) or ESP (3)")
        if end - (pos + 4) != size * count:
            raise buf.err(pos + 2, "Delete.Num of SPIs", f"{count} SPIs of {size} octets do not fill {end - pos - 4} octets")
        spis = tuple(d[pos + 4 + k * size : pos + 4 + (k + 1) * size] for k in range(count))
        return Delete(typ, at, critical, proto, size, spis)
    if typ == N.SA:
        return SAPayload(typ, at, critical, _proposals(buf, pos, end))
    if typ == N.NONCE:
        n = end - pos
        if not 16 <= n <= 256:
            raise buf.err(pos, "Nonce.Nonce Data", f"{n} octets; RFC 7296 3.9 asks for 16 to 256")
        return Nonce(typ, at, critical, d[pos:end])
    if typ == N.KE:
        group = buf.u16(pos, end, "KE.Diffie-Hellman Group Num")
        buf.need(pos + 2, 2, end, "KE.Reserved")
        return KeyExchange(typ, at, critical, group, d[pos + 4 : end])
    if typ in (N.IDI, N.IDR, N.AUTH):
        kind = buf.u8(pos, end, f"{name}.{'Auth Method' if typ == N.AUTH else 'ID Type'}")
        buf.need(pos + 1, 3, end, f"{name}.Reserved")
        return Ident(typ, at, critical, kind, d[pos + 4 : end])
    if typ in (N.TSI, N.TSR):
        return TrafficSelectors(typ, at, critical, _selectors(buf, name, pos, end))
    if typ not in N.PAYLOADS and critical:
        raise buf.err(at + 1, "Critical", f"{name} is unknown and marked critical (RFC 7296 2.5)")
    return Raw(typ, at, critical, d[pos:end])


def _proposals(buf: Buf, pos: int, end: int) -> tuple[Proposal, ...]:
    res: list[Proposal] = []
    while True:
        last = buf.u8(pos, end, "Proposal.Last Substruc")
        if last not in (0, 2):
            raise buf.err(pos, "Proposal.Last Substruc", f"{last} is neither 0 (last) nor 2 (more)")
        plen = buf.u16(pos + 2, end, "Proposal.Proposal Length")
        if plen < 8 or pos + plen > end:
            raise buf.err(pos + 2, "Proposal.Proposal Length", f"{plen} does not fit ({end - pos} octets left, 8 at least)")
        num = buf.u8(pos + 4, end, "Proposal.Proposal Num")
        if num != len(res) + 1:
            raise buf.err(pos + 4, "Proposal.Proposal Num", f"{num}, expected {len(res) + 1} (RFC 7296 3.3.1)")
        proto = buf.data[pos + 5]
        spi_size = buf.data[pos + 6]
        count = buf.data[pos + 7]
        pend = pos + plen
        spi = buf.take(pos + 8, spi_size, pend, "Proposal.SPI")
        transforms = _transforms(buf, pos + 8 + spi_size, pend, count)
        res.append(Proposal(num, proto, spi, transforms))
        pos = pend
        if last == 0:
            break
    if pos != end:
        raise buf.err(pos, "SA payload", f"{end - pos} octets after the last proposal")
    return tuple(res)


def _transforms(buf: Buf, pos: int, end: int, count: int) -> tuple[Transform, ...]:
    res: list[Transform] = []
    for k in range(count):
        last = buf.u8(pos, end, "Transform.Last Substruc")
        want = 0 if k == count - 1 else 3
        if last != want:
            raise buf.err(pos, "Transform.Last Substruc", f"{last}, expected {want} for transform {k + 1} of {count}")
        tlen = buf.u16(pos + 2, end, "Transform.Transform Length")
        if tlen < 8 or pos + tlen > end:
            raise buf.err(pos + 2, "Transform.Transform Length", f"{tlen} does not fit ({end - pos} octets left, 8 at least)")
        ttype = buf.data[pos + 4]
        tid = buf.u16(pos + 6, end, "Transform.Transform ID")
        res.append(Transform(ttype, tid, _attributes(buf, pos + 8, pos + tlen)))
        pos += tlen
    if pos != end:
        raise buf.err(pos, "Proposal", f"{end - pos} octets after its {count} transforms")
    return tuple(res)


def _attributes(buf: Buf, pos: int, end: int) -> tuple[Attribute, ...]:
    res: list[Attribute] = []
    while pos < end:
        head = buf.u16(pos, end, "Attribute.Attribute Type")
        value = buf.u16(pos + 2, end, "Attribute.Attribute Value")
        if head & 0x8000:
            res.append(Attribute(head & 0x7FFF, buf.data[pos + 2 : pos + 4], True))
            pos += 4
        else:
            res.append(Attribute(head, buf.take(pos + 4, value, end, "Attribute.Attribute Value"), False))
            pos += 4 + value
    return tuple(res)


def _selectors(buf: Buf, name: str, pos: int, end: int) -> tuple[Selector, ...]:
    count = buf.u8(pos, end, f"{name}.Number of TSs")
    if count == 0:
        raise buf.err(pos, f"{name}.Number of TSs", "0; a TS payload holds at least one selector")
    buf.need(pos + 1, 3, end, f"{name}.Reserved")
    pos += 4
    res: list[Selector] = []
    for _ in range(count):
        ts_type = buf.u8(pos, end, f"{name}.TS Type")
        if ts_type not in (N.TS_IPV4_ADDR_RANGE, N.TS_IPV6_ADDR_RANGE):
            raise buf.err(pos, f"{name}.TS Type", f"{ts_type} is neither 7 (IPv4) nor 8 (IPv6)")
        width = 4 if ts_type == N.TS_IPV4_ADDR_RANGE else 16
        slen = buf.u16(pos + 2, end, f"{name}.Selector Length")
        if slen != 8 + 2 * width:
            raise buf.err(pos + 2, f"{name}.Selector Length", f"{slen}, expected {8 + 2 * width} for TS Type {ts_type}")
        buf.need(pos, slen, end, f"{name} selector")
        d = buf.data
        proto = d[pos + 1]
        sport, eport = struct.unpack_from("!HH", d, pos + 4)
        start, stop = d[pos + 8 : pos + 8 + width], d[pos + 8 + width : pos + slen]
        res.append(Selector(ts_type, proto, sport, eport, start, stop))
        pos += slen
    if pos != end:
        raise buf.err(pos, name, f"{end - pos} octets after its {count} selectors")
    return tuple(res)


# ---------------------------------------------------------------- building


def body_of(p: Payload) -> bytes:
    """The payload's body (everything after the generic header)."""
    if isinstance(p, Notify):
        return struct.pack("!BBH", p.protocol, len(p.spi), p.notify_type) + p.spi + p.data
    if isinstance(p, Delete):
        return struct.pack("!BBH", p.protocol, p.spi_size, len(p.spis)) + b"".join(p.spis)
    if isinstance(p, SAPayload):
        out = b""
        for k, prop in enumerate(p.proposals):
            tr = b""
            for j, t in enumerate(prop.transforms):
                attrs = b"".join(struct.pack("!H", 0x8000 | a.type) + a.value if a.tv
                                 else struct.pack("!HH", a.type, len(a.value)) + a.value for a in t.attributes)
                tr += struct.pack("!BBHBBH", 0 if j == len(prop.transforms) - 1 else 3, 0, 8 + len(attrs),
                                  t.type, 0, t.id) + attrs
            last = 0 if k == len(p.proposals) - 1 else 2
            out += struct.pack("!BBHBBBB", last, 0, 8 + len(prop.spi) + len(tr), prop.number, prop.protocol,
                               len(prop.spi), len(prop.transforms)) + prop.spi + tr
        return out
    if isinstance(p, Nonce):
        return p.data
    if isinstance(p, KeyExchange):
        return struct.pack("!HH", p.group, 0) + p.data
    if isinstance(p, Ident):
        return struct.pack("!B3x", p.id_type) + p.data
    if isinstance(p, TrafficSelectors):
        out = struct.pack("!B3x", len(p.selectors))
        for s in p.selectors:
            out += struct.pack("!BBHHH", s.ts_type, s.ip_protocol, 8 + len(s.start) + len(s.end), s.start_port,
                               s.end_port) + s.start + s.end
        return out
    if isinstance(p, Raw):
        return p.body
    raise TypeError(f"no body for {type(p).__name__}")  # pragma: no cover - the codec builds no other


def chain(payloads: tuple[Payload, ...] | list[Payload], last_next: int = N.NONE) -> bytes:
    """Payloads with their generic headers, each naming the next one's type."""
    out = []
    for k, p in enumerate(payloads):
        nxt = payloads[k + 1].type if k + 1 < len(payloads) else last_next
        body = body_of(p)
        out.append(struct.pack("!BBH", nxt, 0x80 if p.critical else 0, 4 + len(body)) + body)
    return b"".join(out)


__all__ = [
    "Attribute",
    "Buf",
    "Delete",
    "Encrypted",
    "Ident",
    "KeyExchange",
    "Nonce",
    "Notify",
    "Payload",
    "Proposal",
    "Raw",
    "SAPayload",
    "Selector",
    "TrafficSelectors",
    "Transform",
    "body_of",
    "chain",
    "parse_chain",
]
