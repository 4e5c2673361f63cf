"""Command-line verb ``ipsecmm pcap``: a run or a vector file as a capture Wireshark decrypts.

Like the other ``_cli_*`` modules, this one imports ``ipsecmm.cli`` only
inside its functions (``ipsecmm.cli`` imports it while collecting verbs).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ipsecmm.model._scenario import shown


def register(sub: Any) -> None:
    p = sub.add_parser("pcap", help="a run (ipsecmm check --runs) or a vector file as a pcap capture, with its keys")
    p.add_argument("source", type=Path, metavar="RUN_OR_VECTOR",
                   help="a run file written by ipsecmm check (runs/*.json) or a vector file (vectors/*.json)")
    p.add_argument("--out", type=Path, required=True, metavar="FILE.pcap",
                   help="the capture to write; the Wireshark key table goes next to it (FILE.ikev2_decryption_table)")
    p.add_argument("--vector", metavar="ID", help="of a vector file, only the vector with this id (default: every one)")
    from ipsecmm.cli import scenario_arg

    p.add_argument("--scenario", type=scenario_arg, metavar="F",
                   help="the scenario (file or built-in name) of a run whose scenario is not built in")
    p.add_argument("--seed", type=int, default=0, help="seed of the IKE_SA's keys when the file carries none (default 0)")
    p.set_defaults(func=cmd_pcap)


@dataclass
class Built:
    capture: bytes
    table: list[str]  # ikev2_decryption_table rows
    packets: int
    runs: int


def build(source: Path, vector: str | None = None, scenario: str | None = None, seed: int = 0) -> Built:
    """The capture of ``source`` (raises ``UsageError`` naming the file and the problem)."""
    from ipsecmm.cli import UsageError, read_scenario
    from ipsecmm.wire import WireError

    given = read_scenario(scenario) if scenario else None  # a bad scenario is reported before anything is read
    source = source_file(source)

    from ._conformance import is_vector_file

    try:
        if is_vector_file(source):
            groups = _vector_groups(source, vector, seed)
        elif vector is not None:
            raise UsageError(f"--vector {shown(vector)}: {source} is a run file, not a vector file")
        else:
            groups = _run_groups(source, given, seed)
        return assemble(groups)
    except WireError as exc:
        raise UsageError(f"{source}: {exc}") from None


def assemble(groups: list[Any]) -> Built:
    """One capture of (session, packets) groups, one after the other."""
    from ipsecmm.wire import pcap

    from . import _wire

    table: list[str] = []
    frames = []
    for k, (session, pkts) in enumerate(groups):
        table += [r for r in session.table() if r not in table]
        frames += _wire.frames(pkts, session.port, 1000 * k)
    return Built(pcap(frames), table, len(frames), len(groups))


def runs_capture(runs: list[Any], seed: int = 0) -> Built:
    """The capture of runs of the model (``ipsecmm report`` writes one per run file)."""
    from . import _wire

    return assemble([(s, _wire.packets(s, _wire.run_messages(r))) for r in runs
                     for s in [_wire.session_for(r.scenario, r.profile, seed)]])


def _vector_groups(source: Path, vector: str | None, seed: int) -> list[Any]:
    from ipsecmm.cli import UsageError

    from . import _wire
    from ._conformance import VectorFileError, load_file
    from ._vectors import scenario_from_doc

    try:
        cases = load_file(source)
    except VectorFileError as exc:
        raise UsageError(str(exc)) from None
    if vector is not None:
        cases = [c for c in cases if c.id == vector]
        if not cases:
            raise UsageError(f"--vector {shown(vector)}: no vector of {source} has this id")
    out = []
    for c in cases:
        sc = scenario_from_doc(c.setup.scenario, f"{source}: scenario")
        session = _wire.session_for(sc, c.setup.profile, seed, spis=c.setup.spis, keys=c.setup.wire)
        out.append((session, _wire.packets(session, _wire.vector_messages(c.test, c.setup.role))))
    return out


def _run_groups(source: Path, given: Any, seed: int) -> list[Any]:
    """The runs of a run file, read (and replayed) by the strict reader of
    ``diagrams --run``; each run's scenario is the one it names (built in, or
    made by the checker), or ``given``."""
    from ipsecmm.cli import UsageError
    from ipsecmm.properties._runs import RunFileError, load_runs

    from . import _wire

    try:
        runs = load_runs(source, given)
    except RunFileError as exc:
        raise UsageError(str(exc)) from None
    out = []
    for run in runs:
        session = _wire.session_for(run.scenario, run.profile, seed)
        out.append((session, _wire.packets(session, _wire.run_messages(run))))
    return out


def source_file(source: Path) -> Path:
    """``source`` itself when it exists, else the shipped vector file of that
    name (``mm-default-initiator``, with or without ``.json`` or a leading
    ``vectors/``), so the documented commands work from any directory."""
    from ipsecmm.cli import UsageError

    from ._conformance import default_vectors

    try:
        if source.exists():
            return source
    except OSError as exc:
        raise UsageError(f"{shown(str(source))}: {exc.strerror or exc}") from None
    if len(source.parts) == 1 or (len(source.parts) == 2 and source.parts[0] == "vectors"):
        name = source.name if source.suffix == ".json" else source.name + ".json"
        shipped = default_vectors() / name
        if shipped.is_file():
            return shipped
    raise UsageError(f"{shown(str(source))}: no such file, and no shipped vector file of that name "
                     f"(ipsecmm vectors writes them; the shipped ones are in {default_vectors()})")


def table_path(out: Path) -> Path:
    return out.with_name(out.stem + ".ikev2_decryption_table")


def tshark_command(out: Path, table: list[str]) -> str:
    """A shell command that dissects and decrypts the capture."""
    opts = " ".join(f"-o 'uat:ikev2_decryption_table:{row}'" for row in table)
    return f"tshark -r {out} {opts} -Y isakmp -V"


def cmd_pcap(args: argparse.Namespace) -> int:
    from ipsecmm._files import check_output_file
    from ipsecmm.cli import write_atomic

    table = table_path(args.out)
    check_output_file(args.out)
    check_output_file(table, "--out (its key table)")
    built = build(args.source, args.vector, args.scenario, args.seed)
    write_atomic(args.out, built.capture)
    write_atomic(table, "".join(row + "\n" for row in built.table))
    runs = f"{built.runs} run{'s' if built.runs != 1 else ''}"
    what = f"{built.packets} packets of {runs}" if built.packets else f"no packet: nothing of its {runs} goes on the wire"
    print(f"wrote {args.out} ({what}) and {table}")
    print(tshark_command(args.out, built.table))
    return 0
