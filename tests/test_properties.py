"""Requirements as properties: the registry, the derived verdict matrix,
vacuity, runs, and the seeded mutants."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest

from ipsecmm.cli import main
from ipsecmm.model import Action, InKind, Input, Model, Reason, builtin_scenario, default_scenario
from ipsecmm.properties import MUTANTS, REGISTRY, Checker, Run, by_id, kill
from ipsecmm.properties._check import converge_goal
from ipsecmm.properties._preds import applied_once, goal_update
from ipsecmm.properties._registry import Invariant, StepInvariant

from conftest import ROOT, model
from helpers import act, breaks_at, deliver, violates_at_end
from helpers import run as run_inputs

# The contract: every ID of shared/requirements.md.
CATALOGUE = {
    "MOB-UPDATE", "MOB-PRECHECK", "MOB-REASON", "MOB-SINGLE-EXCHANGE", "MH-ADD", "MH-REMOVE", "MH-PRECHECK",
    "MH-ALTERNATE", "EXT-MODES", "EXT-EXPLICIT", "EXT-ALT-PER-SA", "EXT-TARGET-SA", "SCN-VALIDATE",
    "SCN-NO-REAUTH", "SCN-FALLBACK", "SCN-REFUSAL-HARMLESS", "SCN-ALT-LAST-RESORT", "SCN-NO-AUTO-ADD",
    "SCN-MAKE-BEFORE-BREAK", "SCN-ACTIVE-ONLY", "SCN-OWNER-DECIDES", "SCN-SA-COUNT", "SCN-POLICY-CASES",
    "INV-AGREE", "INV-SAD-SPD", "INV-NONEMPTY", "INV-ALT-DISJOINT", "INV-PRECHECK-PURE", "INV-ONCE", "INV-AUTH",
    "INV-RR", "INV-PAD", "LIVE-CONVERGE", "LIVE-FAILOVER", "FIND-4.1-ORDER", "FIND-12-BOTH-MOVE",
}

# What section 10.3 of the draft predicts the older protocols fail ("at least").
PREDICTED = {
    "mobike": {"EXT-MODES", "EXT-EXPLICIT", "EXT-TARGET-SA", "EXT-ALT-PER-SA", "MH-ADD", "MH-REMOVE",
               "MOB-PRECHECK", "MOB-REASON", "SCN-SA-COUNT"},
    "ikev2": {"MOB-UPDATE", "MOB-SINGLE-EXCHANGE", "MOB-PRECHECK", "MH-ADD", "MH-REMOVE", "MH-ALTERNATE",
              "SCN-SA-COUNT"},
}


def test_registry_is_the_catalogue():
    ids = [r.id for r in REGISTRY]
    assert len(ids) == len(set(ids))
    assert set(ids) == CATALOGUE
    shared = ROOT.parent / "shared" / "requirements.md"
    if shared.exists():  # on a developer's machine, also against the file itself
        listed = set(re.findall(r"^\| ([A-Z]+-[A-Z0-9.-]+) \|", shared.read_text(), re.M))
        assert listed == CATALOGUE


@pytest.mark.parametrize("req", REGISTRY, ids=lambda r: r.id)
def test_every_entry_says_what_it_checks(req):
    assert re.fullmatch(r"[0-9., ;A-Za-z-]+", req.sections)
    assert req.kind in ("capability", "invariant", "response", "structural", "finding")
    assert len(req.summary) > 30 and req.property and req.checks
    assert set(req.profiles) <= {"ikev2", "mobike", "mm"} and "mm" in req.profiles


@pytest.fixture(scope="module")
def matrix():
    """The verdict matrix of the built-in scenario (explorer engines; the z3
    engine has its own tests)."""
    return Checker(default_scenario(), None, z3_engine=False).run(["ikev2", "mobike", "mm"], jobs=2)


def test_mm_meets_every_requirement_and_none_vacuously(matrix):
    mm = matrix.profiles[2].verdicts
    bad = {rid: (v.status, v.vacuous) for rid, v in mm.items() if not v.met}
    assert not bad
    assert matrix.mm_meets_all()


@pytest.mark.parametrize("profile", ["mobike", "ikev2"])
def test_older_profiles_fail_what_the_draft_predicts(matrix, profile):
    pr = next(p for p in matrix.profiles if p.profile == profile)
    failed = {rid for rid, v in pr.verdicts.items() if v.status == "violated"}
    assert PREDICTED[profile] <= failed
    for rid in failed:  # every failure comes with a run that shows it
        assert pr.verdicts[rid].runs, rid


def test_vacuity_is_reported(matrix):
    ikev2 = matrix.profiles[0].verdicts
    # ikev2 never changes an SA's addresses, so "an accepted change keeps the keys" is vacuous there.
    assert ikev2["SCN-NO-REAUTH"].vacuous and ikev2["SCN-NO-REAUTH"].status == "holds"
    assert not ikev2["SCN-NO-REAUTH"].met


def test_every_run_replays_and_shows_what_it_claims(matrix):
    checked = 0
    for pr in matrix.profiles:
        for rid, v in pr.verdicts.items():
            for run in v.runs:
                steps = run.replay()
                checked += 1
                req = by_id()[rid]
                if v.status == "violated" and run.label.startswith("counterexample") and steps:
                    m = run.model()
                    pre, inp, _, post = steps[-1]
                    for chk in req.checks:
                        if isinstance(chk, Invariant) and chk.when is None:
                            assert not chk.then(m, post) or any(
                                isinstance(c, StepInvariant) for c in req.checks), (rid, pr.profile)
                        if isinstance(chk, StepInvariant) and inp.kind in chk.kinds and chk.when(m, pre, inp, post):
                            assert not chk.then(m, pre, inp, post), (rid, pr.profile)
    assert checked > 40


def test_witnesses_end_in_their_goal(matrix):
    mm = matrix.profiles[2].verdicts
    run = mm["MOB-UPDATE"].runs[0]
    pre, inp, _, post = run.replay()[-1]
    assert inp.kind == InKind.DELIVER
    from ipsecmm.properties._preds import goal_update

    assert goal_update(run.model(), pre, inp, post)


def test_structural_counts(matrix):
    mm, mobike, ikev2 = (p.verdicts for p in (matrix.profiles[2], matrix.profiles[1], matrix.profiles[0]))
    assert mm["SCN-SA-COUNT"].value["child_sas"]["4x4"] == 2
    assert mobike["SCN-SA-COUNT"].value["child_sas"]["3x4"] == 24  # 2mn
    # measured on both sides, not assumed by symmetry
    assert mm["SCN-SA-COUNT"].value["capacity"] == {"initiator": {1: 1, 2: 2, 3: 3, 4: 4}, "responder": {1: 1, 2: 2, 3: 3, 4: 4}}
    assert mobike["SCN-SA-COUNT"].value["capacity"]["responder"] == {1: 1, 2: 1, 3: 1, 4: 1}
    # exchanges on the wire, without and with a reachability check
    exchanges = [p["MOB-SINGLE-EXCHANGE"].value for p in (mm, mobike, ikev2)]
    assert exchanges == [{"without return routability": 1, "with return routability": 2},
                         {"without return routability": 1, "with return routability": 2},
                         {"without return routability": 2, "with return routability": 2}]


def test_findings_are_exposed_with_runs(matrix):
    mm = matrix.profiles[2].verdicts
    for rid in ("FIND-4.1-ORDER", "FIND-12-BOTH-MOVE"):
        v = mm[rid]
        assert v.status == "holds" and v.runs
        assert v.runs[0].scenario.options != default_scenario().options  # found under the option
        v.runs[0].replay()
        broken = v.runs[0].label.rsplit(", ", 1)[1].split()[0]  # "FIND-...: under k=v, INV-AGREE fails"
        found = v.runs[0].violation()
        assert found is not None and found[1].startswith(f"{broken}:" if broken.startswith("LIVE") else f"{broken} fails")


def test_counterexamples_mark_the_step_where_they_fail(matrix):
    """Each counterexample to an invariant records the first step that breaks
    it (the step entering the bad state, or the bad step) and says what fails."""
    marked = 0
    for pr in matrix.profiles:
        for rid, v in pr.verdicts.items():
            for run in v.runs:
                if by_id()[rid].kind != "invariant" or not run.label.startswith("counterexample"):
                    continue
                found = run.violation()
                assert found is not None, (rid, pr.profile)
                step, text = found
                assert text.startswith(f"{rid} fails") and by_id()[rid].property in text
                assert breaks_at(rid, run, step) and not any(breaks_at(rid, run, k) for k in range(step))
                assert json.loads(json.dumps(run.to_json()))["extra"]["violation_step"] == step
                marked += 1
    assert marked >= 1


@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda mu: mu.name)
def test_every_mutant_is_killed(mutant):
    found = next(filter(None, (kill(builtin_scenario(name), mutant.name) for name in ("reasons", "multihomed"))), None)
    assert found is not None, f"{mutant.name} survives"
    rid, run = found
    assert run.mutant == mutant.name
    broken = violates_at_end(rid, run)  # the counterexample is a run of the mutated model...
    assert broken in (True, None)
    found = run.violation()  # ...whose drawings mark the step where it fails
    assert found is not None and found[1].startswith(rid)
    assert found[0] == len(run.inputs) if broken else 0 <= found[0] <= len(run.inputs)
    real = Run(run.scenario, run.profile, run.inputs, label="", mutant=None)
    try:
        real.replay()
    except Exception:
        return  # ...that the real model does not even take
    if broken:  # ...or that does not break the real model
        assert not violates_at_end(rid, real), f"{rid} fails without {mutant.name}"


def test_check_json_and_runs_files(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["check", "--profile", "ikev2", "--json", "--no-z3", "--jobs", "1"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["profiles"] == ["ikev2"] and len(doc["requirements"]) == len(REGISTRY)
    entry = next(r for r in doc["requirements"] if r["id"] == "MOB-UPDATE")
    v = entry["verdicts"]["ikev2"]
    assert entry["section"] == "10.1.2" and entry["kind"] == "capability"
    assert v["status"] == "violated" and v["run"] == "runs/MOB-UPDATE.ikev2.json"
    run_doc = json.loads(Path(v["run"]).read_text())
    assert run_doc["runs"][0]["inputs"][0]["action"] == "update"
    itf = json.loads(Path("runs/INV-RR.ikev2.itf.json").read_text())
    assert itf["states"][0]["action_taken"] == "init" and len(itf["states"]) >= 2
    first = {p.name: p.read_bytes() for p in Path("runs").iterdir()}
    assert main(["check", "--profile", "ikev2", "--json", "--no-z3", "--jobs", "1"]) == 0
    capsys.readouterr()
    assert {p.name: p.read_bytes() for p in Path("runs").iterdir()} == first  # byte-identical


def test_explain_prints_the_run(capsys):
    assert main(["explain", "inv-rr", "--profile", "ikev2"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("INV-RR (invariant; draft RFC 4555 3.7, 5)")
    assert "[ikev2] VIOLATED" in out and "counterexample to INV-RR" in out and "CREATE" in out


def test_explain_unknown_id(capsys):
    assert main(["explain", "NOPE-1"]) == 2
    assert "unknown requirement NOPE-1 (ipsecmm requirements lists them)" in capsys.readouterr().err


@pytest.mark.parametrize("mutant,named", [
    ("checks-say-yes", {"MOB-PRECHECK", "MH-PRECHECK"}),  # check-only answers that check nothing
    ("refuse-ike-update", {"LIVE-CONVERGE", "MOB-REASON"}),  # acceptable UPDATEs of the IKE_SA refused as POLICY
    ("policy-as-spd", {"MOB-REASON"}),  # a local-policy refusal reported as SPD
])
def test_wrong_responders_are_killed_by_the_requirement_that_names_their_mistake(mutant, named):
    """Each of the three wrong responders issue 10 describes met all 36
    requirements before the oracle; now the requirement that speaks of its
    mistake fails, with a run."""
    from ipsecmm.properties import killers

    found = {rid for rid, _ in killers(default_scenario(), mutant)}
    assert named <= found, (mutant, found)


def test_a_responder_that_forgets_its_answer_fails_inv_once():
    """INV-ONCE's step check reads the responder's own cache, so a responder
    that never stores the answer it sent passes it; the history check compares
    the retransmission's answer with the one that was on the wire."""
    from ipsecmm.model import all_rows
    from ipsecmm.properties import killers
    from ipsecmm.properties._check import model_of, monitor_search
    from ipsecmm.properties._registry import Monitor

    sc = default_scenario()
    key = next(k for k, r in all_rows(model_of(sc, "mm")).items()
               if k.startswith("responder:READY:recv_update#") and r.label.endswith("refuse(FAMILY)"))
    mutant = f"{key}:drop-write(rsp.cache)"
    req = by_id()["INV-ONCE"]
    mon = next(c for c in req.checks if isinstance(c, Monitor))
    assert monitor_search(model_of(sc, "mm"), mon)[0] is None
    found, _, complete = monitor_search(model_of(sc, "mm", mutant), mon)
    assert found is not None and complete
    kinds = [inp.kind for inp in found]
    assert kinds.count(InKind.TIMEOUT) == 1 and kinds[-1] == InKind.DELIVER  # the retransmission, answered wrongly
    assert not killers(sc, mutant, among=["INV-ONCE"])  # the step check alone lets it through


