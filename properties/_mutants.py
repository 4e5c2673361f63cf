"""Seeded model mutants: each is a plausible implementation mistake.

A mutant rewrites rows of a model's tables (never the source of the tables),
so the mutated model is still driven by the same dispatchers.  Every mutant
must make at least one property of the registry fail; ``ipsecmm mutants``
prints which property kills which mutant, and a test asserts all are killed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ipsecmm.model import Kind, Model, Reason, Role, Row
from ipsecmm.model import _machines as mach
from ipsecmm.model._machines import Effect, MInput, Out, PeerState, Result


@dataclass(frozen=True)
class Mutant:
    name: str
    mistake: str
    apply: Callable[[Model], None]

    def changes(self, m: Model) -> bool:
        """Apply the mutant to ``m`` and say whether any row changed.  The
        mutants rewrite rows by their guards, and a profile may have none of
        the rows a mutant rewrites (ikev2 never removes an address): such a
        mutant is the profile itself, so it cannot be killed and must not be
        counted as surviving."""
        before = {role: list(rows) for role, rows in m.rows_list.items()}
        self.apply(m)
        return any(len(rows) != len(before[role]) or any(a is not b for a, b in zip(rows, before[role], strict=True))
                   for role, rows in m.rows_list.items())


def _rewrite(m: Model, change: Callable[[Row], Row | None]) -> None:
    """Replace or drop rows (``change`` returns the new row, or None to drop)
    in both the row lists (runtime) and the dispatch index (compiled)."""
    for role, rows in m.rows_list.items():
        new = []
        for r in rows:
            r2 = change(r)
            if r2 is not None:
                new.append(r2)
        m.rows_list[role] = new
    m.index_rows()


def _drop(label: str, role: Role = Role.RESPONDER) -> Callable[[Model], None]:
    def apply(m: Model) -> None:
        _rewrite(m, lambda r: None if r.role == role and r.guard is not None and r.guard.label == label else r)

    return apply


def _apply_first(m: Model) -> None:
    """Carry requests out before any check: the accept row jumps the queue."""

    def change(r: Row) -> Row | None:
        if r.role == Role.RESPONDER and r.guard is not None and r.src == 0 and r.trigger.name.startswith("RECV_") \
                and r.guard.label not in ("unprotected", "retransmission", "unexpected message ID"):
            return None
        return r

    _rewrite(m, change)


def _reapply(m: Model) -> None:
    """A retransmission is processed again instead of answered from the cache."""

    def change(r: Row) -> Row | None:
        if r.role == Role.RESPONDER and r.guard is not None and r.guard.label == "retransmission":
            kind = Kind(r.trigger.value - 30)

            def again(mm: Model, ps: PeerState, p: int, x: MInput, out: Out, kind: Kind = kind) -> Result:
                return mach._accept(mm, ps, p, x.msg, kind, out)

            return Row(r.role, r.src, r.trigger, r.guard, Effect("apply again", again), r.dst, r.reqs)
        return r

    _rewrite(m, change)


def _check_applies(m: Model) -> None:
    """A check-only request that passes its checks is carried out."""

    def change(r: Row) -> Row | None:
        name = r.trigger.name
        if r.role == Role.RESPONDER and r.guard is None and r.src == 0 and name.startswith("RECV_CHECK_"):
            base = mach.base_kind(Kind(r.trigger.value - 30))

            def apply(mm: Model, ps: PeerState, p: int, x: MInput, out: Out, base: Kind = base) -> Result:
                ps = mach.apply_change(mm, ps, p, 1 - p, x.msg, base)
                return mach._respond(mm, ps, p, x.msg, Reason.OK, base, out)

            return Row(r.role, r.src, r.trigger, None, Effect("apply; answer(OK)", apply), r.dst, r.reqs)
        return r

    _rewrite(m, change)


def _wrong_sa(m: Model) -> None:
    """Every accepted change also lands on the first CHILD_SA."""
    changes = (Kind.UPDATE, Kind.ADD, Kind.REMOVE, Kind.SET_ALT)

    def change(r: Row) -> Row | None:
        if r.role != Role.RESPONDER or "apply" not in r.effect.label:
            return r
        inner = r.effect

        def apply(mm: Model, ps: PeerState, p: int, x: MInput, out: Out, inner: Effect = inner) -> Result:
            req = ps.rsp.pending if x.trigger.name == "RECV_RR_ECHO" else x.msg
            kind = Kind(int(req.kind))
            ps2, sends = inner(mm, ps, p, x, out)
            if kind in changes and req.sa != 1 and mm.n_slots > 1 and ps2.sad != ps.sad:
                ps2 = mach.apply_change(mm, ps2, p, 1 - p, req._replace(sa=1), kind)
            return ps2, sends

        return Row(r.role, r.src, r.trigger, r.guard, Effect(inner.label + " (twice)", apply), r.dst, r.reqs)

    _rewrite(m, change)


def _auto_add_source(m: Model) -> None:
    """The responder also adopts the IP source of an accepted request."""

    def change(r: Row) -> Row | None:
        if r.role == Role.RESPONDER and r.guard is None and r.src == 0 and r.trigger.name in (
                "RECV_UPDATE", "RECV_ADD", "RECV_SET_ALT"):
            kind = Kind(r.trigger.value - 30)

            def apply(mm: Model, ps: PeerState, p: int, x: MInput, out: Out, kind: Kind = kind) -> Result:
                ps, sends = mach._accept(mm, ps, p, x.msg, kind, out)
                k = mach._slot(mm, x.msg.sa)
                e = ps.sad[k]
                src = 1 << x.msg.src
                ps = ps._replace(sad=mach.set_slot(ps.sad, k, mach.with_side(
                    e, 1 - p, mach.cur_of(e, 1 - p) | src, mach.alt_of(e, 1 - p) & ~src)))
                return ps, sends

            return Row(r.role, r.src, r.trigger, None, Effect("apply; adopt source", apply), r.dst, r.reqs)
        return r

    _rewrite(m, change)


def _alternate_beside(m: Model) -> None:
    """Failover adds the alternate beside the addresses in use."""

    def change(r: Row) -> Row | None:
        if r.role == Role.RESPONDER and r.trigger.name == "PATH_DEAD" and r.guard is not None:
            def fail(mm: Model, ps: PeerState, p: int, x: MInput, out: Out) -> Result:
                ps2, sends = mach.e_failover(mm, ps, p, x, out)
                sad = tuple(e2._replace(out=e2.out | e1.out) if e2.out != e1.out else e2
                            for e1, e2 in zip(ps.sad, ps2.sad, strict=True))
                return ps2._replace(sad=sad), sends

            return Row(r.role, r.src, r.trigger, r.guard, Effect("fail over beside", fail), r.dst, r.reqs)
        return r

    _rewrite(m, change)


def _reported_as(label: str, reason: Reason) -> Callable[[Model], None]:
    """The check behind guard ``label`` refuses with the wrong ``reason``."""

    def apply(m: Model) -> None:
        def change(r: Row) -> Row | None:
            if r.role == Role.RESPONDER and r.guard is not None and r.guard.label == label:
                kind = Kind(r.trigger.value - 30)
                return Row(r.role, r.src, r.trigger, r.guard, mach.e_refuse(reason, mach.base_kind(kind)),
                           r.dst, r.reqs)
            return r

        _rewrite(m, change)

    return apply


def _checks_say_yes(m: Model) -> None:
    """A check-only request is answered OK without running a single check."""
    wire_rows = ("unprotected", "retransmission", "unexpected message ID")

    def change(r: Row) -> Row | None:
        if r.role == Role.RESPONDER and r.trigger.name.startswith("RECV_CHECK_") and r.guard is not None \
                and r.guard.label not in wire_rows:
            return None
        return r

    _rewrite(m, change)


def _refuse_ike_update(m: Model) -> None:
    """Every UPDATE of the IKE_SA that passes the checks is refused as POLICY."""
    from ipsecmm.model import RState, Trigger
    from ipsecmm.model._machines import Guard

    def names_ike(mm: Model, ps: PeerState, p: int, x: MInput) -> bool:
        return bool(x.msg.sa == 0)

    refuse = Row(Role.RESPONDER, RState.READY, Trigger.RECV_UPDATE, Guard("names the IKE_SA", names_ike),
                 mach.e_refuse(Reason.POLICY, Kind.UPDATE), RState.READY)
    rows = m.rows_list[Role.RESPONDER]
    group = [k for k, r in enumerate(rows) if r.trigger == Trigger.RECV_UPDATE and r.src == RState.READY]
    checks = [k for k in group if rows[k].effect.reason is not None]
    if not checks:  # a profile without UPDATE (ikev2): nothing to break
        return
    last_check = max(checks)
    m.rows_list[Role.RESPONDER] = rows[:last_check + 1] + [refuse] + rows[last_check + 1:]
    m.index_rows()


MUTANTS: tuple[Mutant, ...] = (
    Mutant("skip-pad", "the responder never consults the PAD", _drop("PAD refuses")),
    Mutant("apply-before-validate", "requests are carried out before PAD, SPD and policy", _apply_first),
    Mutant("remove-last", "removing an SA's last address is allowed", _drop("last address")),
    Mutant("alternate-beside-current", "failover uses an alternate beside the current addresses", _alternate_beside),
    Mutant("accept-unprotected", "messages the IKE_SA does not protect are processed", _drop("unprotected")),
    Mutant("reapply-duplicate", "a retransmitted request is carried out again", _reapply),
    Mutant("update-before-rr", "a new address is used before return routability", _drop("needs return routability")),
    Mutant("wrong-sa", "a change also lands on another SA than the named one", _wrong_sa),
    Mutant("check-changes", "a check-only request changes the databases", _check_applies),
    Mutant("auto-add-source", "the IP source of a request joins the SA", _auto_add_source),
    Mutant("wrong-reason", "an SPD refusal is reported as a policy refusal", _reported_as("SPD refuses", Reason.POLICY)),
    Mutant("checks-say-yes", "check-only requests are answered OK without checking anything", _checks_say_yes),
    Mutant("refuse-ike-update", "every acceptable UPDATE of the IKE_SA is refused as POLICY", _refuse_ike_update),
    Mutant("policy-as-spd", "a local-policy refusal is reported as an SPD refusal",
           _reported_as("policy refuses network", Reason.SPD)),
)


def by_name(name: str) -> Mutant:
    """A seeded mutant, or a generated one (``_genmutants``: the name says
    how to build it).  The one lookup every tool uses."""
    for mu in MUTANTS:
        if mu.name == name:
            return mu
    from ._genmutants import from_name

    return from_name(name)
