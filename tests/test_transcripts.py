"""The command transcripts of the docs are the commands' real output."""

from __future__ import annotations

import importlib.util
import sys

import pytest

from conftest import ROOT

spec = importlib.util.spec_from_file_location("transcripts", ROOT / "scripts" / "transcripts.py")
assert spec is not None and spec.loader is not None
transcripts = importlib.util.module_from_spec(spec)
sys.modules["transcripts"] = transcripts
spec.loader.exec_module(transcripts)

FINDINGS = ROOT / "docs" / "findings.md"
BLOCKS = list(transcripts.blocks(FINDINGS.read_text(encoding="utf-8")))


def test_the_findings_quote_commands():
    assert len(BLOCKS) >= 7


@pytest.mark.parametrize("block", BLOCKS, ids=lambda m: "-".join(m.group(2).split()[2:4]))
def test_a_transcript_is_the_output_of_its_command(block):
    indent, command, said = block.group(1), block.group(2), block.group(3)
    real = "".join(indent + line if line.strip() else line for line in transcripts.run(command).splitlines(keepends=True))
    assert real == said, f"rerun: python scripts/transcripts.py --write docs/findings.md ({command})"


def test_a_stale_transcript_is_found_and_rewritten():
    text = "intro\n```\n$ ipsecmm requirements\nnot what it prints\n```\nafter\n"
    new, diffs = transcripts.refresh(text)
    assert len(diffs) == 1 and "not what it prints" in diffs[0]
    assert new.startswith("intro\n```\n$ ipsecmm requirements\nid ") and new.endswith("```\nafter\n")
    assert transcripts.refresh(new)[1] == []