def test_an_initiator_that_gives_the_wrong_reason_for_its_own_refusal_fails_mob_reason():
    """The initiator's own refusals change no state, so the state graph has
    no edge for them; MOB-REASON still judges them (StepInvariant.loops)
    against the oracle's local checks: with no working address at all,
    NO_SOURCE comes first, and a request the checks pass must go out."""
    from ipsecmm.properties import kill

    sc = builtin_scenario("stranded")
    assert kill(sc, None, among=["MOB-REASON"]) is None  # the original meets it
    rid, run = kill(sc, "initiator:IDLE:act_add#0:swap-next", among=["MOB-REASON"])
    assert rid == "MOB-REASON" and [i.kind for i in run.inputs] == [InKind.LOSE, InKind.ACT]
    pre, _, events, post = run.replay()[-1]
    assert pre == post and [e.reason for e in events if e.what == "refuse"] == [Reason.INACTIVE_SA]
    assert violates_at_end("MOB-REASON", run)
    # a missing send row: the request the oracle passes is refused instead
    rid, run = kill(builtin_scenario("fallback"), "initiator:IDLE:act_delete#1:delete", among=["MOB-REASON"])
    assert rid == "MOB-REASON" and [i.kind for i in run.inputs] == [InKind.ACT]
    assert violates_at_end("MOB-REASON", run)


