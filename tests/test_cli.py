"""The command line: output shapes and exit codes."""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from ipsecmm.cli import build_parser, main
from ipsecmm.model import Model, builtin_names, default_scenario, get_profile
from ipsecmm.model._scenario import BOUND_LIMITS
from ipsecmm.properties import MUTANTS, REGISTRY, Explorer

from conftest import ROOT, SCENARIOS


def test_explore_json_is_one_object_with_the_figures(capsys):
    assert main(["explore", "--profile", "ikev2", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    (res,) = doc["results"]
    assert doc["scenario"] == "default"
    assert res["profile"] == "ikev2" and res["complete"] is True
    assert res["states"] == 3233 and res["transitions"] == 12040 and res["deadlocks"] == 0
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


# --------------------------------------------------------------------------- issue 9: the command line as a user meets it

VERBS = sorted(next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)).choices)


def _subparsers() -> dict[str, argparse.ArgumentParser]:
    return next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)).choices


def _one_line(capsys, verb: str) -> str:
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"ipsecmm {verb}: "), lines[0]
    assert "Traceback" not in err
    return lines[0]


def _cli(*argv: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ipsecmm", *argv], capture_output=True, text=True, cwd=cwd,
                          timeout=600, env={**os.environ, "PYTHONPATH": str(ROOT / "tests")})


# 1. conformance speaks the project's exit codes, not pytest's

@pytest.mark.parametrize("pytest_args, needle", [
    (["-k", "no_vector_is_called_this"], "no vector selected"),
    (["--bogus"], "pytest refused its arguments: unrecognized arguments: --bogus"),
])
def test_conformance_maps_pytest_errors_to_usage_errors(pytest_args, needle):
    r = _cli("conformance", "--", *pytest_args)
    assert r.returncode == 2, (r.returncode, r.stderr[-500:])
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ipsecmm conformance: ") and needle in lines[0], r.stderr


# 2. and 12. every numeric option is checked by argparse, before any work

