"""The verdict matrix of every shipped scenario, as the golden file the tests pin.

    python scripts/matrices.py            # check tests/fixtures/matrices.json (exit 1 and the differences)
    python scripts/matrices.py --write    # rewrite it after an intended change

Each cell is the status, with "vacuous" and "declared" marks; the explorer
engines only (the z3 engine has its own tests), so it is deterministic.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ipsecmm.model import PROFILE_NAMES, builtin_names, builtin_scenario
from ipsecmm.properties import Checker

GOLDEN = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "matrices.json"


def cell(v: Any) -> str:
    return v.status + (" vacuous" if v.vacuous else "") + (" declared" if v.declared else "")


def matrix(name: str, jobs: int = 2) -> dict[str, dict[str, str]]:
    report = Checker(builtin_scenario(name), None, z3_engine=False).run(PROFILE_NAMES, jobs=jobs)
    return {pr.profile: {rid: cell(v) for rid, v in pr.verdicts.items()} for pr in report.profiles}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--write", action="store_true")
    args = p.parse_args(argv)
    now = {name: matrix(name) for name in builtin_names()}
    text = json.dumps(now, indent=1, sort_keys=True) + "\n"
    if args.write:
        GOLDEN.write_text(text, encoding="utf-8")
        return 0
    old = json.loads(GOLDEN.read_text(encoding="utf-8"))
    diffs = [f"{s} {p} {r}: {old.get(s, {}).get(p, {}).get(r)} -> {c}"
             for s, per in now.items() for p, cells in per.items() for r, c in cells.items()
             if old.get(s, {}).get(p, {}).get(r) != c]
    print("\n".join(diffs) or "matrices unchanged")
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main())
