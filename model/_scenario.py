"""Scenarios: the static part of a model instance, read from TOML.

A scenario declares addresses, the SAs between the two peers, each peer's PAD,
SPD policy and local policy, the bounds of the environment, and profile
options.  Loading validates everything and reports the first problem as a
``ScenarioError`` naming the file, the key and what is wrong; the CLI turns that
into exit code 2.
"""

from __future__ import annotations

import ipaddress
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from ._vocab import Action, Family, Mode, Peer, Protection, SAState

MAX_ADDRESSES = 12  # address sets are bit masks inside 16-bit symbolic fields
MAX_SLOTS = 8


class ScenarioError(Exception):
    """A scenario that cannot be used.  ``str()`` is the one-line user message."""

    def __init__(self, source: str, key: str, problem: str) -> None:
        self.source = source
        self.key = key
        self.problem = problem
        super().__init__(f"{source}: {key}: {problem}" if key else f"{source}: {problem}")


@dataclass(frozen=True)
class Address:
    name: str
    owner: Peer
    family: Family
    network: str
    ip: str
    up: bool


@dataclass(frozen=True)
class NetworkPolicy:
    """What a peer's local policy says about remote addresses on one network."""

    accept: bool = True
    require_rr: bool = False
    min_protection: Protection = Protection.NONE


@dataclass(frozen=True)
class SASpec:
    """An SA slot.  Slot 0 is the IKE_SA.  An ABSENT slot is an SA the peers
    could negotiate later (CREATE_CHILD_SA): its addresses are the template the
    creator's address replaces on the creator's side."""

    name: str
    mode: Mode
    protection: Protection
    state: SAState
    cur_i: int
    cur_r: int
    alt_i: int = 0
    alt_r: int = 0
    #: per peer (index Peer): remote addresses this SA's SPD policy may protect
    #: (transport mode); ignored for tunnel mode and the IKE_SA.
    spd_allow: tuple[int, int] = (0, 0)


@dataclass(frozen=True)
class PeerConfig:
    #: remote addresses the PAD lets the other peer's identity claim
    pad: int
    #: local policy per network name of the remote addresses
    networks: dict[str, NetworkPolicy] = field(default_factory=dict)

    def policy(self, network: str) -> NetworkPolicy:
        return self.networks.get(network, NetworkPolicy())


@dataclass(frozen=True)
class Bounds:
    channel: int = 1  # messages in flight per direction
    retransmits: int = 2  # per request, before the initiator gives up
    requests: int = 2  # new requests per run (all peers together)
    moves: int = 2  # address losses and gains per run
    drops: int = -1  # messages the network may lose per run; -1: no limit (a full channel loses more)
    forge: int = 1  # unprotected messages an attacker may inject per run
    #: the user actions the search may take (all when empty); a focused question
    #: ("does ADD then REMOVE keep a working address?") needs only a few
    actions: tuple[Action, ...] = ()


@dataclass(frozen=True)
class Options:
    """Readings of the draft that change behaviour (see docs/model.md)."""

    apply_early: bool = False  # FIND-4.1-ORDER: initiator updates before sending
    both_move: bool = False  # FIND-12-BOTH-MOVE: the responder moves too
    failover: str = "all"  # "all": fail over when every address is dead; "any": when one is
    inactive_update: str = "allow"  # "allow" | "refuse" an UPDATE on an inactive SA

    def replace(self, **changes: Any) -> Options:
        values = {**self.__dict__, **changes}
        return Options(**values)


#: The range of every numeric bound, for scenario files and the command line
#: alike.  Past these the state space no longer fits a run of the tools (and
#: message IDs and retries no longer fit the symbolic fields).
BOUND_LIMITS: dict[str, tuple[int, int]] = {
    "channel": (1, 3),
    "retransmits": (0, 4),
    "requests": (0, 6),
    "moves": (0, 6),
    "drops": (-1, 6),
    "forge": (0, 3),
}
BOUND_MEANING = {"drops": "-1 means no limit"}


def bound_problem(key: str, value: int) -> str:
    """What is wrong with ``value`` for bound ``key`` ("" when nothing): the
    one range check that scenario files and ``--bound`` share."""
    lo, hi = BOUND_LIMITS[key]
    if lo <= value <= hi:
        return ""
    note = f"; {BOUND_MEANING[key]}" if key in BOUND_MEANING else ""
    return f"{value} is out of range ({lo} to {hi}{note})"


