"""Shared fixtures: models of the built-in scenario and of the shipped scenarios."""

from __future__ import annotations

from pathlib import Path

import pytest

from ipsecmm.model import PROFILE_NAMES, Model, default_scenario, load_scenario

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"


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
