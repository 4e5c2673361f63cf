"""docs/conformance.md lists exactly what the vectors use: actions and their
fields, message fields, kinds with their notify, snapshot keys, the seeded
faults.  Each list is read from the document and compared with the code and the
schema, so that the document cannot drift from the tool again."""

from __future__ import annotations

import re

import pytest

from ipsecmm.gen._conformance import schema
from ipsecmm.gen._vectors import SCHEMA_ID, message
from ipsecmm.model import InKind, Input, Kind, Model, Msg, default_scenario
from ipsecmm.model._scenario import ACTION_NAMES
from ipsecmm.properties import MUTANTS, input_json

import faults
from conftest import ROOT

DOC = (ROOT / "docs" / "conformance.md").read_text(encoding="utf-8")
PROSE = " ".join(DOC.split())  # line breaks of the Markdown source do not matter to a phrase


def section(title: str) -> str:
    start = DOC.index(f"\n### {title}\n")
    end = DOC.find("\n#", start + 1)
    return DOC[start:end if end > 0 else None]


def first_column(text: str) -> list[str]:
    """The backticked names of the first column of the tables in ``text``
    (both halves of a two-column-pair table)."""
    names = []
    for line in text.splitlines():
        if not line.startswith("| `"):
            continue
        cells = [c.strip() for c in line.strip("|").split("|")]
        for k in (0, 3) if len(cells) >= 5 else (0,):
            names += re.findall(r"`([^`]+)`", cells[k])
    return names


def test_every_action_is_listed_with_the_fields_it_takes():
    rows = {line.split("|")[1].strip().strip("`"): line.split("|")[2]
            for line in section("Actions").splitlines() if line.startswith("| `")}
    assert sorted(rows) == sorted(ACTION_NAMES)
    m = Model(default_scenario(), "mm")
    for x in m.alphabet[0]:
        d = input_json(m, Input(InKind.ACT, 0, 0, x))
        for field in set(d) - {"input", "peer", "action"}:
            assert f"`{field}`" in rows[d["action"]], (d["action"], field)
    assert set(schema()["$defs"]["action"]["properties"]) - {"action"} == {"sa", "old", "new", "addrs"}


def test_every_message_field_of_the_schema_is_listed():
    listed = first_column(section("Messages").split("| kind | notify |", 1)[0])
    fields = [f for cell in listed for f in re.split(r"`, `", cell)]
    assert sorted(set(fields)) == sorted(schema()["$defs"]["message"]["properties"])


@pytest.mark.parametrize("kind", [k for k in Kind if k != Kind.EMPTY], ids=lambda k: k.name)
def test_every_kind_is_listed_with_its_notify(kind):
    m = Model(default_scenario(), "mm")
    notify = message(m, Msg(kind=kind))["notify"]
    table = section("Messages").split("| kind | notify |", 1)[1]
    assert f"| `{kind.name}` | `{notify}` |" in table
    if kind == Kind.CREATE:
        assert message(m, Msg(kind=kind))["exchange"] == "CREATE_CHILD_SA" and "`CREATE_CHILD_SA` for kind `CREATE`" in PROSE


def test_the_kinds_table_lists_no_other_kind():
    table = section("Messages").split("| kind | notify |", 1)[1]
    kinds = [n for line in table.splitlines() if line.startswith("| `")
             for n in (line.split("|")[1], line.split("|")[4]) if n.strip()]
    assert sorted(n.strip().strip("`") for n in kinds) == sorted(k.name for k in Kind if k != Kind.EMPTY)


def test_every_snapshot_key_is_listed():
    listed = [n for cell in first_column(section("Snapshots")) for n in re.split(r"`, `", cell)]
    sa = schema()["$defs"]["sa"]
    assert sorted(listed) == sorted(sa["properties"])
    assert sorted(sa["properties"]["spd"]["properties"]) == ["i", "r"] and '`{"i": [...], "r": [...]}`' in DOC


def test_steps_actors_timers_and_network_inputs_are_described_and_result_is_defined():
    assert "cached answer to a request delivered again" in PROSE and "an unchanged SAD" in PROSE
    step = schema()["$defs"]["step"]
    for actor in step["properties"]["actor"]["enum"]:
        assert f"| `{actor}` |" in DOC, actor
    timers = next(s["then"]["properties"]["input"]["properties"]["timer"]["enum"] for s in step["allOf"]
                  if s["if"]["properties"]["actor"]["const"] == "timer")
    assert all(f'"{t}"' in DOC for t in timers)
    assert '`{"interface": ip, "up": bool}`' in DOC and '`{"dead": [ip, ...]}`' in DOC


def test_the_seeded_faults_are_counted_as_the_code_has_them():
    assert f"runs the {len(MUTANTS)} seeded model mutants" in PROSE
    assert f"{len(faults.FAULTS)} factories in all" in PROSE
    assert "which is not installed with the package" in PROSE
    for name in ("never_retransmits", "answer_next_id"):
        assert name in faults.FAULTS
    assert "--sut tests/faults.py:never_retransmits" in DOC


def test_the_doc_says_how_an_adapter_is_found_and_what_a_vector_file_is():
    assert SCHEMA_ID in DOC
    assert "PYTHONPATH" in DOC and "path/to/my_adapter.py:FACTORY" in DOC
    assert "held request's message ID" in PROSE
