"""The review report: one self-contained HTML page and its Markdown twin.

Design
======

``ipsecmm report`` runs the checker once, then renders.  Rendering
(:func:`build`) is a pure function of the :class:`Report`, the findings text,
the vector coverage document and the machine diagrams, so the same inputs
give the same bytes; everything is iterated in registry or given order.  The
one thing a rebuild changes is how long the engines took, so the seconds live
in one section of their own (and ``--no-timings`` leaves it out, which is how
two builds are compared).

The page must open offline, from a mail attachment or an archived CI
artefact: there is no script and no external asset.  CSS is inline; the
machine diagrams are Graphviz's SVG, inlined; every witness and
counterexample is drawn as a hand-written SVG sequence chart (see
``_diagrams``) next to its step table (``Run.table()``).  The Markdown
version carries the same matrix and the runs as Mermaid ``sequenceDiagram``
blocks (``Run.mermaid()``), which code review tools render.

Findings (``docs/findings.md``) and the vector coverage
(``vectors/coverage/mm.json``) are written by other parts of the project and may
not exist yet; the report says so instead of failing.  Findings are Markdown,
turned into HTML by a small converter for the subset such notes use
(headings, paragraphs, lists, tables, code, emphasis, links); anything else
stays as escaped text.
"""

from __future__ import annotations

import argparse
import html
import json
import re
import textwrap
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ipsecmm._files import Output
from ipsecmm.model import PROFILE_NAMES, Role, Scenario
from ipsecmm.model import _render as render
from ipsecmm.properties import REGISTRY, REPRODUCED, REPRODUCED_MEANING, Report, Requirement, Run, Verdict, reproduced

from . import _diagrams as D

STATUSES = ("proved", "holds", "violated", "inconclusive", "not-applicable")
STATUS_TEXT = {"proved": "proved", "holds": "holds", "violated": "violated", "inconclusive": "inconclusive",
               "not-applicable": "n/a"}
STATUS_COLOUR = {"proved": "#68d391", "holds": "#c6f6d5", "violated": "#feb2b2", "inconclusive": "#fbd38d",
                 "not-applicable": "#e2e8f0"}
STATUS_MEANING = {
    "proved": "z3 induction: holds in every reachable state for the scenario's sizes",
    "holds": "no counterexample in the exhaustive search (or every goal has a witness)",
    "violated": "a run shows it fails (or a goal is unreachable)",
    "inconclusive": "a search was cut short or the engines disagree: not a pass",
    "not-applicable": "the profile cannot express it",
}

ROOT = Path(__file__).resolve().parent.parent
TIMING_KEYS = frozenset({"seconds", "relation_seconds", "states_per_second"})


class ReportError(Exception):
    """A report cannot be built from these inputs (reported on one line)."""


@dataclass(frozen=True)
class Attachment:
    """A document from elsewhere in the project: where it was looked for,
    and its content when it exists."""

    shown: str
    content: Any = None
    present: bool = False


@dataclass
class Page:
    html: str
    markdown: str
    runs: int = 0  # witnesses and counterexamples shown


# --------------------------------------------------------------------------- inputs


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def read_findings(path: Path | None) -> Attachment:
    """The findings notes: absent is normal at the default place, an error
    when the user named a file."""
    if path is not None and not path.is_file():
        raise ReportError(f"--findings {path}: no such file")
    path = path if path is not None else ROOT / "docs" / "findings.md"
    if not path.is_file():
        return Attachment(_shown(path))
    try:
        return Attachment(_shown(path), path.read_text(encoding="utf-8"), present=True)
    except (OSError, UnicodeDecodeError) as exc:
        raise ReportError(f"{path}: cannot read it ({exc})") from None


def read_coverage(vectors: Path | None) -> Attachment:
    """The coverage of the vectors directory's ``mm`` vectors, when they exist."""
    from ._vectors import coverage_file

    if vectors is not None and not vectors.is_dir():
        raise ReportError(f"--vectors {vectors}: no such directory")
    path = (vectors if vectors is not None else ROOT / "vectors") / coverage_file("mm")
    if not path.is_file():
        return Attachment(_shown(path))
    try:
        return Attachment(_shown(path), json.loads(path.read_text(encoding="utf-8")), present=True)
    except (OSError, UnicodeDecodeError) as exc:
        raise ReportError(f"{path}: cannot read it ({exc})") from None
    except json.JSONDecodeError as exc:
        raise ReportError(f"{path}: not JSON ({exc.msg}, line {exc.lineno})") from None


def machine_svgs(report: Report) -> dict[tuple[str, Role], str]:
    """Each checked profile's two machines, as inline SVG elements."""
    keys = [(pr.profile, role) for pr in report.profiles for role in Role]
    # Cells link to the rows listed under each figure (_machines_html).
    dots = [D.profile_machine_dot(p, role, report.scenario, table=f"#{anchor(D.machine_name(p, role))}-")
            for p, role in keys]
    try:
        return {k: D.inline_svg(svg) for k, svg in zip(keys, D.to_svgs(dots), strict=True)}
    except D.DiagramError as exc:
        raise ReportError(str(exc)) from None


# --------------------------------------------------------------------------- helpers


def e(text: Any) -> str:
    return html.escape(str(text), quote=True)


#: An id usable in HTML and in CSS selectors (requirement IDs contain dots).
anchor = D.css_id


