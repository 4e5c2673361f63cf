"""Command-line verbs for the pictures: ``ipsecmm diagrams`` and ``ipsecmm report``.

``ipsecmm.cli`` imports this module while it is itself being imported (to
collect verbs), so ``ipsecmm.cli`` is only imported inside the functions here,
never at the top: whichever of the two modules is imported first, the other
is complete by the time it is used.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ipsecmm.model import PROFILE_NAMES, Model, Scenario, get_profile


def register(sub: Any) -> None:
    from ipsecmm.cli import _common, integer

    p = sub.add_parser("diagrams", help="machine diagrams, state graphs and drawings of runs (DOT and SVG)")
    _common(p, many_profiles=True)
    p.add_argument("--out", type=Path, default=Path("diagrams"), help="output directory (default: diagrams)")
    p.add_argument("--force", action="store_true",
                   help="write into --out even if it holds files ipsecmm did not write (they are left as they are)")
    p.add_argument("--run", type=Path, action="append", metavar="FILE",
                   help="draw a run saved by ipsecmm check (runs/*.json): machines, sequence chart, states")
    p.add_argument("--around", type=integer(0), metavar="STATE",
                   help="draw the state graph around this state (its explorer index, 0 = initial)")
    p.add_argument("--hops", type=integer(0), metavar="K",
                   help="region of interest: K transitions around the state or the run (default 2 around, 0 along)")
    p.add_argument("--max-nodes", type=integer(1), default=300, metavar="N",
                   help="summarise a state graph with more states than this (default 300)")
    p.add_argument("--no-svg", action="store_true", help="write DOT only (no Graphviz needed)")
    p.set_defaults(func=cmd_diagrams)

    p = sub.add_parser("report", help="one self-contained HTML page (and Markdown) for a review")
    _common(p, many_profiles=True)
    p.add_argument("--out", type=Path, required=True, help="output directory")
    p.add_argument("--force", action="store_true",
                   help="write into --out even if it holds files ipsecmm did not write (they are left as they are)")
    p.add_argument("--no-z3", action="store_true", help="explorer only: skip the z3 induction")
    p.add_argument("--jobs", type=integer(1), default=2, metavar="N", help="worker processes for the check (default 2)")
    p.add_argument("--findings", type=Path, help="findings in Markdown (default: docs/findings.md of the repository)")
    p.add_argument("--vectors", type=Path, help="conformance vectors directory (default: vectors/ of the repository)")
    p.add_argument("--no-timings", action="store_true",
                   help="leave the check's timings out, so that two builds compare byte for byte")
    p.set_defaults(func=cmd_report)


# --------------------------------------------------------------------------- diagrams


def cmd_diagrams(args: argparse.Namespace) -> int:
    from ipsecmm._files import Output, command_line, scenario_in_file
    from ipsecmm.cli import UsageError, load

    from . import _diagrams as D

    sc = load(args)
    profiles = args.profile or list(PROFILE_NAMES)
    # Which earlier drawings this request replaces: drawing a run or a region
    # leaves the standard set (and other runs' drawings) in the directory.
    if args.run:
        owner = "diagrams " + " ".join(f"--run {_run_base(path)}" for path in args.run)
    elif args.around is not None:
        owner = (f"diagrams --around {args.around} --scenario {scenario_in_file(sc)} "
                 + " ".join(f"--profile {p}" for p in profiles))
    else:
        scenario_in_file(sc)
        owner = "diagrams"
    try:
        with Output(args.out, [owner], command_line(args), force=args.force) as out:
            if args.run:
                drawings, extra = _run_drawings(args, sc)
            elif args.around is not None:
                drawings, extra = _around_drawings(args, sc, profiles), {}
            else:
                drawings = D.standard_drawings(sc, profiles, args.max_nodes)
                extra = {"README.md": D.index_text(sc, drawings)}
            written = D.write_drawings(out, drawings, svg=not args.no_svg)
            for name, text in sorted(extra.items()):
                written.append(out.write(name, text))
    except D.DiagramError as exc:
        raise UsageError(str(exc)) from None
    for d in drawings:
        if d.text is not None:
            print(d.text)
    print(f"wrote {len(written)} files to {args.out}/")
    return 0


def _run_base(path: Path) -> str:
    """The part of the drawings' file names a run file's name becomes."""
    from ipsecmm._files import FileNameError, name_in_file
    from ipsecmm.cli import UsageError

    try:
        return name_in_file(path.name.removesuffix(".json"))
    except FileNameError as exc:
        raise UsageError(f"--run {path}: {exc}") from None


def _run_drawings(args: argparse.Namespace, sc: Scenario) -> tuple[list[Any], dict[str, str]]:
    from ipsecmm.cli import UsageError
    from ipsecmm.properties._runs import RunFileError, load_runs

    from . import _diagrams as D

    drawings: list[D.Drawing] = []
    extra: dict[str, str] = {}
    for path in args.run:
        try:
            runs = load_runs(path, sc if args.scenario else None)
        except RunFileError as exc:
            raise UsageError(f"--run {exc}") from None
        base = _run_base(path)
        for k, run in enumerate(runs, 1):
            stem = f"run-{base}-{k}"
            drawings += D.run_machine_drawings(run, stem)
            extra[f"{stem}-sequence.svg"] = D.sequence_svg(run, f"{stem}-sequence")
            extra[f"{stem}-sequence.mmd"] = run.mermaid() + "\n"
            g = D.explore_graph(run.model(), keep_edges=True)
            region, states = D.along(g, run, args.hops or 0)
            title = f"{run.label or 'run'}: states along the run ({run.profile}, scenario {run.scenario.name})"
            drawings.append(D.region_drawing(g, region, f"{stem}-states", title, states, args.max_nodes))
    return drawings, extra


def _around_drawings(args: argparse.Namespace, sc: Scenario, profiles: list[str]) -> list[Any]:
    from ipsecmm._files import scenario_in_file

    from . import _diagrams as D

    hops = 2 if args.hops is None else args.hops
    res = []
    for p in profiles:
        m = Model(sc, get_profile(p, sc.options))
        g = D.explore_graph(m, keep_edges=True)
        region = D.around(g, args.around, hops)
        stem = f"states-{scenario_in_file(sc)}-{p}-around-{args.around}"
        title = f"scenario {sc.name} under {p}: {hops} transitions around state {args.around}"
        res.append(D.region_drawing(g, region, stem, title, cap=args.max_nodes))
    return res


# --------------------------------------------------------------------------- report


def cmd_report(args: argparse.Namespace) -> int:
    from ipsecmm.cli import UsageError

    from . import _report

    try:
        return _report.main(args)
    except _report.ReportError as exc:
        raise UsageError(str(exc)) from None
