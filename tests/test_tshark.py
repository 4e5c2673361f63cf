"""A real dissector reads the captures: Wireshark's tshark.

Every shipped vector file and random runs of every profile go through
``ipsecmm pcap``; the captures are merged into one so that one tshark process
dissects them all.  Each packet must be ISAKMP, decrypt with its ICV
"[correct]", and show the exchange type, message ID, flags and notify types
the message calls for.  The expected notify types are written out below from
RFC 4555 4 and docs/encoding.md, not read back from the codec.
"""

from __future__ import annotations

import shutil
import subprocess
import xml.etree.ElementTree as ET

import pytest

from ipsecmm.gen._cli_pcap import build
from ipsecmm.model import Kind, Peer, Reason
from ipsecmm.wire import Frame, pcap, read_pcap

from wire_cases import VECTOR_FILES, run_file, run_packets, vector_packets, walks

pytestmark = pytest.mark.skipif(shutil.which("tshark") is None,
                                reason="tshark is not installed (scripts/setup.sh --test, run by make test, installs it)")

# RFC 4555 4 and RFC 7296 3.10.1, by the names tshark must show.
STANDARD = {14: "NO_PROPOSAL_CHOSEN", 38: "TS_UNACCEPTABLE", 40: "UNACCEPTABLE_ADDRESSES",
            16388: "NAT_DETECTION_SOURCE_IP", 16389: "NAT_DETECTION_DESTINATION_IP", 16391: "USE_TRANSPORT_MODE",
            16397: "ADDITIONAL_IP4_ADDRESS", 16398: "ADDITIONAL_IP6_ADDRESS", 16399: "NO_ADDITIONAL_ADDRESSES",
            16400: "UPDATE_SA_ADDRESSES", 16401: "COOKIE2"}
# docs/encoding.md: the extension's status types and error types.
MM_ACTION = {Kind.UPDATE: 49152, Kind.ADD: 49153, Kind.REMOVE: 49154, Kind.SET_ALT: 49155, Kind.CHECK_UPDATE: 49156,
             Kind.CHECK_ADD: 49157, Kind.CHECK_REMOVE: 49158, Kind.CHECK_ALT: 49159}
OLD, NEW, ALTERNATE = 49160, 49161, 49162
MM_ERROR = {Reason.UNKNOWN_SA: 12288, Reason.INACTIVE_SA: 12289, Reason.NOT_OWNER: 12290, Reason.ABSENT: 12291,
            Reason.ALREADY_PRESENT: 12292, Reason.LAST_ADDRESS: 12293, Reason.ALT_OVERLAP: 12294, Reason.FAMILY: 12295,
            Reason.PAD: 12296, Reason.SPD: 12297, Reason.POLICY: 12298, Reason.PROTECTION: 12299,
            Reason.RR_FAILED: 12300, Reason.SLOT_IN_USE: 12301}
CODE = {**MM_ERROR, Reason.UNACCEPTABLE_ADDRESSES: 40, Reason.TS_UNACCEPTABLE: 38, Reason.NO_PROPOSAL_CHOSEN: 14}


def expected_notifies(msg, transport: bool) -> list[int]:
    k = msg.kind
    refusal = [] if msg.reason == Reason.OK else [CODE[msg.reason]]
    if k in MM_ACTION:
        if msg.response:
            return [MM_ACTION[k], *refusal]
        return ([MM_ACTION[k]] + [OLD] * (msg.old is not None) + [NEW] * (msg.new is not None)
                + [ALTERNATE] * len(msg.addresses))
    if k == Kind.MOBIKE_UPDATE:
        return [16388, 16389, 16401, *refusal] if msg.response else [16400, 16388, 16389, 16401]
    if k == Kind.MOBIKE_ADDITIONAL and not msg.response:
        return ([16397 if ":" not in a else 16398 for a in msg.addresses] or [16399]) + [16401]
    if k in (Kind.MOBIKE_ADDITIONAL, Kind.PROBE, Kind.RR_CHALLENGE):
        return [16401, *refusal]
    if k == Kind.CREATE:
        return refusal or [16391] * transport
    return []  # DELETE: a Delete payload, no notify


