"""The review report: content, determinism, offline use, and a real browser.

The check behind the report runs on the small ``fallback`` scenario without
z3, so the whole file takes seconds; the verdicts themselves are tested
elsewhere, here only how they are shown.
"""

from __future__ import annotations

import html
import json
import re
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pytest
from browser import count_colour, headless, png_rows

from ipsecmm.cli import main
from ipsecmm.gen import _report as R
from ipsecmm.model import PROFILE_NAMES, Role, builtin_scenario
from ipsecmm.properties import REGISTRY

FINDINGS = """# Findings

## FIND-4.1-ORDER: update before sending

Read literally, section 4.1 has the node update **before** it asks; see `apply_early`.

- the peers *disagree* after a refusal
- the checker shows a run

| reading | INV-AGREE |
|---|---|
| default | holds |

```text
<script>alert(1)</script>
```
"""

COVERAGE = {"vectors": 12, "profiles": {"mm": {"rows": 160, "covered": 150}}, "missing": ["r3", "r9"]}


class Tags(HTMLParser):
    """Every start tag with its attributes, and the text inside each element with an id."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))


def tags_of(page: str) -> list[tuple[str, dict[str, str]]]:
    p = Tags()
    p.feed(page)
    return p.tags


@pytest.fixture(scope="module")
def report():
    return R.run_check(builtin_scenario("fallback"), PROFILE_NAMES, z3=False, jobs=1)


@pytest.fixture(scope="module")
def svgs(report):
    return R.machine_svgs(report)


@pytest.fixture(scope="module")
def extras(tmp_path_factory):
    d = tmp_path_factory.mktemp("extras")
    (d / "findings.md").write_text(FINDINGS)
    (d / "vectors" / "coverage").mkdir(parents=True)
    (d / "vectors" / "coverage" / "mm.json").write_text(json.dumps(COVERAGE))
    return R.read_findings(d / "findings.md"), R.read_coverage(d / "vectors")


@pytest.fixture(scope="module")
def page(report, svgs, extras):
    return R.build(report, *extras, svgs, timings=True)


# --------------------------------------------------------------------------- content


def test_matrix_has_a_linked_coloured_cell_per_verdict(report, page):
    tags = tags_of(page.html)
    ids = {a["id"] for _, a in tags if "id" in a}
    cells = [a for t, a in tags if t == "td" and "cell" in a.get("class", "").split()]
    assert len(cells) == len(REGISTRY) * len(PROFILE_NAMES)
    links = [a["href"] for t, a in tags if t == "a" and a.get("href", "").startswith("#v-")]
    k = 0
    for r in REGISTRY:
        for p in PROFILE_NAMES:
            v = report.verdict(r.id, p)
            cell = cells[k]
            assert cell["data-status"] == v.status
            assert f"st-{v.status}" in cell["class"].split()
            assert ("vacuous" in cell["class"].split()) == v.vacuous == (cell["data-vacuous"] == "true")
            assert links[k] == "#" + R.anchor("v", r.id, p) and links[k][1:] in ids
            k += 1
    assert any(v.vacuous for pr in report.profiles for v in pr.verdicts.values())


def test_a_reproduced_finding_does_not_read_as_a_plain_pass(report, page):
    """A FIND-* row that holds says "reproduced" (the legend says why), in
    HTML and Markdown; its status stays "holds" for whatever reads the JSON."""
    from ipsecmm.cli import report_json
    from ipsecmm.properties import REPRODUCED, REPRODUCED_MEANING

    found = [(r, p) for r in REGISTRY for p in PROFILE_NAMES
             if r.kind == "finding" and report.verdict(r.id, p).status == "holds"]
    assert found
    doc = {q["id"]: q for q in report_json(report, {})["requirements"]}
    for r, p in found:
        row = re.search(rf'<tr id="{R.anchor("m", r.id)}">(.*?)</tr>', page.html, re.S).group(1)
        cell = re.search(rf'<td [^>]*data-status="holds"[^>]*><a href="#{R.anchor("v", r.id, p)}">([^<]*)</a>', row)
        assert cell is not None and cell.group(1) == REPRODUCED
        md_row = next(line for line in page.markdown.splitlines() if line.startswith(f"| [{r.id}]("))
        assert md_row.split("|")[3 + PROFILE_NAMES.index(p)].strip() == REPRODUCED
        assert doc[r.id]["verdicts"][p]["status"] == "holds"
    others = [report.verdict(r.id, p) for r in REGISTRY for p in PROFILE_NAMES if r.kind != "finding"]
    assert all(R.status_text(v) != REPRODUCED for v in others)
    legend = re.search(r'<p class="legend">(.*?)</p>', page.html, re.S).group(1)
    assert "for a finding, holds means the problem was reproduced" in legend and html.escape(REPRODUCED_MEANING) in legend
    assert f"*{REPRODUCED}*: {REPRODUCED_MEANING}" in page.markdown


def test_every_run_is_charted_with_its_step_table(report, page):
    runs = [run for r in REGISTRY for pr in report.profiles for run in pr.verdicts[r.id].runs]
    assert page.runs == len(runs) > 20
    figures = re.findall(r'<figure class="run" id="[^"]+">(.*?)</figure>', page.html, re.S)
    assert len(figures) == len(runs)
    for run, fig in zip(runs, figures, strict=True):
        assert '<svg xmlns="http://www.w3.org/2000/svg"' in fig and 'class="msc"' in fig
        assert f'<pre class="steps">{html.escape(run.table())}</pre>' in fig


def test_machine_diagrams_are_inline(report, page):
    for p in PROFILE_NAMES:
        for role in Role:
            fig = re.search(rf'<figure class="machine" id="fig-machine-{p}-{role.name.lower()}">(.*?)</figure>',
                            page.html, re.S)
            assert fig is not None and fig.group(1).count("<svg") == 1
            # Under each drawing, the table of every row; each cell of the drawing links to its row there.
            name = f"machine-{p}-{role.name.lower()}"
            rows = re.findall(rf'<tr id="{name}-row(\d+)">', fig.group(1))
            assert rows == [str(k) for k in range(len(R.D.table_rows(p, role, report.scenario)))]
            links = set(re.findall(r'xlink:href="#([^"]+)"', fig.group(1)))
            assert links and links <= {f"{name}-row{k}" for k in rows}


def table_texts(page: str, container_id: str) -> list[list[list[str]]]:
    """The tables inside the element with this id: each as rows of cell texts (head row first)."""
    start = page.index(f'id="{container_id}"')
    ends = [page.find(mark, start + 1) for mark in ("</section>", ' id="scenario-')]
    part = page[start:min(e for e in ends if e >= 0)]
    tables = re.findall(r"<table[^>]*>(.*?)</table>", part, re.S)
    return [[[html.unescape(re.sub(r"<[^>]+>", "", c)) for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
             for row in re.findall(r"<tr>(.*?)</tr>", t, re.S)] for t in tables]


def test_the_names_in_the_runs_are_explained(report, page):
    """Addresses, SAs, PAD and per-network policy of every scenario a run is
    on, in HTML and Markdown, and each run links to its scenario's legend."""
    from ipsecmm.model import _render as render

    shown = R.scenarios_shown(report)
    assert shown[0] is report.scenario
    runs = [run for r in REGISTRY for pr in report.profiles for run in pr.verdicts[r.id].runs]
    assert {run.scenario.name for run in runs} == {sc.name for sc in shown}
    for k, sc in enumerate(shown):
        tables = table_texts(page.html, R.anchor("scenario", str(k)))
        expected = render.scenario_tables(sc)
        assert tables == [[list(t.head), *map(list, t.rows)] for t in expected]
        addresses, _, pads, policies = tables
        assert [row[0] for row in addresses[1:]] == [a.name for a in sc.addresses]
        assert [row[4] for row in addresses[1:]] == [a.ip for a in sc.addresses]
        assert [row[5] for row in addresses[1:]] == ["yes" if a.up else "no" for a in sc.addresses]
        for peer, cfg in zip("IR", sc.peers, strict=True):
            assert [peer, ",".join(sc.names(cfg.pad))] in pads
            for net, pol in cfg.networks.items():
                assert [peer, net, "yes" if pol.accept else "no", "yes" if pol.require_rr else "no",
                        pol.min_protection.name.lower(), "scenario"] in policies
        md = page.markdown
        assert f"### Scenario {sc.name}" in md
        for t in expected:
            assert "\n".join("| " + " | ".join(row) + " |" for row in t.rows) in md
    for run, fig in zip(runs, re.findall(r'<figure class="run" id="[^"]+">(.*?)</figure>', page.html, re.S), strict=True):
        assert f'<a href="#{R.legend_anchor(shown, run.scenario)}">scenario {run.scenario.name}</a>' in fig
    assert any(cfg.networks for sc in shown for cfg in sc.peers)  # some policy rows were checked


