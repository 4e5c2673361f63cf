"""How long ``ipsecmm check`` takes on the built-in scenario, all profiles.

Prints the wall time of the whole check (two worker processes, as the CLI
runs it), the time of each engine per profile, and the five slowest
properties.  Not a test: nothing here asserts on time.

    python bench/check.py [--jobs N] [--no-z3]
"""

from __future__ import annotations

import argparse
import platform

from ipsecmm.model import default_scenario
from ipsecmm.properties import Checker


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--no-z3", action="store_true")
    args = ap.parse_args()
    sc = default_scenario()
    report = Checker(sc, None, z3_engine=not args.no_z3).run(["ikev2", "mobike", "mm"], jobs=args.jobs)
    print(f"python {platform.python_version()}, scenario {sc.name}, {args.jobs} job(s)")
    print(f"total wall time: {report.seconds:.1f}s; mm meets every requirement: {report.mm_meets_all()}")
    rows = []
    for pr in report.profiles:
        e, z = pr.explore, pr.z3
        parts = [f"{pr.profile}: explorer pass {e.seconds:.1f}s ({e.states:,} states)" if e else pr.profile]
        if z is not None:
            parts.append(f"z3 {z.seconds:.1f}s (relation {z.build_seconds:.1f}s, {z.paths:,} paths)")
        print("  " + "; ".join(parts))
        rows += [(v.seconds, rid, pr.profile, v.engine) for rid, v in pr.verdicts.items()]
    print("slowest properties (seconds include a share of the exploration they ride on):")
    for secs, rid, prof, engine in sorted(rows, reverse=True)[:5]:
        print(f"  {secs:6.1f}s  {rid:<22} {prof:<7} {engine}")


if __name__ == "__main__":
    main()
