"""Diagrams: machines match their tables, committed diagrams are fresh, runs
and state graphs are drawn from what the model does."""

from __future__ import annotations

import dataclasses
import html
import json
import re
import subprocess
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import pytest
from browser import count_colour, screenshot

from ipsecmm._files import owned_files
from ipsecmm.cli import main
from ipsecmm.gen import _diagrams as D
from ipsecmm.model import PROFILE_NAMES, Action, IState, Model, Role, RState, builtin_scenario, default_scenario
from ipsecmm.properties import Checker, Run, by_id
from ipsecmm.properties._check import violation_extra

from helpers import act, deliver

ROOT = Path(__file__).resolve().parent.parent
DIAGRAMS = ROOT / "diagrams"


def graphviz_json(dot_text: str) -> dict:
    """Graphviz's own reading of a DOT text (nodes, edges and their attributes)."""
    res = subprocess.run(["dot", "-Tjson0"], input=dot_text.encode(), capture_output=True, check=True)
    assert res.stderr == b"", res.stderr.decode()
    return json.loads(res.stdout)


def port_cells(table: str) -> dict[str, str]:
    """PORT name -> the text of its cell (tags dropped, <BR/> as a newline)."""
    cells = {}
    for port, body in re.findall(r'<TD PORT="([^"]+)"[^>]*>(.*?)</TD>', table):
        cells[port] = html.unescape(re.sub(r"<[^>]+>", "", body.replace("<BR/>", "\n")))
    return cells


@pytest.fixture(scope="module")
def rr_run() -> Run:
    """UPDATE to the wifi address: R verifies it with COOKIE2, then applies."""
    sc = default_scenario()
    m = Model(sc, "mm")
    return Run(sc, "mm", [act(m, Action.UPDATE, "web", "a1", "a2"), deliver(0), deliver(1), deliver(0), deliver(1)],
               label="update via return routability")


def inv_rr_run() -> Run:
    """The ikev2 counterexample to INV-RR: R answers a CREATE for the wifi
    address and sends web2's traffic there without verifying it."""
    sc = default_scenario()
    m = Model(sc, "ikev2")
    return Run(sc, "ikev2", [act(m, Action.CREATE, "web2", new="a2"), deliver(0)], label="counterexample to INV-RR",
               extra=violation_extra("INV-RR", 2, "state", by_id()["INV-RR"].property))


# --------------------------------------------------------------------------- machines


def matrix(label: str) -> list[list[tuple[dict[str, str], str]]]:
    """A state box's HTML-like label as rows of cells: (attributes, text with
    tags dropped and <BR/> as a newline)."""
    res = []
    for tr in re.findall(r"<TR>(.*?)</TR>", label):
        cells = []
        for attrs, body in re.findall(r"<TD([^>]*)>(.*?)</TD>", tr):
            text = html.unescape(re.sub(r"<[^>]+>", "", body.replace("<BR/>", "\n")))
            cells.append((dict(re.findall(r'(\w+)="([^"]*)"', attrs)), text))
        res.append(cells)
    return res


