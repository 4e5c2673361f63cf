"""The same seed gives the same simulation, byte for byte."""

from __future__ import annotations

from ipsecmm.cli import main


def simulate(capsys, *args: str) -> str:
    assert main(["simulate", *args]) == 0
    return capsys.readouterr().out


def test_same_seed_same_text(capsys):
    for profile in ("mm", "mobike", "ikev2"):
        a = simulate(capsys, "--profile", profile, "--seed", "7", "--steps", "60", "--bound", "requests=4")
        b = simulate(capsys, "--profile", profile, "--seed", "7", "--steps", "60", "--bound", "requests=4")
        assert a == b
        assert a.count("\n") > 10


def test_different_seeds_give_different_runs(capsys):
    runs = {simulate(capsys, "--seed", str(seed), "--steps", "40", "--bound", "requests=4") for seed in range(5)}
    assert len(runs) == 5
