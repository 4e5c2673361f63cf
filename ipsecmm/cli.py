"""Command line: ``ipsecmm <verb>``.

Results go to stdout, progress and diagnostics to stderr.  Exit codes: 0 the
command succeeded (for checks: the requirements hold), 1 a requirement is
violated or a result is inconclusive, 2 a usage or input error.  Bad input gets
one line naming the file, key or argument and the problem; never a traceback.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import random
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from ipsecmm._files import Output, OutputError, command_line, name_in_file
from ipsecmm._files import write_atomic as write_atomic  # kept for callers of ipsecmm.cli.write_atomic
from ipsecmm.model import (
    OPTION_CHOICES,
    PROFILE_NAMES,
    Model,
    Runtime,
    Scenario,
    ScenarioError,
    builtin_names,
    builtin_scenario,
    get_profile,
    load_scenario,
)
from ipsecmm.model._scenario import BOUND_LIMITS, BOUND_MEANING, bound_problem, shown


class UsageError(Exception):
    """A bad argument: reported as one line, exit code 2.  The message never
    carries the program's name: ``main`` puts ``ipsecmm VERB:`` in front of
    every error line, whoever raised it."""

    def __init__(self, message: str, prog: str | None = None) -> None:
        super().__init__(message)
        self.prog = prog


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(message, prog=self.prog)


def _key_value(text: str, what: str) -> tuple[str, str]:
    if "=" not in text:
        raise UsageError(f"--{what} {shown(text)}: expected KEY=VALUE")
    key, value = text.split("=", 1)
    return key.strip(), value.strip()


def _parse_option(key: str, value: str) -> Any:
    if key not in OPTION_CHOICES:
        raise UsageError(f"--option {shown(key)}: unknown option (expected one of: {', '.join(OPTION_CHOICES)})")
    choices = OPTION_CHOICES[key]
    if isinstance(choices[0], bool):
        if value.lower() not in ("true", "false"):
            raise UsageError(f"--option {key}={shown(value)}: expected true or false")
        return value.lower() == "true"
    if value not in choices:
        raise UsageError(f"--option {key}={shown(value)}: expected one of: {', '.join(map(str, choices))}")
    return value


def integer(least: int) -> Callable[[str], int]:
    """An argparse type: an integer of at least ``least``.  Every numeric
    option goes through one of these, so a negative limit is a usage error
    before any work starts, never an "incomplete search"."""

    def parse(text: str) -> int:
        try:
            number = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {shown(text)}") from None
        if number < least:
            raise argparse.ArgumentTypeError(f"{number} is out of range (at least {least})")
        return number

    parse.__name__ = f"integer of at least {least}"
    return parse


def seconds(text: str) -> float:
    """An argparse type: a positive number of seconds."""
    try:
        number = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {shown(text)}") from None
    if not number > 0:  # also refuses nan
        raise argparse.ArgumentTypeError(f"{shown(text)} is out of range (more than 0)")
    return number


def scenario_arg(text: str) -> str:
    """An argparse type for ``--scenario``: a scenario file, or the name of a
    built-in scenario (``failover``), so that the documented commands work
    from any directory.  An existing file wins over a built-in name."""
    try:
        if Path(text).exists() or text in builtin_names():
            return text
    except OSError as exc:  # a name the file system cannot even look up
        raise argparse.ArgumentTypeError(f"{shown(text)}: {exc.strerror or exc}") from None
    raise argparse.ArgumentTypeError(
        f"{shown(text)}: no such file, and no built-in scenario of that name (built-in: {', '.join(builtin_names())})")


def read_scenario(ref: str) -> Scenario:
    """The scenario ``--scenario ref`` names (see ``scenario_arg``)."""
    if ref in builtin_names() and not Path(ref).exists():
        return builtin_scenario(ref)
    return load_scenario(ref)


def overridden(sc: Scenario, args: argparse.Namespace) -> Scenario:
    """``sc`` with the command line's --bound and --option applied."""
    bounds = sc.bounds
    for text in getattr(args, "bound", None) or ():
        key, value = _key_value(text, "bound")
        if key == "actions":
            raise UsageError("--bound actions: a list, not a number: set it in the scenario file ([bounds] actions)")
        if key not in BOUND_LIMITS:
            raise UsageError(f"--bound {shown(key)}: unknown bound (expected one of: {', '.join(BOUND_LIMITS)})")
        try:
            number = int(value)
        except ValueError:
            raise UsageError(f"--bound {shown(key)}={shown(value)}: expected an integer") from None
        problem = bound_problem(key, number)
        if problem:
            raise UsageError(f"--bound {key}={shown(value)}: {problem}")
        bounds = dataclasses.replace(bounds, **{key: number})
    options = sc.options
    for text in getattr(args, "option", None) or ():
        key, value = _key_value(text, "option")
        options = options.replace(**{key: _parse_option(key, value)})
    return dataclasses.replace(sc, bounds=bounds, options=options)


