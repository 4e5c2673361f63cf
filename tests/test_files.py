"""Output directories: what the writing commands may replace, how they fail,
the modes they create files with, and the file names made from user input.

The generations here are small on purpose (profile ikev2 on one small
scenario, or the work replaced by a function that fails when it is reached).
"""

from __future__ import annotations

import errno
import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from ipsecmm.cli import main

from conftest import ROOT

SMALL = ROOT / "scenarios" / "policy-case1.toml"
MANIFEST = ".ipsecmm-manifest"


def owned_files(d: Path) -> dict[str, list[str]]:
    """What the manifest of ``d`` lists, by owner."""
    doc = json.loads((d / MANIFEST).read_text(encoding="utf-8"))
    return {owner: entry["files"] for owner, entry in doc["owners"].items()}


def vectors(out: Path, *extra: str, profile: str = "ikev2", scenario: Path = SMALL) -> int:
    return main(["vectors", "--profile", profile, "--scenario", str(scenario), "--out", str(out), *extra])


def named(tmp_path: Path, name: str, file: str = "named.toml") -> Path:
    """The small scenario under another name (JSON escapes are TOML escapes)."""
    text = SMALL.read_text(encoding="utf-8").replace('name = "policy-case1"', f"name = {json.dumps(name)}", 1)
    path = tmp_path / file
    path.write_text(text, encoding="utf-8")
    return path


def tree(d: Path) -> dict[str, bytes]:
    return {p.relative_to(d).as_posix(): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}


def one_line(err: str) -> str:
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


# --------------------------------------------------------------------------- 1. replace only what is owned


@pytest.fixture
def user_dir(tmp_path: Path) -> Path:
    d = tmp_path / "project"
    (d / "app" / "config").mkdir(parents=True)
    (d / "package.json").write_text('{"name": "mine"}')
    (d / "app" / "config" / "settings.json").write_text('{"keep": true}')
    return d


WRITERS = {
    "vectors": ["vectors", "--profile", "ikev2", "--scenario", str(SMALL), "--out"],
    "diagrams": ["diagrams", "--no-svg", "--profile", "ikev2", "--out"],
    "check": ["check", "--profile", "ikev2", "--no-z3", "--jobs", "1", "--json", "--runs"],
    "report": ["report", "--profile", "ikev2", "--scenario", str(SMALL), "--no-z3", "--jobs", "1", "--out"],
}


@pytest.mark.parametrize("verb", sorted(WRITERS))
def test_a_directory_with_files_ipsecmm_did_not_write_is_refused(verb, user_dir, capsys):
    before = tree(user_dir)
    assert main([*WRITERS[verb], str(user_dir)]) == 2
    err = one_line(capsys.readouterr().err)
    assert err.startswith(f"ipsecmm {verb}: ") and str(user_dir) in err
    assert f"{user_dir}/package.json" in err and "--force" in err
    assert tree(user_dir) == before  # nothing removed, nothing written


@pytest.mark.parametrize("verb", sorted(WRITERS))
def test_force_writes_there_and_keeps_the_other_files(verb, user_dir, capsys):
    assert main([*WRITERS[verb], str(user_dir), "--force"]) == 0
    capsys.readouterr()
    after = tree(user_dir)
    assert after["package.json"] == b'{"name": "mine"}' and after["app/config/settings.json"] == b'{"keep": true}'
    listed = {f for files in owned_files(user_dir).values() for f in files}
    assert listed and listed <= set(after) and "package.json" not in listed
    # The next run still refuses: the user's files are still not ipsecmm's.
    assert main([*WRITERS[verb], str(user_dir)]) == 2
    assert "package.json" in capsys.readouterr().err


