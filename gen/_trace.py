"""A real capture replayed on the model: is what an implementation did a run?

``replay(capture, table, scenario, profile)`` decodes every IKE message of a
pcap with ``ipsecmm.wire`` and turns the capture into the model's inputs:

* a request of the mobile node (peer I) is the user action whose request the
  profile sends (an ADDITIONAL_* list is ``set_alt`` of the IKE_SA, a path test
  ``probe``, UPDATE_SA_ADDRESSES ``update`` of the IKE_SA to the IP source),
  followed by its delivery; the same request again is a retransmission (the
  initiator's timer);
* an answer is the delivery of the model's own answer, once it is the same;
* address changes are inferred from what the node says it has: an address
  it sends from or lists (RFC 4555 3.6: the IP source plus the list) that the
  model has down appears (GAIN), one of its addresses that a list leaves out
  and that it does not send from disappears (LOSE).

Each model step is run through ``Model.dispatch``, so every line says which
row fired.  The replay stops at the first point where the capture leaves the
model: an input the model refuses, or a message that differs from the one the
model sends, which it prints next to the real one.

Outside the model, and skipped with a note: IKE_SA_INIT and IKE_AUTH (the
model starts with the IKE_SA set up; their addresses are checked against the
scenario's IKE_SA), CHILD_SA rekeys by either peer and the Delete of the SA a
rekey replaced (strongSwan's userspace data plane cannot move an SA, so it
makes a new one: not MOBIKE), and the Delete of
the IKE_SA that ends the capture.  An exchange of the mobile node outside the
model still takes a message ID, so the replay advances the model's (and
nothing else) past it.
"""

from __future__ import annotations

import dataclasses
import ipaddress
from dataclasses import dataclass, field
from typing import Any

from ipsecmm.model import (
    NOADDR,
    Action,
    Event,
    InKind,
    Input,
    IState,
    Kind,
    MInput,
    Mode,
    Model,
    Msg,
    Peer,
    Role,
    RState,
    Scenario,
    World,
    get_profile,
)
from ipsecmm.model._machines import Row
from ipsecmm.model._scenario import BOUND_LIMITS
from ipsecmm.model._vocab import act_trigger
from ipsecmm.wire import ChildSA, IkeKeys, Message, Session, WireError, decode, read_pcap
from ipsecmm.wire._codec import Decoded
from ipsecmm.wire._numbers import (
    ADDITIONAL_IP4_ADDRESS,
    ADDITIONAL_IP6_ADDRESS,
    CREATE_CHILD_SA,
    IKE_AUTH,
    IKE_SA_INIT,
    NO_ADDITIONAL_ADDRESSES,
    REKEY_SA,
)
from ipsecmm.wire._payloads import Notify, SAPayload
from ipsecmm.wire._pcap import udp_of

from ._vectors import message as model_message
from ._wire import to_dict


class TraceError(Exception):
    """Bad input: the message names the file (or frame) and the problem."""


@dataclass
class Packet:
    frame: int
    time: float
    src: str
    dst: str
    decoded: Decoded


@dataclass
class Result:
    lines: list[str] = field(default_factory=list)
    ok: bool = True
    messages: int = 0  # IKE messages in the capture
    replayed: int = 0  # of them, replayed on the model
    skipped: int = 0  # outside the model (see the module's docstring)


def read_keys(text: str, where: str) -> IkeKeys:
    rows = [r for r in text.splitlines() if r.strip() and not r.lstrip().startswith("#")]
    if not rows:
        raise TraceError(f"{where}: no ikev2_decryption_table row")
    try:
        return IkeKeys.from_row(rows[0])
    except WireError as exc:
        raise TraceError(f"{where}: {exc}") from None


