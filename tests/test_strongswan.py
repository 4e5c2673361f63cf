"""Real bytes from a real implementation: the strongSwan 5.9.8 MOBIKE capture decodes.

The capture (tests/fixtures/strongswan, from shared/interop) holds every
exchange of an IKE_SA's life.  The codec must read each IKE message into the
model's terms, or say which payload the model has no counterpart for.  The
expectations below are the message sequence strongSwan's own summary lists
(shared/interop/strongswan/ss-mobike-summary.md), not the codec's output.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ipsecmm.model import Kind, Peer, Reason
from ipsecmm.wire import ChildSA, IkeKeys, Message, Session, WireError, decode, encode, read_pcap
from ipsecmm.wire._payloads import Encrypted, SAPayload
from ipsecmm.wire._pcap import udp_of

HERE = Path(__file__).resolve().parent / "fixtures" / "strongswan"
MN, MN2, GW = "192.0.2.10", "198.51.100.10", "203.0.113.1"
I, R = Peer.I, Peer.R


def _ike_packets():
    linktype, frames = read_pcap((HERE / "ss-mobike.pcap").read_bytes())
    out = {}
    for n, f in enumerate(frames, 1):
        u = udp_of(f.data, linktype)
        if u is not None and u.ike is not None:
            out[n] = u
    return out


PACKETS = _ike_packets()
KEYS = IkeKeys.from_row((HERE / "ikev2_decryption_table").read_text())


def _spi(n: int) -> bytes:
    """The ESP SPI of the first proposal in frame ``n``'s SA payload: how the
    peers agreed on each CHILD_SA's SPIs."""
    d = decode(PACKETS[n].ike, Session(KEYS))
    (sa,) = [p for p in d.inner() if isinstance(p, SAPayload)]
    return sa.proposals[0].spi


# The CHILD_SA of IKE_AUTH (I's SPI in the request, R's in the answer), and
# the one the gateway's rekey made (R's SPI in its request, I's in the answer).
SESSION = Session(KEYS, {"child": ChildSA(_spi(3), _spi(4)), "rekeyed": ChildSA(_spi(18), _spi(16))}, "ike", None, 4500)


def _decode_all():
    asked: dict[tuple[bool, int], Kind] = {}
    out = {}
    for n, u in PACKETS.items():
        hdr = decode(u.ike).header
        answering = asked.get((not hdr.from_initiator, hdr.mid)) if hdr.response else None
        d = decode(u.ike, SESSION, src=u.src, dst=u.dst, ports=(u.sport, u.dport), answering=answering)
        if d.message is not None and not hdr.response:
            asked[(hdr.from_initiator, hdr.mid)] = d.message.kind
        out[n] = d
    return out


DECODED = _decode_all()


def M(kind, sender, mid, src, dst, **kw):
    return Message(kind, sender, mid, kw.pop("response", False), src, dst, **kw)


EXPECTED = {
    11: M(Kind.MOBIKE_ADDITIONAL, I, 2, MN, GW, sa="ike", addresses=(MN2, "2001:db8:2::10", "198.51.100.11")),
    12: M(Kind.MOBIKE_ADDITIONAL, R, 2, GW, MN, response=True),
    13: M(Kind.PROBE, I, 3, MN2, GW),
    14: M(Kind.PROBE, R, 3, GW, MN2, response=True),
    15: M(Kind.MOBIKE_UPDATE, I, 4, MN2, GW, sa="*"),
    16: M(Kind.CREATE, R, 0, GW, MN2, sa="rekeyed"),
    17: M(Kind.MOBIKE_UPDATE, R, 4, GW, MN2, response=True),
    18: M(Kind.CREATE, I, 0, MN2, GW, response=True, sa="rekeyed"),
    19: M(Kind.DELETE, R, 1, GW, MN2, sa="child"),
    20: M(Kind.DELETE, I, 1, MN2, GW, response=True, sa="child"),
    27: M(Kind.MOBIKE_ADDITIONAL, I, 5, MN2, GW, sa="ike"),
    28: M(Kind.MOBIKE_ADDITIONAL, R, 5, GW, MN2, response=True),
    29: M(Kind.DELETE, I, 6, MN2, GW, sa="ike"),
    30: M(Kind.DELETE, R, 6, GW, MN2, response=True),
}


def test_the_capture_holds_eighteen_ike_messages():
    assert sorted(PACKETS) == [1, 2, 3, 4, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 27, 28, 29, 30]


@pytest.mark.parametrize("n", sorted(EXPECTED))
def test_each_exchange_after_ike_auth_decodes_to_the_models_message(n):
    d = DECODED[n]
    assert d.protected is True
    assert d.message == EXPECTED[n]
    assert d.message.reason == Reason.OK


def test_what_the_model_has_no_counterpart_for_is_said():
    notes = {n: " | ".join(d.unmodelled) for n, d in DECODED.items()}
    assert "liveness check" in notes[13]  # strongSwan probes a path with an empty INFORMATIONAL
    assert "ADDITIONAL_*/NO_ADDITIONAL_ADDRESSES with UPDATE_SA_ADDRESSES" in notes[15]
    assert "N(ADDITIONAL_IP6_ADDRESS): the model has no counterpart" in notes[15]
    assert "REKEY_SA" in notes[16] and "TSi is a range" in notes[16]
    for n in (11, 12, 14, 18, 19, 20, 27, 28, 29, 30):
        assert notes[n] == "", (n, notes[n])


def test_nat_detection_hashes_as_strongswan_computes_them():
    # The destination hash is RFC 7296 2.23's over the real address and port;
    # strongSwan fakes the source one to force UDP encapsulation (encap = yes).
    for n in (15, 17):
        notes = " | ".join(DECODED[n].unmodelled)
        assert "NAT_DETECTION_DESTINATION_IP" not in notes
        assert "NAT_DETECTION_SOURCE_IP does not hash the source" in notes


@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_ike_sa_init_and_ike_auth_decode_structurally(n):
    d = DECODED[n]
    assert d.message is None
    assert d.unmodelled[0].startswith(("IKE_SA_INIT", "IKE_AUTH"))
    shown = d.unmodelled[1:]
    if n in (1, 2):
        assert d.protected is None and shown[:3] == ("SA", "KE", "Nonce")
        assert "N(NAT_DETECTION_SOURCE_IP)" in shown
    else:
        assert d.protected is True and isinstance(d.payloads[-1], Encrypted)
        assert {"AUTH", "SA", "TSi", "TSr", "N(MOBIKE_SUPPORTED)"} <= set(shown)
    if n == 3:
        assert shown[:2] == ("IDi", "N(INITIAL_CONTACT)") and "N(ADDITIONAL_IP6_ADDRESS)" in shown


@pytest.mark.parametrize("n", sorted(EXPECTED))
def test_what_strongswan_said_the_codec_can_say_again(n):
    msg = EXPECTED[n]
    if msg.kind == Kind.CREATE and not msg.response:
        # Its TSi is a range: the model's CREATE names one address, so there is none to lay out again.
        with pytest.raises(WireError, match=r"CREATE\.new: missing"):
            encode(msg, SESSION)
        return
    again = decode(encode(msg, SESSION), SESSION, src=msg.src, dst=msg.dst, answering=msg.kind)
    assert again.message == msg
