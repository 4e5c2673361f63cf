"""The z3 engine agrees with the explorer.

The relation is derived by running ``Model.step`` over z3 terms; these tests
check that, from many reachable states, it admits exactly the successors the
compiled step function produces (both directions), and that the two engines
agree on what they conclude: what induction proves holds exhaustively, and
bounded model checking finds each explorer counterexample at its length.
"""

from __future__ import annotations

import dataclasses
import random
from functools import partial

import pytest
import z3

from ipsecmm.model import InKind, Model, builtin_names, builtin_scenario, default_scenario
from ipsecmm.properties import Checker, Encoding, Explorer, all_inputs
from ipsecmm.properties._encode import leaves, rebuild
from ipsecmm.properties._z3 import LEMMAS, Z3Engine, _implies, invariants, run_z3

CASES = [("fallback", "mm"), ("default", "ikev2"), ("fallback", "mobike")]


def scenario(name: str):
    return default_scenario() if name == "default" else builtin_scenario(name)


@pytest.fixture(scope="module", params=CASES, ids=lambda c: f"{c[0]}-{c[1]}")
def encoded(request):
    name, profile = request.param
    m = Model(scenario(name), profile)
    ex = Explorer(m)
    ex.run()
    return m, Encoding(m), ex.worlds


def z3_successors(m: Model, enc: Encoding, w) -> dict:
    """Per input, the worlds the derived paths lead to from ``w``: each path's
    condition and effects evaluated in the model that fixes the pre-state."""
    solver = z3.Solver()
    solver.add(enc.equals(enc.pre, w))
    assert solver.check() == z3.sat
    fixed = solver.model()
    values = [int(x) for _, x in leaves(w)]
    res: dict = {}
    for p in enc.paths:
        if not z3.is_true(fixed.eval(p.conds, model_completion=True)):
            continue
        nxt = list(values)
        for k, e in p.changes.items():
            nxt[k] = fixed.eval(e, model_completion=True).as_long()
        res.setdefault(p.inp, []).append(rebuild(enc.template, iter(nxt)))
    return res


def test_relation_admits_exactly_the_compiled_successors(encoded):
    m, enc, worlds = encoded
    rng = random.Random(7)
    sample = rng.sample(worlds, min(40, len(worlds)))
    inputs = all_inputs(m)
    for w in sample:
        via_z3 = z3_successors(m, enc, w)
        for inp in inputs:
            w2 = m.step(w, inp)
            expected = [] if w2 is None or w2 == w else [w2]
            got = [x for x in via_z3.get(inp, []) if x != w]
            assert got == expected, f"{inp} from a reachable state"


def test_relation_formula_as_the_solver_sees_it(encoded):
    """The same, through the actual relation: every compiled successor
    satisfies T, and no other world does."""
    m, enc, worlds = encoded
    eng = Z3Engine(m, enc)
    rng = random.Random(3)
    for w in rng.sample(worlds, 3):
        succ = {w2 for inp in all_inputs(m) if (w2 := m.step(w, inp)) is not None}
        s = z3.Solver()
        s.add(eng.enc.equals(eng.enc.pre, w), eng.T)
        for w2 in succ:
            s.push()
            s.add(eng.enc.equals(eng.nxt, w2))
            assert s.check() == z3.sat
            s.pop()
        s.add(*(z3.Not(eng.enc.equals(eng.nxt, w2)) for w2 in succ))
        assert s.check() == z3.unsat


def test_induction_only_proves_what_holds_exhaustively():
    sc = builtin_scenario("reasons")
    res = run_z3(sc, "ikev2")
    # Plain IKEv2 has no return routability, so INV-RR fails there; with the
    # lemmas every other state invariant is proved.
    assert set(res.proved) == set(invariants()) - {"INV-RR"}
    report = Checker(sc, None, z3_engine=False).run(["ikev2"])
    for rid in res.proved:
        assert report.verdict(rid, "ikev2").status == "holds", rid
    assert report.verdict("INV-RR", "ikev2").status == "violated"