@pytest.mark.parametrize("argv, option, least", [
    (["explore", "--max-states", "-5"], "--max-states", "at least 1"),
    (["explore", "--max-states", "0"], "--max-states", "at least 1"),
    (["explore", "--max-seconds", "-1"], "--max-seconds", "more than 0"),
    (["explore", "--max-seconds", "0"], "--max-seconds", "more than 0"),
    (["simulate", "--steps", "-1"], "--steps", "at least 0"),
    (["check", "--no-z3", "--profile", "ikev2", "--depth", "-1"], "--depth", "at least 0"),
    (["check", "--no-z3", "--profile", "ikev2", "--k", "0"], "--k", "at least 1"),
    (["check", "--no-z3", "--profile", "ikev2", "--jobs", "0"], "--jobs", "at least 1"),
    (["report", "--no-z3", "--jobs", "0", "--out", "unused"], "--jobs", "at least 1"),
    (["diagrams", "--no-svg", "--hops", "-1", "--out", "unused"], "--hops", "at least 0"),
    (["diagrams", "--no-svg", "--max-nodes", "0", "--out", "unused"], "--max-nodes", "at least 1"),
    (["diagrams", "--no-svg", "--around", "-1", "--out", "unused"], "--around", "at least 0"),
    (["explore", "--max-states", "many"], "--max-states", "expected an integer, got many"),
])
def test_numeric_options_out_of_range_are_usage_errors(argv, option, least, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    line = _one_line(capsys, argv[0])
    assert f"argument {option}: " in line and least in line
    assert not any(tmp_path.iterdir())  # refused before any work


# 3. mutants honours --profile, --bound and --option, and says its default scenario

def _mutant_table(out: str) -> tuple[list[str], dict[str, str]]:
    """The properties left out (broken without a mutant) and each mutant's verdict."""
    lines = out.splitlines()
    left = re.match(r"\(left out: (.*), which \w+ breaks without any mutant\)", lines[1])
    rows = {line.split()[0]: line for line in lines[1:] if line.split()[0] in {mu.name for mu in MUTANTS}}
    return (left.group(1).split(", ") if left else []), rows


def test_mutants_runs_on_the_profile_it_is_given(capsys):
    assert main(["mutants", "--profile", "ikev2"]) == 1  # some mutants only properties ikev2 breaks could kill
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "seeded mutants on scenario reasons, profile ikev2"
    left, rows = _mutant_table(out)
    assert "INV-RR" in left  # ikev2 breaks INV-RR by itself, so it says nothing about a mutant
    assert "does not apply" in rows["remove-last"]  # ikev2 has no REMOVE
    assert "INV-PAD" in rows["skip-pad"]
    assert not any(rid in row for rid in left for row in rows.values())


def test_mutants_applies_bounds_and_options(capsys):
    assert main(["mutants", "--profile", "ikev2", "--bound", "requests=0"]) == 1
    _, rows = _mutant_table(capsys.readouterr().out)
    assert rows["skip-pad"].endswith("SURVIVES")  # no request: nothing for the PAD to refuse
    # FIND-4.1-ORDER's reading breaks INV-AGREE by itself: it kills no mutant then
    main(["mutants", "--option", "apply_early=true"])
    left, rows = _mutant_table(capsys.readouterr().out)
    assert "INV-AGREE" in left
    assert not any(rid in row for rid in left for row in rows.values())


def test_mutants_help_names_its_default_scenario():
    text = _subparsers()["mutants"].format_help()
    assert "default: the built-in scenario reasons" in " ".join(text.split())


# 4. --bound: the ranges of scenario files, stated in every refusal and in the help

@pytest.mark.parametrize("key", sorted(BOUND_LIMITS))
def test_every_bound_refusal_states_its_range(key, capsys):
    lo, hi = BOUND_LIMITS[key]
    for value in (lo - 1, hi + 1, 100000000000):
        assert main(["explore", "--profile", "ikev2", "--bound", f"{key}={value}"]) == 2
        line = _one_line(capsys, "explore")
        assert f"--bound {key}={value}: {value} is out of range ({lo} to {hi}" in line


def test_unlimited_drops_is_a_bound_the_command_line_takes(capsys):
    assert main(["explore", "--profile", "ikev2", "--json", "--bound", "drops=-1", "--bound", "channel=2"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["bounds"]["drops"] == -1 and doc["bounds"]["channel"] == 2


def test_bound_help_lists_every_bound_with_its_range():
    for verb, sub in _subparsers().items():
        if verb in ("conformance", "requirements", "pcap", "trace"):
            continue
        text = " ".join(sub.format_help().split())
        for key, (lo, hi) in BOUND_LIMITS.items():
            assert f"{key} ({lo} to {hi}" in text, (verb, key)


# 5. mm_meets_all only when mm was checked

def test_check_without_mm_says_nothing_about_mm(tmp_path, capsys):
    argv = ["check", "--profile", "ikev2", "--no-z3", "--jobs", "1", "--runs", str(tmp_path / "runs")]
    assert main([*argv, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["mm_meets_all"] is None
    assert main(argv) == 0
    assert "mm " not in capsys.readouterr().out.splitlines()[-1]


# 6. time limits hold within a BFS level

def test_the_explorer_reads_its_clock_within_a_level():
    m = Model(default_scenario(), get_profile("mm"))
    ex = Explorer(m, max_seconds=200.0)
    ex.clock = lambda: len(ex.worlds) / 100  # a fake clock: a second per hundred states found
    stats = ex.run()
    assert not stats.complete and stats.stopped == "time limit 200s reached"
    # 20,000 states' worth of time; levels 5 and 6 hold 21,000 and 23,000 states
    # each, so a clock read only between levels would stop past 42,000.
    assert 20_000 <= stats.states < 25_000


# 7. the README's command table is the parser's

def _readme_table() -> dict[str, set[str]]:
    """The options of each verb's rows (a verb may have several: ``mutants`` and ``mutants --generated``)."""
    rows = re.findall(r"^\| `ipsecmm (\w+)([^`]*)` \|", (ROOT / "README.md").read_text(), flags=re.M)
    table: dict[str, set[str]] = {}
    for verb, rest in rows:
        table.setdefault(verb, set()).update(re.findall(r"--[a-z][a-z0-9-]*", rest))
    return table


def test_the_readme_lists_every_option_of_every_command():
    readme = (ROOT / "README.md").read_text()
    table = _readme_table()
    assert sorted(table) == VERBS
    but = re.search(r"Every command but ((?:`\w+`(?:, | and )?)+) also takes `--option KEY=VALUE`", readme)
    assert but, "the README must say which commands take --option and --bound"
    without = set(re.findall(r"`(\w+)`", but.group(1)))
    for verb, sub in _subparsers().items():
        options = {s for a in sub._actions for s in a.option_strings if s.startswith("--") and s != "--help"}
        common = set() if verb in without else {"--option", "--bound"}
        assert options == table[verb] | common, verb
    for key in BOUND_LIMITS:
        assert f"`{key}`" in readme.split("Every command but", 1)[1].split("\n\n", 1)[0]


def test_vectors_applies_bounds_and_options_to_every_scenario():
    from ipsecmm.gen._cli_vectors import _scenarios

    args = build_parser().parse_args(["vectors", "--scenario", "fallback", "--scenario", str(SCENARIOS / "reasons.toml"),
                                      "--bound", "moves=0", "--option", "apply_early=true", "--out", "unused"])
    found = _scenarios(args)
    assert [sc.name for sc in found] == ["fallback", "reasons"]
    assert all(sc.bounds.moves == 0 and sc.options.apply_early for sc in found)


# 8. --scenario takes a built-in name from anywhere, a path, or says what it takes

def test_scenario_by_built_in_name_from_any_directory(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["explore", "--profile", "ikev2", "--json", "--scenario", "failover"]) == 0
    assert json.loads(capsys.readouterr().out)["scenario"] == "failover"
    assert main(["explore", "--profile", "ikev2", "--json", "--scenario", str(SCENARIOS / "failover.toml")]) == 0
    assert json.loads(capsys.readouterr().out)["scenario"] == "failover"
    assert main(["explore", "--scenario", "failover.toml"]) == 2
    line = _one_line(capsys, "explore")
    assert "failover.toml: no such file, and no built-in scenario of that name" in line
    assert "built-in: " + ", ".join(builtin_names()) in line


LONG = "x" * 300


@pytest.mark.parametrize("argv", [
    ["explore", "--scenario", LONG],
    ["explore", "--scenario", f"/tmp/{LONG}/a.toml"],
    ["simulate", "--scenario", LONG],
    ["explain", "INV-RR", "--scenario", LONG],
    ["vectors", "--profile", "ikev2", "--scenario", LONG, "--out", "v"],
    ["conformance", "--vectors", LONG],
    ["pcap", LONG, "--out", "x.pcap"],
], ids=lambda v: " ".join(a if len(a) < 20 else "LONG" for a in v))
def test_a_path_the_system_cannot_look_up_is_one_line(argv, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    line = _one_line(capsys, argv[0])
    assert "File name too long" in line
    assert list(tmp_path.iterdir()) == []


def test_pcap_finds_a_shipped_vector_file_by_name_from_any_directory(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    for source in ("vectors/mm-default-initiator.json", "mm-default-initiator"):
        assert main(["pcap", source, "--out", "v.pcap"]) == 0
        assert capsys.readouterr().out.startswith("wrote v.pcap (")
        assert (tmp_path / "v.pcap").read_bytes()[:4] in (bytes.fromhex("a1b2c3d4"), bytes.fromhex("d4c3b2a1"))
    assert main(["pcap", "vectors/nope.json", "--out", "v.pcap"]) == 2
    assert "vectors/nope.json: no such file, and no shipped vector file of that name" in _one_line(capsys, "pcap")


def test_the_repeatable_scenario_of_vectors_takes_names(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["vectors", "--scenario", "fallback", "--scenario", "fallback", "--out", "out"]) == 2
    assert "fallback is also the name of" in _one_line(capsys, "vectors")


def test_every_scenario_the_docs_name_is_found_from_any_directory(tmp_path, monkeypatch):
    from ipsecmm.cli import scenario_arg

    named = set()
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        named |= set(re.findall(r"--scenario ([^\s`)\]]+)", doc.read_text()))
    named -= {"F"}  # the placeholder of the synopses
    assert named
    monkeypatch.chdir(tmp_path)
    for ref in sorted(named):
        assert scenario_arg(ref) == ref


# 9. requests = 0 is a valid bound: honest verdicts and runs that replay

@pytest.mark.parametrize("profile", ["ikev2", "mobike"])
def test_check_with_no_request_allowed(profile, tmp_path, capsys):
    runs = tmp_path / "runs"
    assert main(["check", "--profile", profile, "--no-z3", "--jobs", "1", "--json", "--bound", "requests=0",
                 "--runs", str(runs)]) == 0
    doc = json.loads(capsys.readouterr().out)
    update = next(r for r in doc["requirements"] if r["id"] == "MOB-UPDATE")["verdicts"][profile]
    assert update["status"] == "not-applicable" and "allows no request" in update["detail"]
    assert "run" not in update  # nothing attempted, so no "attempt" run
    # Writing a run's ITF replays it, which is where a run that is not one failed.
    saved = [p for p in sorted(runs.glob("*.json")) if not p.name.endswith(".itf.json")]
    assert saved and all(p.with_name(p.name[:-5] + ".itf.json").exists() for p in saved)


def test_a_scenario_file_with_no_request(tmp_path, capsys):
    text = (SCENARIOS / "default.toml").read_text()
    text = re.sub(r"^requests = \d+", "requests = 0", text, flags=re.M)
    assert "requests = 0" in text
    (tmp_path / "none.toml").write_text(text)
    assert main(["check", "--profile", "mm", "--no-z3", "--jobs", "1", "--json", "--scenario", str(tmp_path / "none.toml"),
                 "--runs", str(tmp_path / "runs")]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["mm_meets_all"] is False  # nothing can be shown, so mm is not shown to meet anything
    finding = next(r for r in doc["requirements"] if r["id"] == "FIND-4.1-ORDER")["verdicts"]["mm"]
    assert finding["status"] == "inconclusive"


# 10. the requirement IDs without running a check

def test_requirements_lists_every_id(capsys):
    assert main(["requirements"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["id", "section", "kind", "summary"]
    assert [line.split()[0] for line in out[1:]] == [r.id for r in REGISTRY]
    first = REGISTRY[0]
    assert first.sections in out[1] and first.kind in out[1] and out[1].endswith(" ".join(first.summary.split()))
    assert main(["requirements", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["requirements"]
    assert [(r["id"], r["section"], r["kind"]) for r in rows] == [(r.id, r.sections, r.kind) for r in REGISTRY]


def test_explain_points_to_the_list(capsys):
    assert main(["explain", "NOPE-1"]) == 2
    assert "(ipsecmm requirements lists them)" in _one_line(capsys, "explain")


# 11. progress on a terminal, and only there

class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_check_shows_progress_on_a_terminal_only(tmp_path, monkeypatch, capsys):
    def check(stream, *argv: str) -> str:
        monkeypatch.setattr(sys, "stderr", stream)
        assert main(["check", "--no-z3", "--runs", str(tmp_path / "runs"), *argv]) == 0
        return stream.getvalue()

    ikev2 = ["--profile", "ikev2", "--jobs", "1"]
    shown = check(_Terminal(), *ikev2)
    assert re.search(r"ikev2 explore: 3,233 states, \d+ of \d+ requirements met", shown), shown[-2000:]
    # with worker processes, their progress reaches the terminal through the parent
    small = ["--bound", "moves=0", "--bound", "forge=0"]
    shown = check(_Terminal(), "--profile", "ikev2", "--profile", "mobike", "--jobs", "2", *small)
    for profile in ("ikev2", "mobike"):
        assert re.search(rf"{profile} explore: [\d,]+ states, \d+ of \d+ requirements met", shown), shown[-2000:]
    assert check(_Terminal(), *ikev2, "--json") == ""  # a program reads that output
    assert check(io.StringIO(), *ikev2) == ""  # not a terminal
    capsys.readouterr()


# 12. one error line with the verb's prefix, from every verb

BAD_INVOCATIONS = {
    "check": ["--k", "0"],
    "conformance": ["--sut", "nonsense"],
    "diagrams": ["--bound", "channel=9", "--out", "unused"],
    "explain": ["NOPE-1"],
    "explore": ["--option", "colour=red"],
    "mutants": ["--bound", "speed=3"],
    "pcap": ["--vector", "x"],  # the file and --out are required
    "report": ["--no-z3"],  # --out is required
    "requirements": ["--bogus"],
    "simulate": ["--steps", "x"],
    "trace": ["capture.pcap"],  # --keys is required
    "vectors": ["--coverage", "everything", "--out", "unused"],
}


def test_every_verb_has_a_bad_invocation():
    assert sorted(BAD_INVOCATIONS) == VERBS


@pytest.mark.parametrize("verb", sorted(BAD_INVOCATIONS))
def test_every_verb_reports_a_bad_argument_on_one_prefixed_line(verb, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main([verb, *BAD_INVOCATIONS[verb]]) == 2
    _one_line(capsys, verb)


@pytest.mark.parametrize("verb", [v for v in VERBS if "--scenario" in _subparsers()[v].format_help()])
def test_every_verb_reports_a_bad_scenario_on_one_prefixed_line(verb, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bad.toml").write_text("[scenario\nname = 'x'\n")
    extra = {"explain": ["INV-RR"], "report": ["--out", "out"], "vectors": ["--out", "out"],
             "pcap": ["run.json", "--out", "out.pcap"], "trace": ["capture.pcap", "--keys", "keys"]}.get(verb, [])
    pos, opts = (extra[:1], extra[1:]) if verb in ("explain", "pcap", "trace") else ([], extra)
    assert main([verb, *pos, "--scenario", "bad.toml", *opts]) == 2
    assert "bad.toml: not valid TOML" in _one_line(capsys, verb)


# --------------------------------------------------------------------------- what a reviewer reads


def test_simulate_and_explain_say_what_the_names_stand_for(capsys):
    from ipsecmm.model import _render as render
    from ipsecmm.model import builtin_scenario, default_scenario

    sc = default_scenario()
    legend = [f"  {line}" for line in render.legend(sc)]
    for a in sc.addresses:  # a line per address: owner, family, network, IP, working at start
        family = "v6" if a.family else "v4"
        assert any(line.split() == [a.name, a.owner.name, family, a.network, a.ip, "yes" if a.up else "no"]
                   for line in legend)
    for net, pol in sc.peers[1].networks.items():
        assert any(line.split()[:5] == ["R", net, "yes" if pol.accept else "no", "yes" if pol.require_rr else "no",
                                        pol.min_protection.name.lower()] for line in legend)
    assert any(line.split() == ["R", ",".join(sc.names(sc.peers[1].pad))] for line in legend)

    assert main(["simulate", "--steps", "2"]) == 0
    out = capsys.readouterr().out.splitlines()
    start = out.index(legend[0])
    assert start == 1 and out[start:start + len(legend)] == legend and out[start + len(legend)] == "initial state:"

    # explain: the scenario's legend, then each other scenario's before the first run on it.
    assert main(["explain", "SCN-POLICY-CASES", "--profile", "mm"]) == 0
    text = capsys.readouterr().out
    assert "\n".join(legend) in text
    for name in ("policy-case1", "policy-case2", "policy-case3"):
        block = "\n".join(f"  {line}" for line in render.legend(builtin_scenario(name)))
        assert text.count(block) == 1 and text.index(block) < text.index(f"— scenario {name}:")


def test_check_matrix_says_a_finding_was_reproduced(tmp_path, capsys):
    from ipsecmm.properties import REPRODUCED, REPRODUCED_MEANING

    assert main(["check", "--no-z3", "--scenario", "scenarios/fallback.toml", "--profile", "mm", "--jobs", "1",
                 "--runs", str(tmp_path)]) in (0, 1)
    lines = capsys.readouterr().out.splitlines()
    rows = {line.split()[0]: line.split()[1] for line in lines if line.startswith(("FIND-", "INV-"))}
    assert rows["FIND-4.1-ORDER"] == rows["FIND-12-BOTH-MOVE"] == REPRODUCED and rows["INV-AGREE"] != REPRODUCED
    assert f"{REPRODUCED}: {REPRODUCED_MEANING}" in lines
    saved = json.loads((tmp_path / "FIND-4.1-ORDER.mm.json").read_text())
    assert saved["status"] == "holds"
