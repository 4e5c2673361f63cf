"""The memoized ``Model.successors`` is the plain composition it stands for.

``Model.successors`` replays memoized changes on parts of worlds (``_succ``).
Here every reachable world of small scenarios, under every profile and every
profile option, is expanded both ways: by the memoized successors of the
explored model, and by a fresh model running ``inputs``, each handler of
``_env`` (with ``fire_cached``, as the unmemoized successors did) and
``canonical`` directly.  The lists must be equal in order, and the worlds
must print alike (so interning never swaps an enum for an int).
"""

from __future__ import annotations

import dataclasses

import pytest

from ipsecmm.model import OPTION_CHOICES, PROFILE_NAMES, Model, builtin_scenario, default_scenario
from ipsecmm.properties import Explorer

LIFTED = {"requests": 2, "moves": 2, "forge": 1, "drops": 2}


def plain_successors(m: Model, w):
    res = []
    for inp in m.inputs(w):
        w2 = m._env[inp.kind](w, inp, None, Model.fire_cached)
        if w2 is not None and w2 != w:
            res.append((inp, m.canonical(w2)))
    return res


def check(sc, profile, max_states=2500):
    m = Model(sc, profile)
    ex = Explorer(m, max_states=max_states)
    ex.run()
    ref = Model(sc, profile)
    for k, w in enumerate(ex.worlds):
        got, want = m.successors(w), plain_successors(ref, w)
        assert got == want
        if k % 5 == 0:  # printing is slow; a sample shows the types
            assert repr(got) == repr(want)


CASES = [("fallback", p, None) for p in PROFILE_NAMES] + [("stranded", p, None) for p in PROFILE_NAMES]
CASES += [("stranded", "mm", o) for o in sorted(OPTION_CHOICES)] + [("default", p, "lifted") for p in PROFILE_NAMES]


@pytest.mark.parametrize("case", CASES, ids=lambda c: "-".join(str(x) for x in c))
def test_memoized_successors_equal_the_plain_ones(case):
    name, profile, option = case
    sc = default_scenario() if name == "default" else builtin_scenario(name)
    if option == "lifted":
        sc = dataclasses.replace(sc, bounds=dataclasses.replace(sc.bounds, **LIFTED))
    elif option:
        sc = dataclasses.replace(sc, options=sc.options.replace(**{option: OPTION_CHOICES[option][1]}))
    check(sc, profile)


def test_worlds_from_elsewhere():
    """Worlds the memo has not built (here: built by ``step``) give the same
    successors, and repeated worlds come back as one object."""
    sc = default_scenario()
    m, ref = Model(sc, "mm"), Model(sc, "mm")
    w = m.initial()
    seen = 0
    for _ in range(40):
        succ = m.successors(w)
        assert succ == plain_successors(ref, w)
        if not succ:
            break
        again = m.successors(w)
        assert all(a[1] is b[1] for a, b in zip(succ, again, strict=True))
        inp = succ[seen % len(succ)][0]
        w = m.step(w, inp)  # a fresh world, not canonical, with parts the memo has not seen
        seen += 1
    assert seen > 10