def test_induction_proves_every_state_invariant_with_failover():
    """The lemmas make every state invariant inductive in mm, on a scenario
    where the responder fails over to alternates (so the lemmas about
    alternates are needed, not vacuous), and no lemma drops out."""
    res = run_z3(builtin_scenario("failover"), "mm")
    assert not res.error
    assert sorted(res.proved) == sorted(invariants())
    assert sorted(res.lemmas) == sorted(LEMMAS)


def test_induction_proves_mobike_invariants_in_rfc4555_order():
    """MOBIKE's initiator moves before it asks and again while it waits, and
    its responder answers before it checks return routability (RFC 4555
    3.5): the lemmas describe those shapes, so every state invariant but
    INV-AGREE (whose lemma is stated for one exchange in flight only) is
    proved on a scenario where all of them hold, with no lemma dropped."""
    sc = builtin_scenario("fallback")
    res = run_z3(sc, "mobike")
    assert not res.error and not res.types, (res.error, res.types)
    assert set(res.proved) == set(invariants()) - {"INV-AGREE"}
    assert sorted(res.lemmas) == sorted(LEMMAS)
    report = Checker(sc, None, z3_engine=False, only=list(invariants())).run(["mobike"])
    assert report.verdict("INV-AGREE", "mobike").status == "holds"


def reachable(m: Model) -> set:
    """Every reachable world as the relation sees it.  The explorer's worlds
    are canonical (a dead cached answer is forgotten) and the relation's are
    not, and several lemmas speak about the cache."""
    seen = {m.initial()}
    frontier = list(seen)
    while frontier:
        nxt = []
        for w in frontier:
            for inp in m.inputs(w):
                w2 = m.step(w, inp)
                if w2 is not None and w2 not in seen:
                    seen.add(w2)
                    nxt.append(w2)
        frontier = nxt
    return seen


@pytest.mark.parametrize("profile", ["ikev2", "mobike", "mm"])
def test_lemmas_hold_in_every_reachable_state(profile):
    """Houdini keeps a lemma only if it is inductive, so a false one could not
    make a proof unsound; but a lemma meant as a fact of the protocol should
    be one, independently of the solver."""
    m = Model(default_scenario(), profile)
    worlds = reachable(m)
    for name, lemma in LEMMAS.items():
        bad = next((w for w in worlds if not lemma(m, w)), None)
        assert bad is None, f"{name}: {bad}"


def test_bmc_finds_the_explorer_counterexample_at_the_same_length():
    sc = builtin_scenario("fallback")
    sc = dataclasses.replace(sc, options=sc.options.replace(apply_early=True))
    v = Checker(sc, None, z3_engine=False, only=["INV-AGREE"]).run(["mm"]).verdict("INV-AGREE", "mm")
    assert v.status == "violated"
    length = len(v.runs[0].inputs)
    res = run_z3(sc, "mm", depth=length)
    assert res.bmc_depth["INV-AGREE"] == length
    assert "INV-AGREE" not in res.proved


@pytest.fixture(scope="module")
def fallback_ikev2():
    m = Model(builtin_scenario("fallback"), "ikev2")
    eng = Z3Engine(m)
    cands = {rid: eng.state(partial(_implies, inv=inv)) for rid, inv in invariants().items()}
    lemmas = {name: eng.state(f) for name, f in LEMMAS.items()}
    return eng, cands, lemmas


def test_k_induction_proves_with_assumptions_and_not_without(fallback_ikev2):
    """INV-NONEMPTY is not k-inductive alone for any small k (unreachable
    states lead into a violation along paths of any length here), but it is
    once the lemmas Houdini proved (so true in every reachable state)
    constrain the path."""
    eng, cands, lemmas = fallback_ikev2
    f = cands["INV-NONEMPTY"]
    assert eng.k_induction(f, [], 3) is None
    proved, _ = eng.houdini(lemmas)
    assert proved
    assert eng.k_induction(f, [lemmas[n] for n in proved], 3) == 2


