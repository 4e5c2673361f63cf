"""Keep the command transcripts of the docs true: run them and compare.

A transcript is a fenced code block whose first line is ``$ ipsecmm ...``;
the rest of the block is that command's standard output, verbatim.

    python scripts/transcripts.py docs/findings.md            # check: exit 1 and a diff when one differs
    python scripts/transcripts.py --write docs/findings.md    # replace every transcript by the real output

The test suite runs the check (tests/test_transcripts.py).
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import io
import re
import shlex
import sys
from collections.abc import Iterator
from pathlib import Path

# A fenced block, possibly indented (inside a list item), whose first line is
# the command; the output lines carry the block's indentation.
BLOCK = re.compile(r"^( *)```[a-z]*\n\1\$ (ipsecmm [^\n]*)\n(.*?)^\1```$", re.M | re.S)


def blocks(text: str) -> Iterator[re.Match[str]]:
    return BLOCK.finditer(text)


def run(command: str) -> str:
    """The standard output of ``command`` (an ``ipsecmm ...`` line), run in-process."""
    from ipsecmm.cli import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(shlex.split(command)[1:])
    if code not in (0, 1):
        raise SystemExit(f"{command}: exit {code}")
    return out.getvalue()


def refresh(text: str) -> tuple[str, list[str]]:
    """``text`` with every transcript's output replaced by the real one, and
    a diff for each transcript that was not already true."""
    diffs: list[str] = []
    pieces: list[str] = []
    last = 0
    for m in blocks(text):
        indent, command, said = m.group(1), m.group(2), m.group(3)
        real = "".join(indent + line if line.strip() else line for line in run(command).splitlines(keepends=True))
        if real != said:
            diffs.append("\n".join(difflib.unified_diff(said.splitlines(), real.splitlines(),
                                                         f"{command} (in the document)", "(its output now)",
                                                         lineterm="")))
        pieces += [text[last:m.start(3)], real]
        last = m.end(3)
    pieces.append(text[last:])
    return "".join(pieces), diffs


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--write", action="store_true", help="rewrite the transcripts in place")
    p.add_argument("files", nargs="+", type=Path)
    args = p.parse_args(argv)
    stale = 0
    for path in args.files:
        text = path.read_text(encoding="utf-8")
        new, diffs = refresh(text)
        if args.write and new != text:
            path.write_text(new, encoding="utf-8")
            print(f"{path}: {len(diffs)} transcript(s) rewritten")
        elif diffs:
            stale += len(diffs)
            print("\n\n".join(diffs))
    if stale and not args.write:
        print(f"{stale} transcript(s) differ from the commands' output; rerun with --write", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
