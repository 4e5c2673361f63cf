"""The command line: output shapes and exit codes."""

from __future__ import annotations

import json

from ipsecmm.cli import main


def test_explore_json_is_one_object_with_the_figures(capsys):
    assert main(["explore", "--profile", "ikev2", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    (res,) = doc["results"]
    assert doc["scenario"] == "default"
    assert res["profile"] == "ikev2" and res["complete"] is True
    assert res["states"] == 3248 and res["transitions"] == 12106 and res["deadlocks"] == 0
    assert {"max_depth", "seconds", "states_per_second"} <= set(res)


def test_incomplete_exploration_is_not_a_success(capsys):
    assert main(["explore", "--profile", "mm", "--max-states", "500"]) == 1
    out = capsys.readouterr().out
    assert "INCOMPLETE" in out and "state limit 500" in out


def test_options_change_the_model(capsys):
    main(["explore", "--profile", "mm", "--json", "--scenario", "scenarios/fallback.toml"])
    plain = json.loads(capsys.readouterr().out)["results"][0]["states"]
    main(["explore", "--profile", "mm", "--json", "--scenario", "scenarios/fallback.toml", "--option", "apply_early=true"])
    early = json.loads(capsys.readouterr().out)["results"][0]["states"]
    assert plain != early


def test_simulate_prints_a_line_per_step(capsys):
    assert main(["simulate", "--seed", "1", "--steps", "12", "--bound", "requests=3"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("scenario default · profile mm · seed 1")
    steps = [line for line in out if line[:4].strip().isdigit()]
    assert 1 <= len(steps) <= 12
    assert [int(line[:4]) for line in steps] == list(range(1, len(steps) + 1))
    assert "final state:" in out