def test_k_induction_refuses_a_violated_invariant():
    """A violation within reach of BMC ends the attempt: no k proves it."""
    sc = builtin_scenario("fallback")
    sc = dataclasses.replace(sc, options=sc.options.replace(apply_early=True))
    m = Model(sc, "mm")
    eng = Z3Engine(m)
    f = eng.state(partial(_implies, inv=invariants()["INV-AGREE"]))
    lemmas = {n: eng.state(g) for n, g in LEMMAS.items()}
    proved, _ = eng.houdini(lemmas)  # only these may be assumed: they hold in every reachable state
    assert eng.bmc(z3.Not(f), 4) is not None
    assert eng.k_induction(f, [lemmas[n] for n in proved], 6) is None


def test_a_k_induction_proof_becomes_a_verdict_and_a_disagreement_is_not_a_pass():
    from ipsecmm.properties._check import merge_z3
    from ipsecmm.properties._z3 import Z3Result

    sc = builtin_scenario("fallback")
    report = Checker(sc, None, z3_engine=False, only=["INV-NONEMPTY", "INV-RR"]).run(["ikev2"])
    pr = report.profiles[0]
    assert pr.verdicts["INV-NONEMPTY"].status == "holds"
    merge_z3(pr, Z3Result("ikev2", k_proved={"INV-NONEMPTY": 3}, k=3))
    v = pr.verdicts["INV-NONEMPTY"]
    assert (v.status, v.engine) == ("proved", "z3 3-induction")
    sc2 = dataclasses.replace(sc, options=sc.options.replace(apply_early=True))
    pr2 = Checker(sc2, None, z3_engine=False, only=["INV-AGREE"]).run(["mm"]).profiles[0]
    assert pr2.verdicts["INV-AGREE"].status == "violated"
    merge_z3(pr2, Z3Result("mm", k_proved={"INV-AGREE": 2}, k=2))
    assert pr2.verdicts["INV-AGREE"].status == "inconclusive"
    assert "ENGINES DISAGREE" in pr2.verdicts["INV-AGREE"].detail


def test_a_cached_relation_proves_what_the_derived_one_does(tmp_path, monkeypatch):
    from ipsecmm.properties._encode import Encoding, cache_file
    from ipsecmm.properties._z3 import run_z3

    monkeypatch.setenv("IPSECMM_CACHE", str(tmp_path))
    sc = builtin_scenario("fallback")
    first = run_z3(sc, "ikev2")
    m = Model(sc, "ikev2")
    path = cache_file(m)
    assert path is not None and path.is_file()
    again = run_z3(sc, "ikev2")
    assert (again.proved, again.lemmas, again.paths, again.types) == (first.proved, first.lemmas, first.paths, first.types)
    assert again.fell == first.fell
    # k-induction and BMC run on the whole relation, rebuilt from the cached
    # slices: it is the derived one (no state and successor tell them apart).
    read, derived = Encoding(m, cache=True), Encoding(m, cache=False)
    assert read.cached and not read.paths
    s = z3.Solver()
    s.add(z3.And(*derived.domains), read._formula()[0] != derived._formula()[0])
    assert s.check() == z3.unsat
    assert Encoding(m, cache=True).cached
    # A damaged entry is derived again, never trusted.
    path.write_text("; ipsecmm relation: 3 paths, 0 dropped\n(assert (= 1 2", encoding="utf-8")
    assert not Encoding(m, cache=True).cached
    # A mutant's rows are not the tables': its relation is never cached or read.
    from ipsecmm.properties._mutants import by_name

    mutant = Model(sc, "ikev2")
    by_name("accept-unprotected").apply(mutant)
    assert cache_file(mutant) is None
    # Another scenario or profile is another entry.
    assert cache_file(Model(sc, "mm")) != path


OPTION_VARIANTS = [{}, {"apply_early": True}, {"both_move": True}, {"failover": "any"}, {"inactive_update": "refuse"}]
#: The engines' agreement in CI: the small shipped scenarios, each under one reading.
AGREEMENT_CI = [("failover", "mm", {}), ("failover", "mm", {"failover": "any"}), ("fallback", "mobike", {"apply_early": True}),
                ("multihomed", "mm", {}), ("stranded", "mm", {"inactive_update": "refuse"}),
                ("make-before-break", "ikev2", {})]