def shown(text: str) -> str:
    """``text`` as an error message may print it: plain names as they are,
    anything else (spaces, quotes, control or non-ASCII characters) as a JSON
    string, so that a message stays on one line and says exactly what the
    user wrote."""
    if text and all(c.isascii() and (c.isalnum() or c in "_-.[]/:+@") for c in text):
        return text
    import json

    return json.dumps(text)


OPTION_CHOICES: dict[str, tuple[Any, ...]] = {
    "apply_early": (False, True),
    "both_move": (False, True),
    "failover": ("all", "any"),
    "inactive_update": ("allow", "refuse"),
}


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    source: str
    addresses: tuple[Address, ...]
    slots: tuple[SASpec, ...]  # slot 0 = IKE_SA
    peers: tuple[PeerConfig, PeerConfig]
    bounds: Bounds
    options: Options

    @property
    def n_addr(self) -> int:
        return len(self.addresses)

    @property
    def n_slots(self) -> int:
        return len(self.slots)

    def addr_index(self, name: str) -> int:
        for k, a in enumerate(self.addresses):
            if a.name == name:
                return k
        raise KeyError(name)

    def slot_index(self, name: str) -> int:
        for k, s in enumerate(self.slots):
            if s.name == name:
                return k
        raise KeyError(name)

    def owned(self, peer: Peer) -> int:
        mask = 0
        for k, a in enumerate(self.addresses):
            if a.owner == peer:
                mask |= 1 << k
        return mask

    def names(self, mask: int) -> list[str]:
        return [a.name for k, a in enumerate(self.addresses) if mask >> k & 1]


# --------------------------------------------------------------------------- loading

_TOP_KEYS = {"scenario", "address", "network", "ike", "sa", "peer", "bounds", "options"}
_PROT = {"none": Protection.NONE, "integrity": Protection.INTEGRITY, "encryption": Protection.ENCRYPTION}
_FAM = {"v4": Family.V4, "v6": Family.V6}
_MODE = {"transport": Mode.TRANSPORT, "tunnel": Mode.TUNNEL}
_STATE = {"active": SAState.ACTIVE, "inactive": SAState.INACTIVE, "absent": SAState.ABSENT}


