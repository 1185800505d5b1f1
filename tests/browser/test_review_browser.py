"""Review copies as reviewers read and sign them, opened in Chromium with the network cut off,
and their PDFs.

An interactive session's copy shows the explorer's final state; a batch run's copies read as
documents: no developer text, no NaN, diagrams drawn offline, every table cell inside the
printed page, the readiness review opening with its verdict and sign-off block. The PDFs carry
a running header (project, document, as-of date) and page numbers, keep headings with what
follows them, and print each cost-plan chart once.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
import sys

import pytest
from playwright.sync_api import expect

from opslib.documents import cost_plan as cost
from opslib.notebook.cost_plan import breakdown_html
from opslib.params.models import load_params
from opslib.run.export import export_review

from .conftest import REPO, chromium_path

pytestmark = [pytest.mark.browser, pytest.mark.kernel]

PARAMS = REPO / "parameters" / "weather-api.yaml"
PRINT_WIDTH = round(190 / 25.4 * 96)  # A4 less the 10 mm side margins export_pdf prints with, in CSS pixels
DEVELOPER_TEXT = ("opslib batch", "Preview only", "Wrote ", "papermill", "params_path", "out_dir", "Traceback (most recent")


@pytest.fixture(scope="module")
def interactive_review(tmp_path_factory):
    """10-cost-plan for weather-api as a person runs it (explorer on), and its review copy."""
    tmp = tmp_path_factory.mktemp("review")
    executed = tmp / "10-cost-plan.ipynb"
    # in a process of its own: Playwright keeps an asyncio loop running in this one, beside which
    # nbclient may hang; a second try covers a lost cell reply (conftest.execute_notebook)
    cmd = [sys.executable, "-m", "papermill", str(REPO / "notebooks" / "10-cost-plan.ipynb"), str(executed),
           "-p", "params_path", str(PARAMS), "-p", "out_dir", str(tmp / "build"), "-p", "interactive", "True",
           "-k", "python3", "--cwd", str(REPO / "notebooks"), "--execution-timeout", "120", "--no-progress-bar"]
    for attempt in (1, 2):
        run = subprocess.run(cmd, capture_output=True, text=True, timeout=400)
        if run.returncode == 0 or attempt == 2 or "Timeout" not in run.stderr:
            break
    assert run.returncode == 0, run.stderr[-3000:]
    target = tmp / "review" / "10-cost-plan.html"
    export_review(executed, target)
    return executed, target


@pytest.fixture(scope="module")
def batch_review(tmp_path_factory):
    """`opslib batch` for weather-api (on a copy of the repository): its review copies and what it printed."""
    root = tmp_path_factory.mktemp("batch") / "repo"
    for folder in ("notebooks", "parameters", "examples"):
        shutil.copytree(REPO / folder, root / folder)
    run = subprocess.run([sys.executable, "-m", "opslib.cli", "batch", "parameters/weather-api.yaml", "--out", "build", "--jobs", "1", "--quiet"],
                         cwd=root, capture_output=True, text=True, timeout=400)
    assert run.returncode == 0, run.stderr
    return root / "build" / "weather-api" / "review", run


def visible_text(page) -> str:
    return page.locator("body").inner_text()


@pytest.mark.timeout(420)  # its fixture runs a notebook: two tries of 120 s a cell at worst
def test_review_of_a_session_shows_the_explorers_final_state(interactive_review, page, screenshot):
    executed, target = interactive_review
    params = load_params(PARAMS)
    state = json.loads(executed.read_text())["metadata"]["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    boxes = [m["state"]["value"] for m in state.values() if m["model_name"] == "FloatTextModel"]
    assert sorted(boxes) == sorted(d.expected for d in params.cost.drivers.values())

    page.goto(target.as_uri())
    assert page.title() == "10 · Cost plan — weather-api"
    assert page.locator("header.opslib-review .opslib-project").inner_text() == "weather-api"
    assert page.locator("header.opslib-review .opslib-as-of").inner_text() == params.project.as_of.isoformat()
    for href in page.locator("nav.opslib-toc a").evaluate_all("links => links.map(a => a.getAttribute('href'))"):
        assert page.locator(f"[id='{href[1:]}']").count() >= 1, href  # every entry points at a heading
    # the widgets, rendered offline from their saved state: the values typed and the total computed
    total = page.locator(".widget-html-content p", has_text=re.compile("^Total: "))
    expected = html.unescape(re.sub(r"<[^>]+>", "", re.match(r"<p>(.*?)</p>", breakdown_html(cost.estimate(params))).group(1)))
    expect(total).to_have_text(expected, timeout=20_000)
    typed = page.locator(".opslib-control input").evaluate_all("inputs => inputs.map(i => Number(i.value))")
    assert sorted(typed[:-1]) == sorted(boxes) and typed[-1] == params.production.replicas.max
    assert "Cost explorer" not in visible_text(page) and page.locator("mjx-container").count() == 0
    assert not [t for t in DEVELOPER_TEXT if t in visible_text(page)]
    # nothing left the machine: every request was file:, data: or blob:, and nothing failed
    assert page.requests.all and not page.requests.external, page.requests.external
    assert all(u.startswith(("file:", "data:", "blob:")) for u in page.requests.all), page.requests.all
    assert not page.requests.failed, page.requests.failed


@pytest.mark.timeout(420)
def test_batch_review_copies_read_as_documents(batch_review, page, screenshot):
    folder, run = batch_review
    assert not [ln for ln in run.stderr.splitlines() if "ERROR" in ln or "Traceback" in ln], run.stderr  # a quiet, correct run
    copies = sorted(folder.glob("*.html"))
    assert [p.stem for p in copies] == ["10-cost-plan", "15-cost-actuals", "20-secret-inventory", "30-runbook", "40-cicd-pipeline",
                                        "90-readiness-review"]
    for copy in copies:
        page.goto(copy.as_uri())
        text = visible_text(page)
        assert not [t for t in DEVELOPER_TEXT if t in text], (copy.name, [t for t in DEVELOPER_TEXT if t in text])
        assert "NaN" not in text and "flowchart LR" not in text and page.locator("mjx-container").count() == 0, copy.name
        assert page.locator(".jp-CodeCell .jp-InputArea").count() == 0  # no code
        # every table cell, code block and picture inside the printed page's width
        page.set_viewport_size({"width": PRINT_WIDTH, "height": 1000})
        page.emulate_media(media="print")
        outside = page.evaluate("""(w) => [...document.querySelectorAll('td, th, pre, img, svg')]
            .map(e => [e.tagName, e.getBoundingClientRect(), (e.innerText || e.getAttribute('alt') || '').slice(0, 40)])
            .filter(([t, r]) => (r.width || r.height) && (r.right > w + 0.5 || r.left < -0.5))
            .map(([t, r, s]) => `${t} ${Math.round(r.left)}–${Math.round(r.right)}: ${s}`)""", PRINT_WIDTH)
        assert not outside, (copy.name, outside[:5])
        assert page.locator("td").count() > 0 or copy.stem == "15-cost-actuals", copy.name
        page.emulate_media(media="screen")
        page.set_viewport_size({"width": 1280, "height": 900})
        if copy.stem == "10-cost-plan":
            charts = page.locator("img[src^='data:image/png']")
            assert charts.count() == 3  # each chart once: in the document, not beside it too
            assert all(w > 100 for w in charts.evaluate_all("imgs => imgs.map(i => i.naturalWidth)"))
            page.locator("header.opslib-review").scroll_into_view_if_needed()
            screenshot(page, "review-export")
        if copy.stem == "30-runbook":
            page.locator("header.opslib-review").scroll_into_view_if_needed()
            screenshot(page, "review-weather-api")
        if copy.stem == "40-cicd-pipeline":
            assert page.locator("img[src^='data:image/svg+xml'], .jp-RenderedSVG svg").count() >= 1  # the stage diagram, drawn offline
        if copy.stem == "90-readiness-review":
            first_output = page.locator(".jp-OutputArea-output").nth(1)  # after the status line
            expect(first_output.locator(".opslib-verdict")).to_contain_text("Verdict:")
            signoff = page.locator(".opslib-signoff-table tbody tr")
            params = load_params(PARAMS)
            rows = [r.split("\t") for r in signoff.all_inner_texts()]
            assert [r[0] for r in rows] == ["Technical review", "Cost approval", "Stakeholder sign-off"]  # one line per role
            assert rows[1][1] == " or ".join(params.cost.approvers)  # any one of the cost approvers signs
            assert "overall 100" not in text and "not measured" in text
            page.locator(".opslib-verdict").scroll_into_view_if_needed()
            screenshot(page, "review-readiness")
    assert not page.requests.external, page.requests.external


@pytest.mark.timeout(180)
def test_pdfs_ready_to_sign(batch_review, tmp_path):
    """`opslib export-pdf` (its own process: the session's Playwright owns this thread's event loop)."""
    from pypdf import PdfReader

    folder, _ = batch_review
    params = load_params(PARAMS)
    copies = sorted(folder.glob("*.html"))
    run = subprocess.run([sys.executable, "-m", "opslib.cli", "export-pdf", *map(str, copies), "--out", str(tmp_path / "pdf"),
                          "--browser", chromium_path()], capture_output=True, text=True, timeout=170)
    assert run.returncode == 0, run.stderr
    for copy in copies:
        pdf = tmp_path / "pdf" / f"{copy.stem}.pdf"
        assert pdf.read_bytes().startswith(b"%PDF-")
        pages = PdfReader(str(pdf)).pages
        title = re.search(r"<title>(.*?) — weather-api</title>", copy.read_text()).group(1)
        texts = [p.extract_text() for p in pages]
        for i, t in enumerate(texts, 1):  # the running header and the page number on every page
            assert f"weather-api · {html.unescape(title)}" in t and f"as of {params.project.as_of.isoformat()}" in t, (pdf.name, i)
            assert f"page {i} of {len(pages)}" in t, (pdf.name, i)
        # a heading never ends a page: the heading lines that occur once are followed on their page
        headings = {html.unescape(re.sub(r"<[^>]+>", "", h)).replace("¶", "").strip()
                    for h in re.findall(r"<h[1-4][^>]*>(.*?)</h[1-4]>", copy.read_text(), re.S)}
        lines = [[ln.strip() for ln in t.splitlines() if ln.strip() and not ln.startswith("page ") and " as of " not in ln] for t in texts]
        once = {h for h in headings if h and sum(ln == h for page in lines for ln in page) == 1}
        stranded = [(i + 1, page[-1]) for i, page in enumerate(lines[:-1]) if page and page[-1] in once]
        assert not stranded, (pdf.name, stranded)
        if copy.stem == "10-cost-plan":
            assert sum(len(p.images) for p in pages) == 3  # each chart once
