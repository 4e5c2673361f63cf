"""Behaviour of the machines on the built-in and shipped scenarios.

Each test drives the composed system through concrete inputs and checks what
both peers' databases say afterwards, so a wrong guard, a wrong order of
checks or a wrong effect fails here with a readable difference.
"""

from __future__ import annotations

import dataclasses

from ipsecmm.model import (
    Action,
    InKind,
    Input,
    IState,
    Kind,
    Model,
    Reason,
    RState,
    SAState,
    default_scenario,
)

from conftest import model
from helpers import act, deliver, exchange, run

I, R = 0, 1


def sad(m: Model, w, peer: int, sa: str):
    return w.peers[peer].sad[m.sc.slot_index(sa)]


def spd(m: Model, w, peer: int, sa: str):
    return w.peers[peer].spd[m.sc.slot_index(sa)]


def bit(m: Model, *names: str) -> int:
    return sum(1 << m.sc.addr_index(n) for n in names)


def answer(events) -> Reason:
    got = [e.reason for e in events if e.what == "answer"]
    assert len(got) == 1, events
    return Reason(got[0])


def test_update_transport_with_return_routability_changes_sad_and_spd_on_both_peers():
    m = model()
    # a2 is on wifi, where the responder's policy asks for return routability.
    w, ev = run(m, [act(m, Action.UPDATE, "web", "a1", "a2"), deliver(I)])
    assert w.peers[R].rsp.st == RState.RR_WAIT
    challenge = w.chan[R][0]
    assert challenge.kind == Kind.RR_CHALLENGE and challenge.dst == m.sc.addr_index("a2")
    assert sad(m, w, R, "web").cur_i == bit(m, "a1")  # nothing applied before the check
    w, ev = run(m, [deliver(R), deliver(I), deliver(R)], w)
    assert answer(ev) == Reason.OK
    for peer in (I, R):
        e = sad(m, w, peer, "web")
        assert e.cur_i == bit(m, "a2") and e.gen == 0
        assert spd(m, w, peer, "web").sel_i == bit(m, "a2")  # transport: selectors follow
        assert sad(m, w, peer, "vpn").cur_i == bit(m, "a1")  # no other SA moved
    assert sad(m, w, R, "web").out == bit(m, "a2")
    assert w.peers[R].rsp.verified & bit(m, "a2")


def test_tunnel_update_changes_only_the_sad():
    m = Model(dataclasses.replace(default_scenario()), "mm")
    w, _ = run(m, [act(m, Action.UPDATE, "vpn", "a1", "a2"), deliver(I), deliver(R), deliver(I), deliver(R)])
    for peer in (I, R):
        assert sad(m, w, peer, "vpn").cur_i == bit(m, "a2")
        assert spd(m, w, peer, "vpn") == (0, 0)  # inner selectors: untouched


def test_refusals_name_the_first_failing_check_in_order():
    m = model()
    cases = {
        ("ike", "a3"): Reason.FAMILY,  # the IKE_SA has only a v4 responder address
        ("web", "a3"): Reason.SPD,  # web's SPD covers home and wifi only
        ("vpn", "a3"): Reason.POLICY,  # the responder refuses the lte network
    }
    for (sa, new), reason in cases.items():
        w, ev = exchange(m, act(m, Action.UPDATE, sa, "a1", new))
        assert answer(ev) == reason, (sa, new)
        assert w.peers[R].sad == m.initial().peers[R].sad and w.peers[R].spd == m.initial().peers[R].spd
        assert w.peers[I].sad == m.initial().peers[I].sad


def test_pad_is_checked_before_spd():
    sc = default_scenario()
    peers = (sc.peers[0], dataclasses.replace(sc.peers[1], pad=sc.peers[1].pad & ~(1 << sc.addr_index("a3"))))
    m = Model(dataclasses.replace(sc, peers=peers), "mm")
    _, ev = exchange(m, act(m, Action.UPDATE, "web", "a1", "a3"))
    assert answer(ev) == Reason.PAD  # SPD would refuse too, but the PAD comes first