class _Reader:
    """Typed access to a TOML table that reports errors with the full key path."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, key: str, problem: str) -> ScenarioError:
        return ScenarioError(self.source, key, problem)

    def table(self, value: Any, key: str, allowed: set[str]) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(key, f"expected a table, got {_tname(value)}")
        for k in value:
            if k not in allowed:
                hint = ", ".join(sorted(allowed))
                raise self.fail(f"{key}.{k}" if key else k, f"unknown key (expected one of: {hint})")
        return value

    def get(self, t: dict[str, Any], key: str, path: str, kind: type, default: Any = ...) -> Any:
        if key not in t:
            if default is ...:
                raise self.fail(_join(path, key), "missing required key")
            return default
        v = t[key]
        if kind is int and (isinstance(v, bool) or not isinstance(v, int)):
            raise self.fail(_join(path, key), f"expected an integer, got {_tname(v)}")
        if kind is bool and not isinstance(v, bool):
            raise self.fail(_join(path, key), f"expected true or false, got {_tname(v)}")
        if kind is str and not isinstance(v, str):
            raise self.fail(_join(path, key), f"expected a string, got {_tname(v)}")
        if kind is list and not isinstance(v, list):
            raise self.fail(_join(path, key), f"expected a list, got {_tname(v)}")
        return v

    def choice(self, t: dict[str, Any], key: str, path: str, choices: dict[str, Any], default: Any = ...) -> Any:
        if key not in t and default is not ...:
            return default
        v = self.get(t, key, path, str)
        if v not in choices:
            raise self.fail(_join(path, key), f"{v!r} is not one of: {', '.join(choices)}")
        return choices[v]


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _tname(v: Any) -> str:
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string",
            list: "a list", dict: "a table"}.get(type(v), type(v).__name__)


def load_scenario(path: str | Path) -> Scenario:
    p = Path(path)
    source = str(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError(source, "", "no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(source, "", f"cannot read: {exc}") from None
    return parse_scenario(text, source)


def parse_scenario(text: str, source: str = "<scenario>") -> Scenario:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(source, "", f"not valid TOML: {exc}") from None
    return _build(data, _Reader(source))


def _build(data: dict[str, Any], rd: _Reader) -> Scenario:
    rd.table(data, "", _TOP_KEYS)
    meta = rd.table(data.get("scenario", {}), "scenario", {"name", "description"})
    name = rd.get(meta, "name", "scenario", str, "unnamed")
    description = rd.get(meta, "description", "scenario", str, "")

    # networks ----------------------------------------------------------------
    networks: set[str] = set()
    raw_nets = rd.get(data, "network", "", list, [])
    for k, n in enumerate(raw_nets):
        path = f"network[{k}]"
        rd.table(n, path, {"name"})
        nm = rd.get(n, "name", path, str)
        if nm in networks:
            raise rd.fail(f"{path}.name", f"network {nm!r} is declared twice")
        networks.add(nm)

    # addresses ---------------------------------------------------------------
    addresses: list[Address] = []
    raw_addrs = rd.get(data, "address", "", list)
    if not raw_addrs:
        raise rd.fail("address", "at least one address per peer is needed")
    for k, a in enumerate(raw_addrs):
        path = f"address[{k}]"
        rd.table(a, path, {"name", "owner", "family", "network", "ip", "up"})
        nm = rd.get(a, "name", path, str)
        if any(x.name == nm for x in addresses):
            raise rd.fail(f"{path}.name", f"address {nm!r} is declared twice")
        owner = rd.choice(a, "owner", path, {"I": Peer.I, "R": Peer.R})
        fam = rd.choice(a, "family", path, _FAM, Family.V4)
        net = rd.get(a, "network", path, str)
        if raw_nets and net not in networks:
            raise rd.fail(f"{path}.network", f"network {net!r} is not declared in [[network]]")
        networks.add(net)
        ip = rd.get(a, "ip", path, str, "")
        if ip:
            try:
                parsed = ipaddress.ip_address(ip)
            except ValueError:
                raise rd.fail(f"{path}.ip", f"{ip!r} is not an IP address") from None
            if (parsed.version == 6) != (fam == Family.V6):
                raise rd.fail(f"{path}.ip", f"{ip} is not a {'v6' if fam else 'v4'} address")
        else:
            ip = _default_ip(owner, fam, sum(1 for x in addresses if x.owner == owner and x.family == fam) + 1)
        if any(x.ip == ip for x in addresses):
            raise rd.fail(f"{path}.ip", f"IP {ip} is used by two addresses")
        up = rd.get(a, "up", path, bool, True)
        addresses.append(Address(nm, owner, fam, net, ip, up))
    if len(addresses) > MAX_ADDRESSES:
        raise rd.fail("address", f"{len(addresses)} addresses; the model supports at most {MAX_ADDRESSES}")
    for peer in Peer:
        if not any(a.owner == peer for a in addresses):
            raise rd.fail("address", f"peer {peer.name} owns no address")

    index = {a.name: k for k, a in enumerate(addresses)}

    def addr_mask(value: Any, path: str, owner: Peer | None = None) -> int:
        if not isinstance(value, list):
            raise rd.fail(path, f"expected a list of address names, got {_tname(value)}")
        mask = 0
        for j, nm in enumerate(value):
            if not isinstance(nm, str):
                raise rd.fail(f"{path}[{j}]", f"expected an address name, got {_tname(nm)}")
            if nm not in index:
                raise rd.fail(f"{path}[{j}]", f"address {nm!r} is not declared in [[address]]")
            if owner is not None and addresses[index[nm]].owner != owner:
                holder = addresses[index[nm]].owner.name
                raise rd.fail(f"{path}[{j}]", f"address {nm!r} belongs to peer {holder}, not {owner.name}")
            mask |= 1 << index[nm]
        return mask

    # peers: PAD and local policy ----------------------------------------------
    raw_peers = rd.table(data.get("peer", {}), "peer", {"I", "R"})
    peer_cfgs: list[PeerConfig] = []
    for peer in Peer:
        path = f"peer.{peer.name}"
        t = rd.table(raw_peers.get(peer.name, {}), path, {"pad", "network"})
        remote = peer.other
        pad = addr_mask(t["pad"], f"{path}.pad", remote) if "pad" in t else _owned(addresses, remote)
        pols: dict[str, NetworkPolicy] = {}
        nets = rd.table(t.get("network", {}), f"{path}.network", networks)
        for net, pv in nets.items():
            npath = f"{path}.network.{net}"
            rd.table(pv, npath, {"accept", "require_rr", "min_protection"})
            pols[net] = NetworkPolicy(
                accept=rd.get(pv, "accept", npath, bool, True),
                require_rr=rd.get(pv, "require_rr", npath, bool, False),
                min_protection=rd.choice(pv, "min_protection", npath, _PROT, Protection.NONE),
            )
        peer_cfgs.append(PeerConfig(pad=pad, networks=pols))

    # SAs ------------------------------------------------------------------------
    slot_keys = {"i_addrs", "r_addrs", "i_alternates", "r_alternates"}
    ike = rd.table(data.get("ike", {}), "ike", slot_keys)
    slots: list[SASpec] = []

    def sides(t: dict[str, Any], path: str) -> tuple[int, int, int, int]:
        cur_i = addr_mask(rd.get(t, "i_addrs", path, list), f"{path}.i_addrs", Peer.I)
        cur_r = addr_mask(rd.get(t, "r_addrs", path, list), f"{path}.r_addrs", Peer.R)
        alt_i = addr_mask(t.get("i_alternates", []), f"{path}.i_alternates", Peer.I)
        alt_r = addr_mask(t.get("r_alternates", []), f"{path}.r_alternates", Peer.R)
        if not cur_i:
            raise rd.fail(f"{path}.i_addrs", "an SA needs at least one initiator address")
        if not cur_r:
            raise rd.fail(f"{path}.r_addrs", "an SA needs at least one responder address")
        if alt_i & cur_i:
            raise rd.fail(f"{path}.i_alternates", "alternates overlap the current addresses")
        if alt_r & cur_r:
            raise rd.fail(f"{path}.r_alternates", "alternates overlap the current addresses")
        return cur_i, cur_r, alt_i, alt_r

    ci, cr, ai, ar = sides(ike, "ike")
    slots.append(SASpec("ike", Mode.IKE, Protection.ENCRYPTION, SAState.ACTIVE, ci, cr, ai, ar))
    raw_sas = rd.get(data, "sa", "", list, [])
    for k, s in enumerate(raw_sas):
        path = f"sa[{k}]"
        rd.table(s, path, slot_keys | {"name", "mode", "protection", "state", "spd"})
        nm = rd.get(s, "name", path, str)
        if nm == "ike" or any(x.name == nm for x in slots):
            raise rd.fail(f"{path}.name", f"SA name {nm!r} is already used")
        mode = rd.choice(s, "mode", path, _MODE)
        prot = rd.choice(s, "protection", path, _PROT, Protection.ENCRYPTION)
        state = rd.choice(s, "state", path, _STATE, SAState.ACTIVE)
        ci, cr, ai, ar = sides(s, path)
        spd_t = rd.table(s.get("spd", {}), f"{path}.spd", {"I", "R"})
        if spd_t and mode != Mode.TRANSPORT:
            raise rd.fail(f"{path}.spd",
                          "address selectors only exist in transport mode; a tunnel's SPD selects inner addresses")
        spd_allow = tuple(
            addr_mask(spd_t[p.name], f"{path}.spd.{p.name}", p.other) if p.name in spd_t else _owned(addresses, p.other)
            for p in Peer
        )
        slots.append(SASpec(nm, mode, prot, state, ci, cr, ai, ar, (spd_allow[0], spd_allow[1])))

    # bounds and options ---------------------------------------------------------------
    bt = rd.table(data.get("bounds", {}), "bounds", set(Bounds.__dataclass_fields__))
    bvals: dict[str, Any] = {}
    for key in BOUND_LIMITS:
        v = rd.get(bt, key, "bounds", int, getattr(Bounds(), key))
        problem = bound_problem(key, v)
        if problem:
            raise rd.fail(f"bounds.{key}", problem)
        bvals[key] = v
    acts = []
    for j, act in enumerate(rd.get(bt, "actions", "bounds", list, [])):
        key = f"bounds.actions[{j}]"
        if not isinstance(act, str) or act.upper() not in Action.__members__:
            names = ", ".join(a.name.lower() for a in Action)
            raise rd.fail(key, f"{act!r} is not an action (expected one of: {names})")
        acts.append(Action[act.upper()])
    bvals["actions"] = tuple(acts)
    bounds = Bounds(**bvals)
    if len(slots) > MAX_SLOTS:
        raise rd.fail("sa", f"{len(slots)} SA slots (IKE_SA and CHILD_SAs); the model supports at most {MAX_SLOTS}")

    ot = rd.table(data.get("options", {}), "options", set(OPTION_CHOICES))
    ovals: dict[str, Any] = {}
    for key, choices in OPTION_CHOICES.items():
        if key in ot:
            v = ot[key]
            if v not in choices or type(v) is not type(choices[0]):
                raise rd.fail(f"options.{key}", f"{v!r} is not one of: {', '.join(map(_toml, choices))}")
            ovals[key] = v
    options = Options(**ovals)

    sc = Scenario(name, description, rd.source, tuple(addresses), tuple(slots),
                  (peer_cfgs[0], peer_cfgs[1]), bounds, options)
    _check_policy(sc, rd)
    return sc


def _toml(v: Any) -> str:
    return ("true" if v else "false") if isinstance(v, bool) else repr(v)


def _owned(addresses: list[Address], peer: Peer) -> int:
    mask = 0
    for k, a in enumerate(addresses):
        if a.owner == peer:
            mask |= 1 << k
    return mask


def _check_policy(sc: Scenario, rd: _Reader) -> None:
    """Reject an initial configuration that the scenario's own policies forbid:
    the model would start in a state its invariants call unreachable."""
    for k, s in enumerate(sc.slots):
        if s.state == SAState.ABSENT:
            continue
        path = "ike" if k == 0 else f"sa[{k - 1}]"
        for peer in Peer:
            cfg = sc.peers[peer]
            remote = s.cur_r if peer == Peer.I else s.cur_i
            remote_alt = s.alt_r if peer == Peer.I else s.alt_i
            side = "r" if peer == Peer.I else "i"
            for j in range(sc.n_addr):
                used = remote >> j & 1
                alt = remote_alt >> j & 1
                if not (used or alt):
                    continue
                a = sc.addresses[j]
                key = f"{path}.{side}_addrs" if used else f"{path}.{side}_alternates"
                if not cfg.pad >> j & 1:
                    raise rd.fail(key, f"peer {peer.name}'s PAD does not authorise {a.name} for its peer's identity")
                if s.mode == Mode.TRANSPORT and not s.spd_allow[peer] >> j & 1:
                    raise rd.fail(key, f"peer {peer.name}'s SPD for {s.name} does not cover {a.name}")
                pol = cfg.policy(a.network)
                if not pol.accept:
                    raise rd.fail(key, f"peer {peer.name}'s local policy refuses network {a.network!r} for {s.name}")
                if pol.min_protection > s.protection:
                    need, has = pol.min_protection.name.lower(), s.protection.name.lower()
                    raise rd.fail(key, f"network {a.network!r} needs {need} but {s.name} has {has}")


def _default_ip(owner: Peer, fam: Family, n: int) -> str:
    # Documentation prefixes (RFC 5737, RFC 3849) so vectors never name real hosts.
    if fam == Family.V4:
        return f"192.0.2.{n}" if owner == Peer.I else f"198.51.100.{n}"
    return f"2001:db8:{1 if owner == Peer.I else 2}::{n}"


def default_scenario() -> Scenario:
    return builtin_scenario("default")


def builtin_names() -> list[str]:
    """Names of the scenarios shipped with the package (``scenarios/`` in the repository)."""
    files = resources.files("ipsecmm.model").joinpath("scenarios").iterdir()
    return sorted(f.name[:-5] for f in files if f.name.endswith(".toml"))


def builtin_scenario(name: str) -> Scenario:
    path = resources.files("ipsecmm.model").joinpath("scenarios", f"{name}.toml")
    if not path.is_file():
        raise ScenarioError(f"<built-in {name}>", "", f"no built-in scenario of that name ({', '.join(builtin_names())})")
    label = "<built-in default>" if name == "default" else f"<built-in {name}>"
    return parse_scenario(path.read_text(encoding="utf-8"), label)
