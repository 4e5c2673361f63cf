"""The composed system: two peers, two bounded channels and an environment.

``Model(scenario, profile)`` is the sans-IO core.  ``step(world, input)``
returns the next world (or ``None`` when the input changes nothing) and, when
asked, the events of the step.  There is no clock, socket or random number
inside: delivery, loss, duplication, reordering (delivering any message of a
channel, not only the oldest), address changes, timer expiries, failure
detection and forgery are all inputs (see ``InKind``).

Machine inputs are dispatched through the transition tables of ``_machines``
by :meth:`Model.fire`, the *compiled* dispatcher: a dict from
``(role, trigger, state)`` to the rows in declared order.  The ``transitions``
runtime (``_runtime``) plugs its own dispatcher into the same ``step``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, NamedTuple

from . import _ops as ops
from ._machines import (
    Event,
    MInput,
    Out,
    Result,
    Row,
    initiator_rows,
    refusal,
    responder_rows,
)
from ._profiles import Profile, get_profile
from ._scenario import Scenario
from ._state import (
    EMPTY,
    Initiator,
    Msg,
    PeerState,
    Responder,
    SAEntry,
    SPDEntry,
    Used,
    World,
    chan_put,
    chan_take,
    set_peer,
)
from ._succ import Successors
from ._vocab import (
    ALLSA,
    NOADDR,
    NOSA,
    Action,
    InKind,
    IState,
    Kind,
    Mode,
    Peer,
    Reason,
    Role,
    RState,
    SAState,
    Trigger,
    act_trigger,
    recv_trigger,
)

#: Message IDs 0 and 1 went to IKE_SA_INIT and IKE_AUTH (RFC 5996 1.2).
FIRST_MID = 2


class Input(NamedTuple):
    """An input of the composed system.  ``peer`` is the acting peer, or the
    channel (the sender) for network inputs; ``idx`` is the channel position,
    the address, or the SA slot, depending on ``kind``."""

    kind: InKind
    peer: int = 0
    idx: int = 0
    act: MInput | None = None


FireFn = Callable[["Model", PeerState, int, Role, MInput, Out], "Result | None"]


class Model:
    """A scenario under a profile: static lookups, tables, and the step function."""

    def __init__(self, scenario: Scenario, profile: Profile | str = "mm") -> None:
        if isinstance(profile, str):
            profile = get_profile(profile, scenario.options)
        if profile.ike_address_pair:
            scenario = ike_address_view(scenario)
        self.sc = scenario
        self.prof = profile
        self.opts = profile.options
        n = scenario.n_addr
        self.n_addr = n
        self.n_slots = scenario.n_slots
        self.slot_values = tuple(range(self.n_slots)) + (ALLSA, NOSA)
        self.addr_values = tuple(range(n)) + (NOADDR,)
        self.kind_values = tuple(int(k) for k in Kind)
        self.mode = tuple(s.mode for s in scenario.slots)
        self.owned = (scenario.owned(Peer.I), scenario.owned(Peer.R))
        self.fam_mask = tuple(
            sum(1 << k for k, a in enumerate(scenario.addresses) if a.family == fam) for fam in (0, 1)
        )
        self.pad = (scenario.peers[0].pad, scenario.peers[1].pad)
        self.spd_allow = tuple(s.spd_allow for s in scenario.slots)
        accept, rr, prot_ok = [], [], []
        for p in Peer:
            cfg = scenario.peers[p]
            remote = [k for k, a in enumerate(scenario.addresses) if a.owner != p]
            accept.append(sum(1 << k for k in remote if cfg.policy(scenario.addresses[k].network).accept))
            rr.append(sum(1 << k for k in remote if cfg.policy(scenario.addresses[k].network).require_rr))
            prot_ok.append(tuple(
                sum(1 << k for k in remote
                    if cfg.policy(scenario.addresses[k].network).min_protection <= s.protection)
                for s in scenario.slots))
        self.accept = tuple(accept)
        self.rr = tuple(rr)
        self.prot_ok = tuple(prot_ok)
        #: peers whose initiator users may drive (the mobile node; both with both_move)
        self.mobile = (0, 1) if self.opts.both_move else (0,)
        self.rows_list: dict[Role, list[Row]] = {
            Role.INITIATOR: initiator_rows(profile),
            Role.RESPONDER: responder_rows(profile),
        }
        self.rows: dict[tuple[int, int, int], tuple[Row, ...]] = {}
        self.index_rows()
        #: the rows are the tables' own (no mutant rewrote them): what is
        #: derived from them may be cached by the tables' source
        self.pristine = True
        self.state_values = {Role.INITIATOR: tuple(int(s) for s in IState),
                             Role.RESPONDER: tuple(int(s) for s in RState)}
        self.alphabet = {p: self._alphabet(p) for p in self.mobile}
        self._act_inputs = {p: tuple(Input(InKind.ACT, p, 0, a) for a in self.alphabet[p]) for p in self.mobile}
        # Actions with rows while a request is outstanding (a newer move, RFC 4555 3.5).
        busy = {int(r.trigger) for r in self.rows_list[Role.INITIATOR] if r.src == IState.WAIT}
        self._wait_act_inputs = {p: tuple(i for i in self._act_inputs[p] if i.act is not None and int(i.act.trigger) in busy)
                                 for p in self.mobile}
        self._forged = self._forged_request()
        self._cache: dict[int, tuple[PeerState, dict[Any, Result | None]]] = {}
        self._max_requests = scenario.bounds.requests
        self._max_forge = scenario.bounds.forge
        self._max_moves = scenario.bounds.moves
        self._max_drops = _UNLIMITED if scenario.bounds.drops < 0 else scenario.bounds.drops
        self._move_cache: dict[int, tuple[Input, ...]] = {}
        self._timeout_inputs = tuple(Input(InKind.TIMEOUT, p) for p in (0, 1))
        self._rr_timeout_inputs = tuple(Input(InKind.RR_TIMEOUT, p) for p in (0, 1))
        self._path_dead_inputs = tuple(Input(InKind.PATH_DEAD, p) for p in (0, 1))
        self._forge_inputs = tuple(Input(InKind.FORGE, d) for d in (0, 1))
        self._net_inputs = tuple(
            tuple((Input(InKind.DELIVER, d, i), Input(InKind.DROP, d, i), Input(InKind.DUPLICATE, d, i))
                  for i in range(scenario.bounds.channel))
            for d in (0, 1))
        self._movable = sum(self.owned[p] for p in self.mobile)
        self._env: dict[int, Callable[[World, Input, Out, FireFn], World | None]] = {
            InKind.ACT: self._on_act,
            InKind.DELIVER: self._on_deliver,
            InKind.DROP: self._on_drop,
            InKind.DUPLICATE: self._on_duplicate,
            InKind.LOSE: self._on_move,
            InKind.GAIN: self._on_move,
            InKind.TIMEOUT: self._on_timeout,
            InKind.RR_TIMEOUT: self._on_rr_timeout,
            InKind.PATH_DEAD: self._on_path_dead,
            InKind.FORGE: self._on_forge,
        }
        self._succ = Successors(self, Model.fire_cached)

    # ------------------------------------------------------------------ construction

    def _alphabet(self, p: int) -> tuple[MInput, ...]:
        """Every action a user of peer ``p`` can ask for.  Arguments range over
        all SA slots and the peer's own addresses; the responder's checks, not
        the user, decide what is acceptable."""
        own = [k for k in range(self.n_addr) if self.owned[p] >> k & 1]
        foreign = [k for k in range(self.n_addr) if not self.owned[p] >> k & 1]
        slots = range(self.n_slots)
        declared = [k for k in range(1, self.n_slots) if self.sc.slots[k].state == SAState.ABSENT]
        subsets = [sum(1 << own[j] for j in range(len(own)) if bits >> j & 1) for bits in range(1 << len(own))]
        acts: list[MInput] = []
        allowed = self.sc.bounds.actions or tuple(Action)
        for action in Action:
            if action not in self.prof.wire or action not in allowed:
                continue
            t = act_trigger(action)
            if action in (Action.UPDATE, Action.CHECK_UPDATE):
                acts += [MInput(t, sa=s, old=o, new=n) for s in slots for o in own for n in own if o != n]
            elif action in (Action.ADD, Action.CHECK_ADD):
                # One foreign address shows what happens when a peer names an
                # address it does not own (SCN-OWNER-DECIDES).
                acts += [MInput(t, sa=s, new=n) for s in slots for n in own + foreign[:1]]
            elif action in (Action.REMOVE, Action.CHECK_REMOVE):
                acts += [MInput(t, sa=s, old=o) for s in slots for o in own]
            elif action in (Action.SET_ALT, Action.CHECK_ALT):
                acts += [MInput(t, sa=s, addrs=a) for s in slots for a in subsets]
            elif action == Action.PROBE:
                acts += [MInput(t, new=n) for n in own]
            elif action == Action.CREATE:
                acts += [MInput(t, sa=s, new=n) for s in declared for n in own]
            elif action == Action.DELETE:
                acts += [MInput(t, sa=s) for s in range(1, self.n_slots)]
        if not self.prof.wire:
            return ()
        # MOBIKE's UPDATE names only the new address; collapse duplicates so the
        # alphabet has one input per distinct request.
        seen: dict[tuple[Any, ...], MInput] = {}
        for a in acts:
            key = self._act_key(a)
            seen.setdefault(key, a)
        return tuple(seen.values())

    def _act_key(self, a: MInput) -> tuple[Any, ...]:
        action = Action(a.trigger.value)
        kind = self.prof.wire[action]
        if kind == Kind.MOBIKE_UPDATE:
            return (a.trigger, a.sa, a.new)  # old is implicit on the wire
        return tuple(a)

    def _forged_request(self) -> Msg:
        """What an off-path attacker injects towards the responder: the
        profile's strongest address request, for an address of the attacker's
        choosing, unprotected.  Its message ID is filled in at injection."""
        target = self.sc.slots[1 % self.n_slots]
        others = [k for k in range(self.n_addr) if self.owned[0] >> k & 1 and not target.cur_i >> k & 1]
        new = others[0] if others else 0
        dst = _lowest(self.sc.slots[0].cur_r)
        wire = self.prof.wire
        if Action.ADD in wire:
            return Msg(kind=Kind.ADD, sa=1, new=new, src=new, dst=dst, prot=0, intent=1)
        if Action.UPDATE in wire:
            return Msg(kind=wire[Action.UPDATE], sa=ALLSA, src=new, dst=dst, prot=0, intent=ALLSA)
        return Msg(kind=Kind.DELETE, sa=1, src=new, dst=dst, prot=0, intent=1)

    def initial(self) -> World:
        sc = self.sc
        up = sum(1 << k for k, a in enumerate(sc.addresses) if a.up)
        peers = []
        for p in Peer:
            sad = []
            spd = []
            verified = 0
            for s in sc.slots:
                remote = s.cur_r if p == Peer.I else s.cur_i
                sad.append(SAEntry(s.state, 0, s.cur_i, s.cur_r, s.alt_i, s.alt_r,
                                   remote if s.state != SAState.ABSENT else 0))
                spd.append(SPDEntry(s.cur_i, s.cur_r) if s.mode == Mode.TRANSPORT and s.state != SAState.ABSENT
                           else SPDEntry())
                if s.state != SAState.ABSENT:
                    verified |= remote  # authenticated from there during IKE_AUTH
            mid = FIRST_MID if p == Peer.I else 0
            peers.append(PeerState(tuple(sad), tuple(spd), Initiator(mid=mid),
                                   Responder(mid=FIRST_MID if p == Peer.R else 0, verified=verified)))
        chan = tuple(EMPTY for _ in range(sc.bounds.channel))
        return World(up, (peers[0], peers[1]), (chan, chan), Used())

    # ------------------------------------------------------------------ dispatch

    def index_rows(self) -> None:
        """(Re)build the dispatch index from ``rows_list``: whoever rewrites
        the tables (the seeded mutants) calls this, so both dispatchers keep
        reading the same rows."""
        self.pristine = False
        self.rows = {}
        for role, rows in self.rows_list.items():
            for r in rows:
                key = (int(role), int(r.trigger), int(r.src))
                self.rows[key] = self.rows.get(key, ()) + (r,)

    def fire(self, ps: PeerState, p: int, role: Role, x: MInput, out: Out) -> Result | None:
        """Run machine ``role`` of peer ``p`` on ``x``: the first row of the
        current state whose guard holds.  ``None`` is a defined refusal."""
        return self.dispatch(ps, p, role, x, out)[1]

    def dispatch(self, ps: PeerState, p: int, role: Role, x: MInput, out: Out) -> tuple[Row | None, Result | None]:
        """``fire``, also saying which row fired (None: a defined refusal)."""
        part = ps.ini if role == Role.INITIATOR else ps.rsp
        st = ops.conc(part.st, self.state_values[role])
        for row in self.rows.get((role, x.trigger, st), ()):
            if row.guard is None or row.guard(self, ps, p, x):
                ps2, sends = row.effect(self, ps, p, x, out)
                return row, ((set_machine_state(ps2, role, row.dst) if row.dst != st else ps2), sends)
        self.report_refusal(p, role, st, x, out)
        return None, None

    def fire_cached(self, ps: PeerState, p: int, role: Role, x: MInput, out: Out) -> Result | None:
        """``fire`` memoized on the peer's own state: a machine sees nothing
        else, so the same peer state and input always give the same result.

        Peer states that come out of the cache are the very objects put in, so
        the cache is keyed by object identity first (cheap) and holds a
        reference to each key object, which keeps its identity from being reused.
        """
        try:
            held, per_input = self._cache[id(ps)]
        except KeyError:
            held, per_input = self._cache[id(ps)] = (ps, {})
        if held is not ps:  # pragma: no cover - identities are pinned by the cache
            raise AssertionError("stale identity in fire cache")
        key = (p, role, x)
        try:
            return per_input[key]
        except KeyError:
            res = per_input[key] = Model.fire(self, ps, p, role, x, None)
            return res

    def report_refusal(self, p: int, role: Role, st: int, x: MInput, out: Out) -> None:
        if out is None:
            return
        reason = refusal(role, st, x.trigger, self.prof)
        if x.msg.kind != Kind.EMPTY:
            out.append(Event("discard", p, x.msg, reason=reason, detail="no row"))
        elif reason != Reason.OK:
            out.append(Event("refuse", p, reason=reason, sa=x.sa, detail="initiator"))

    # ------------------------------------------------------------------ environment

    def _run(self, f: FireFn, w: World, p: int, role: Role, x: MInput, out: Out) -> World | None:
        res = f(self, w.peers[p], p, role, x, out)
        if res is None:
            return None
        ps, sends = res
        w = set_peer(w, p, ps)
        for msg in sends:
            if not w.up >> msg.src & 1:
                # A host cannot send from an address it no longer has: a
                # retransmission from an address that stopped working is lost.
                if out is not None:
                    out.append(Event("lost", p, msg, detail="source address down"))
                continue
            w2 = chan_put(w, p, msg)
            if w2 is w and out is not None:
                out.append(Event("lost", p, msg, detail="channel full"))
            w = w2
        return w

    def step(self, w: World, inp: Input, out: Out = None, fire: FireFn | None = None) -> World | None:
        """The successor of ``w`` under ``inp``, or ``None`` if nothing changes."""
        return self._env[inp.kind](w, inp, out, fire or Model.fire)

    def _on_act(self, w: World, inp: Input, out: Out, f: FireFn) -> World | None:
        p = inp.peer
        if w.used.requests >= self._max_requests or p not in self.mobile or inp.act is None:
            return None
        x = inp.act._replace(up=w.up & self.owned[p])
        w2 = self._run(f, w, p, Role.INITIATOR, x, out)
        if w2 is None:
            return None
        ini = w2.peers[p].ini
        if ini.st == IState.WAIT and ini is not w.peers[p].ini:  # a request went out or restarted: it counts
            w2 = w2._replace(used=w2.used._replace(requests=w2.used.requests + 1))
        return w2

    def _on_deliver(self, w: World, inp: Input, out: Out, f: FireFn) -> World | None:
        msg = w.chan[inp.peer][inp.idx]
        if msg.kind == Kind.EMPTY or not w.up >> msg.dst & 1:
            return None
        w = chan_take(w, inp.peer, inp.idx)
        dst_peer = 1 - inp.peer
        trig = _route(msg)
        role = Role.INITIATOR if trig == Trigger.RECV_RESPONSE else Role.RESPONDER
        if out is not None:
            out.append(Event("deliver", dst_peer, msg))
        w2 = self._run(f, w, dst_peer, role, MInput(trig, msg), out)
        return w if w2 is None else w2  # a refused message is still consumed

    def _on_drop(self, w: World, inp: Input, out: Out, f: FireFn) -> World | None:
        msg = w.chan[inp.peer][inp.idx]
        if msg.kind == Kind.EMPTY:
            return None
        # A message to an address that does not work is lost for free; the
        # budget limits the losses of messages that could have arrived.
        deliverable = w.up >> msg.dst & 1
        if deliverable and self._max_drops < _UNLIMITED and w.used.dropped >= self._max_drops:
            return None
        if out is not None:
            out.append(Event("lost", inp.peer, msg))
        if deliverable and self._max_drops < _UNLIMITED:  # an unlimited budget needs no counter
            w = w._replace(used=w.used._replace(dropped=w.used.dropped + 1))
        return chan_take(w, inp.peer, inp.idx)

    def _on_duplicate(self, w: World, inp: Input, out: Out, f: FireFn) -> World | None:
        ch = w.chan[inp.peer]
        msg = ch[inp.idx]
        if msg.kind == Kind.EMPTY or ch[-1].kind != Kind.EMPTY:
            return None
        if out is not None:
            out.append(Event("duplicate", inp.peer, msg))
        return chan_put(w, inp.peer, msg)

    def _on_move(self, w: World, inp: Input, out: Out, f: FireFn) -> World | None:
        a = inp.idx
        if w.used.moves >= self.sc.bounds.moves or not self._movable >> a & 1:
            return None
        lose = inp.kind == InKind.LOSE
        if lose != bool(w.up >> a & 1):
            return None
        up = w.up & ~(1 << a) if lose else w.up | (1 << a)
        return w._replace(up=up, used=w.used._replace(moves=w.used.moves + 1))

    def _on_timeout(self, w: World, inp: Input, out: Out, f: FireFn) -> World | None:
        return self._run(f, w, inp.peer, Role.INITIATOR, _TIMEOUT, out)

    def _on_rr_timeout(self, w: World, inp: Input, out: Out, f: FireFn) -> World | None:
        return self._run(f, w, inp.peer, Role.RESPONDER, _RR_TIMEOUT, out)

    def _on_path_dead(self, w: World, inp: Input, out: Out, f: FireFn) -> World | None:
        # Dead peer detection, reported honestly: the peer learns which of its
        # peer's addresses stopped working.  The machine decides what that
        # means for each SA.
        dead = self.owned[1 - inp.peer] & ~w.up
        if not dead:
            return None
        return self._run(f, w, inp.peer, Role.RESPONDER, MInput(Trigger.PATH_DEAD, addrs=dead), out)

    def _on_forge(self, w: World, inp: Input, out: Out, f: FireFn) -> World | None:
        msg = self._forgery(w, inp.peer)
        if msg is None or w.used.forged >= self.sc.bounds.forge or w.chan[inp.peer][-1].kind != Kind.EMPTY:
            return None
        w = w._replace(used=w.used._replace(forged=w.used.forged + 1))
        if out is not None:
            out.append(Event("forge", inp.peer, msg))
        return chan_put(w, inp.peer, msg)

    def _forgery(self, w: World, d: int) -> Msg | None:
        if d == 0:
            return self._forged._replace(mid=w.peers[1].rsp.mid)
        req = w.peers[0].ini.req
        if w.peers[0].ini.st != IState.WAIT:
            return None
        return Msg(kind=req.kind, resp=1, mid=req.mid, src=req.dst, dst=req.src, prot=0, intent=req.intent)

    def inputs(self, w: World) -> list[Input]:
        """Inputs worth trying in ``w``: those that may change it.  Anything
        else is a defined refusal and leaves ``w`` as it is."""
        peers, used, up = w.peers, w.used, w.up
        res = self._machine_inputs(peers[0], peers[1], used)
        res += self._network_inputs(w.chan[0], w.chan[1], up, used, peers[0].ini.st == IState.WAIT)
        res += self._late_inputs(peers[0], peers[1], up, used)
        return res

    # ``inputs`` in three parts, each reading only some parts of the world, so
    # that the successor cache (``_succ``) can memoize each on what it reads.

    def _machine_inputs(self, ps0: PeerState, ps1: PeerState, used: Used) -> list[Input]:
        """Users' actions and timer expiries."""
        res: list[Input] = []
        peers = (ps0, ps1)
        for p in self.mobile:
            st = peers[p].ini.st
            if st == IState.IDLE:
                if used.requests < self._max_requests:
                    res.extend(self._act_inputs[p])
            elif st == IState.WAIT:
                res.append(self._timeout_inputs[p])
                if used.requests < self._max_requests:
                    res.extend(self._wait_act_inputs[p])
        for p in (0, 1):
            if peers[p].rsp.st == RState.RR_WAIT:
                res.append(self._rr_timeout_inputs[p])
        return res

    def _network_inputs(self, ch0: tuple[Msg, ...], ch1: tuple[Msg, ...], up: int, used: Used,
                        waiting: bool) -> list[Input]:
        """What the network and the attacker can do; ``waiting``: the
        initiator of peer I has a request outstanding (a response to forge)."""
        res: list[Input] = []
        forge = used.forged < self._max_forge
        drop = used.dropped < self._max_drops
        for d, ch in enumerate((ch0, ch1)):
            room = ch[-1].kind == Kind.EMPTY
            for i, msg in enumerate(ch):
                if msg.kind == Kind.EMPTY:
                    break
                net = self._net_inputs[d][i]
                if up >> msg.dst & 1:
                    res.append(net[0])
                    if drop:
                        res.append(net[1])
                else:
                    res.append(net[1])
                if room:
                    res.append(net[2])
            if room and forge and (d == 0 or waiting):
                res.append(self._forge_inputs[d])
        return res

    def _late_inputs(self, ps0: PeerState, ps1: PeerState, up: int, used: Used) -> list[Input]:
        """Address changes and dead peer detection."""
        res: list[Input] = []
        if used.moves < self._max_moves:
            res.extend(self._moves_for(up))
        for p, ps in enumerate((ps0, ps1)):
            dead = self.owned[1 - p] & ~up
            if dead and any(e.state == SAState.ACTIVE and e.out & dead for e in ps.sad):
                res.append(self._path_dead_inputs[p])
        return res

    def _moves_for(self, up: int) -> tuple[Input, ...]:
        try:
            return self._move_cache[up]
        except KeyError:
            moves = tuple(Input(InKind.LOSE if up >> a & 1 else InKind.GAIN, p, a)
                          for p in self.mobile for a in range(self.n_addr) if self.owned[p] >> a & 1)
            self._move_cache[up] = moves
            return moves

    def canonical(self, w: World) -> World:
        """``w`` with dead values reset, for state-space search.

        A responder's cached answer can only be read again by a retransmission
        of the request it answers.  Once no copy of that request is in flight
        and its initiator has moved on, the cache is unobservable, so forgetting
        it merges states that no run can tell apart (dead-variable reduction).
        """
        peers = w.peers
        for p in (0, 1):
            rsp = peers[p].rsp
            cache = rsp.cache
            if not cache.kind:
                continue
            last = cache.mid
            ini = peers[1 - p].ini
            if ini.st == _WAIT and ini.req.mid == last:
                continue
            live = False
            for msg in w.chan[1 - p]:
                if msg.kind and msg.mid == last and msg.prot and not msg.resp:
                    live = True
                    break
            if not live:
                w = set_peer(w, p, peers[p]._replace(rsp=rsp._replace(cache=EMPTY)))
                peers = w.peers
        return w

    def successors(self, w: World) -> list[tuple[Input, World]]:
        """Every input of ``inputs(w)`` that changes ``w``, in that order, with
        the canonical world it leads to.  Memoized (``_succ``): the same as
        running each handler of ``_env`` with ``fire_cached``, then ``canonical``."""
        return self._succ(w)