def cell_rows(attrs: dict[str, str]) -> list[int]:
    return [int(k) for k in re.findall(r"^row (\d+):", html.unescape(attrs.get("TITLE", "")), re.M)]


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_machine_diagram_is_its_table(profile, role):
    """Every row is a cell of its state's box, under its input, on its check's
    line, in table order down the column; every row that changes the state
    is on exactly one arrow; every cell links to the row in the table."""
    rows = D.table_rows(profile, role)
    name = D.machine_name(profile, role)
    doc = graphviz_json(D.profile_machine_dot(profile, role))
    states = {Role.INITIATOR: IState, Role.RESPONDER: RState}[role]
    nodes = {o["_gvid"]: o for o in doc["objects"]}
    assert {o["name"] for o in nodes.values()} == {s.name for s in states}

    seen: Counter[int] = Counter()
    for node in nodes.values():
        box = matrix(node["label"])
        heads = [text for _, text in box[1]] if len(box) > 1 else []
        place: dict[int, int] = {}
        for line, cells in enumerate(box[2:]):
            check = cells[0][1]
            for col, (attrs, text) in enumerate(cells[1:], 1):
                ks = cell_rows(attrs)
                if not ks:
                    assert text == "" and "ID" not in attrs
                    continue
                assert attrs["ID"] == f"{name}-r{ks[0]}" and attrs["HREF"] == f"{name}.md#row{ks[0]}"
                assert html.unescape(attrs["TITLE"]).splitlines() == [f"row {k}: {D.row_text(rows[k])}" for k in ks]
                for k in ks:
                    row = rows[k]
                    seen[k] += 1
                    place[k] = line
                    assert states(row.src).name == node["name"]
                    assert row.trigger.name.lower() in heads[col].replace("_\n", "_").replace("\n", " ")
                    assert check == (row.guard.label if row.guard else "otherwise")
                    assert text.replace("\n", " ").startswith(row.effect.label)
                    assert ("→ " + states(row.dst).name in text) == (row.src != row.dst)
        # Down a column, an input's rows come in table order: the order its checks are made.
        for t in {rows[k].trigger for k in place}:
            mine = sorted(k for k in place if rows[k].trigger == t)
            assert [place[k] for k in mine] == sorted(place[k] for k in mine)
            assert len({place[k] for k in mine}) == len(mine)
    assert seen == Counter(range(len(rows)))

    on_edges: Counter[int] = Counter()
    edges = doc.get("edges", [])
    for edge in edges:
        ks = [int(k) for k in re.findall(r"^row (\d+):", edge["tooltip"].replace("\\n", "\n"), re.M)]
        tail, head = nodes[edge["tail"]]["name"], nodes[edge["head"]]["name"]
        for k in ks:
            on_edges[k] += 1
            assert (tail, head) == (states(rows[k].src).name, states(rows[k].dst).name)
            assert rows[k].trigger.name.lower() in edge["label"].replace("\\n", " ")
        assert edge["URL"] == f"{name}.md#row{ks[0]}"
    assert on_edges == Counter(k for k, r in enumerate(rows) if r.src != r.dst)
    assert len(edges) <= len({(r.src, r.dst, r.trigger) for r in rows if r.src != r.dst})


def test_the_mm_responder_is_drawn_small_enough_to_read():
    rows = D.table_rows("mm", Role.RESPONDER)
    dot = D.profile_machine_dot("mm", Role.RESPONDER)
    doc = graphviz_json(dot)
    assert len(rows) > 150 and len(doc["edges"]) <= len(rows) // 20
    svg = ET.fromstring(D.to_svg(dot))
    width, height = (float(svg.get(k).removesuffix("pt")) for k in ("width", "height"))
    assert height < 1200 and width < 2000, (width, height)  # it was 1520 x 2593 pt with an arrow per row


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_the_linked_table_lists_every_row(profile, role):
    rows = D.table_rows(profile, role)
    states = {Role.INITIATOR: IState, Role.RESPONDER: RState}[role]
    text = D.profile_machine_table_md(profile, role)
    listed = [line for line in text.splitlines() if line.startswith('| <a id="row')]
    assert len(listed) == len(rows)
    for k, (line, row) in enumerate(zip(listed, rows, strict=True)):
        cells = [c.strip() for c in line.strip("|").split(" | ")]
        assert cells == [f'<a id="row{k}"></a>{k}', states(row.src).name, row.trigger.name.lower(),
                         row.guard.label if row.guard else "", row.effect.label, states(row.dst).name,
                         ", ".join(dict.fromkeys(row.reqs))]


def test_inputs_that_disagree_on_the_check_order_get_a_line_each():
    """A rewritten table (a mutant could) whose inputs make two checks in
    opposite orders is drawn with one of them twice, never in a wrong order."""
    rows = D.table_rows("mm", Role.RESPONDER)
    pad = next(k for k, r in enumerate(rows) if r.trigger.name == "RECV_ADD" and r.guard and r.guard.label == "PAD refuses")
    spd = next(k for k, r in enumerate(rows) if r.trigger.name == "RECV_ADD" and r.guard and r.guard.label == "SPD refuses")
    swapped = list(rows)
    swapped[pad], swapped[spd] = rows[spd], rows[pad]
    view = D.state_view(swapped, RState.READY)
    assert view.checks.count("PAD refuses") + view.checks.count("SPD refuses") == 3
    for col, line in zip(view.columns, view.lines, strict=True):
        assert list(line) == sorted(line)  # each input's checks go down in its own order
        assert [view.checks[i] for i in line] == [swapped[k].guard.label if swapped[k].guard else None
                                                  for k in col.rows[0]]


