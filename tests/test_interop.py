"""strongSwan live (marker ``interop``; root and the packages of ``make interop``).

Each case of scripts/interop/strongswan.sh is run afresh in network
namespaces and its capture replayed with ``ipsecmm trace``: the verdict must
be the one docs/interop.md gives (scripts/interop/replay.py), so a charon
that behaves differently from the committed captures shows up here.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import ROOT

spec = importlib.util.spec_from_file_location("replay", ROOT / "scripts" / "interop" / "replay.py")
assert spec is not None and spec.loader is not None
replay = importlib.util.module_from_spec(spec)
spec.loader.exec_module(replay)

pytestmark = [
    pytest.mark.interop,
    pytest.mark.skipif(os.geteuid() != 0, reason="network namespaces need root"),
    pytest.mark.skipif(not (Path("/usr/lib/ipsec/charon").exists() and shutil.which("swanctl") and shutil.which("dumpcap")),
                       reason="strongSwan or tshark missing: sh scripts/interop/install.sh"),
]


@pytest.mark.parametrize("name", sorted(replay.EXPECTED))
def test_a_fresh_strongswan_run_gets_the_documented_verdict(tmp_path, name):
    done = subprocess.run(["bash", str(ROOT / "scripts" / "interop" / "strongswan.sh"), name, str(tmp_path)],
                          capture_output=True, text=True, timeout=240, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    pcap = tmp_path / f"ss-{name}.pcap"
    case = replay.EXPECTED[name]
    rc, text = replay.replay(pcap, pcap.with_suffix(".ikev2_decryption_table"), case)
    assert rc == case.status, text
    assert rc != 1 or (replay.departs_at(text) is not None and case.why in text), text