def load(args: argparse.Namespace, default: str = "default") -> Scenario:
    """The scenario named on the command line (or the built-in ``default``),
    with --bound and --option applied."""
    sc = read_scenario(args.scenario) if args.scenario else builtin_scenario(default)
    return overridden(sc, args)


def model_for(sc: Scenario, profile: str) -> Model:
    return Model(sc, get_profile(profile, sc.options))


# --------------------------------------------------------------------------- simulate


def cmd_simulate(args: argparse.Namespace) -> int:
    from ipsecmm.model import _render as render

    sc = load(args)
    m = model_for(sc, args.profile)
    rt = Runtime(m)
    rng = random.Random(args.seed)
    w = rt.initial()
    out = sys.stdout
    print(f"scenario {sc.name} · profile {m.prof.name} · seed {args.seed} · up to {args.steps} steps", file=out)
    for line in render.legend(sc):
        print(f"  {line}", file=out)
    print("initial state:", file=out)
    for line in render.snapshot(m, w):
        print(f"    {line}", file=out)
    step = 0
    while step < args.steps:
        # Group the inputs by who acts, pick a group, then an input in it: a
        # user's hundred possible actions must not drown the network's few.
        groups: dict[str, list[Any]] = {}
        for inp in rt.inputs(w):
            groups.setdefault(render.input_(m, w, inp)[0], []).append(inp)
        moved = False
        while groups:
            who = rng.choice(sorted(groups))
            inp = groups[who].pop(rng.randrange(len(groups[who])))
            if not groups[who]:
                del groups[who]
            events: list[Any] = []
            w2 = rt.step(w, inp, events)
            if w2 is None or w2 == w:
                continue
            step += 1
            who, what = render.input_(m, w, inp)
            said = [t for t in (render.event(m, ev) for ev in events) if t]
            changes = render.world_diff(m, w, w2)
            print(f"{step:>4}  {who:<8} {what}", file=out)
            for t in said:
                print(f"{'':>14}{t}", file=out)
            if changes:
                print(f"{'':>14}» " + "; ".join(changes), file=out)
            w = w2
            moved = True
            break
        if not moved:
            print("      (no input changes anything: the run is over)", file=out)
            break
    print("final state:", file=out)
    for line in render.snapshot(m, w):
        print(f"    {line}", file=out)
    return 0


# --------------------------------------------------------------------------- explore