#: How tools name the machines and their states (row keys, coverage, mutants).
ROLE_NAMES = {Role.INITIATOR: "initiator", Role.RESPONDER: "responder"}
STATE_NAMES = {Role.INITIATOR: tuple(s.name for s in IState), Role.RESPONDER: tuple(s.name for s in RState)}


def group_key(role: Role, state: int, trigger: Trigger) -> str:
    """A stable name for a (machine, state, trigger) group of rows."""
    return f"{ROLE_NAMES[Role(role)]}:{STATE_NAMES[Role(role)][int(state)]}:{trigger.name.lower()}"


def row_key(m: Model, role: Role, row: Row) -> str:
    """A stable name for a row: its group and its place in the group."""
    group = [r for r in m.rows_list[role] if r.src == row.src and r.trigger == row.trigger]
    return f"{group_key(role, row.src, row.trigger)}#{group.index(row)}"


def all_rows(m: Model) -> dict[str, Row]:
    """Every row of both machines by its key, in table order."""
    return {row_key(m, role, r): r for role in (Role.INITIATOR, Role.RESPONDER) for r in m.rows_list[role]}


def ike_address_view(sc: Scenario) -> Scenario:
    """The scenario as a MOBIKE peer holds it: an IPsec SA runs on its
    IKE_SA's pair of addresses (RFC 4555 3.5 moves them together), so every
    tunnel-mode SA takes the IKE_SA's addresses, and the alternates declared
    for any of them are the IKE_SA's additional addresses (3.4: one list per
    IKE_SA).  Transport-mode SAs are outside RFC 4555 (1.1) and stay as they
    are.  The default scenario's ``vpn``, for one, declares two responder
    addresses, which MOBIKE cannot represent."""
    ike = sc.slots[0]
    alt_i, alt_r = ike.alt_i, ike.alt_r
    for s in sc.slots[1:]:
        if s.mode == Mode.TUNNEL:
            alt_i, alt_r = alt_i | s.alt_i, alt_r | s.alt_r
    slots = [dataclasses.replace(ike, alt_i=alt_i & ~ike.cur_i, alt_r=alt_r & ~ike.cur_r)]
    for s in sc.slots[1:]:
        if s.mode == Mode.TUNNEL:
            s = dataclasses.replace(s, cur_i=ike.cur_i, cur_r=ike.cur_r, alt_i=0, alt_r=0)
        slots.append(s)
    if tuple(slots) == sc.slots:
        return sc
    return dataclasses.replace(sc, slots=tuple(slots))


def set_machine_state(ps: PeerState, role: Role, st: int) -> PeerState:
    if role == Role.INITIATOR:
        return ps._replace(ini=ps.ini._replace(st=IState(st)))
    return ps._replace(rsp=ps.rsp._replace(st=RState(st)))


_WAIT = int(IState.WAIT)
_KINDS = tuple(int(k) for k in Kind if k != Kind.EMPTY)
_UNLIMITED = 1 << 30
_TIMEOUT = MInput(Trigger.TIMEOUT)
_RR_TIMEOUT = MInput(Trigger.RR_TIMEOUT)


def _route(msg: Msg) -> Trigger:
    kind = Kind(ops.conc(msg.kind, _KINDS))
    if kind == Kind.RR_CHALLENGE:
        return Trigger.RECV_RR_ECHO if msg.resp else Trigger.RECV_RR_CHALLENGE
    if msg.resp:
        return Trigger.RECV_RESPONSE
    return recv_trigger(kind)


def _lowest(mask: int) -> int:
    return (mask & -mask).bit_length() - 1 if mask else NOADDR
