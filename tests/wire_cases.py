"""Captures the wire tests share: every shipped vector file and random runs of every profile."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from ipsecmm.gen._conformance import load_file
from ipsecmm.gen._vectors import scenario_from_doc
from ipsecmm.gen._wire import packets, run_messages, session_for, vector_messages
from ipsecmm.model import builtin_scenario

from helpers import walk

ROOT = Path(__file__).resolve().parent.parent
VECTOR_FILES = sorted(p for p in (ROOT / "gen" / "vectors").glob("*.json") if p.name != "coverage.json")


@cache
def walks() -> tuple:
    """Random runs of each profile long enough that, with the vectors, every
    message kind goes on the wire both as a request and as an answer."""
    return tuple(walk(builtin_scenario(scn), prof, seed, requests=4, forge=1, moves=2, drops=1, actions=())
                 for prof in ("ikev2", "mobike", "mm") for scn in ("default", "reasons", "fallback") for seed in range(8))


def run_file(tmp: Path, k: int, run) -> Path:
    path = tmp / f"walk-{run.profile}-{k}.json"
    path.write_text(json.dumps({"runs": [run.to_json()]}), encoding="utf-8")
    return path


def vector_packets(path: Path) -> list:
    """(session, packets) of every vector of a file, in file order."""
    out = []
    for case in load_file(path):
        sc = scenario_from_doc(case.setup.scenario, str(path))
        session = session_for(sc, case.setup.profile, spis=case.setup.spis, keys=case.setup.wire)
        out.append((session, packets(session, vector_messages(case.test, case.setup.role))))
    return out


def run_packets(run) -> tuple:
    session = session_for(run.scenario, run.profile)
    return session, packets(session, run_messages(run))
