"""Shared fixtures: models of the built-in scenario and of the shipped scenarios."""

from __future__ import annotations

from pathlib import Path

import pytest

from ipsecmm.model import PROFILE_NAMES, Model, default_scenario, load_scenario

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"


@pytest.fixture(scope="session")
def fresh_vectors():
    """The canonical vectors generated now from the tables, as ``ipsecmm
    vectors`` makes them (about 80 s: the mutation search included); shared
    by the vector and adequacy tests."""
    from ipsecmm.gen._cli_vectors import DEFAULT_SCENARIOS
    from ipsecmm.gen._vectors import generate
    from ipsecmm.model import builtin_scenario

    return generate([builtin_scenario(n) for n in DEFAULT_SCENARIOS])


@pytest.fixture(scope="session")
def default():
    return default_scenario()


@pytest.fixture(scope="session", params=PROFILE_NAMES)
def profile(request):
    return request.param


def scenario(name: str):
    return load_scenario(SCENARIOS / f"{name}.toml")


def model(name: str = "default", profile: str = "mm", **options) -> Model:
    sc = default_scenario() if name == "default" else scenario(name)
    if options:
        import dataclasses

        sc = dataclasses.replace(sc, options=sc.options.replace(**options))
    return Model(sc, profile)


@pytest.fixture(scope="session", autouse=True)
def _relation_cache(tmp_path_factory):
    """A cache of derived z3 relations of this test session only: tests share
    it (each relation is derived once) but never see another run's."""
    import os

    old = os.environ.get("IPSECMM_CACHE")
    os.environ["IPSECMM_CACHE"] = str(tmp_path_factory.mktemp("relations"))
    yield
    if old is None:
        del os.environ["IPSECMM_CACHE"]
    else:
        os.environ["IPSECMM_CACHE"] = old
