"""Replay the strongSwan captures of a folder with ``ipsecmm trace``, and say
whether each verdict is the one docs/interop.md gives for its case.

    python scripts/interop/replay.py DIR     # DIR: what scripts/interop/strongswan.sh wrote

``EXPECTED`` is the one list of cases and verdicts: tests/test_trace.py replays
the committed copies (tests/fixtures/strongswan/) against it too.  Exit 0 when
every capture found gets its expected verdict, 1 otherwise.
"""

from __future__ import annotations

import contextlib
import io
import sys
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parents[2]
#: the scenario of the cases where the gateway announces more addresses
PATHS = ROOT / "tests" / "fixtures" / "strongswan" / "strongswan-paths.toml"


class Case(NamedTuple):
    scenario: str
    #: ipsecmm trace's exit status under mobike: 0 a run of the model, 1 a departure
    status: int
    #: for a departure, what the departure line says (docs/interop.md says why)
    why: str = ""


#: the departures do not name a frame: where charon's first answer lands among
#: its probes of several paths varies from run to run
EXPECTED = {
    "addrdel": Case("strongswan", 0),
    "linkdown": Case("strongswan", 0),
    "v6": Case(str(PATHS), 1, "the model sends PROBE mid=3 [2001:db8:2::10→203.0.113.1]"),
    "paths": Case(str(PATHS), 1, "several paths tested with one request"),
}


def replay(pcap: Path, keys: Path, case: Case) -> tuple[int, str]:
    from ipsecmm.cli import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        rc = main(["trace", str(pcap), "--keys", str(keys), "--scenario", case.scenario])
    return rc, out.getvalue()


def departs_at(text: str) -> int | None:
    """The frame of the first departure in ``ipsecmm trace``'s output."""
    frame = None
    for line in text.splitlines():
        if line.startswith("frame "):
            frame = int(line.split()[1].rstrip(":"))
        if "✗ departs from the model" in line:
            return frame
    return None


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    folder = Path(args[0])
    bad = found = 0
    for name, case in EXPECTED.items():
        pcap = folder / f"ss-{name}.pcap"
        if not pcap.exists():
            continue
        found += 1
        rc, text = replay(pcap, pcap.with_suffix(".ikev2_decryption_table"), case)
        at = departs_at(text) if rc == 1 else None
        ok = rc == case.status and (rc != 1 or (at is not None and case.why in text))
        bad += not ok
        said = "a run of mobike" if rc == 0 else f"departs at frame {at}" if rc == 1 else "bad input"
        print(f"{'ok  ' if ok else 'FAIL'} {pcap.name}: {said}" + ("" if ok else f"; expected {case}"))
        if not ok:
            print(text)
    if not found:
        print(f"no ss-CASE.pcap in {folder}", file=sys.stderr)
        return 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
