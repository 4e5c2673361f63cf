"""Diagrams drawn from the model: machines, runs and the reachable state graph.

Design
======

Everything here is *derived*: a machine diagram is the transition table of a
role under a profile (``Model.rows_list``) and nothing else, so a diagram
cannot disagree with the tables without a test noticing (the committed copies
in ``diagrams/`` are compared with a fresh rendering).  The text is DOT, built
by hand rather than through a library so that its layout is stable and every
piece of it sorted; Graphviz's ``dot`` only turns it into SVG.

Machines.  A table has far more rows than a reader can follow as arrows
(168 for the mm responder, most of them checks that refuse and stay in
READY), and the rows of one input repeat the same checks in the same order.
So each state is a box holding a matrix: its inputs across (inputs whose rows
read alike share a column), the checks down in the order they are made, and
in each cell what that row does; the column of an input is its chain of
checks.  Only rows that change the state are also arrows, one per source,
destination and inputs that read alike.  Every cell (with the id
``<diagram>-r<k>``, ``k`` the row's index in the table) and arrow carries its
rows' text as a tooltip and links to them in the table drawn next to the SVG
(``<diagram>.md``, every row with its requirements), so nothing of a row is
left out of the drawing's reach.

Runs.  A run is replayed on the compiled dispatcher with a recording ``fire``
function, which notes the first row whose guard holds at every step (the
tables' first-match rule, as in ``Model.fire``), so a run can be drawn as a
highlighted path over the machine diagrams.  Its message sequence chart is
hand-written SVG, laid out from text lengths in a monospace font, so it is a
pure function of the run (Graphviz has no sequence layout).  The Mermaid
version is ``Run.mermaid()``.

State graphs.  The explorer's graph can be drawn around a state (k hops) or
along a run.  Past a node cap it is not handed to Graphviz: it is summarised
by clusters of states that share the machines' states and the number of
messages in flight, which stays small whatever the scenario.
"""

from __future__ import annotations

import html
import re
import shutil
import subprocess
import textwrap
from collections import Counter, deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from itertools import pairwise
from pathlib import Path

from ipsecmm._files import Output, scenario_in_file
from ipsecmm.model import (
    PROFILE_NAMES,
    InKind,
    Input,
    IState,
    Kind,
    MInput,
    Model,
    Options,
    PeerState,
    Role,
    Row,
    RState,
    Scenario,
    World,
    get_profile,
)
from ipsecmm.model import _render as render
from ipsecmm.model._machines import Out, Result, initiator_rows, responder_rows
from ipsecmm.properties import Explorer, ExploreStats, Run

PEERS = ("I", "R")
ROLE_NAMES = {Role.INITIATOR: "initiator", Role.RESPONDER: "responder"}
STATES: dict[Role, type[IntEnum]] = {Role.INITIATOR: IState, Role.RESPONDER: RState}

#: Past this many nodes a state graph is summarised instead of drawn.
MAX_NODES = 300

FIRED = "#c53030"
INK = "#1a202c"  # text and message arrows
FIRED_FILL = "#fed7d7"
STATE_FILL = "#ebf4ff"
UNREACHED_FILL = "#f7fafc"


class DiagramError(Exception):
    """Input the diagrams cannot be drawn from (reported on one line)."""


# --------------------------------------------------------------------------- DOT text


def q(text: str) -> str:
    """A DOT double-quoted string."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def h(text: str) -> str:
    """Text inside a Graphviz HTML-like label, or inside SVG."""
    return html.escape(text, quote=True)


def css_id(*parts: str) -> str:
    """An id for SVG and HTML that a CSS selector can name as it is.  Names
    come from file stems and requirement IDs (``run-INV-RR.ikev2-1``,
    ``FIND-4.1-ORDER``), where a dot would read as a class in ``#id .x``: only
    letters, digits, '-' and '_' are kept, and the id starts with a letter."""
    text = re.sub(r"[^A-Za-z0-9_-]", "_", "-".join(parts))
    return text if text[:1].isalpha() else "x" + text


def _attrs(pairs: Iterable[tuple[str, str]]) -> str:
    return ", ".join(f"{k}={v}" for k, v in pairs)


# --------------------------------------------------------------------------- machines


def reqs_text(row: Row) -> str:
    return ", ".join(dict.fromkeys(row.reqs))  # a check may list an ID twice; say it once


def row_text(row: Row) -> str:
    """A row as one line: ``input [guard] / effect {requirements}``."""
    return f"{row.label} {{{reqs_text(row)}}}"


def table_rows(profile: str, role: Role, sc: Scenario | None = None) -> list[Row]:
    prof = get_profile(profile, sc.options if sc else None)
    return initiator_rows(prof) if role == Role.INITIATOR else responder_rows(prof)


def entered(rows: Sequence[Row], states: type[IntEnum]) -> set[int]:
    """States the table can reach from the initial one (the table alone: no guard is evaluated)."""
    seen = {0}
    todo = [0]
    while todo:
        s = todo.pop()
        for r in rows:
            if r.src == s and r.dst not in seen:
                seen.add(r.dst)
                todo.append(r.dst)
    return seen & {int(x) for x in states}


@dataclass(frozen=True)
class Column:
    """What some inputs do in one state: ``rows[i][j]`` is the index of the
    j-th row of ``triggers[i]`` in the table, in table order (the first row
    whose guard holds fires).  Inputs share a column when their rows read
    alike: the same checks, effects and next states in the same order."""

    triggers: tuple[str, ...]
    rows: tuple[tuple[int, ...], ...]


@dataclass(frozen=True)
class StateView:
    """A state of a machine as it is drawn: its inputs across (columns), the
    checks they make down (``checks``, in the order they are made, None for a
    row without a guard), and for each column the check line of each of its
    rows (``lines[c][j]`` for the j-th row of column c)."""

    state: IntEnum
    columns: tuple[Column, ...]
    checks: tuple[str | None, ...]
    lines: tuple[tuple[int, ...], ...]


def _shape(rows: Sequence[Row], ks: Sequence[int]) -> tuple[tuple[str | None, str, int], ...]:
    return tuple((rows[k].guard.label if rows[k].guard else None, rows[k].effect.label, rows[k].dst) for k in ks)


def state_view(rows: Sequence[Row], s: IntEnum) -> StateView:
    """Group the rows leaving ``s`` by input, merge inputs whose rows read
    alike, and lay every column's checks on one order of check lines."""
    by_trigger: dict[str, list[int]] = {}
    for k, r in enumerate(rows):
        if r.src == s:
            by_trigger.setdefault(r.trigger.name.lower(), []).append(k)
    groups: dict[tuple[tuple[str | None, str, int], ...], list[str]] = {}
    for t, ks in by_trigger.items():
        groups.setdefault(_shape(rows, ks), []).append(t)
    columns = tuple(Column(tuple(ts), tuple(tuple(by_trigger[t]) for t in ts)) for ts in groups.values())
    # Every column's checks in its own order, on one list of lines: a check
    # already on a line below the column's previous one is reused; another
    # goes just below the previous one, or, before the column reuses any
    # line, just above the first line it reuses.  A table
    # whose inputs disagree on the order (none does; a rewritten one could)
    # gets a check on two lines rather than a drawing that misstates an order.
    checks: list[str | None] = []
    lines: list[list[int]] = []

    def insert(at: int, key: str | None) -> int:
        checks.insert(at, key)
        for line in lines:
            line[:] = [i + 1 if i >= at else i for i in line]
        return at

    for col in columns:
        at = 0
        mine: list[int] = []
        lines.append(mine)
        pending: list[str | None] = []
        for key in [g for g, _, _ in _shape(rows, col.rows[0])]:
            found = next((i for i in range(at, len(checks)) if checks[i] == key), None)
            if found is None and key is not None:
                if mine:
                    mine.append(insert(at, key))
                    at += 1
                else:
                    pending.append(key)
                continue
            if found is None:  # no guard: the last line
                found = insert(len(checks), None)
            for extra in pending:
                mine.append(insert(found, extra))
                found += 1
            pending = []
            mine.append(found)
            at = found + 1
        for extra in pending:
            mine.append(insert(at, extra))
            at += 1
    return StateView(s, columns, tuple(checks), tuple(tuple(line) for line in lines))