def test_structural_refusals():
    m = model()
    assert answer(exchange(m, act(m, Action.REMOVE, "web", "a1"))[1]) == Reason.LAST_ADDRESS
    assert answer(exchange(m, act(m, Action.REMOVE, "web", "a2"))[1]) == Reason.ABSENT
    assert answer(exchange(m, act(m, Action.ADD, "web", new="a1"))[1]) == Reason.ALREADY_PRESENT
    assert answer(exchange(m, act(m, Action.ADD, "web", new="r1"))[1]) == Reason.NOT_OWNER
    assert answer(exchange(m, act(m, Action.SET_ALT, "web", alts=("a1", "a2")))[1]) == Reason.ALT_OVERLAP
    assert answer(exchange(m, act(m, Action.ADD, "web2", new="a2"))[1]) == Reason.UNKNOWN_SA


def test_check_only_answers_without_changing_anything():
    m = model()
    w0 = m.initial()
    w, ev = exchange(m, act(m, Action.CHECK_UPDATE, "vpn", "a1", "a2"))
    assert answer(ev) == Reason.OK
    for peer in (I, R):
        assert w.peers[peer].sad == w0.peers[peer].sad and w.peers[peer].spd == w0.peers[peer].spd
    _, ev = exchange(m, act(m, Action.CHECK_ADD, "web", new="a3"))
    assert answer(ev) == Reason.SPD


def test_retransmitted_request_is_applied_once_and_the_cached_answer_replayed():
    m = model()
    up = act(m, Action.ADD, "vpn", new="a2")
    w, _ = run(m, [up, deliver(I), deliver(R), deliver(I)])  # RR done, answer in flight
    applied = w.peers[R]
    w, ev = run(m, [Input(InKind.DROP, R, 0), Input(InKind.TIMEOUT, I), deliver(I)], w)
    assert w.peers[R].sad == applied.sad  # the duplicate changed nothing
    assert [e.what for e in ev].count("send") == 2  # retransmission, then the cached answer
    assert w.chan[R][0] == applied.rsp.cache
    w, ev = run(m, [deliver(R)], w)
    assert answer(ev) == Reason.OK and sad(m, w, I, "vpn").cur_i == bit(m, "a1", "a2")


def test_unprotected_request_changes_nothing():
    m = model()
    w, _ = run(m, [Input(InKind.FORGE, I)])
    forged = w.chan[I][0]
    assert forged.prot == 0
    w2, ev = run(m, [deliver(I)], w)
    assert w2.peers == w.peers
    assert [e.detail for e in ev if e.what == "discard"] == ["unprotected"]


def test_give_up_after_the_retransmission_bound():
    m = model()
    inputs = [act(m, Action.CHECK_ADD, "web", new="a2"), Input(InKind.DROP, I, 0)]
    for _ in range(m.sc.bounds.retransmits):
        inputs += [Input(InKind.TIMEOUT, I), Input(InKind.DROP, I, 0)]
    w, _ = run(m, [*inputs, Input(InKind.TIMEOUT, I)])
    assert w.peers[I].ini.st == IState.DEAD


def test_failover_to_an_alternate_and_inactive_without_one():
    m = model()
    w, ev = run(m, [act(m, Action.SET_ALT, "vpn", alts=("a2",)), deliver(I), deliver(R), deliver(I), deliver(R)])
    assert answer(ev) == Reason.OK and sad(m, w, R, "vpn").alt_i == bit(m, "a2")
    w, ev = run(m, [Input(InKind.LOSE, I, m.sc.addr_index("a1")), Input(InKind.PATH_DEAD, R)], w)
    assert sad(m, w, R, "vpn").out == bit(m, "a2")
    assert sad(m, w, R, "vpn").cur_i == bit(m, "a1")  # the agreed addresses stay; only traffic moves
    assert sad(m, w, R, "web").state == SAState.INACTIVE  # no alternate to go to
    assert sad(m, w, R, "ike").state == SAState.INACTIVE


