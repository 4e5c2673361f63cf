"""The requirement registry: every ID of the catalogue, and what checks it.

The IDs are the contract with ``shared/requirements.md``; a test fails when one
is missing.  Summaries are the project's own words.  Each entry names its
property (or properties) in the forms of this module; every engine reads these
same objects, so there is no second copy of a property per engine.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ipsecmm.model import Action, InKind, Input, Mode, Model, Reason, World

from . import _preds as P

StatePred = Callable[[Model, World], Any]
SlotPred = Callable[[Model, int], bool]
StepPred = Callable[[Model, World, Input, World], Any]


@dataclass(frozen=True)
class Invariant:
    """Every reachable state satisfying ``when`` satisfies ``then``."""

    then: StatePred
    when: StatePred | None = None
    #: reads only the peers' records and the working addresses (not channels)
    local: bool = True
    #: what must occur in some reachable state for the invariant to have been
    #: put to the test (when it never does, the verdict is vacuous); an
    #: invariant with a premise has that premise as its subject too
    subject: StatePred | None = None
    about: str = ""  # the subject in words, for the verdict


@dataclass(frozen=True)
class StepInvariant:
    """Every step whose pre-state, input and post-state satisfy ``when``
    satisfies ``then``.  ``kinds`` lists the inputs that can make ``when``
    true (a filter, so the explorer does not evaluate the rest)."""

    then: StepPred
    when: StepPred
    kinds: frozenset[InKind] = frozenset(InKind)
    #: reads only the peers' records, the delivered message and the working
    #: addresses of the step (not the channels afterwards)
    local: bool = True
    #: the inputs of a state whose step leaves it as it was, yet is one this
    #: property judges (an initiator's own refusal: the user hears a reason,
    #: the world does not change).  The state graph has no edge for them, so
    #: the explorer's hooks try them from every state.
    loops: Callable[[Model, World], list[Input]] | None = None


@dataclass(frozen=True)
class Monitor:
    """A property of runs rather than of single steps: a history (ghost)
    value starts at ``start``, follows every step by ``update``, and ``ok``
    must hold after every step with the history as updated.  Checked by a
    breadth-first search of (world, history) pairs, so a violation comes with
    a shortest run."""

    start: Callable[[Model, World], Any]
    update: Callable[[Model, Any, World, Input, World], Any]
    ok: Callable[[Model, Any, World, Input, World], bool]


@dataclass(frozen=True)
class Plan:
    """Where to look for a witness when the scenario's own bounds do not
    reach it: another built-in scenario, bound overrides, fewer actions."""

    scenario: str | None = None
    bounds: tuple[tuple[str, Any], ...] = ()
    actions: tuple[Action, ...] = ()

    def describe(self) -> str:
        parts = []
        if self.scenario:
            parts.append(f"scenario {self.scenario}")
        parts += [f"{k}={v}" for k, v in self.bounds]
        if self.actions:
            parts.append("actions " + ",".join(a.name for a in self.actions))
        return "; ".join(parts)


NICE = (("moves", 0), ("forge", 0), ("drops", 0))


@dataclass(frozen=True)
class Capability:
    """Each goal (a step) is reached by some run; ``after``: first reach that
    step, then the goal from there."""

    goals: tuple[tuple[str, StepPred], ...]
    plan: Plan | None = None
    after: StepPred | None = None
    #: the action whose attempt is shown when a goal cannot be reached
    attempt: Action | None = None
    #: what must also hold on every step (searched in the same exploration);
    #: a goal reached by a wrong step is no witness
    always: tuple[StepInvariant, ...] = ()
    #: the user actions the goals need (default: the attempted one); a
    #: scenario that excludes them cannot exercise the requirement
    uses: tuple[Action, ...] = ()

    #: per goal: the actions that can reach it and which slots they must
    #: name (None: any); by default every goal takes ``needs`` on any slot.
    #: Used to tell a goal no request could reach in a scenario from one the
    #: profile fails to reach.
    offers: tuple[tuple[tuple[Action, ...], SlotPred | None], ...] = ()
    #: the goals are about answers whatever they say (a refusal with the right
    #: reason): any request the user can ask exercises them, not only one the
    #: draft's checks accept
    any_answer: bool = False

    @property
    def needs(self) -> tuple[Action, ...]:
        return self.uses or ((self.attempt,) if self.attempt else ())

    def offer(self, g: int) -> tuple[tuple[Action, ...], SlotPred | None, bool]:
        actions, slots = self.offers[g] if self.offers else (self.needs, None)
        return actions, slots, self.any_answer


@dataclass(frozen=True)
class Response:
    """From every ``trigger`` step, every fair continuation reaches ``goal``
    within a bound (computed and reported)."""

    name: str


@dataclass(frozen=True)
class Structural:
    name: str


@dataclass(frozen=True)
class Comparison:
    """A capability in one search plus an invariant in another (make before
    break: ADD then REMOVE reaches the goal; UPDATE alone never overlaps)."""

    capability: Capability
    never: StatePred
    never_plan: Plan


@dataclass(frozen=True)
class Finding:
    """Under ``option``, at least one of ``breaks`` fails (the finding shows),
    while the default reading keeps them."""

    option: tuple[str, Any]
    breaks: tuple[str, ...]


Check = Invariant | StepInvariant | Monitor | Capability | Response | Structural | Comparison | Finding


@dataclass(frozen=True)
class Requirement:
    id: str
    sections: str
    summary: str
    kind: str  # capability | invariant | response | structural | finding
    checks: tuple[Check, ...]
    profiles: tuple[str, ...] = ("ikev2", "mobike", "mm")
    note: str = ""
    property: str = ""  # one-line statement of what is checked
    extra: dict[str, Any] = field(default_factory=dict)


DELIVER = frozenset({InKind.DELIVER})
ALL = ("ikev2", "mobike", "mm")
CHANGE_PLAN = Plan(bounds=(("requests", 2), *NICE), actions=(Action.ADD, Action.REMOVE, Action.UPDATE, Action.SET_ALT))

DECIDED = DELIVER | {InKind.RR_TIMEOUT}
#: MOB-PRECHECK and MH-PRECHECK: what a check-only answer must be, every time.
PRECHECK_TRUTHFUL = StepInvariant(P.check_truthful, P.check_answered, DELIVER)

REGISTRY: tuple[Requirement, ...] = (
    # ------------------------------------------------------------------ section 10 requirements
    Requirement(
        "MOB-UPDATE", "10.1.2", "The initiator replaces an address of an existing SA by a new one, "
        "and the SA keeps its keys and SPIs.", "capability",
        (Capability((("an UPDATE is accepted and the named SA moved on both peers, same keys", P.goal_update),),
                    attempt=Action.UPDATE),),
        property="sometimes: an accepted UPDATE answer, after which the named SA's addresses changed on both peers with gen 0",
    ),
    Requirement(
        "MOB-PRECHECK", "10.1.2, 4.2", "Before moving, the initiator asks whether an address, which need "
        "not be the message's source, would be accepted; asking changes nothing, and the answer is the one the "
        "real UPDATE would get from the same state.", "capability",
        (Capability((("a check of an UPDATE to an address other than the source is answered as the oracle "
                      "judges the real UPDATE", P.goal_precheck(Action.CHECK_UPDATE, other_source=True)),),
                    attempt=Action.CHECK_UPDATE, always=(PRECHECK_TRUTHFUL,)),),
        property="sometimes: the user's CHECK_UPDATE about an address other than the IP source is answered with the "
                 "oracle's judgement of the real UPDATE; always: every check-only answer is that judgement "
                 "(purity: INV-PRECHECK-PURE)",
    ),
    Requirement(
        "MOB-REASON", "10.1.2, 4.2", "A refused address request says which check failed (SPD, local policy, "
        "PAD, unknown or inactive SA, last address...), as an oracle written from the draft's checks judges it.", "invariant",
        (StepInvariant(P.reasons_precise, P.address_refusal_step, DECIDED),
         StepInvariant(P.local_reasons_precise, P.user_act, frozenset({InKind.ACT}), local=False,
                       loops=P.local_refusals),
         StepInvariant(P.gave_up_precise, P.waiting_timeout, frozenset({InKind.TIMEOUT}), local=False,
                       loops=P.ignored_timeouts)),
        profiles=("mobike", "mm"),
        note="ikev2 has no address requests to refuse: not applicable.",
        property="always: when a responder refuses an address request, the wire reason is the check that the "
                 "independent oracle (properties/_oracle.py) says fails first; an initiator refuses a user's request "
                 "itself exactly when the oracle's local checks fail, with the first failing one's reason, and "
                 "otherwise puts the request on the wire; a request left unanswered ends, after its retransmissions, "
                 "with GAVE_UP and no other reason",
    ),
    Requirement(
        "MOB-SINGLE-EXCHANGE", "10.1.2, 10.1.1", "Moving an SA to a new address takes one request/response "
        "exchange, counted on the wire, with and without a reachability check.", "structural", (Structural("single-exchange"),),
        property="counted on the wire (requests and COOKIE2 round trips, retransmissions not counted): the fewest "
                 "exchanges after which an SA's traffic runs on a new address on both peers is 1 where policy asks "
                 "no reachability check; the count where every network asks for one is reported beside it",
    ),
    Requirement(
        "MH-ADD", "10.2.2, 5.3", "The initiator adds an address to a named SA, which then carries traffic on "
        "all its current addresses.", "capability",
        (Capability((("an ADD is accepted; the SA has two current addresses and traffic uses both", P.goal_add),),
                    attempt=Action.ADD),),
        property="sometimes: an accepted ADD after which the SA has ≥2 current addresses on both peers and out = current",
    ),
    Requirement(
        "MH-REMOVE", "10.2.2, 5.3", "The initiator removes an address from a named SA.", "capability",
        (Capability((("a REMOVE is accepted and the address left the SA on both peers", P.goal_remove),),
                    plan=Plan(bounds=(("requests", 2), *NICE), actions=(Action.ADD, Action.REMOVE)),
                    attempt=Action.REMOVE),),
        property="sometimes: an accepted REMOVE after which the address is gone on both peers",
    ),
    Requirement(
        "MH-PRECHECK", "10.2.2", "ADD and REMOVE can be checked first; the answer is yes, or no with the "
        "reason, and it is the one the real ADD or REMOVE would get from the same state.", "capability",
        (Capability((("a check of an ADD is answered as the oracle judges the real ADD", P.goal_precheck(Action.CHECK_ADD)),
                     ("a check of a REMOVE is answered as the oracle judges the real REMOVE",
                      P.goal_precheck(Action.CHECK_REMOVE))),
                    attempt=Action.CHECK_ADD, always=(PRECHECK_TRUTHFUL,),
                    uses=(Action.CHECK_ADD, Action.CHECK_REMOVE)),),
        property="sometimes: the user's CHECK_ADD and CHECK_REMOVE are each answered with the oracle's judgement of the "
                 "real change; always: every check-only answer is that judgement",
    ),
    Requirement(
        "MH-ALTERNATE", "10.2.2, 5.4", "The initiator gives alternate addresses for a named SA.", "capability",
        (Capability((("alternates are accepted for the named SA on both peers", P.goal_alternates),),
                    attempt=Action.SET_ALT),),
        property="sometimes: an accepted alternates request after which the named SA holds them on both peers",
    ),
    Requirement(
        "EXT-MODES", "10.3.2, 10.3.1", "Every address action works on transport and on tunnel SAs; transport "
        "changes SAD and SPD, tunnel only the SAD's outer addresses.", "capability",
        (Capability(tuple((f"{change} on a {mode.name.lower()} SA", P.goal_mode(mode, change))
                          for mode in (Mode.TRANSPORT, Mode.TUNNEL) for change in P.MODE_EFFECTS),
                    plan=CHANGE_PLAN, attempt=Action.UPDATE,
                    offers=tuple(((P.MODE_ACTIONS[change],), P.in_mode(mode))
                                 for mode in (Mode.TRANSPORT, Mode.TUNNEL) for change in P.MODE_EFFECTS)),),
        property="sometimes, for each mode and each of UPDATE/ADD/REMOVE/alternates: accepted with SPD changed iff transport",
    ),
    Requirement(
        "EXT-EXPLICIT", "10.3.2, 10.3.1", "A request names the addresses it adds, removes or replaces; the new "
        "address need not be the message's source.", "capability",
        (Capability((("an UPDATE naming old and new, new not the source, is accepted", P.goal_explicit),),
                    attempt=Action.UPDATE),),
        property="sometimes: an accepted UPDATE whose old and new are named and whose new is not the IP source",
    ),
    Requirement(
        "EXT-ALT-PER-SA", "10.3.2", "Alternates attach to a given SA, a CHILD_SA as well as the IKE_SA.",
        "capability",
        (Capability((("alternates are accepted for a CHILD_SA on both peers", P.goal_alternates_child),),
                    attempt=Action.SET_ALT, offers=(((Action.SET_ALT,), P.child_slot),)),),
        property="sometimes: an accepted alternates request after which a CHILD_SA holds them on both peers",
    ),
    Requirement(
        "EXT-TARGET-SA", "10.3.2, 10.3.1", "A request names the SA it applies to, and no other SA changes in "
        "any respect: state, keys, addresses, alternates, traffic, SPD.",
        "invariant",
        (StepInvariant(P.targeted, P.request_carried, DELIVER),),
        property="always: a step carrying out a request leaves every other SA as it was, in every field "
                 "(state, keys, addresses, alternates, traffic, SPD entry)",
    ),
    # ------------------------------------------------------------------ scenarios, sections 4 to 11
    Requirement(
        "SCN-VALIDATE", "4.1, 9.1, 10.3.1", "The responder checks PAD, then SPD, then local policy (then return "
        "routability when asked) before it changes a database.", "invariant",
        (StepInvariant(P.validated, P.responder_change_step, DECIDED),),
        property="always: a responder changes a database for a request only when the oracle's checks pass and "
                 "return routability verified what policy asks; it refuses only what the oracle refuses",
    ),
    Requirement(
        "SCN-NO-REAUTH", "4.1", "An accepted move keeps the SA's negotiated parameters; nothing is "
        "re-authenticated.", "invariant",
        (StepInvariant(P.keys_kept, P.change_applied, DELIVER),),
        property="always: carrying out an address change leaves every SA's key generation and existence as it was",
    ),
    Requirement(
        "SCN-FALLBACK", "4.1, 10.1.1", "After a refusal the initiator still reaches a consistent state by "
        "creating a new CHILD_SA and deleting the old one.", "capability",
        (Capability((("a new CHILD_SA replaces the old one after a refusal", P.goal_fallback),),
                    after=P.goal_refused,
                    plan=Plan(bounds=(("requests", 3), *NICE), actions=(Action.UPDATE, Action.CREATE, Action.DELETE)),
                    attempt=Action.CREATE),),
        property="sometimes: after a refused request, a DELETE of the old CHILD_SA answered while a freshly negotiated "
                 "SA of its mode, on an initiator address the old one did not use, is active on both peers with the "
                 "same fresh keys, each sending to the other's current addresses",
    ),
    Requirement(
        "SCN-REFUSAL-HARMLESS", "5.3", "A refused request changes nothing on either peer and does not stop "
        "traffic on the current addresses, when it is refused or at any later step until the next request.", "invariant",
        (StepInvariant(P.refusal_harmless, P.refusal_step, DECIDED),
         Monitor(P.harmless_start, P.harmless_update, P.harmless_ok)),
        property="always: once a request is refused (decided or learned), and until that initiator's next request, "
                 "both peers' SAD and SPD (traffic included) equal those of the same run without the request",
    ),
    Requirement(
        "SCN-ALT-LAST-RESORT", "5.1, 5.4, 8", "An alternate is never used beside a current address, and only "
        "once every address in use has stopped working.", "invariant",
        (Invariant(P.alternate_alone, P.uses_alternate),
         StepInvariant(P.last_resort, P.alternate_taken, frozenset({InKind.PATH_DEAD, InKind.DELIVER}))),
        property="always: traffic to an alternate excludes traffic to current addresses; "
                 "a switch to an alternate happens on a failure report with every used address dead",
    ),
    Requirement(
        "SCN-NO-AUTO-ADD", "6", "An address seen only as the source of a message never joins an SA by itself.",
        "invariant",
        (StepInvariant(P.no_auto_add, P.gains_peer_address),),
        property="always: a peer's address joins an SA only in a step carrying out that peer's request naming it",
    ),
    Requirement(
        "SCN-MAKE-BEFORE-BREAK", "7, 8", "ADD then REMOVE moves an SA while a working address stays on it; one "
        "UPDATE never holds the old and the new address at once.", "capability",
        (Comparison(
            Capability((("an SA is moved off its first address by ADD then REMOVE", P.goal_moved_off),),
                       plan=Plan(scenario="make-before-break", actions=(Action.ADD, Action.REMOVE)),
                       attempt=Action.ADD),
            P.overlap, Plan(scenario="make-before-break", actions=(Action.UPDATE,))),),
        property="sometimes (ADD, REMOVE only): REMOVE leaves an SA on new addresses only; "
                 "never (UPDATE only): an SA with two current addresses",
    ),
    Requirement(
        "SCN-ACTIVE-ONLY", "8", "Address actions on an SA that is not active are refused.", "invariant",
        (StepInvariant(P.was_active, P.multihoming_applied, DELIVER),
         StepInvariant(P.cut_off_handled, P.failure_report, frozenset({InKind.PATH_DEAD}), loops=P.ignored_reports),
         StepInvariant(P.revived, P.update_accepted, DECIDED)),
        note="By default UPDATE revives an inactive SA (docs/model.md, reading R5); "
             "with inactive_update=refuse it is covered too.",
        property="always: a responder carrying out ADD, REMOVE or alternates found the SA active; an active SA "
                 "that a failure report cuts off moves its traffic off the dead addresses or stops being active; "
                 "an SA whose UPDATE the responder accepts is active afterwards",
    ),
    Requirement(
        "SCN-OWNER-DECIDES", "8, 10.3.1", "Only the owner of an address adds, removes or replaces it; the other "
        "peer may only fail over to alternates it was given.", "invariant",
        (StepInvariant(P.owner_decides, P.side_changes), Invariant(P.given_only, subject=P.traffic_to_alternate_or_given,
                                                                        about="an SA whose traffic moved")),
        property="always: a side's addresses change only by its owner's request; traffic goes to current or given addresses",
    ),
    Requirement(
        "SCN-SA-COUNT", "10.2.1", "Using m initiator and n responder addresses at once takes one CHILD_SA pair "
        "with the extension, 2mn CHILD_SAs without it.", "structural", (Structural("sa-count"),),
        property="CHILD_SAs needed for every address pair, from the most addresses one SA can carry, m×n up to 4×4",
    ),
    Requirement(
        "SCN-POLICY-CASES", "11", "Moves between networks with different security policies are accepted or "
        "refused with the matching reason, in each of the three cases of section 11.", "capability",
        tuple(Capability(((f"{name}: the move's answer is {expect.name}", P.policy_outcome(expect)),),
                         plan=Plan(scenario=name, actions=(Action.UPDATE,)), attempt=Action.UPDATE,
                         any_answer=expect != Reason.OK)
              for name, expect in (("policy-case1", Reason.POLICY), ("policy-case2", Reason.OK),
                                   ("policy-case3", Reason.PROTECTION))),
        property="sometimes, in each policy-case scenario: the UPDATE's answer is POLICY / OK (SA moved) / PROTECTION",
    ),
    # ------------------------------------------------------------------ safety and robustness
    Requirement(
        "INV-AGREE", "5.3, 9.1", "When no exchange is in flight, both peers hold the same address sets for "
        "every SA.", "invariant", (Invariant(P.agree, P.at_rest, local=False),),
        property="always: at rest (no request, answer or check in flight, IKE_SA alive) the SADs' address sets agree",
    ),
    Requirement(
        "INV-SAD-SPD", "9.1, 10.3.1", "In transport mode every address pair an SA uses is covered by the SPD "
        "of that peer.", "invariant", (Invariant(P.sad_spd, subject=P.any_transport_sa, about="a transport-mode SA"),),
        property="always: a transport SA's current addresses and traffic lie within its SPD selectors",
    ),
    Requirement(
        "INV-NONEMPTY", "5.3; RFC 5061", "Every active SA keeps at least one current address on each side.",
        "invariant", (Invariant(P.nonempty, subject=P.addresses_changed, about="an SA whose addresses changed"),),
        property="always: an active SA has a current address on each side, on both peers",
    ),
    Requirement(
        "INV-ALT-DISJOINT", "5.4", "An SA's alternates never overlap its current addresses.", "invariant",
        (Invariant(P.alt_disjoint, subject=P.any_alternate, about="an alternate address"),),
        property="always: alternates and current addresses of every SA are disjoint on both peers",
    ),
    Requirement(
        "INV-PRECHECK-PURE", "4.2, 8", "A check-only request never changes SAD, SPD or PAD.", "invariant",
        (StepInvariant(P.databases_unchanged, lambda m, pre, inp, post: P.precheck_step(m, pre, inp), DELIVER),),
        property="always: delivering a check-only request or its answer leaves both peers' SAD and SPD (PAD is static)",
    ),
    Requirement(
        "INV-ONCE", "RFC 5996 2.1-2.2", "A retransmitted or duplicated request is carried out at most once; the "
        "cached answer is sent again.", "invariant",
        (StepInvariant(P.applied_once, lambda m, pre, inp, post: P.old_request_step(m, pre, inp), DELIVER,
                       local=False),
         StepInvariant(P.window_kept, P.window_step, DECIDED, local=False),
         Monitor(P.once_start, P.once_update, P.once_ok)),
        property="always: a request that is not the next one changes nothing, and a retransmission of the last one "
                 "gets again the answer that was put on the wire for it; a responder's new answer moves its window "
                 "past that request, and a window that moves sends its answer in that step",
    ),
    Requirement(
        "INV-AUTH", "4.1, 14", "A message the IKE_SA does not protect changes nothing.", "invariant",
        (StepInvariant(P.receiver_unchanged, lambda m, pre, inp, post: P.unprotected_step(m, pre, inp), DELIVER,
                       local=False),),
        property="always: delivering an unprotected message leaves the receiving peer unchanged and unheard (no "
                 "answer, not even a cached one)",
    ),
    Requirement(
        "INV-RR", "RFC 4555 3.7, 5", "Where policy asks for return routability, no traffic goes to an address "
        "before it is verified.", "invariant", (Invariant(P.rr_verified, subject=P.traffic_needing_rr,
                                              about="traffic to a network that asks for return routability"),),
        property="always: a peer sends only to addresses verified or not needing verification",
    ),
    Requirement(
        "INV-PAD", "9.1", "No SA uses an address the PAD does not authorise for the peer's identity.",
        "invariant", (Invariant(P.pad_ok, subject=P.new_address_in_use, about="an SA using an address it did not start with"),),
        property="always: every current address and traffic destination of an SA is in the PAD",
    ),
    Requirement(
        "LIVE-CONVERGE", "4.1", "Under fair delivery, a request acceptable when it was sent ends accepted and "
        "in force on both peers within a bounded number of steps; a refusal does not count.", "response", (Response("converge"),),
        property="from every new request: under fair delivery (no loss, move or forgery; timers only when nothing "
                 "can be delivered) the initiator is answered and both peers agree on the SA (a deleted SA left with "
                 "nothing of it), and a request the oracle judged acceptable when it was sent is in force on both "
                 "peers (a created SA with the same keys and traffic on both), within B steps",
    ),
    Requirement(
        "LIVE-FAILOVER", "5.4, 8", "If every current address of an SA fails and a working alternate exists, "
        "traffic resumes on it within a bounded number of steps.", "response", (Response("failover"),),
        property="from every state where an SA's addresses are all dead and a working alternate exists: "
                 "under fair failure detection, traffic reaches a working address within B steps",
    ),
    # ------------------------------------------------------------------ readings of the draft
    Requirement(
        "FIND-4.1-ORDER", "4.1", "Read literally, section 4.1 has the mobile node update its SAs before "
        "sending; a refusal then leaves the peers disagreeing.", "finding",
        (Finding(("apply_early", True), ("INV-AGREE",)),),
        profiles=("mm",),
        note="ikev2 has no address change to apply early; mobike updates first and goes back on a refusal as "
             "RFC 4555 3.5 orders it, which settles the question: not applicable to either.",
        property="under apply_early=true, INV-AGREE fails (shown by a run); under the default it holds",
    ),
    Requirement(
        "FIND-12-BOTH-MOVE", "12", "Section 12 leaves simultaneous moves of both peers out of scope; letting "
        "the responder move too shows what breaks.", "finding",
        (Finding(("both_move", True), ("LIVE-CONVERGE", "INV-AGREE")),),
        profiles=("mobike", "mm"),
        note="ikev2 cannot move an SA at all: not applicable.",
        property="under both_move=true, LIVE-CONVERGE or INV-AGREE fails (shown by a run)",
    ),
)


def by_id() -> dict[str, Requirement]:
    return {r.id: r for r in REGISTRY}