def test_profiles_share_a_directory_and_a_rerun_removes_only_its_own_stale_files(tmp_path, capsys):
    d = tmp_path / "v"
    assert vectors(d) == 0
    first = tree(d)
    assert vectors(d, profile="mobike") == 0
    both = tree(d)
    assert {k: v for k, v in both.items() if k in first and k != MANIFEST} == \
        {k: v for k, v in first.items() if k != MANIFEST}  # mobike left every ikev2 file alone
    assert {"ikev2-policy-case1-initiator.json", "mobike-policy-case1-initiator.json",
            "coverage/ikev2.json", "coverage/mobike.json"} <= set(both)
    assert set(owned_files(d)) == {"vectors --profile ikev2", "vectors --profile mobike"}
    # ikev2 again, on another scenario: its policy-case1 vectors and their
    # traces are stale and go; mobike's stay byte for byte.
    assert vectors(d, scenario=named(tmp_path, "other")) == 0
    capsys.readouterr()
    now = tree(d)
    assert "ikev2-policy-case1-initiator.json" not in now and "ikev2-other-initiator.json" in now
    mobike = owned_files(d)["vectors --profile mobike"]
    assert all(now[f] == both[f] for f in mobike)
    assert set(now) - {MANIFEST} == {f for files in owned_files(d).values() for f in files}
    ikev2_traces = {t["trace"] for g in json.loads(now["ikev2-other-initiator.json"])["testGroups"] for t in g["tests"]}
    assert ikev2_traces <= set(now)


def test_check_runs_of_a_profile_replace_only_that_profiles_runs(tmp_path, capsys):
    runs = tmp_path / "runs"
    base = ["check", "--no-z3", "--jobs", "1", "--json", "--runs", str(runs)]
    assert main([*base, "--profile", "ikev2"]) == 0
    listed = owned_files(runs)["check --profile ikev2"]
    # a run this profile wrote earlier and no longer writes
    (runs / "OLD-REQ.ikev2.json").write_text("{}")
    manifest = json.loads((runs / MANIFEST).read_text())
    manifest["owners"]["check --profile ikev2"]["files"].append("OLD-REQ.ikev2.json")
    (runs / MANIFEST).write_text(json.dumps(manifest))
    assert main([*base, "--profile", "mobike"]) == 0
    assert (runs / "OLD-REQ.ikev2.json").exists() and all((runs / f).exists() for f in listed)
    assert main([*base, "--profile", "ikev2"]) == 0
    capsys.readouterr()
    assert not (runs / "OLD-REQ.ikev2.json").exists()
    assert all((runs / f).exists() for f in listed) and owned_files(runs)["check --profile mobike"]


def test_a_manifest_cannot_make_a_command_remove_files_outside_its_directory(tmp_path, capsys):
    d = tmp_path / "v"
    d.mkdir()
    victim = tmp_path / "victim.json"
    victim.write_text("precious")
    (d / MANIFEST).write_text(json.dumps({"format": "ipsecmm-manifest-1", "owners": {
        "vectors --profile ikev2": {"command": "x", "files": ["../victim.json"]}}}))
    assert vectors(d) == 2
    err = one_line(capsys.readouterr().err)
    assert MANIFEST in err and "../victim.json" in err
    assert victim.read_text() == "precious" and sorted(p.name for p in d.iterdir()) == [MANIFEST]


# --------------------------------------------------------------------------- 2. paths checked before the work


@pytest.fixture
def no_work(monkeypatch) -> None:
    """Every command's work, replaced by a failure: a path error must come first."""
    from ipsecmm.gen import _cli_pcap, _diagrams, _report, _vectors
    from ipsecmm.properties import Checker, adequacy

    def started(*args: object, **kwargs: object) -> None:
        raise AssertionError("the work started before the output path was checked")

    monkeypatch.setattr(_vectors, "generate", started)
    monkeypatch.setattr(_diagrams, "standard_drawings", started)
    monkeypatch.setattr(_report, "run_check", started)
    monkeypatch.setattr(Checker, "run", started)
    monkeypatch.setattr(_cli_pcap, "build", started)
    monkeypatch.setattr(adequacy, "run_all", started)


LONG = "a" * 300