def _refusal(events: list, peer: int):
    return next(ev.reason for ev in events if ev.what == "refuse" and ev.peer == peer)


def test_address_actions_on_an_inactive_sa_are_refused_but_update_revives_it():
    m = model()
    a1 = m.sc.addr_index("a1")
    cut = [Input(InKind.LOSE, I, a1), Input(InKind.PATH_DEAD, R)]
    # An ADD sent while a1 still worked arrives after R marked vpn inactive.
    w, _ = run(m, [act(m, Action.ADD, "vpn", new="a2"), *cut])
    assert sad(m, w, R, "vpn").state == SAState.INACTIVE
    _, ev = run(m, [deliver(I)], w)
    assert _refusal(ev, R) == Reason.INACTIVE_SA
    # Once the node knows its SA is cut off it does not ask at all (reading R16)...
    w, _ = run(m, cut)
    ev = []
    assert m.step(w, act(m, Action.ADD, "vpn", new="a2"), ev) in (None, w)  # nothing sent, nothing changed
    assert _refusal(ev, I) == Reason.INACTIVE_SA
    # ...but mobility is how the SA comes back: UPDATE is sent, accepted, and revives it.
    w2, ev = run(m, [act(m, Action.UPDATE, "vpn", "a1", "a2"), deliver(I), deliver(R), deliver(I), deliver(R)], w)
    assert sad(m, w2, R, "vpn").state == SAState.ACTIVE and sad(m, w2, R, "vpn").cur_i == 1 << m.sc.addr_index("a2")
    # With inactive_update=refuse an UPDATE on an inactive SA is refused too.
    m2 = model(inactive_update="refuse")
    w, _ = run(m2, [act(m2, Action.UPDATE, "vpn", "a1", "a2"), *cut])
    _, ev = run(m2, [deliver(I)], w)
    assert _refusal(ev, R) == Reason.INACTIVE_SA


def test_mobike_moves_ike_and_tunnel_sas_but_not_transport():
    m = model(profile="mobike")
    rr = Input(InKind.RR_TIMEOUT, R)
    # The update, its answer, the responder's check of a2 (wifi asks for one), the echo.
    w, ev = run(m, [act(m, Action.UPDATE, "web", "a1", "a2"), deliver(I), deliver(R), rr, deliver(R), deliver(I)])
    assert answer(ev) == Reason.OK
    for peer in (I, R):
        assert sad(m, w, peer, "ike").cur_i == bit(m, "a2")
        assert sad(m, w, peer, "vpn").cur_i == bit(m, "a2")
        assert sad(m, w, peer, "web").cur_i == bit(m, "a1")  # RFC 4555 leaves transport mode out
    assert w.peers[R].rsp.st == RState.READY and w.peers[R].rsp.verified & bit(m, "a2")


def test_mobike_initiator_moves_its_sas_before_it_asks():
    # RFC 4555 3.5: the IKE_SA and the IPsec SAs move first, then
    # UPDATE_SA_ADDRESSES goes out from the new address.
    m = model(profile="mobike")
    w, _ = run(m, [act(m, Action.UPDATE, "ike", "a1", "a2")])
    assert sad(m, w, I, "ike").cur_i == bit(m, "a2") and sad(m, w, I, "vpn").cur_i == bit(m, "a2")
    assert w.chan[I][0].kind == Kind.MOBIKE_UPDATE and w.chan[I][0].src == m.sc.addr_index("a2")
    assert sad(m, w, R, "ike").cur_i == bit(m, "a1")


def test_mobike_initiator_goes_back_when_refused():
    m = model(profile="mobike")
    w, ev = exchange(m, act(m, Action.UPDATE, "ike", "a1", "a3"), run(m, [Input(InKind.GAIN, I, m.sc.addr_index("a3"))])[0])
    assert answer(ev) == Reason.UNACCEPTABLE_ADDRESSES  # a v6 address for a v4 IKE_SA
    for peer in (I, R):
        assert sad(m, w, peer, "ike").cur_i == bit(m, "a1") and sad(m, w, peer, "vpn").cur_i == bit(m, "a1")