def test_a_responder_that_ignores_a_failure_report_fails_scn_active_only():
    """A responder that keeps an SA active while every address it sends to
    is reported dead (here: during a return routability check) would accept
    multihoming on it; the failure report changes nothing, so the state
    graph has no edge for it either."""
    from ipsecmm.properties import kill

    sc = default_scenario()
    assert kill(sc, None, among=["SCN-ACTIVE-ONLY"]) is None
    rid, run = kill(sc, "responder:RR_WAIT:path_dead#1:delete", among=["SCN-ACTIVE-ONLY"])
    assert rid == "SCN-ACTIVE-ONLY" and run.inputs[-1].kind == InKind.PATH_DEAD
    pre, _, _, post = run.replay()[-1]
    assert pre == post
    assert violates_at_end("SCN-ACTIVE-ONLY", run)


def _killed_by(scenario: str, mutant: str, rid: str) -> Run:
    """``mutant`` breaks ``rid`` on the built-in ``scenario`` (which the
    original meets there); a safety property's run ends at the offending
    step (a response property's run is a prefix and a fair path that never
    gets there)."""
    sc = builtin_scenario(scenario)
    assert kill(sc, None, among=[rid]) is None
    found = kill(sc, mutant, among=[rid])
    assert found is not None and found[0] == rid, (mutant, found)
    if rid != "LIVE-CONVERGE":
        assert violates_at_end(rid, found[1])
    return found[1]


