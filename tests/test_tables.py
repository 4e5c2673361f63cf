"""The transition tables are total: every (state, trigger) pair of every
machine is either a group of rows ending in an unguarded one, or exactly one
defined refusal.  So no input can fall through any engine undefined."""

from __future__ import annotations

import pytest

from ipsecmm.model import PROFILE_NAMES, IState, Role, RState, get_profile
from ipsecmm.model._machines import initiator_rows, refusal_rows, responder_rows
from ipsecmm.model._vocab import INITIATOR_TRIGGERS, RESPONDER_TRIGGERS

MACHINES = [
    (Role.INITIATOR, IState, INITIATOR_TRIGGERS, initiator_rows),
    (Role.RESPONDER, RState, RESPONDER_TRIGGERS, responder_rows),
]


@pytest.mark.parametrize("name", PROFILE_NAMES)
@pytest.mark.parametrize("role,states,triggers,rows_of", MACHINES, ids=["initiator", "responder"])
def test_every_pair_is_a_row_group_or_one_refusal(name, role, states, triggers, rows_of):
    prof = get_profile(name)
    rows = rows_of(prof)
    refusals = [r for r in refusal_rows(prof) if r.role == role]
    for st in states:
        for trig in triggers:
            group = [r for r in rows if r.src == st and r.trigger == trig]
            covering = [r for r in refusals if st in r.states and trig in r.triggers]
            where = f"{name} {role.name} {st.name} {trig.name}"
            if group:
                assert not covering, f"{where}: both rows and a refusal"
                assert group[-1].guard is None, f"{where}: the last row is guarded, so inputs can fall through"
                assert all(r.guard is not None for r in group[:-1]), f"{where}: an unguarded row hides later rows"
            else:
                assert len(covering) == 1, f"{where}: {len(covering)} refusals cover it"


@pytest.mark.parametrize("name", PROFILE_NAMES)
def test_rows_only_name_states_of_their_machine(name):
    prof = get_profile(name)
    for r in initiator_rows(prof):
        assert r.role == Role.INITIATOR and IState(r.src) in IState and IState(r.dst) in IState
        assert r.trigger in INITIATOR_TRIGGERS
    for r in responder_rows(prof):
        assert r.role == Role.RESPONDER and RState(r.src) in RState and RState(r.dst) in RState
        assert r.trigger in RESPONDER_TRIGGERS


def test_profiles_differ_where_the_catalogue_says():
    def triggers(name):
        prof = get_profile(name)
        return {r.trigger.name for r in initiator_rows(prof) + responder_rows(prof)}

    mm, mobike, ikev2 = triggers("mm"), triggers("mobike"), triggers("ikev2")
    assert {"RECV_CHECK_UPDATE", "RECV_ADD", "RECV_REMOVE", "RECV_SET_ALT"} <= mm
    assert not {"RECV_CHECK_UPDATE", "RECV_ADD", "RECV_REMOVE", "RECV_SET_ALT"} & mobike
    assert {"RECV_MOBIKE_UPDATE", "RECV_MOBIKE_ADDITIONAL", "RECV_RR_ECHO"} <= mobike
    assert "RECV_RR_ECHO" not in ikev2 and "RECV_MOBIKE_UPDATE" not in ikev2
    assert {"RECV_CREATE", "RECV_DELETE"} <= mm & mobike & ikev2