def _cell_kind(row: Row) -> str:
    if row.src != row.dst:
        return "move"
    if row.effect.reason is not None:
        return "refuse"
    return "discard" if row.effect.label.startswith("discard") else "do"


CELL_FILL = {"refuse": "#fed7d7", "discard": "#edf2f7", "do": "#c6f6d5", "move": "#feebc8"}
HEAD_FILL = "#bee3f8"


def _head_text(triggers: Sequence[str]) -> str:
    if len(triggers) > 1:  # inputs that read alike, a few to a line
        return "<BR/>".join(h(line) for line in textwrap.wrap(", ".join(triggers), 30))
    # recv_check_update over two lines: the columns stay narrow.
    pre, _, rest = triggers[0].partition("_")
    return f"{h(pre)}_<BR/>{h(rest)}" if rest else h(pre)


def machine_dot(rows: Sequence[Row], role: Role, name: str, title: str,
                fired: Mapping[int, Sequence[int]] | None = None, table: str | None = None) -> str:
    """The DOT text of one machine.  Each state is a box holding a matrix:
    its inputs across, the checks down in the order they are made, and in
    each cell what that row does (a cell per row, or per row of each input
    of a merged column).  Rows that change the state are also arrows between
    the boxes, one per source, destination and inputs that read alike.
    ``fired`` maps row indices to the steps of a run that fired them (drawn
    highlighted); ``table`` is where the rows are listed one by one, the
    target of every cell's and arrow's link (``FILE#`` or ``#prefix-``,
    followed by ``row<k>``)."""
    states = STATES[role]
    href = table if table is not None else f"{name}.md#"  # the file is named after the drawing
    name = css_id(name)
    fired = fired or {}
    reach = entered(rows, states)
    graph = _attrs([("id", q(name)), ("rankdir", "TB"), ("nodesep", "0.5"), ("ranksep", "0.7"),
                    ("fontname", q("Helvetica")), ("fontsize", "14"), ("labelloc", "t"), ("label", q(title))])
    lines = [
        f"digraph {q(name)} {{",
        f"  graph [{graph}];",
        '  node [shape=plain, fontname="Helvetica", fontsize=9];',
        '  edge [fontname="Helvetica", fontsize=9, arrowsize=0.7, color="#4a5568", fontcolor="#1a202c"];',
    ]
    for s in states:
        view = state_view(rows, s)
        lines.append(f"  {q(s.name)} [{_attrs(_state_attrs(rows, name, view, int(s) in reach, fired, href))}];")
    edges: dict[tuple[int, int, tuple[tuple[str | None, str, int], ...]], list[tuple[str, list[int]]]] = {}
    for s in states:
        by_trigger: dict[str, list[int]] = {}
        for k, r in enumerate(rows):
            if r.src == s and r.dst != s:
                by_trigger.setdefault(r.trigger.name.lower(), []).append(k)
        for t, ks in by_trigger.items():
            for dst in dict.fromkeys(rows[k].dst for k in ks):
                mine = [k for k in ks if rows[k].dst == dst]
                edges.setdefault((int(s), dst, _shape(rows, mine)), []).append((t, mine))
    for n, ((src, dst, _), group) in enumerate(edges.items()):
        every = [k for _, ks in group for k in ks]
        first = group[0][1]
        text = "\n".join(textwrap.wrap(", ".join(t for t, _ in group), 48))
        for k in first:
            g = rows[k].guard
            text += f"\n{f'[{g.label}]' if g else 'otherwise'} / {rows[k].effect.label}"
        attrs = [("id", q(f"{name}-e{n}")), ("tooltip", q("\n".join(f"row {k}: {row_text(rows[k])}" for k in every))),
                 ("URL", q(f"{href}row{every[0]}"))]
        steps = sorted({step for k in every for step in fired.get(k, ())})
        if steps:
            text += "\n" + _steps_text(steps)
            attrs += [("class", q("fired")), ("color", q(FIRED)), ("penwidth", "2.4"), ("fontcolor", q(FIRED))]
        lines.append(f"  {q(states(src).name)} -> {q(states(dst).name)} [{_attrs([('label', q(text))] + attrs)}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _state_attrs(rows: Sequence[Row], name: str, view: StateView, reached: bool,
                 fired: Mapping[int, Sequence[int]], href: str) -> list[tuple[str, str]]:
    s = view.state
    mine = [k for col in view.columns for ks in col.rows for k in ks]
    visited = any(k in fired for k in mine) or any(rows[k].dst == s for k in fired)
    border = FIRED if visited else "#2b6cb0"
    head = f"<B>{h(s.name)}</B>"
    if int(s) == 0:
        head += '<FONT POINT-SIZE="8"> (initial)</FONT>'
    if not reached:
        head += '<FONT POINT-SIZE="8"> · no row enters it</FONT>'
    width = len(view.columns) + 1
    cells = [f'<TR><TD COLSPAN="{width}" CELLPADDING="4">{head}</TD></TR>']
    if view.columns:
        cells.append('<TR><TD ALIGN="LEFT" VALIGN="BOTTOM"><FONT POINT-SIZE="7" COLOR="#4a5568">checks, in order ↓'
                     '<BR/>input →</FONT></TD>'
                     + "".join(f'<TD BGCOLOR="{HEAD_FILL}" VALIGN="BOTTOM"><B>{_head_text(col.triggers)}</B></TD>'
                               for col in view.columns) + "</TR>")
    for line, check in enumerate(view.checks):
        label = h(check) if check is not None else "<I>otherwise</I>"
        row_cells = [f'<TD ALIGN="LEFT">{label}</TD>']
        for c, col in enumerate(view.columns):
            if line not in view.lines[c]:
                row_cells.append("<TD></TD>")
                continue
            j = view.lines[c].index(line)
            ks = [ks[j] for ks in col.rows]  # this row of every input of the column
            row_cells.append(_cell(rows, name, ks, fired, href))
        cells.append(f"<TR>{''.join(row_cells)}</TR>")
    style = "ROUNDED" if reached else "ROUNDED,DASHED"
    fill = STATE_FILL if reached else UNREACHED_FILL
    table = (f'<TABLE BORDER="{2 if visited else 1}" CELLBORDER="0" CELLSPACING="2" CELLPADDING="3" '
             f'STYLE="{style}" BGCOLOR="{fill}" COLOR="{border}">{"".join(cells)}</TABLE>')
    return [("id", q(f"{name}-{s.name}")), ("label", f"<{table}>")]