def test_a_responder_whose_window_stands_still_fails_inv_once():
    """It answers (the wire looks right) but keeps expecting the same message
    ID: it would judge the retransmission again and drop the next request."""
    run = _killed_by("stranded", "responder:READY:recv_add#3:drop-write(rsp.mid)", "INV-ONCE")
    pre, _, events, post = run.replay()[-1]
    assert [e.reason for e in events if e.what == "refuse"] and pre.peers[1].rsp.mid == post.peers[1].rsp.mid


def test_a_responder_that_decides_but_sends_nothing_fails_inv_once():
    run = _killed_by("multihomed", "responder:READY:recv_check_remove#8:drop-sends", "INV-ONCE")
    pre, _, _, post = run.replay()[-1]
    assert post.peers[1].rsp.mid == pre.peers[1].rsp.mid + 1 and post.chan[1] == pre.chan[1]


def test_a_responder_that_answers_a_forgery_from_its_cache_fails_inv_auth():
    # the retransmission check before the protection check: a forged copy
    # of the last request gets the cached answer
    run = _killed_by("default", "responder:READY:recv_add#0:swap-next", "INV-AUTH")
    assert run.inputs[-1].kind == InKind.DELIVER


def test_an_initiator_that_waits_without_sending_fails_mob_reason():
    run = _killed_by("stranded", "initiator:IDLE:act_add#2:drop-sends", "MOB-REASON")
    assert [i.kind for i in run.inputs] == [InKind.ACT]


