"""Run files (``ipsecmm check --runs``, read by ``diagrams --run``): one strict
reader, with the scenario loader's checks of bounds and options; bad input gets
one line naming the file and the key, exit code 2, whatever the bytes."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from ipsecmm.cli import main
from ipsecmm.model import Action, Model, default_scenario
from ipsecmm.properties import Run
from ipsecmm.properties._runs import RunFileError, load_runs

from helpers import act, deliver


@pytest.fixture(scope="module")
def saved() -> dict:
    """A verdict's file as ``ipsecmm check`` writes it, holding one run."""
    sc = default_scenario()
    m = Model(sc, "mm")
    run = Run(sc, "mm", [act(m, Action.UPDATE, "web", "a1", "a2"), deliver(0), deliver(1), deliver(0), deliver(1)],
              label="update via return routability", extra={"trigger_step": 5})
    return {"requirement": "INV-RR", "profile": "mm", "status": "holds", "runs": [run.to_json()]}


def run0(d: dict) -> dict:
    return d["runs"][0]


def first(d: dict, kind: str) -> dict:
    return next(x for x in run0(d)["inputs"] if x["input"] == kind)


BAD = {
    "not a run": (lambda d: run0(d).update(format="ipsecmm-run/0"), "runs[0]: not an ipsecmm run"),
    "no scenario": (lambda d: run0(d).pop("scenario"), "runs[0].scenario: missing required key"),
    "unknown key": (lambda d: run0(d).update(colour="red"), "runs[0].colour: unknown key"),
    "unknown top-level key": (lambda d: d.update(colour="red"), "colour: unknown key"),
    "unknown mutant": (lambda d: run0(d).update(mutant="no-such-fault"), "runs[0].mutant: no-such-fault is no mutant of mm"),
    "unknown profile": (lambda d: run0(d).update(profile="ipv9"), "runs[0].profile: ipv9 is not one of"),
    "unknown requirement": (lambda d: d.update(requirement="INV-NOPE"), "requirement: INV-NOPE is not a requirement ID"),
    "unknown status": (lambda d: d.update(status="fine"), "status: fine is not one of"),
    "no runs": (lambda d: d.update(runs=[]), "runs: holds no run"),
    "an input that is not an object": (lambda d: run0(d)["inputs"].__setitem__(1, 7),
                                       "runs[0].inputs[1]: expected a table, got an integer"),
    "inputs that are not a list": (lambda d: run0(d).update(inputs={}), "runs[0].inputs: expected a list"),
    "unknown input kind": (lambda d: run0(d)["inputs"][1].update(input="teleport"),
                           "runs[0].inputs[1].input: teleport is not one of"),
    "a key of another input kind": (lambda d: first(d, "deliver").update(address="a1"),
                                    "runs[0].inputs[1].address: unknown key"),
    "a delivery index past the channel": (lambda d: first(d, "deliver").update(index=1),
                                          "runs[0].inputs[1].index: 1 is out of range"),
    "a negative delivery index": (lambda d: first(d, "deliver").update(index=-1),
                                  "runs[0].inputs[1].index: -1 is out of range"),
    "an index that is a string": (lambda d: first(d, "deliver").update(index="0"),
                                  "runs[0].inputs[1].index: expected an integer, got a string"),
    "an unknown SA": (lambda d: first(d, "act").update(sa="mail"), "runs[0].inputs[0].sa: mail is not one of"),
    "an unknown address": (lambda d: first(d, "act").update(new="a9"), "runs[0].inputs[0].new: a9 is not one of"),
    "an unknown peer": (lambda d: first(d, "act").update(peer="X"), "runs[0].inputs[0].peer: X is not one of"),
    "an action in capitals": (lambda d: first(d, "act").update(action="UPDATE"),
                              "runs[0].inputs[0].action: UPDATE is not one of"),
    "a repeated address": (lambda d: first(d, "act").update(addrs=["a2", "a2"]),
                           "runs[0].inputs[0].addrs[1]: address a2 is listed twice"),
    "an input the model does not take": (lambda d: first(d, "act").update(old="a2", new="a1"),
                                         "runs[0].inputs[3]: step 4 (net: deliver I→R: EMPTY mid=0 [-→-]) is not taken"),
    "channel 0": (lambda d: run0(d)["bounds"].update(channel=0), "runs[0].bounds.channel: 0 is out of range (1 to 3)"),
    "channel true": (lambda d: run0(d)["bounds"].update(channel=True),
                     "runs[0].bounds.channel: expected an integer, got a boolean"),
    "requests a list": (lambda d: run0(d)["bounds"].update(requests=[]),
                        "runs[0].bounds.requests: expected an integer, got a list"),
    "requests 1.5": (lambda d: run0(d)["bounds"].update(requests=1.5),
                     "runs[0].bounds.requests: expected an integer, got a number"),
    "a huge bound": (lambda d: run0(d)["bounds"].update(channel=10 ** 12),
                     "runs[0].bounds.channel: 1000000000000 is out of range (1 to 3)"),
    "an unknown bound": (lambda d: run0(d)["bounds"].update(speed=3), "runs[0].bounds.speed: unknown key"),
    "an unknown action bound": (lambda d: run0(d)["bounds"].update(actions=["\u017fet_alt"]),
                                'runs[0].bounds.actions[0]: "\\u017fet_alt" is not an action'),
    "an option outside its choices": (lambda d: run0(d)["options"].update(failover="some"),
                                      "runs[0].options.failover: some is not one of: all, any"),
    "an option of the wrong type": (lambda d: run0(d)["options"].update(apply_early="true"),
                                    "runs[0].options.apply_early: true is not one of: false, true"),
    "an unknown option": (lambda d: run0(d)["options"].update(colour=1), "runs[0].options.colour: unknown key"),
    "a label that is not text": (lambda d: run0(d).update(label=3), "runs[0].label: expected a string"),
    "a trigger step past the run": (lambda d: run0(d)["extra"].update(trigger_step=9),
                                    "runs[0].extra.trigger_step: 9 is out of range"),
    "a scenario path": (lambda d: run0(d).update(scenario="../scenarios/default"),
                        'runs[0].scenario: ../scenarios/default is not a built-in scenario'),
    "a key with a newline": (lambda d: run0(d).update({"a\nb": 1}), 'runs[0]."a\\nb": unknown key'),
}


