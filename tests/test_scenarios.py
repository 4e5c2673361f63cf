"""Scenario files: the shipped ones load, and every kind of bad input gets one
line naming the file, the key and the problem, with exit code 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ipsecmm.cli import main
from ipsecmm.model import ScenarioError, builtin_names, builtin_scenario, default_scenario, load_scenario, parse_scenario

from conftest import SCENARIOS

GOOD = (SCENARIOS / "default.toml").read_text()


def test_every_shipped_scenario_is_a_built_in_one():
    assert builtin_names() == sorted(p.stem for p in SCENARIOS.glob("*.toml"))
    assert builtin_scenario("default") == default_scenario()


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.toml")), ids=lambda p: p.stem)
def test_shipped_scenarios_load(path):
    sc = load_scenario(path)
    assert sc.name == path.stem
    # the IKE_SA and every declared CHILD_SA (window.toml has none: its
    # subject, the message window, belongs to the IKE_SA)
    assert sc.n_slots == 1 + path.read_text().count("\n[[sa]]")


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
                             "ike.i_addrs[0]: address a9 is not declared"),
    "address of the wrong peer": (GOOD.replace('i_addrs = ["a1"]\nr_addrs = ["r1"]', 'i_addrs = ["r1"]\nr_addrs = ["r1"]', 1),
                                  "ike.i_addrs[0]: address r1 belongs to peer R, not I"),
    "impossible policy": (GOOD.replace("accept = true\nmin_protection = \"integrity\"", "accept = false", 1),
                          "ike.i_addrs: peer R's local policy refuses network home for ike"),
    "SPD refuses an initial address": (GOOD.replace('spd = { R = ["a1", "a2"] }', 'spd = { R = ["a2"] }'),
                                       "sa[0].i_addrs: peer R's SPD for web does not cover a1"),
    "duplicate address": (GOOD.replace('name = "a2"', 'name = "a1"', 1), "address[1].name: address a1 is declared twice"),
    "bound out of range": (GOOD.replace("forge = 1", "forge = 9"), "bounds.forge: 9 is out of range"),
    "bad option": (GOOD + "\n[options]\nfailover = \"some\"\n", "options.failover: some is not one of"),
    "ip of the wrong family": (GOOD.replace('ip = "192.0.2.2"', 'ip = "2001:db8::9"'), "address[1].ip: 2001:db8::9 is not a v4 address"),
    "unknown enum": (GOOD.replace('mode = "tunnel"', 'mode = "beet"'), "sa[1].mode: beet is not one of: transport, tunnel"),
    "unknown action": (GOOD.replace("forge = 1", 'forge = 1\nactions = ["teleport"]'), "bounds.actions[0]: teleport is not an action"),
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


# --------------------------------------------------------------------------- meaningless scenarios (issue 9)

IKE = 'i_addrs = ["a1"]\nr_addrs = ["r1"]'
WEB = 'name = "web"\nmode = "transport"\nprotection = "encryption"\ni_addrs = ["a1"]\nr_addrs = ["r1", "r2"]'
VPN = 'name = "vpn"\nmode = "tunnel"\nprotection = "encryption"\ni_addrs = ["a1"]\nr_addrs = ["r1", "r2"]'


def edit(old: str, new: str, count: int = 1) -> str:
    assert old in GOOD, old
    return GOOD.replace(old, new, count)


def with_ip(name: str, ip: str) -> str:
    """The default scenario with address ``name`` at ``ip``."""
    start = GOOD.index(f'name = "{name}"')
    at = GOOD.index("ip = ", start)
    end = GOOD.index("\n", at)
    return GOOD[:at] + f'ip = "{ip}"' + GOOD[end:]


MEANINGLESS = {
    # an SA no packet could use (RFC 7296 2.11, RFC 4301 5.1.2): no initiator and responder address of one family
    "IKE_SA of two families": (edit(IKE, 'i_addrs = ["a1"]\nr_addrs = ["r2"]'),
                               "ike.r_addrs: ike has no initiator and responder address of one family"),
    "transport SA of two families": (edit(WEB, WEB.replace('["r1", "r2"]', '["r2"]')),
                                     "sa[0].r_addrs: web has no initiator and responder address of one family"),
    "tunnel SA of two families": (edit(VPN, VPN.replace('["r1", "r2"]', '["r2"]')),
                                  "sa[1].r_addrs: vpn has no initiator and responder address of one family"),
    "template of two families": (edit('i_addrs = ["a1"]\nr_addrs = ["r1", "r2"]\nspd = { R = ["a1", "a2", "a3"] }',
                                      'i_addrs = ["a3"]\nr_addrs = ["r1"]\nspd = { R = ["a1", "a2", "a3"] }'),
                                 "sa[2].r_addrs: web2 has no initiator and responder address of one family"),
    "alternate of a family the other side lacks": (edit(IKE, IKE + '\ni_alternates = ["a3"]'),
                                                   "ike.i_alternates: alternate a3 is v6 but no current responder"),
    # one IP under two spellings
    "v6 IP spelled in capitals": (with_ip("r2", "2001:DB8:1:0::3"),
                                  "address[4].ip: 2001:DB8:1:0::3 is the IP of address a3 too, written 2001:db8:1::3"),
    "v4-mapped IP beside the v4 one": (with_ip("r2", "::ffff:198.51.100.1"),
                                       "address[4].ip: ::ffff:198.51.100.1 is the IP of address r1 too"),
    "the peers share an IP": (with_ip("r1", "192.0.2.1"), "address[3].ip: 192.0.2.1 is the IP of address a1 too"),
    "v4-mapped IP as a v6 address": (with_ip("r2", "::ffff:198.51.100.9"),
                                     "address[4].ip: ::ffff:198.51.100.9 is an IPv4-mapped address"),
    # addresses an SA cannot have as an end
    "unspecified v4": (with_ip("a2", "0.0.0.0"), "address[1].ip: 0.0.0.0 is the unspecified address"),
    "unspecified v6": (with_ip("r2", "::"), "address[4].ip: :: is the unspecified address"),
    "this-network v4": (with_ip("a2", "0.1.2.3"), "address[1].ip: 0.1.2.3 is in 0.0.0.0/8"),
    "loopback v4": (with_ip("a2", "127.0.0.2"), "address[1].ip: 127.0.0.2 is a loopback address"),
    "loopback v6": (with_ip("r2", "::1"), "address[4].ip: ::1 is a loopback address"),
    "multicast v4": (with_ip("a2", "224.0.0.251"), "address[1].ip: 224.0.0.251 is a multicast address"),
    "multicast v6": (with_ip("r2", "ff02::1"), "address[4].ip: ff02::1 is a multicast address"),
    "link-local v4": (with_ip("a2", "169.254.7.7"), "address[1].ip: 169.254.7.7 is a link-local address"),
    "link-local v6": (with_ip("r2", "fe80::1"), "address[4].ip: fe80::1 is a link-local address"),
    "site-local v6": (with_ip("r2", "fec0::1"), "address[4].ip: fec0::1 is a site-local address"),
    "zone index": (with_ip("r2", "2001:db8:2::1%eth0"), 'address[4].ip: "2001:db8:2::1%eth0" is an address with a zone'),
    "broadcast": (with_ip("a2", "255.255.255.255"), "address[1].ip: 255.255.255.255 is reserved"),
    # repeated list entries
    "repeated SA address": (edit(IKE, 'i_addrs = ["a1"]\nr_addrs = ["r1", "r1"]'), "ike.r_addrs[1]: address r1 is listed twice"),
    "repeated alternate": (edit(IKE, IKE + '\ni_alternates = ["a2", "a2"]'), "ike.i_alternates[1]: address a2 is listed twice"),
    "repeated PAD entry": (edit('pad = ["r1", "r2"]', 'pad = ["r1", "r2", "r1"]'), "peer.I.pad[2]: address r1 is listed twice"),
    "repeated SPD entry": (edit('spd = { R = ["a1", "a2"] }', 'spd = { R = ["a1", "a2", "a1"] }'),
                           "sa[0].spd.R[2]: address a1 is listed twice"),
    "repeated action": (edit("forge = 1", 'forge = 1\nactions = ["update", "add", "update"]'),
                        "bounds.actions[2]: action update is listed twice"),
    # names
    "empty address name": (edit('name = "a2"', 'name = ""'), "address[1].name: a name must not be empty"),
    "blank SA name": (edit('name = "vpn"', 'name = " \\t "'), 'sa[1].name: " \\t ": a name must not be blank'),
    "SA name with a newline": (edit('name = "vpn"', 'name = "v\\npn"'),
                               'sa[1].name: "v\\npn": a name must not hold control or invisible characters'),
    "network name with a bidi override": (edit('name = "wifi"', 'name = "wi\\u202efi"'),
                                          'network[1].name: "wi\\u202efi": a name must not hold control'),
    "address name with a bell": (edit('name = "a2"', 'name = "a\\u0007"'), 'address[1].name: "a\\u0007": a name must not'),
    "empty scenario name": (edit('name = "default"', 'name = ""'), "scenario.name: a name must not be empty"),
    "scenario name ending in a space": (edit('name = "default"', 'name = "default "'),
                                        'scenario.name: "default ": a name must not begin or end with white space'),
    # actions are matched exactly, not through str.upper()
    "long s in an action": (edit("forge = 1", 'forge = 1\nactions = ["\u017fet_alt"]'),
                            'bounds.actions[0]: "\\u017fet_alt" is not an action'),
    "action in capitals": (edit("forge = 1", 'forge = 1\nactions = ["UPDATE"]'), "bounds.actions[0]: UPDATE is not an action"),
    # what the user wrote is quoted, so that the message is one line
    "key with a newline": (edit("forge = 1", 'forge = 1\n"a\\nb" = 2'), 'bounds."a\\nb": unknown key'),
    "unknown option value with a newline": (GOOD + '\n[options]\nfailover = "a\\nb"\n',
                                            'options.failover: "a\\nb" is not one of: all, any'),
    "network key with a newline": (edit("[peer.R.network.lte]", '[peer.R.network."l\\nte"]'),
                                   'peer.R.network."l\\nte": unknown key'),
    # nesting
    "nested a few hundred levels": ("a = " + "[" * 400 + "]" * 400, "nested more than 32 levels deep"),
    "nested deeper than the parser goes": ("a = " + "[" * 2000 + "]" * 2000, "nested more than 32 levels deep"),
    "a number of 5000 digits": (edit("forge = 1", "forge = " + "9" * 5000), "not valid TOML: a number is far too long"),
    "a number of 4000 digits": (edit("forge = 1", "forge = " + "9" * 4000), "bounds.forge: a number of 4000 digits"),
}


@pytest.mark.parametrize("case", sorted(MEANINGLESS))
def test_meaningless_scenario_is_refused_on_one_line(tmp_path, capsys, case):
    text, expected = MEANINGLESS[case]
    line = run_bad(tmp_path, capsys, text)
    assert line.startswith(f"ipsecmm explore: {tmp_path / 'bad.toml'}: ")
    assert expected in line


ORDINARY = [("a2", ip) for ip in ("192.0.2.77", "198.51.100.77", "203.0.113.7", "10.1.2.3", "100.64.0.1", "8.8.8.8")] + \
    [("r2", ip) for ip in ("2001:db8:1::77", "3fff::1", "fd00::1", "2a00:1450::1")]
SPECIAL = [("a2", "127.0.0.1"), ("a2", "169.254.0.9"), ("r2", "fe80::9"), ("r2", "ff05::2")]


def test_the_endpoint_rule_refuses_special_addresses_and_keeps_ordinary_unicast():
    # documentation (RFC 5737, 3849), private, shared and global prefixes are ordinary unicast space
    for name, ip in ORDINARY:
        sc = parse_scenario(with_ip(name, ip))
        assert sc.addresses[sc.addr_index(name)].ip == ip
    for name, ip in SPECIAL:
        with pytest.raises(ScenarioError, match="an SA needs unicast addresses of global scope"):
            parse_scenario(with_ip(name, ip))


def test_one_shared_family_is_enough_for_an_sa():
    # web carries r2 (v6) beside r1 (v4) while I has only v4: the pair a1-r1 carries the traffic, and r2
    # serves once I gains a v6 address (RFC 4555 3.4 announces addresses of both families) ...
    sc = parse_scenario(GOOD)
    web = sc.slots[sc.slot_index("web")]
    assert sc.names(web.cur_r) == ["r1", "r2"] and sc.names(web.cur_i) == ["a1"]
    # ... but without r1 no packet could use web
    with pytest.raises(ScenarioError, match="web has no initiator and responder address of one family"):
        parse_scenario(edit(WEB, WEB.replace('["r1", "r2"]', '["r2"]')))


def test_builtin_scenario_takes_only_listed_names():
    with pytest.raises(ScenarioError) as exc:
        builtin_scenario("../scenarios/default")
    assert "no built-in scenario of that name" in str(exc.value)


def test_a_file_name_that_would_break_the_line_is_quoted(tmp_path, capsys):
    path = tmp_path / "a\nb.toml"
    path.write_text("[ike")
    assert main(["explore", "--scenario", str(path)]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith(f"ipsecmm explore: {json.dumps(str(path))}: not valid TOML")