def test_page_needs_nothing_from_outside(page):
    text = page.html
    assert not re.search(r"<script|<link|<iframe|<img|@import|url\(\s*['\"]?(https?:|//)", text, re.I)
    assert not re.search(r"\ssrc=", text)
    assert "<?xml" not in text and "<!DOCTYPE svg" not in text
    ids = re.findall(r'\sid="([^"]+)"', text)
    assert len(ids) == len(set(ids)), "duplicate ids: charts and diagrams must not clash"


def test_findings_and_coverage_are_shown(page):
    text = page.html
    assert "<h3>Findings</h3>" in text and "<h4>FIND-4.1-ORDER: update before sending</h4>" in text
    assert "<strong>before</strong>" in text and "<code>apply_early</code>" in text
    assert "<li>the peers <em>disagree</em> after a refusal</li>" in text
    assert "<td>default</td><td>holds</td>" in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text and "<script>" not in text
    assert "<th>covered</th><td>150</td>" in text and "r3, r9" in text
    md = page.markdown
    assert "### Findings" in md and "#### FIND-4.1-ORDER" in md
    assert '"covered": 150' in md


def test_vector_coverage_is_summarised(report, svgs):
    """With the coverage file ipsecmm vectors writes, the section opens on a summary table."""
    root = Path(__file__).resolve().parent.parent
    cov = json.loads((root / "vectors" / "coverage" / "mm.json").read_text())
    page = R.build(report, R.Attachment("docs/findings.md"), R.read_coverage(root / "vectors"), svgs)
    t = cov["transitions"]["responder"]
    assert 'id="coverage-summary"' in page.html
    assert f"<th>responder transitions</th><td>{t['covered']} covered / {t['reachable']} reachable / {t['total']} in the table" \
        in page.html
    assert f"{cov['vectors']} vectors, {cov['steps']} steps" in page.html
    assert f"| refusal reasons | {cov['reasons']['covered']} / {cov['reasons']['total']} |" in page.markdown
    assert R.coverage_rows({"vectors": 3}) is None  # another shape: only the generic view