def md_anchor(heading: str) -> str:
    """The anchor GitHub and GitLab give a Markdown heading."""
    return re.sub(r"[^a-z0-9 _-]", "", heading.lower()).replace(" ", "-")


def status_text(v: Verdict, r: Requirement | None = None) -> str:
    """A verdict as its cell reads; ``r``: the requirement, whose kind may
    change the word (a finding that holds was reproduced)."""
    text = REPRODUCED if r is not None and reproduced(r, v) else STATUS_TEXT[v.status]
    return text + (" (vacuous)" if v.vacuous else "") + (" (declared)" if v.declared else "")


def verdict_of(report: Report, rid: str, profile: str) -> Verdict | None:
    for pr in report.profiles:
        if pr.profile == profile:
            return pr.verdicts.get(rid)
    return None


def _requirements(report: Report) -> list[Requirement]:
    return [r for r in REGISTRY if any(r.id in pr.verdicts for pr in report.profiles)]


def _options(report: Report) -> str:
    o = report.scenario.options
    return ", ".join(f"{k}={str(v).lower() if isinstance(v, bool) else v}" for k, v in sorted(vars(o).items()))


def _bounds(report: Report) -> str:
    b = report.scenario.bounds
    parts = [f"{k}={v}" for k, v in sorted(vars(b).items()) if k != "actions"]
    if b.actions:
        parts.append("actions=" + ",".join(a.name.lower() for a in b.actions))
    return ", ".join(parts)


def strip_timings(doc: Any) -> Any:
    """``doc`` without the keys that hold durations (for reproducible JSON)."""
    if isinstance(doc, dict):
        return {k: strip_timings(v) for k, v in doc.items() if k not in TIMING_KEYS}
    if isinstance(doc, list):
        return [strip_timings(v) for v in doc]
    return doc


# --------------------------------------------------------------------------- Markdown to HTML (findings)

_INLINE = re.compile(r"`([^`]+)`|\*\*([^*]+)\*\*|(?<![\w*])\*([^*\s][^*]*)\*|(?<!\w)_([^_\s][^_]*)_(?!\w)"
                     r"|\[([^\]]+)\]\(([^)\s]+)\)")


_ESCAPED = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|<>])")
_PUA = 0xE000  # escaped characters hide in the private use area while the inline rules run


def _protect(text: str) -> str:
    """Backslash escapes, outside code spans, as private-use characters."""
    parts = re.split(r"(`[^`]+`)", text)
    return "".join(part if part.startswith("`") and len(part) > 1 else
                   _ESCAPED.sub(lambda m: chr(_PUA + ord(m.group(1))), part) for part in parts)


def _restore(text: str) -> str:
    return re.sub("[\ue000-\ue0ff]", lambda m: e(chr(ord(m.group()) - _PUA)), text)


def inline_md(text: str) -> str:
    """Inline Markdown (code, strong, emphasis, links, backslash escapes) as HTML."""
    return _restore(_inline(_protect(text)))


def _inline(text: str) -> str:
    out, pos = [], 0
    for m in _INLINE.finditer(text):
        out.append(e(text[pos:m.start()]))
        code, bold, em1, em2, label, href = m.groups()
        if code is not None:
            out.append(f"<code>{e(code)}</code>")
        elif bold is not None:
            out.append(f"<strong>{_inline(bold)}</strong>")
        elif em1 is not None or em2 is not None:
            out.append(f"<em>{_inline(em1 if em1 is not None else em2)}</em>")
        elif re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", href) and not href.startswith(("http:", "https:", "mailto:")):
            out.append(_inline(label))  # a script or data URL has no business in a report
        else:
            out.append(f'<a href="{e(href)}">{_inline(label)}</a>')
        pos = m.end()
    out.append(e(text[pos:]))
    return "".join(out)


def _cells(line: str) -> list[str]:
    line = line.strip()
    if line.startswith("|"):
        line = line[1:]
    if line.endswith("|"):
        line = line[:-1]
    return [c.strip() for c in line.split("|")]


_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")
_ITEM = re.compile(r"^(\s*)([-*+]|\d+[.)])\s+(.*)$")


def markdown_to_html(text: str, shift: int = 2) -> str:
    """The Markdown subset of project notes, as HTML; headings moved down
    ``shift`` levels so that they nest under the report's own."""
    lines = text.splitlines()
    out: list[str] = []
    para: list[str] = []
    i = 0

    def flush() -> None:
        if para:
            out.append(f"<p>{inline_md(' '.join(s.strip() for s in para))}</p>")
            para.clear()

    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if stripped.startswith("```"):
            flush()
            lang = stripped[3:].strip()
            body = []
            i += 1
            while i < len(lines) and not lines[i].strip().startswith("```"):
                body.append(lines[i])
                i += 1
            cls = f' class="language-{e(lang)}"' if lang else ""
            out.append(f"<pre><code{cls}>{e(chr(10).join(body))}</code></pre>")
            i += 1
            continue
        heading = re.match(r"^(#{1,6})\s+(.*?)\s*#*\s*$", line)
        if heading:
            flush()
            level = min(len(heading.group(1)) + shift, 6)
            out.append(f"<h{level}>{inline_md(heading.group(2))}</h{level}>")
            i += 1
            continue
        if not stripped:
            flush()
            i += 1
            continue
        if re.match(r"^(-{3,}|\*{3,}|_{3,})$", stripped):
            flush()
            out.append("<hr>")
            i += 1
            continue
        if "|" in line and i + 1 < len(lines) and _TABLE_RULE.match(lines[i + 1]):
            flush()
            head = _cells(line)
            rows = []
            i += 2
            while i < len(lines) and "|" in lines[i] and lines[i].strip():
                rows.append(_cells(lines[i]))
                i += 1
            out.append("<table class=\"md\"><thead><tr>" + "".join(f"<th>{inline_md(c)}</th>" for c in head)
                       + "</tr></thead><tbody>"
                       + "".join("<tr>" + "".join(f"<td>{inline_md(c)}</td>" for c in r) + "</tr>" for r in rows)
                       + "</tbody></table>")
            continue
        if stripped.startswith(">"):
            flush()
            quote = []
            while i < len(lines) and lines[i].strip().startswith(">"):
                quote.append(lines[i].strip()[1:].lstrip())
                i += 1
            out.append(f"<blockquote>{markdown_to_html(chr(10).join(quote), shift)}</blockquote>")
            continue
        item = _ITEM.match(line)
        if item:
            flush()
            html_list, i = _list_html(lines, i, shift)
            out.append(html_list)
            continue
        para.append(line)
        i += 1
    flush()
    return "\n".join(out)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


