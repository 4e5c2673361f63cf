"""Seeded-fault implementations for the conformance suite's teeth.

Each factory builds an adapter for a plausible, wrong implementation.  Most
are the reference adapter over a seeded model mutant (the same mistakes
``ipsecmm mutants`` checks the properties against); the last three break
the wire behaviour or the reported SPD instead of the tables, which only the
vectors can see.  A test
asserts that every one of them fails at least one canonical vector.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ipsecmm.gen import Observed, ReferenceAdapter
from ipsecmm.model import Mode
from ipsecmm.properties._mutants import MUTANTS


def _mutant(name: str) -> Callable[[], ReferenceAdapter]:
    return lambda: ReferenceAdapter(name)


skip_pad = _mutant("skip-pad")
apply_refused = _mutant("apply-before-validate")
remove_last = _mutant("remove-last")
alternate_beside_current = _mutant("alternate-beside-current")
accept_unprotected = _mutant("accept-unprotected")
reapply_retransmission = _mutant("reapply-duplicate")
update_before_rr = _mutant("update-before-rr")
wrong_sa = _mutant("wrong-sa")
check_changes_state = _mutant("check-changes")
auto_add_source = _mutant("auto-add-source")
wrong_reason = _mutant("wrong-reason")
checks_say_yes = _mutant("checks-say-yes")
refuse_ike_update = _mutant("refuse-ike-update")
policy_as_spd = _mutant("policy-as-spd")


class _AnswerWithNextId(ReferenceAdapter):
    """Answers carry the message ID after the request's (an off-by-one)."""

    def step(self, step: Mapping[str, Any]) -> Observed:
        got = super().step(step)
        got.sends = [{**m, "message_id": m["message_id"] + 1} if m["response"] else m for m in got.sends]
        return got


class _NeverRetransmits(ReferenceAdapter):
    """Keeps the outstanding request but sends nothing when the timer fires."""

    def step(self, step: Mapping[str, Any]) -> Observed:
        got = super().step(step)
        if step["actor"] == "timer" and step["input"].get("timer") == "retransmission":
            got.sends = []
        return got


class _TunnelSelectorsFollow(ReferenceAdapter):
    """Installs transport-style selectors on a tunnel SA once its outer
    addresses change: the SPD then names the outer addresses instead of the
    protected subnets (draft 10.3.1 keeps a tunnel's SPD as it is)."""

    def reset(self, setup: Any) -> None:
        super().reset(setup)
        self._first = super().snapshot()

    def snapshot(self) -> dict[str, Any]:
        snap = super().snapshot()
        assert self.model is not None
        for spec in self.model.sc.slots:
            now, then = snap.get(spec.name), self._first.get(spec.name)
            if (spec.mode == Mode.TUNNEL and now is not None and then is not None and "spd" in now
                    and (now["i"], now["r"]) != (then["i"], then["r"])):
                now["spd"] = {"i": now["i"], "r": now["r"]}
        return snap


answer_next_id = _AnswerWithNextId
never_retransmits = _NeverRetransmits
tunnel_selectors_follow = _TunnelSelectorsFollow

FAULTS: dict[str, Callable[[], Any]] = {
    "skip_pad": skip_pad,
    "apply_refused": apply_refused,
    "remove_last": remove_last,
    "alternate_beside_current": alternate_beside_current,
    "accept_unprotected": accept_unprotected,
    "reapply_retransmission": reapply_retransmission,
    "update_before_rr": update_before_rr,
    "wrong_sa": wrong_sa,
    "check_changes_state": check_changes_state,
    "auto_add_source": auto_add_source,
    "wrong_reason": wrong_reason,
    "checks_say_yes": checks_say_yes,
    "refuse_ike_update": refuse_ike_update,
    "policy_as_spd": policy_as_spd,
    "answer_next_id": answer_next_id,
    "never_retransmits": never_retransmits,
    "tunnel_selectors_follow": tunnel_selectors_follow,
}

# Every model mutant has its fault here (a new mutant must get one too).
assert {f"{m.name}" for m in MUTANTS} <= {getattr(f(), "mutant", None) for f in FAULTS.values()}