@pytest.mark.parametrize("mutant", ["initiator:WAIT:timeout#1:reason(UNSUPPORTED)", "initiator:WAIT:timeout#1:delete"])
def test_an_initiator_that_gives_up_wrongly_fails_mob_reason(mutant):
    """Giving up says GAVE_UP (an events-only mutant: the same state graph),
    and the last timeout does not pass unnoticed (a loop: no edge at all)."""
    run = _killed_by("fallback", mutant, "MOB-REASON")
    assert run.inputs[-1].kind == InKind.TIMEOUT


def test_a_wrong_code_for_a_refused_child_sa_fails_mob_reason():
    run = _killed_by("fallback", "responder:READY:recv_create#3:reason(NOT_OWNER)", "MOB-REASON")
    _, _, events, _ = run.replay()[-1]
    assert [e.reason for e in events if e.what == "refuse"] == [Reason.TS_UNACCEPTABLE]


@pytest.mark.parametrize(("scenario", "mutant", "rid"), [
    ("fallback", "responder:READY:recv_delete#3:drop-write(spd.sel_i)", "LIVE-CONVERGE"),  # a deleted SA's SPD entry stays
    ("fallback", "responder:READY:recv_create#11:drop-write(sad.out)", "LIVE-CONVERGE"),  # a new SA sending nowhere
    ("fallback", "responder:READY:recv_create#11:drop-write(sad.gen)", "LIVE-CONVERGE"),  # the two peers' keys differ
    ("stranded", "responder:READY:recv_update#14:drop-write(sad.state)", "SCN-ACTIVE-ONLY"),  # moved, still inactive
])
def test_what_an_sa_holds_after_a_change_is_judged(scenario, mutant, rid):
    _killed_by(scenario, mutant, rid)


# --------------------------------------------------------------------------- RFC 4555's order, as the properties judge it


def _steps(m, inputs):
    """(pre, input, post) of each step of a run."""
    out, w = [], m.initial()
    for inp in inputs:
        w2, _ = run_inputs(m, [inp], w)
        out.append((w, inp, w2))
        w = w2
    return out


