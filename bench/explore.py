"""Explorer throughput on the built-in scenario, per profile.

Prints distinct states per second for the compiled explorer (best and median
of several runs, one core), and, for scale, how fast the ``transitions``
runtime fires single steps.  Not a test: nothing here asserts on time.

    python bench/explore.py [--repeat N]
"""

from __future__ import annotations

import argparse
import platform
import random
import statistics
import time

from ipsecmm.model import PROFILE_NAMES, Model, Runtime, default_scenario
from ipsecmm.properties import Explorer


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    sc = default_scenario()
    print(f"python {platform.python_version()} on {platform.machine()}, scenario {sc.name}, {args.repeat} runs each")
    print(f"{'profile':<8}{'states':>10}{'transitions':>13}{'best s':>9}{'states/s best':>15}{'median':>10}")
    for name in PROFILE_NAMES:
        rates, times = [], []
        for _ in range(args.repeat):
            stats = Explorer(Model(sc, name)).run()  # a fresh model: no warm machine cache
            rates.append(stats.rate)
            times.append(stats.seconds)
        print(f"{name:<8}{stats.states:>10,}{stats.transitions:>13,}{min(times):>9.2f}"
              f"{max(rates):>15,.0f}{statistics.median(rates):>10,.0f}")
    m = Model(sc, "mm")
    rt = Runtime(m)
    rng = random.Random(0)
    w, n = m.initial(), 0
    start = time.perf_counter()
    while time.perf_counter() - start < 2.0:
        inputs = m.inputs(w)
        w2 = rt.step(w, rng.choice(inputs)) if inputs else None
        w = m.initial() if w2 is None and not inputs else (w2 or w)
        n += 1
    print(f"transitions runtime: {n / (time.perf_counter() - start):,.0f} steps/s (mm, random walk)")


if __name__ == "__main__":
    main()