def read_packets(capture: bytes, keys: IkeKeys, where: str) -> list[Packet]:
    """Every IKE message of the capture, decoded (the CHILD_SAs' SPIs, which
    name the SA a Delete is about, come from the SA payloads of IKE_AUTH and
    CREATE_CHILD_SA)."""
    try:
        linktype, frames = read_pcap(capture)
        raw = []
        for n, f in enumerate(frames, 1):
            u = udp_of(f.data, linktype)
            if u is not None and u.ike is not None:
                raw.append((n, f.sec + f.usec / 1e6, u))
    except WireError as exc:
        raise TraceError(f"{where}: {exc}") from None
    if not raw:
        raise TraceError(f"{where}: no IKE message in the capture")
    bare = Session(keys)
    spis: dict[tuple[int, int], bytes] = {}  # (exchange's initiator flag, mid) -> request's ESP SPI
    children: dict[str, ChildSA] = {}
    for n, _t, u in raw:
        try:
            d = decode(u.ike, bare)
        except WireError as exc:
            raise TraceError(f"{where}: frame {n}: {exc}") from None
        h = d.header
        if h.exchange not in (IKE_AUTH, CREATE_CHILD_SA):
            continue
        sas = [p for p in d.inner() if isinstance(p, SAPayload)]
        if not sas or not sas[0].proposals or len(sas[0].proposals[0].spi) != 4:
            continue
        spi = sas[0].proposals[0].spi
        starter = h.from_initiator != h.response  # the exchange's requester is peer I
        if not h.response:
            spis[(starter, h.mid)] = spi
        elif (starter, h.mid) in spis:
            mine = spis.pop((starter, h.mid))
            pair = ChildSA(mine, spi) if starter else ChildSA(spi, mine)
            children[f"child{len(children) + 1}"] = pair
    session = Session(keys, children, "ike", None, raw[0][2].dport if raw[0][2].dport in (500, 4500) else 4500)
    out = []
    asked: dict[tuple[bool, int], Kind] = {}
    for n, t, u in raw:
        try:
            hdr = decode(u.ike).header
            answering = asked.get((not hdr.from_initiator, hdr.mid)) if hdr.response else None
            d = decode(u.ike, session, src=u.src, dst=u.dst, ports=(u.sport, u.dport), answering=answering)
        except WireError as exc:
            raise TraceError(f"{where}: frame {n}: {exc}") from None
        if d.message is not None and not hdr.response:
            asked[(hdr.from_initiator, hdr.mid)] = d.message.kind
        out.append(Packet(n, t, u.src, u.dst, d))
    return out


def _lifted(sc: Scenario) -> Scenario:
    """A replay is no search: the request, move and retransmission budgets are
    what the capture needs, up to the largest a scenario may declare."""
    b = dataclasses.replace(sc.bounds, requests=BOUND_LIMITS["requests"][1], moves=BOUND_LIMITS["moves"][1],
                            retransmits=BOUND_LIMITS["retransmits"][1], drops=-1, actions=())
    return dataclasses.replace(sc, bounds=b)


