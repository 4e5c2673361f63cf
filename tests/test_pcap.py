"""ipsecmm pcap: captures of vector and run files, with their keys; bad input is one line."""

from __future__ import annotations

import json
import struct

import pytest

from ipsecmm.cli import main
from ipsecmm.gen._conformance import load_file
from ipsecmm.wire import decode, read_pcap
from ipsecmm.wire._pcap import LINKTYPE_RAW, _checksum, udp_of

from wire_cases import VECTOR_FILES, run_file, run_packets, vector_packets, walks

VECTORS = VECTOR_FILES[0]


def _ok(argv, capsys):
    assert main(argv) == 0, capsys.readouterr().err
    return capsys.readouterr().out


def _frames(path):
    linktype, frames = read_pcap(path.read_bytes())
    assert linktype == LINKTYPE_RAW
    return [udp_of(f.data, linktype) for f in frames], frames


def test_a_vector_file_becomes_a_capture_of_its_messages(tmp_path, capsys):
    out = tmp_path / "v.pcap"
    said = _ok(["pcap", str(VECTORS), "--out", str(out)], capsys)
    groups = vector_packets(VECTORS)
    expected = [(s, p) for s, ps in groups for p in ps]
    udps, _ = _frames(out)
    assert len(udps) == len(expected) > 0
    for u, (session, p) in zip(udps, expected, strict=True):
        assert (u.src, u.dst, u.sport, u.dport) == (p.message.src, p.message.dst, 4500, 4500)
        assert u.ike == p.data
        assert decode(u.ike, session, src=u.src, dst=u.dst).message == p.message
    table = (tmp_path / "v.ikev2_decryption_table").read_text().splitlines()
    assert table == groups[0][0].table() and len(table) == 2  # the IKE_SA, and the forger's
    assert f"-o 'uat:ikev2_decryption_table:{table[0]}'" in said and said.startswith(f"wrote {out} (")


def test_checksums_are_right(tmp_path, capsys):
    out = tmp_path / "v.pcap"
    _ok(["pcap", str(VECTORS), "--out", str(out)], capsys)
    _, frames = _frames(out)
    for f in frames:
        ip = f.data
        if ip[0] >> 4 == 4:
            assert _checksum(ip[:20]) == 0
            pseudo = ip[12:20] + struct.pack("!xBH", 17, len(ip) - 20)
            assert _checksum(pseudo + ip[20:]) == 0
        else:
            pseudo = ip[8:40] + struct.pack("!IxxxB", len(ip) - 40, 17)
            assert _checksum(pseudo + ip[40:]) == 0


def test_one_vector(tmp_path, capsys):
    case = load_file(VECTORS)[3]
    out = tmp_path / "one.pcap"
    said = _ok(["pcap", str(VECTORS), "--vector", case.id, "--out", str(out)], capsys)
    udps, _ = _frames(out)
    assert [u.ike for u in udps] == [p.data for p in vector_packets(VECTORS)[3][1]]
    assert "of 1 run)" in said


def test_a_run_file_becomes_a_capture_and_the_same_run_gives_the_same_bytes(tmp_path, capsys):
    run = next(r for r in walks() if r.profile == "ikev2")
    path = run_file(tmp_path, 0, run)
    a, b = tmp_path / "a.pcap", tmp_path / "b.pcap"
    _ok(["pcap", str(path), "--out", str(a)], capsys)
    _ok(["pcap", str(path), "--out", str(b)], capsys)
    assert a.read_bytes() == b.read_bytes()
    udps, _ = _frames(a)
    _, pkts = run_packets(run)
    assert [u.ike for u in udps] == [p.data for p in pkts] and pkts
    assert {(u.sport, u.dport) for u in udps} == {(500, 500)}  # plain IKEv2 stays on port 500


def test_a_run_that_puts_nothing_on_the_wire_gives_an_empty_capture(tmp_path, capsys):
    doc = {"runs": [{"format": "ipsecmm-run/1", "scenario": "default", "profile": "ikev2", "inputs": []}]}
    path = tmp_path / "empty.json"
    path.write_text(json.dumps(doc))
    said = _ok(["pcap", str(path), "--out", str(tmp_path / "e.pcap")], capsys)
    assert read_pcap((tmp_path / "e.pcap").read_bytes())[1] == [] and "no packet" in said


def _bad(argv, capsys, tmp_path):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("ipsecmm pcap: ") and "Traceback" not in err
    assert not any(p.suffix in (".pcap", ".ikev2_decryption_table") for p in tmp_path.iterdir())
    return err


def test_bad_input_is_one_line_and_writes_nothing(tmp_path, capsys):
    out = str(tmp_path / "x.pcap")
    assert "none.json: no such file" in _bad(["pcap", str(tmp_path / "none.json"), "--out", out], capsys, tmp_path)
    (tmp_path / "broken.json").write_text("{")
    assert "broken.json: line 1 column 2: not valid JSON" in _bad(["pcap", str(tmp_path / "broken.json"), "--out", out], capsys, tmp_path)
    (tmp_path / "run.json").write_text(json.dumps({"runs": [{"format": "nope"}]}))
    assert "not an ipsecmm run" in _bad(["pcap", str(tmp_path / "run.json"), "--out", out], capsys, tmp_path)
    assert "is a run file" in _bad(["pcap", str(tmp_path / "run.json"), "--vector", "x", "--out", out], capsys, tmp_path)
    assert "has this id" in _bad(["pcap", str(VECTORS), "--vector", "0123", "--out", out], capsys, tmp_path)
    doc = json.loads(VECTORS.read_text())
    doc["testGroups"][0]["tests"][0]["steps"][0]["actor"] = "nobody"
    (tmp_path / "vec.json").write_text(json.dumps(doc))
    err = _bad(["pcap", str(tmp_path / "vec.json"), "--out", out], capsys, tmp_path)
    assert "testGroups[0].tests[0].steps[0].actor" in err
    doc = {"runs": [{"format": "ipsecmm-run/1", "scenario": "default", "profile": "mm",
                     "inputs": [{"input": "deliver", "from": "I", "index": 0}]}]}
    (tmp_path / "norun.json").write_text(json.dumps(doc))
    assert "norun.json: runs[0].inputs[0]: step 1" in _bad(["pcap", str(tmp_path / "norun.json"), "--out", out], capsys, tmp_path)


@pytest.mark.parametrize("path", VECTOR_FILES, ids=lambda p: p.stem)
def test_every_shipped_vector_file_has_a_capture(path, tmp_path, capsys):
    out = tmp_path / "v.pcap"
    _ok(["pcap", str(path), "--out", str(out)], capsys)
    assert len(_frames(out)[1]) == sum(len(ps) for _, ps in vector_packets(path))


def test_a_run_file_of_the_checkers_own_scenarios_one_per_side(tmp_path, capsys):
    from ipsecmm.properties._structural import capacity

    runs = [capacity("mm", 3, side)[1] for side in (0, 1)]
    assert runs[0].scenario.name != runs[1].scenario.name
    path = tmp_path / "SCN-SA-COUNT.mm.json"
    path.write_text(json.dumps({"runs": [run.to_json() for run in runs]}))
    _ok(["pcap", str(path), "--out", str(tmp_path / "c.pcap")], capsys)
    expected = [p.data for run in runs for p in run_packets(run)[1]]
    assert [u.ike for u in _frames(tmp_path / "c.pcap")[0]] == expected and expected