def test_options_change_the_drawn_table():
    sc = default_scenario()
    early = D.profile_machine_dot("mm", Role.INITIATOR, dataclasses.replace(sc, options=sc.options.replace(apply_early=True)))
    plain = D.profile_machine_dot("mm", Role.INITIATOR, sc)
    assert "apply; send(request)" in early and "apply; send(request)" not in plain
    assert "apply_early=True" in early


def test_a_state_no_row_enters_is_marked():
    dot = D.profile_machine_dot("ikev2", Role.RESPONDER)
    ready, rr_wait = (line for line in dot.splitlines() if line.startswith(('  "READY" [', '  "RR_WAIT" [')))
    assert "no row enters it" in rr_wait and "DASHED" in rr_wait
    assert "no row enters it" not in ready
    assert "no row enters it" not in D.profile_machine_dot("mm", Role.RESPONDER)


# --------------------------------------------------------------------------- the committed diagrams


@pytest.fixture(scope="module")
def standard():
    return D.standard_drawings(default_scenario())


def test_committed_diagrams_are_fresh(standard):
    stale = []
    for d in standard:
        path = DIAGRAMS / f"{d.stem}.dot"
        if not path.is_file() or path.read_text(encoding="utf-8") != d.dot:
            stale.append(path.name)
        if d.text is not None and (DIAGRAMS / f"{d.stem}.txt").read_text(encoding="utf-8") != d.text:
            stale.append(f"{d.stem}.txt")
        table = DIAGRAMS / f"{d.stem}.md"
        if d.table is not None and (not table.is_file() or table.read_text(encoding="utf-8") != d.table):
            stale.append(table.name)
        assert (DIAGRAMS / f"{d.stem}.svg").is_file()
    if (DIAGRAMS / "README.md").read_text(encoding="utf-8") != D.index_text(default_scenario(), standard):
        stale.append("README.md")
    extra = {p.stem for p in DIAGRAMS.glob("*.dot")} - {d.stem for d in standard}
    extra |= {p.stem for p in DIAGRAMS.glob("*.md")} - {d.stem for d in standard if d.table} - {"README"}
    assert not stale and not extra, f"diagrams/ is stale ({', '.join(stale + sorted(extra))}): run `ipsecmm diagrams`"
    files = sorted(["README.md", *(f"{d.stem}.{ext}" for d in standard for ext in ("dot", "svg", "txt", "md")
                                   if (ext != "txt" or d.text is not None) and (ext != "md" or d.table is not None))])
    assert owned_files(DIAGRAMS) == {"diagrams": files}, "diagrams/.ipsecmm-manifest is stale: run `make diagrams`"


def test_standard_set_covers_every_profile_and_role(standard):
    stems = {d.stem for d in standard}
    assert {d.stem for d in standard if d.table} == {D.machine_name(p, r) for p in PROFILE_NAMES for r in Role}
    assert stems == {D.machine_name(p, r) for p in PROFILE_NAMES for r in Role} | {f"states-default-{p}" for p in PROFILE_NAMES}


def test_rendering_is_deterministic_and_clean(standard):
    again = D.standard_drawings(default_scenario(), ("ikev2",))
    assert [d.dot for d in again] == [d.dot for d in standard if "-ikev2" in d.stem]
    for d in standard:
        res = subprocess.run(["dot", "-Tsvg"], input=d.dot.encode(), capture_output=True, check=True)
        assert res.stderr == b"", f"{d.stem}: {res.stderr.decode()}"


# --------------------------------------------------------------------------- runs


def fired_labels(run: Run) -> list[tuple[int, str, str, str]]:
    m = run.model()
    return [(f.step, "IR"[f.peer], f.role.name, m.rows_list[f.role][f.row].label) for f in D.firings(run)]


