"""How long ``ipsecmm report`` takes on the built-in scenario.

Times the two halves separately: the check (explorer and z3 on every profile,
two worker processes, as ``ipsecmm report`` runs it) and the rendering (runs
saved, machine diagrams through Graphviz, every run replayed for its chart,
step table and Mermaid text, files written).  Not a test: nothing here
asserts on time.

    python bench/report.py [--no-z3] [--repeat N] [--out DIR]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

from ipsecmm.gen import _report as R
from ipsecmm.model import PROFILE_NAMES, default_scenario


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--no-z3", action="store_true", help="explorer only")
    ap.add_argument("--repeat", type=int, default=1, help="renderings of the same check (default 1)")
    ap.add_argument("--out", type=Path, help="keep the report here (default: a temporary directory)")
    args = ap.parse_args()
    sc = default_scenario()
    print(f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs, scenario {sc.name}, "
          f"profiles {', '.join(PROFILE_NAMES)}, z3 {'off' if args.no_z3 else 'on'}, 2 jobs")
    findings, coverage = R.read_findings(None), R.read_coverage(None)
    with tempfile.TemporaryDirectory() as tmp:
        out = args.out or Path(tmp)
        start = time.perf_counter()
        report = R.run_check(sc, PROFILE_NAMES, z3=not args.no_z3, jobs=2)
        check = time.perf_counter() - start
        renders = []
        for _ in range(max(1, args.repeat)):
            built = R.write(report, out, findings, coverage)
            renders.append(built.render_seconds)
        size = (out / "report.html").stat().st_size
    print(f"check      {check:7.1f} s")
    print(f"rendering  {min(renders):7.1f} s (best of {len(renders)}; median {statistics.median(renders):.1f} s); "
          f"{built.page.runs} runs, report.html {size / 1e6:.1f} MB")
    print(f"total      {check + min(renders):7.1f} s")


if __name__ == "__main__":
    main()
