"""Human-readable text for inputs, messages, events and state changes.

Used by ``simulate``, by the step tables of witnesses and counterexamples, and
by the diagrams.  Everything here is a pure function of the model and records,
so the same run always reads the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ._machines import Event, MInput, base_kind
from ._model import Input, Model
from ._scenario import Scenario
from ._state import Msg, PeerState, World
from ._vocab import ALLSA, NOADDR, NOSA, Action, Family, InKind, Kind, Mode, Peer, Reason, SAState

PEER = ("I", "R")
ARROW = ("I→R", "R→I")


def addr(m: Model, a: Any) -> str:
    a = int(a)
    if a == NOADDR or a >= m.n_addr:
        return "-"
    return m.sc.addresses[a].name


def addrs(m: Model, mask: Any) -> str:
    return "{" + ",".join(m.sc.names(int(mask))) + "}"


def slot(m: Model, k: Any) -> str:
    k = int(k)
    if k == ALLSA:
        return "*"
    if k == NOSA or k >= m.n_slots:
        return "-"
    return m.sc.slots[k].name


def action(m: Model, x: MInput) -> str:
    a = Action(x.trigger.value)
    if a in (Action.UPDATE, Action.CHECK_UPDATE):
        args = f"{slot(m, x.sa)}, {addr(m, x.old)}→{addr(m, x.new)}"
    elif a in (Action.ADD, Action.CHECK_ADD):
        args = f"{slot(m, x.sa)}, {addr(m, x.new)}"
    elif a in (Action.REMOVE, Action.CHECK_REMOVE):
        args = f"{slot(m, x.sa)}, {addr(m, x.old)}"
    elif a in (Action.SET_ALT, Action.CHECK_ALT):
        args = f"{slot(m, x.sa)}, {addrs(m, x.addrs)}"
    elif a == Action.PROBE:
        args = addr(m, x.new)
    elif a == Action.CREATE:
        args = f"{slot(m, x.sa)}, {addr(m, x.new)}"
    else:
        args = slot(m, x.sa)
    return f"{a.name}({args})"


def message(m: Model, msg: Msg) -> str:
    """A message as it would be described on the wire, plus its IP header."""
    kind = Kind(int(msg.kind))
    ip = f"{addr(m, msg.src)}→{addr(m, msg.dst)}"
    forged = "" if int(msg.prot) else " UNPROTECTED"
    if int(msg.resp):
        reason = Reason(int(msg.reason))
        verdict = "OK" if reason == Reason.OK else reason.name
        if kind == Kind.RR_CHALLENGE:
            return f"COOKIE2 echo mid={int(msg.mid)} [{ip}]{forged}"
        return f"{kind.name} answer mid={int(msg.mid)} {verdict} [{ip}]{forged}"
    if kind == Kind.RR_CHALLENGE:
        return f"COOKIE2 challenge mid={int(msg.mid)} [{ip}]{forged}"
    base = base_kind(kind)
    if base == Kind.UPDATE:
        args = f"{slot(m, msg.sa)} {addr(m, msg.old)}→{addr(m, msg.new)}"
    elif base == Kind.ADD:
        args = f"{slot(m, msg.sa)} +{addr(m, msg.new)}"
    elif base == Kind.REMOVE:
        args = f"{slot(m, msg.sa)} -{addr(m, msg.old)}"
    elif base in (Kind.SET_ALT, Kind.MOBIKE_ADDITIONAL):
        args = f"{slot(m, msg.sa)} alt={addrs(m, msg.addrs)}"
    elif kind == Kind.CREATE:
        args = f"{slot(m, msg.sa)} {addr(m, msg.new)}"
    elif kind == Kind.DELETE:
        args = slot(m, msg.sa)
    else:
        args = ""
    sep = " " if args else ""
    return f"{kind.name}{sep}{args} mid={int(msg.mid)} [{ip}]{forged}"


def input_(m: Model, w: World, inp: Input) -> tuple[str, str]:
    """(who, what) for an input taken in world ``w``."""
    k = inp.kind
    if k == InKind.ACT:
        assert inp.act is not None
        return PEER[inp.peer], action(m, inp.act)
    if k in (InKind.DELIVER, InKind.DROP, InKind.DUPLICATE):
        msg = w.chan[inp.peer][inp.idx]
        verb = {InKind.DELIVER: "deliver", InKind.DROP: "lose", InKind.DUPLICATE: "duplicate"}[k]
        return "net", f"{verb} {ARROW[inp.peer]}: {message(m, msg)}"
    if k == InKind.LOSE:
        return "env", f"{addr(m, inp.idx)} stops working"
    if k == InKind.GAIN:
        return "env", f"{addr(m, inp.idx)} starts working"
    if k == InKind.TIMEOUT:
        return PEER[inp.peer], "retransmission timer fires"
    if k == InKind.RR_TIMEOUT:
        return PEER[inp.peer], "return routability timer fires"
    if k == InKind.PATH_DEAD:
        return PEER[inp.peer], "detects dead peer addresses"
    if k == InKind.FORGE:
        return "attacker", f"inject {ARROW[inp.peer]}"
    return "?", str(inp)


def event(m: Model, ev: Event) -> str | None:
    who = PEER[ev.peer]
    if ev.what == "send":
        return f"{who} sends {message(m, ev.msg)}"
    if ev.what == "refuse":
        return f"{who} refuses: {Reason(int(ev.reason)).name}" + (f" ({ev.detail})" if ev.detail else "")
    if ev.what == "answer":
        r = Reason(int(ev.reason))
        return f"{who} learns: {'accepted' if r == Reason.OK else 'refused ' + r.name}"
    if ev.what == "discard":
        return f"{who} discards {message(m, ev.msg)} ({ev.detail})"
    if ev.what == "lost":
        return f"lost: {message(m, ev.msg)}" + (f" ({ev.detail})" if ev.detail else "")
    if ev.what == "failover":
        return f"{who} fails {slot(m, ev.sa)} over to an alternate"
    if ev.what == "inactive":
        return f"{who} marks {slot(m, ev.sa)} inactive"
    if ev.what == "forge":
        return f"injected {message(m, ev.msg)}"
    return None  # deliver / apply / duplicate are shown by the input or the diff


def _sa_text(m: Model, k: int, e: Any) -> str:
    if e.state in (SAState.ABSENT, SAState.DELETED):
        return SAState(e.state).name.lower()
    parts = [f"I{addrs(m, e.cur_i)}", f"R{addrs(m, e.cur_r)}"]
    if e.alt_i:
        parts.append(f"altI{addrs(m, e.alt_i)}")
    if e.alt_r:
        parts.append(f"altR{addrs(m, e.alt_r)}")
    parts.append(f"out{addrs(m, e.out)}")
    if e.state != SAState.ACTIVE:
        parts.append(SAState(e.state).name.lower())
    if e.gen:
        parts.append(f"gen{e.gen}")
    return " ".join(parts)


def peer_diff(m: Model, p: int, a: PeerState, b: PeerState) -> list[str]:
    who = PEER[p]
    res: list[str] = []
    if a.ini.st != b.ini.st:
        res.append(f"{who}.initiator {a.ini.st.name}→{b.ini.st.name}")
    if a.rsp.st != b.rsp.st:
        res.append(f"{who}.responder {a.rsp.st.name}→{b.rsp.st.name}")
    for k in range(m.n_slots):
        if a.sad[k] != b.sad[k]:
            res.append(f"{who}.SAD[{slot(m, k)}] {_sa_text(m, k, b.sad[k])}")
        if a.spd[k] != b.spd[k] and m.mode[k] == Mode.TRANSPORT:
            s = b.spd[k]
            res.append(f"{who}.SPD[{slot(m, k)}] sel I{addrs(m, s.sel_i)} R{addrs(m, s.sel_r)}")
    if a.rsp.verified != b.rsp.verified:
        res.append(f"{who} verified {addrs(m, b.rsp.verified)}")
    if a.ini.probed != b.ini.probed:
        res.append(f"{who} probed {addrs(m, b.ini.probed)}")
    return res


def world_diff(m: Model, a: World, b: World) -> list[str]:
    res = []
    for p in (0, 1):
        res += peer_diff(m, p, a.peers[p], b.peers[p])
    if a.up != b.up:
        res.append(f"working {addrs(m, b.up)}")
    return res


def snapshot(m: Model, w: World) -> list[str]:
    """Both peers' databases, one line per SA and peer."""
    lines = []
    for p in (0, 1):
        ps = w.peers[p]
        for k in range(m.n_slots):
            e = ps.sad[k]
            if e.state == SAState.ABSENT:
                continue
            spd = ""
            if m.mode[k] == Mode.TRANSPORT and e.state != SAState.DELETED:
                spd = f"  SPD I{addrs(m, ps.spd[k].sel_i)} R{addrs(m, ps.spd[k].sel_r)}"
            lines.append(f"{PEER[p]} {slot(m, k):<8} {_sa_text(m, k, e)}{spd}")
    lines.append(f"working {addrs(m, w.up)}")
    return lines


