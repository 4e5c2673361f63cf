"""Scenarios: the static part of a model instance, read from TOML.

A scenario declares addresses, the SAs between the two peers, each peer's PAD,
SPD policy and local policy, the bounds of the environment, and profile
options.  Loading validates everything and reports the first problem as a
``ScenarioError`` naming the file, the key and what is wrong; the CLI turns that
into exit code 2.
"""

from __future__ import annotations

import ipaddress
import json
import tomllib
import unicodedata
from collections.abc import Callable
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
        where = shown_source(source)
        super().__init__(f"{where}: {key}: {problem}" if key else f"{where}: {problem}")


def shown_source(source: str) -> str:
    """A file name (or label) as an error line starts with it: as it is,
    unless it holds characters that would break the line."""
    return source if source.isprintable() else shown(source)


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
    return f"{number(value)} is out of range ({lo} to {hi}{note})"


def number(value: int) -> str:
    """An integer as a message prints it: a number of more digits than any
    bound or index has is cut short, so that the message stays readable."""
    text = str(value)
    return text if len(text) <= 20 else f"{text[:12]}... ({len(text.lstrip('-'))} digits)"


def shown(text: str) -> str:
    """``text`` as an error message may print it: plain names as they are,
    anything else (spaces, quotes, control or non-ASCII characters) as a JSON
    string, so that a message stays on one line and says exactly what the
    user wrote."""
    if text and all(c.isascii() and (c.isalnum() or c in "_-.[]/:+@") for c in text):
        return text
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
#: Action names as files write them: matched exactly (``str.upper`` would
#: let "ſet_alt" through as SET_ALT).
ACTION_NAMES: dict[str, Action] = {a.name.lower(): a for a in Action}

#: How deep a scenario, vector or run file may nest.  The deepest of them
#: (a vector's expected SPD selectors) is a dozen levels; anything far deeper
#: is not one of them, and would reach the parsers' and validators' recursion
#: limits.
MAX_DEPTH = 32
#: Longer numbers are no bound, index or message ID of any file.
MAX_DIGITS = 30


