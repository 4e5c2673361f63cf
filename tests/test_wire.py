"""The wire codec: every kind both ways, what the wire cannot carry, and strict decoding."""

from __future__ import annotations

import struct

import pytest

from ipsecmm.model import Kind, Peer, Reason
from ipsecmm.wire import ChildSA, IkeKeys, Message, Session, WireError, decode, encode
from ipsecmm.wire import _numbers as N
from ipsecmm.wire._payloads import Ident, KeyExchange, Nonce, Notify, SAPayload, chain

I, R = Peer.I, Peer.R
A1, A2, A6, R1 = "192.0.2.1", "192.0.2.2", "2001:db8:1::3", "198.51.100.1"
SESSION = Session.derive(b"test", {"web": ChildSA(bytes.fromhex("01020304"), bytes.fromhex("0a0b0c0d"), True),
                                   "vpn": ChildSA(bytes.fromhex("11121314"), bytes.fromhex("1a1b1c1d"))})


def req(kind, sender=I, **kw):
    kw.setdefault("src", A1 if sender == I else R1)
    kw.setdefault("dst", R1 if sender == I else A1)
    return Message(kind, sender, kw.pop("mid", 2), False, **kw)


def ans(kind, sender=R, **kw):
    kw.setdefault("src", R1 if sender == R else A1)
    kw.setdefault("dst", A1 if sender == R else R1)
    return Message(kind, sender, kw.pop("mid", 2), True, **kw)


EVERY_KIND = [
    req(Kind.UPDATE, sa="web", old=A1, new=A2),
    req(Kind.CHECK_UPDATE, sa="ike", old=A1, new=A6),
    req(Kind.ADD, sa="vpn", new=A6),
    req(Kind.CHECK_ADD, sa="web", new=A2),
    req(Kind.REMOVE, sa="web", old=A1),
    req(Kind.CHECK_REMOVE, sa="ike", old=A1),
    req(Kind.SET_ALT, sa="vpn", addresses=(A2, A6)),
    req(Kind.CHECK_ALT, sa="vpn", addresses=()),
    *[ans(k, reason=r) for k in (Kind.UPDATE, Kind.ADD, Kind.REMOVE, Kind.SET_ALT, Kind.CHECK_UPDATE, Kind.CHECK_ADD,
                                 Kind.CHECK_REMOVE, Kind.CHECK_ALT) for r in (Reason.OK, Reason.PAD)],
    *[ans(Kind.UPDATE, reason=r) for r in Reason if 1 <= r.value < 20 or r == Reason.UNACCEPTABLE_ADDRESSES],
    req(Kind.MOBIKE_UPDATE, sa="*", src=A2),
    ans(Kind.MOBIKE_UPDATE, dst=A2),
    ans(Kind.MOBIKE_UPDATE, dst=A2, reason=Reason.UNACCEPTABLE_ADDRESSES),
    req(Kind.MOBIKE_ADDITIONAL, sa="ike", addresses=(A2, A6)),
    req(Kind.MOBIKE_ADDITIONAL, sa="ike"),
    ans(Kind.MOBIKE_ADDITIONAL),
    req(Kind.PROBE, src=A2),
    ans(Kind.PROBE, dst=A2),
    req(Kind.RR_CHALLENGE, R, dst=A2),
    ans(Kind.RR_CHALLENGE, I, src=A2),
    req(Kind.CREATE, sa="web", new=A2),
    ans(Kind.CREATE, sa="web"),
    ans(Kind.CREATE, reason=Reason.TS_UNACCEPTABLE),
    ans(Kind.CREATE, reason=Reason.NO_PROPOSAL_CHOSEN),
    req(Kind.DELETE, sa="vpn"),
    req(Kind.DELETE, sa="ike"),
    ans(Kind.DELETE, sa="vpn"),
    req(Kind.ADD, sa="web", new=A2, src=A2, protected=False),
    ans(Kind.ADD, protected=False),
    req(Kind.UPDATE, R, sa="web", old=R1, new="198.51.100.2", mid=0),
]


@pytest.mark.parametrize("msg", EVERY_KIND, ids=lambda m: f"{m.kind.name}-{'ans' if m.response else 'req'}-{m.reason.name}")
def test_every_kind_round_trips(msg):
    data = encode(msg, SESSION)
    d = decode(data, SESSION, src=msg.src, dst=msg.dst)
    assert d.message == msg
    assert d.unmodelled == ()
    assert d.protected == msg.protected
    assert d.header.from_initiator == (msg.sender == I) and d.header.response == msg.response
    assert d.header.exchange == (N.CREATE_CHILD_SA if msg.kind == Kind.CREATE else N.INFORMATIONAL)
    assert encode(msg, SESSION) == data  # deterministic: same message, same bytes


