"""docs/encoding.md stays true to the codec: every type with its value, every requirement with its payload."""

from __future__ import annotations

import re
from pathlib import Path

from ipsecmm.properties import REGISTRY
from ipsecmm.wire import NOTIFY_TYPES

DOC = (Path(__file__).resolve().parent.parent / "docs" / "encoding.md").read_text(encoding="utf-8")


def _section(title: str) -> str:
    start = DOC.index(title)
    nxt = DOC.find("\n## ", start + 1)
    return DOC[start: nxt if nxt >= 0 else len(DOC)]


def _rows(text: str) -> dict[str, str]:
    found = {m.group(1): m.group(2) for m in re.finditer(r"^\| ([^|]+?) \| ([^|]+?) \|", text, re.M)}
    return {k: v for k, v in found.items() if not k.startswith("---")}


def test_every_type_of_the_extension_is_in_the_iana_tables_with_its_value():
    rows = _rows(_section("## 5. IANA considerations"))
    table = {int(v): name for v, name in rows.items() if v.isdigit()}
    extension = {v: n for v, n in table.items() if n.startswith("MM_")}
    assert extension == NOTIFY_TYPES
    for value in extension:
        assert 8192 <= value <= 16383 or 40960 <= value <= 65535


def test_every_requirement_has_a_payload():
    rows = _rows(_section("## 7. Which payload carries each requirement"))
    assert set(rows) - {"requirement"} == {r.id for r in REGISTRY}
    assert all(len(text) > 8 for text in rows.values())
