"""The verdict matrix of every shipped scenario is pinned (tests/fixtures/matrices.json).

A change of a verdict anywhere is either intended (rerun ``python
scripts/matrices.py --write`` and say why in the commit) or a bug.  The one mm
violation on a shipped scenario is findings F10 (on `failover` and `strongswan`).
"""

from __future__ import annotations

import importlib.util
import json

import pytest

from ipsecmm.model import builtin_names

from conftest import ROOT

spec = importlib.util.spec_from_file_location("matrices", ROOT / "scripts" / "matrices.py")
assert spec is not None and spec.loader is not None
matrices = importlib.util.module_from_spec(spec)
spec.loader.exec_module(matrices)
GOLDEN = json.loads(matrices.GOLDEN.read_text(encoding="utf-8"))


def test_every_shipped_scenario_is_pinned():
    assert sorted(GOLDEN) == builtin_names()


@pytest.mark.parametrize("name", builtin_names())
def test_the_matrix_of_a_shipped_scenario_is_pinned(name):
    assert matrices.matrix(name) == GOLDEN[name]


def test_mm_violates_only_what_the_findings_explain():
    bad = {(s, r) for s, per in GOLDEN.items() for r, c in per["mm"].items() if c.startswith("violated")}
    # findings F10, on both scenarios whose SAs have an alternate the owner may withdraw
    assert bad == {("failover", "LIVE-FAILOVER"), ("strongswan", "LIVE-FAILOVER")}