def test_an_sa_is_named_by_the_senders_inbound_spi():
    d = decode(encode(req(Kind.ADD, sa="web", new=A2), SESSION), SESSION)
    (action, _) = d.inner()
    assert (action.protocol, action.spi, action.notify_type) == (N.PROTO_ESP, bytes.fromhex("01020304"), 49153)
    d = decode(encode(req(Kind.ADD, R, sa="web", new="198.51.100.2"), SESSION), SESSION)
    assert d.inner()[0].spi == bytes.fromhex("0a0b0c0d")
    d = decode(encode(req(Kind.ADD, sa="ike", new=A2), SESSION), SESSION)
    assert (d.inner()[0].protocol, d.inner()[0].spi) == (0, b"")


def test_mm_refusals_have_one_private_error_type_each():
    seen = {}
    for r in (r for r in Reason if 1 <= r.value < 20):
        d = decode(encode(ans(Kind.ADD, reason=r), SESSION), SESSION)
        codes = [p.notify_type for p in d.inner() if p.notify_type < 16384]
        assert len(codes) == 1 and 8192 <= codes[0] <= 16383 and codes[0] >= 12288
        seen[codes[0]] = r
    assert len(seen) == 14


def test_a_probe_and_a_return_routability_check_differ_only_in_their_cookie():
    probe, check = encode(req(Kind.PROBE, src=A2), SESSION), encode(req(Kind.RR_CHALLENGE, src=A2), SESSION)
    p, c = decode(probe, SESSION).inner(), decode(check, SESSION).inner()
    assert [n.notify_type for n in p] == [n.notify_type for n in c] == [N.COOKIE2]
    assert p[0].data != c[0].data and len(p[0].data) == 16
    assert decode(check, SESSION, src=A2).message.kind == Kind.RR_CHALLENGE


def test_nat_detection_hashes_spis_address_and_port():
    d = decode(encode(req(Kind.MOBIKE_UPDATE, sa="*", src=A2), SESSION), SESSION, src=A2, dst=R1)
    assert d.unmodelled == ()
    d = decode(encode(req(Kind.MOBIKE_UPDATE, sa="*", src=A2), SESSION), SESSION, src=A1, dst=R1)
    assert any("NAT_DETECTION_SOURCE_IP does not hash the source 192.0.2.1" in n for n in d.unmodelled)
    d = decode(encode(req(Kind.MOBIKE_UPDATE, sa="*", src=A2), SESSION), SESSION, src=A2, dst=R1, ports=(500, 4500))
    assert any("port 500" in n for n in d.unmodelled)


@pytest.mark.parametrize("msg, field, words", [
    (req(Kind.MOBIKE_UPDATE, sa="*", src=A2, old=A1), "MOBIKE_UPDATE.old", "cannot be carried"),
    (req(Kind.MOBIKE_UPDATE, sa="web", src=A2), "MOBIKE_UPDATE.sa", "moves every SA"),
    (req(Kind.MOBIKE_ADDITIONAL, sa="web", addresses=(A2,)), "MOBIKE_ADDITIONAL.sa", "belong to the IKE_SA"),
    (req(Kind.UPDATE, sa="web", new=A2), "UPDATE.old", "missing"),
    (req(Kind.ADD, sa="*", new=A2), "ADD.sa", "names one SA"),
    (req(Kind.ADD, sa="nosuch", new=A2), "ADD.sa", "not an SA of the session"),
    (req(Kind.REMOVE, sa="web", old=A1, new=A2), "REMOVE.new", "cannot be carried"),
    (req(Kind.PROBE, src=A1, new=A2), "PROBE.new", "the address under test is the IP source"),
    (req(Kind.CREATE, sa="ike", new=A2), "CREATE.sa", "creates one named CHILD_SA"),
    (req(Kind.ADD, sa="web", new="not-an-ip"), "ADD.new", "not an IP address"),
    (ans(Kind.MOBIKE_UPDATE, reason=Reason.PAD), "MOBIKE_UPDATE.reason", "UNACCEPTABLE_ADDRESSES"),
    (ans(Kind.ADD, reason=Reason.BUSY), "ADD.reason", "decided by the initiator"),
    (ans(Kind.ADD, sa="web"), "ADD.sa", "names no SA"),
    (ans(Kind.DELETE, sa="ike"), "DELETE.sa", "empty"),
    (req(Kind.ADD, sa="web", new=A2, mid=1 << 32), "Message.mid", "32-bit"),
])
def test_what_the_wire_cannot_carry_is_refused_at_encode_time(msg, field, words):
    with pytest.raises(WireError) as exc:
        encode(msg, SESSION)
    assert exc.value.offset is None and exc.value.field == field and words in str(exc.value)