def test_absent_findings_and_vectors_get_a_note(report, svgs, tmp_path):
    absent = R.build(report, R.Attachment("docs/findings.md"), R.Attachment("vectors/coverage/mm.json"), svgs)
    assert 'id="findings-missing"' in absent.html and "docs/findings.md" in absent.html
    assert 'id="coverage-missing"' in absent.html
    assert "No findings yet" in absent.markdown and "No conformance vectors yet" in absent.markdown
    assert R.read_coverage(tmp_path).present is False  # a vectors directory without coverage/mm.json


def test_markdown_has_the_matrix_and_mermaid_runs(report, page):
    md = page.markdown
    for r in REGISTRY:
        row = next(line for line in md.splitlines() if line.startswith(f"| [{r.id}]("))
        cells = [c.strip().strip("*") for c in row.split("|")[3:-1]]
        assert cells == [R.status_text(report.verdict(r.id, p), r) for p in PROFILE_NAMES]
    runs = [run for r in REGISTRY for pr in report.profiles for run in pr.verdicts[r.id].runs]
    blocks = re.findall(r"  ```mermaid\n(.*?)\n  ```", md, re.S)
    assert len(blocks) == len(runs)
    for run, block in zip(runs, blocks, strict=True):
        assert block == "\n".join("  " + line for line in run.mermaid().splitlines())


def test_timings_stay_in_their_own_section(report, svgs, extras, page):
    quiet = R.build(report, *extras, svgs, timings=False)
    assert 'id="timings"' in page.html and "took" in page.html
    assert 'id="timings"' not in quiet.html and "took" not in quiet.html
    # Without its timings section and their entry in the contents, the page is the quiet one.
    start, end = page.html.index("\n<!-- timings"), page.html.index("\n</main>")
    assert (page.html[:start] + page.html[end:]).replace('<a href="#timings">Timings</a>', "") == quiet.html
    assert page.markdown[:page.markdown.index("## Timings")].rstrip() + "\n" == quiet.markdown
    assert R.build(report, *extras, svgs, timings=True).html == page.html


def test_markdown_subset():
    out = R.markdown_to_html("# T\n\npara *a* and _b_ [x](y.md)\n\n1. one\n2. two\n   more\n\n> quoted\n\n---")
    assert out == ("<h3>T</h3>\n<p>para <em>a</em> and <em>b</em> <a href=\"y.md\">x</a></p>\n"
                   "<ol><li>one</li><li>two more</li></ol>\n<blockquote><p>quoted</p></blockquote>\n<hr>")
    nested = R.markdown_to_html("* **a, EXT-\\*, b.** text\n  more\n\n  ```\n  <code>\n  ```\n\n  after\n* `x\\*` second")
    assert nested == ("<ul><li><p><strong>a, EXT-*, b.</strong> text more</p>\n<pre><code>&lt;code&gt;</code></pre>\n"
                      "<p>after</p></li><li><code>x\\*</code> second</li></ul>")
    assert R.inline_md("[x](javascript:alert(1)) [y](https://e.org/a) <b>") == (
        'x) <a href="https://e.org/a">y</a> &lt;b&gt;')
    assert R.shift_markdown("# a\n```\n# not a heading\n```\n## b") == "### a\n```\n# not a heading\n```\n#### b"


# --------------------------------------------------------------------------- the verb


def build_cli(out: Path, *extra: str) -> int:
    return main(["report", "--scenario", "scenarios/fallback.toml", "--no-z3", "--jobs", "1", "--out", str(out),
                 *extra])


