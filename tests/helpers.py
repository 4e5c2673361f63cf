"""Small drivers for tests: build inputs by name and run them."""

from __future__ import annotations

from ipsecmm.model import Action, Event, InKind, Input, MInput, Model, World
from ipsecmm.model._vocab import act_trigger
from ipsecmm.properties import Run, by_id
from ipsecmm.properties._registry import Capability, Invariant, StepInvariant


def act(m: Model, action: Action, sa: str = "", old: str = "", new: str = "", alts: tuple[str, ...] = (), peer: int = 0) -> Input:
    sc = m.sc
    k = sc.slot_index(sa) if sa else 0xFF
    x = MInput(act_trigger(action), sa=k,
               old=sc.addr_index(old) if old else 0xFF,
               new=sc.addr_index(new) if new else 0xFF,
               addrs=sum(1 << sc.addr_index(a) for a in alts))
    return Input(InKind.ACT, peer, 0, x)


def deliver(d: int, i: int = 0) -> Input:
    return Input(InKind.DELIVER, d, i)


def run(m: Model, inputs: list[Input], w: World | None = None) -> tuple[World, list[Event]]:
    """Apply inputs in order; each must change the world (else the test is wrong)."""
    w = m.initial() if w is None else w
    events: list[Event] = []
    for inp in inputs:
        w2 = m.step(w, inp, events)
        assert w2 is not None, f"input {inp} was refused in {w}"
        w = w2
    return w, events


def exchange(m: Model, inp: Input, w: World | None = None) -> tuple[World, list[Event]]:
    """An action, its delivery and the delivery of the answer."""
    return run(m, [inp, deliver(0), deliver(1)], w)


def walk(sc, profile: str, seed: int, steps: int = 40, **bounds):
    """A random run of ``sc`` under ``profile`` (bounds raised by ``bounds``),
    choosing first who acts (user, network, timer, ...), then what: a user's
    many actions must not drown the network's few.  Deterministic per seed."""
    import dataclasses
    import random

    from ipsecmm.properties import Run

    sc = dataclasses.replace(sc, bounds=dataclasses.replace(sc.bounds, **bounds))
    m = Model(sc, profile)
    rng = random.Random(seed)
    w, inputs = m.initial(), []
    for _ in range(steps):
        groups: dict[int, list[tuple[Input, World]]] = {}
        for inp in m.inputs(w):
            w2 = m.step(w, inp)
            if w2 is not None and w2 != w:
                groups.setdefault(int(inp.kind), []).append((inp, w2))
        if not groups:
            break
        inp, w = rng.choice(groups[rng.choice(sorted(groups))])
        inputs.append(inp)
    return Run(sc, profile, inputs, label=f"random walk {seed}")


def breaks_at(rid: str, run: Run, n: int) -> bool | None:
    """Whether step ``n`` of ``run`` (0: its initial state) breaks ``rid``'s
    invariants (a capability's every-step conditions included): the state it
    enters, or the step itself (None: the requirement
    is not an invariant a step can show)."""
    m = run.model()
    if n == 0:
        pre = inp = None
        post = m.initial()
    else:
        pre, inp, _, post = run.replay()[n - 1]
    answers = []
    checks = [c for chk in by_id()[rid].checks for c in (chk.always if isinstance(chk, Capability) else (chk,))]
    for chk in checks:
        if isinstance(chk, Invariant):
            answers.append((chk.when is None or bool(chk.when(m, post))) and not chk.then(m, post))
        elif isinstance(chk, StepInvariant):
            answers.append(inp is not None and inp.kind in chk.kinds and bool(chk.when(m, pre, inp, post))
                           and not chk.then(m, pre, inp, post))
    return any(answers) if answers else None


def violates_at_end(rid: str, run: Run) -> bool | None:
    """Whether the last step of ``run`` breaks ``rid``'s invariants."""
    return breaks_at(rid, run, len(run.inputs))