def test_an_update_made_before_asking_counts_for_mob_update():
    # RFC 4555 3.5: the initiator's SAD moved when it sent the request, so the
    # answer step changes only the responder's; MOB-UPDATE measures the move
    # from where the initiator was before it asked.
    m = model(profile="mobike")
    steps = _steps(m, [act(m, Action.UPDATE, "ike", "a1", "a2"), deliver(0), deliver(1)])
    pre, inp, post = steps[-1]
    assert post.peers[0].ini.st.name == "IDLE"
    assert goal_update(m, pre, inp, post)


def test_a_readdressed_retransmission_gets_the_cached_answer_at_its_new_source():
    # RFC 4555 3.5: a node that moved again retransmits from the newer address;
    # the cached answer goes there (RFC 7296 2.11), which INV-ONCE accepts.
    sc = default_scenario()
    m = Model(dataclasses.replace(sc, bounds=dataclasses.replace(sc.bounds, requests=2)), "mobike")
    steps = _steps(m, [act(m, Action.UPDATE, "ike", "a1", "a2"), act(m, Action.UPDATE, "ike", "a2", "a1"),
                       deliver(0), Input(InKind.TIMEOUT, 0), deliver(1), deliver(0)])
    pre, inp, post = steps[-1]
    assert pre.chan[0][0].src == m.sc.addr_index("a1") and post.chan[1][0].dst == m.sc.addr_index("a1")
    assert applied_once(m, pre, inp, post)


def test_a_request_overtaken_by_a_newer_move_is_complete_for_live_converge():
    sc = default_scenario()
    m = Model(dataclasses.replace(sc, bounds=dataclasses.replace(sc.bounds, requests=2)), "mobike")
    steps = _steps(m, [act(m, Action.UPDATE, "ike", "a1", "a2"), act(m, Action.UPDATE, "ike", "a2", "a1")])
    first = steps[0][2].peers[0].ini.asked
    goal = converge_goal(m, 0, 0, None, first)
    assert not goal(steps[0][2])  # still outstanding
    assert goal(steps[1][2])  # the user moved on (RFC 4555 3.5)
    # The same move asked again restarts the exchange but overtakes nothing.
    same = _steps(m, [act(m, Action.UPDATE, "ike", "a1", "a2"), act(m, Action.UPDATE, "ike", "a1", "a2")])
    assert same[1][2].peers[0].ini.again != 0 and not goal(same[1][2])


def test_no_capability_with_a_search_plan_or_first_step_carries_always_checks():
    """The main pass judges a capability's ``always`` steps only for the
    capabilities it searches itself; on any other one they would be silently
    ignored, so none may have them."""
    from ipsecmm.properties._registry import Capability

    for r in REGISTRY:
        for c in r.checks:
            if isinstance(c, Capability) and (c.plan is not None or c.after is not None):
                assert not c.always, r.id


def test_history_search_over_the_recorded_graph_is_the_search_itself():
    """The checker reads a history property's steps off the graph its main
    pass recorded: the same pairs, in the same order, so the same verdict,
    pair count and shortest counterexample as stepping the model again."""
    from ipsecmm.properties._check import Explorer, GraphRecorder, Monitor, model_of, monitor_search

    def recorded(m):
        ex, rec = Explorer(m), GraphRecorder()
        assert ex.run(on_edge=rec).complete
        return rec.graph(ex.worlds)

    def history(rid):
        return next(c for c in by_id()[rid].checks if isinstance(c, Monitor))

    for mutant in (None, "responder:READY:recv_add#1:drop-sends"):
        m = model_of(builtin_scenario("window"), "mm", mutant)
        graph = recorded(m)
        for rid in ("INV-ONCE", "SCN-REFUSAL-HARMLESS"):
            assert monitor_search(m, history(rid), graph=graph) == monitor_search(m, history(rid)), (mutant, rid)
    # the mutant answers a retransmission with nothing: the history sees it
    assert monitor_search(m, history("INV-ONCE"))[0] is not None
