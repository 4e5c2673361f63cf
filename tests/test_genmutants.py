"""Generated mutants: names, operators, the lockstep checker, the exploration
through the original's graph, and the committed verdicts (properties/mutants.json).

The full run (every mutant on every shipped scenario, minutes) is the one
test marked slow: ``make mutants-check`` or ``pytest -m slow``.
"""

from __future__ import annotations

import dataclasses
import json

import pytest

from ipsecmm.cli import main
from ipsecmm.gen._conformance import ReferenceAdapter
from ipsecmm.model import Model, Role, all_rows, builtin_names, builtin_scenario, get_profile
from ipsecmm.properties import MUTANTS, Explorer, adequacy, by_id, generate_mutants, lockstep, mutant_by_name
from ipsecmm.properties._check import model_of, search
from ipsecmm.properties._genmutants import OPERATORS, from_name, other_reason, trace
from ipsecmm.properties._lockstep import changed_groups, replay_pair
from ipsecmm.properties._registry import Capability, Invariant, Response, StepInvariant
from ipsecmm.properties._runs import Run, RunFileError, _Reader, runs_from_doc

from helpers import violates_at_end

SMALL = ("fallback", "stranded")  # the smallest shipped scenarios (hundreds and thousands of states)


@pytest.fixture(scope="module")
def committed():
    return adequacy.committed()


@pytest.fixture(scope="module")
def generated():
    return generate_mutants("mm")


@pytest.fixture(scope="module")
def small():
    """The smallest shipped scenarios, prepared as the full run prepares them."""
    return adequacy.prepare("mm", jobs=1, scenarios=[builtin_scenario(n) for n in SMALL])


def runs_from_json(doc):
    """The runs of a run document as ``ipsecmm check`` saves them (read by its reader)."""
    return runs_from_doc(doc, _Reader("<committed>", RunFileError))


def ground(ctx, name):
    return next(g for g in ctx.grounds if g.name == name)


def key_of(m: Model, role: Role, trigger: str, label: str) -> str:
    """The key of the row of ``role`` in READY/IDLE whose label contains ``label``."""
    return next(k for k, r in all_rows(m).items() if r.role == role and r.src == 0
                and r.trigger.name.lower() == trigger and label in r.label)


# --------------------------------------------------------------------------- names and the generator


def test_committed_result_lists_exactly_the_generated_mutants(committed, generated):
    """Fails when the tables (or what their effects write) change: run make mutants."""
    assert committed["format"] == adequacy.FORMAT and committed["profile"] == "mm"
    part = committed["sample"]
    assert part["generated"] == len(generated)
    chosen = adequacy.sample(generated, part["every"])
    assert [e["name"] for e in committed["mutants"]] == [mu.name for mu in chosen]
    assert [(e["op"], e["row"], e["label"]) for e in committed["mutants"]] == [(mu.op, mu.row, mu.label) for mu in chosen]
    assert sorted(s["name"] for s in committed["scenarios"] if "plan_of" not in s) == builtin_names()
    plans = {label for _, label, _, _ in adequacy.planned_capabilities("mm")}
    assert sorted(s["name"] for s in committed["scenarios"] if "plan_of" in s) == sorted(plans)
    assert committed["summary"] == adequacy.summary(committed["mutants"])


def test_every_operator_generates_and_every_name_builds_its_mutant(generated):
    assert {mu.op for mu in generated} == set(OPERATORS)
    assert len(generated) >= 300 and len({mu.name for mu in generated}) == len(generated)
    base = Model(builtin_scenario("fallback"), "mm")
    for mu in generated:
        again = from_name(mu.name)
        assert (again.name, again.row, again.op, again.arg) == (mu.name, mu.row, mu.op, mu.arg)
        m1 = adequacy.twin(base, mu)
        assert changed_groups(base, m1), f"{mu.name} changes no row"