def _list_html(lines: list[str], i: int, shift: int) -> tuple[str, int]:
    """The list starting at line ``i``, and the line after it.  An item owns
    the lines indented deeper than its marker, blank lines between them
    included, so paragraphs, code blocks and sublists nest inside it."""
    first = _ITEM.match(lines[i])
    assert first is not None
    base = _indent(lines[i])
    ordered = first.group(2)[0].isdigit()
    items: list[list[str]] = []
    while i < len(lines):
        line = lines[i]
        m = _ITEM.match(line)
        if m and _indent(line) <= base:
            items.append([m.group(3)])
        elif line.strip() and _indent(line) > base:
            items[-1].append(line)
        elif not line.strip():
            j = i
            while j < len(lines) and not lines[j].strip():
                j += 1
            if j == len(lines) or (_indent(lines[j]) <= base and not _ITEM.match(lines[j])):
                break  # the list ends at this blank line
            items[-1].append("")
        else:
            break
        i += 1
    rendered = []
    for head, *rest in items:
        body = markdown_to_html("\n".join([head, textwrap.dedent("\n".join(rest))]), shift)
        tight = re.fullmatch(r"<p>(.*?)</p>", body, re.S)
        rendered.append(f"<li>{tight.group(1) if tight and '<p>' not in tight.group(1) else body}</li>")
    tag = "ol" if ordered else "ul"
    return f"<{tag}>{''.join(rendered)}</{tag}>", i


def shift_markdown(text: str, shift: int = 2) -> str:
    """Markdown with its headings moved down, for inclusion under our own."""
    out, fenced = [], False
    for line in text.splitlines():
        if line.strip().startswith("```"):
            fenced = not fenced
        if not fenced and re.match(r"^#{1,6}\s", line):
            hashes = len(line) - len(line.lstrip("#"))
            line = "#" * min(hashes + shift, 6) + line[hashes:]
        out.append(line)
    return "\n".join(out)


# --------------------------------------------------------------------------- JSON (coverage) to HTML


def json_html(value: Any, depth: int = 0) -> str:
    """A JSON document as nested tables: generic, since the vector
    generator owns the format of its coverage file."""
    if isinstance(value, dict):
        if not value:
            return "<em>empty</em>"
        rows = "".join(f"<tr><th>{e(k)}</th><td>{json_html(v, depth + 1)}</td></tr>" for k, v in value.items())
        return f'<table class="json">{rows}</table>'
    if isinstance(value, list):
        if all(not isinstance(v, (dict, list)) for v in value):
            return e(", ".join(_scalar(v) for v in value)) if value else "<em>none</em>"
        if all(isinstance(v, dict) for v in value):
            cols: list[str] = []
            for v in value:
                cols += [k for k in v if k not in cols]
            head = "".join(f"<th>{e(c)}</th>" for c in cols)
            body = "".join("<tr>" + "".join(f"<td>{json_html(v.get(c, ''), depth + 1)}</td>" for c in cols) + "</tr>"
                           for v in value)
            return f'<table class="json"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
        return "<ol>" + "".join(f"<li>{json_html(v, depth + 1)}</li>" for v in value) + "</ol>"
    return e(_scalar(value))


