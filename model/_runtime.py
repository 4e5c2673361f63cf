"""The tables, run by ``transitions`` state machines.

One ``transitions.Machine`` per peer and role is built from the rows of the
tables: states are the machine's states, triggers are the rows' triggers, a
row's guard is the transition's condition and its effect the ``after``
callback.  ``transitions`` tries the transitions of a trigger in the order they
were added and fires the first whose conditions hold, which is the tables'
first-match rule.  The next state is read back from the ``transitions``
machine, not from the row, so a dispatch error in either engine shows up in
the differential test against the compiled dispatcher (``Model.fire``).

This runtime is what ``simulate`` and the conformance reference adapter drive.
It is about a hundred times slower than the compiled dispatcher, which is why
the explorer never uses it.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from transitions import Machine, MachineError

from ._machines import MInput, Out, Result, Row
from ._model import Input, Model, set_machine_state
from ._state import PeerState, World
from ._vocab import IState, Role, RState, trigger_name


class _PeerMachine:
    """The ``transitions`` model object for one role of one peer."""

    state: str  # maintained by transitions

    def __init__(self, model: Model, p: int, role: Role) -> None:
        self.model = model
        self.p = p
        self.role = role
        self.states = IState if role == Role.INITIATOR else RState
        self.ps: PeerState | None = None
        self.x: MInput | None = None
        self.out: Out = None
        self.result: Result | None = None
        self.machine = Machine(
            model=self,
            states=[s.name for s in self.states],
            initial=self.states(0).name,
            auto_transitions=False,
            ignore_invalid_triggers=False,
        )
        for row in model.rows_list[role]:
            self.machine.add_transition(
                trigger=trigger_name(row.trigger),
                source=self.states(row.src).name,
                dest=self.states(row.dst).name,
                conditions=[partial(self._guard, row)] if row.guard else [],
                after=[partial(self._effect, row)],
            )

    def _guard(self, row: Row, *_: Any) -> bool:
        assert self.ps is not None and self.x is not None and row.guard is not None
        return bool(row.guard(self.model, self.ps, self.p, self.x))

    def _effect(self, row: Row, *_: Any) -> None:
        assert self.ps is not None and self.x is not None
        self.result = row.effect(self.model, self.ps, self.p, self.x, self.out)

    def fire(self, ps: PeerState, x: MInput, out: Out) -> Result | None:
        part = ps.ini if self.role == Role.INITIATOR else ps.rsp
        st = int(part.st)
        self.machine.set_state(self.states(st).name)
        self.ps, self.x, self.out, self.result = ps, x, out, None
        try:
            fired = self.trigger(trigger_name(x.trigger))  # type: ignore[attr-defined]
        except MachineError:
            fired = False  # the trigger has no transition from this state
        except AttributeError:
            fired = False  # no row of this machine ever uses the trigger (profile cannot say it)
        if not fired or self.result is None:
            self.model.report_refusal(self.p, self.role, st, x, out)
            return None
        ps2, sends = self.result
        dst = int(self.states[self.state])
        return (set_machine_state(ps2, self.role, dst) if dst != st else ps2), sends


class Runtime:
    """A model driven through ``transitions`` machines, one per peer and role."""

    def __init__(self, model: Model) -> None:
        self.model = model
        self._machines = {(p, role): _PeerMachine(model, p, role) for p in (0, 1) for role in Role}

    def _fire(self, m: Model, ps: PeerState, p: int, role: Role, x: MInput, out: Out) -> Result | None:
        return self._machines[(p, role)].fire(ps, x, out)

    def step(self, w: World, inp: Input, out: Out = None) -> World | None:
        return self.model.step(w, inp, out, fire=self._fire)

    def initial(self) -> World:
        return self.model.initial()

    def inputs(self, w: World) -> list[Input]:
        return self.model.inputs(w)