def draw(tmp_path: Path, capsys, text: bytes, *extra: str) -> str:
    f = tmp_path / "run.json"
    f.write_bytes(text)
    assert main(["diagrams", "--run", str(f), "--out", str(tmp_path / "out"), "--no-svg", *extra]) == 2
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert len(lines) == 1 and "Traceback" not in captured.err, captured.err
    assert lines[0].startswith(f"ipsecmm diagrams: --run {f}: ")
    assert not (tmp_path / "out").exists()
    return lines[0]


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_run_file_gets_one_line_naming_the_key(tmp_path, capsys, saved, case):
    edit, expected = BAD[case]
    doc = copy.deepcopy(saved)
    edit(doc)
    assert json.dumps(doc) != json.dumps(saved)
    assert expected in draw(tmp_path, capsys, json.dumps(doc).encode())


@pytest.mark.parametrize("text, expected", [
    (b'{"runs": [\xff]}', "not UTF-8 text (byte 0xff at offset 10)"),
    (b"[" * 400 + b"]" * 400, "nested more than 32 levels deep"),
    (b"[" * 5000 + b"]" * 5000, "nested more than 32 levels deep"),
    (b'{"runs": [], "runs": [1]}', "runs: the key appears twice in one object"),
    (b'{"runs": [NaN]}', "runs[0]: NaN is not a number JSON allows"),
    (b'{"runs": [' + b"9" * 5000 + b"]}", "runs[0]: a number of 5000 digits is far too large"),
    (b'{"format": "ipsecmm-run/1", "label": "\\ud800"}', "label: a string holds a lone surrogate"),
    (b'"just a string"', "(top level): not an ipsecmm run"),
])
def test_run_file_bytes_that_are_no_run(tmp_path, capsys, text, expected):
    assert expected in draw(tmp_path, capsys, text)


def test_a_run_of_another_scenario_than_the_one_given(tmp_path, capsys, saved):
    line = draw(tmp_path, capsys, json.dumps(saved).encode(), "--scenario", "scenarios/fallback.toml")
    assert "runs[0].scenario: the run is of scenario default, the scenario given is fallback" in line


def test_the_reader_keeps_what_the_file_says_and_refuses_a_missing_file(tmp_path, saved):
    doc = copy.deepcopy(saved)
    run0(doc)["options"]["failover"] = "any"
    run0(doc)["bounds"]["retransmits"] = 3
    f = tmp_path / "run.json"
    f.write_text(json.dumps(doc))
    (run,) = load_runs(f)
    assert run.scenario.options.failover == "any" and run.scenario.bounds.retransmits == 3
    assert run.label == "update via return routability" and run.extra == {"trigger_step": 5}
    assert run.to_json() == run0(doc)
    with pytest.raises(RunFileError) as exc:
        load_runs(tmp_path / "missing.json")
    assert str(exc.value) == f"{tmp_path / 'missing.json'}: no such file"


def test_a_run_of_a_scenario_the_checker_builds_is_drawn(tmp_path, capsys):
    # SCN-SA-COUNT's runs name multihomed-I-N / multihomed-R-N, which have no file: the reader builds them
    from ipsecmm.properties._structural import capacity

    run = capacity("ikev2", 2, 0)[1]
    assert run is not None and run.scenario.name == "multihomed-I-2"
    f = tmp_path / "SCN-SA-COUNT.ikev2.json"
    f.write_text(json.dumps({"requirement": "SCN-SA-COUNT", "runs": [run.to_json()]}))
    assert main(["diagrams", "--run", str(f), "--out", str(tmp_path / "out"), "--no-svg"]) == 0, capsys.readouterr().err
    (back,) = load_runs(f)
    assert back.scenario == run.scenario and back.inputs == run.inputs