@pytest.mark.parametrize("argv, problem", [
    (["vectors", "--out", "FILE/sub"], "--out FILE/sub: FILE is not a directory"),
    (["vectors", "--out", "/proc/x"], "--out /proc/x: cannot create /proc/x"),
    (["vectors", "--out", f"T/{LONG}"], f"--out T/{LONG}: cannot use it (File name too long)"),
    (["diagrams", "--out", "FILE"], "--out FILE: not a directory"),
    (["diagrams", "--out", "FILE/sub"], "--out FILE/sub: FILE is not a directory"),
    (["diagrams", "--out", f"T/{LONG}/x"], "(File name too long)"),
    (["check", "--runs", "FILE"], "--runs FILE: not a directory"),
    (["report", "--out", "FILE"], "--out FILE: not a directory"),
    (["report", "--out", "FILE/sub/deeper"], "--out FILE/sub/deeper: FILE is not a directory"),
    (["pcap", "mm-default-initiator", "--out", "FILE/x.pcap"], "--out FILE/x.pcap: FILE is not a directory"),
    (["mutants", "--generated", "--out", "FILE/m.json"], "--out FILE/m.json: FILE is not a directory"),
    (["pcap", "mm-default-initiator", "--out", "/proc/x.pcap"], "--out /proc/x.pcap: cannot create /proc/x.pcap"),
    (["pcap", "mm-default-initiator", "--out", f"T/{LONG}.pcap"], "(File name too long)"),
], ids=lambda v: " ".join(v) if isinstance(v, list) else None)
def test_output_paths_are_checked_before_the_work(argv, problem, tmp_path, capsys, no_work):
    if argv[-1].startswith("/proc/") and not Path("/proc/self").exists():
        pytest.skip("no /proc here")
    file = tmp_path / "FILE"
    file.write_text("a file")

    def real(a: str) -> str:
        return a.replace("FILE", str(file)).replace("T/", f"{tmp_path}/")

    assert main([real(a) for a in argv]) == 2
    err = one_line(capsys.readouterr().err)
    assert real(problem) in err and err.startswith(f"ipsecmm {argv[0]}: ")
    assert file.read_text() == "a file" and sorted(p.name for p in tmp_path.iterdir()) == ["FILE"]


def test_a_failed_write_leaves_the_previous_output_and_no_temporary_file(tmp_path, capsys, monkeypatch):
    from ipsecmm import _files

    d = tmp_path / "v"
    assert vectors(d) == 0
    before = tree(d)
    real = _files._write_temporary
    calls = []

    def full(directory: Path, data: bytes) -> Path:
        calls.append(directory)
        if len(calls) == 5:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(directory, data)

    monkeypatch.setattr(_files, "_write_temporary", full)
    assert vectors(d, "--seed", "3") == 2  # another seed: every vector file would change
    err = one_line(capsys.readouterr().err)
    assert f"--out {d}: cannot write {d}/" in err and "(No space left on device)" in err
    assert tree(d) == before  # the old vectors, whole; no temporary file left


def test_an_error_inside_the_work_removes_what_was_written_and_the_new_directories(tmp_path):
    from ipsecmm._files import Output

    d = tmp_path / "a" / "b"
    with pytest.raises(RuntimeError), Output(d, ["test"], "ipsecmm test") as out:
        out.write("sub/x.json", "{}")
        raise RuntimeError("the work failed")
    assert not (tmp_path / "a").exists()


# --------------------------------------------------------------------------- 3. file modes


@pytest.fixture
def umask() -> Iterator[None]:
    old = os.umask(0o022)
    yield
    os.umask(old)


@pytest.mark.parametrize("verb", sorted(WRITERS))
def test_files_get_the_usual_modes(verb, tmp_path, capsys, umask):
    out = tmp_path / "out"
    assert main([*WRITERS[verb], str(out)]) == 0
    capsys.readouterr()
    paths = [out, *out.rglob("*")]
    assert len(paths) > 3
    for p in paths:
        want = 0o755 if p.is_dir() else 0o644
        assert stat.S_IMODE(p.stat().st_mode) == want, p
    os.umask(0o027)
    assert main([*WRITERS[verb], str(out)]) == 0
    capsys.readouterr()
    assert {stat.S_IMODE(p.stat().st_mode) for p in out.rglob("*") if p.is_file()} == {0o640}


# --------------------------------------------------------------------------- 4. file names from user input


def test_a_scenario_name_cannot_lead_out_of_the_output_directory(tmp_path, capsys):
    d = tmp_path / "deep" / "v"
    assert vectors(d, scenario=named(tmp_path, "x/../../escape")) == 0
    capsys.readouterr()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["deep", "named.toml"]
    assert sorted(p.name for p in (tmp_path / "deep").iterdir()) == ["v"]
    assert (d / "ikev2-x_.._.._escape-initiator.json").is_file()
    doc = json.loads((d / "ikev2-x_.._.._escape-initiator.json").read_text())
    assert doc["testGroups"][0]["scenario"]["scenario"]["name"] == "x/../../escape"  # the name itself is kept


