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

from ipsecmm.model import Scenario, builtin_scenario

#: The scenarios of the canonical vectors: between them every refusal reason
#: and every row a run can reach (see vectors/coverage/mm.json), failover (two
#: current responder addresses and an alternate), window (a second request,
#: an answer that is not for the outstanding one) and make-before-break and
#: multihomed for the rows and mutants only they reach.  The other shipped
#: scenarios (policy-case2, policy-case3, strongswan) add no row, reason,
#: capability or mutant of the others' yardstick.
DEFAULT_SCENARIOS = ("default", "reasons", "fallback", "policy-case1", "stranded", "failover", "window",
                     "make-before-break", "multihomed")


def register(sub: Any) -> None:
    from ipsecmm.cli import _common, integer

    p = sub.add_parser("vectors", help="conformance vectors: the shortest run to every transition, refusal and capability")
    # --option and --bound apply to every scenario the vectors come from.
    _common(p, many_scenarios=True, default=f"the built-in {', '.join(DEFAULT_SCENARIOS)}")
    p.add_argument("--coverage", choices=("transitions", "pairs"), default="transitions",
                   help="goals: every transition, or also every pair of consecutive transitions (default: transitions)")
    p.add_argument("--seed", type=int, default=0, help="seed of the SPIs written into the vectors (default 0)")
    p.add_argument("--no-mutants", action="store_true",
                   help="leave out the vectors that catch the generated mutants and seeded faults the others miss "
                        "(and the mutation score)")
    p.add_argument("--jobs", type=integer(1), default=2, metavar="N",
                   help="worker processes of the mutation search (default 2; the vectors do not depend on it)")
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
    from ipsecmm.cli import overridden, read_scenario

    found = [read_scenario(ref) for ref in args.scenario] if args.scenario else [
        builtin_scenario(n) for n in DEFAULT_SCENARIOS]
    return [overridden(sc, args) for sc in found]


def cmd_vectors(args: argparse.Namespace) -> int:
    from ipsecmm._files import Output, command_line

    from ._vectors import file_stems, generate, vectors_owner, write

    scenarios = _scenarios(args)
    file_stems(scenarios, args.profile)  # names that cannot name files stop here, before the work
    started = time.perf_counter()
    with Output(args.out, [vectors_owner(args.profile)], command_line(args), force=args.force) as out:
        gen = generate(scenarios, args.profile, args.seed, pairs=args.coverage == "pairs",
                       mutants=not args.no_mutants, jobs=args.jobs)
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
    import contextlib
    import io

    import pytest

    extra = [a for a in args.pytest_args if a != "--"]
    # pytest reports its own usage errors on stderr over several lines;
    # hold its stderr back so that such an error becomes our one line.
    held = io.StringIO()
    with contextlib.redirect_stderr(held):
        code = pytest.main([str(vectors), "-p", "ipsecmm.gen.pytest_plugin", "--ipsecmm-sut", args.sut,
                            "-p", "no:cacheprovider", "-c", os.devnull, "--rootdir", str(vectors), "-q", *extra])
    sys.stdout.flush()
    if code == pytest.ExitCode.USAGE_ERROR:
        raise UsageError(f"pytest refused its arguments: {_first_error(held.getvalue())}")
    sys.stderr.write(held.getvalue())
    return _exit_code(code)


def _exit_code(code: int) -> int:
    """pytest's exit code in the project's terms: 0 every vector passed, 1 a
    vector failed; everything else is a usage or input error (2).  A
    selection that runs no vector (``-- -k nomatch``) is not a pass: the
    caller asked for vectors that do not exist."""
    import pytest

    from ipsecmm.cli import UsageError

    if code in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        return int(code)
    if code == pytest.ExitCode.NO_TESTS_COLLECTED:
        raise UsageError("no vector selected: the pytest arguments (-k, paths) or the vectors directory match none")
    if code == pytest.ExitCode.INTERRUPTED:
        raise UsageError("interrupted before every selected vector ran")
    raise UsageError(f"pytest stopped with an internal error (exit code {int(code)}; its report is above)")


def _first_error(text: str) -> str:
    """The one line that says what pytest disliked, from its error report."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    for ln in lines:
        if ": error: " in ln:
            return ln.split(": error: ", 1)[1]
    if not lines:
        return "(no message)"
    first = lines[0].removeprefix("ERROR: ")
    if first.endswith(":") and len(lines) > 1:
        first += " " + lines[1]
    return first
