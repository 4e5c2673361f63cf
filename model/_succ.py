"""``Model.successors`` for explicit-state search, memoized on parts of worlds.

The environment handlers (``Model._env``) remain the only meaning of an input;
this module runs them on as few worlds as it can.  A search visits each world
once, but worlds share almost all of their parts: the default scenario has
about a hundred thousand reachable worlds built from a thousand peer states,
a few hundred channel contents and a handful of budgets.  So:

* The parts of a world (its budgets, each peer's state, each channel) are
  interned: equal parts are one object, held here for the life of the model,
  so a part's ``id`` names its value and a tuple of ids is an exact key that
  is much cheaper to hash than the part itself.
* Each kind of input reads only some parts (``reads``).  What an input does is
  memoized on the ids of the parts it reads, as the new values of the parts it
  changes, and replayed on every world that shares those parts.  The first run
  checks that the input changed nothing outside what it reads: a handler that
  starts reading more must say so in ``reads``.
* Which inputs a world enables is memoized the same way, part-wise (the three
  halves of ``Model.inputs``).
* The dead-variable reduction (``Model.canonical``) of a peer state is
  memoized on the three parts it reads.
* Successor worlds are interned as well, keyed by their parts' ids: a world
  reached again is the same object, so a search can recognise it by identity
  before hashing the whole tree (see ``Explorer.run``).

Everything is concrete: worlds of z3 terms go through ``Model.step``, never here.
"""

from __future__ import annotations

from collections.abc import Callable
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from ._state import EMPTY, Initiator, Msg, PeerState, Responder, Used, World
from ._vocab import InKind, IState

if TYPE_CHECKING:
    from ._model import FireFn, Input, Model

#: Parts of a world, as positions in the tuple ``Successors`` keys worlds by:
#: ``(up, id(used), id(peers[0]), id(peers[1]), id(chan[0]), id(chan[1]))``.
UP, USED, PS0, PS1, CH0, CH1 = range(6)
_PS = (PS0, PS1)
_CH = (CH0, CH1)
_ALL = (UP, USED, PS0, PS1, CH0, CH1)

_WAIT = int(IState.WAIT)
_new = tuple.__new__
_NO_CHAN: tuple[Msg, ...] = (EMPTY,)
# Field positions, for the hot loop: indexing a tuple is much cheaper than a
# NamedTuple attribute.
_INI, _RSP = PeerState._fields.index("ini"), PeerState._fields.index("rsp")
_ST, _CACHE, _KIND = Initiator._fields.index("st"), Responder._fields.index("cache"), Msg._fields.index("kind")

# One memoized input: the input, how to cut its key out of a world's parts,
# and its memo (key -> what ``Successors._change`` returns).
Entry = tuple["Input", Callable[[tuple[int, ...]], Any], dict[Any, Any]]


def reads(inp: Input) -> tuple[int, ...]:
    """The parts of a world the handler of ``inp`` reads (``Model._env``).
    Whatever it changes must be among them."""
    k, a = inp.kind, inp.peer
    if k == InKind.ACT:  # the request budget, addresses up, the peer and its outgoing channel
        return (UP, USED, _PS[a], _CH[a])
    if k in (InKind.TIMEOUT, InKind.RR_TIMEOUT):
        # UP: what is sent from an address that stopped working is lost.
        return (UP, _PS[a], _CH[a])
    if k == InKind.PATH_DEAD:
        return (UP, _PS[a], _CH[a])
    if k == InKind.DELIVER:
        # Channel ``a`` into the other peer, whose answers go out on its own
        # channel.  The handler reads UP only to refuse a message to an address
        # that is down, and ``inputs`` never offers that delivery: a world it
        # is offered in gives the same result whatever its other addresses.
        # (What the receiver sends back leaves from the address the message
        # reached, which works, so the loss of sends from a dead source
        # never applies here.)
        return (_CH[a], _PS[1 - a], _CH[1 - a])
    if k == InKind.DROP:
        return (UP, USED, _CH[a])
    if k == InKind.DUPLICATE:
        return (_CH[a],)
    if k in (InKind.LOSE, InKind.GAIN):
        return (UP, USED)
    if k == InKind.FORGE:  # towards R: R's expected message ID; towards I: I's outstanding request
        return (USED, _CH[a], _PS[1 - a])
    return _ALL