def test_one_lookup_for_seeded_and_generated_mutants():
    assert mutant_by_name("skip-pad") is MUTANTS[0]
    name = "responder:READY:recv_update#9:negate-guard"
    mu = mutant_by_name(name)
    assert mu.name == name and "negate" not in mu.mistake and "guard is false" in mu.mistake
    for bad in ("no-such-mutant", "responder:READY:recv_update#9:frobnicate", "responder:NOWHERE:recv_update#9:delete",
                "responder:READY:recv_update#9:drop-write(sad.color)", "responder:READY:recv_update#9:reason(NOPE)"):
        with pytest.raises(KeyError):
            mutant_by_name(bad)
    with pytest.raises(KeyError, match="no such row"):
        model_of(builtin_scenario("fallback"), "mm", "responder:READY:recv_update#99:delete")
    with pytest.raises(KeyError, match="has no guard"):
        model_of(builtin_scenario("fallback"), "mm", "responder:READY:recv_update#14:negate-guard")
    # The generated name goes wherever a seeded one goes: runs, model_of, the reference adapter.
    sc = builtin_scenario("fallback")
    m = model_of(sc, "mm", name)
    assert any(r.guard is not None and r.guard.label == "not (PAD refuses)" for r in m.rows_list[Role.RESPONDER])
    adapter = ReferenceAdapter(name)
    assert adapter.mutant == name


def test_reason_rule_is_the_next_check_of_the_pipeline():
    m = Model(builtin_scenario("fallback"), "mm")
    rows = all_rows(m)
    group = [r for k, r in rows.items() if k.startswith("responder:READY:recv_update#")]
    by_label = {r.guard.label: r for r in group if r.guard is not None}
    assert other_reason(by_label["PAD refuses"], group).name == "SPD"
    assert other_reason(by_label["policy needs stronger protection"], group).name == "UNKNOWN_SA"  # cyclic
    ini = [r for k, r in rows.items() if k.startswith("initiator:IDLE:act_update#")]
    assert other_reason(ini[0], ini).name == "GAVE_UP"  # a lone local refusal: the next local reason


# --------------------------------------------------------------------------- the lockstep checker


def test_lockstep_finds_no_difference_for_the_identity_and_one_for_a_seeded_mutant():
    sc = builtin_scenario("stranded")
    m0 = Model(sc, "mm")
    same = Model(sc, "mm")
    res = lockstep(m0, same)  # nothing shared: every pair is stepped on both sides
    assert res.equal and res.states == Explorer(Model(sc, "mm")).run().states
    twin = adequacy.twin(m0, dataclasses.replace(MUTANTS[0], apply=lambda m: None))
    assert changed_groups(m0, twin) == frozenset() and lockstep(m0, twin, frozenset()).equal
    m1 = adequacy.twin(Model(builtin_scenario("reasons"), "mm"), mutant_by_name("skip-pad"))
    m0 = Model(builtin_scenario("reasons"), "mm")
    res = lockstep(m0, m1, changed_groups(m0, m1))
    assert not res.equal and res.run is not None
    assert "R refuses: PAD" in res.difference and "OK" in res.difference
    assert replay_pair(m0, m1, res.run) == (len(res.run), res.difference)
    assert replay_pair(m0, m1, res.run[:-1]) is None


# Each operator on a row whose mutant a small scenario tells apart.
TEETH = [
    ("fallback", Role.RESPONDER, "recv_update", "[SA unknown]", "drop-guard", ""),
    ("fallback", Role.RESPONDER, "recv_update", "[SA unknown]", "negate-guard", ""),
    ("fallback", Role.RESPONDER, "recv_update", "[old address absent]", "swap-next", ""),
    ("fallback", Role.RESPONDER, "recv_update", "[SA unknown]", "delete", ""),
    ("fallback", Role.RESPONDER, "recv_update", "[SA unknown]", "reason", "INACTIVE_SA"),
    ("stranded", Role.RESPONDER, "recv_check_update", "[old address absent]", "answer-ok", ""),
    ("fallback", Role.INITIATOR, "act_update", "send(request)", "drop-sends", ""),
    ("fallback", Role.RESPONDER, "recv_update", "apply; answer(OK)", "drop-write", "sad.cur_i"),
]


