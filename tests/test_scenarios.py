"""Scenario files: the shipped ones load, and every kind of bad input gets one
line naming the file, the key and the problem, with exit code 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from ipsecmm.cli import main
from ipsecmm.model import builtin_names, builtin_scenario, default_scenario, load_scenario

from conftest import SCENARIOS

GOOD = (SCENARIOS / "default.toml").read_text()


def test_every_shipped_scenario_is_a_built_in_one():
    assert builtin_names() == sorted(p.stem for p in SCENARIOS.glob("*.toml"))
    assert builtin_scenario("default") == default_scenario()


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.toml")), ids=lambda p: p.stem)
def test_shipped_scenarios_load(path):
    sc = load_scenario(path)
    assert sc.name == path.stem
    assert sc.n_slots >= 2


def test_default_has_the_sizes_the_catalogue_asks_for():
    sc = default_scenario()
    owners = [a.owner.name for a in sc.addresses]
    assert owners.count("I") == 3 and owners.count("R") == 2
    modes = sorted(s.mode.name for s in sc.slots[1:] if s.state.name != "ABSENT")
    assert modes == ["TRANSPORT", "TUNNEL"]
    assert sc.bounds.channel == 1 and sc.bounds.retransmits == 2


def run_bad(tmp_path: Path, capsys, text: str, *extra: str) -> str:
    f = tmp_path / "bad.toml"
    f.write_text(text)
    assert main(["explore", "--profile", "ikev2", "--scenario", str(f), *extra]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""  # nothing half-written on stdout
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert "Traceback" not in captured.err
    return lines[0]


CASES = {
    "not TOML": (GOOD.replace("[ike]", "[ike"), "not valid TOML"),
    "unknown key": (GOOD.replace("channel = 1", "channel = 1\nspeed = 3"), "bounds.speed: unknown key"),
    "wrong type": (GOOD.replace("retransmits = 2", 'retransmits = "two"'), "bounds.retransmits: expected an integer, got a string"),
    "address not declared": (GOOD.replace('i_addrs = ["a1"]\nr_addrs = ["r1"]', 'i_addrs = ["a9"]\nr_addrs = ["r1"]', 1),
                             "ike.i_addrs[0]: address 'a9' is not declared"),
    "address of the wrong peer": (GOOD.replace('i_addrs = ["a1"]\nr_addrs = ["r1"]', 'i_addrs = ["r1"]\nr_addrs = ["r1"]', 1),
                                  "ike.i_addrs[0]: address 'r1' belongs to peer R, not I"),
    "impossible policy": (GOOD.replace("accept = true\nmin_protection = \"integrity\"", "accept = false", 1),
                          "ike.i_addrs: peer R's local policy refuses network 'home' for ike"),
    "SPD refuses an initial address": (GOOD.replace('spd = { R = ["a1", "a2"] }', 'spd = { R = ["a2"] }'),
                                       "sa[0].i_addrs: peer R's SPD for web does not cover a1"),
    "duplicate address": (GOOD.replace('name = "a2"', 'name = "a1"', 1), "address[1].name: address 'a1' is declared twice"),
    "bound out of range": (GOOD.replace("forge = 1", "forge = 9"), "bounds.forge: 9 is out of range"),
    "bad option": (GOOD + "\n[options]\nfailover = \"some\"\n", "options.failover: 'some' is not one of"),
    "ip of the wrong family": (GOOD.replace('ip = "192.0.2.2"', 'ip = "2001:db8::9"'), "address[1].ip: 2001:db8::9 is not a v4 address"),
    "unknown enum": (GOOD.replace('mode = "tunnel"', 'mode = "beet"'), "sa[1].mode: 'beet' is not one of: transport, tunnel"),
    "unknown action": (GOOD.replace("forge = 1", 'forge = 1\nactions = ["teleport"]'), "bounds.actions[0]: 'teleport' is not an action"),
    "tunnel with address selectors": (GOOD.replace('protection = "encryption"\ni_addrs = ["a1"]\nr_addrs = ["r1", "r2"]\n\n#',
                                                   'protection = "encryption"\ni_addrs = ["a1"]\nr_addrs = ["r1", "r2"]\nspd = { R = ["a1"] }\n\n#'),
                                      "sa[1].spd: address selectors only exist in transport mode"),
    "alternates overlap": (GOOD.replace('i_addrs = ["a1"]\nr_addrs = ["r1"]', 'i_addrs = ["a1"]\nr_addrs = ["r1"]\ni_alternates = ["a1"]', 1),
                           "ike.i_alternates: alternates overlap the current addresses"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_scenario_gets_one_clear_line(tmp_path, capsys, case):
    text, expected = CASES[case]
    assert text != GOOD, "the case did not change the scenario"
    line = run_bad(tmp_path, capsys, text)
    assert line.startswith("ipsecmm explore: ") and str(tmp_path / "bad.toml") in line
    assert expected in line


def test_missing_file(capsys, tmp_path):
    assert main(["explore", "--scenario", str(tmp_path / "nope.toml")]) == 2
    err = capsys.readouterr().err
    assert "nope.toml: no such file" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("args,expected", [
    (["--bound", "speed=3"], "--bound speed: unknown bound"),
    (["--bound", "requests=many"], "--bound requests=many: expected an integer"),
    (["--bound", "requests"], "expected KEY=VALUE"),
    (["--option", "apply_early=maybe"], "--option apply_early=maybe: expected true or false"),
    (["--option", "colour=red"], "--option colour: unknown option"),
    (["--profile", "ipv9"], "invalid choice: 'ipv9'"),
])
def test_bad_arguments_get_one_clear_line(capsys, args, expected):
    assert main(["explore", *args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and expected in err[0]
