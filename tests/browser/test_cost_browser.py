"""The cost notebook as people use it: in JupyterLab and as the Voilà app, in real Chromium.

A slider is moved in the page and the total shown must become the one opslib computes, in
this process, with the same pure function (`cost.estimate`) for the same input.
"""

from __future__ import annotations

import html
import json
import re
import secrets
import shutil
import sys
import urllib.request
from pathlib import Path

import pytest

from opslib.documents import cost_plan as cost
from opslib.notebook.cost_plan import breakdown_html, cost_explorer
from opslib.params.models import load_params

from .conftest import REPO, free_port

pytestmark = [pytest.mark.browser, pytest.mark.kernel]


TOTAL = re.compile(r"^Total: ")


def total_line(plan) -> str:
    """The text of the explorer's total line, exactly as costview renders it for `plan`."""
    first = re.match(r"<p>(.*?)</p>", breakdown_html(plan)).group(1)
    return html.unescape(re.sub(r"<[^>]+>", "", first))


def expected_after(params_path, driver: str, factor: float = 2.0):
    """(value to type, total before, total after) for one driver, computed by opslib here."""
    params = load_params(params_path)
    ex = cost_explorer(params, charts=False)
    slider = ex.sliders[driver]
    before = total_line(ex.plan)
    value = round(slider.value * factor / slider.step) * slider.step
    slider.value = value
    plan = cost.estimate(params, ex.overrides())
    assert plan.expected == ex.plan.expected
    after = total_line(plan)
    assert after != before, "the chosen input must change the total"
    return value, before, after


def set_slider(page, driver: str, value: float) -> None:
    """Type a value into a slider's readout (what a person does for an exact number) and press Enter."""
    slider = page.locator(".widget-slider", has=page.locator("label.widget-label", has_text=re.compile(f"^{driver}$")))
    readout = slider.locator(".widget-readout")
    readout.scroll_into_view_if_needed()
    readout.click()
    readout.fill(f"{value:.10g}")
    readout.press("Enter")


@pytest.mark.timeout(90)
def test_jupyterlab_run_all_and_move_a_slider(tmp_path, page, server, jupyter_env, screenshot):
    from playwright.sync_api import expect

    root = tmp_path / "lab"
    for folder in ("notebooks", "parameters", "examples"):
        shutil.copytree(REPO / folder, root / folder)
    port, token = free_port(), secrets.token_hex(16)
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root", f"--port={port}", "--ServerApp.ip=127.0.0.1",
           "--ServerApp.open_browser=False", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
           "--LabApp.expose_app_in_browser=True", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
           "--ServerApp.port_retries=0"]

    def shutdown():
        urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{port}/api/shutdown?token={token}", method="POST"), timeout=5)

    lab = server(cmd, jupyter_env, tmp_path / "jupyterlab.log", cwd=root, polite=shutdown)
    lab.wait_ready(f"http://127.0.0.1:{port}/api/status?token={token}")
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/kernelspecs?token={token}", timeout=5) as r:
        assert json.loads(r.read())["default"] == "python3"  # the kernel the notebooks and batch name

    value, before, after = expected_after(root / "parameters" / "shop-platform.yaml", "monthly_requests")
    page.goto(f"http://127.0.0.1:{port}/lab/tree/notebooks/10-cost-plan.ipynb?token={token}")
    page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell.currentWidget"
                           " && window.jupyterapp.shell.currentWidget.sessionContext"
                           " && window.jupyterapp.shell.currentWidget.sessionContext.session"
                           " && window.jupyterapp.shell.currentWidget.sessionContext.session.kernel", timeout=45_000)
    page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").first.wait_for(timeout=30_000)
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    total = page.locator(".widget-html-content p", has_text=TOTAL)
    expect(total).to_have_text(before, timeout=45_000)
    assert not page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr'] >> text=Traceback").count()

    # the notebook's kernel (python3) is this venv's Python
    executable = page.evaluate("""async () => {
        const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
        const future = kernel.requestExecute({code: "import sys; print(sys.executable)", store_history: false});
        let out = "";
        future.onIOPub = msg => { if (msg.header.msg_type === "stream") out += msg.content.text; };
        await future.done;
        return out.trim();
    }""")
    assert Path(executable).resolve() == Path(sys.executable).resolve()

    set_slider(page, "monthly_requests", value)
    expect(total).to_have_text(after, timeout=15_000)
    page.locator(".widget-slider", has_text="monthly_requests").scroll_into_view_if_needed()
    screenshot(page, "jupyterlab-cost")
    assert not page.requests.external, page.requests.external


@pytest.mark.timeout(60)
def test_voila_app_serves_sliders_and_estimate_without_code(tmp_path, page, server, jupyter_env, screenshot):
    from playwright.sync_api import expect

    port = free_port()
    params = REPO / "parameters" / "weather-api.yaml"  # not the notebook's default: proves --params reaches the kernel
    cmd = [sys.executable, "-m", "opslib.cli", "app", "cost", "--params", str(params), "--port", str(port),
           "--notebooks", str(REPO / "notebooks")]
    app = server(cmd, jupyter_env, tmp_path / "voila.log", cwd=tmp_path)
    app.wait_ready(f"http://127.0.0.1:{port}/voila/static/require.min.js")

    value, before, after = expected_after(params, "monthly_requests")
    page.goto(f"http://127.0.0.1:{port}/")
    total = page.locator(".widget-html-content p", has_text=TOTAL)
    expect(total).to_have_text(before, timeout=40_000)
    body = page.locator("body").inner_text()
    assert "weather-api" in body and "Guardrails" in body and "Estimate vs. budget" in body
    assert "opslib.load_params" not in body and "cost_explorer(" not in body  # no code visible
    assert page.locator(".widget-slider").count() >= 3
    assert page.locator("img").count() >= 3  # the cost plan's charts

    set_slider(page, "monthly_requests", value)
    expect(total).to_have_text(after, timeout=15_000)
    page.get_by_role("heading", name="Explore").evaluate("h => h.scrollIntoView({block: 'start'})")
    screenshot(page, "voila-cost")
    # Voilà's lab template links Font Awesome from a CDN (icons only; aborted here, nothing else leaves)
    assert all("fontawesome" in u for u in page.requests.external), page.requests.external