@pytest.mark.parametrize(("scn", "role", "trigger", "label", "op", "arg"), TEETH, ids=[t[4] for t in TEETH])
def test_each_operator_changes_behaviour(scn, role, trigger, label, op, arg):
    m0 = Model(builtin_scenario(scn), "mm")
    key = key_of(m0, role, trigger, label)
    mu = from_name(f"{key}:{op}({arg})" if arg else f"{key}:{op}")
    m1 = adequacy.twin(m0, mu)
    res = lockstep(m0, m1, changed_groups(m0, m1))
    assert not res.equal, f"{mu.name} is not told apart on {scn}"
    assert res.run is not None and replay_pair(m0, m1, res.run) == (len(res.run), res.difference)


# --------------------------------------------------------------------------- exploring through the original


def test_exploring_through_the_original_gives_the_same_kills(small):
    """The shortcut (_diffexplore) and an exploration from scratch agree,
    on killed and on unkilled mutants."""
    g = ground(small, "stranded")
    names = ["responder:READY:recv_update#9:negate-guard", "initiator:IDLE:act_update#0:swap-next",
             "responder:READY:recv_check_add#4:negate-guard", "initiator:WAIT:timeout#1:delete",
             "responder:READY:recv_set_alt#4:drop-sends", "responder:READY:recv_remove#3:drop-write(rsp.mid)",
             # told apart on stranded, killed only elsewhere
             "initiator:WAIT:recv_response#3:drop-write(ini.mid)", "responder:READY:recv_update#6:drop-write(rsp.cache)"]
    verdicts = set()
    for name in names:
        mu = from_name(name)
        m0 = small.model(g)
        how, _, differing = adequacy.compare(m0, adequacy.twin(m0, mu), g.trace, changed_groups(m0, adequacy.twin(m0, mu)))
        assert how == "differs"
        fast = adequacy.kill_on(g, mu, "mm", differing)
        slow = adequacy.kill_on(g, mu, "mm", None)
        assert fast == slow, name
        verdicts.add(fast is None)
    assert verdicts == {True, False}


# --------------------------------------------------------------------------- the committed verdicts reproduce


def _sample(committed, verdict, scenarios):
    """A deterministic sample: for each operator and machine, the first entry
    with the verdict (killed: on one of ``scenarios`` if there is one, and the
    first kill of each kind of check there; equivalent: preferring one shown
    by an exploration there rather than by reachability)."""
    res = []
    for op in OPERATORS:
        for role in ("initiator", "responder"):
            found = [e for e in committed["mutants"] if e["op"] == op and e["verdict"] == verdict
                     and e["row"].startswith(role)]
            if verdict == "killed":
                found.sort(key=lambda e: e["scenario"] not in scenarios)
            else:
                found.sort(key=lambda e: not any(e["evidence"][n][0] in ("agrees", "lockstep") for n in scenarios))
            res += found[:1]
    if verdict == "killed":
        for kind in (Invariant, StepInvariant, Response, Capability):
            res += [e for e in committed["mutants"] if e["verdict"] == "killed" and e["scenario"] in scenarios
                    and isinstance(by_id()[e["requirement"]].checks[0], kind)][:1]
    return res