def cmd_explore(args: argparse.Namespace) -> int:
    from ipsecmm.properties import Explorer, default_progress

    sc = load(args)
    profiles = args.profile or list(PROFILE_NAMES)
    results = []
    for name in profiles:
        m = model_for(sc, name)
        progress = None if args.json else default_progress()
        if progress:
            print(f"exploring {sc.name} under {name}", file=progress)
        ex = Explorer(m, max_states=args.max_states, max_seconds=args.max_seconds, progress=progress)
        stats = ex.run()
        results.append(stats)
        if not args.json:
            status = "complete" if stats.complete else f"INCOMPLETE ({stats.stopped})"
            print(f"{name:<7} {stats.states:>10,} states {stats.transitions:>11,} transitions  "
                  f"depth {stats.max_depth:>3}  deadlocks {stats.deadlocks}  "
                  f"{stats.seconds:7.2f}s  {stats.rate:>9,.0f} states/s  {status}")
            if stats.first_deadlock is not None:
                from ipsecmm.model import _render as render

                print("  shortest run to a deadlock:")
                w = m.initial()
                for inp in ex.run_to(stats.first_deadlock):
                    who, what = render.input_(m, w, inp)
                    print(f"    {who:<8} {what}")
                    w2 = m.step(w, inp)
                    w = w if w2 is None else w2
    if args.json:
        doc = {
            "scenario": sc.name,
            "bounds": dataclasses.asdict(sc.bounds),
            "options": dataclasses.asdict(sc.options),
            "results": [s.as_dict() for s in results],
        }
        print(json.dumps(doc, indent=2, sort_keys=True))
    return 0 if all(s.complete for s in results) else 1


# --------------------------------------------------------------------------- check


STATUS_MARK = {"proved": "PROVED", "holds": "holds", "violated": "VIOLATED", "inconclusive": "INCONCLUSIVE",
               "not-applicable": "n/a"}


def _cell(v: Any, r: Any) -> str:
    from ipsecmm.properties import REPRODUCED, reproduced

    mark = REPRODUCED if reproduced(r, v) else STATUS_MARK[v.status]
    if v.vacuous:
        mark += " (vacuous)"
    if v.declared:
        mark += " (declared)"  # rests on a declared limit of the profile, not only on search
    return mark


def save_runs(report: Any, out: Output, folder: str = "", owner: str | None = None) -> dict[tuple[str, str], str]:
    """Write every verdict's runs as JSON (all runs) and ITF (one file per run)
    into ``folder`` of ``out``, each profile's for the owner ``check
    --profile P`` (or for ``owner``).  Returns each verdict's run file, as a
    path inside ``out``."""
    from ipsecmm.properties import dump

    paths: dict[tuple[str, str], str] = {}
    prefix = f"{folder}/" if folder else ""
    for pr in report.profiles:
        for rid, v in pr.verdicts.items():
            if not v.runs:
                continue
            base = f"{prefix}{name_in_file(rid)}.{name_in_file(pr.profile)}"
            who = owner or check_owner(pr.profile)
            doc = {"requirement": rid, "profile": pr.profile, "status": v.status,
                   "runs": [run.to_json() for run in v.runs]}
            out.write(f"{base}.json", dump(doc), who)
            for k, run in enumerate(v.runs):
                suffix = "" if k == 0 else f".{k + 1}"
                out.write(f"{base}{suffix}.itf.json", dump(run.to_itf()), who)
            paths[(rid, pr.profile)] = f"{base}.json"
    return paths


def check_owner(profile: str) -> str:
    """The manifest owner of ``check``'s runs of one profile: checking one
    profile replaces that profile's runs and leaves the others'."""
    return f"check --profile {profile}"


def report_json(report: Any, run_paths: dict[tuple[str, str], str]) -> dict[str, Any]:
    from ipsecmm.properties import REGISTRY

    reqs = []
    for r in REGISTRY:
        verdicts = {}
        for pr in report.profiles:
            v = pr.verdicts.get(r.id)
            if v is None:
                continue
            entry: dict[str, Any] = {"status": v.status, "engine": v.engine, "bound": v.bound,
                                     "seconds": round(v.seconds, 3), "vacuous": v.vacuous, "detail": v.detail,
                                     "declared": v.declared}
            if (r.id, pr.profile) in run_paths:
                entry["run"] = run_paths[(r.id, pr.profile)]
                entry["runs"] = [run.label for run in v.runs]
            if v.value is not None:
                entry["value"] = v.value
            verdicts[pr.profile] = entry
        reqs.append({"id": r.id, "section": r.sections, "kind": r.kind, "summary": r.summary,
                     "property": r.property, "profiles": list(r.profiles), "verdicts": verdicts})
    profiles = []
    for pr in report.profiles:
        doc: dict[str, Any] = {"profile": pr.profile, "seconds": round(pr.seconds, 3)}
        if pr.explore is not None:
            doc["explore"] = pr.explore.as_dict()
        if pr.z3 is not None:
            doc["z3"] = {"paths": pr.z3.paths, "proved": pr.z3.proved, "lemmas": pr.z3.lemmas,
                         "k_proved": pr.z3.k_proved, "k": pr.z3.k,
                         "seconds": round(pr.z3.seconds, 3),
                         "relation_seconds": round(pr.z3.build_seconds, 3), "error": pr.z3.error}
        profiles.append(doc)
    return {"scenario": report.scenario.name, "profiles": [pr.profile for pr in report.profiles],
            "engines": profiles, "requirements": reqs, "mm_meets_all": report.mm_meets_all(),
            "seconds": round(report.seconds, 3)}