def test_mobike_responder_answers_before_it_checks_return_routability():
    m = model(profile="mobike")
    w, _ = run(m, [act(m, Action.UPDATE, "ike", "a1", "a2"), deliver(I)])
    assert w.chan[R][0].resp == 1 and w.chan[R][0].reason == Reason.OK  # answered, no challenge yet
    assert w.peers[R].rsp.st == RState.RR_WAIT
    assert sad(m, w, R, "ike").cur_i == bit(m, "a2")  # the IKE_SA moved with the answer
    assert sad(m, w, R, "vpn").cur_i == bit(m, "a1")  # the IPsec SAs wait for the check
    w, _ = run(m, [deliver(R), Input(InKind.RR_TIMEOUT, R)], w)
    assert w.chan[R][0].kind == Kind.RR_CHALLENGE and w.chan[R][0].dst == m.sc.addr_index("a2")


def test_mobike_failed_check_leaves_the_ipsec_sas_and_refuses_nothing():
    m = model(profile="mobike")
    rr = Input(InKind.RR_TIMEOUT, R)
    w, ev = run(m, [act(m, Action.UPDATE, "ike", "a1", "a2"), deliver(I), deliver(R), rr,
                    Input(InKind.DROP, R, 0), rr])
    assert answer(ev) == Reason.OK and not [e for e in ev if e.what == "refuse"]
    assert w.peers[R].rsp.st == RState.READY
    assert sad(m, w, R, "vpn").cur_i == bit(m, "a1") and sad(m, w, R, "vpn").out == bit(m, "a1")
    assert sad(m, w, I, "vpn").cur_i == bit(m, "a2")  # the initiator cannot know


def test_mobike_newer_move_starts_again_instead_of_busy():
    m = _mobike(requests=2)
    first = act(m, Action.UPDATE, "ike", "a1", "a2")
    w, ev = run(m, [first, act(m, Action.UPDATE, "ike", "a2", "a1")])
    assert not [e for e in ev if e.what == "refuse"]
    ini = w.peers[I].ini
    assert ini.st == IState.WAIT and ini.req.mid == 2 and ini.req.src == m.sc.addr_index("a1")  # readdressed
    assert sad(m, w, I, "ike").cur_i == bit(m, "a1")
    # The first update reaches the responder; its answer is ignored and a new
    # UPDATE_SA_ADDRESSES (message ID 3) goes out from a1 on the next timer.
    w, _ = run(m, [deliver(I), deliver(R)], w)
    assert sad(m, w, R, "ike").cur_i == bit(m, "a2")
    w, _ = run(m, [Input(InKind.TIMEOUT, I)], w)
    assert w.chan[I][0].kind == Kind.MOBIKE_UPDATE and w.chan[I][0].mid == 3 and w.chan[I][0].src == m.sc.addr_index("a1")
    # The responder finishes its check of a2 before it takes the next request
    # (one exchange at a time, docs/model.md); the retransmission then lands.
    rr = Input(InKind.RR_TIMEOUT, R)
    w, ev = run(m, [deliver(I), rr, deliver(R), deliver(I), Input(InKind.TIMEOUT, I), deliver(I), deliver(R)], w)
    assert answer(ev) == Reason.OK and w.peers[I].ini.st == IState.IDLE
    for peer in (I, R):
        assert sad(m, w, peer, "ike").cur_i == bit(m, "a1") and sad(m, w, peer, "vpn").cur_i == bit(m, "a1")


def test_a_cached_answer_goes_where_the_retransmission_came_from():
    # RFC 7296 2.11; a MOBIKE initiator that moved again retransmits from its newer address.
    m = _mobike(requests=2)
    w, _ = run(m, [act(m, Action.UPDATE, "ike", "a1", "a2"), deliver(I), Input(InKind.DROP, R, 0),
                   act(m, Action.UPDATE, "ike", "a2", "a1"), Input(InKind.TIMEOUT, I), deliver(I)])
    resp = w.chan[R][0]
    assert resp.resp == 1 and resp.mid == 2 and resp.dst == m.sc.addr_index("a1") and resp.src == m.sc.addr_index("r1")