def test_a_forgery_needs_a_forgers_ike_sa():
    with pytest.raises(WireError, match="forger"):
        encode(req(Kind.ADD, sa="web", new=A2, protected=False), Session(SESSION.ike, SESSION.children))


def _error(data, session=SESSION, **kw):
    with pytest.raises(WireError) as exc:
        decode(data, session, **kw)
    return exc.value


def test_decoding_names_offset_and_field():
    good = encode(req(Kind.ADD, sa="web", new=A2), SESSION)
    e = _error(good[:20])
    assert (e.offset, e.field) == (0, "IKE header")
    e = _error(good + b"\x00")
    assert (e.offset, e.field) == (24, "Length")
    bad = bytearray(good)
    bad[40] ^= 1  # one bit of the IV: the ICV no longer matches
    e = _error(bytes(bad))
    assert (e.offset, e.field) == (len(good) - 16, "SK.Integrity Checksum Data")
    e = _error(good, Session.derive(b"other", SESSION.children))
    assert e.field == "IKE SA Initiator's SPI" and "not this session's" in str(e)
    e = _error(good[:17] + b"\x10" + good[18:])
    assert (e.offset, e.field) == (17, "Version")


def test_an_answer_that_answers_another_request_is_an_error():
    data = encode(ans(Kind.ADD), SESSION)
    e = _error(data, answering=Kind.REMOVE)
    assert "answers a ADD request, not REMOVE" in str(e)


def test_an_empty_answer_needs_its_request():
    data = encode(ans(Kind.DELETE), SESSION)
    assert decode(data, SESSION).message is None
    assert decode(data, SESSION, answering=Kind.DELETE).message == ans(Kind.DELETE, src=None, dst=None)


def _plain(exchange, flags, payloads, spi_r=b"\x00" * 8, mid=0):
    body = chain(payloads)
    first = payloads[0].type if payloads else 0
    head = b"\x01" * 8 + spi_r + struct.pack("!BBBBII", first, 0x20, exchange, flags, mid, 28 + len(body))
    return head + body


def test_ike_sa_init_decodes_structurally():
    sa = SAPayload(N.SA, proposals=())
    data = _plain(N.IKE_SA_INIT, N.FLAG_I, [KeyExchange(N.KE, group=14, data=b"\x07" * 256),
                                           Nonce(N.NONCE, data=b"\x05" * 32),
                                           Notify(N.NOTIFY, notify_type=N.NAT_DETECTION_SOURCE_IP, data=b"\x00" * 20)])
    d = decode(data, SESSION)
    assert d.message is None and d.protected is None
    assert [type(p) for p in d.payloads] == [KeyExchange, Nonce, Notify]
    assert d.payloads[0].group == 14 and d.payloads[1].data == b"\x05" * 32
    assert d.unmodelled[0].startswith("IKE_SA_INIT: the model begins with the IKE_SA set up")
    assert sa.proposals == ()


@pytest.mark.parametrize("payloads, field", [
    ([Nonce(N.NONCE, data=b"\x05" * 3)], "Nonce.Nonce Data"),
    ([Ident(N.IDI, id_type=1, data=b"")], None),
])
def test_payload_rules(payloads, field):
    data = _plain(N.IKE_SA_INIT, N.FLAG_I, payloads)
    if field is None:
        assert decode(data).payloads[0].id_type == 1
    else:
        assert _error(data, None).field == field


def test_a_payload_length_that_runs_past_the_end():
    data = bytearray(_plain(N.IKE_SA_INIT, N.FLAG_I, [Nonce(N.NONCE, data=b"\x05" * 16)]))
    data[30:32] = struct.pack("!H", 200)
    e = _error(bytes(data), None)
    assert (e.offset, e.field) == (30, "Nonce.Payload Length") and "runs past the end" in str(e)


def test_an_unknown_critical_payload_is_refused():
    data = bytearray(_plain(N.IKE_SA_INIT, N.FLAG_I, [Nonce(N.NONCE, data=b"\x05" * 16)]))
    data[16], data[29] = 99, 0x80
    assert _error(bytes(data), None).field == "Critical"


def test_keys_from_a_wireshark_row():
    row = SESSION.ike.row()
    keys = IkeKeys.from_row(row)
    assert (keys.spi_i, keys.sk_ar) == (SESSION.ike.spi_i, SESSION.ike.sk_ar)
    with pytest.raises(WireError):
        IkeKeys.from_row("a,b,c")


def test_session_json_round_trips():
    assert Session.from_json(SESSION.to_json()) == SESSION
    with pytest.raises(WireError, match="session: malformed"):
        Session.from_json({"ike": {}})