def cmd_check(args: argparse.Namespace) -> int:
    """The verdict matrix.  Its JSON's ``mm_meets_all`` is true or false when
    mm is among the profiles and null otherwise: a check that left mm out
    knows nothing about it.  The text output says nothing about mm then, and
    the exit code is 1 only when mm was checked and misses a requirement."""
    from ipsecmm.properties import REGISTRY, REPRODUCED, REPRODUCED_MEANING, Checker

    from ._progress import terminal_progress

    sc = load(args)
    profiles = args.profile or list(PROFILE_NAMES)
    runs_dir = Path(args.runs)
    with Output(runs_dir, [check_owner(p) for p in profiles], command_line(args), force=args.force,
                option="--runs") as out:
        with terminal_progress(quiet=args.json) as progress:
            checker = Checker(sc, progress, z3_engine=not args.no_z3, depth=args.depth, k=args.k)
            report = checker.run(profiles, jobs=args.jobs)
        paths = {k: str(runs_dir / rel) for k, rel in save_runs(report, out).items()}
    if args.json:
        print(json.dumps(report_json(report, paths), indent=1, sort_keys=True))
    else:
        width = max(len(r.id) for r in REGISTRY)
        print(f"scenario {sc.name}: {len(REGISTRY)} requirements x {len(profiles)} profiles")
        print(f"{'requirement':<{width}}  " + "".join(f"{p:<22}" for p in profiles))
        for r in REGISTRY:
            cells = []
            for p in profiles:
                v = report.verdict(r.id, p)
                cells.append(f"{_cell(v, r):<16}{v.seconds:5.1f}s")
            print(f"{r.id:<{width}}  " + " ".join(f"{c:<21}" for c in cells))
        print("(vacuous): its premise never occurs in the scenario, so it does not count as met")
        print(f"{REPRODUCED}: {REPRODUCED_MEANING}")
        if any(v.declared for pr in report.profiles for v in pr.verdicts.values()):
            print("(declared): the evidence passes through a limit the profile declares (its list of messages or a "
                  "yes/no flag); ipsecmm explain ID shows which")
        for pr in report.profiles:
            e = pr.explore
            z = pr.z3
            line = f"{pr.profile}: "
            if e is not None:
                line += f"explorer {e.states:,} states ({e.seconds:.1f}s)"
            if z is not None:
                line += (f"; z3 relation {z.paths:,} paths, induction proved {len(z.proved)}"
                         + (f", k-induction {len(z.k_proved)}" if z.k_proved else "") + f" ({z.seconds:.1f}s)")
            print(line)
        meets = report.mm_meets_all()
        if meets is None:
            print(f"Runs in {args.runs}/.  Total {report.seconds:.1f}s.")
        else:
            verdict = "meets every requirement" if meets else "DOES NOT meet every requirement"
            print(f"mm {verdict}.  Runs in {args.runs}/.  Total {report.seconds:.1f}s.")
    return 1 if report.mm_meets_all() is False else 0