@pytest.fixture(scope="module")
def dissected(tmp_path_factory):
    """(expected message, its session, tshark's view) for every packet of every capture."""
    tmp = tmp_path_factory.mktemp("captures")
    sources = [(path, vector_packets(path)) for path in VECTOR_FILES]
    sources += [(run_file(tmp, k, run), [run_packets(run)]) for k, run in enumerate(walks())]
    frames, expected, rows = [], [], []
    for path, groups in sources:
        built = build(path)
        _, fr = read_pcap(built.capture)
        pkts = [(s, p) for s, ps in groups for p in ps]
        assert len(fr) == len(pkts), path
        frames += [Frame(len(frames) + n, 0, f.data) for n, f in enumerate(fr)]
        expected += pkts
        rows += [r for r in built.table if r not in rows]
    merged = tmp / "all.pcap"
    merged.write_bytes(pcap(frames))
    opts = [x for r in rows for x in ("-o", f"uat:ikev2_decryption_table:{r}")]
    opts += ["-o", "ip.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE"]
    out = subprocess.run(["tshark", "-r", str(merged), *opts, "-T", "pdml"], capture_output=True, text=True,
                         timeout=300, check=True).stdout
    packets = ET.fromstring(out).findall("packet")
    assert len(packets) == len(expected)
    return [(msg, session, pkt) for (session, msg), pkt in zip(expected, packets, strict=True)]


def _fields(pkt, name):
    return [f for f in pkt.iter("field") if f.get("name") == name]


def test_every_message_kind_is_in_the_captures_both_ways(dissected):
    seen = {(p.message.kind, p.message.response) for p, _, _ in dissected}
    assert seen == {(k, r) for k in Kind if k != Kind.EMPTY for r in (False, True)}
    assert any(not p.message.protected for p, _, _ in dissected)


def test_every_packet_is_ikev2_and_decrypts_with_a_correct_icv(dissected):
    for p, _, pkt in dissected:
        protos = [x.get("name") for x in pkt.findall("proto")]
        assert "isakmp" in protos, protos
        (icd,) = _fields(pkt, "isakmp.enc.icd")
        assert icd.get("showname").endswith("[correct]"), icd.get("showname")
        assert _fields(pkt, "isakmp.enc.decrypted")
        assert not _fields(pkt, "isakmp.ikev2.integrity_checksum")  # the "incorrect" expert item
        for name in ("ip.checksum.status", "udp.checksum.status"):
            assert all(f.get("show") == "1" for f in _fields(pkt, name)), (name, p.message)


def test_header_fields_are_the_messages(dissected):
    for p, _, pkt in dissected:
        m = p.message
        (ex,) = _fields(pkt, "isakmp.exchangetype")
        assert int(ex.get("show")) == (36 if m.kind == Kind.CREATE else 37)
        (mid,) = _fields(pkt, "isakmp.messageid")
        assert int(mid.get("show"), 16) == m.mid
        (fi,), (fr,) = _fields(pkt, "isakmp.flag_i"), _fields(pkt, "isakmp.flag_r")
        assert (fi.get("show"), fr.get("show")) == ("1" if m.sender == Peer.I else "0", "1" if m.response else "0")


def test_notify_types_are_the_ones_each_kind_calls_for(dissected):
    for p, session, pkt in dissected:
        m = p.message
        transport = m.sa in session.children and session.children[m.sa].transport
        fields = _fields(pkt, "isakmp.notify.msgtype")
        assert [int(f.get("show")) for f in fields] == expected_notifies(m, transport), m
        for f in fields:
            value, name = int(f.get("show")), f.get("showname")
            if value in STANDARD:
                assert name == f"Notify Message Type: {STANDARD[value]} ({value})"
            else:
                kind = "STATUS TYPES" if value >= 40960 else "Errors"
                assert name == f"Notify Message Type: Private Use - {kind} ({value})"


def test_deletes_name_the_esp_spi(dissected):
    for p, session, pkt in dissected:
        m = p.message
        if m.kind != Kind.DELETE or m.sa is None:
            continue
        spis = [f.get("show").replace(":", "") for f in _fields(pkt, "isakmp.delete.spi")]
        assert spis == [session.children[m.sa].spi(m.sender).hex()], m