def _agree(name: str, profile: str, options: dict) -> None:
    """What z3 proves, the exhaustive explorer finds to hold; what the explorer
    refutes, z3 does not prove (the engines are independent)."""
    sc = builtin_scenario(name)
    sc = dataclasses.replace(sc, options=sc.options.replace(**options))
    res = run_z3(sc, profile)
    assert not res.error, res.error
    verdicts = Checker(sc, None, z3_engine=False, only=list(invariants())).run([profile]).profiles[0].verdicts
    for rid in invariants():
        v = verdicts[rid]
        if rid in res.proved or rid in res.k_proved:
            assert v.status == "holds", (name, profile, options, rid, v.status)
        if v.status == "violated":
            assert rid not in res.proved and rid not in res.k_proved, (name, profile, options, rid)


@pytest.mark.parametrize("name,profile,options", AGREEMENT_CI, ids=lambda x: x if isinstance(x, str) else repr(x))
def test_z3_and_the_explorer_agree(name, profile, options):
    _agree(name, profile, options)


@pytest.mark.slow
@pytest.mark.parametrize("options", OPTION_VARIANTS, ids=repr)
@pytest.mark.parametrize("profile", ["ikev2", "mobike", "mm"])
@pytest.mark.parametrize("name", builtin_names())
def test_z3_and_the_explorer_agree_on_every_shipped_scenario_and_option(name, profile, options):
    _agree(name, profile, options)


class _Leaky(Model):
    """A model whose retransmission timer also writes ``field`` out of its
    domain: a relation derived for states inside the domains leaves them."""

    def __init__(self, sc, profile, field: str) -> None:
        super().__init__(sc, profile)
        self.leak = field

    def step(self, w, inp):
        w2 = super().step(w, inp)
        if w2 is None or inp.kind != InKind.TIMEOUT:
            return w2
        if self.leak == "up":  # an address bit beyond the scenario's addresses
            return w2._replace(up=w2.up | (1 << self.n_addr))
        return w2._replace(used=w2.used._replace(moves=self.sc.bounds.moves + 3))


@pytest.mark.parametrize("field", ["up", "used.moves"])
def test_a_step_that_leaves_a_domain_proves_nothing(field):
    """The field domains are proved, never assumed: the value analysis must
    not call the leaking field settled, and the slice's type query finds
    the step, so no invariant is reported proved."""
    sc = default_scenario()
    m = _Leaky(sc, "ikev2", field)
    enc = Encoding(m, cache=False)
    assert enc.names.index(field) in enc.unsettled
    eng = Z3Engine(m, enc)
    cands = {rid: eng.state(partial(_implies, inv=inv)) for rid, inv in invariants().items()}
    proved, fell = eng.houdini({**cands, **{name: eng.state(f) for name, f in LEMMAS.items()}})
    assert proved == []
    assert field in eng.type_failure, eng.type_failure
    assert all(why.startswith("no proof") or "inductive" in why or "initial" in why for why in fell.values())


def test_the_value_analysis_settles_what_the_tables_keep_in_range():
    """Most fields keep their domain by construction; what is left for the
    solver is the counters and the fields computed from several others."""
    m = Model(default_scenario(), "ikev2")
    enc = Encoding(m, cache=False)
    left = {enc.names[k] for k in enc.unsettled}
    assert {"used.requests", "peers.0.ini.mid", "peers.1.rsp.mid"} <= left
    assert len(left) < enc.n // 4
    assert not any(name.endswith((".kind", ".state", ".st")) for name in left)


def test_slices_cover_the_relation():
    """The relation, made of slices that each keep the fields they do not
    change, is the paths' own definition: some path's condition holds and
    every field takes that path's new value or keeps its own.  Checked as
    formulas (neither direction has a counterexample)."""
    m = Model(builtin_scenario("fallback"), "ikev2")
    enc = Encoding(m, cache=False)
    full, nxt, sel = enc._formula()
    by_paths = z3.Or(*(z3.And(sel == p.index, p.conds,
                              *(nxt[k] == p.changes.get(k, enc.pre[k]) for k in range(enc.n)))
                       for p in enc.paths))
    assert len(enc.slices()) >= 2
    s = z3.Solver()
    s.add(z3.And(*enc.domains), full != by_paths)
    assert s.check() == z3.unsat