def _scalar(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


# --------------------------------------------------------------------------- HTML

CSS = """
:root { --fg:#1a202c; --muted:#4a5568; --line:#cbd5e0; }
* { box-sizing: border-box; }
body { font: 14px/1.45 "DejaVu Sans", "Liberation Sans", Helvetica, Arial, sans-serif; color: var(--fg);
       margin: 0 auto; padding: 16px 24px 48px; max-width: 1500px; background: #ffffff; }
h1 { font-size: 24px; margin: 8px 0 4px; }
h2 { font-size: 20px; margin: 32px 0 8px; padding-bottom: 4px; border-bottom: 2px solid var(--line); }
h3 { font-size: 16px; margin: 24px 0 6px; }
h4, h5, h6 { font-size: 14px; margin: 16px 0 4px; }
nav a { margin-right: 14px; }
a { color: #2b6cb0; }
code, pre { font-family: "DejaVu Sans Mono", "Liberation Mono", monospace; font-size: 12px; }
pre { background: #f7fafc; border: 1px solid var(--line); padding: 8px; overflow-x: auto; }
.muted { color: var(--muted); }
.headline { font-weight: bold; font-size: 16px; }
table { border-collapse: collapse; }
#matrix th, #matrix td { border: 1px solid #ffffff; padding: 3px 8px; text-align: left; white-space: nowrap; }
#matrix thead th { background: #2d3748; color: #ffffff; }
#matrix tbody th { background: #edf2f7; font-weight: normal; }
#matrix td.cell { min-width: 10em; }
#matrix td.cell a { color: var(--fg); text-decoration: none; display: block; }
#matrix td.cell a:hover { text-decoration: underline; }
td.vacuous, span.vacuous { outline: 2px dashed #b7791f; outline-offset: -3px; }
td.declared a, span.declared { font-style: italic; }
.legend span.swatch { display: inline-block; padding: 1px 8px; margin: 0 6px 4px 0; border-radius: 3px; }
table.md th, table.md td, table.json th, table.json td, table.stats th, table.stats td
  { border: 1px solid var(--line); padding: 3px 8px; text-align: left; vertical-align: top; }
table.md th, table.json th, table.stats th { background: #edf2f7; }
figure { margin: 12px 0 20px; }
figcaption { font-weight: bold; margin-bottom: 4px; }
figure.machine .drawing { overflow-x: auto; border: 1px solid var(--line); }
figure.machine svg { display: block; }  /* natural size, so that the cells stay readable; the box scrolls */
.chart { overflow-x: auto; }
.verdict { border-left: 6px solid var(--line); padding: 4px 12px; margin: 10px 0 14px; }
.verdict .status { font-weight: bold; padding: 1px 8px; border-radius: 3px; }
.req { border-top: 1px solid var(--line); }
.legend-tables { display: flex; flex-wrap: wrap; gap: 12px 28px; align-items: flex-start; }
.legend-tables caption { text-align: left; font-weight: bold; padding-bottom: 2px; white-space: nowrap; }
details.scenario { margin: 10px 0; }
details.scenario > summary { cursor: pointer; margin-bottom: 6px; }
"""


def _status_css() -> str:
    lines = []
    for st, colour in STATUS_COLOUR.items():
        lines.append(f".st-{st} {{ background: {colour}; }}")
        lines.append(f".verdict.st-{st} {{ background: none; border-left-color: {colour}; }}")
        lines.append(f".verdict.st-{st} .status {{ background: {colour}; }}")
    return "\n".join(lines)


def _matrix_html(report: Report, reqs: Sequence[Requirement]) -> str:
    profiles = [pr.profile for pr in report.profiles]
    head = "<tr><th>requirement</th><th>draft</th><th>kind</th>" + "".join(f"<th>{e(p)}</th>" for p in profiles) + "</tr>"
    rows = []
    for r in reqs:
        cells = []
        for p in profiles:
            v = verdict_of(report, r.id, p)
            if v is None:
                cells.append('<td class="cell missing">-</td>')
                continue
            classes = f"cell st-{v.status}" + (" vacuous" if v.vacuous else "") + (" declared" if v.declared else "")
            title = f"{v.engine}" + (f", {v.bound}" if v.bound else "")
            cells.append(f'<td class="{classes}" data-status="{v.status}" data-vacuous="{str(v.vacuous).lower()}" '
                         f'title="{e(title)}"><a href="#{anchor("v", r.id, p)}">{e(status_text(v, r))}</a></td>')
        rows.append(f'<tr id="{anchor("m", r.id)}"><th scope="row"><a href="#{anchor("req", r.id)}">{e(r.id)}</a></th>'
                    f"<td>{e(r.sections)}</td><td>{e(r.kind)}</td>{''.join(cells)}</tr>")
    counts = []
    for pr in report.profiles:
        tally = {st: 0 for st in STATUSES}
        vac = 0
        for r in reqs:
            v = pr.verdicts.get(r.id)
            if v is not None:
                tally[v.status] += 1
                vac += v.vacuous
        parts = [f"{n} {STATUS_TEXT[st]}" for st, n in tally.items() if n]
        if vac:
            parts.append(f"{vac} vacuous")
        counts.append(f"<li><b>{e(pr.profile)}</b>: {e(', '.join(parts))}</li>")
    legend = "".join(f'<span class="swatch st-{st}" title="{e(STATUS_MEANING[st])}">{e(STATUS_TEXT[st])}</span>'
                     for st in STATUSES)
    legend += (f'<span class="swatch st-holds" title="{e(REPRODUCED_MEANING)}">{e(REPRODUCED)}</span>'
               '<span class="swatch vacuous">vacuous</span><span class="swatch declared">declared</span>')
    return (f'<p class="legend">{legend}<br><span class="muted">A vacuous verdict holds only because its premise '
            "never occurs in the scenario: it does not count as met. A finding (FIND-*) predicts that a reading of "
            "the draft breaks a requirement: for a finding, holds means the problem was reproduced (a run shows "
            f"what the reading leads to), so its cell says <b>{e(REPRODUCED)}</b>. "
            "A <i>declared</i> verdict's evidence passes through a limit the profile only declares (its list of "
            "messages, or a yes/no flag) rather than through behaviour the search derived; its details say which. "
            "Each cell links to its details.</span></p>"
            f'<table id="matrix"><thead>{head}</thead><tbody>{"".join(rows)}</tbody></table>'
            f'<ul class="counts">{"".join(counts)}</ul>')


def _engines_html(report: Report) -> str:
    rows = []
    for pr in report.profiles:
        ex = pr.explore
        z = pr.z3
        explore = (f"{ex.states:,} states, {ex.transitions:,} transitions, depth {ex.max_depth}, "
                   f"deadlocks {ex.deadlocks}" + ("" if ex.complete else f", INCOMPLETE ({ex.stopped})")
                   if ex is not None else "-")
        z3 = "not run"
        if z is not None:
            z3 = f"error: {z.error}" if z.error else f"{z.paths:,} paths, induction proved {len(z.proved)}"
        rows.append(f"<tr><th>{e(pr.profile)}</th><td>{e(explore)}</td><td>{e(z3)}</td></tr>")
    return ('<table class="stats"><thead><tr><th>profile</th><th>explorer (main pass)</th><th>z3</th></tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table>")


def _findings_html(findings: Attachment) -> str:
    if not findings.present:
        return (f'<p class="muted" id="findings-missing">No findings yet: <code>{e(findings.shown)}</code> does not '
                "exist. The requirements marked FIND- in the matrix are the readings the checker examines.</p>")
    return (f'<p class="muted">From <code>{e(findings.shown)}</code>.</p>'
            f'<div class="findings">{markdown_to_html(str(findings.content))}</div>')


def coverage_rows(cov: Any) -> list[tuple[str, str]] | None:
    """The summary lines of a coverage document written by ``ipsecmm vectors``
    (None when it does not have that shape: then only the generic view shows)."""
    from ._vectors import summary_rows

    try:
        return summary_rows(cov)
    except (KeyError, TypeError, AttributeError):
        return None


def _coverage_html(coverage: Attachment) -> str:
    if not coverage.present:
        return (f'<p class="muted" id="coverage-missing">No conformance vectors yet: <code>{e(coverage.shown)}</code> '
                "does not exist.</p>")
    rows = coverage_rows(coverage.content)
    head = f'<p class="muted">From <code>{e(coverage.shown)}</code>.</p>'
    if rows is None:
        return head + f'<div class="coverage">{json_html(coverage.content)}</div>'
    summary = "".join(f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in rows)
    return (head + f'<table class="json" id="coverage-summary">{summary}</table>'
            f'<details><summary>Everything in the coverage file, with the reason for each unreachable row</summary>'
            f'<div class="coverage">{json_html(coverage.content)}</div></details>')


def _machines_html(report: Report, svgs: dict[tuple[str, Role], str]) -> str:
    out = ['<p class="muted">Drawn from the transition tables (<code>model/_machines.py</code>) under the '
           "scenario's options. A box per state: its inputs across (inputs that do the same share a column), its "
           "checks down in the order they are made, and in each cell what that row does when its check is the "
           "first that holds; arrows are the rows that change the state. A dashed state is one no row enters. "
           "Every cell links to its row in the table under the figure, which lists every row with the "
           "requirements it serves.</p>"]
    for pr in report.profiles:
        for role in Role:
            name = D.machine_name(pr.profile, role)
            rows = D.table_rows(pr.profile, role, report.scenario)
            head = "".join(f"<th>{e(c)}</th>" for c in D.TABLE_HEAD)
            body = "".join(f'<tr id="{anchor(name)}-row{cells[0]}">' + "".join(f"<td>{e(c)}</td>" for c in cells)
                           + "</tr>" for cells in D.machine_table(rows, role))
            out.append(f'<figure class="machine" id="{anchor("fig", name)}"><figcaption>{e(pr.profile)}: '
                       f'{e(D.ROLE_NAMES[role])} machine</figcaption><div class="drawing">{svgs[(pr.profile, role)]}</div>'
                       f"<details><summary>every row of the table ({len(rows)})</summary>"
                       f'<table class="md rows"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
                       "</details></figure>")
    return "\n".join(out)


def scenarios_shown(report: Report) -> list[Scenario]:
    """The report's scenario, then every other scenario a run is on (a search
    plan may take another built-in one), once each: the names in their runs
    are explained by their own legend."""
    res: list[Scenario] = []
    keys: list[tuple[str, list[str]]] = []
    runs = [run for r in REGISTRY for pr in report.profiles if (v := pr.verdicts.get(r.id)) for run in v.runs]
    for sc in [report.scenario, *(run.scenario for run in runs)]:
        key = (sc.name, render.legend(sc))
        if key not in keys:
            keys.append(key)
            res.append(sc)
    return res


def legend_anchor(shown: Sequence[Scenario], sc: Scenario) -> str:
    key = render.legend(sc)
    k = next(n for n, x in enumerate(shown) if x.name == sc.name and render.legend(x) == key)
    return anchor("scenario", str(k))


def _table_html(t: render.Table) -> str:
    head = "".join(f"<th>{e(c)}</th>" for c in t.head)
    body = "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>" for row in t.rows)
    return f'<table class="md"><caption>{e(t.caption)}</caption><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _scenarios_html(shown: Sequence[Scenario]) -> str:
    out = ['<p class="muted">What the names in the runs stand for: each scenario\'s addresses and SAs, and what '
           "each peer accepts (its PAD, and its local policy per network).</p>"]
    for k, sc in enumerate(shown):
        # The report's own scenario open, the others (from search plans) folded;
        # a link into a folded one opens it.
        what = "the report's scenario" if k == 0 else "a scenario some runs are on"
        out.append(f'<details class="scenario"{" open" if k == 0 else ""}><summary><b>Scenario {e(sc.name)}</b> '
                   f'<span class="muted">({what}{": " + e(sc.description) if sc.description else ""})</span></summary>'
                   f'<div class="legend-tables" id="{legend_anchor(shown, sc)}">'
                   f'{"".join(_table_html(t) for t in render.scenario_tables(sc))}</div></details>')
    return "\n".join(out)


def _run_html(run: Run, uid: str, run_file: str | None, shown: Sequence[Scenario]) -> str:
    title = e(run.label or "run")
    note = f' <span class="muted">({e(run.note)})</span>' if run.note else ""
    where = (f'<a href="#{legend_anchor(shown, run.scenario)}">scenario {e(run.scenario.name)}</a>, '
             f"profile {e(run.profile)}, {len(run.inputs)} steps")
    if run.mutant:
        where += f", mutant {e(run.mutant)}"
    link = (f' · <a href="{e(run_file)}">replay file</a> · <a href="{e(capture_of(run_file))}">capture</a>'
            if run_file else "")
    return (f'<figure class="run" id="{uid}"><figcaption>{title}{note}</figcaption>'
            f'<p class="muted">{where}{link}</p>'
            f'<div class="chart">{D.sequence_svg(run, uid + "-chart")}</div>'
            f'<pre class="steps">{e(run.table())}</pre></figure>')


def _details_html(report: Report, reqs: Sequence[Requirement], run_files: dict[tuple[str, str], str],
                  shown: Sequence[Scenario]) -> tuple[str, int]:
    out = []
    n_runs = 0
    for r in reqs:
        part = [f'<section class="req" id="{anchor("req", r.id)}"><h3>{e(r.id)} '
                f'<span class="muted">(draft {e(r.sections)}; {e(r.kind)})</span></h3>',
                f"<p>{e(r.summary)}</p>"]
        if r.property:
            part.append(f"<p><b>Property.</b> {e(r.property)}</p>")
        if r.note:
            part.append(f'<p class="muted">{e(r.note)}</p>')
        for pr in report.profiles:
            v = pr.verdicts.get(r.id)
            if v is None:
                continue
            bits = [f'<span class="status">{e(status_text(v, r))}</span> under <b>{e(pr.profile)}</b>',
                    f"engine: {e(v.engine)}"]
            if v.bound:
                bits.append(f"bound: {e(v.bound)}")
            if v.value is not None:
                bits.append(f"value: {e(v.value)}")
            body = [f'<div class="verdict st-{v.status}" id="{anchor("v", r.id, pr.profile)}"><p>{" · ".join(bits)}</p>']
            if v.vacuous:
                body.append('<p><span class="vacuous">vacuous</span> the premise never holds here, so this is not '
                            "evidence that the requirement is met.</p>")
            if v.detail:
                body.append(f"<p>{e(v.detail)}</p>")
            for d in v.declared:
                body.append(f'<p><span class="declared">declared</span> rests on a declared limit: {e(d)}</p>')
            for k, run in enumerate(v.runs, 1):
                body.append(_run_html(run, anchor("run", r.id, pr.profile, str(k)), run_files.get((r.id, pr.profile)),
                                      shown))
                n_runs += 1
            body.append("</div>")
            part.append("".join(body))
        part.append("</section>")
        out.append("\n".join(part))
    return "\n".join(out), n_runs


def _timings_html(report: Report) -> str:
    rows = []
    for pr in report.profiles:
        ex = pr.explore
        z = pr.z3
        rows.append(f"<tr><th>{e(pr.profile)}</th><td>{pr.seconds:.1f} s</td>"
                    f"<td>{'-' if ex is None else f'{ex.seconds:.2f} s'}</td>"
                    f"<td>{'-' if z is None else f'{z.seconds:.1f} s'}</td></tr>")
    slow = sorted(((v.seconds, r.id, pr.profile) for pr in report.profiles for r in REGISTRY
                   if (v := pr.verdicts.get(r.id)) is not None), reverse=True)[:10]
    slow_rows = "".join(f"<tr><th>{e(rid)}</th><td>{e(p)}</td><td>{s:.2f} s</td></tr>" for s, rid, p in slow)
    return (f"<p>The whole check took {report.seconds:.1f} s (wall clock, worker processes in parallel).</p>"
            '<table class="stats"><thead><tr><th>profile</th><th>total</th><th>main exploration</th><th>z3</th>'
            f"</tr></thead><tbody>{''.join(rows)}</tbody></table>"
            '<h3>Slowest verdicts</h3><table class="stats"><thead><tr><th>requirement</th><th>profile</th>'
            f"<th>seconds</th></tr></thead><tbody>{slow_rows}</tbody></table>")


def build(report: Report, findings: Attachment, coverage: Attachment, svgs: dict[tuple[str, Role], str],
          run_files: dict[tuple[str, str], str] | None = None, timings: bool = True) -> Page:
    """The HTML page and the Markdown text of a report."""
    run_files = run_files or {}
    reqs = _requirements(report)
    sc = report.scenario
    profiles = [pr.profile for pr in report.profiles]
    headline = _headline(report)
    shown = scenarios_shown(report)
    details, n_runs = _details_html(report, reqs, run_files, shown)
    nav = [("verdicts", "Verdicts"), ("scenario", "Scenario"), ("findings", "Findings"), ("machines", "Machines"),
           ("details", "Details"), ("vectors", "Vectors")] + ([("timings", "Timings")] if timings else [])
    sections = [
        '<section id="verdicts"><h2>Verdict matrix</h2>' + _matrix_html(report, reqs)
        + "<h3>Engines</h3>" + _engines_html(report) + "</section>",
        '<section id="scenario"><h2>Scenario: what the names stand for</h2>' + _scenarios_html(shown) + "</section>",
        '<section id="findings"><h2>Findings</h2>' + _findings_html(findings) + "</section>",
        '<section id="machines"><h2>Machines</h2>' + _machines_html(report, svgs) + "</section>",
        '<section id="details"><h2>Requirements, verdicts and runs</h2>'
        f'<p class="muted">Every witness and counterexample: its sequence chart, then its step table. '
        f"{n_runs} runs.</p>" + details + "</section>",
        '<section id="vectors"><h2>Conformance vectors</h2>' + _coverage_html(coverage) + "</section>",
    ]
    if timings:
        sections.append('<!-- timings: the only part that differs between two builds -->\n'
                        '<section id="timings"><h2>Timings</h2>' + _timings_html(report) + "</section>")
    page = "\n".join([
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>ipsecmm review: scenario {e(sc.name)}</title>",
        f"<style>{CSS}{_status_css()}</style>",
        "</head>",
        "<body>",
        "<header><h1>IPsec mobility and multihoming: review report</h1>",
        f'<p>Scenario <b>{e(sc.name)}</b> — {e(sc.description)}<br>'
        f'<span class="muted">profiles {e(", ".join(profiles))} · options {e(_options(report))} · '
        f"bounds {e(_bounds(report))}</span></p>",
        f'<p class="headline" id="headline">{e(headline)}</p>',
        "<nav>" + "".join(f'<a href="#{k}">{e(v)}</a>' for k, v in nav) + "</nav></header>",
        "<main>",
        *sections,
        "</main>",
        "</body>",
        "</html>",
    ]) + "\n"
    return Page(page, build_markdown(report, findings, coverage, reqs, run_files, timings), n_runs)


def _headline(report: Report) -> str:
    profiles = [pr.profile for pr in report.profiles]
    if "mm" not in profiles:
        return f"{len(_requirements(report))} requirements checked under {', '.join(profiles)}."
    if report.mm_meets_all():
        return "The mm profile meets every requirement it applies to."
    missed = [r.id for r in REGISTRY if "mm" in r.profiles and (v := verdict_of(report, r.id, "mm")) is not None
              and not v.met]
    return f"The mm profile does NOT meet every requirement: {', '.join(missed)}."


# --------------------------------------------------------------------------- Markdown


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|")


def build_markdown(report: Report, findings: Attachment, coverage: Attachment, reqs: Sequence[Requirement],
                   run_files: dict[tuple[str, str], str], timings: bool) -> str:
    sc = report.scenario
    profiles = [pr.profile for pr in report.profiles]
    out = [
        "# IPsec mobility and multihoming: review report",
        "",
        f"Scenario **{sc.name}**: {sc.description}. Profiles {', '.join(profiles)}; options {_options(report)}; "
        f"bounds {_bounds(report)}.",
        "",
        f"**{_headline(report)}**",
        "",
        "## Verdict matrix",
        "",
        "Statuses: " + "; ".join(f"*{STATUS_TEXT[st]}*: {STATUS_MEANING[st]}" for st in STATUSES)
        + ". *(vacuous)*: the premise never occurs in the scenario, so it does not count as met. "
        + "*(declared)*: the evidence passes through a limit the profile only declares (its messages, a flag). "
        + f"*{REPRODUCED}*: {REPRODUCED_MEANING}.",
        "",
        "| requirement | draft | " + " | ".join(profiles) + " |",
        "|---|---|" + "---|" * len(profiles),
    ]
    for r in reqs:
        cells = []
        for p in profiles:
            v = verdict_of(report, r.id, p)
            if v is None:
                cells.append("-")
            else:
                text = status_text(v, r)
                cells.append(f"**{text}**" if v.status in ("violated", "inconclusive") else text)
        out.append(f"| [{r.id}](#{md_anchor(r.id)}) | {_md_cell(r.sections)} | " + " | ".join(cells) + " |")
    out += ["", "## Scenario: what the names stand for", ""]
    for shown_sc in scenarios_shown(report):
        out += [f"### Scenario {shown_sc.name}", ""]
        for t in render.scenario_tables(shown_sc):
            out += [f"{t.caption}:", "", "| " + " | ".join(t.head) + " |", "|" + "---|" * len(t.head),
                    *("| " + " | ".join(_md_cell(c) for c in row) + " |" for row in t.rows), ""]
    out += ["## Findings", ""]
    if findings.present:
        out += [f"From `{findings.shown}`.", "", shift_markdown(str(findings.content)).rstrip(), ""]
    else:
        out += [f"No findings yet: `{findings.shown}` does not exist.", ""]
    out += ["## Machines", "",
            "The machine diagrams are in the HTML report and in `diagrams/` (`ipsecmm diagrams` draws them), "
            "each with the table of its rows (`diagrams/machine-*.md`).", "",
            "## Requirements, verdicts and runs", ""]
    for r in reqs:
        out += [f"### {r.id}", "", f"Draft {r.sections}; {r.kind}. {r.summary}", ""]
        if r.property:
            out += [f"Property: {r.property}", ""]
        if r.note:
            out += [f"Note: {r.note}", ""]
        for pr in report.profiles:
            v = pr.verdicts.get(r.id)
            if v is None:
                continue
            line = f"- **{pr.profile}**: {status_text(v, r)} ({v.engine}" + (f"; {v.bound}" if v.bound else "") + ")"
            if v.detail:
                line += f". {v.detail}"
            if v.declared:
                line += ". Rests on a declared limit: " + "; ".join(v.declared)
            out.append(line)
            for run in v.runs:
                out += ["", f"  {run.label or 'run'}" + (f" ({run.note})" if run.note else "")
                        + f", [scenario {run.scenario.name}](#{md_anchor(f'Scenario {run.scenario.name}')})"
                        + f", {len(run.inputs)} steps"
                        + (f", replay file `{run_files[(r.id, pr.profile)]}`, capture "
                           f"`{capture_of(run_files[(r.id, pr.profile)])}`" if (r.id, pr.profile) in run_files else "")
                        + ":", ""]
                out += ["  ```mermaid", *("  " + s for s in run.mermaid().splitlines()), "  ```", ""]
                out += ["  ```text", *("  " + s for s in run.table().splitlines()), "  ```", ""]
        out.append("")
    out += ["## Conformance vectors", ""]
    rows = coverage_rows(coverage.content) if coverage.present else None
    if rows is not None:
        out += ["| | |", "|---|---|", *(f"| {k} | {v} |" for k, v in rows), ""]
    if coverage.present:
        out += [f"From `{coverage.shown}`:", "", "```json",
                json.dumps(coverage.content, indent=1, sort_keys=True, ensure_ascii=False), "```", ""]
    else:
        out += [f"No conformance vectors yet: `{coverage.shown}` does not exist.", ""]
    if timings:
        out += ["## Timings", "", f"The whole check took {report.seconds:.1f} s.", "",
                "| profile | total | main exploration | z3 |", "|---|---|---|---|"]
        for pr in report.profiles:
            out.append(f"| {pr.profile} | {pr.seconds:.1f} s | "
                       f"{'-' if pr.explore is None else f'{pr.explore.seconds:.2f} s'} | "
                       f"{'-' if pr.z3 is None else f'{pr.z3.seconds:.1f} s'} |")
        out.append("")
    return "\n".join(out).rstrip() + "\n"


# --------------------------------------------------------------------------- the verb


@dataclass
class Built:
    page: Page
    files: list[Path]
    check_seconds: float
    render_seconds: float


def run_check(sc: Scenario, profiles: Iterable[str], z3: bool, jobs: int) -> Report:
    from ipsecmm._progress import terminal_progress
    from ipsecmm.properties import Checker

    with terminal_progress() as progress:
        return Checker(sc, progress, z3_engine=z3, depth=0).run(list(profiles), jobs=jobs)


REPORT_OWNER = "report"


def write(report: Report, out: Path | Output, findings: Attachment, coverage: Attachment,
          timings: bool = True) -> Built:
    """Render a checked report into ``out`` (a directory, or an output the
    caller opened before the check): report.html, report.md, report.json and
    the runs (runs/*.json, *.itf.json)."""
    if not isinstance(out, Output):
        with Output(out, [REPORT_OWNER], "ipsecmm report") as opened:
            return write(report, opened, findings, coverage, timings)
    from ipsecmm.cli import report_json, save_runs
    from ipsecmm.properties import dump

    t = time.perf_counter()
    relative = save_runs(report, out, "runs", REPORT_OWNER)
    write_captures(report, out, relative)
    page = build(report, findings, coverage, machine_svgs(report), relative, timings)
    doc = report_json(report, relative)
    if not timings:
        doc = strip_timings(doc)
    files = [out.write("report.html", page.html), out.write("report.md", page.markdown),
             out.write("report.json", dump(doc))]
    return Built(page, files, report.seconds, time.perf_counter() - t)


def capture_of(run_file: str) -> str:
    """Where the capture of a run file is: beside it (``ipsecmm pcap`` names it so)."""
    return run_file.removesuffix(".json") + ".pcap"


def write_captures(report: Report, out: Output, run_files: dict[tuple[str, str], str]) -> None:
    """A capture (and its key table) beside each run file."""
    from ._cli_pcap import runs_capture

    for pr in report.profiles:
        for rid, v in pr.verdicts.items():
            if (rid, pr.profile) in run_files:
                pcap = capture_of(run_files[(rid, pr.profile)])
                built = runs_capture(v.runs)
                out.write(pcap, built.capture, REPORT_OWNER)
                out.write(pcap.removesuffix(".pcap") + ".ikev2_decryption_table",
                          "".join(row + "\n" for row in built.table), REPORT_OWNER)


def main(args: argparse.Namespace) -> int:
    from ipsecmm._files import command_line
    from ipsecmm.cli import load

    sc = load(args)
    profiles = args.profile or list(PROFILE_NAMES)
    findings = read_findings(args.findings)
    coverage = read_coverage(args.vectors)
    started = time.perf_counter()
    with Output(args.out, [REPORT_OWNER], command_line(args), force=args.force) as out:
        report = run_check(sc, profiles, not args.no_z3, args.jobs)
        built = write(report, out, findings, coverage, timings=not args.no_timings)
    total = time.perf_counter() - started
    print(f"wrote {args.out}/report.html, report.md, report.json and {built.page.runs} runs "
          f"(check {built.check_seconds:.1f}s, rendering {built.render_seconds:.1f}s, total {total:.1f}s)")
    return 0