def _steps_text(steps: Sequence[int]) -> str:
    return ("steps " if len(steps) > 1 else "step ") + ", ".join(map(str, steps))


def _cell(rows: Sequence[Row], name: str, ks: Sequence[int], fired: Mapping[int, Sequence[int]], href: str) -> str:
    row = rows[ks[0]]
    text = h(row.effect.label).replace("; ", ";<BR/>")
    if row.dst != row.src:
        text += f"<BR/><B>→ {h(STATES[row.role](row.dst).name)}</B>"
    steps = sorted({step for k in ks for step in fired.get(k, ())})
    if steps:
        text += f'<BR/><FONT COLOR="{FIRED}"><B>{_steps_text(steps)}</B></FONT>'
    tip = "\n".join(f"row {k}: {row_text(rows[k])}" for k in ks)
    mark = f' BORDER="2" COLOR="{FIRED}"' if steps else ""
    # A newline as a character reference: XML would read a raw one as a space.
    title = h(tip).replace("\n", "&#10;")
    return (f'<TD ID="{h(name)}-r{ks[0]}" HREF="{h(href)}row{ks[0]}" TITLE="{title}" BGCOLOR="{CELL_FILL[_cell_kind(row)]}"'
            f'{mark}>{text}</TD>')


def machine_name(profile: str, role: Role) -> str:
    return f"machine-{profile}-{ROLE_NAMES[role]}"


MACHINE_KEY = ("a box per state: its inputs across, its checks down in the order they are made\n"
               "a cell: what the row does when its check is the first that holds (otherwise: none held); "
               "an arrow: rows that change the state")


def machine_title(profile: str, role: Role, rows: Sequence[Row], sc: Scenario | None = None) -> str:
    opts = _options_text(sc)
    return f"{profile}: {ROLE_NAMES[role]} machine, {len(rows)} rows{opts}\n{MACHINE_KEY}"


def _options_text(sc: Scenario | None) -> str:
    if sc is None:
        return ""
    changed = [f"{k}={v}" for k, v in sorted(vars(sc.options).items()) if getattr(Options(), k) != v]
    return f" ({', '.join(changed)})" if changed else ""


def profile_machine_dot(profile: str, role: Role, sc: Scenario | None = None, table: str | None = None) -> str:
    rows = table_rows(profile, role, sc)
    return machine_dot(rows, role, machine_name(profile, role), machine_title(profile, role, rows, sc), table=table)


TABLE_HEAD = ("row", "state", "input", "guard", "effect", "next state", "requirements")


