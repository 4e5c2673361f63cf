"""The conformance suite: the reference passes, every seeded fault is caught,
the command and the pytest plugin report failures usefully, bad input is refused."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ipsecmm.cli import main
from ipsecmm.gen import ReferenceAdapter
from ipsecmm.gen._conformance import load_vectors, run_case

import faults
from conftest import ROOT

VECTORS = ROOT / "vectors"


@pytest.fixture(scope="module")
def cases():
    return load_vectors(VECTORS)


def test_the_reference_adapter_passes_every_vector(cases):
    adapter = ReferenceAdapter()
    failures = [mm.render() for c in cases if (mm := run_case(adapter, c)) is not None]
    assert len(cases) > 400
    assert not failures, failures[0]


def test_the_reference_passes_every_vector_through_the_wire(cases):
    adapter = ReferenceAdapter(wire=True)
    failures = [mm.render() for c in cases if (mm := run_case(adapter, c)) is not None]
    assert not failures, failures[0]


def _flip(d):
    d["hex"] = d["hex"][:-2] + ("00" if d["hex"][-2:] != "00" else "01")


def test_through_the_wire_a_vectors_bytes_must_be_the_codecs(cases):
    import copy

    case = copy.deepcopy(next(c for c in cases if c.test["steps"][0]["expect"]["sends"]))
    _flip(case.test["steps"][0]["expect"]["sends"][0])
    assert run_case(ReferenceAdapter(), case) is None  # an adapter that reports no bytes is compared in abstract form
    mm = run_case(ReferenceAdapter(wire=True), case)
    assert mm is not None and (mm.step, mm.what) == (1, "sends")
    case = copy.deepcopy(next(c for c in cases if c.test["steps"][0]["actor"] == "tester"))
    _flip(case.test["steps"][0]["input"]["deliver"])
    assert run_case(ReferenceAdapter(), case) is None
    mm = run_case(ReferenceAdapter(wire=True), case)
    assert mm is not None and mm.what == "error" and "not the encoding of its" in mm.actual


def test_there_are_at_least_ten_seeded_faults():
    assert len(faults.FAULTS) >= 10


@pytest.mark.parametrize("name", sorted(faults.FAULTS))
def test_every_seeded_fault_fails_a_vector(cases, name):
    adapter = faults.FAULTS[name]()
    assert any(run_case(adapter, c) is not None for c in cases), f"fault {name} passes every vector"


def test_a_failure_names_the_step_and_diffs_the_snapshot(cases):
    adapter = faults.FAULTS["check_changes_state"]()
    mm = next(m for c in cases if (m := run_case(adapter, c)) is not None and m.what == "sad")
    text = mm.render()
    assert mm.case.id in text and f"step {mm.step} of" in text
    assert "sad differ:" in text and "--- expected" in text and "+++ actual" in text
    assert any(line.startswith("    -") for line in text.splitlines())


def _cli(*argv: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "tests")}
    return subprocess.run([sys.executable, "-m", "ipsecmm", *argv], capture_output=True, text=True, cwd=cwd, env=env,
                          timeout=600)


def test_conformance_command_runs_the_reference_as_pytest(cases):
    r = _cli("conformance")
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    assert f"{len(cases)} passed" in r.stdout


def test_conformance_command_reports_a_faulty_implementation():
    r = _cli("conformance", "--sut", "faults:never_retransmits", "--", "-x", "-k", "initiator")
    assert r.returncode == 1
    out = r.stdout
    assert "FAILED" in out and "timer {\"timer\":\"retransmission\"}" in out
    assert "sends differ:" in out and "+[]" in out
    failed = next(ln for ln in out.splitlines() if ln.startswith("FAILED"))
    assert "mm-" in failed and "::" in failed  # tests are named file::vector id


def test_conformance_mutants_table():
    r = _cli("conformance", "--mutants")
    assert r.returncode == 0, r.stdout + r.stderr
    from ipsecmm.properties import MUTANTS

    assert f"{len(MUTANTS)} of {len(MUTANTS)} faults caught" in r.stdout
    assert "skip-pad" in r.stdout and "NONE" not in r.stdout


def test_pytest_plugin_works_without_the_command(tmp_path):
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "ipsecmm.gen.pytest_plugin",
                        "--ipsecmm-sut", "faults:wrong_reason", "-p", "no:cacheprovider", "-c", os.devnull,
                        "--rootdir", str(tmp_path), str(VECTORS / "mm-reasons-responder.json")],
                       capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT / "tests")},
                       cwd=tmp_path, timeout=600)
    assert r.returncode == 1
    assert "failed" in r.stdout and "passed" in r.stdout


@pytest.mark.parametrize("argv, needle", [
    (["conformance", "--vectors", "no-such-dir"], "no-such-dir: no such directory"),
    (["conformance", "--sut", "nonsense"], "expected package.module:factory"),
    (["conformance", "--sut", "no_such_module_x:f"], "cannot import no_such_module_x"),
    (["conformance", "--sut", "faults:nothing_here"], "faults has no attribute nothing_here"),
])
def test_conformance_bad_arguments(argv, needle, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert needle in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_conformance_refuses_a_broken_vector_file(tmp_path, capsys):
    for src in sorted(VECTORS.glob("mm-fallback-*.json")):
        (tmp_path / src.name).write_text(src.read_text())
    doc = json.loads((tmp_path / "mm-fallback-responder.json").read_text())
    doc["testGroups"][0]["tests"][1]["steps"][0]["actor"] = "martian"
    (tmp_path / "mm-fallback-responder.json").write_text(json.dumps(doc))
    assert main(["conformance", "--vectors", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "mm-fallback-responder.json: testGroups[0].tests[1].steps[0].actor: martian is not one of" in err


def test_sut_may_name_an_adapter_file(tmp_path, capsys):
    (tmp_path / "helper_mod_for_sut.py").write_text("from ipsecmm.gen import reference as make\n")
    (tmp_path / "my_adapter.py").write_text("from helper_mod_for_sut import make  # a neighbour module\n")
    (tmp_path / "broken_adapter.py").write_text('raise RuntimeError("boom\\nagain")\n')
    vectors = tmp_path / "vectors"
    vectors.mkdir()
    (vectors / "v.json").write_bytes((VECTORS / "mm-fallback-initiator.json").read_bytes())
    assert main(["conformance", "--sut", f"{tmp_path / 'my_adapter.py'}:make", "--vectors", str(vectors)]) == 0
    assert " passed" in capsys.readouterr().out
    assert main(["conformance", "--sut", f"{tmp_path / 'broken_adapter.py'}:make"]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.endswith("broken_adapter.py raised RuntimeError: boom again")
    assert main(["conformance", "--sut", f"{tmp_path / 'absent.py'}:make"]) == 2
    assert "absent.py: no such file" in capsys.readouterr().err
