"""The review copy of an executed notebook, opened in Chromium with the network cut off:
title, project, as-of date, contents, charts, tables, findings and the widgets' final state;
then printed to PDF for sign-off."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import papermill as pm
import pytest

from opslib.documents import cost_plan as cost
from opslib.notebook.cost_plan import breakdown_html
from opslib.params.models import load_params
from opslib.run.export import export_review

from .conftest import REPO, chromium_path

pytestmark = [pytest.mark.browser, pytest.mark.kernel]

PARAMS = REPO / "parameters" / "weather-api.yaml"


@pytest.fixture(scope="module")
def review(tmp_path_factory):
    """10-cost-plan for weather-api, executed as a person would (explorer on), and its review copy."""
    tmp = tmp_path_factory.mktemp("review")
    executed = tmp / "10-cost-plan.ipynb"
    pm.execute_notebook(str(REPO / "notebooks" / "10-cost-plan.ipynb"), str(executed),
                        parameters={"params_path": str(PARAMS), "out_dir": str(tmp / "build"), "interactive": True},
                        kernel_name="python3", progress_bar=False, cwd=str(REPO / "notebooks"))
    target = tmp / "review" / "10-cost-plan.html"
    export_review(executed, target)
    return executed, target


@pytest.mark.timeout(90)
def test_review_export_offline_with_widget_state(review, page, screenshot):
    from playwright.sync_api import expect

    executed, target = review
    params = load_params(PARAMS)
    state = json.loads(executed.read_text())["metadata"]["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    slider_values = {m["state"]["description"]: m["state"]["value"] for m in state.values()
                     if m["model_name"] == "FloatSliderModel"}
    assert set(slider_values) == set(params.cost.drivers)

    page.goto(target.as_uri())
    assert page.title() == "10 · Cost plan — weather-api"
    assert page.locator("header.opslib-review .opslib-project").inner_text() == "weather-api"
    assert page.locator("header.opslib-review .opslib-as-of").inner_text() == params.project.as_of.isoformat()
    toc = page.locator("nav.opslib-toc a")
    assert toc.count() >= 10
    for href in toc.evaluate_all("links => links.map(a => a.getAttribute('href'))"):
        assert page.locator(f"[id='{href[1:]}']").count() >= 1, href  # every entry points at a heading
    # charts: the three cost-plan PNGs, decoded
    images = page.locator(".jp-OutputArea-output > img[src^='data:image/png']")
    assert images.count() >= 3
    assert all(w > 100 for w in images.evaluate_all("imgs => imgs.map(i => i.naturalWidth)"))
    # tables and findings: the quality-bar checks and the cost plan's tables
    assert page.locator("table").count() >= 5
    # 14 quality-bar items pass, plus the truth rules' (their warnings: tests/test_truth.py)
    assert re.search(r"Quality-bar checks: (1[4-9]|[2-9]\d) pass", page.locator("body").inner_text())
    # no code: no input areas, no source
    assert page.locator(".jp-CodeCell .jp-InputArea, .jp-InputArea-editor").count() == 0 and "opslib.load_params" not in page.content()
    # the widgets, rendered offline from their saved state: slider readouts and the computed total
    total = page.locator(".widget-html-content p", has_text=re.compile("^Total: "))
    expected = re.sub(r"<[^>]+>", "", re.match(r"<p>(.*?)</p>", breakdown_html(cost.estimate(params))).group(1))
    expect(total).to_have_text(expected.replace("&amp;", "&"), timeout=20_000)
    for name, value in slider_values.items():
        slider = page.locator(".widget-slider", has=page.locator("label.widget-label", has_text=re.compile(f"^{name}$")))
        assert float(slider.locator(".widget-readout").inner_text()) == pytest.approx(value, rel=5e-3)
    page.locator("header.opslib-review").scroll_into_view_if_needed()
    screenshot(page, "review-export")
    # nothing left the machine: every request was file:, data: or blob:
    assert page.requests.all and not page.requests.external, page.requests.external
    assert all(u.startswith(("file:", "data:", "blob:")) for u in page.requests.all), page.requests.all
    assert not page.requests.failed, page.requests.failed  # and every image the page shows is in it


@pytest.mark.timeout(60)
def test_review_export_prints_to_pdf(review, tmp_path):
    """`opslib export-pdf` (its own process: the session's Playwright owns this thread's event loop)."""
    _, target = review
    run = subprocess.run([sys.executable, "-m", "opslib.cli", "export-pdf", str(target), "--out", str(tmp_path / "pdf"),
                          "--browser", chromium_path()], capture_output=True, text=True, timeout=50)
    assert run.returncode == 0, run.stderr
    pdf = tmp_path / "pdf" / "10-cost-plan.pdf"
    assert run.stdout.strip() == str(pdf)
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF-") and len(data) > 50_000
    assert len(re.findall(rb"/Type\s*/Page[^s]", data)) >= 3  # several A4 pages