def test_two_builds_are_byte_identical_without_timings(tmp_path, capsys):
    assert build_cli(tmp_path / "a", "--no-timings") == 0
    assert build_cli(tmp_path / "b", "--no-timings") == 0
    assert "wrote" in capsys.readouterr().out
    for name in ("report.html", "report.md", "report.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    runs_a = sorted(p.name for p in (tmp_path / "a" / "runs").iterdir())
    assert runs_a and runs_a == sorted(p.name for p in (tmp_path / "b" / "runs").iterdir())
    doc = json.loads((tmp_path / "a" / "report.json").read_text())
    assert "seconds" not in json.dumps(doc)
    assert {r["id"] for r in doc["requirements"]} == {r.id for r in REGISTRY}
    linked = [v["run"] for r in doc["requirements"] for v in r["verdicts"].values() if "run" in v]
    assert linked and all((tmp_path / "a" / path).is_file() for path in linked)
    # Each run file has its capture beside it, linked from the page, the same bytes in both builds.
    from ipsecmm.wire import read_pcap

    html = (tmp_path / "a" / "report.html").read_text()
    for path in linked:
        capture = path.removesuffix(".json") + ".pcap"
        assert f'<a href="{capture}">capture</a>' in html
        assert (tmp_path / "a" / capture).read_bytes() == (tmp_path / "b" / capture).read_bytes()
        read_pcap((tmp_path / "a" / capture).read_bytes())
    assert any(read_pcap((tmp_path / "a" / (p.removesuffix(".json") + ".pcap")).read_bytes())[1] for p in linked)


@pytest.mark.parametrize("extra, message", [
    (["--findings", "no/such/findings.md"], "--findings no/such/findings.md: no such file"),
    (["--vectors", "no/such/vectors"], "--vectors no/such/vectors: no such directory"),
    (["--jobs", "0"], "--jobs"),
])
def test_report_verb_bad_input(tmp_path, capsys, extra, message):
    assert build_cli(tmp_path, *extra) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err and err.startswith("ipsecmm report")


def test_report_verb_rejects_malformed_coverage(tmp_path, capsys):
    (tmp_path / "coverage").mkdir()
    (tmp_path / "coverage" / "mm.json").write_text("{not json")
    assert build_cli(tmp_path / "out", "--vectors", str(tmp_path)) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "coverage/mm.json: not JSON" in err


def test_report_verb_needs_an_output_directory(capsys):
    assert main(["report", "--no-z3"]) == 2
    assert "--out" in capsys.readouterr().err


# --------------------------------------------------------------------------- a real browser


def test_report_renders_in_a_real_browser(report, svgs, extras, tmp_path):
    built = R.write(report, tmp_path / "out", *extras)
    url = (tmp_path / "out" / "report.html").as_uri()
    shot = tmp_path / "shot.png"
    res = headless(tmp_path, f"--screenshot={shot}", "--window-size=1280,2000", url)
    assert shot.is_file(), f"no screenshot: {res.stderr.decode(errors='replace')[-2000:]}"
    width, height, rows = png_rows(shot.read_bytes(), keep=2000)
    assert (width, height) == (1280, 2000)
    colours = {row[i:i + 3] for row in rows[::4] for i in range(0, len(row), 12)}
    assert len(colours) > 50, "the page looks blank"
    # The matrix cells are painted in their status colours: far more pixels of
    # each colour than the legend's one swatch could give.
    cells = Counter(report.verdict(r.id, p).status for r in REGISTRY for p in PROFILE_NAMES)
    assert {"holds", "violated", "not-applicable"} <= set(cells)
    for status, n in cells.items():
        painted = count_colour(rows, bytes.fromhex(R.STATUS_COLOUR[status][1:]))
        assert painted > 500 * n, f"{status}: {painted} pixels of {R.STATUS_COLOUR[status]} for {n} cells"

    dom = headless(tmp_path, "--dump-dom", url)
    assert dom.returncode == 0, dom.stderr.decode(errors="replace")[-2000:]
    tags = tags_of(dom.stdout.decode())
    assert any(t == "table" and a.get("id") == "matrix" for t, a in tags)
    cells = [a for t, a in tags if t == "td" and "cell" in a.get("class", "").split()]
    assert len(cells) == len(REGISTRY) * len(PROFILE_NAMES)
    assert sum(1 for t, _ in tags if t == "svg") == 6 + built.page.runs


def test_a_verdict_resting_on_a_declared_limit_is_marked():
    from ipsecmm.gen._report import status_text
    from ipsecmm.properties import Verdict

    plain, declared = Verdict("violated", "explorer"), Verdict("violated", "explorer", declared=["x (Profile.wire)"])
    assert status_text(plain) == "violated"
    assert status_text(declared) == "violated (declared)"