def test_committed_kills_reproduce(committed, small):
    sample = _sample(committed, "killed", SMALL)
    assert {e["op"] for e in sample} == set(OPERATORS)  # every operator has killed mutants
    kinds = set()
    for e in sample:
        mu = from_name(e["name"])
        (run,) = runs_from_json(e["run"])
        rid = e["requirement"]
        chk = by_id()[rid].checks[0]
        kinds.add(type(chk).__name__ if e["evidence"] == "counterexample" else "no witness")
        if e["evidence"] == "no witness":
            assert isinstance(chk, Capability) and run.mutant is None
            run.replay()  # the original's witness...
            m1 = model_of(run.scenario, "mm", mu.name)
            assert any(search(m1, goal)[0] is None for _, goal in chk.goals), e["name"]  # ...and the mutant has none
            continue
        assert run.mutant == mu.name and len(run.inputs) == e["steps"]
        run.replay()  # a run of the mutant (the transitions runtime, so another dispatcher than the explorer's)
        if isinstance(chk, Response):
            if e["scenario"] in SMALL:  # a response counterexample is checked by searching again
                again = adequacy.kill_on(ground(small, e["scenario"]), mu, "mm", None)
                assert again is not None and again["requirement"] == rid and again["run"] == e["run"]
        else:
            assert violates_at_end(rid, run), e["name"]
    # a capability's missing witness is tested below (plan_kill) when the sample has none
    witnessless = {"no witness"} if any(e.get("evidence") == "no witness" for e in committed["mutants"]) else set()
    assert kinds >= {"Response", "Invariant", "StepInvariant"} | witnessless


def test_committed_equivalences_reproduce(committed, small):
    sample = _sample(committed, "equivalent", SMALL)
    assert {how for e in sample for how, _ in e["evidence"].values()} >= {"never-fired", "never-tried", "agrees", "lockstep"}
    for e in sample:
        mu = from_name(e["name"])
        for name in SMALL:
            g = ground(small, name)
            how, n = e["evidence"][name]
            if how == "never-fired":
                assert mu.row not in g.trace.fired
            elif how == "never-tried":
                assert mu.row not in g.trace.reached
            m0 = Model(g.scenario, get_profile("mm"))
            m1 = adequacy.twin(m0, mu)
            res = lockstep(m0, m1, changed_groups(m0, m1))
            assert res.equal, e["name"]
            if how == "lockstep":
                assert res.states == n