class Successors:
    """The successors of worlds of ``model``: ``Model.successors``, memoized."""

    def __init__(self, model: Model, fire: FireFn) -> None:
        self.m = model
        self.fire = fire
        self._own: dict[int, Any] = {}  # id -> the interned part with that id
        self._peers: dict[PeerState, PeerState] = {}
        self._chans: dict[tuple[Msg, ...], tuple[Msg, ...]] = {}
        self._used: dict[Used, Used] = {}
        self._tables: tuple[dict[Any, Any] | None, ...] = (None, self._used, self._peers, self._peers,
                                                          self._chans, self._chans)
        self._worlds: dict[tuple[int, ...], World] = {}
        self._entries: dict[int, Entry] = {}  # by id of the input, which the entry holds
        self._local: dict[tuple[int, ...], tuple[tuple[Entry, ...], tuple[Entry, ...]]] = {}
        self._network: dict[tuple[Any, ...], tuple[Entry, ...]] = {}
        self._canon: dict[tuple[int, int, int], tuple[PeerState, int]] = {}

    # ---------------------------------------------------------------- interning

    def _intern(self, x: Any, table: dict[Any, Any]) -> Any:
        if self._own.get(id(x)) is x:
            return x
        y = table.setdefault(x, x)
        if y is x:
            self._own[id(x)] = x
        return y

    def _adopt(self, w: World) -> World:
        """``w`` with interned parts; ``w`` itself becomes the world those
        parts make, unless one was made before."""
        ps0, ps1 = w.peers
        ch0, ch1 = w.chan
        wi = _new(World, (w.up, (self._intern(ps0, self._peers), self._intern(ps1, self._peers)),
                          (self._intern(ch0, self._chans), self._intern(ch1, self._chans)),
                          self._intern(w.used, self._used)))
        self._worlds.setdefault(_parts(wi), w)
        return wi

    def _entry(self, inp: Input) -> Entry:
        e = self._entries.get(id(inp))
        if e is None or e[0] is not inp:
            e = self._entries[id(inp)] = (inp, itemgetter(*reads(inp)), {})
        return e

    def _plan(self, inputs: list[Input]) -> tuple[Entry, ...]:
        return tuple(self._entry(inp) for inp in inputs)

    # ---------------------------------------------------------------- misses

    def _change(self, w: World, inp: Input) -> tuple[Any, ...] | None:
        """Run the handler of ``inp`` on ``w`` (whose parts are interned).
        Returns the new value of each of the six parts, then the ids of the
        five that are objects (``None`` and 0 for a part left as it was), or
        ``None`` when nothing changes."""
        w2 = self.m._env[inp.kind](w, inp, None, self.fire)
        if w2 is None or w2 is w:
            return None
        read = reads(inp)
        delta: list[Any] = [None] * 6 + [0] * 5
        changed = False
        for k, (n, o, table) in enumerate(zip((w2.up, w2.used, *w2.peers, *w2.chan), (w.up, w.used, *w.peers, *w.chan),
                                              self._tables, strict=True)):
            if n is o or n == o:
                continue
            if k not in read:
                raise AssertionError(f"{inp} changed part {k} of the world, which reads() does not list")
            changed = True
            if table is None:
                delta[k] = n
            else:
                delta[k] = n = self._intern(n, table)
                delta[5 + k] = id(n)
        return tuple(delta) if changed else None

    def _canonical(self, ps: PeerState, other: PeerState, towards: tuple[Msg, ...]) -> tuple[PeerState, int]:
        """``ps`` as ``Model.canonical`` leaves it, and its id, given the other
        peer and the channel from the other peer (which carries retransmissions)."""
        w = World(0, (ps, other), (_NO_CHAN, towards), Used())
        res = self._intern(self.m.canonical(w).peers[0], self._peers)
        return res, id(res)

    # ---------------------------------------------------------------- successors

    def __call__(self, w: World) -> list[tuple[Input, World]]:
        up, (ps0, ps1), (ch0, ch1), used = w
        own = self._own
        iu, i0, i1, ic0, ic1 = id(used), id(ps0), id(ps1), id(ch0), id(ch1)
        if (own.get(i0) is not ps0 or own.get(i1) is not ps1 or own.get(ic0) is not ch0
                or own.get(ic1) is not ch1 or own.get(iu) is not used):
            w = self._adopt(w)  # a world from elsewhere: the memos below hold interned parts only
            up, (ps0, ps1), (ch0, ch1), used = w
            iu, i0, i1, ic0, ic1 = id(used), id(ps0), id(ps1), id(ch0), id(ch1)
        parts = (up, iu, i0, i1, ic0, ic1)

        lkey = (up, iu, i0, i1)
        local = self._local.get(lkey)
        if local is None:
            local = self._local[lkey] = (self._plan(self.m._machine_inputs(ps0, ps1, used)),
                                         self._plan(self.m._late_inputs(ps0, ps1, up, used)))
        nkey = (up, iu, ic0, ic1, ps0[_INI][_ST] == _WAIT)
        network = self._network.get(nkey)
        if network is None:
            network = self._network[nkey] = self._plan(self.m._network_inputs(ch0, ch1, up, used, nkey[4]))

        worlds = self._worlds
        canon = self._canon
        res = []
        for inp, key_of, memo in local[0] + network + local[1]:
            key = key_of(parts)
            try:
                d = memo[key]
            except KeyError:
                d = memo[key] = self._change(w, inp)
            if d is None:
                continue
            u2, s2, a, b, c, e, ks, ka, kb, kc, ke = d
            if u2 is None:
                u2 = up
            if s2 is None:
                s2, ks = used, iu
            if a is None:
                a, ka = ps0, i0
            if b is None:
                b, kb = ps1, i1
            if c is None:
                c, kc = ch0, ic0
            if e is None:
                e, ke = ch1, ic1
            # Model.canonical: only a responder's cached answer can be dead,
            # and whether it is depends on that peer, the other and its channel.
            a2, ka2 = a, ka
            if a[_RSP][_CACHE][_KIND]:
                ck = (ka, kb, ke)
                try:
                    a2, ka2 = canon[ck]
                except KeyError:
                    a2, ka2 = canon[ck] = self._canonical(a, b, e)
            if b[_RSP][_CACHE][_KIND]:
                ck = (kb, ka, kc)
                try:
                    b, kb = canon[ck]
                except KeyError:
                    b, kb = canon[ck] = self._canonical(b, a, c)
            k2 = (u2, ks, ka2, kb, kc, ke)
            w2 = worlds.get(k2)
            if w2 is None:
                w2 = worlds[k2] = _new(World, (u2, (a2, b), (c, e), s2))
            res.append((inp, w2))
        return res


def _parts(w: World) -> tuple[int, ...]:
    """The key of ``w`` (its parts interned): see ``UP`` ... ``CH1``."""
    return (w.up, id(w.used), id(w.peers[0]), id(w.peers[1]), id(w.chan[0]), id(w.chan[1]))
