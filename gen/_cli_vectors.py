"""Command-line verbs for conformance: ``ipsecmm vectors`` and ``ipsecmm conformance``.

Like the other ``_cli_*`` modules, this one imports ``ipsecmm.cli`` only
inside its functions (``ipsecmm.cli`` imports it while collecting verbs).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

from ipsecmm.model import PROFILE_NAMES, Scenario, builtin_scenario, load_scenario

#: The scenarios of the canonical vectors: between them every refusal reason
#: and every row a run can reach (see vectors/coverage/mm.json).
DEFAULT_SCENARIOS = ("default", "reasons", "fallback", "policy-case1", "stranded")


def register(sub: Any) -> None:
    p = sub.add_parser("vectors", help="conformance vectors: the shortest run to every transition, refusal and capability")
    p.add_argument("--profile", choices=PROFILE_NAMES, default="mm", help="protocol profile (default: mm)")
    p.add_argument("--scenario", type=Path, action="append", metavar="FILE",
                   help="scenario TOML file (repeat for several; default: the built-in "
                        f"{', '.join(DEFAULT_SCENARIOS)})")
    p.add_argument("--coverage", choices=("transitions", "pairs"), default="transitions",
                   help="goals: every transition, or also every pair of consecutive transitions (default: transitions)")
    p.add_argument("--seed", type=int, default=0, help="seed of the SPIs written into the vectors (default 0)")
    p.add_argument("--out", type=Path, required=True,
                   help="output directory: this profile's earlier vectors there are replaced, nothing else is touched")
    p.add_argument("--force", action="store_true",
                   help="write into --out even if it holds files ipsecmm did not write (they are left as they are)")
    p.set_defaults(func=cmd_vectors)

    p = sub.add_parser("conformance", help="run the conformance vectors against an implementation (pytest)")
    p.add_argument("--sut", default="ipsecmm.gen:reference", metavar="MODULE:FACTORY",
                   help="adapter factory of the implementation (default: the model itself, ipsecmm.gen:reference)")
    p.add_argument("--vectors", type=Path, help="vectors directory (default: the canonical vectors shipped with ipsecmm)")
    p.add_argument("--mutants", action="store_true",
                   help="run the seeded faulty implementations instead and print which vectors catch each")
    p.add_argument("pytest_args", nargs=argparse.REMAINDER, metavar="-- PYTEST ARGS",
                   help="further arguments for pytest after --, e.g. -- -x -k 1f5c")
    p.set_defaults(func=cmd_conformance)


def _scenarios(args: argparse.Namespace) -> list[Scenario]:
    if not args.scenario:
        return [builtin_scenario(n) for n in DEFAULT_SCENARIOS]
    return [load_scenario(f) for f in args.scenario]


def cmd_vectors(args: argparse.Namespace) -> int:
    from ipsecmm._files import Output, command_line

    from ._vectors import file_stems, generate, vectors_owner, write

    scenarios = _scenarios(args)
    file_stems(scenarios, args.profile)  # names that cannot name files stop here, before the work
    started = time.perf_counter()
    with Output(args.out, [vectors_owner(args.profile)], command_line(args), force=args.force) as out:
        gen = generate(scenarios, args.profile, args.seed, pairs=args.coverage == "pairs")
        write(gen, out)
    print(summary(gen.coverage, args.out, time.perf_counter() - started))
    return 0


def summary(cov: dict[str, Any], out: Path, seconds: float) -> str:
    from ._vectors import summary_rows

    lines = [f"  {what}: {figures}" for what, figures in summary_rows(cov)]
    return "\n".join([*lines, f"  written to {out}/ in {seconds:.1f}s"])


def cmd_conformance(args: argparse.Namespace) -> int:
    from ipsecmm.cli import UsageError

    from ._conformance import VectorFileError, default_vectors, fault_table, load_factory, load_vectors, mutant_factories

    vectors = args.vectors or default_vectors()
    try:
        cases = load_vectors(vectors)
    except VectorFileError as exc:
        raise UsageError(str(exc)) from None
    if args.mutants:
        from ipsecmm.properties._mutants import MUTANTS

        mistakes = {mu.name: mu.mistake for mu in MUTANTS}
        print(f"{'fault':<26} {'failing':>7}  first failing vector")
        missed = 0
        for name, fails in fault_table(cases, mutant_factories()):
            missed += not fails
            first = f"{fails[0].case.id} step {fails[0].step} ({fails[0].what}): {fails[0].case.title}" if fails \
                else "NONE: this fault passes every vector"
            print(f"{name:<26} {len(fails):>7}  {first}")
            print(f"{'':<26} {'':>7}  {mistakes[name]}")
        print(f"{len(cases)} vectors; {len(mistakes) - missed} of {len(mistakes)} faults caught")
        return 1 if missed else 0
    try:
        load_factory(args.sut)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    import pytest

    extra = [a for a in args.pytest_args if a != "--"]
    code = pytest.main([str(vectors), "-p", "ipsecmm.gen.pytest_plugin", "--ipsecmm-sut", args.sut,
                        "-p", "no:cacheprovider", "-c", os.devnull, "--rootdir", str(vectors), "-q", *extra])
    sys.stdout.flush()
    return int(code)