def cmd_explain(args: argparse.Namespace) -> int:
    from ipsecmm.model import _render as render
    from ipsecmm.properties import Checker, by_id

    reqs = by_id()
    rid = args.id.upper()
    if rid not in reqs:
        raise UsageError(f"unknown requirement {shown(args.id)} (ipsecmm requirements lists them)")
    r = reqs[rid]
    sc = load(args)
    profiles = args.profile or list(PROFILE_NAMES)
    brief = args.steps_only
    if not brief:
        print(f"{r.id} ({r.kind}; draft {r.sections})")
        print(f"  {r.summary}")
        print(f"  property: {r.property}")
        if r.note:
            print(f"  note: {r.note}")
    checker = Checker(sc, None, z3_engine=False, only=[rid])
    report = checker.run(profiles)
    legends = [render.legend(sc)]  # and one for each other scenario a run is on, before its first run
    if not brief:
        print("\n" + "\n".join(f"  {line}" for line in legends[0]))
    for pr in report.profiles:
        v = pr.verdicts[rid]
        print(("" if brief else "\n") + f"[{pr.profile}] {_cell(v, r)} — {v.engine}" + (f", {v.bound}" if v.bound else ""))
        if v.detail and not brief:
            print(f"  {v.detail}")
        for d in v.declared:
            print(f"  rests on a declared limit: {d}")
        for run in v.runs:
            if render.legend(run.scenario) not in legends and not brief:
                legends.append(render.legend(run.scenario))
                print("\n".join(f"  {line}" for line in legends[-1]))
            print(f"  {run.label}" + (f" ({run.note})" if run.note else "") + f" — scenario {run.scenario.name}:")
            for line in run.table().splitlines():
                print(f"    {line}")
    return 0


def cmd_requirements(args: argparse.Namespace) -> int:
    from ipsecmm.properties import REGISTRY

    rows = [{"id": r.id, "section": r.sections, "kind": r.kind, "summary": " ".join(r.summary.split()),
             "profiles": list(r.profiles)} for r in REGISTRY]
    if args.json:
        print(json.dumps({"requirements": rows}, indent=1, sort_keys=True))
        return 0
    widths = {key: max(len(key), *(len(row[key]) for row in rows)) for key in ("id", "section", "kind")}
    print(f"{'id':<{widths['id']}}  {'section':<{widths['section']}}  {'kind':<{widths['kind']}}  summary")
    for row in rows:
        print(f"{row['id']:<{widths['id']}}  {row['section']:<{widths['section']}}  {row['kind']:<{widths['kind']}}  "
              f"{row['summary']}")
    return 0


def cmd_mutants(args: argparse.Namespace) -> int:
    if args.generated:
        return _generated_mutants(args)
    if args.every != 1:
        raise UsageError("--every samples the generated mutants: it needs --generated")
    if args.name:
        raise UsageError("--name picks generated mutants: it needs --generated")
    from ipsecmm.properties import MUTANTS, kill, killers
    from ipsecmm.properties._check import _killing_props, holding, model_of

    sc = load(args, default="reasons")
    profile = args.profile
    among = holding(sc, profile)
    print(f"seeded mutants on scenario {sc.name}, profile {profile}")
    broken = [r.id for r in _killing_props(profile, None) if r.id not in among]
    if broken:
        print(f"(left out: {', '.join(broken)}, which {profile} breaks without any mutant)")
    width = max(len(mu.mistake) for mu in MUTANTS)
    print(f"{'mutant':<26} {'mistake':<{width}} killed by")
    survivors = 0
    for mu in MUTANTS:
        if not mu.changes(model_of(sc, profile)):
            print(f"{mu.name:<26} {mu.mistake:<{width}} does not apply: {profile} has none of the rows it rewrites")
            continue
        if args.all:
            found = killers(sc, mu.name, profile, among)
            text = ", ".join(f"{rid} ({n} steps)" for rid, n in found) or "SURVIVES"
        else:
            k = kill(sc, mu.name, profile, among)
            text = f"{k[0]} ({len(k[1].inputs)} steps)" if k else "SURVIVES"
            found = [k] if k else []
        survivors += not found
        print(f"{mu.name:<26} {mu.mistake:<{width}} {text}")
    return 1 if survivors else 0