class Replay:
    def __init__(self, sc: Scenario, profile: str) -> None:
        sc = _lifted(sc)
        self.m = Model(sc, get_profile(profile, sc.options))
        self.sc = self.m.sc
        self.w: World = self.m.initial()
        self.ips = {a.ip: k for k, a in enumerate(self.sc.addresses)}
        # The capture's CHILD_SAs (child1 of IKE_AUTH, then the rekeyed ones) are
        # the scenario's tunnel SA: a rekey makes a new SA in its place.
        tunnels = [s.name for s in self.sc.slots[1:] if s.mode == Mode.TUNNEL]
        self.child_name = tunnels[0] if tunnels else None
        self.ike = self.sc.slots[0].name
        self.result = Result()
        self.fired: list[tuple[int, Role, Row | None, int, int]] = []
        self.seen: set[tuple[int, bool, int]] = set()  # (sender, response, mid) replayed
        self.first_dst: dict[tuple[int, int], str] = {}  # (sender, mid) -> where the request first went
        self.skipped_mids: set[tuple[int, int]] = set()  # (requester, mid) of exchanges outside the model
        # CHILD_SAs of the capture alive at once: a rekey adds one until the
        # Delete of the one it replaced, which is therefore not a user's DELETE
        self.live_children = 1
        self.t0 = 0.0

    # ------------------------------------------------------------ helpers

    def say(self, text: str) -> None:
        self.result.lines.append(text)

    def fail(self, text: str) -> None:
        self.say(text)
        self.result.ok = False

    def addr(self, ip: str | None, what: str) -> int:
        if ip is None or ip not in self.ips:
            raise _Departure(f"{what} {ip} is no address of scenario {self.sc.name}")
        return self.ips[ip]

    def fire(self, m: Model, ps: Any, p: int, role: Role, x: MInput, out: Any) -> Any:
        row, res = m.dispatch(ps, p, role, x, out)
        part = ps.ini if role == Role.INITIATOR else ps.rsp
        after = part.st if res is None or row is None else row.dst
        self.fired.append((p, role, row, int(part.st), int(after)))
        return res

    def step(self, inp: Input, what: str) -> list[Event]:
        events: list[Event] = []
        self.fired = []
        w2 = self.m.step(self.w, inp, events, fire=self.fire)
        if w2 is None:
            why = "; ".join(f"{e.what} {e.reason.name if hasattr(e.reason, 'name') else e.reason}" for e in events)
            raise _Departure(f"the model refuses {what}" + (f" ({why})" if why else ""))
        self.w = w2
        return events

    def rows(self) -> str:
        out = []
        for p, role, row, st, after in self.fired:
            states: Any = IState if role == Role.INITIATOR else RState
            who = f"{Peer(p).name}.{'initiator' if role == Role.INITIATOR else 'responder'}"
            if row is None:
                out.append(f"{who}: no row (a defined refusal)")
            else:
                move = f" {states(st).name}→{states(after).name}" if st != after else ""
                out.append(f"{who}: {row.label}{move}")
        return "; ".join(out)

    def model_dict(self, msg: Msg) -> dict[str, Any]:
        return _normal(model_message(self.m, msg))

    def in_channel(self, d: int, real: dict[str, Any]) -> int | None:
        for i, msg in enumerate(self.w.chan[d]):
            if msg.kind != Kind.EMPTY and self.model_dict(msg) == real:
                return i
        return None

    def expected(self, d: int) -> str:
        msgs = [self.model_dict(msg) for msg in self.w.chan[d] if msg.kind != Kind.EMPTY]
        return "; ".join(_show(x) for x in msgs) if msgs else "nothing in flight"

    # ------------------------------------------------------------ address changes

    def moves(self, msg: Message, pk: Packet) -> None:
        """GAIN what the node sends from or lists; LOSE, on a list, what it
        has and neither sends from nor lists (RFC 4555 3.6).  The list is read
        from the notifies themselves: strongSwan also sends one inside
        UPDATE_SA_ADDRESSES, which the model's update does not carry."""
        if msg.sender != Peer.I or msg.response:
            return
        has = {self.addr(msg.src, "the source")}
        notes = [p for p in pk.decoded.inner() if isinstance(p, Notify)
                 and p.notify_type in (ADDITIONAL_IP4_ADDRESS, ADDITIONAL_IP6_ADDRESS, NO_ADDITIONAL_ADDRESSES)]
        listed = bool(notes)
        for n in notes:
            if n.notify_type != NO_ADDITIONAL_ADDRESSES:
                has.add(self.addr(str(ipaddress.ip_address(n.data)), "a listed address"))
        mine = [k for k, a in enumerate(self.sc.addresses) if a.owner == Peer.I]
        for k in mine:
            up = self.w.up >> k & 1
            name = self.sc.addresses[k].name
            if k in has and not up:
                self.step(Input(InKind.GAIN, 0, k), f"{name} appearing")
                self.say(f"  frame {pk.frame}: {name} ({self.sc.addresses[k].ip}) appears: GAIN")
            elif listed and k not in has and up:
                self.step(Input(InKind.LOSE, 0, k), f"{name} disappearing")
                self.say(f"  frame {pk.frame}: {name} ({self.sc.addresses[k].ip}) is gone: LOSE")

    # ------------------------------------------------------------ one message

    def action(self, msg: Message) -> Input:
        """The user action whose request the profile sends as ``msg``."""
        if msg.kind == Kind.MOBIKE_ADDITIONAL:
            mask = sum(1 << self.addr(a, "a listed address") for a in msg.addresses)
            return _act(Action.SET_ALT, sa=0, addrs=mask)
        if msg.kind == Kind.PROBE:
            return _act(Action.PROBE, new=self.addr(msg.src, "the source"))
        if msg.kind == Kind.MOBIKE_UPDATE:
            own = self.w.peers[0].sad[0].cur_i
            old = (own & -own).bit_length() - 1 if own else NOADDR
            return _act(Action.UPDATE, sa=0, old=old, new=self.addr(msg.src, "the source"))
        if msg.kind in (Kind.CREATE, Kind.DELETE):
            name = self.child_name if msg.sa not in (None, self.ike) else msg.sa
            k = self.sc.slot_index(name) if name is not None else 0xFF
            new = self.addr(msg.new, "the new address") if msg.kind == Kind.CREATE and msg.new else NOADDR
            return _act(Action(msg.kind.value), sa=k, new=new)
        raise _Departure(f"{msg.kind.name}: no action of the model's user sends it")

    def packet(self, pk: Packet) -> bool:
        """Replay one packet; False once the capture has left the model."""
        d = pk.decoded
        h = d.header
        res = self.result
        res.messages += 1
        sender = Peer.I if h.from_initiator else Peer.R
        arrow = f"{sender.name} {pk.src} → {pk.dst}"
        head = f"frame {pk.frame:>3}  t={pk.time - self.t0:7.3f}  {arrow}"
        if h.exchange in (IKE_SA_INIT, IKE_AUTH):
            res.skipped += 1
            ike = self.sc.slots[0]
            mine, theirs = (ike.cur_i, ike.cur_r) if sender == Peer.I else (ike.cur_r, ike.cur_i)
            src, dst = self.addr(pk.src, "the source"), self.addr(pk.dst, "the destination")
            if not (mine >> src & 1 and theirs >> dst & 1):
                raise _Departure(f"{d.unmodelled[0].split(':')[0]} between {pk.src} and {pk.dst}, not the "
                                 f"scenario's IKE_SA ({', '.join(self.sc.names(ike.cur_i))} – "
                                 f"{', '.join(self.sc.names(ike.cur_r))})")
            self.say(f"{head}  {d.unmodelled[0].split(':')[0]} mid={h.mid}: sets up the IKE_SA the model starts with")
            return True
        msg = d.message
        requester = sender if not h.response else Peer(1 - sender)
        if (int(requester), h.mid) in self.skipped_mids or (not h.response and sender == Peer.R):
            return self.outside(pk, head, msg)
        if not h.response and (_rekeys(d) or self._rekey_cleanup(msg)):
            return self.outside(pk, head, msg)  # the mobile node's own rekey, and its clean-up
        if msg is None:
            raise _Departure(f"{head}: a message the model has no counterpart for ({'; '.join(d.unmodelled)})")
        if msg.kind == Kind.DELETE and msg.sa == self.ike and not h.response:
            self.skipped_mids.add((int(requester), h.mid))
            return self.outside(pk, head, msg, "deletes the IKE_SA: the capture's end, outside the model")
        res.replayed += 1
        real = _normal(to_dict(msg))
        label = f"{head}  {_show(real)}"
        if d.unmodelled:
            label += "\n    not in the model: " + "; ".join(d.unmodelled)
        self.moves(msg, pk)
        if not h.response:
            again = (int(sender), False, h.mid) in self.seen
            self.seen.add((int(sender), False, h.mid))
            if sender != Peer.I:
                raise _Departure(f"{label}: the model's responder starts no exchange")
            first = self.first_dst.setdefault((int(sender), h.mid), pk.dst)
            if again and first != pk.dst:
                # A copy may leave from a newer address (RFC 4555 3.5), but the
                # model never sends one to another responder address.
                self.fail(f"{label}\n  ✗ departs from the model: message ID {h.mid} again, to {pk.dst} where its "
                          f"first copy went to {first}: several paths tested with one request (RFC 4555 3.7, "
                          f"3.10); the model's requests and their copies go to the IKE_SA's responder address only")
                return False
            if again:
                self.step(Input(InKind.TIMEOUT, 0), "a retransmission")
                how = "I's retransmission timer"
            else:
                inp = self.action(msg)
                self.step(inp, f"the user's {Action(inp.act.trigger.value).name}")
                how = f"user {Action(inp.act.trigger.value).name}"
            sent_rows = self.rows()
            i = self.in_channel(0, real)
            if i is None:
                self.fail(f"{label}\n  ✗ departs from the model: after {how} the model sends "
                          f"{self.expected(0)} ({sent_rows})")
                return False
            self.step(Input(InKind.DELIVER, 0, i), "the delivery")
            self.say(f"{label}\n    {how}: {sent_rows}\n    delivered: {self.rows()}")
            return True
        i = self.in_channel(1 - int(requester), real)
        if i is None:
            self.fail(f"{label}\n  ✗ departs from the model: the model's answer is "
                      f"{self.expected(1 - int(requester))}")
            return False
        self.step(Input(InKind.DELIVER, 1 - int(requester), i), "the delivery")
        self.say(f"{label}\n    delivered: {self.rows()}")
        return True

    def outside(self, pk: Packet, head: str, msg: Message | None, why: str = "") -> bool:
        d = pk.decoded
        h = d.header
        requester = (Peer.I if h.from_initiator else Peer.R) if not h.response else Peer(0 if not h.from_initiator else 1)
        if not why:
            if h.response and (int(requester), h.mid) in self.skipped_mids:
                why = "the answer to an exchange outside the model"
                if h.exchange == CREATE_CHILD_SA:
                    self.live_children += 1
            elif h.exchange == CREATE_CHILD_SA and _rekeys(d):
                why = "a CHILD_SA rekey: the userspace data plane cannot move an SA, so it makes a new one (not MOBIKE)"
            elif self._rekey_cleanup(msg):
                why = "deletes the CHILD_SA a rekey replaced (not MOBIKE)"
                self.live_children -= 1
            else:
                raise _Departure(f"{head}: the gateway starts an exchange the model has no counterpart for "
                                 f"({'; '.join(d.unmodelled) or (msg.kind.name if msg else '?')})")
        if not h.response and requester == Peer.I and (int(requester), h.mid) not in self.skipped_mids:
            self._use_mid()
        self.skipped_mids.add((int(requester), h.mid))
        self.result.skipped += 1
        kind = msg.kind.name if msg is not None else "?"
        self.say(f"{head}  {kind}{' answer' if h.response else ''} mid={h.mid}: {why}")
        return True

    def _use_mid(self) -> None:
        """An exchange of the mobile node outside the model takes the next
        message ID on both sides (RFC 7296 2.2), as one of the model's would;
        nothing else of the model's state is touched."""
        w = self.w
        i, r = w.peers[Peer.I], w.peers[Peer.R]
        if i.ini.st != IState.IDLE:
            raise _Departure("the mobile node starts an exchange outside the model while one of the model's is "
                             "outstanding (one request at a time, RFC 7296 2.3)")
        i = i._replace(ini=i.ini._replace(mid=i.ini.mid + 1))
        r = r._replace(rsp=r.rsp._replace(mid=r.rsp.mid + 1))
        self.w = w._replace(peers=(i, r))

    def _rekey_cleanup(self, msg: Message | None) -> bool:
        return (msg is not None and msg.kind == Kind.DELETE and msg.sa not in (None, self.ike)
                and self.live_children > 1)

    def run(self, packets: list[Packet]) -> Result:
        self.t0 = packets[0].time
        for pk in packets:
            try:
                if not self.packet(pk):
                    return self.result
            except _Departure as exc:
                self.fail(f"frame {pk.frame}: ✗ departs from the model: {exc}")
                return self.result
        return self.result