def test_firings_name_the_row_each_step_takes(rr_run):
    assert fired_labels(rr_run) == [
        (1, "I", "INITIATOR", "act_update / send(request)"),
        (2, "R", "RESPONDER", "recv_update [needs return routability] / hold; send(RR_CHALLENGE)"),
        (3, "I", "RESPONDER", "recv_rr_challenge / send(echo)"),
        (4, "R", "RESPONDER", "recv_rr_echo / verify; apply; answer(OK)"),
        (5, "I", "INITIATOR", "recv_response / apply; report"),
    ]


def test_a_refusal_fires_its_check_row():
    sc = builtin_scenario("fallback")
    m = Model(sc, "mm")
    run = Run(sc, "mm", [act(m, Action.UPDATE, "web", "a1", "a2"), deliver(0), deliver(1)])
    assert [label for *_, label in fired_labels(run)] == [
        "act_update / send(request)",
        "recv_update [policy needs stronger protection] / refuse(PROTECTION)",
        "recv_response [refused] / report",
    ]


@pytest.fixture(scope="module")
def checked_runs() -> list[Run]:
    report = Checker(builtin_scenario("fallback"), None, z3_engine=False).run(PROFILE_NAMES)
    runs = [run for pr in report.profiles for v in pr.verdicts.values() for run in v.runs]
    assert len(runs) > 20
    return runs


def test_firings_agree_with_the_transitions_runtime(checked_runs):
    # The recorder dispatches on the compiled tables; the replay runs the
    # transitions machines.  Each fired row must start where the replayed
    # machine was and end where it went.
    for run in checked_runs:
        steps = run.replay()
        m = run.model()
        for f in D.firings(run):
            w, _, _, w2 = steps[f.step - 1]
            before, after = w.peers[f.peer], w2.peers[f.peer]
            if f.row is None:
                assert after == before
                continue
            row = m.rows_list[f.role][f.row]
            if f.role == Role.INITIATOR:
                assert (before.ini.st, after.ini.st) == (row.src, row.dst), (run.label, f)
            else:
                assert (before.rsp.st, after.rsp.st) == (row.src, row.dst), (run.label, f)


def test_highlighted_machines_mark_exactly_the_fired_rows(rr_run):
    dots = dict(D.run_machine_dots(rr_run, "t"))
    assert set(dots) == {"t-I-initiator", "t-I-responder", "t-R-responder"}
    fired = {(f.peer, f.role, f.row) for f in D.firings(rr_run)}
    for stem, dot in dots.items():
        doc = graphviz_json(dot)
        peer = "IR".index(stem.split("-")[1])
        role = Role.INITIATOR if stem.endswith("initiator") else Role.RESPONDER
        mine = {row for p, r, row in fired if p == peer and r == role}
        steps = {f.row: f.step for f in D.firings(rr_run) if (f.peer, f.role) == (peer, role)}
        cells = [(attrs, text) for node in doc["objects"] for line in matrix(node["label"]) for attrs, text in line
                 if cell_rows(attrs)]
        marked = [(cell_rows(attrs), text) for attrs, text in cells if attrs.get("BORDER") == "2"]
        assert all(attrs.get("COLOR") == D.FIRED for attrs, _ in cells if attrs.get("BORDER") == "2")
        # A cell is marked iff it holds a fired row, and says at which step.
        assert sorted(k for ks, _ in marked for k in ks if k in mine) == sorted(mine)
        for ks, text in marked:
            (k,) = [k for k in ks if k in mine]
            assert text.endswith(f"step {steps[k]}")
        for e in doc.get("edges", []):  # an arrow is red iff it carries a fired row
            on = {int(k) for k in re.findall(r"row (\d+):", e["tooltip"])}
            assert (e.get("class") == "fired") == bool(on & mine)
    assert "\\nstep 5\"" in dots["t-I-initiator"]  # the arrow back to IDLE, at the answer