def _generated_mutants(args: argparse.Namespace) -> int:
    """Every mutant generated from the tables, judged on every shipped
    scenario: killed, equivalent (with the evidence) or surviving."""
    from ipsecmm.properties import adequacy, default_progress

    for flag in ("scenario", "bound", "option"):
        if getattr(args, flag):
            raise UsageError(f"--generated judges every shipped scenario as shipped: --{flag} does not apply")
    if args.all:
        raise UsageError("--generated stops at the first kill of each mutant: --all does not apply")
    if args.jobs < 1:
        raise UsageError("--jobs must be at least 1")
    if args.out:
        from ipsecmm._files import check_output_file

        check_output_file(Path(args.out))  # before hours of work, not after
    if args.name and args.every != 1:
        raise UsageError("--name and --every both pick mutants: give one of them")
    from ipsecmm.properties._genmutants import from_name

    for name in args.name:
        try:
            from_name(name)
        except KeyError:
            raise UsageError(f"--name {shown(name)}: not the name of a generated mutant "
                             "(ROLE:STATE:trigger#N:operator, as the result lists them)") from None
    try:
        doc = adequacy.run_all(args.profile, args.jobs, None if args.json else default_progress(), every=args.every,
                               names=args.name)
    except adequacy.UnknownMutant as e:
        raise UsageError(f"--name: {e}") from None
    if args.out:
        write_atomic(Path(args.out), adequacy.dumps(doc))
    print(adequacy.dumps(doc) if args.json else adequacy.text(doc), end="")
    return 1 if doc["summary"]["survivors"] or doc["summary"]["inconclusive"] else 0


# --------------------------------------------------------------------------- main


def bound_help() -> str:
    """The --bound help, from the one range table (so no bound is left out)."""
    parts = []
    for key, (lo, hi) in BOUND_LIMITS.items():
        note = f"; {BOUND_MEANING[key]}" if key in BOUND_MEANING else ""
        parts.append(f"{key} ({lo} to {hi}{note})")
    return "exploration bound, overriding the scenario: " + ", ".join(parts)


