"""Conformance vectors: freshness, schema, coverage, distinctness, determinism."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from ipsecmm._files import owned_files
from ipsecmm.cli import main
from ipsecmm.gen._cli_vectors import DEFAULT_SCENARIOS
from ipsecmm.gen._conformance import VectorFileError, load_file, load_vectors, schema, vector_files
from ipsecmm.gen._vectors import generate, vector_id
from ipsecmm.model import Action, Kind, Reason, builtin_scenario

from conftest import ROOT, scenario

VECTORS = ROOT / "vectors"


@pytest.fixture(scope="module")
def fresh():
    """The canonical vectors generated now from the tables (about 40 s)."""
    return generate([builtin_scenario(n) for n in DEFAULT_SCENARIOS])


def committed() -> dict[str, str]:
    return {p.relative_to(VECTORS).as_posix(): p.read_text(encoding="utf-8") for p in sorted(VECTORS.rglob("*.json"))}


def vector_docs() -> list[tuple[Path, dict]]:
    return [(p, json.loads(p.read_text(encoding="utf-8"))) for p in vector_files(VECTORS)]


def test_committed_vectors_are_fresh(fresh):
    """`make vectors` (ipsecmm vectors --out vectors) after any model change."""
    have = committed()
    assert sorted(have) == sorted(fresh.files), "vector files added or removed: run `make vectors`"
    stale = [name for name in fresh.files if have[name] != fresh.files[name]]
    assert not stale, f"stale vector files: {stale[:5]}: run `make vectors`"
    # The manifest lets `make vectors` replace exactly these files next time.
    assert owned_files(VECTORS) == {"vectors --profile mm": sorted(fresh.files)}, "stale manifest: run `make vectors`"


def test_every_reachable_transition_reason_and_capability_has_a_vector(fresh):
    cov = fresh.coverage
    assert cov["complete"]
    for machine, t in cov["transitions"].items():
        assert t["covered"] == t["reachable"], machine
        assert t["total"] - t["reachable"] == len(t["unreachable"]), machine
        assert all(why and "exhaustive over" in why for why in t["unreachable"].values())
    assert cov["transitions"]["initiator"]["reachable"] >= 28
    assert cov["reasons"]["covered"] == cov["reasons"]["total"] == 16, cov["reasons"]["uncovered"]
    assert cov["requirements"]["covered"] == cov["requirements"]["total"], cov["requirements"]["uncovered"]
    assert cov["requirements"]["total"] >= 12


def test_coverage_summary_names_the_goals_each_vector_covers(fresh):
    docs = [json.loads(t) for n, t in fresh.files.items() if not n.startswith(("itf/", "coverage/"))]
    tests = [t for d in docs for g in d["testGroups"] for t in g["tests"]]
    covered = {c.split(" ", 1)[1] for t in tests for c in t["covers"] if c.startswith("row ")}
    for machine, t in fresh.coverage["transitions"].items():
        assert t["covered"] == sum(1 for c in covered if c.startswith(machine + ":"))
    assert fresh.coverage["vectors"] == len(tests)
    assert fresh.coverage["steps"] == sum(len(t["steps"]) for t in tests)


def test_schema_is_valid_and_its_enums_are_the_models():
    s = schema()
    jsonschema.Draft202012Validator.check_schema(s)
    d = s["$defs"]
    assert d["message"]["properties"]["kind"]["enum"] == [k.name for k in Kind if k != Kind.EMPTY]
    assert d["message"]["properties"]["reason"]["enum"] == [r.name for r in Reason]
    assert d["action"]["properties"]["action"]["enum"] == [a.name.lower() for a in Action]


def test_schema_validates_every_committed_file():
    validator = jsonschema.Draft202012Validator(schema())
    docs = vector_docs()
    assert len(docs) >= 10
    for path, doc in docs:
        errors = list(validator.iter_errors(doc))
        assert not errors, f"{path}: {errors[0].message}"
    cases = load_vectors(VECTORS)  # also reads every group's scenario back through the scenario loader
    assert len(cases) == sum(d["numberOfTests"] for _, d in docs)


def test_both_roles_and_both_results_are_present():
    roles = {g["role"] for _, d in vector_docs() for g in d["testGroups"]}
    results = {t["result"] for _, d in vector_docs() for g in d["testGroups"] for t in g["tests"]}
    assert roles == {"initiator", "responder"}
    assert results == {"valid", "invalid"}


def test_ids_are_unique_and_derived_from_the_content():
    seen = set()
    for _, doc in vector_docs():
        for g in doc["testGroups"]:
            sc = g["scenario"]
            for t in g["tests"]:
                # The id hashes the abstract steps: the bytes beside each message follow the seed's keys.
                steps = json.loads(json.dumps(t["steps"]), object_hook=lambda d: {k: v for k, v in d.items() if k != "hex"})
                body = {"scenario": sc["scenario"]["name"], "options": sc["options"], "profile": doc["profile"],
                        "role": g["role"], "steps": steps}
                assert t["id"] == vector_id(body)
                assert t["id"] not in seen
                seen.add(t["id"])


def test_no_vector_repeats_or_only_begins_another():
    for path, doc in vector_docs():
        for g in doc["testGroups"]:
            keys = [[json.dumps(s, sort_keys=True) for s in t["steps"]] for t in g["tests"]]
            for a, ka in enumerate(keys):
                for b, kb in enumerate(keys):
                    if a != b:
                        assert kb[: len(ka)] != ka, f"{path}: vector {a + 1} is a prefix of {b + 1}"


def test_every_vector_has_its_itf_trace():
    for _, doc in vector_docs():
        for g in doc["testGroups"]:
            for t in g["tests"]:
                trace = json.loads((VECTORS / t["trace"]).read_text(encoding="utf-8"))
                assert trace["#meta"]["format"] == "ITF"
                assert len(trace["states"]) >= len(t["steps"]) + 1
                assert all(st["action_taken"] != "init" for st in trace["states"][1:])


def test_generation_is_deterministic_and_ids_survive_a_new_seed():
    sc = scenario("fallback")
    a, b, c = generate([sc], seed=0), generate([sc], seed=0), generate([sc], seed=7)
    assert a.files == b.files
    assert a.files != c.files  # the seed draws the SPIs ...

    def ids(g):
        return sorted(t["id"] for n, text in g.files.items() if n.endswith("der.json") or n.endswith("tor.json")
                      for grp in json.loads(text)["testGroups"] for t in grp["tests"])

    assert ids(a) == ids(c)  # ... which are not part of a vector's identity


def test_pairs_coverage_adds_vectors(tmp_path, capsys):
    sc = str(ROOT / "scenarios" / "fallback.toml")
    assert main(["vectors", "--scenario", sc, "--out", str(tmp_path / "t")]) == 0
    plain = json.loads((tmp_path / "t" / "coverage" / "mm.json").read_text())
    assert main(["vectors", "--scenario", sc, "--coverage", "pairs", "--out", str(tmp_path / "p")]) == 0
    out = capsys.readouterr().out
    pairs = json.loads((tmp_path / "p" / "coverage" / "mm.json").read_text())
    assert pairs["pairs"]["covered"] > 0 and plain["pairs"] is None
    assert pairs["vectors"] > plain["vectors"]
    assert "initiator transitions: " in out and "refusal reasons: " in out and "transition pairs: " in out and " vectors, " in out


@pytest.mark.parametrize("argv, needle", [
    (["vectors", "--out", "X", "--coverage", "triples"], "invalid choice: 'triples'"),
    (["vectors", "--scenario", "nope.toml", "--out", "X"], "nope.toml: no such file"),
    (["vectors"], "the following arguments are required: --out"),
    (["vectors", "--scenario", "scenarios/fallback.toml", "--scenario", "scenarios/fallback.toml", "--out", "X"],
     "scenarios/fallback.toml: scenario.name: fallback is also the name of scenarios/fallback.toml"),
])
def test_vectors_bad_arguments(argv, needle, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    argv = [str(tmp_path / "out") if a == "X" else a for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert needle in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_vectors_out_must_be_a_directory(tmp_path, capsys):
    f = tmp_path / "file"
    f.write_text("")
    assert main(["vectors", "--out", str(f)]) == 2
    assert "not a directory" in capsys.readouterr().err


def _broken(tmp_path: Path, edit) -> Path:
    src = VECTORS / "mm-fallback-responder.json"
    doc = json.loads(src.read_text())
    edit(doc)
    path = tmp_path / src.name
    path.write_text(json.dumps(doc) if not isinstance(doc, str) else doc)
    return path


@pytest.mark.parametrize("edit, key, problem", [
    (lambda d: d["testGroups"][0]["tests"][0].update(result="maybe"), "testGroups[0].tests[0].result", "'maybe' is not one of"),
    (lambda d: d["testGroups"][0]["tests"][0]["steps"][0].pop("expect"), "testGroups[0].tests[0].steps[0]", "'expect' is a required"),
    (lambda d: d["testGroups"][0]["scenario"]["sa"][0].update(mode="bus"), "testGroups[0].scenario.sa[0].mode", "'bus' is not one of"),
    (lambda d: d["testGroups"][0]["scenario"]["ike"].update(i_addrs=["zz"]), "testGroups[0].scenario.ike.i_addrs[0]", "not declared"),
])
def test_bad_vector_files_name_the_key(tmp_path, edit, key, problem):
    path = _broken(tmp_path, edit)
    with pytest.raises(VectorFileError) as exc:
        load_file(path)
    assert exc.value.file == str(path)
    assert exc.value.key == key
    assert problem in exc.value.problem


def test_a_file_that_is_not_json_names_the_line(tmp_path):
    path = tmp_path / "v.json"
    path.write_text('{"a": 1,\n  oops}')
    with pytest.raises(VectorFileError) as exc:
        load_file(path)
    assert exc.value.key == "line 2 column 3" and "not valid JSON" in exc.value.problem
