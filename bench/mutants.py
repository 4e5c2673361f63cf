"""The full mutation adequacy run (``ipsecmm mutants --generated``), timed.

Prints how many mutants were generated, killed, found equivalent and
surviving, the seconds of each phase (tracing the shipped scenarios, judging
the original, judging the mutants), and how the verdicts were reached (which
argument settled the equivalent scenarios).  Not a test: nothing here asserts
on time.  ``--every N`` judges every N-th mutant only, for a quick figure.

    python bench/mutants.py [--profile mm] [--jobs 2] [--every 1]
"""

from __future__ import annotations

import argparse
import collections
import os
import platform
import time

from ipsecmm.properties import adequacy


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--profile", default="mm")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--every", type=int, default=1)
    args = ap.parse_args()
    print(f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} cores, "
          f"load {os.getloadavg()[0]:.1f}, profile {args.profile}, {args.jobs} jobs")
    t0 = time.perf_counter()
    ctx = adequacy.prepare(args.profile, args.jobs)
    t1 = time.perf_counter()
    ctx.mutants = ctx.mutants[:: args.every]
    verdicts = list(adequacy.judge_all(ctx, args.jobs))
    t2 = time.perf_counter()
    s = adequacy.summary(verdicts)
    print(f"mutants {s['mutants']}  killed {s['killed']}  equivalent {s['equivalent']}  survivors {s['survivors']}  "
          f"score {s['score']} ({s['percent']}%)")
    print(f"seconds: prepare {t1 - t0:.1f} (trace and judge the original), mutants {t2 - t1:.1f}, total {t2 - t0:.1f}")
    how = collections.Counter(arg for e in verdicts if "evidence" in e for arg, _ in e["evidence"].values())
    print("scenario verdicts settled by: " + ", ".join(f"{k} {v}" for k, v in sorted(how.items())))
    ops = collections.Counter((e.get("op", "seeded"), e["verdict"]) for e in verdicts)
    for op in sorted({o for o, _ in ops}):
        print(f"  {op:<13}" + "  ".join(f"{v} {ops[(op, v)]:>3}" for v in ("killed", "equivalent", "survives")))


if __name__ == "__main__":
    main()
