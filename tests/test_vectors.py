"""Conformance vectors: freshness, schema, coverage, distinctness, determinism."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from ipsecmm._files import owned_files
from ipsecmm.cli import main
from ipsecmm.gen._conformance import VectorFileError, is_vector_file, load_file, load_vectors, schema, vector_files
from ipsecmm.gen._vectors import SCHEMA_ID, generate, summary_rows, vector_id
from ipsecmm.model import Action, Kind, Model, Reason, builtin_scenario, get_profile

from conftest import ROOT, scenario

VECTORS = ROOT / "vectors"


@pytest.fixture(scope="module")
def fresh(fresh_vectors):
    return fresh_vectors


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


def test_no_mutants_leaves_out_the_mutation_search_and_its_vectors(tmp_path, capsys):
    sc = str(ROOT / "scenarios" / "fallback.toml")
    assert main(["vectors", "--scenario", sc, "--out", str(tmp_path / "m"), "--jobs", "1"]) == 0
    with_mutants = capsys.readouterr().out
    assert main(["vectors", "--scenario", sc, "--out", str(tmp_path / "n"), "--no-mutants"]) == 0
    without = capsys.readouterr().out
    full = json.loads((tmp_path / "m" / "coverage" / "mm.json").read_text())
    bare = json.loads((tmp_path / "n" / "coverage" / "mm.json").read_text())
    assert "mutation score: " in with_mutants and "mutation score" not in without
    assert bare["mutants"] is None and full["mutants"]["vectors"] > 0
    assert full["vectors"] > bare["vectors"]
    # the rows, reasons and capabilities are the same either way
    assert {k: full[k] for k in ("transitions", "reasons", "requirements")} == \
        {k: bare[k] for k in ("transitions", "reasons", "requirements")}


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
    (lambda d: d["testGroups"][0]["tests"][0].update(result="maybe"), "testGroups[0].tests[0].result", "maybe is not one of"),
    (lambda d: d["testGroups"][0]["tests"][0]["steps"][0].pop("expect"), "testGroups[0].tests[0].steps[0].expect", "missing required key"),
    (lambda d: d["testGroups"][0]["scenario"]["sa"][0].update(mode="bus"), "testGroups[0].scenario.sa[0].mode", "bus is not one of"),
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


# --------------------------------------------------------------------------- what the schema cannot say (issue 9)


def copy_with_traces(tmp_path: Path, name: str, edit=None, traces: bool = True) -> Path:
    """``vectors/NAME.json`` copied into ``tmp_path`` (with the ITF traces it
    names, in an itf/ folder), edited by ``edit``."""
    doc = json.loads((VECTORS / f"{name}.json").read_text())
    tmp_path.mkdir(parents=True, exist_ok=True)
    if traces:
        (tmp_path / "itf").mkdir(exist_ok=True)
        for g in doc["testGroups"]:
            for t in g["tests"]:
                (tmp_path / t["trace"]).write_bytes((VECTORS / t["trace"]).read_bytes())
    if edit is not None:
        before = json.dumps(doc)
        edit(doc)
        assert json.dumps(doc) != before, "the edit changed nothing"
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(doc, indent=1, sort_keys=True))
    return path


def vectors_of(doc):
    return doc["testGroups"][0]["tests"]


def step(doc, actor: str, has: str = "", expect_sends: bool = False):
    """The first step of ``actor`` (whose input has key ``has``, whose expected sends are not empty)."""
    return next(st for t in vectors_of(doc) for st in t["steps"] if st["actor"] == actor
                and (not has or has in st["input"]) and (st["expect"]["sends"] or not expect_sends))


def delivered(doc, has: str = ""):
    return next(st["input"]["deliver"] for t in vectors_of(doc) for st in t["steps"]
                if st["actor"] == "tester" and (not has or has in st["input"]["deliver"]))


def flip(value: str) -> str:
    return "invalid" if value == "valid" else "valid"


T0 = "testGroups[0].tests[0]"
BAD_VECTORS = {
    "numberOfTests": ("mm-fallback-initiator", lambda d: d.update(numberOfTests=d["numberOfTests"] + 1),
                      "numberOfTests", "8, but the file holds 7 vectors"),
    "an edited id": ("mm-fallback-initiator", lambda d: vectors_of(d)[0].update(id="0123456789abcdef"),
                     f"{T0}.id", "0123456789abcdef is not the hash of the vector's content"),
    "an edited step under its old id": ("mm-fallback-initiator",
                                        lambda d: vectors_of(d)[0]["steps"][0]["expect"]["sad"]["ike"].update(keys=7),
                                        f"{T0}.id", "is not the hash of the vector's content"),
    "a tcId out of place": ("mm-fallback-initiator", lambda d: vectors_of(d)[1].update(tcId=1),
                            "testGroups[0].tests[1].tcId", "1, but it is vector 2 of its group"),
    "an unknown requirement": ("mm-fallback-initiator", lambda d: vectors_of(d)[0].update(requirements=["MOB-NOPE"]),
                               f"{T0}.requirements[0]", "MOB-NOPE is not a requirement ID"),
    "a missing trace": ("mm-fallback-initiator", lambda d: vectors_of(d)[0].update(trace="itf/0000000000000000.itf.json"),
                        f"{T0}.trace", "itf/0000000000000000.itf.json is missing beside the vector file"),
    "a flipped result": ("mm-fallback-initiator", lambda d: vectors_of(d)[0].update(result=flip(vectors_of(d)[0]["result"])),
                         f"{T0}.result", "but the last step makes it"),
    "wrong reasons": ("mm-fallback-initiator", lambda d: vectors_of(d)[0].update(reasons=["PAD"]),
                      f"{T0}.reasons", '["PAD"], but the steps\' refusals are'),
    "an unknown row covered": ("mm-fallback-initiator", lambda d: vectors_of(d)[0].update(covers=["row initiator:NAP:x#0"]),
                               f"{T0}.covers[0]", '"row initiator:NAP:x#0" names no row of the mm tables'),
    "SPIs of another scenario": ("mm-fallback-initiator", lambda d: d["testGroups"][0]["spis"].update(mail=d["testGroups"][0]["spis"]["web"]),
                                 "testGroups[0].spis", "the scenario's CHILD_SAs are"),
    "another schema": ("mm-fallback-initiator", lambda d: d.update({"$schema": "https://example.org/v.json"}),
                       '"$schema"', f"https://example.org/v.json is not {SCHEMA_ID}"),
    # names and IPs a step uses must be the scenario's: an adapter would otherwise fail on the vector
    "a user action on an undefined SA": ("mm-fallback-initiator", lambda d: step(d, "user", "sa")["input"].update(sa="mail"),
                                         ".input.sa", "mail is not one of: ike, web"),
    "a user action with an undefined address": ("mm-fallback-initiator",
                                                lambda d: step(d, "user", "new")["input"].update(new="a9"),
                                                ".input.new", "a9 is not one of"),
    "a delivered message naming an undefined SA": ("mm-fallback-responder", lambda d: delivered(d, "sa").update(sa="mail"),
                                                   ".input.deliver.sa", "mail is not an SA of the scenario"),
    "a delivered message from an undefined IP": ("mm-fallback-responder",
                                                 lambda d: delivered(d).update(src="192.0.2.99"),
                                                 ".input.deliver.src", "192.0.2.99 is not an IP address of the scenario"),
    "a delivered message naming an IP by another spelling": (
        "mm-default-responder", lambda d: next(m for t in vectors_of(d) for st in t["steps"] if st["actor"] == "tester"
                                               for m in [st["input"]["deliver"]] if m.get("new") == "2001:db8:1::3")
        .update(new="2001:DB8:1::3"), ".input.deliver.new", "2001:DB8:1::3 is not an IP address of the scenario"),
    "an expected message to an undefined IP": ("mm-fallback-responder",
                                               lambda d: step(d, "tester", expect_sends=True)["expect"]["sends"][0].update(dst="198.51.100.99"),
                                               ".expect.sends[0].dst", "198.51.100.99 is not an IP address of the scenario"),
    "an expected SAD entry of an undefined SA": ("mm-fallback-responder",
                                                 lambda d: step(d, "tester")["expect"]["sad"].update(mail={"state": "active", "keys": 0}),
                                                 ".expect.sad.mail", "mail is not an SA of the scenario"),
    "an expected SAD with an undefined address": ("mm-fallback-responder",
                                                  lambda d: step(d, "tester")["expect"]["sad"]["ike"].update(i=["a9"]),
                                                  ".expect.sad.ike.i[0]", "address a9 is not in the scenario"),
    "an interface of the tester": ("mm-default-initiator", lambda d: step(d, "network", "interface")["input"].update(interface="198.51.100.1"),
                                   ".input.interface", "198.51.100.1 is not one of the implementation's IP addresses"),
    "a dead address of the implementation": ("mm-default-responder", lambda d: step(d, "network", "dead")["input"].update(dead=["198.51.100.1"]),
                                             ".input.dead[0]", "198.51.100.1 is not one of the tester's IP addresses"),
    # a delivered message must be what the model sends for it
    "a notify that does not fit the kind": ("mm-fallback-responder", lambda d: delivered(d).update(notify="MM_BOGUS"),
                                            ".input.deliver.notify", "MM_BOGUS does not fit a"),
    "an exchange that does not fit the kind": ("mm-fallback-responder",
                                               lambda d: delivered(d, "sa").update(exchange="CREATE_CHILD_SA" if delivered(d, "sa")["exchange"] == "INFORMATIONAL" else "INFORMATIONAL"),
                                               ".input.deliver.exchange", "does not fit a"),
    "a request with a reason": ("mm-fallback-responder", lambda d: delivered(d, "sa").update(reason="PAD"),
                                ".input.deliver.reason", "request has no reason"),
    "an expected notify that does not fit": ("mm-fallback-responder",
                                             lambda d: step(d, "tester", expect_sends=True)["expect"]["sends"][0].update(notify="COOKIE2"),
                                             ".expect.sends[0].notify", "COOKIE2 does not fit a"),
    # the bytes beside a message must be that message under the group's keys
    "bytes that are not the message": ("mm-fallback-responder",
                                       lambda d: delivered(d).update(hex=delivered(d)["hex"][:-2] + ("00" if delivered(d)["hex"][-2:] != "00" else "01")),
                                       ".input.deliver.hex", "not the encoding of this"),
    "expected bytes that are not the message": ("mm-fallback-responder",
                                                lambda d: step(d, "tester", expect_sends=True)["expect"]["sends"][0].update(hex="00" * 40),
                                                ".expect.sends[0].hex", "not the encoding of this"),
    # keys are quoted
    "a key with a newline": ("mm-fallback-initiator", lambda d: vectors_of(d)[0].update({"a\nb": 1}),
                             f'{T0}."a\\nb"', "unknown key"),
}


@pytest.mark.parametrize("case", sorted(BAD_VECTORS))
def test_vector_file_is_checked_beyond_the_schema(tmp_path, case):
    name, edit, key, problem = BAD_VECTORS[case]
    path = copy_with_traces(tmp_path, name, edit)
    with pytest.raises(VectorFileError) as exc:
        load_file(path)
    assert exc.value.file == str(path)
    assert key in exc.value.key and problem in exc.value.problem, str(exc.value)
    assert "\n" not in str(exc.value)


def test_traces_are_checked_when_an_itf_folder_is_there(tmp_path):
    def drop(d):
        d["testGroups"][0]["tests"][0]["trace"] = "itf/0123456789abcdef.itf.json"

    with pytest.raises(VectorFileError, match=r"itf/0123456789abcdef\.itf\.json is missing beside the vector file"):
        load_file(copy_with_traces(tmp_path / "with", "mm-fallback-initiator", drop))
    # vector files copied without their traces still load
    assert len(load_file(copy_with_traces(tmp_path / "without", "mm-fallback-initiator", drop, traces=False))) == 7


@pytest.mark.parametrize("text, key, problem", [
    (b'{"a": \xff}', "", "not UTF-8 text (byte 0xff at offset 6)"),
    (b"[" * 5000 + b"]" * 5000, "", "nested more than 32 levels deep"),
    (b'{"notes": ' + b"[" * 400 + b"]" * 400 + b"}", "notes[0]", "nested more than 32 levels deep"),
    (b'{"numberOfTests": 1, "numberOfTests": 2}', "numberOfTests", "the key appears twice in one object"),
    (b'{"numberOfTests": Infinity}', "numberOfTests", "Infinity is not a number JSON allows"),
    (b'{"notes": {"x": "\\udfff"}}', "notes.x", "a string holds a lone surrogate"),
])
def test_vector_file_bytes(tmp_path, text, key, problem):
    path = tmp_path / "v.json"
    path.write_bytes(text)
    with pytest.raises(VectorFileError) as exc:
        load_file(path)
    assert exc.value.key.startswith(key) and problem in exc.value.problem, str(exc.value)


def test_schema_id_is_the_one_files_name():
    assert schema()["$id"] == SCHEMA_ID == schema()["properties"]["$schema"]["const"]


def test_a_vector_file_is_known_by_its_schema_not_its_first_bytes(tmp_path):
    src = VECTORS / "mm-fallback-initiator.json"
    doc = json.loads(src.read_text())
    # the same vectors with $schema last: an editor or another generator may write keys in any order
    moved = {k: v for k, v in doc.items() if k != "$schema"} | {"$schema": doc["$schema"]}
    (tmp_path / src.name).write_text(json.dumps(moved, indent=1))
    (tmp_path / "other.json").write_text(json.dumps({"name": "not a vector file", "$schema": "https://example.org"}))
    assert is_vector_file(tmp_path / src.name) and not is_vector_file(tmp_path / "other.json")
    assert vector_files(tmp_path) == [tmp_path / src.name]
    (tmp_path / "broken.json").write_text(src.read_text()[:500])  # names the schema but does not parse
    assert is_vector_file(tmp_path / "broken.json")


def test_the_plugin_collects_a_vector_file_whose_schema_comes_last(tmp_path, capsys):
    src = VECTORS / "mm-fallback-initiator.json"
    doc = json.loads(src.read_text())
    moved = {k: v for k, v in doc.items() if k != "$schema"} | {"$schema": doc["$schema"]}
    (tmp_path / src.name).write_text(json.dumps(moved, indent=1))
    assert main(["conformance", "--vectors", str(tmp_path)]) == 0
    assert "7 passed" in capsys.readouterr().out


def test_a_vector_naming_an_undefined_sa_is_bad_input_not_a_failing_implementation(tmp_path, capsys):
    copy_with_traces(tmp_path, "mm-fallback-initiator", lambda d: step(d, "user", "sa")["input"].update(sa="mail"))
    assert main(["conformance", "--vectors", str(tmp_path)]) == 2
    captured = capsys.readouterr()
    assert "adapter raised" not in captured.out + captured.err
    (line,) = captured.err.splitlines()
    assert line.startswith("ipsecmm conformance: ") and ".input.sa: mail is not one of: ike, web" in line


def test_field_classes_of_a_request():
    """The data goals' classes, on the default scenario's first world: the
    responder judges an UPDATE of `web` from the initiator, whose current
    address there is a1 (v4)."""
    from ipsecmm.gen._vectors import field_classes

    sc = builtin_scenario("default")
    m = Model(sc, get_profile("mm", sc.options))
    ps = m.initial().peers[1]
    web = sc.slot_index("web")
    a = {x.name: k for k, x in enumerate(sc.addresses)}
    got = dict(field_classes(m, ps, 0, web, {"old": a["a1"]}, {}))
    assert field_classes(m, ps, 0, web, {"old": a["a1"], "new": a["a3"]}, {}) == [
        ("old", "whose=own"), ("old", "family=same"), ("old", "set=current"),
        ("new", "whose=own"), ("new", "family=other"), ("new", "set=absent")]
    assert got["old"] == "set=current"
    # an address the sender does not own (the responder's r1), and lists
    assert ("new", "whose=peer's") in field_classes(m, ps, 0, web, {"new": a["r1"]}, {})
    assert field_classes(m, ps, 0, web, {}, {"addresses": 1 << a["a1"] | 1 << a["a2"]}) == [
        ("addresses", "size=several"), ("addresses", "overlap=current")]
    assert field_classes(m, ps, 0, web, {}, {"addresses": 0}) == [("addresses", "size=empty"), ("addresses", "overlap=none")]


def test_every_field_class_carried_has_a_vector_or_a_reason(fresh):
    from ipsecmm.gen._vectors import FIELD_CLASSES, is_data_name

    d = fresh.coverage["data"]
    docs = [json.loads(t) for n, t in fresh.files.items() if not n.startswith(("itf/", "coverage/"))]
    covered = {c.split(" ", 1)[1] for doc in docs for g in doc["testGroups"] for t in g["tests"] for c in t["covers"]
               if c.startswith("data ")}
    assert d["covered"] == len(covered) and d["total"] == d["covered"] + len(d["uncovered"])
    assert all(is_data_name(n) for n in covered | set(d["uncovered"]))
    assert not covered & set(d["uncovered"])
    # every (role, kind, field) carried has each of its classes either covered or listed
    keys = {n.rsplit(":", 1)[0] for n in covered}
    for key in keys:
        kind = "list" if key.endswith(".addresses") else "address"
        assert {f"{key}:{c}" for c in FIELD_CLASSES[kind]} <= covered | set(d["uncovered"]), key
    # what a conforming peer never sends stays uncovered, and says so
    assert "responder:UPDATE.new:whose=peer's" in d["uncovered"]
    assert "responder:SET_ALT.addresses:size=several" in covered
    assert "field classes" in dict(summary_rows(fresh.coverage))
