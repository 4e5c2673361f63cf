"""IP and UDP around an IKE message, and classic pcap files around those.

A capture is what Wireshark and tshark read: the libpcap format (a 24-octet
file header, then a 16-octet record header per packet), link type RAW (101:
each packet starts with its IPv4 or IPv6 header).  Checksums are computed, so
a dissector that checks them finds them right.  Reading accepts RAW, Ethernet
(1) and Linux cooked captures (113), which is what the strongSwan capture of
``shared/interop`` uses.
"""

from __future__ import annotations

import ipaddress
import struct
from dataclasses import dataclass

from ._errors import WireError
from ._payloads import Buf

LINKTYPE_ETHERNET = 1
LINKTYPE_RAW = 101
LINKTYPE_SLL = 113
NAT_T_PORT = 4500
MAGIC = 0xA1B2C3D4
NON_ESP_MARKER = b"\x00\x00\x00\x00"


@dataclass(frozen=True)
class Frame:
    sec: int
    usec: int
    data: bytes


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\x00"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def _packed(ip: str, v6: bool) -> bytes:
    a = ipaddress.ip_address(ip)
    if v6 and a.version == 4:
        # A path between families exists only in the model: the capture shows
        # the IPv4 end as an IPv4-mapped IPv6 address (RFC 4291 2.5.5.2).
        return ipaddress.IPv6Address(f"::ffff:{a}").packed
    return a.packed


def datagram(src: str, dst: str, ike: bytes, port: int = NAT_T_PORT, ident: int = 0) -> bytes:
    """One IP packet from ``src`` to ``dst`` carrying ``ike`` in UDP, source and
    destination port ``port``; on 4500 after the non-ESP marker (RFC 3948 2.2)."""
    try:
        v6 = ipaddress.ip_address(src).version == 6 or ipaddress.ip_address(dst).version == 6
        s, d = _packed(src, v6), _packed(dst, v6)
    except ValueError:
        raise WireError(None, "datagram", f"{src!r} -> {dst!r} is not a pair of IP addresses") from None
    payload = (NON_ESP_MARKER if port == NAT_T_PORT else b"") + ike
    ulen = 8 + len(payload)
    if ulen > 0xFFFF:
        raise WireError(None, "datagram", f"{ulen} octets do not fit one UDP datagram")
    pseudo = s + d + (struct.pack("!IxxxB", ulen, 17) if v6 else struct.pack("!xBH", 17, ulen))
    udp = struct.pack("!HHHH", port, port, ulen, 0) + payload
    csum = _checksum(pseudo + udp) or 0xFFFF  # zero means "no checksum" (RFC 768)
    udp = udp[:6] + struct.pack("!H", csum) + udp[8:]
    if v6:
        return struct.pack("!IHBB", 6 << 28, ulen, 17, 64) + s + d + udp
    head = struct.pack("!BBHHHBBH", 0x45, 0, 20 + ulen, ident & 0xFFFF, 0x4000, 64, 17, 0) + s + d
    head = head[:10] + struct.pack("!H", _checksum(head)) + head[12:]
    return head + udp


def pcap(frames: list[Frame], linktype: int = LINKTYPE_RAW) -> bytes:
    out = [struct.pack("!IHHiIII", MAGIC, 2, 4, 0, 0, 65535, linktype)]
    for f in frames:
        out.append(struct.pack("!IIII", f.sec, f.usec, len(f.data), len(f.data)) + f.data)
    return b"".join(out)


def read_pcap(data: bytes) -> tuple[int, list[Frame]]:
    """The link type and frames of a classic pcap file (either byte order)."""
    buf = Buf(data)
    buf.need(0, 24, len(data), "pcap file header")
    magic = data[:4]
    if magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        order = "!"
    elif magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        order = "<"
    else:
        raise buf.err(0, "pcap magic number", f"{magic.hex()} is not a classic pcap file's")
    linktype = struct.unpack_from(order + "I", data, 20)[0]
    frames = []
    pos = 24
    while pos < len(data):
        buf.need(pos, 16, len(data), "pcap record header")
        sec, usec, incl, _orig = struct.unpack_from(order + "IIII", data, pos)
        buf.need(pos + 16, incl, len(data), "pcap record data")
        frames.append(Frame(sec, usec, data[pos + 16 : pos + 16 + incl]))
        pos += 16 + incl
    return linktype, frames


@dataclass(frozen=True)
class Udp:
    src: str
    dst: str
    sport: int
    dport: int
    payload: bytes

    @property
    def ike(self) -> bytes | None:
        """The IKE message it carries, or None (ESP in UDP, a keepalive)."""
        if NAT_T_PORT in (self.sport, self.dport):
            if self.payload[:4] != NON_ESP_MARKER:
                return None  # ESP (RFC 3948 2.1) or a NAT-keepalive
            return self.payload[4:]
        return self.payload if 500 in (self.sport, self.dport) else None


def udp_of(frame: bytes, linktype: int) -> Udp | None:
    """The UDP datagram inside a captured frame, or None for anything else."""
    buf = Buf(frame)
    pos, ethertype = 0, None
    if linktype == LINKTYPE_SLL:
        ethertype = buf.u16(14, len(frame), "SLL protocol")
        pos = 16
    elif linktype == LINKTYPE_ETHERNET:
        ethertype = buf.u16(12, len(frame), "Ethernet type")
        pos = 14
    elif linktype != LINKTYPE_RAW:
        raise WireError(None, "pcap link type", f"{linktype} is not RAW (101), Ethernet (1) or Linux cooked (113)")
    if ethertype is not None and ethertype not in (0x0800, 0x86DD):
        return None
    version = buf.u8(pos, len(frame), "IP version") >> 4
    if version == 4:
        ihl = (frame[pos] & 0x0F) * 4
        total = buf.u16(pos + 2, len(frame), "IPv4 total length")
        proto = buf.u8(pos + 9, len(frame), "IPv4 protocol")
        buf.need(pos, max(ihl, 20), len(frame), "IPv4 header")
        src, dst = frame[pos + 12 : pos + 16], frame[pos + 16 : pos + 20]
        end, pos = min(len(frame), pos + total), pos + ihl
    elif version == 6:
        buf.need(pos, 40, len(frame), "IPv6 header")
        plen = struct.unpack_from("!H", frame, pos + 4)[0]
        proto = frame[pos + 6]
        src, dst = frame[pos + 8 : pos + 24], frame[pos + 24 : pos + 40]
        end, pos = min(len(frame), pos + 40 + plen), pos + 40
    else:
        raise buf.err(pos, "IP version", f"{version} is neither 4 nor 6")
    if proto != 17:
        return None
    sport, dport, ulen = struct.unpack_from("!HHH", buf.take(pos, 8, end, "UDP header"))
    buf.need(pos, ulen, end, "UDP datagram")
    return Udp(str(ipaddress.ip_address(src)), str(ipaddress.ip_address(dst)), sport, dport, frame[pos + 8 : pos + ulen])


__all__ = ["Frame", "Udp", "datagram", "pcap", "read_pcap", "udp_of"]
