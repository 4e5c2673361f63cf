"""Hypothesis over the three readers (scenario files, run files, vector files):
whatever a file holds, it loads or is refused with the reader's own error on
one line naming the file; never a traceback, never a vector that makes an
adapter raise.  Modest on purpose (a few hundred examples, seconds);
scripts/fuzz.py runs the same idea at volume."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ipsecmm.cli import main
from ipsecmm.gen._conformance import ReferenceAdapter, VectorFileError, load_file, run_case
from ipsecmm.model import Action, Model, ScenarioError, builtin_scenario, parse_scenario
from ipsecmm.properties import Run

from conftest import ROOT, SCENARIOS
from helpers import act, deliver

FAST = settings(max_examples=120, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

WEIRD = ["", " ", "a\nb", "\t", "\x07", "\u017fet_alt", "SET_ALT", "\u202e", "\u2028", "é", "x" * 200, "*",
         "2001:DB8:0::1", "::ffff:198.51.100.1", "0.0.0.0", "::1", "fe80::1%eth0", "224.0.0.1", "a1", "r1", "r2",
         "web", "ike", "home", "I", "R", "mm", "update", "1", "-1"]


def values(json_ok: bool) -> st.SearchStrategy[Any]:
    scalars = st.one_of(st.sampled_from(WEIRD), st.text(max_size=6), st.booleans(),
                        st.integers(min_value=-(10 ** 40), max_value=10 ** 40), st.sampled_from([0, 1, 2, 3, 7, -1]),
                        st.floats(allow_nan=json_ok, allow_infinity=True),
                        *([st.none(), st.sampled_from(["\ud800", "a\udfffb"])] if json_ok else []))
    nested = st.integers(min_value=1, max_value=3000).map(lambda n: _deep(n, json_ok))
    return st.one_of(scalars, nested, st.lists(scalars, max_size=3),
                     st.dictionaries(st.sampled_from(WEIRD) | st.text(max_size=4), scalars, max_size=2))


def _deep(n: int, json_ok: bool) -> Any:
    v: Any = 1
    for k in range(n):
        v = [v] if k % 2 or not json_ok else {"k": v}
    return v


def mutated(data: st.DataObject, doc: Any, json_ok: bool, steps: int = 2) -> Any:
    """``doc`` with a few changes drawn by Hypothesis: a value replaced, a key
    renamed or dropped, a list entry repeated."""
    for _ in range(data.draw(st.integers(min_value=1, max_value=steps))):
        parent, key, node = None, None, doc
        while isinstance(node, dict | list) and node and data.draw(st.booleans()):
            keys = list(node) if isinstance(node, dict) else list(range(len(node)))
            parent, key = node, data.draw(st.sampled_from(keys))
            node = node[key]
        op = data.draw(st.sampled_from(["replace", "rename", "drop", "repeat", "add"]))
        if op == "rename" and isinstance(node, dict) and node:
            old = data.draw(st.sampled_from(list(node)))
            node[data.draw(st.sampled_from(WEIRD) | st.text(max_size=5))] = node.pop(old)
        elif op == "drop" and isinstance(node, dict) and node:
            del node[data.draw(st.sampled_from(list(node)))]
        elif op == "repeat" and isinstance(node, list) and node:
            node.append(json.loads(json.dumps(node[0])) if json_ok else node[0])
        elif op == "add" and isinstance(node, dict):
            node[data.draw(st.sampled_from(WEIRD))] = data.draw(values(json_ok))
        elif parent is None:
            doc = {"x": data.draw(values(json_ok))} if not json_ok else data.draw(values(json_ok))
        else:
            parent[key] = data.draw(values(json_ok))
    return doc


def one_line(exc: BaseException, source: str) -> None:
    text = str(exc)
    assert "\n" not in text and "\r" not in text, text
    assert text.startswith(source), text


# --------------------------------------------------------------------------- scenarios


def toml(data: dict[str, Any]) -> str:
    def key(k: str) -> str:
        return k if k and all(c.isascii() and (c.isalnum() or c in "-_") for c in k) else json.dumps(k)

    def val(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, float):
            return "inf" if v == float("inf") else "-inf" if v == float("-inf") else repr(v)
        if isinstance(v, int | str):
            return json.dumps(v) if isinstance(v, str) else str(v)
        if isinstance(v, list):
            return "[" + ", ".join(map(val, v)) + "]"
        return "{" + ", ".join(f"{key(k)} = {val(x)}" for k, x in v.items()) + "}"

    return "".join(f"{key(k)} = {val(v)}\n" for k, v in data.items())


def _scenario_doc() -> dict[str, Any]:
    import tomllib

    return tomllib.loads((SCENARIOS / "default.toml").read_text())


@FAST
@given(st.data())
@example(None)  # explicit cases first: each broke the one-line promise before
def test_scenario_loader_is_total(data):
    if data is None:
        texts = [_deep_toml(400), toml({**_scenario_doc(), "bounds": {"a\nb": 1}}),
                 toml({**_scenario_doc(), "bounds": {"actions": ["\u017fet_alt"]}})]
    else:
        try:
            texts = [toml(mutated(data, _scenario_doc(), json_ok=False))]
        except RecursionError:  # nested deeper than this writer goes
            texts = [_deep_toml(3000)]
    for text in texts:
        try:
            parse_scenario(text, "fuzz.toml")
        except ScenarioError as exc:
            one_line(exc, "fuzz.toml")
        else:
            assert data is not None, "an explicit bad case was accepted"


def _deep_toml(n: int) -> str:
    return "a = " + "[" * n + "]" * n + "\n"


# --------------------------------------------------------------------------- runs


def _run_doc() -> dict[str, Any]:
    sc = builtin_scenario("fallback")
    m = Model(sc, "ikev2")
    run = Run(sc, "ikev2", [act(m, Action.DELETE, "web"), deliver(0), deliver(1)], label="delete web")
    return {"requirement": "MOB-UPDATE", "profile": "ikev2", "status": "holds", "runs": [run.to_json()]}


@FAST
@given(st.data())
@example(None)
def test_run_reader_is_total_through_diagrams(tmp_path_factory, data):
    if data is None:  # explicit cases first: each ended in a traceback, or was drawn, before
        base = _run_doc()
        docs: list[Any] = [{**base, "runs": [{**base["runs"][0], "bounds": {**base["runs"][0]["bounds"], "channel": 0}}]},
                           {**base, "runs": [{**base["runs"][0], "inputs": [5]}]},
                           {**base, "runs": [{**base["runs"][0], "mutant": "no-such-fault"}]}]
    else:
        docs = [mutated(data, _run_doc(), json_ok=True)]
    work = tmp_path_factory.mktemp("run")
    for doc in docs:
        f = work / "run.json"
        try:
            f.write_text(json.dumps(doc), encoding="utf-8", errors="surrogatepass")
        except (ValueError, RecursionError):
            f.write_text("[" * 3000 + "]" * 3000)
        code = _diagrams(f, work / "out")
        assert code in (0, 2) if data is not None else code == 2


def _diagrams(f: Path, out: Path) -> int:
    import contextlib
    import io

    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(["diagrams", "--run", str(f), "--out", str(out), "--no-svg", "--max-nodes", "5"])
    if code == 2:
        (line,) = err.getvalue().splitlines()
        assert line.startswith(f"ipsecmm diagrams: --run {f}: "), line
    return code


# --------------------------------------------------------------------------- vectors


VECTOR_FILE = ROOT / "vectors" / "mm-fallback-initiator.json"


@FAST
@given(st.data())
@example(None)
def test_vector_loader_is_total_and_what_it_loads_runs(tmp_path_factory, data):
    base = json.loads(VECTOR_FILE.read_text())
    if data is None:  # explicit cases first: each was taken before, and blamed on the implementation
        step = next(st for t in base["testGroups"][0]["tests"] for st in t["steps"] if "sa" in st["input"])
        step["input"]["sa"] = "mail"
        docs = [base]
    else:
        docs = [mutated(data, base, json_ok=True, steps=3)]
    work = tmp_path_factory.mktemp("vec")
    for doc in docs:
        f = work / VECTOR_FILE.name
        try:
            f.write_text(json.dumps(doc), encoding="utf-8", errors="surrogatepass")
        except (ValueError, RecursionError):
            f.write_text("[" * 3000 + "]" * 3000)
        try:
            cases = load_file(f)
        except VectorFileError as exc:
            one_line(exc, str(f))
            continue
        assert data is not None, "an explicit bad case was accepted"
        adapter = ReferenceAdapter()
        for case in cases:
            mm = run_case(adapter, case)
            assert mm is None or mm.what != "error", mm.render()