def _mobike(**bounds) -> Model:
    sc = default_scenario()
    return Model(dataclasses.replace(sc, bounds=dataclasses.replace(sc.bounds, **bounds)), "mobike")


def test_mobike_sees_tunnel_sas_on_the_ike_sas_addresses():
    # The default scenario's vpn declares r1 and r2; a MOBIKE IPsec SA runs on the IKE_SA's pair.
    m = model(profile="mobike")
    ike, vpn = m.sc.slots[0], m.sc.slots[m.sc.slot_index("vpn")]
    assert (vpn.cur_i, vpn.cur_r) == (ike.cur_i, ike.cur_r) == (bit(m, "a1"), bit(m, "r1"))
    web = m.sc.slots[m.sc.slot_index("web")]
    assert web.cur_r == bit(m, "r1") | bit(m, "r2")  # transport mode: as declared
    assert model(profile="mm").sc.slots[m.sc.slot_index("vpn")].cur_r == bit(m, "r1") | bit(m, "r2")
    fo = model("failover", profile="mobike").sc
    assert fo.slots[0].alt_i == fo.slots[0].alt_i | (1 << fo.addr_index("a3")) and fo.slots[1].alt_i == 0


def test_mobike_refusals_do_not_say_why():
    m = model(profile="mobike")
    w, _ = run(m, [Input(InKind.GAIN, I, m.sc.addr_index("a3")), act(m, Action.UPDATE, "vpn", "a1", "a3"), deliver(I)])
    resp = w.chan[R][0]
    assert resp.reason == Reason.UNACCEPTABLE_ADDRESSES and resp.why == Reason.FAMILY


def test_plain_ikev2_cannot_express_an_update():
    m = model(profile="ikev2")
    events: list = []
    assert m.step(m.initial(), act(m, Action.UPDATE, "web", "a1", "a2"), events) is None
    assert [Reason(e.reason) for e in events if e.what == "refuse"] == [Reason.UNSUPPORTED]


def test_literal_reading_of_4_1_updates_before_the_answer():
    m = model(apply_early=True)
    w, ev = exchange(m, act(m, Action.UPDATE, "vpn", "a1", "a3"))
    assert answer(ev) == Reason.POLICY
    assert sad(m, w, I, "vpn").cur_i == bit(m, "a3")  # the mobile node already moved
    assert sad(m, w, R, "vpn").cur_i == bit(m, "a1")  # the responder refused: they disagree


def test_fallback_creates_a_new_sa_then_deletes_the_old_one():
    m = model("fallback")
    w, ev = exchange(m, act(m, Action.UPDATE, "web", "a1", "a2"))
    assert answer(ev) == Reason.PROTECTION
    w, ev = exchange(m, act(m, Action.CREATE, "web-enc", new="a2"), w)
    assert answer(ev) == Reason.OK
    w, ev = exchange(m, act(m, Action.DELETE, "web"), w)
    assert answer(ev) == Reason.OK
    for peer in (I, R):
        assert sad(m, w, peer, "web").state == SAState.DELETED
        new = sad(m, w, peer, "web-enc")
        assert new.state == SAState.ACTIVE and new.gen == 1 and new.cur_i == bit(m, "a2")
        assert spd(m, w, peer, "web-enc").sel_i == bit(m, "a2")


def test_machines_only_see_their_own_peer():
    """The responder's result depends on its own state and the message only."""
    m = model()
    w, _ = run(m, [act(m, Action.UPDATE, "vpn", "a1", "a3")])
    other = w._replace(up=bit(m, "r1"), peers=(m.initial().peers[I], w.peers[R]))
    assert m.step(w, deliver(I)).peers[R] == m.step(other, deliver(I)).peers[R]