def machine_table(rows: Sequence[Row], role: Role) -> list[tuple[str, ...]]:
    """Every row of a machine's table, as the linked table lists it."""
    states = STATES[role]
    return [(str(k), states(r.src).name, r.trigger.name.lower(), r.guard.label if r.guard else "",
              r.effect.label, states(r.dst).name, reqs_text(r)) for k, r in enumerate(rows)]


def machine_table_md(rows: Sequence[Row], role: Role, name: str, title: str) -> str:
    """The Markdown page the drawing ``name`` links to: every row, with an anchor each."""
    out = [f"# {title.splitlines()[0]}", "",
           f"Every row of the table, in table order, as drawn in [{name}.svg]({name}.svg) (each cell and arrow there "
           "links to its row here). For one state and input, the first row whose guard holds fires; a row without "
           "a guard fires when no earlier one did. Generated from `model/_machines.py`; do not edit by hand.", "",
           "| " + " | ".join(TABLE_HEAD) + " |", "|" + "---|" * len(TABLE_HEAD)]
    for cells in machine_table(rows, role):
        first, *rest = (c.replace("|", "\\|") for c in cells)
        out.append(f'| <a id="row{first}"></a>{first} | ' + " | ".join(rest) + " |")
    return "\n".join(out) + "\n"


def profile_machine_table_md(profile: str, role: Role, sc: Scenario | None = None) -> str:
    rows = table_rows(profile, role, sc)
    return machine_table_md(rows, role, machine_name(profile, role), machine_title(profile, role, rows, sc))


# --------------------------------------------------------------------------- which rows a run fires


@dataclass(frozen=True)
class Firing:
    """At step ``step`` (1-based, as in ``Run.table``), machine ``role`` of
    ``peer`` handled an input: ``row`` is the index of the row that fired in
    the model's table, or None when no row applies (a defined refusal)."""

    step: int
    peer: int
    role: Role
    row: int | None


def firings(run: Run) -> list[Firing]:
    """Replay ``run`` on the compiled dispatcher, noting the row each step fires."""
    m = run.model()
    index = {role: {id(r): k for k, r in enumerate(rows)} for role, rows in m.rows_list.items()}
    found: list[Firing] = []
    step = 0

    def record(model: Model, ps: PeerState, p: int, role: Role, x: MInput, out: Out) -> Result | None:
        row, res = model.dispatch(ps, p, role, x, out)
        found.append(Firing(step, p, Role(role), None if row is None else index[role][id(row)]))
        return res

    w = m.initial()
    for n, inp in enumerate(run.inputs, 1):
        step = n
        w2 = m.step(w, inp, None, fire=record)
        if w2 is None and inp.kind != InKind.ACT:
            raise DiagramError(f"step {n} of the run is not taken by the model")
        w = w if w2 is None else w2
    return found


def fired_by_machine(run: Run) -> dict[tuple[int, Role], dict[int, list[int]]]:
    """(peer, role) -> row index -> the steps that fired it."""
    res: dict[tuple[int, Role], dict[int, list[int]]] = {}
    for f in firings(run):
        if f.row is not None:
            res.setdefault((f.peer, f.role), {}).setdefault(f.row, []).append(f.step)
    return dict(sorted(res.items()))


def run_machine_drawings(run: Run, name: str) -> list[Drawing]:
    """Every machine the run drives, its rows highlighted, each with the
    table of rows its cells link to."""
    m = run.model()
    res = []
    for (p, role), fired in fired_by_machine(run).items():
        rows = m.rows_list[role]
        stem = f"{name}-{PEERS[p]}-{ROLE_NAMES[role]}"
        title = (f"{run.label or 'run'}: {PEERS[p]}'s {ROLE_NAMES[role]} machine ({run.profile}); steps that fire "
                 f"each row in red\n{MACHINE_KEY}")
        res.append(Drawing(stem, machine_dot(rows, role, stem, title, fired), table=machine_table_md(rows, role, stem, title)))
    return res


def run_machine_dots(run: Run, name: str) -> list[tuple[str, str]]:
    """(file stem, DOT) for every machine the run drives, its rows highlighted."""
    return [(d.stem, d.dot) for d in run_machine_drawings(run, name)]


# --------------------------------------------------------------------------- message sequence chart

CHAR_W = 7.2  # advance of a 12px monospace glyph (DejaVu Sans Mono, Liberation Mono)
LINE_H = 26


CAPTION_LINE_H = 15
VIOLATION_FILL = "#fff5f5"


@dataclass
class _Item:
    kind: str  # msg | lost | note | span | caption
    text: str
    peer: int = 0  # sender (msg, lost) or the peer a note is over
    style: str = "note"
    detail: str = ""  # caption: what the step changed


def _chart_items(run: Run) -> list[tuple[int, list[_Item]]]:
    m = run.model()
    bad = run.violation()
    steps = []
    if bad is not None and bad[0] == 0:
        steps.append((0, [_Item("caption", f"✗ {bad[1]}")]))
    for n, (w, inp, events, w2) in enumerate(run.replay(), 1):
        who, what = render.input_(m, w, inp)
        items: list[_Item] = []
        if inp.kind == InKind.ACT:
            items.append(_Item("note", f"user: {what}", inp.peer, "user"))
        elif inp.kind == InKind.DELIVER:
            items.append(_Item("msg", render.message(m, w.chan[inp.peer][inp.idx]), inp.peer))
        elif inp.kind == InKind.DROP:
            items.append(_Item("lost", "lost: " + render.message(m, w.chan[inp.peer][inp.idx]), inp.peer))
        elif inp.kind in (InKind.TIMEOUT, InKind.RR_TIMEOUT, InKind.PATH_DEAD):
            items.append(_Item("note", what, inp.peer, "timer"))
        else:
            items.append(_Item("span", f"{who}: {what}", 0, "attacker" if inp.kind == InKind.FORGE else "env"))
        for ev in events:
            if ev.what in ("refuse", "failover", "inactive"):
                text = render.event(m, ev)
                if text:
                    items.append(_Item("note", text, ev.peer, "refuse" if ev.what == "refuse" else "timer"))
        if bad is not None and bad[0] == n:
            # The messages alone do not show what went wrong: say what fails,
            # and what the step changed in the databases.
            changes = "; ".join(render.world_diff(m, w, w2))
            items.append(_Item("caption", f"✗ step {n}: {bad[1]}", detail=f"after it: {changes}" if changes else ""))
        steps.append((n, items))
    return steps