def test_diagrams_file_names_from_a_scenario_name_stay_inside(tmp_path, capsys):
    d = tmp_path / "deep" / "d"
    assert main(["diagrams", "--no-svg", "--profile", "ikev2", "--scenario", str(named(tmp_path, "x/../../escape")),
                 "--out", str(d)]) == 0
    capsys.readouterr()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["deep", "named.toml"]
    assert (d / "states-x_.._.._escape-ikev2.dot").is_file()


def test_a_nul_byte_in_a_scenario_name_does_not_crash(tmp_path, capsys):
    d = tmp_path / "v"
    code = vectors(d, scenario=named(tmp_path, "a\x00b"))
    err = capsys.readouterr().err
    assert "Traceback" not in err
    if code == 0:
        assert (d / "ikev2-a_b-initiator.json").is_file()
    else:  # a loader that refuses control characters in names is fine too
        assert code == 2 and "scenario.name" in one_line(err)


@pytest.mark.parametrize("verb", ["vectors", "diagrams"])
def test_a_name_too_long_for_a_file_name_is_refused_before_the_work(verb, tmp_path, capsys, no_work):
    sc = named(tmp_path, "n" * 300)
    assert main([verb, "--profile", "ikev2", "--scenario", str(sc), "--out", str(tmp_path / "out")]) == 2
    err = one_line(capsys.readouterr().err)
    assert f"{sc}: scenario.name: 300 characters, too long to be part of a file name" in err
    assert not (tmp_path / "out").exists()


def test_two_scenarios_with_one_file_name_are_refused(tmp_path, capsys, no_work):
    a, b = named(tmp_path, "my case", "a.toml"), named(tmp_path, "my_case", "b.toml")
    assert main(["vectors", "--profile", "ikev2", "--scenario", str(a), "--scenario", str(b),
                 "--out", str(tmp_path / "out")]) == 2
    err = one_line(capsys.readouterr().err)
    assert f"{b}: scenario.name: my_case and \"my case\" of {a} give the same vector file names" in err
    assert not (tmp_path / "out").exists()


def test_a_scenario_named_like_a_built_in_one_the_vectors_use_is_refused(tmp_path, capsys, no_work):
    sc = named(tmp_path, "policy-case2")  # policy-case1's content under the name of a scenario the plans search
    assert vectors(tmp_path / "out", scenario=sc) == 2
    err = one_line(capsys.readouterr().err)
    assert f"{sc}: scenario.name: policy-case2 is the name of a built-in scenario" in err


def test_name_in_file_is_the_one_rule():
    from ipsecmm._files import FileNameError, name_in_file

    assert name_in_file("policy-case1") == "policy-case1"
    assert name_in_file("FIND-4.1-ORDER") == "FIND-4.1-ORDER"
    assert name_in_file("a/../b c\x00é") == "a_.._b_c__"
    for bad in ("", "x" * 101):
        with pytest.raises(FileNameError):
            name_in_file(bad)
    assert name_in_file("x" * 100) == "x" * 100


def test_run_file_names_go_through_the_rule(tmp_path):
    from types import SimpleNamespace

    from ipsecmm._files import Output
    from ipsecmm.cli import save_runs
    from ipsecmm.model import builtin_scenario
    from ipsecmm.properties import Run

    run = Run(builtin_scenario("policy-case1"), "ikev2", [], label="empty")
    report = SimpleNamespace(profiles=[SimpleNamespace(profile="ikev2", verdicts={
        "../../OUT": SimpleNamespace(runs=[run], status="holds")})])
    d = tmp_path / "deep" / "runs"
    with Output(d, ["check --profile ikev2"], "ipsecmm check") as out:
        paths = save_runs(report, out)
    assert paths == {("../../OUT", "ikev2"): ".._.._OUT.ikev2.json"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["deep"]
    assert (d / ".._.._OUT.ikev2.json").is_file() and (d / ".._.._OUT.ikev2.itf.json").is_file()


def test_output_error_is_a_one_line_message():
    from ipsecmm._files import Output, OutputError

    with pytest.raises(OutputError, match=r"^--out \S+: not a directory$"), Output(Path(__file__), ["x"], "ipsecmm x"):
        pass