class _Reader:
    """Typed access to a parsed file (TOML or JSON) that reports errors with
    the full key path.  ``error`` builds the exception: ``ScenarioError`` for
    scenarios, the run and vector readers' own classes for theirs."""

    def __init__(self, source: str, error: Callable[[str, str, str], Exception] | None = None) -> None:
        self.source = source
        self.error = error or ScenarioError

    def fail(self, key: str, problem: str) -> Exception:
        return self.error(self.source, key, problem)

    # ---------------------------------------------------------------- bytes to data

    def read_text(self, path: str | Path) -> str:
        """The file as text: UTF-8, or a one-line error with the offset of
        the first byte that is not."""
        try:
            data = Path(path).read_bytes()
        except FileNotFoundError:
            raise self.fail("", "no such file") from None
        except OSError as exc:
            raise self.fail("", f"cannot read: {exc.strerror or exc}") from None
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise self.fail("", f"not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})") from None

    def parse_toml(self, text: str) -> dict[str, Any]:
        try:
            data = tomllib.loads(text)
        except RecursionError:
            raise self.fail("", f"nested more than {MAX_DEPTH} levels deep") from None
        except tomllib.TOMLDecodeError as exc:
            raise self.fail("", f"not valid TOML: {_one_line(str(exc))}") from None
        except ValueError:  # an integer past Python's limit of digits
            raise self.fail("", "not valid TOML: a number is far too long") from None
        self.check_tree(data)
        return data

    def parse_json(self, text: str) -> Any:
        """JSON as strict as the files we write: no repeated keys, no NaN or
        Infinity, no absurdly long numbers, no deep nesting."""
        try:
            data = json.loads(text, object_pairs_hook=_JSONObject.of, parse_constant=_Odd,
                              parse_int=_parse_int)
        except json.JSONDecodeError as exc:
            raise self.fail(f"line {exc.lineno} column {exc.colno}", f"not valid JSON: {exc.msg}") from None
        except RecursionError:
            raise self.fail("", f"nested more than {MAX_DEPTH} levels deep") from None
        except ValueError as exc:  # pragma: no cover - json's own limits (parse_int catches the known one)
            raise self.fail("", f"not valid JSON: {_one_line(str(exc))}") from None
        self.check_tree(data)
        return data

    def check_tree(self, data: Any) -> None:
        """Walk ``data`` without recursion: refuse deep nesting, strings that
        are not Unicode text (lone surrogates, which JSON escapes allow), and
        what ``parse_json`` marked (repeated keys, NaN, huge numbers)."""
        todo: list[tuple[Any, str, int]] = [(data, "", 0)]
        while todo:
            v, path, depth = todo.pop()
            if depth > MAX_DEPTH:
                raise self.fail(path, f"nested more than {MAX_DEPTH} levels deep")
            if isinstance(v, str):
                _check_text(self, v, path)
            elif isinstance(v, _Odd):
                raise self.fail(path, f"{v.text} is not a number JSON allows")
            elif isinstance(v, _Huge):
                raise self.fail(path, f"a number of {v.digits} digits is far too large")
            elif isinstance(v, int) and not isinstance(v, bool) and abs(v) >= 10 ** MAX_DIGITS:
                raise self.fail(path, f"a number of {len(str(abs(v)))} digits is far too large")
            elif isinstance(v, dict):
                if isinstance(v, _JSONObject) and v.repeated is not None:
                    raise self.fail(_join(path, shown(v.repeated)), "the key appears twice in one object")
                for k, x in v.items():
                    _check_text(self, k, path)
                    todo.append((x, _join(path, shown(k)), depth + 1))
            elif isinstance(v, list):
                todo.extend((x, f"{path}[{j}]", depth + 1) for j, x in enumerate(v))

    # ---------------------------------------------------------------- typed access

    def table(self, value: Any, key: str, allowed: set[str] | dict[str, Any]) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(key or "(top level)", f"expected a table, got {_tname(value)}")
        for k in value:
            if k not in allowed:
                hint = ", ".join(sorted(shown(a) for a in allowed)) or "none"
                raise self.fail(_join(key, shown(k)), f"unknown key (expected one of: {hint})")
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
        if kind is dict and not isinstance(v, dict):
            raise self.fail(_join(path, key), f"expected a table, got {_tname(v)}")
        return v

    def choice(self, t: dict[str, Any], key: str, path: str, choices: dict[str, Any], default: Any = ...) -> Any:
        if key not in t and default is not ...:
            return default
        v = self.get(t, key, path, str)
        if v not in choices:
            raise self.fail(_join(path, key), f"{shown(v)} is not one of: {', '.join(choices)}")
        return choices[v]

    def name(self, t: dict[str, Any], key: str, path: str, default: Any = ...) -> Any:
        """A name the tools print and key things by (addresses, SAs, networks,
        scenarios): a string, not empty, not blank, no control or invisible
        characters, no white space at either end."""
        v = self.get(t, key, path, str, default)
        if key in t:
            problem = name_problem(v)
            if problem:
                raise self.fail(_join(path, key), problem)
        return v

    def index(self, t: dict[str, Any], key: str, path: str, size: int, what: str) -> int:
        """An integer from 0 to ``size - 1``."""
        v = self.get(t, key, path, int)
        if not 0 <= v < size:
            raise self.fail(_join(path, key), f"{number(v)} is out of range ({what}: 0 to {size - 1})")
        return int(v)

    def mask(self, value: Any, path: str, index: dict[str, int], what: str = "address",
             unknown: str = "is not in the scenario") -> int:
        """A list of names (of ``index``) as a bit mask; each name once."""
        if not isinstance(value, list):
            raise self.fail(path, f"expected a list of {what} names, got {_tname(value)}")
        mask = 0
        for j, nm in enumerate(value):
            if not isinstance(nm, str):
                raise self.fail(f"{path}[{j}]", f"expected an {what} name, got {_tname(nm)}")
            if nm not in index:
                raise self.fail(f"{path}[{j}]", f"{what} {shown(nm)} {unknown}")
            if mask >> index[nm] & 1:
                raise self.fail(f"{path}[{j}]", f"{what} {shown(nm)} is listed twice")
            mask |= 1 << index[nm]
        return mask

    def bounds(self, value: Any, path: str, base: Bounds) -> Bounds:
        """A ``[bounds]`` table (scenario files, run files); keys it leaves
        out keep ``base``'s values."""
        bt = self.table(value, path, set(Bounds.__dataclass_fields__))
        vals: dict[str, Any] = {}
        for key in BOUND_LIMITS:
            v = self.get(bt, key, path, int, getattr(base, key))
            problem = bound_problem(key, v)
            if problem:
                raise self.fail(_join(path, key), problem)
            vals[key] = v
        if "actions" not in bt:
            return Bounds(**vals, actions=base.actions)
        acts: list[Action] = []
        for j, act in enumerate(self.get(bt, "actions", path, list)):
            key = f"{_join(path, 'actions')}[{j}]"
            if not isinstance(act, str):
                raise self.fail(key, f"expected an action name, got {_tname(act)}")
            if act not in ACTION_NAMES:
                raise self.fail(key, f"{shown(act)} is not an action (expected one of: {', '.join(ACTION_NAMES)})")
            if ACTION_NAMES[act] in acts:
                raise self.fail(key, f"action {act} is listed twice")
            acts.append(ACTION_NAMES[act])
        return Bounds(**vals, actions=tuple(acts))

    def options(self, value: Any, path: str, base: Options) -> Options:
        """An ``[options]`` table (scenario files, run files); keys it leaves
        out keep ``base``'s values."""
        ot = self.table(value, path, set(OPTION_CHOICES))
        vals: dict[str, Any] = {}
        for key, choices in OPTION_CHOICES.items():
            if key in ot:
                v = ot[key]
                if v not in choices or type(v) is not type(choices[0]):
                    expected = ", ".join(map(_toml, choices))
                    got = shown(v) if isinstance(v, str) else _toml(v) if isinstance(v, bool) else None
                    problem = f"{got} is not one of: {expected}" if got else \
                        f"expected one of: {expected}, got {_tname(v)}"
                    raise self.fail(_join(path, key), problem)
                vals[key] = v
        return base.replace(**vals)