def _caption_lines(it: _Item, chars: int) -> list[str]:
    import textwrap

    lines = textwrap.wrap(it.text, chars)
    if it.detail:
        lines += textwrap.wrap(it.detail, chars, subsequent_indent="  ")
    return lines


_NOTE_STYLE = {
    "user": ("#fefcbf", "#b7791f"),
    "timer": ("#e9d8fd", "#6b46c1"),
    "refuse": ("#fed7d7", "#c53030"),
    "env": ("#edf2f7", "#4a5568"),
    "attacker": ("#feebc8", "#c05621"),
}


def sequence_svg(run: Run, uid: str) -> str:
    """The run as a message sequence chart (SVG).  ``uid`` prefixes the ids
    inside, so that several charts can share one HTML page."""
    uid = css_id(uid)
    steps = _chart_items(run)
    width = lambda text: len(text) * CHAR_W + 16  # noqa: E731 - a layout formula, named once
    msgs = [it for _, items in steps for it in items if it.kind in ("msg", "lost")]
    notes = [it for _, items in steps for it in items if it.kind == "note"]
    spans = [it for _, items in steps for it in items if it.kind == "span"]
    gap = max([320.0] + [width(it.text) + 40 for it in msgs])
    half = max([70.0] + [width(it.text) / 2 for it in notes])
    x_i = 40 + half
    x_r = x_i + gap
    mid = (x_i + x_r) / 2
    span_w = max([gap + 2 * 60] + [width(it.text) for it in spans])
    left = min(x_i - half, mid - span_w / 2) - 10
    right = max(x_r + half, mid + span_w / 2) + 10
    chars = int((span_w - 16) // CHAR_W)  # a caption wraps to the width of the spans
    bad = run.violation()
    body: list[str] = []
    y = 70.0
    for n, items in steps:
        top = y
        marked = bad is not None and bad[0] == n
        part = [f'<text x="{left + 4:.1f}" y="{y + 4:.1f}" class="step{" bad" if marked else ""}">{n}</text>']
        for it in items:
            if it.kind == "caption":
                lines = _caption_lines(it, chars)
                part.extend(_caption(lines, mid, y, span_w))
                y += LINE_H + CAPTION_LINE_H * (len(lines) - 1)
            else:
                part.extend(_chart_item(it, uid, x_i, x_r, mid, y, width(it.text), span_w))
                y += LINE_H
        if marked:
            # The step where the property fails, as a band behind everything it drew
            # (between the separators above and below it).
            body.append(f'<rect id="{uid}-violation" class="violation" x="{left:.1f}" y="{top - 13:.1f}" '
                        f'width="{right - left:.1f}" height="{y - top:.1f}"/>')
            body.append(f'<rect x="{left:.1f}" y="{top - 13:.1f}" width="3" height="{y - top:.1f}" fill="{FIRED}"/>')
        body.extend(part)
        body.append(f'<line x1="{left + 28:.1f}" y1="{y - 13:.1f}" x2="{right:.1f}" y2="{y - 13:.1f}" class="sep"/>')
    height = y + 10
    head = []
    for x, label in ((x_i, "I (initiator)"), (x_r, "R (responder)")):
        w = width(label)
        head.append(f'<rect x="{x - w / 2:.1f}" y="12" width="{w:.1f}" height="26" rx="4" class="actor"/>')
        head.append(f'<text x="{x:.1f}" y="30" text-anchor="middle" font-weight="bold">{h(label)}</text>')
        head.append(f'<line x1="{x:.1f}" y1="38" x2="{x:.1f}" y2="{height:.1f}" class="life"/>')
    total_w = right - left
    css = (f"#{uid} .actor{{fill:#ebf4ff;stroke:#2b6cb0}} #{uid} .life{{stroke:#a0aec0;stroke-dasharray:4 4}} "
           f"#{uid} .sep{{stroke:#edf2f7}} #{uid} .step{{fill:#718096;font-size:11px}} "
           f"#{uid} .msg{{stroke:{INK};stroke-width:1.4}} #{uid} .lost{{stroke:{FIRED};stroke-width:1.4;stroke-dasharray:6 3}} "
           f"#{uid} .violation{{fill:{VIOLATION_FILL}}} #{uid} .step.bad{{fill:{FIRED};font-weight:bold}}")
    return "\n".join([
        f'<svg xmlns="http://www.w3.org/2000/svg" id="{h(uid)}" class="msc" width="{total_w:.0f}" height="{height:.0f}" '
        f'viewBox="{left:.1f} 0 {total_w:.1f} {height:.1f}" font-family="DejaVu Sans Mono, Liberation Mono, monospace" '
        f'font-size="12">',
        f"<title>{h(run.label or 'run')}</title>",
        f"<style>{css}</style>",
        f'<defs><marker id="{h(uid)}-arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" '
        f'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{INK}"/></marker></defs>',
        f'<rect x="{left:.1f}" y="0" width="{total_w:.1f}" height="{height:.1f}" fill="#ffffff"/>',
        *head,
        *body,
        "</svg>",
    ]) + "\n"


def _caption(lines: list[str], mid: float, y: float, w: float) -> list[str]:
    height = 21 + CAPTION_LINE_H * (len(lines) - 1)
    spans = "".join(f'<tspan x="{mid - w / 2 + 8:.1f}" dy="{0 if k == 0 else CAPTION_LINE_H}">{h(line)}</tspan>'
                    for k, line in enumerate(lines))
    return [f'<rect x="{mid - w / 2:.1f}" y="{y - 15:.1f}" width="{w:.1f}" height="{height}" rx="3" '
            f'fill="{FIRED_FILL}" stroke="{FIRED}" stroke-width="1.5"/>',
            f'<text class="caption" y="{y:.1f}" fill="{FIRED}">{spans}</text>']


def _chart_item(it: _Item, uid: str, x_i: float, x_r: float, mid: float, y: float, w: float,
                span_w: float) -> list[str]:
    if it.kind in ("msg", "lost"):
        a, b = (x_i, x_r) if it.peer == 0 else (x_r, x_i)
        if it.kind == "msg":
            return [f'<text x="{mid:.1f}" y="{y - 4:.1f}" text-anchor="middle">{h(it.text)}</text>',
                    f'<line x1="{a:.1f}" y1="{y + 2:.1f}" x2="{b:.1f}" y2="{y + 2:.1f}" class="msg" '
                    f'marker-end="url(#{h(uid)}-arrow)"/>']
        end = a + (b - a) * 0.6
        return [f'<text x="{mid:.1f}" y="{y - 4:.1f}" text-anchor="middle" fill="{FIRED}">{h(it.text)}</text>',
                f'<line x1="{a:.1f}" y1="{y + 2:.1f}" x2="{end:.1f}" y2="{y + 2:.1f}" class="lost"/>',
                f'<path d="M{end - 5:.1f},{y - 3:.1f} L{end + 5:.1f},{y + 7:.1f} M{end - 5:.1f},{y + 7:.1f} '
                f'L{end + 5:.1f},{y - 3:.1f}" stroke="{FIRED}" stroke-width="2"/>']
    fill, stroke = _NOTE_STYLE[it.style]
    if it.kind == "span":
        cx, w = mid, span_w
    else:
        cx = x_i if it.peer == 0 else x_r
    return [f'<rect x="{cx - w / 2:.1f}" y="{y - 15:.1f}" width="{w:.1f}" height="21" rx="3" fill="{fill}" '
            f'stroke="{stroke}"/>',
            f'<text x="{cx:.1f}" y="{y:.1f}" text-anchor="middle">{h(it.text)}</text>']


# --------------------------------------------------------------------------- state graphs


@dataclass
class StateGraph:
    """The explored graph of a model: states by explorer index, every
    transition when ``edges`` was asked for, and cluster counts always."""

    model: Model
    explorer: Explorer
    stats: ExploreStats
    edges: list[tuple[int, Input, int]] = field(default_factory=list)
    cluster_of: list[int] = field(default_factory=list)
    clusters: list[tuple[int, ...]] = field(default_factory=list)
    cluster_edges: Counter[tuple[int, int]] = field(default_factory=Counter)

    @property
    def worlds(self) -> list[World]:
        return self.explorer.worlds


def cluster_key(w: World) -> tuple[int, ...]:
    """What a summary groups states by: each peer's two machine states, then
    the messages in flight in each direction."""
    inflight = tuple(sum(1 for msg in ch if msg.kind != Kind.EMPTY) for ch in w.chan)
    return (int(w.peers[0].ini.st), int(w.peers[0].rsp.st), int(w.peers[1].ini.st), int(w.peers[1].rsp.st)) + inflight


def explore_graph(model: Model, keep_edges: bool = False, max_states: int | None = None) -> StateGraph:
    ex = Explorer(model, max_states=max_states)
    g = StateGraph(model, ex, ExploreStats(model.prof.name, model.sc.name))
    keys: dict[tuple[int, ...], int] = {}

    def on_state(j: int, w: World) -> None:
        key = cluster_key(w)
        c = keys.get(key)
        if c is None:
            c = keys[key] = len(g.clusters)
            g.clusters.append(key)
        g.cluster_of.append(c)

    def on_edge(i: int, w: World, inp: Input, j: int, w2: World) -> None:
        g.cluster_edges[(g.cluster_of[i], g.cluster_of[j])] += 1
        if keep_edges:
            g.edges.append((i, inp, j))

    g.stats = ex.run(on_state=on_state, on_edge=on_edge)
    return g


def around(g: StateGraph, center: int, hops: int) -> set[int]:
    """States within ``hops`` transitions of ``center``, either direction."""
    if not 0 <= center < len(g.worlds):
        raise DiagramError(f"no state {center} (the graph has states 0 to {len(g.worlds) - 1})")
    return _grow(g, {center}, hops)


def _grow(g: StateGraph, seeds: set[int], hops: int) -> set[int]:
    if hops <= 0:
        return set(seeds)
    adj: dict[int, set[int]] = {}
    for i, _, j in g.edges:
        adj.setdefault(i, set()).add(j)
        adj.setdefault(j, set()).add(i)
    seen = set(seeds)
    frontier = deque((s, 0) for s in sorted(seeds))
    while frontier:
        s, d = frontier.popleft()
        if d == hops:
            continue
        for t in sorted(adj.get(s, ())):
            if t not in seen:
                seen.add(t)
                frontier.append((t, d + 1))
    return seen


def run_states(g: StateGraph, run: Run) -> list[int]:
    """The explorer indices of the states a run passes through, in order."""
    m = g.model
    w = m.initial()
    path = [0]
    for n, inp in enumerate(run.inputs, 1):
        w2 = m.step(w, inp)
        if w2 is None:
            if inp.kind == InKind.ACT:
                continue
            raise DiagramError(f"step {n} of the run is not taken by the model")
        w = w2
        j = g.explorer.index.get(m.canonical(w))
        if j is None:
            raise DiagramError(f"step {n} of the run leaves the explored graph (was the run found with other bounds?)")
        path.append(j)
    return path


def along(g: StateGraph, run: Run, hops: int = 0) -> tuple[set[int], list[int]]:
    path = run_states(g, run)
    return _grow(g, set(path), hops), path


def _state_label(m: Model, j: int, w: World, depth: int) -> str:
    p0, p1 = w.peers
    lines = [f"#{j}  depth {depth}",
             f"I {p0.ini.st.name}/{p0.rsp.st.name}   R {p1.ini.st.name}/{p1.rsp.st.name}"]
    for d in (0, 1):
        for msg in w.chan[d]:
            if msg.kind != Kind.EMPTY:
                lines.append(f"{render.ARROW[d]} {render.message(m, msg)}")
    return "\n".join(lines)


def state_dot(g: StateGraph, region: set[int], name: str, title: str, path: Sequence[int] = ()) -> str:
    """The region's states and the transitions between them.  ``path``: the
    states of a run, whose transitions are highlighted."""
    m = g.model
    name = css_id(name)
    on_path = set(pairwise(path))
    title += "\neach state: its explorer index and depth, then initiator/responder states of I and R, then the messages in flight"
    lines = [
        f"digraph {q(name)} {{",
        f"  graph [id={q(name)}, rankdir=TB, fontname=\"Helvetica\", fontsize=14, labelloc=t, label={q(title)}];",
        '  node [shape=box, style="rounded,filled", fillcolor="#ebf4ff", color="#2b6cb0", fontname="Helvetica", '
        "fontsize=9];",
        '  edge [fontname="Helvetica", fontsize=8, color="#4a5568", arrowsize=0.6];',
    ]
    for j in sorted(region):
        w = g.worlds[j]
        attrs = [("id", q(f"{name}-s{j}")), ("label", q(_state_label(m, j, w, g.explorer.depth[j]))),
                 ("tooltip", q("\n".join(render.snapshot(m, w))))]
        if j == 0:
            attrs.append(("peripheries", "2"))
        if j in path:
            attrs += [("color", q(FIRED)), ("penwidth", "2")]
        lines.append(f"  {q(f's{j}')} [{_attrs(attrs)}];")
    seen: set[tuple[int, Input, int]] = set()
    for i, inp, j in g.edges:
        if i in region and j in region and (i, inp, j) not in seen:
            seen.add((i, inp, j))
            who, what = render.input_(m, g.worlds[i], inp)
            attrs = [("label", q(f"{who}: {what}"))]
            if (i, j) in on_path:
                attrs += [("color", q(FIRED)), ("fontcolor", q(FIRED)), ("penwidth", "2")]
            lines.append(f"  {q(f's{i}')} -> {q(f's{j}')} [{_attrs(attrs)}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _cluster_text(key: tuple[int, ...]) -> tuple[str, str]:
    i_ini, i_rsp, r_ini, r_rsp, to_r, to_i = key
    machines = (f"I {IState(i_ini).name}/{RState(i_rsp).name}   "
                f"R {IState(r_ini).name}/{RState(r_rsp).name}")
    return machines, f"in flight I→R {to_r}, R→I {to_i}"


def _cluster_counts(g: StateGraph, region: set[int] | None) -> tuple[Counter[int], Counter[tuple[int, int]]]:
    """States per cluster and transitions between clusters, over the whole
    graph or a region of it (a region needs the graph's transitions)."""
    if region is None:
        return Counter(g.cluster_of), g.cluster_edges
    sizes = Counter(g.cluster_of[j] for j in region)
    edges: Counter[tuple[int, int]] = Counter()
    for i, _, j in g.edges:
        if i in region and j in region:
            edges[(g.cluster_of[i], g.cluster_of[j])] += 1
    return sizes, edges


def summary(g: StateGraph, region: set[int] | None = None, cap: int = MAX_NODES) -> str:
    """A text summary of a graph (or region) too large to draw: counts and clusters."""
    s = g.stats
    sizes, edges = _cluster_counts(g, region)
    inside: Counter[int] = Counter()
    out: Counter[int] = Counter()
    for (a, b), n in edges.items():
        (inside if a == b else out)[a] += n
    lines = [
        f"state graph of scenario {s.scenario} under {s.profile}: {s.states:,} states, {s.transitions:,} transitions, "
        f"depth {s.max_depth}, deadlocks {s.deadlocks}, " + ("complete" if s.complete else f"INCOMPLETE ({s.stopped})"),
    ]
    if region is not None:
        lines.append(f"region of interest: {len(region):,} states, {sum(edges.values()):,} transitions")
    lines += [
        f"more than {cap} states: summarised by the machines' states (initiator/responder of each peer) "
        "and the messages in flight",
        "",
        f"{'I initiator':<12} {'I responder':<12} {'R initiator':<12} {'R responder':<12} {'I→R':>4} {'R→I':>4} "
        f"{'states':>9} {'inside':>9} {'leaving':>9}",
    ]
    for c in sorted(sizes, key=lambda c: g.clusters[c]):
        i_ini, i_rsp, r_ini, r_rsp, to_r, to_i = g.clusters[c]
        lines.append(f"{IState(i_ini).name:<12} {RState(i_rsp).name:<12} {IState(r_ini).name:<12} "
                     f"{RState(r_rsp).name:<12} {to_r:>4} {to_i:>4} {sizes[c]:>9,} {inside[c]:>9,} {out[c]:>9,}")
    return "\n".join(lines) + "\n"


def summary_dot(g: StateGraph, name: str, title: str, region: set[int] | None = None) -> str:
    """The quotient graph of the clusters: small whatever the scenario."""
    sizes, edges = _cluster_counts(g, region)
    name = css_id(name)
    lines = [
        f"digraph {q(name)} {{",
        f"  graph [id={q(name)}, rankdir=TB, fontname=\"Helvetica\", fontsize=14, labelloc=t, label={q(title)}];",
        '  node [shape=box, style="rounded,filled", fillcolor="#ebf4ff", color="#2b6cb0", fontname="Helvetica", '
        "fontsize=10];",
        '  edge [fontname="Helvetica", fontsize=9, color="#4a5568", arrowsize=0.6];',
    ]
    initial = g.cluster_of[0] if g.cluster_of else -1
    for c in sorted(sizes, key=lambda c: g.clusters[c]):
        machines, flight = _cluster_text(g.clusters[c])
        label = f"{machines}\n{flight}\n{sizes[c]:,} states, {edges.get((c, c), 0):,} transitions inside"
        attrs = [("id", q(f"{name}-c{c}")), ("label", q(label))]
        if c == initial:
            attrs.append(("peripheries", "2"))
        lines.append(f"  {q(f'c{c}')} [{_attrs(attrs)}];")
    for (a, b), n in sorted(edges.items(), key=lambda e: (g.clusters[e[0][0]], g.clusters[e[0][1]])):
        if a != b:
            lines.append(f"  {q(f'c{a}')} -> {q(f'c{b}')} [label={q(f'{n:,}')}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def region_drawing(g: StateGraph, region: set[int], stem: str, title: str, path: Sequence[int] = (),
                   cap: int = MAX_NODES) -> Drawing:
    """The region drawn state by state, or summarised when it is larger than ``cap``."""
    if len(region) <= cap:
        return Drawing(stem, state_dot(g, region, stem, title, path))
    whole = region if len(region) < len(g.worlds) else None
    return Drawing(stem, summary_dot(g, stem, f"{title}: {len(region):,} states in clusters", whole),
                   summary(g, whole, cap))


# --------------------------------------------------------------------------- Graphviz


def dot_binary() -> str:
    found = shutil.which("dot")
    if found is None:
        raise DiagramError("Graphviz's dot is not installed (scripts/setup.sh installs it)")
    return found


def to_svg(dot_text: str) -> str:
    return to_svgs([dot_text])[0]


def to_svgs(texts: Sequence[str]) -> list[str]:
    """Render DOT texts to SVG, all at once (one ``dot`` process each)."""
    exe = dot_binary()
    procs = [subprocess.Popen([exe, "-Tsvg"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for _ in texts]
    res = []
    for proc, text in zip(procs, texts, strict=True):
        out, err = proc.communicate(text.encode("utf-8"))
        if proc.returncode != 0:
            raise DiagramError(f"dot failed: {err.decode('utf-8', 'replace').strip().splitlines()[0]}")
        res.append(out.decode("utf-8"))
    return res


def inline_svg(svg: str) -> str:
    """An SVG document as an element for an HTML page (no XML prolog or doctype)."""
    start = svg.find("<svg")
    return svg[start:] if start >= 0 else svg


# --------------------------------------------------------------------------- the diagrams/ set


@dataclass(frozen=True)
class Drawing:
    stem: str
    dot: str
    text: str | None = None  # a summary printed instead of a drawing, when there is one
    table: str | None = None  # Markdown the drawing links to (a machine's rows), written as <stem>.md


def standard_drawings(sc: Scenario, profiles: Sequence[str] = PROFILE_NAMES, cap: int = MAX_NODES) -> list[Drawing]:
    """What ``ipsecmm diagrams`` writes by default: each profile's two
    machines, and the scenario's state graph (drawn, or summarised past ``cap``)."""
    res = []
    for p in profiles:
        for role in Role:
            res.append(Drawing(machine_name(p, role), profile_machine_dot(p, role, sc),
                               table=profile_machine_table_md(p, role, sc)))
    for p in profiles:
        m = Model(sc, get_profile(p, sc.options))
        g = explore_graph(m)
        if g.stats.states <= cap:
            g = explore_graph(m, keep_edges=True)  # small: a second search that keeps every transition is cheap
        stem = f"states-{scenario_in_file(sc)}-{p}"
        title = f"reachable states of scenario {sc.name} under {p}{_options_text(sc)}"
        res.append(region_drawing(g, set(range(g.stats.states)), stem, title, cap=cap))
    return res


def write_drawings(out: Output, drawings: Sequence[Drawing], svg: bool = True) -> list[Path]:
    """Each drawing's DOT (and SVG, and summary text) into ``out``."""
    written = []
    svgs = to_svgs([d.dot for d in drawings]) if svg else [None] * len(drawings)
    for d, image in zip(drawings, svgs, strict=True):
        written.append(out.write(f"{d.stem}.dot", d.dot))
        if image is not None:
            written.append(out.write(f"{d.stem}.svg", image))
        if d.text is not None:
            written.append(out.write(f"{d.stem}.txt", d.text))
        if d.table is not None:
            written.append(out.write(f"{d.stem}.md", d.table))
    return written


def index_text(sc: Scenario, drawings: Sequence[Drawing]) -> str:
    """``README.md`` of the diagrams directory."""
    lines = [
        "# Diagrams",
        "",
        f"Generated by `ipsecmm diagrams` from the transition tables (`model/_machines.py`) and the "
        f"scenario `{sc.name}`; do not edit by hand. A test fails when the DOT files or the row tables here are stale.",
        "",
        "| file | what |",
        "|---|---|",
    ]
    for d in drawings:
        if d.stem.startswith("machine-"):
            _, profile, role = d.stem.split("-", 2)
            what = (f"{role} machine under `{profile}`: a box per state, its inputs across and its checks down in "
                    f"the order they are made; every row, with its requirements, in [{d.stem}.md]({d.stem}.md), "
                    "which each cell links to")
        else:
            what = "reachable state graph" + (" (summary: clusters of states; see the .txt)" if d.text else "")
        lines.append(f"| [{d.stem}.svg]({d.stem}.svg) ([dot]({d.stem}.dot)) | {what} |")
    return "\n".join(lines) + "\n"