def test_sequence_chart_shows_every_message_and_step(rr_run):
    svg = D.sequence_svg(rr_run, "chart-1")
    root = ET.fromstring(svg)
    ns = {"s": "http://www.w3.org/2000/svg"}
    arrows = root.findall(".//s:line[@class='msg']", ns)
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert len(arrows) == 4 == rr_run.mermaid().count("->>")
    assert [t for t in texts if t and t.isdigit()] == ["1", "2", "3", "4", "5"]
    assert "UPDATE web a1→a2 mid=2 [a1→r1]" in texts and "user: UPDATE(web, a1→a2)" in texts
    ids = [el.get("id") for el in root.iter() if el.get("id")]
    assert ids and all(i.startswith("chart-1") for i in ids)
    assert D.sequence_svg(rr_run, "chart-1") == svg


def test_sequence_chart_draws_losses_and_notes():
    sc = default_scenario()
    m = Model(sc, "mm")
    from ipsecmm.model import InKind, Input

    run = Run(sc, "mm", [act(m, Action.UPDATE, "web", "a1", "a2"), Input(InKind.DROP, 0, 0), Input(InKind.TIMEOUT, 0)])
    root = ET.fromstring(D.sequence_svg(run, "x"))
    ns = {"s": "http://www.w3.org/2000/svg"}
    assert len(root.findall(".//s:line[@class='lost']", ns)) == 1
    assert not root.findall(".//s:line[@class='msg']", ns)
    texts = [t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert any(t.startswith("lost: UPDATE web") for t in texts)
    assert "retransmission timer fires" in texts


def test_a_counterexample_marks_the_step_where_it_fails():
    run = inv_rr_run()
    root = ET.fromstring(D.sequence_svg(run, "c"))
    ns = {"s": "http://www.w3.org/2000/svg"}
    band = root.find(".//s:rect[@class='violation']", ns)
    assert band is not None and band.get("id") == "c-violation"
    top, bottom = float(band.get("y")), float(band.get("y")) + float(band.get("height"))
    # The band holds step 2 (the delivery R answers and starts sending to a2), not step 1.
    steps = {t.text: float(t.get("y")) for t in root.findall(".//s:text", ns) if "step" in (t.get("class") or "")}
    assert top < steps["2"] < bottom and not top < steps["1"] < bottom
    assert [t.text for t in root.findall(".//s:text[@class='step bad']", ns)] == ["2"]
    (arrow,) = root.findall(".//s:line[@class='msg']", ns)
    assert top < float(arrow.get("y1")) < bottom
    caption = " ".join(t.text or "" for t in root.findall(".//s:text[@class='caption']/s:tspan", ns))
    assert caption.startswith("✗ step 2: INV-RR fails in the state this step enters")
    assert "a peer sends only to addresses verified" in caption and "out{a2}" in caption
    lines = run.table().splitlines()
    assert lines[2].startswith("  2✗ net") and not lines[1].startswith("  1✗")
    assert lines[3].split() == ["✗", *run.violation()[1].split()]
    assert "Note over I,R: ✗ step 2: INV-RR fails" in run.mermaid()
    # A run that records no failure (a witness) is drawn without any mark.
    plain = Run(run.scenario, run.profile, run.inputs)
    plain_svg = D.sequence_svg(plain, "c")
    assert 'class="violation"' not in plain_svg and "✗" not in plain_svg + plain.table() + plain.mermaid()


def test_a_failing_initial_state_is_marked_before_the_first_step():
    run = inv_rr_run()
    run.extra = violation_extra("INV-X", 0, "state", "")
    assert run.table().splitlines()[1].startswith("  0✗")
    root = ET.fromstring(D.sequence_svg(run, "c"))
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text") if t.get("class") in ("step", "step bad")]
    assert texts == ["0", "1", "2"]


# --------------------------------------------------------------------------- state graphs


@pytest.fixture(scope="module")
def small_graph() -> D.StateGraph:
    return D.explore_graph(Model(builtin_scenario("fallback"), "ikev2"), keep_edges=True)


def test_small_state_graph_is_drawn_whole(small_graph):
    g = small_graph
    assert g.stats.states < D.MAX_NODES
    d = D.region_drawing(g, set(range(g.stats.states)), "s", "t")
    doc = graphviz_json(d.dot)
    assert d.text is None
    assert len(doc["objects"]) == g.stats.states
    assert len(doc["edges"]) == g.stats.transitions


def test_large_region_is_summarised_not_drawn(small_graph):
    g = small_graph
    d = D.region_drawing(g, set(range(g.stats.states)), "s", "t", cap=50)
    assert d.text is not None and f"{g.stats.states:,} states" in d.text
    doc = graphviz_json(d.dot)
    assert len(doc["objects"]) == len(g.clusters) < 50
    counted = sum(int(re.search(r"([\d,]+) states", o["label"]).group(1).replace(",", "")) for o in doc["objects"])
    assert counted == g.stats.states
    rows = [line for line in d.text.splitlines() if re.match(r"^(IDLE|WAIT|DEAD) ", line)]
    assert len(rows) == len(g.clusters)


def test_region_around_a_state(small_graph):
    g = small_graph
    m = g.model
    succ = {g.explorer.index[w2] for _, w2 in m.successors(g.worlds[0])}
    pred = {i for i, _, j in g.edges if j == 0}
    assert D.around(g, 0, 0) == {0}
    assert D.around(g, 0, 1) == {0} | succ | pred
    assert D.around(g, 0, 2) > D.around(g, 0, 1)
    with pytest.raises(D.DiagramError, match="no state 100000"):
        D.around(g, 100000, 1)


def test_region_along_a_run_highlights_its_path():
    sc = builtin_scenario("fallback")
    m = Model(sc, "mm")
    run = Run(sc, "mm", [act(m, Action.UPDATE, "web", "a1", "a2"), deliver(0), deliver(1)])
    g = D.explore_graph(m, keep_edges=True)
    region, path = D.along(g, run)
    assert len(path) == 4 and path[0] == 0 and region == set(path)
    assert [g.explorer.depth[j] for j in path] == [0, 1, 2, 3]
    dot = D.state_dot(g, region, "p", "t", path)
    doc = graphviz_json(dot)
    assert len(doc["objects"]) == 4
    assert sum(1 for e in doc["edges"] if e.get("color") == D.FIRED) == 3


# --------------------------------------------------------------------------- the verb


def test_diagrams_verb_writes_dot_and_svg(tmp_path, capsys):
    assert main(["diagrams", "--profile", "ikev2", "--out", str(tmp_path)]) == 0
    names = {p.name for p in tmp_path.iterdir()}
    assert {"machine-ikev2-initiator.dot", "machine-ikev2-initiator.svg", "machine-ikev2-responder.dot",
            "machine-ikev2-responder.svg", "machine-ikev2-initiator.md", "machine-ikev2-responder.md",
            "states-default-ikev2.dot", "states-default-ikev2.svg", "states-default-ikev2.txt", "README.md",
            ".ipsecmm-manifest"} == names
    out = capsys.readouterr().out
    assert "3,233 states" in out and "summarised" in out
    svg = ET.parse(tmp_path / "machine-ikev2-initiator.svg").getroot()
    xlink = "{http://www.w3.org/1999/xlink}"
    links = [(a.get(f"{xlink}href"), a.get(f"{xlink}title")) for a in svg.iter("{http://www.w3.org/2000/svg}a")]
    # In the SVG itself: every row is in some cell's or arrow's tooltip, and each link opens the table beside it.
    shown = Counter(int(k) for _, title in links for k in re.findall(r"^row (\d+):", title or "", re.M))
    assert set(shown) == set(range(len(D.table_rows("ikev2", Role.INITIATOR))))
    table = (tmp_path / "machine-ikev2-initiator.md").read_text()
    for href, _ in links:
        file, anchor = href.split("#")
        assert file == "machine-ikev2-initiator.md" and f'<a id="{anchor}"></a>' in table


def test_diagrams_verb_draws_a_saved_run(tmp_path, rr_run):
    saved = tmp_path / "run.json"
    saved.write_text(json.dumps({"runs": [rr_run.to_json()]}))
    assert main(["diagrams", "--run", str(saved), "--out", str(tmp_path / "out"), "--no-svg"]) == 0
    names = {p.name for p in (tmp_path / "out").iterdir()}
    assert names == {"run-run-1-I-initiator.dot", "run-run-1-I-responder.dot", "run-run-1-R-responder.dot",
                     "run-run-1-I-initiator.md", "run-run-1-I-responder.md", "run-run-1-R-responder.md",
                     "run-run-1-states.dot", "run-run-1-sequence.svg", "run-run-1-sequence.mmd", ".ipsecmm-manifest"}
    assert (tmp_path / "out" / "run-run-1-sequence.mmd").read_text() == rr_run.mermaid() + "\n"


def test_diagrams_verb_around_a_state(tmp_path):
    assert main(["diagrams", "--scenario", "scenarios/fallback.toml", "--profile", "ikev2", "--around", "0",
                 "--hops", "1", "--out", str(tmp_path), "--no-svg"]) == 0
    dot = (tmp_path / "states-fallback-ikev2-around-0.dot").read_text()
    assert '"s0" [' in dot and "peripheries=2" in dot


@pytest.mark.parametrize("args, message", [
    (["--around", "99999", "--profile", "ikev2"], "no state 99999"),
    (["--max-nodes", "0"], "--max-nodes"),
    (["--hops", "-1", "--around", "0"], "--hops"),
    (["--run", "does-not-exist.json"], "does-not-exist.json"),
])
def test_diagrams_verb_bad_input(tmp_path, capsys, args, message):
    assert main(["diagrams", "--out", str(tmp_path), *args]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and message in err and err.startswith("ipsecmm diagrams")


def test_diagrams_verb_rejects_a_file_that_is_not_a_run(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"format": "something else"}))
    assert main(["diagrams", "--run", str(bad), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "not an ipsecmm run" in err and err.count("\n") == 1
    bad.write_text("{")
    assert main(["diagrams", "--run", str(bad), "--out", str(tmp_path / "out")]) == 2
    assert "line 1 column 2: not valid JSON" in capsys.readouterr().err


def test_standalone_drawings_of_a_run_render_in_a_browser(tmp_path):
    """``diagrams --run runs/INV-RR.ikev2.json`` names its files after the run
    file, dots included; every SVG must still paint its boxes and arrows."""
    saved = tmp_path / "INV-RR.ikev2.json"
    saved.write_text(json.dumps({"requirement": "INV-RR", "runs": [inv_rr_run().to_json()]}))
    out = tmp_path / "out"
    assert main(["diagrams", "--run", str(saved), "--out", str(out)]) == 0
    svgs = sorted(out.glob("*.svg"))
    assert {p.name for p in svgs} >= {"run-INV-RR.ikev2-1-sequence.svg", "run-INV-RR.ikev2-1-R-responder.svg"}
    for svg in svgs:
        root = ET.parse(svg).getroot()
        ids = [el.get("id") for el in root.iter() if el.get("id")]
        assert ids and all(re.fullmatch(r"[A-Za-z][A-Za-z0-9_-]*", i) for i in ids), svg.name
        rows = screenshot(tmp_path, svg.as_uri(), 900, 700)
        # Every drawing fills its boxes (actors, states) with the same light blue.
        assert count_colour(rows, bytes.fromhex(D.STATE_FILL[1:])) > 3000, f"{svg.name}: no box painted"
        if svg.name.endswith("-sequence.svg"):
            assert count_colour(rows, b"\x00\x00\x00") < 2000, "black boxes: the chart's CSS did not apply"
            # The message arrow is painted along its whole length (its stroke comes from the CSS).
            left = float(root.get("viewBox").split()[0])
            line = root.find(".//{http://www.w3.org/2000/svg}line[@class='msg']")
            x1, x2, y = float(line.get("x1")) - left, float(line.get("x2")) - left, float(line.get("y1"))
            xs = range(int(min(x1, x2)) + 10, int(max(x1, x2)) - 10)
            dark = [x for x in xs if min(sum(rows[r][3 * x:3 * x + 3]) for r in (int(y) - 1, int(y))) < 3 * 160]
            assert len(dark) > 0.9 * len(xs), f"the message arrow is not drawn ({len(dark)} of {len(xs)} pixels)"
            assert count_colour(rows, bytes.fromhex(D.VIOLATION_FILL[1:])) > 5000, "the failing step is not marked"
