"""Fuzz every reader of ipsecmm: scenario files, vector files, run files and command lines.

Each input is a shipped scenario, vector or run file (or a command line of
the README) after a few random mutations: byte flips, truncation, inserted
bytes, deep nesting, type swaps, key renames and deletions, huge numbers,
repeated entries, near-miss names and unicode.  Every input must either load
or be refused with the reader's own error on one line naming the file; a
command line must exit normally, or exit 2 with exactly one line on stderr
and no traceback.  What loads is used a little further (a model is built,
a vector run on the reference adapter, a run drawn), so that "accepted but
crashes later" is caught too.

    python scripts/fuzz.py                                  # the volume of issue 9 (takes a while)
    python scripts/fuzz.py --scenarios 2000 --vectors 100 --runs 50 --argv 20    # a quick look
    nice python scripts/fuzz.py --save /tmp/fuzz-failures   # keep each failing input

Deterministic for a given ``--seed``.  Exit code 1 when any input fails.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import hashlib
import io
import json
import math
import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from collections import Counter
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "model" / "scenarios"
VECTORS = ROOT / "gen" / "vectors"

# --------------------------------------------------------------------------- mutations


WEIRD_STRINGS = [
    "", " ", "  a1", "a1 ", "\n", "a\nb", "\t", "\x00", "\x07", "\u017fet_alt", "SET_ALT", "Update", "\u202eabc",
    "\u200b", "\u2028", "é", "漢字", "\U0001f600", "x" * 300, "../../etc/passwd", "/", "*", "%s", "{}", "null",
    "2001:DB8:0::1", "::ffff:198.51.100.1", "198.51.100.1", "192.0.2.1", "0.0.0.0", "::", "::1", "fe80::1%eth0",
    "224.0.0.1", "255.255.255.255", "2001:db8:2::1", "ike", "web", "a1", "r1", "home", "I", "R", "mm", "default",
    "true", "1", "-1", "ipsecmm-run/1", "https://ipsecmm.invalid/schemas/vectors-1.schema.json",
]
HUGE = [2**31, 2**63, 10**20, -(10**20), 10**29, 10**31, 10**300, -1, 0, 1, 2, 3, 4, 5, 6, 7, 100, 10**9]


def weird_value(rng: random.Random, json_ok: bool) -> Any:
    pick = rng.randrange(10)
    if pick == 0:
        return rng.choice(HUGE)
    if pick == 1:
        return rng.choice([0.5, 1.5, -0.0, 1e308, float("inf"), float("-inf"), float("nan")] if json_ok
                          else [0.5, 1.5, 1e308, float("inf")])
    if pick == 2:
        return rng.choice([True, False])
    if pick == 3 and json_ok:
        return None
    if pick == 4:
        return []
    if pick == 5:
        return {}
    if pick == 6:
        return [rng.choice(WEIRD_STRINGS) for _ in range(rng.randrange(1, 4))]
    if pick == 7 and json_ok:
        return rng.choice(["\ud800", "a\udfffb"])  # lone surrogates: JSON can say them, UTF-8 cannot
    return rng.choice(WEIRD_STRINGS)


def nodes(obj: Any, path: tuple[Any, ...] = ()) -> list[tuple[tuple[Any, ...], Any]]:
    out = [(path, obj)]
    stack = [(path, obj)]
    while stack:
        p, v = stack.pop()
        items = v.items() if isinstance(v, dict) else enumerate(v) if isinstance(v, list) else ()
        for k, x in items:
            out.append(((*p, k), x))
            stack.append(((*p, k), x))
    return out


def get_at(obj: Any, path: tuple[Any, ...]) -> Any:
    for k in path:
        obj = obj[k]
    return obj


def set_at(obj: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    get_at(obj, path[:-1])[path[-1]] = value
    return obj


def mutate_data(rng: random.Random, obj: Any, json_ok: bool) -> Any:
    """One structural mutation of parsed data (in place where it can be)."""
    all_nodes = nodes(obj)
    path, value = rng.choice(all_nodes)
    op = rng.randrange(12)
    if op <= 2:  # type swap or weird value
        return set_at(obj, path, weird_value(rng, json_ok))
    if op == 3 and isinstance(value, dict) and value:  # rename a key
        key = rng.choice(list(value))
        new = rng.choice([key.upper(), key + " ", " " + key, key.replace("_", "-"), key[:-1], key + "\n", "a\nb",
                          "\u017f" + key[1:], "", rng.choice(WEIRD_STRINGS)])
        value[new] = value.pop(key)
        return obj
    if op == 4 and isinstance(value, dict) and value:  # delete a key
        del value[rng.choice(list(value))]
        return obj
    if op == 5 and isinstance(value, list) and value:  # repeat an entry
        value.insert(rng.randrange(len(value) + 1), copy.deepcopy(rng.choice(value)))
        return obj
    if op == 6 and isinstance(value, list) and value:  # drop an entry
        del value[rng.randrange(len(value))]
        return obj
    if op == 7:  # deep nesting
        depth = rng.choice([3, 31, 33, 100, 400, 1200, 5000])
        v: Any = value
        for _ in range(depth):
            v = [v] if rng.random() < 0.5 or not json_ok else {"k": v}
        return set_at(obj, path, v)
    if op == 8 and isinstance(value, int) and not isinstance(value, bool):  # a near number
        return set_at(obj, path, rng.choice([value + 1, value - 1, -value, value * 1000, 10**40, 0]))
    if op == 9 and isinstance(value, str):  # a near-miss string
        return set_at(obj, path, rng.choice([value.upper(), value + " ", value + "\n", value[:-1], value * 2,
                                             value.replace("a", "\u0430"), "\u017f" + value]))
    if op == 10 and len(all_nodes) > 2:  # a value from elsewhere
        other = copy.deepcopy(rng.choice(all_nodes)[1])
        return set_at(obj, path, other)
    if op == 11 and isinstance(value, dict):  # an unknown key
        value[rng.choice(WEIRD_STRINGS) or "extra"] = weird_value(rng, json_ok)
        return obj
    return set_at(obj, path, weird_value(rng, json_ok))


def mutate_bytes(rng: random.Random, data: bytes) -> bytes:
    op = rng.randrange(6)
    b = bytearray(data)
    if not b:
        return bytes(rng.randrange(256) for _ in range(8))
    if op == 0:  # bit flips
        for _ in range(rng.randrange(1, 9)):
            b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
    elif op == 1:  # truncation
        del b[rng.randrange(len(b)):]
    elif op == 2:  # inserted bytes, often not UTF-8
        at = rng.randrange(len(b) + 1)
        b[at:at] = rng.choice([b"\xff", b"\xc3", b"\x00", b"\xed\xa0\x80", b"\x1b[2J", b"\r", "ſ".encode(),
                               bytes(rng.randrange(256) for _ in range(rng.randrange(1, 6)))])
    elif op == 3:  # a slice removed
        at = rng.randrange(len(b))
        del b[at:at + rng.randrange(1, 64)]
    elif op == 4:  # a slice repeated
        at = rng.randrange(len(b))
        b[at:at] = b[at:at + rng.randrange(1, 64)]
    else:  # a digit run made huge
        at = rng.randrange(len(b) + 1)
        b[at:at] = b"9" * rng.choice([20, 400, 4400, 6000])
    return bytes(b)


def toml_dump(data: dict[str, Any]) -> str:
    """Parsed TOML back to TOML, with inline tables (enough for mutated scenarios)."""

    def key(k: str) -> str:
        return k if k and all(c.isascii() and (c.isalnum() or c in "-_") for c in k) else json.dumps(k)

    def val(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, int):
            return str(v)
        if isinstance(v, float):
            return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf") if math.isinf(v) else repr(v)
        if isinstance(v, str):
            return json.dumps(v)  # JSON's escapes are TOML's (a surrogate escape is invalid TOML: fine)
        if isinstance(v, list):
            return "[" + ", ".join(val(x) for x in v) + "]"
        if isinstance(v, dict):
            return "{" + ", ".join(f"{key(k)} = {val(x)}" for k, x in v.items()) + "}"
        return json.dumps(str(v))

    return "".join(f"{key(k)} = {val(v)}\n" for k, v in data.items())


# --------------------------------------------------------------------------- one check per reader


class Tally:
    def __init__(self, name: str) -> None:
        self.name = name
        self.inputs = 0
        self.loaded = 0
        self.refused = 0
        self.failures: Counter[str] = Counter()
        self.examples: dict[str, bytes] = {}
        self.problems: Counter[str] = Counter()  # what the refusals said, roughly (for --verbose)
        self.started = time.perf_counter()
        self.ended: float | None = None

    def stop(self) -> Tally:
        self.ended = time.perf_counter()
        return self

    def refuse(self, exc: BaseException, source: str, data: bytes) -> None:
        self.refused += 1
        bad = one_line_error(exc, source)
        if bad:
            self.fail(bad, data)
        problem = str(exc)[len(source):].lstrip(": ")
        key, _, rest = problem.partition(": ")
        self.problems[" ".join((rest or key).split()[:3])] += 1

    def fail(self, what: str, data: bytes) -> None:
        self.failures[what] += 1
        self.examples.setdefault(what, data)

    def line(self) -> str:
        secs = (self.ended or time.perf_counter()) - self.started
        return (f"{self.name}: {self.inputs} inputs in {secs:.0f}s: {self.loaded} loaded, {self.refused} refused "
                f"on one line, {sum(self.failures.values())} failures ({len(self.failures)} distinct)")


def describe(exc: BaseException) -> str:
    tb = traceback.extract_tb(exc.__traceback__)
    where = next((f"{Path(f.filename).name}:{f.lineno}" for f in reversed(tb) if "ipsecmm" in f.filename
                  or "/model/" in f.filename or "/gen/" in f.filename or "/properties/" in f.filename), "?")
    return f"{type(exc).__name__} at {where}: {' '.join(str(exc).split())[:160]}"


def one_line_error(exc: BaseException, source: str) -> str | None:
    """None when ``exc`` is a proper one-line error naming ``source``, else what is wrong with it."""
    text = str(exc)
    if "\n" in text or "\r" in text:
        return f"{type(exc).__name__} on several lines: {text[:120]!r}"
    if not text.startswith(source):
        return f"{type(exc).__name__} does not name the file: {text[:120]!r}"
    return None


_MISSING = object()


def read_or_tally(data: bytes, path: Path, tally: Tally, read: Callable[[Path], Any],
                  refusal: type[BaseException]) -> Any:
    """Write ``data`` to ``path`` and read it with ``read``: the reader's own
    error is a refusal (checked for one line naming the file), anything else
    a failure.  Returns what was read, or ``_MISSING``."""
    path.write_bytes(data)
    tally.inputs += 1
    try:
        got = read(path)
    except refusal as exc:
        tally.refuse(exc, str(path), data)
        return _MISSING
    except BaseException as exc:  # anything else is what we are looking for
        if isinstance(exc, KeyboardInterrupt):
            raise
        tally.fail(describe(exc), data)
        return _MISSING
    tally.loaded += 1
    return got


def check_scenario(data: bytes, path: Path, tally: Tally) -> None:
    from ipsecmm.model import PROFILE_NAMES, Model, ScenarioError, get_profile, load_scenario

    sc = read_or_tally(data, path, tally, load_scenario, ScenarioError)
    if sc is _MISSING:
        return
    try:  # an accepted scenario must give a model that runs
        for p in PROFILE_NAMES:
            m = Model(sc, get_profile(p, sc.options))
            w = m.initial()
            for inp in m.inputs(w)[:8]:
                m.step(w, inp)
    except Exception as exc:
        tally.fail("accepted, then: " + describe(exc), data)


def check_vector(data: bytes, path: Path, tally: Tally) -> None:
    from ipsecmm.gen._conformance import ReferenceAdapter, VectorFileError, is_vector_file, load_file, run_case

    cases = read_or_tally(data, path, tally, lambda p: (is_vector_file(p), load_file(p))[1], VectorFileError)
    if cases is _MISSING:
        return
    adapter = ReferenceAdapter()
    for case in cases:  # a loaded vector may fail the reference, but never make an adapter raise
        try:
            mm = run_case(adapter, case)
        except Exception as exc:
            tally.fail("the runner raised: " + describe(exc), data)
            return
        if mm is not None and mm.what == "error":
            tally.fail(f"a loaded vector makes the reference adapter raise: {str(mm.actual)[:120]}", data)
            return


def check_run(data: bytes, path: Path, tally: Tally) -> None:
    from ipsecmm.gen import _diagrams as D
    from ipsecmm.properties._runs import RunFileError, load_runs

    runs = read_or_tally(data, path, tally, load_runs, RunFileError)
    if runs is _MISSING:
        return
    try:  # what diagrams --run does with a run, short of exploring its whole state graph
        for k, run in enumerate(runs):
            run.table()
            run.mermaid()
            run.to_itf()
            D.run_machine_dots(run, f"run-{k}")
            D.sequence_svg(run, f"run-{k}-sequence")
    except Exception as exc:
        tally.fail("accepted, then: " + describe(exc), data)


# --------------------------------------------------------------------------- command lines


def child_main(argv: list[str], out: Path, err: Path, cwd: Path) -> None:  # pragma: no cover - runs in a fork
    os.chdir(cwd)
    resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))
    fd_out = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    fd_err = os.open(err, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    os.dup2(fd_out, 1)
    os.dup2(fd_err, 2)
    sys.stdout = io.TextIOWrapper(os.fdopen(1, "wb", closefd=False), encoding="utf-8", line_buffering=True)
    sys.stderr = io.TextIOWrapper(os.fdopen(2, "wb", closefd=False), encoding="utf-8", line_buffering=True)
    code = 70
    try:
        from ipsecmm.cli import main

        code = main(argv)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:  # print it as Python would, and say so by the code
        traceback.print_exc()
        code = 99
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code if isinstance(code, int) else 1)


def run_argv(argv: list[str], cwd: Path, timeout: float) -> tuple[str, int | None, str]:
    """(outcome, exit code, stderr): outcome is "ok", "timeout" or "signal"."""
    out, err = cwd / ".fuzz-out", cwd / ".fuzz-err"
    pid = os.fork()
    if pid == 0:  # pragma: no cover
        child_main(argv, out, err, cwd)
    deadline = time.monotonic() + timeout
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return "timeout", None, ""
        time.sleep(0.02)
    text = err.read_text(encoding="utf-8", errors="replace") if err.exists() else ""
    if os.WIFSIGNALED(status):
        return "signal", -os.WTERMSIG(status), text
    return "ok", os.WEXITSTATUS(status), text


OPTIONS = ["--profile", "--scenario", "--option", "--bound", "--seed", "--steps", "--json", "--max-states",
           "--max-seconds", "--depth", "--k", "--runs", "--jobs", "--no-z3", "--all", "--out", "--run", "--around",
           "--hops", "--max-nodes", "--no-svg", "--coverage", "--sut", "--vectors", "--mutants", "--findings",
           "--no-timings", "--help", "--"]
VALUES = ["", "-1", "0", "1", "3", "99999999999999999999", "1e3", "nan", "mm", "ikev2", "mobike", "ipv9", "a\nb",
          "\u017fet_alt", "x" * 300, "/", "/proc/x", "/dev/null", "nonexistent.toml", "requests=0", "requests=1",
          "channel=100000000000", "channel=3", "drops=-1", "retransmits=10", "speed=1", "actions=update", "=", "KEY",
          "failover=any", "apply_early=maybe", "both_move=true", "inactive_update=refuse", "default", "failover",
          "MOB-UPDATE", "inv-rr", "NOPE", "pairs", "ipsecmm.gen:reference", "nonsense", "faults:wrong_reason",
          "os:getcwd", "ipsecmm.gen:reference:x", "é", "--profile"]


def base_commands(corpus: Path) -> list[list[str]]:
    sc = str(SCENARIOS / "fallback.toml")
    return [
        ["explore", "--profile", "ikev2"],
        ["explore", "--profile", "ikev2", "--json", "--max-states", "200"],
        ["explore", "--profile", "mobike", "--max-seconds", "2"],
        ["simulate", "--steps", "5"],
        ["simulate", "--profile", "ikev2", "--seed", "3", "--steps", "5", "--scenario", sc],
        ["explain", "MOB-UPDATE", "--profile", "ikev2"],
        ["check", "--profile", "ikev2", "--no-z3", "--runs", "runs", "--json"],
        ["diagrams", "--profile", "ikev2", "--no-svg", "--out", "d", "--max-nodes", "50"],
        ["diagrams", "--run", str(corpus / "run-ikev2.json"), "--no-svg", "--out", "d"],
        ["vectors", "--profile", "ikev2", "--scenario", sc, "--out", "v"],
        ["conformance", "--vectors", str(corpus / "vectors"), "--", "-q", "-x"],
        ["mutants", "--scenario", sc],
        ["explore", "--profile", "ikev2", "--scenario", str(corpus / "scenario.toml")],
        ["explore", "--profile", "ikev2", "--bound", "moves=0", "--option", "failover=any"],
        ["pcap", str(corpus / "run-ikev2.json"), "--out", "c.pcap"],
        ["pcap", str(corpus / "vectors" / "mm-fallback-initiator.json"), "--out", "c.pcap"],
        ["requirements"],
    ]


def mutate_argv(rng: random.Random, argv: list[str], extra_files: list[str]) -> list[str]:
    a = list(argv)
    for _ in range(rng.randrange(1, 4)):
        op = rng.randrange(7)
        if op == 0 and len(a) > 1:
            del a[rng.randrange(1, len(a))]
        elif op == 1:
            a.insert(rng.randrange(1, len(a) + 1), rng.choice(OPTIONS))
        elif op == 2 and len(a) > 1:
            a[rng.randrange(1, len(a))] = rng.choice(VALUES + extra_files)
        elif op == 3:
            a[rng.randrange(1, len(a) + 1):0] = [rng.choice(OPTIONS), rng.choice(VALUES + extra_files)]
        elif op == 4:
            a[0] = rng.choice(["explore", "simulate", "check", "explain", "mutants", "diagrams", "vectors",
                               "conformance", "report", "requirements", "pcap", "bogus", "--help", ""])
        elif op == 5 and len(a) > 2:
            i, j = rng.randrange(1, len(a)), rng.randrange(1, len(a))
            a[i], a[j] = a[j], a[i]
        else:
            a.append(rng.choice(extra_files or VALUES))
    return [x.replace("\x00", "") for x in a]  # a command line cannot hold a NUL byte


def judge_argv(outcome: str, code: int | None, err: str) -> str | None:
    if outcome == "timeout":
        return None  # counted apart: a long run is not a wrong answer
    if outcome == "signal":
        return f"killed by signal {-(code or 0)}"
    if "Traceback" in err:
        last = [ln for ln in err.strip().splitlines() if ln.strip()][-1]
        return f"traceback: {last[:160]}"
    if code == 2:
        lines = err.strip("\n").split("\n")
        if len(lines) != 1 or not lines[0].strip():
            return f"exit 2 with {len(lines)} stderr lines: {err[:120]!r}"
        if not lines[0].startswith("ipsecmm"):
            return f"exit 2 without the ipsecmm prefix: {lines[0][:120]!r}"
        return None
    if code not in (0, 1):
        return f"exit code {code}: {err.strip()[-160:]!r}"
    return None


# --------------------------------------------------------------------------- corpus and driver


def seed_runs(work: Path) -> list[Path]:
    """Run files as ipsecmm check writes them (the verdicts' runs, explorer only)."""
    out = work / "seed-runs"
    if not out.exists():
        print("writing seed runs with ipsecmm check --no-z3 (about half a minute) ...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "ipsecmm", "check", "--no-z3", "--runs", str(out), "--json"],
                       check=False, stdout=subprocess.DEVNULL, cwd=work)
    return sorted(p for p in out.glob("*.json") if not p.name.endswith(".itf.json"))


def vector_seeds() -> list[tuple[str, Any]]:
    from ipsecmm.gen._conformance import is_vector_file

    return [(p.name, json.loads(p.read_text(encoding="utf-8"))) for p in sorted(VECTORS.glob("*.json"))
            if is_vector_file(p)]


def trim_vectors(rng: random.Random, doc: dict[str, Any]) -> dict[str, Any]:
    """A vector file cut to a few of its vectors, still valid: loading it stays quick."""
    doc = copy.deepcopy(doc)
    tests = doc["testGroups"][0]["tests"]
    keep = sorted(rng.sample(range(len(tests)), min(len(tests), rng.randrange(1, 4))))
    doc["testGroups"][0]["tests"] = [tests[k] for k in keep]
    for k, t in enumerate(doc["testGroups"][0]["tests"], 1):
        t["tcId"] = k
    doc["numberOfTests"] = len(keep)
    return doc


def refresh_vectors(doc: Any) -> None:
    """Recompute what the loader derives (ids, positions, reasons, result), so
    that a mutated vector reaches the checks behind them.  Best effort."""
    from ipsecmm.gen._vectors import abstract_steps, reasons_in, scenario_from_doc, snapshot, vector_id, vector_result
    from ipsecmm.gen._wire import add_hex, session_for
    from ipsecmm.model import Model, get_profile

    with contextlib.suppress(Exception):
        total = 0
        for g in doc["testGroups"]:
            sc = scenario_from_doc(g["scenario"], "fuzz")
            m = Model(sc, get_profile(doc["profile"], sc.options))
            initial = snapshot(m, m.initial().peers[0 if g["role"] == "initiator" else 1])
            for k, t in enumerate(g["tests"], 1):
                t["tcId"] = k
                with contextlib.suppress(Exception):
                    t["reasons"] = reasons_in(t["steps"])
                    t["result"] = vector_result(t["steps"], initial)
                with contextlib.suppress(Exception):
                    add_hex(t["steps"], g["role"], session_for(sc, doc["profile"], spis=g["spis"], keys=g["wire"]))
                t["id"] = vector_id({"scenario": sc.name, "options": vars(sc.options), "profile": doc["profile"],
                                     "role": g["role"], "steps": abstract_steps(t["steps"])})
                total += 1
        doc["numberOfTests"] = total


def safely(mutation: Callable[[], Any], before: Any) -> Any:
    """The mutation's result, or ``before`` when the fuzzer's own recursion
    (deepcopy of a value nested thousands deep) gives up."""
    try:
        return mutation()
    except RecursionError:
        return before


def dumps(obj: Any, rng: random.Random) -> bytes:
    try:
        text = json.dumps(obj, indent=rng.choice([None, 1]), sort_keys=rng.random() < 0.5, ensure_ascii=False)
    except (ValueError, RecursionError):  # a mutation nested deeper than json.dumps goes
        return b"[" * 5000 + b"]" * 5000
    return text.encode("utf-8", errors="surrogatepass")


def fuzz(kind: str, count: int, rng: random.Random, work: Path, make: Callable[[random.Random], bytes],
         check: Callable[[bytes, Path, Tally], None], suffix: str) -> Tally:
    tally = Tally(kind)
    path = work / f"input{suffix}"
    for n in range(count):
        check(make(rng), path, tally)
        if (n + 1) % max(1, count // 10) == 0:
            print(f"  {tally.line()}", file=sys.stderr, flush=True)
    return tally.stop()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scenarios", type=int, default=100_000)
    ap.add_argument("--vectors", type=int, default=4_000)
    ap.add_argument("--runs", type=int, default=300)
    ap.add_argument("--argv", type=int, default=600)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--timeout", type=float, default=60.0, help="seconds a command line may run (default 60)")
    ap.add_argument("--work", type=Path, help="working directory (default: a fresh temporary one)")
    ap.add_argument("--save", type=Path, help="write one example input of each distinct failure here")
    ap.add_argument("--verbose", action="store_true", help="also print what the refusals said, roughly, by count")
    args = ap.parse_args(argv)
    sys.setrecursionlimit(1000)  # the readers must not need more than Python's default
    rng = random.Random(args.seed)
    work = args.work or Path(tempfile.mkdtemp(prefix="ipsecmm-fuzz-"))
    work.mkdir(parents=True, exist_ok=True)
    tallies = []

    scenario_texts = [p.read_bytes() for p in sorted(SCENARIOS.glob("*.toml"))]

    def make_scenario(r: random.Random) -> bytes:
        import tomllib

        data = r.choice(scenario_texts)
        structural = r.random() < 0.6
        if structural:
            doc = tomllib.loads(data.decode())
            for _ in range(r.randrange(1, 4)):
                doc = safely(partial(mutate_data, r, doc, json_ok=False), doc)
                if not isinstance(doc, dict):
                    doc = {"x": doc}
            try:
                data = toml_dump(doc).encode("utf-8", errors="surrogatepass")
            except RecursionError:  # nested deeper than this writer goes: say it in text
                data += b"\ndeep = " + b"[" * 5000 + b"]" * 5000 + b"\n"
        for _ in range((r.random() < 0.25) if structural else r.randrange(1, 3)):
            data = mutate_bytes(r, data)
        return data

    if args.scenarios:
        tallies.append(fuzz("scenario files", args.scenarios, rng, work, make_scenario, check_scenario, ".toml"))

    if args.vectors:
        seeds = vector_seeds()
        vdir = work / "vectors-with-traces"
        vdir.mkdir(exist_ok=True)
        if not (vdir / "itf").exists():
            (vdir / "itf").symlink_to(VECTORS / "itf")

        def make_vector(r: random.Random) -> bytes:
            doc: Any = r.choice(seeds)[1]
            doc = trim_vectors(r, doc) if r.random() < 0.9 else copy.deepcopy(doc)
            if r.random() < 0.8:
                for _ in range(r.randrange(1, 4)):
                    doc = safely(partial(mutate_data, r, doc, json_ok=True), doc)
                if r.random() < 0.6:
                    refresh_vectors(doc)
                data = dumps(doc, r)
            else:
                data = mutate_bytes(r, dumps(doc, r))
            return data

        def check_vector_somewhere(data: bytes, path: Path, tally: Tally) -> None:
            where = vdir if rng.random() < 0.5 else work
            check_vector(data, where / "input.json", tally)

        tallies.append(fuzz("vector files", args.vectors, rng, work, make_vector, check_vector_somewhere, ".json"))

    run_files = seed_runs(work) if args.runs or args.argv else []
    if args.runs:
        run_docs = [json.loads(p.read_text(encoding="utf-8")) for p in run_files]
        singles = [d["runs"][0] for d in run_docs]  # single runs, as Run.to_json writes them

        def make_run(r: random.Random) -> bytes:
            doc: Any = copy.deepcopy(r.choice(run_docs if r.random() < 0.4 else singles))
            if r.random() < 0.8:
                for _ in range(r.randrange(1, 3)):
                    doc = safely(partial(mutate_data, r, doc, json_ok=True), doc)
                return dumps(doc, r)
            return mutate_bytes(r, dumps(doc, r))

        tallies.append(fuzz("run files", args.runs, rng, work, make_run, check_run, ".json"))

    if args.argv:
        corpus = work / "argv-corpus"
        (corpus / "vectors").mkdir(parents=True, exist_ok=True)
        for p in VECTORS.glob("mm-fallback-*.json"):
            shutil.copy(p, corpus / "vectors" / p.name)
        ikev2_run = next((p for p in run_files if p.name.endswith(".ikev2.json") and "SCN-SA-COUNT" not in p.name), None)
        if ikev2_run is not None:
            shutil.copy(ikev2_run, corpus / "run-ikev2.json")
        (corpus / "scenario.toml").write_bytes(make_scenario(rng))
        (corpus / "a-file").write_text("x")
        extra = [str(corpus / "scenario.toml"), str(corpus / "a-file"), str(corpus), str(corpus / "missing")]
        bases = base_commands(corpus)
        tally = Tally("command lines")
        timeouts = 0
        for n in range(args.argv):
            cmd = mutate_argv(rng, rng.choice(bases), extra) if rng.random() < 0.9 else list(rng.choice(bases))
            if rng.random() < 0.3:  # a freshly fuzzed scenario file behind --scenario
                (corpus / "scenario.toml").write_bytes(make_scenario(rng))
            cwd = work / "argv-cwd"
            shutil.rmtree(cwd, ignore_errors=True)
            cwd.mkdir()
            outcome, code, err = run_argv(cmd, cwd, args.timeout)
            tally.inputs += 1
            timeouts += outcome == "timeout"
            bad = judge_argv(outcome, code, err)
            if bad:
                tally.fail(bad, json.dumps(cmd, ensure_ascii=False).encode())
            elif code == 2:
                tally.refused += 1
            elif outcome == "ok":
                tally.loaded += 1
            if (n + 1) % max(1, args.argv // 10) == 0:
                print(f"  {tally.line()}, {timeouts} timed out", file=sys.stderr, flush=True)
        tally.name = f"command lines ({timeouts} stopped after {args.timeout:.0f}s, counted as normal)"
        tallies.append(tally.stop())

    print()
    failed = 0
    for t in tallies:
        print(t.line().replace(" loaded,", " loaded or ran,") if t.name.startswith("command") else t.line())
        if args.verbose:
            for what, n in t.problems.most_common(25):
                print(f"    refused {n:>6} x {what}")
        for what, n in t.failures.most_common():
            print(f"    {n:>6} x {what}")
            failed += n
            if args.save:
                args.save.mkdir(parents=True, exist_ok=True)
                name = f"{t.name.split()[0]}-{hashlib.sha256(what.encode()).hexdigest()[:12]}.bin"
                (args.save / name).write_bytes(t.examples[what])
    if not args.work:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
