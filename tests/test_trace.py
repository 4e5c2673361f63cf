"""``ipsecmm trace``: strongSwan's real captures replayed on the model.

Every capture under tests/fixtures/strongswan/ (recorded by ``make interop``)
gets the verdict docs/interop.md gives it (scripts/interop/replay.py holds
the list); edited copies of one, where strongSwan would have done something
the model does not allow, must be refused at the right frame.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from ipsecmm.cli import main
from ipsecmm.wire import Frame, pcap, read_pcap

from conftest import ROOT

spec = importlib.util.spec_from_file_location("replay", ROOT / "scripts" / "interop" / "replay.py")
assert spec is not None and spec.loader is not None
replay = importlib.util.module_from_spec(spec)
spec.loader.exec_module(replay)

HERE = ROOT / "tests" / "fixtures" / "strongswan"
SHARED = HERE / "ss-mobike.pcap"
KEYS = HERE / "ikev2_decryption_table"

#: capture -> (key table, expected verdict): the shared capture is the addrdel case
CAPTURES = {HERE / f"ss-{name}.pcap": (HERE / f"ss-{name}.ikev2_decryption_table", case)
            for name, case in replay.EXPECTED.items()}
CAPTURES[SHARED] = (KEYS, replay.EXPECTED["addrdel"])


def trace(capsys, capture: Path, *extra: str) -> tuple[int, str, str]:
    rc = main(["trace", str(capture), "--keys", str(extra[0] if extra else KEYS), *extra[1:]])
    cap = capsys.readouterr()
    return rc, cap.out, cap.err


def test_every_case_has_a_committed_capture():
    assert sorted(HERE.glob("*.pcap")) == sorted(CAPTURES)


@pytest.mark.parametrize("capture", sorted(CAPTURES), ids=lambda p: p.stem)
def test_every_committed_capture_gets_its_documented_verdict(capsys, capture):
    keys, case = CAPTURES[capture]
    rc, out, err = trace(capsys, capture, keys, "--scenario", case.scenario)
    assert rc == case.status, out + err
    if case.status == 0:
        assert out.rstrip().endswith("the capture is a run of the model")
    else:
        assert replay.departs_at(out) is not None and case.why in out
        assert out.rstrip().endswith("the capture is NOT a run of the model")


def test_the_linkdown_capture_has_both_peers_rekey(capsys):
    # The node rekeys too and deletes the duplicate: outside the model, each
    # taking one of the node's message IDs, so its next list is mid 7.
    keys, _ = CAPTURES[HERE / "ss-linkdown.pcap"]
    rc, out, _ = trace(capsys, HERE / "ss-linkdown.pcap", keys)
    assert rc == 0
    assert "I 198.51.100.10 → 203.0.113.1  CREATE mid=5: a CHILD_SA rekey" in out
    assert "DELETE mid=6: deletes the CHILD_SA a rekey replaced" in out
    assert "MOBIKE_ADDITIONAL mid=7 sa=ike {}" in out


@pytest.mark.parametrize("name,frame", [("v6", 13), ("paths", 14)])
def test_the_documented_departures_are_where_the_model_probes_one_pair(capsys, name, frame):
    # the model probes the IKE_SA's responder address only (docs/interop.md)
    capture = HERE / f"ss-{name}.pcap"
    keys, case = CAPTURES[capture]
    rc, out, _ = trace(capsys, capture, keys, "--scenario", case.scenario)
    assert rc == 1 and replay.departs_at(out) == frame and case.why in out
    if name == "paths":
        assert "message ID 3 again, to 198.51.100.1 where its first copy went to 203.0.113.1" in out


def test_the_shared_capture_fires_rfc_4555_rows(capsys):
    rc, out, _ = trace(capsys, SHARED)
    assert rc == 0
    # The address list adds the address the node gained; the node probes the
    # new path, moves its own SAs, then asks; the answer finds them moved.
    assert "frame 11: mn2b (198.51.100.11) appears: GAIN" in out
    assert "frame 15: mn1 (192.0.2.10) is gone: LOSE" in out
    assert "I.initiator: act_update / update own SAs; send(request) IDLE→WAIT" in out
    assert "I.initiator: recv_response [updated before sending] / report WAIT→IDLE" in out
    assert "R.responder: recv_probe / answer(OK)" in out
    assert "CREATE mid=0: a CHILD_SA rekey" in out
    assert "18 IKE messages: 8 replayed, 10 outside the model" in out


def test_under_mm_the_capture_departs_at_the_first_list(capsys):
    rc, out, _ = trace(capsys, SHARED, KEYS, "--profile", "mm")
    assert rc == 1
    last = out.rstrip().splitlines()
    assert "the capture is NOT a run of the model" in last[-1]
    assert "frame  11" in out and "✗ departs from the model: after user SET_ALT the model sends SET_ALT" in out


def _without(tmp_path: Path, *drop: int) -> Path:
    linktype, frames = read_pcap(SHARED.read_bytes())
    out = tmp_path / "edited.pcap"
    out.write_bytes(pcap([f for n, f in enumerate(frames, 1) if n not in drop], linktype))
    return out


def test_a_request_before_the_answer_is_not_a_run(capsys, tmp_path):
    # Without the answer to the update (frame 17) the node is still waiting
    # when it sends the next list: one request at a time (RFC 7296 2.3).
    edited = _without(tmp_path, 17)
    rc, out, _ = trace(capsys, edited)
    assert rc == 1
    assert replay.departs_at(out) == 26  # frame 27 of the original, one frame dropped before it
    assert "✗ departs from the model: the model refuses the user's SET_ALT" in out


def _edited(tmp_path: Path, frames: list[Frame], linktype: int) -> Path:
    out = tmp_path / "edited.pcap"
    out.write_bytes(pcap(frames, linktype))
    return out


def test_an_update_before_its_path_test_is_not_a_run(capsys, tmp_path):
    # The update (frame 15, message ID 4) moved before the probe (frames 13
    # and 14, message ID 3): the node's next request is message ID 3.
    linktype, frames = read_pcap(SHARED.read_bytes())
    moved = frames[:12] + [frames[14], frames[12], frames[13]] + frames[15:]
    rc, out, _ = trace(capsys, _edited(tmp_path, moved, linktype))
    assert rc == 1 and replay.departs_at(out) == 13
    assert "after user UPDATE the model sends MOBIKE_UPDATE mid=3 sa=* [198.51.100.10→203.0.113.1]" in out


def test_an_answer_to_the_old_address_is_not_a_run(capsys, tmp_path):
    # The answer to the update sent back to 192.0.2.10, the address the node
    # left: the responder answers where the request came from (RFC 7296 2.11).
    linktype, frames = read_pcap(SHARED.read_bytes())
    f = frames[16]
    ip = 16  # Linux cooked capture header, then IPv4
    data = f.data[:ip + 16] + bytes([192, 0, 2, 10]) + f.data[ip + 20:]
    assert f.data[ip + 16:ip + 20] == bytes([198, 51, 100, 10])
    edited = frames[:16] + [Frame(f.sec, f.usec, data)] + frames[17:]
    rc, out, _ = trace(capsys, _edited(tmp_path, edited, linktype))
    assert rc == 1 and replay.departs_at(out) == 17
    assert "the model's answer is MOBIKE_UPDATE answer mid=4 [203.0.113.1→198.51.100.10]" in out


def test_a_retransmission_is_the_initiators_timer(capsys, tmp_path):
    linktype, frames = read_pcap(SHARED.read_bytes())
    again = frames[:11] + [frames[10]] + frames[11:]  # frame 11 sent twice
    edited = tmp_path / "again.pcap"
    edited.write_bytes(pcap(again, linktype))
    rc, out, _ = trace(capsys, edited)
    assert rc == 0
    assert "I's retransmission timer: I.initiator: timeout [retries left] / send(request again)" in out
    assert "R.responder: recv_mobike_additional [retransmission] / send(cached answer)" in out


@pytest.mark.parametrize("what", ["capture", "keys", "garbage-capture", "garbage-keys", "scenario", "truncated",
                                  "other-keys"])
def test_bad_input_is_one_line_and_exit_2(capsys, tmp_path, what):
    args = [str(SHARED), "--keys", str(KEYS)]
    bad = tmp_path / "bad"
    bad.write_bytes(b"not a pcap at all")
    if what == "capture":
        args[0] = str(tmp_path / "missing.pcap")
    elif what == "keys":
        args[2] = str(tmp_path / "missing")
    elif what == "garbage-capture":
        args[0] = str(bad)
    elif what == "garbage-keys":
        args[2] = str(bad)
    elif what == "truncated":
        cut = tmp_path / "cut.pcap"
        cut.write_bytes(SHARED.read_bytes()[:3000])
        args[0] = str(cut)
    elif what == "other-keys":
        args[2] = str(HERE / "ss-linkdown.ikev2_decryption_table")  # another run's IKE_SA
    else:
        args += ["--scenario", "default"]  # its addresses are not the capture's
    rc = main(["trace", *args])
    cap = capsys.readouterr()
    if what == "scenario":
        assert rc == 1 and "is no address of scenario default" in cap.out
        return
    assert rc == 2 and cap.out == ""
    lines = cap.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ipsecmm trace: ") and "Traceback" not in cap.err
    named = {"capture": "missing.pcap", "keys": "missing", "garbage-capture": "bad", "garbage-keys": "bad",
             "truncated": "cut.pcap: offset 2956", "other-keys": "ss-mobike.pcap: frame 3"}[what]
    assert named in lines[0]