def _common(p: argparse.ArgumentParser, many_profiles: bool = False, many_scenarios: bool = False,
            default: str = "the built-in scenario default") -> None:
    """--profile, --scenario, --option and --bound, the same for every verb
    that builds a model."""
    if many_profiles:
        p.add_argument("--profile", action="append", choices=PROFILE_NAMES,
                       help="profile to run (repeat for several; default: all)")
    else:
        p.add_argument("--profile", choices=PROFILE_NAMES, default="mm", help="protocol profile (default: mm)")
    what = f"a built-in scenario's name ({', '.join(builtin_names())}) or a scenario TOML file"
    if many_scenarios:
        p.add_argument("--scenario", type=scenario_arg, action="append", metavar="F",
                       help=f"{what} (repeat for several; default: {default})")
    else:
        p.add_argument("--scenario", type=scenario_arg, metavar="F", help=f"{what} (default: {default})")
    p.add_argument("--option", action="append", metavar="KEY=VALUE",
                   help=f"profile option, overriding the scenario ({', '.join(OPTION_CHOICES)})")
    p.add_argument("--bound", action="append", metavar="KEY=VALUE", help=bound_help())


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="ipsecmm", description="Formal model and test generator for IPsec mobility and multihoming.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    p = sub.add_parser("simulate", help="print one random run, a line per step")
    _common(p)
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--steps", type=integer(0), default=30, help="maximum number of steps (default 30)")
    p.set_defaults(func=cmd_simulate)

    p = sub.add_parser("explore", help="breadth-first search of every reachable state")
    _common(p, many_profiles=True)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--max-states", type=integer(1), metavar="N",
                   help="stop each profile's search after this many states (reported as incomplete)")
    p.add_argument("--max-seconds", type=seconds, metavar="S",
                   help="stop each profile's search after this many seconds (reported as incomplete)")
    p.set_defaults(func=cmd_explore)

    p = sub.add_parser("check", help="verdict matrix: every requirement under every profile")
    _common(p, many_profiles=True)
    p.add_argument("--depth", type=integer(0), default=0, metavar="D",
                   help="also run bounded model checking to this depth on invariants induction did not prove")
    p.add_argument("--k", type=integer(1), default=2, metavar="K",
                   help="try k-induction up to this k on invariants plain induction did not prove (default 2; 1: off)")
    p.add_argument("--json", action="store_true",
                   help="print one JSON object (its mm_meets_all is null when mm is not among the profiles)")
    p.add_argument("--runs", default="runs", metavar="DIR",
                   help="where to write witnesses and counterexamples (default: runs)")
    p.add_argument("--force", action="store_true",
                   help="write into --runs even if it holds files ipsecmm did not write (they are left as they are)")
    p.add_argument("--jobs", type=integer(1), default=2, metavar="N", help="worker processes (default 2)")
    p.add_argument("--no-z3", action="store_true", help="explorer only: skip the z3 induction")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("explain", help="a requirement, its property, its verdicts and runs")
    p.add_argument("id", help="requirement ID, e.g. MOB-UPDATE (ipsecmm requirements lists them)")
    _common(p, many_profiles=True)
    p.add_argument("--steps-only", action="store_true",
                   help="print only each profile's verdict and its runs' step tables (as docs/findings.md quotes them)")
    p.set_defaults(func=cmd_explain)

    p = sub.add_parser("requirements", help="list the requirement IDs: section, kind and summary")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_requirements)

    p = sub.add_parser("mutants", help="which property kills which seeded model mutant")
    _common(p, default="the built-in scenario reasons")
    p.add_argument("--all", action="store_true", help="every killing property, not only the first found")
    p.add_argument("--generated", action="store_true",
                   help="judge the mutants generated from the tables on every shipped scenario instead: "
                        "killed, equivalent (with evidence) or surviving, and the score")
    p.add_argument("--json", action="store_true", help="with --generated: print the result as one JSON object")
    p.add_argument("--out", metavar="FILE", help="with --generated: also write the JSON result to FILE")
    p.add_argument("--jobs", type=int, default=2, help="with --generated: worker processes (default 2)")
    p.add_argument("--every", type=integer(1), default=1, metavar="N",
                   help="with --generated: judge every N-th generated mutant only, a deterministic sample "
                        "(default 1: all of them; the committed result is a sample, see make mutants)")
    p.add_argument("--name", action="append", default=[], metavar="MUTANT",
                   help="with --generated: judge only this generated mutant (repeatable), as named in the result, "
                        "e.g. responder:READY:recv_update#7:drop-write(rsp.mid)")
    p.set_defaults(func=cmd_mutants)

    for register in _EXTRA:
        register(sub)
    return parser


def _extra_verbs() -> list[Callable[[Any], None]]:
    """Verbs that live with the generators (``ipsecmm.gen``): each module
    ``gen/_cli_*.py`` exposes ``register(subparsers)``."""
    import importlib
    import pkgutil

    import ipsecmm.gen as gen

    res = []
    for info in sorted(pkgutil.iter_modules(gen.__path__), key=lambda i: i.name):
        if info.name.startswith("_cli_"):
            res.append(importlib.import_module(f"ipsecmm.gen.{info.name}").register)
    return res


_EXTRA = _extra_verbs()


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    prog = parser.prog
    try:
        args, unknown = parser.parse_known_args(argv)
        args.argv = list(sys.argv[1:] if argv is None else argv)  # recorded in the manifests of output directories
        prog = f"ipsecmm {args.command}"
        if unknown:  # found by the top parser, but they belong to the verb
            raise UsageError(f"unrecognized arguments: {' '.join(map(shown, unknown))}")
        return int(args.func(args))
    except UsageError as exc:
        print(f"{exc.prog or prog}: {exc}", file=sys.stderr)
        return 2
    except (ScenarioError, OutputError) as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # pragma: no cover - e.g. piped into head; an OSError, so caught first
        return 0
    except OSError as exc:
        # A path the user gave that the system refuses (too long, a file where
        # a directory should be, no permission) at a point no check foresaw:
        # still one line that names it, not a traceback.
        where = f"{shown(str(exc.filename))}: " if exc.filename is not None else ""
        print(f"{prog}: {where}{exc.strerror or exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
