"""The ``transitions`` runtime and the compiled dispatcher agree.

Hypothesis drives both over the same random inputs from the same states, for
every profile and every profile option, with bounds lifted so that runs go
deep: the next world and the events of each step must be identical, and so
must the complete successor sets of every state visited.
"""

from __future__ import annotations

import dataclasses

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, precondition, rule

from ipsecmm.model import OPTION_CHOICES, PROFILE_NAMES, Model, Runtime, default_scenario

LIFTED = {"requests": 4, "moves": 3, "forge": 2, "drops": -1}


class Differential(RuleBasedStateMachine):
    m: Model
    rt: Runtime

    @initialize(profile=st.sampled_from(PROFILE_NAMES), option=st.sampled_from(sorted(OPTION_CHOICES)))
    def start(self, profile, option):
        sc = default_scenario()
        value = OPTION_CHOICES[option][1]  # the non-default reading
        sc = dataclasses.replace(sc, bounds=dataclasses.replace(sc.bounds, **LIFTED),
                                 options=sc.options.replace(**{option: value}))
        self.m = Model(sc, profile)
        self.rt = Runtime(self.m)
        self.w = self.m.initial()
        self.steps = 0

    @precondition(lambda self: hasattr(self, "m"))
    @rule(data=st.data())
    def step_both(self, data):
        inputs = self.m.inputs(self.w)
        if not inputs:
            return
        inp = data.draw(st.sampled_from(inputs), label="input")
        ev_c: list = []
        ev_r: list = []
        a = self.m.step(self.w, inp, ev_c)
        b = self.rt.step(self.w, inp, ev_r)
        assert a == b, f"{inp}: compiled and runtime disagree on the next world"
        assert ev_c == ev_r, f"{inp}: compiled and runtime disagree on the events"
        if a is not None:
            self.w = a
            self.steps += 1

    @precondition(lambda self: hasattr(self, "m"))
    @rule()
    def successors_agree(self):
        compiled = set(self.m.successors(self.w))
        runtime = set()
        for inp in self.m.inputs(self.w):
            w2 = self.rt.step(self.w, inp)
            if w2 is not None and w2 != self.w:
                runtime.add((inp, self.m.canonical(w2)))
        assert compiled == runtime


Differential.TestCase.settings = settings(
    max_examples=60, stateful_step_count=40, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestDifferential = Differential.TestCase


def test_long_seeded_runs_agree():
    """Long runs beyond what shrinking-friendly examples reach."""
    import random

    for profile in PROFILE_NAMES:
        sc = default_scenario()
        sc = dataclasses.replace(sc, bounds=dataclasses.replace(sc.bounds, **LIFTED))
        m = Model(sc, profile)
        rt = Runtime(m)
        rng = random.Random(profile)
        for _ in range(20):
            w = m.initial()
            for _ in range(120):
                inputs = m.inputs(w)
                if not inputs:
                    break
                inp = rng.choice(inputs)
                a, b = m.step(w, inp), rt.step(w, inp)
                assert a == b, (profile, inp)
                w = a if a is not None else w