class _JSONObject(dict[str, Any]):
    """A JSON object that remembers the first key it saw twice (``json``
    keeps the last value silently)."""

    repeated: str | None = None

    @classmethod
    def of(cls, pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        obj = dict(pairs)
        if len(obj) == len(pairs):
            return obj  # the usual case: a plain dict, as json.loads gives
        marked = cls(pairs)
        seen: set[str] = set()
        for k, _ in pairs:
            if k in seen:
                marked.repeated = k
                break
            seen.add(k)
        return marked


class _Odd:
    """NaN, Infinity or -Infinity where JSON wants a number."""

    def __init__(self, text: str) -> None:
        self.text = text


class _Huge:
    def __init__(self, digits: int) -> None:
        self.digits = digits


def _parse_int(text: str) -> int | _Huge:
    digits = len(text.lstrip("-"))
    return _Huge(digits) if digits > MAX_DIGITS else int(text)


def _check_text(rd: _Reader, text: str, path: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise rd.fail(path or "(top level)", "a string holds a lone surrogate (\\ud800-\\udfff): not Unicode text") from None


def _one_line(text: str) -> str:
    return " ".join(text.split())


def name_problem(text: str) -> str:
    """What makes ``text`` unfit as a name ("" when nothing)."""
    if not text:
        return "a name must not be empty"
    if not text.strip():
        return f"{shown(text)}: a name must not be blank"
    if text != text.strip():
        return f"{shown(text)}: a name must not begin or end with white space"
    if any(unicodedata.category(c)[0] == "C" or unicodedata.category(c) in ("Zl", "Zp") for c in text):
        return f"{shown(text)}: a name must not hold control or invisible characters"
    return ""


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _tname(v: Any) -> str:
    import datetime

    if isinstance(v, datetime.date | datetime.time):
        return "a date or time"
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string", type(None): "null",
            list: "a list", dict: "a table", _JSONObject: "a table"}.get(type(v), type(v).__name__)


def load_scenario(path: str | Path) -> Scenario:
    rd = _Reader(str(path))
    return _build(rd.parse_toml(rd.read_text(path)), rd)


def parse_scenario(text: str, source: str = "<scenario>") -> Scenario:
    rd = _Reader(source)
    return _build(rd.parse_toml(text), rd)


def _canonical_ip(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """The address an IP stands for, whatever its spelling: zones dropped and
    an IPv4-mapped IPv6 address (RFC 4291 2.5.5.2) taken as its IPv4 address."""
    if isinstance(ip, ipaddress.IPv6Address):
        return ip.ipv4_mapped or ipaddress.IPv6Address(ip.packed)
    return ip


def _endpoint_problem(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    """Why ``ip`` cannot be one end of an SA ("" when it can).  An SA joins
    two unicast addresses a peer is reached at; addresses of a wider or
    narrower scope would make the model's answers meaningless.  Private and
    documentation prefixes (RFC 1918, 5737, 3849) are ordinary unicast space
    and stay allowed: the scenarios use the documentation ones."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.scope_id:
            return f"an address with a zone index (%{ip.scope_id}), which only means something on one host"
        if ip.ipv4_mapped is not None:
            return f"an IPv4-mapped address: write {ip.ipv4_mapped} with family v4"
    if ip.is_unspecified:
        return "the unspecified address"
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_multicast:
        return "a multicast address"
    if ip.is_link_local:
        return "a link-local address, which only means something on one link"
    if isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local:
        return "a site-local address (deprecated by RFC 3879)"
    if isinstance(ip, ipaddress.IPv4Address):
        if ip in _THIS_NETWORK:
            return "in 0.0.0.0/8, which only a host that does not know its address uses as a source"
        if ip.is_reserved:
            return "reserved (240.0.0.0/4, or the broadcast address)"
    return ""


_THIS_NETWORK = ipaddress.IPv4Network("0.0.0.0/8")


def _build(data: dict[str, Any], rd: _Reader) -> Scenario:
    rd.table(data, "", _TOP_KEYS)
    meta = rd.table(data.get("scenario", {}), "scenario", {"name", "description"})
    name = rd.name(meta, "name", "scenario", "unnamed")
    description = rd.get(meta, "description", "scenario", str, "")

    # networks ----------------------------------------------------------------
    networks: set[str] = set()
    raw_nets = rd.get(data, "network", "", list, [])
    for k, n in enumerate(raw_nets):
        path = f"network[{k}]"
        rd.table(n, path, {"name"})
        nm = rd.name(n, "name", path)
        if nm in networks:
            raise rd.fail(f"{path}.name", f"network {shown(nm)} is declared twice")
        networks.add(nm)

    # addresses ---------------------------------------------------------------
    addresses: list[Address] = []
    canonical: list[Any] = []
    raw_addrs = rd.get(data, "address", "", list)
    if not raw_addrs:
        raise rd.fail("address", "at least one address per peer is needed")
    for k, a in enumerate(raw_addrs):
        path = f"address[{k}]"
        rd.table(a, path, {"name", "owner", "family", "network", "ip", "up"})
        nm = rd.name(a, "name", path)
        if any(x.name == nm for x in addresses):
            raise rd.fail(f"{path}.name", f"address {shown(nm)} is declared twice")
        owner = rd.choice(a, "owner", path, {"I": Peer.I, "R": Peer.R})
        fam = rd.choice(a, "family", path, _FAM, Family.V4)
        net = rd.name(a, "network", path)
        if raw_nets and net not in networks:
            raise rd.fail(f"{path}.network", f"network {shown(net)} is not declared in [[network]]")
        networks.add(net)
        ip = rd.get(a, "ip", path, str, "")
        given = bool(ip)
        if not given:
            ip = _default_ip(owner, fam, sum(1 for x in addresses if x.owner == owner and x.family == fam) + 1)
        try:
            parsed = ipaddress.ip_address(ip)
        except ValueError:
            raise rd.fail(f"{path}.ip", f"{shown(ip)} is not an IP address") from None
        if (parsed.version == 6) != (fam == Family.V6):
            raise rd.fail(f"{path}.ip", f"{shown(ip)} is not a {'v6' if fam else 'v4'} address")
        same = _canonical_ip(parsed)
        if same in canonical:
            other = addresses[canonical.index(same)]
            spelled = "" if other.ip == ip else f", written {shown(other.ip)}"
            what = f"{shown(ip)} is" if given else f"the default IP {ip}: give this address an ip, it"
            raise rd.fail(f"{path}.ip", f"{what} the IP of address {shown(other.name)} too{spelled}")
        problem = _endpoint_problem(parsed)
        if problem:
            raise rd.fail(f"{path}.ip", f"{shown(ip)} is {problem}; an SA needs unicast addresses of global scope")
        up = rd.get(a, "up", path, bool, True)
        addresses.append(Address(nm, owner, fam, net, ip, up))
        canonical.append(same)
    if len(addresses) > MAX_ADDRESSES:
        raise rd.fail("address", f"{len(addresses)} addresses; the model supports at most {MAX_ADDRESSES}")
    for peer in Peer:
        if not any(a.owner == peer for a in addresses):
            raise rd.fail("address", f"peer {peer.name} owns no address")

    index = {a.name: k for k, a in enumerate(addresses)}

    def addr_mask(value: Any, path: str, owner: Peer | None = None) -> int:
        mask = rd.mask(value, path, index, unknown="is not declared in [[address]]")
        for j, nm in enumerate(value):
            if owner is not None and addresses[index[nm]].owner != owner:
                holder = addresses[index[nm]].owner.name
                raise rd.fail(f"{path}[{j}]", f"address {shown(nm)} belongs to peer {holder}, not {owner.name}")
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
            npath = f"{path}.network.{shown(net)}"
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
        nm = rd.name(s, "name", path)
        if nm == "ike" or any(x.name == nm for x in slots):
            raise rd.fail(f"{path}.name", f"SA name {shown(nm)} is already used")
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
    bounds = rd.bounds(data.get("bounds", {}), "bounds", Bounds())
    if len(slots) > MAX_SLOTS:
        raise rd.fail("sa", f"{len(slots)} SA slots (IKE_SA and CHILD_SAs); the model supports at most {MAX_SLOTS}")
    options = rd.options(data.get("options", {}), "options", Options())

    sc = Scenario(name, description, rd.source, tuple(addresses), tuple(slots),
                  (peer_cfgs[0], peer_cfgs[1]), bounds, options)
    _check_families(sc, rd)
    _check_policy(sc, rd)
    return sc


def _check_families(sc: Scenario, rd: _Reader) -> None:
    """Refuse an SA no packet could travel on.  Every packet of an SA has one
    IP header whose source and destination are of one version: the UDP
    datagram of an IKE message, which is answered from the address it
    arrived at to the one it came from (RFC 7296 2.11), a transport-mode ESP
    packet, and the outer header of a tunnel, built from the SA's endpoints
    (RFC 4301 5.1.2; only the inner header may be of the other version).  So
    an SA's current addresses must hold an initiator and a responder address
    of one family.  Its other addresses may be of either family (RFC 4555 3.4
    announces addresses of both): one serves when the other side gains an
    address of its family.  An alternate is where traffic goes after a
    failure, so it needs a current address of its family on the other side,
    as an address a request adds does (check 11, FAMILY).  Templates of
    absent SAs follow the same rule: CREATE_CHILD_SA keeps their other side."""
    fam = [sum(1 << k for k, a in enumerate(sc.addresses) if a.family == f) for f in Family]
    for k, s in enumerate(sc.slots):
        path = "ike" if k == 0 else f"sa[{k - 1}]"
        if not any(s.cur_i & m and s.cur_r & m for m in fam):
            i_fams = "+".join(f.name.lower() for f, m in zip(Family, fam, strict=True) if s.cur_i & m)
            r_fams = "+".join(f.name.lower() for f, m in zip(Family, fam, strict=True) if s.cur_r & m)
            raise rd.fail(f"{path}.r_addrs", f"{shown(s.name)} has no initiator and responder address of one family "
                                             f"(initiator {i_fams}, responder {r_fams}): no packet could use it")
        for side, alt, other in (("i", s.alt_i, s.cur_r), ("r", s.alt_r, s.cur_i)):
            for j, a in enumerate(sc.addresses):
                if alt >> j & 1 and not other & fam[a.family]:
                    peer = "responder" if side == "i" else "initiator"
                    raise rd.fail(f"{path}.{side}_alternates",
                                  f"alternate {shown(a.name)} is {a.family.name.lower()} but no current {peer} address "
                                  f"of {shown(s.name)} is: traffic could not fail over to it")


def _toml(v: Any) -> str:
    return ("true" if v else "false") if isinstance(v, bool) else str(v)


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
                name, sa, net = shown(a.name), shown(s.name), shown(a.network)
                if not cfg.pad >> j & 1:
                    raise rd.fail(key, f"peer {peer.name}'s PAD does not authorise {name} for its peer's identity")
                if s.mode == Mode.TRANSPORT and not s.spd_allow[peer] >> j & 1:
                    raise rd.fail(key, f"peer {peer.name}'s SPD for {sa} does not cover {name}")
                pol = cfg.policy(a.network)
                if not pol.accept:
                    raise rd.fail(key, f"peer {peer.name}'s local policy refuses network {net} for {sa}")
                if pol.min_protection > s.protection:
                    need, has = pol.min_protection.name.lower(), s.protection.name.lower()
                    raise rd.fail(key, f"network {net} needs {need} but {sa} has {has}")


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
    # Only a listed name: a name with "/" or ".." would reach any .toml file.
    path = resources.files("ipsecmm.model").joinpath("scenarios", f"{name}.toml")
    if name not in builtin_names() or not path.is_file():
        raise ScenarioError(f"<built-in {shown(name)}>", "", f"no built-in scenario of that name ({', '.join(builtin_names())})")
    label = "<built-in default>" if name == "default" else f"<built-in {name}>"
    return parse_scenario(path.read_text(encoding="utf-8"), label)