# --------------------------------------------------------------------------- what the names stand for


@dataclass(frozen=True)
class Table:
    """A small table of text, for a terminal, HTML or Markdown alike."""

    caption: str
    head: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _names(sc: Scenario, mask: int) -> str:
    return ",".join(sc.names(mask)) or "-"


def scenario_tables(sc: Scenario) -> list[Table]:
    """The legend of a scenario: what a1, r1, web... stand for (addresses and
    SAs), and what each peer accepts (its PAD, and its local policy for each
    network the other peer's addresses are on).  Every output that prints
    these names shows this legend, from here."""
    addresses = tuple((a.name, a.owner.name, "v6" if a.family == Family.V6 else "v4", a.network, a.ip, _yes(a.up))
                      for a in sc.addresses)
    sas = []
    for s in sc.slots:
        mode = "IKE_SA" if s.mode == Mode.IKE else s.mode.name.lower()
        spd = "-"
        if s.mode == Mode.TRANSPORT:
            spd = "; ".join(f"{p.name}: {_names(sc, s.spd_allow[p])}" for p in Peer)
        sas.append((s.name, mode, s.protection.name.lower(), s.state.name.lower(), _names(sc, s.cur_i),
                    _names(sc, s.cur_r), _names(sc, s.alt_i | s.alt_r) if s.alt_i | s.alt_r else "-", spd))
    pads = tuple((p.name, _names(sc, sc.peers[p].pad)) for p in Peer)
    policies = []
    for p in Peer:
        cfg = sc.peers[p]
        nets = [a.network for a in sc.addresses if a.owner == p.other]
        nets += sorted(cfg.networks)
        for net in dict.fromkeys(nets):
            pol = cfg.policy(net)
            policies.append((p.name, net, _yes(pol.accept), _yes(pol.require_rr), pol.min_protection.name.lower(),
                             "scenario" if net in cfg.networks else "default"))
    return [
        Table("addresses", ("name", "owner", "family", "network", "IP", "working at start"), addresses),
        Table("SAs (state at start; an absent SA is one a CREATE_CHILD_SA can set up)",
              ("name", "mode", "protection", "state", "I addresses", "R addresses", "alternates",
               "SPD covers (per peer)"), tuple(sas)),
        Table("PAD: the other peer's addresses each peer authorises", ("peer", "authorises"), pads),
        Table("local policy of each peer, per network of the other peer's addresses",
              ("peer", "network", "accept", "require_rr", "min_protection", "from"), tuple(policies)),
    ]


def text_table(t: Table) -> list[str]:
    """A table as aligned text lines, under its caption."""
    widths = [max(len(r[c]) for r in (t.head, *t.rows)) for c in range(len(t.head))]
    lines = [f"{t.caption}:"]
    for r in (t.head, *t.rows):
        lines.append("  " + "  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip())
    return lines


def legend(sc: Scenario) -> list[str]:
    """The scenario's legend as text lines (``simulate``, ``explain``)."""
    lines = [f"scenario {sc.name}: what the names stand for"]
    for t in scenario_tables(sc):
        lines += text_table(t)
    return lines