class _Departure(Exception):
    pass


def _rekeys(d: Decoded) -> bool:
    return d.header.exchange == CREATE_CHILD_SA and any(
        isinstance(p, Notify) and p.notify_type == REKEY_SA for p in d.inner())


def _act(action: Action, sa: int = 0xFF, old: int = NOADDR, new: int = NOADDR, addrs: int = 0) -> Input:
    return Input(InKind.ACT, 0, 0, MInput(act_trigger(action), sa=sa, old=old, new=new, addrs=addrs))


def _normal(d: dict[str, Any]) -> dict[str, Any]:
    """Comparable abstract messages: lists as sets, the notify name dropped
    (it follows from the kind)."""
    d = {k: v for k, v in d.items() if k != "notify"}
    if "addresses" in d:
        d["addresses"] = sorted(d["addresses"])
    return d


def _show(d: dict[str, Any]) -> str:
    kind = d["kind"] + (" answer" if d["response"] else "")
    extra = ""
    if d.get("reason", "OK") != "OK":
        extra += f" {d['reason']}"
    if "sa" in d:
        extra += f" sa={d['sa']}"
    if "addresses" in d:
        extra += " {" + ",".join(d["addresses"]) + "}"
    return f"{kind} mid={d['message_id']}{extra} [{d['src']}→{d['dst']}]"


def replay(capture: bytes, table: str, sc: Scenario, profile: str, where: tuple[str, str]) -> Result:
    keys = read_keys(table, where[1])
    return Replay(sc, profile).run(read_packets(capture, keys, where[0]))