def test_committed_survivors_are_told_apart(committed):
    survivors = [e for e in committed["mutants"] if e["verdict"] == "survives"]
    for e in survivors[:: max(1, len(survivors) // 8)]:
        (run,) = runs_from_json(e["run"])
        m0 = Model(run.scenario, get_profile("mm"))
        m1 = model_of(run.scenario, "mm", e["name"])
        assert replay_pair(m0, m1, run.inputs) == (e["steps"], e["difference"])


# --------------------------------------------------------------------------- the report


def test_judging_is_deterministic_and_the_report_says_everything(small, tmp_path):
    # MOB-REASON not asked: the initiator's wrong local reason is then told
    # apart and killed by nothing
    grounds = [dataclasses.replace(g, todo=[r for r in g.todo if r != "MOB-REASON"]) for g in small.grounds]
    ctx = dataclasses.replace(small, grounds=grounds, mutants=[from_name(n) for n in (
        "responder:READY:recv_update#9:negate-guard",  # killed
        "initiator:IDLE:act_update#0:reason(GAVE_UP)",  # told apart, killed by nothing
        "responder:READY:recv_check_update#0:swap-next",  # never fired
    )], _models={})
    one = adequacy.document(ctx, list(adequacy.judge_all(ctx, jobs=1)))
    two = adequacy.document(ctx, list(adequacy.judge_all(ctx, jobs=2)))
    assert adequacy.dumps(one) == adequacy.dumps(two)
    assert json.loads(adequacy.dumps(one)) == one
    assert [e["verdict"] for e in one["mutants"]] == ["killed", "survives", "equivalent"]
    assert one["summary"]["score"] == "1/2" and one["summary"]["survivors"] == 1
    text = adequacy.text(one)
    assert "responder:READY:recv_update#9:negate-guard  killed by " in text
    assert "SURVIVORS (1)" in text and "I refuses: NO_SOURCE on the original, I refuses: GAVE_UP" in text
    assert "EQUIVALENT (1)" in text and "row never fired on fallback, stranded" in text
    assert "score: 1/2 killed (50.0%) of 3 mutants, 1 equivalent, 1 surviving" in text


def test_a_local_reason_and_a_planned_capability_kill_what_the_scenarios_alone_do_not(small):
    """Two ways a mutant used to survive every shipped scenario: an initiator
    that names the wrong reason for its own refusal (no state changes, so only
    MOB-REASON's judgement of such steps sees it), and one that only a
    capability with its own search plan (MH-REMOVE: two requests) notices."""
    g = ground(small, "stranded")
    mu = from_name("initiator:IDLE:act_add#0:swap-next")
    m0 = small.model(g)
    how, _, told = adequacy.compare(m0, adequacy.twin(m0, mu), g.trace, changed_groups(m0, adequacy.twin(m0, mu)))
    assert how == "events" and told  # the same state graph: only what the step says differs
    killed = adequacy.kill_on(g, mu, "mm", told)
    assert killed is not None and killed["requirement"] == "MOB-REASON" and killed["steps"] == 2

    (sc, label, rid, cap), = [x for x in adequacy.planned_capabilities("mm") if x[2] == "MH-REMOVE"]
    pg = adequacy.Ground(trace(sc, "mm"), label=label)
    adequacy.plan_baseline(pg, "mm", {rid: cap})
    assert pg.todo == ["MH-REMOVE"] and pg.witnesses["MH-REMOVE"]
    m = model_of(sc, "mm")
    key = key_of(m, Role.RESPONDER, "recv_remove", "last address")
    assert adequacy.plan_kill(pg, m, "MH-REMOVE") is None
    found = adequacy.plan_kill(pg, model_of(sc, "mm", f"{key}:negate-guard"), "MH-REMOVE")
    assert found is not None and found["evidence"] == "no witness" and found["scenario"] == label


@pytest.mark.parametrize("argv", [["--scenario", "x.toml"], ["--bound", "requests=1"], ["--option", "both_move=true"],
                                  ["--all"], ["--jobs", "0"], ["--every", "0"], ["--name", "no-such-row:drop-guard"],
                                  ["--name", "responder:READY:recv_update#0:drop-guard", "--every", "2"]])
def test_generated_refuses_what_does_not_apply(argv, capsys):
    assert main(["mutants", "--generated", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ipsecmm mutants: ") and err.count("\n") == 1


def test_a_name_picks_its_mutants_in_the_generators_order(generated):
    names = [generated[7].name, generated[3].name]
    assert [mu.name for mu in adequacy.pick(generated, names)] == names[::-1]
    with pytest.raises(adequacy.UnknownMutant, match="responder:READY:recv_update#99:drop-guard"):
        adequacy.pick(generated, ["responder:READY:recv_update#99:drop-guard"])
    assert main(["mutants", "--name", names[0]]) == 2  # not without --generated


@pytest.mark.slow
def test_committed_result_is_what_the_code_gives_now(committed):
    """The full run: every generated mutant on every shipped scenario."""
    assert adequacy.dumps(adequacy.run_all("mm", jobs=2, every=committed["sample"]["every"])) == adequacy.dumps(committed)


def test_traces_watch_what_effects_write():
    tr = trace(builtin_scenario("fallback"), "mm", graph=False)
    m = Model(builtin_scenario("fallback"), "mm")
    accept = key_of(m, Role.RESPONDER, "recv_update", "apply; answer(OK)")
    assert {"sad.cur_i", "rsp.mid", "rsp.cache"} <= tr.writes[accept] and accept in tr.sends
    assert tr.graph is None and accept in tr.fired and accept in tr.reached


def test_a_run_of_a_generated_mutant_saves_and_loads(small):
    name = "responder:READY:recv_create#11:drop-write(spd.sel_r)"
    found = adequacy.kill_on(ground(small, "fallback"), from_name(name), "mm")
    assert found is not None and found["evidence"] == "counterexample"
    (run,) = runs_from_json(found["run"])
    assert isinstance(run, Run) and run.mutant == name
    assert run.to_json() == found["run"] and violates_at_end(found["requirement"], run)
