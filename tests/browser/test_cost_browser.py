"""The cost notebook as a planner uses it in JupyterLab, in real Chromium: money reads as money,
the picker switches project, a slider move gives the total opslib computes in this process
with the same pure function, and a scenario is saved, picked again and applied to the
parameters — which `opslib cost-diff` then shows and `opslib render` writes.
"""

from __future__ import annotations

import html
import json
import re
import secrets
import shutil
import subprocess
import sys
import urllib.request

import pytest
from playwright.sync_api import expect

from opslib.documents import cost_plan as cost
from opslib.documents import scenario
from opslib.notebook.cost_plan import breakdown_html, cost_explorer
from opslib.params.models import load_params

from .conftest import REPO, Server, free_port

pytestmark = [pytest.mark.browser, pytest.mark.kernel]

TOTAL = re.compile(r"^Total: ")
MATH = "mjx-container, .MathJax, .MathJax_Display, .katex"  # what MathJax (or KaTeX) leaves when it typesets


def total_line(plan) -> str:
    """The text of the explorer's total line, exactly as costview renders it for `plan`."""
    first = re.match(r"<p>(.*?)</p>", breakdown_html(plan)).group(1)
    return html.unescape(re.sub(r"<[^>]+>", "", first))


def money_lines(params) -> list[str]:
    """Lines of cost-plan.md where a `$` pair would become math: the budget thresholds ("70% = $17.50,
    90% = $22.50, …") and the cost per request, as the page must show them (Markdown markup removed)."""
    text = cost.draft(params, figures=False).text
    cells = [c.strip() for line in text.splitlines() if "70% = $" in line for c in line.split("|") if "70% = $" in c]
    per_request = [re.sub(r"\*\*|`", "", line).split(" (")[0] for line in text.splitlines() if line.startswith("**Cost per request**: $")]
    assert cells and per_request
    return cells[:2] + per_request[:1]


def expected_after(params, driver: str, factor: float = 2.0):
    """(value to type, total before, total after) for one driver, computed by opslib here."""
    ex = cost_explorer(params, charts=False)
    before = total_line(ex.plan)
    value = round(ex.controls[driver].value * factor)
    ex.controls[driver].set(value)
    plan = cost.estimate(params, ex.overrides())
    assert plan.expected == ex.plan.expected
    after = total_line(plan)
    assert after != before, "the chosen input must change the total"
    return value, before, after


def control(page, label: str):
    return page.locator(".opslib-control", has=page.locator(".widget-html-content b", has_text=re.compile(f"^{re.escape(label)}$")))


def type_value(page, label: str, value: float) -> None:
    """Type an exact value into a control's box (what a person does for an exact number) and press Enter."""
    box = control(page, label).locator("input").first
    box.scroll_into_view_if_needed()
    box.fill(f"{value:.10g}")
    box.press("Enter")


def pick(page, name: str, value: str) -> None:
    """Choose `value` in the header's drop-down labelled `name` (Project, Scenario)."""
    select = page.locator(".widget-dropdown", has=page.locator("label", has_text=re.compile(f"^{name}$"))).locator("select")
    select.select_option(label=value)


def assert_money_intact(page, lines: list[str]) -> None:
    """No element typeset as math, and every money line reads exactly as written."""
    assert page.locator(MATH).count() == 0
    # textContent: JupyterLab skips laying out cells scrolled out of view, and innerText needs layout
    text = " ".join(page.locator(".jp-OutputArea-output").evaluate_all("els => els.map(e => e.textContent)"))
    text = re.sub(r"\s+", " ", text)
    for line in lines:
        assert line in text, line


@pytest.fixture(scope="module")
def lab(tmp_path_factory, request):
    """JupyterLab on a copy of the repository's notebooks, parameters and examples (scenarios and
    applied values land in the copy), with its Jupyter and IPython dirs under tmp."""
    tmp = tmp_path_factory.mktemp("lab")
    root = tmp / "repo"
    for folder in ("notebooks", "parameters", "examples"):
        shutil.copytree(REPO / folder, root / folder)
    env = request.getfixturevalue("jupyter_env_module")
    port, token = free_port(), secrets.token_hex(16)
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root", f"--port={port}", "--ServerApp.ip=127.0.0.1",
           "--ServerApp.open_browser=False", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
           "--LabApp.expose_app_in_browser=True", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
           "--ServerApp.port_retries=0"]

    def shutdown():
        urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{port}/api/shutdown?token={token}", method="POST"), timeout=5)

    server = Server(cmd, env, tmp / "jupyterlab.log", cwd=root)
    try:
        server.wait_ready(f"http://127.0.0.1:{port}/api/status?token={token}")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/kernelspecs?token={token}", timeout=5) as r:
            assert json.loads(r.read())["default"] == "python3"  # the kernel the notebooks and batch name
        yield port, token, root
    finally:
        server.stop(shutdown)


def open_and_run(page, lab, notebook: str = "10-cost-plan.ipynb") -> None:
    port, token, _ = lab
    page.goto(f"http://127.0.0.1:{port}/lab/tree/notebooks/{notebook}?token={token}")
    page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell.currentWidget"
                           " && window.jupyterapp.shell.currentWidget.sessionContext"
                           " && window.jupyterapp.shell.currentWidget.sessionContext.session"
                           " && window.jupyterapp.shell.currentWidget.sessionContext.session.kernel", timeout=45_000)
    page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").first.wait_for(timeout=30_000)
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")


def open_document(page, heading: str, text: str | None = None) -> None:
    """Unfold the full cost-plan.md below the explorer, once it is the one headed `heading` (and
    holding `text`): a picker re-renders every section, and the browser renders a large document
    a while after the kernel sent it."""
    fold = page.locator(".jupyter-widget-Collapse", has=page.locator(".jp-RenderedMarkdown h1", has_text=heading))
    if text is not None:
        fold = fold.filter(has_text=text)
    fold.wait_for(state="attached", timeout=60_000)
    title = fold.locator(".jupyter-widget-Collapse-header")
    title.scroll_into_view_if_needed()
    title.click()
    expect(page.locator(".jp-RenderedMarkdown h1", has_text=heading)).to_be_visible(timeout=15_000)


@pytest.mark.timeout(150)
def test_jupyterlab_money_slider_and_picker(lab, page, screenshot):
    """Run all in JupyterLab: the default project (the first of parameters/) with every money
    line intact — also after a slider move; then the picker switches every section to weather-api."""
    _, _, root = lab
    first = load_params(sorted((root / "parameters").glob("*.yaml"))[0])
    weather = load_params(root / "parameters" / "weather-api.yaml")
    value, before, after = expected_after(first, "monthly_tasks")
    open_and_run(page, lab)
    total = page.locator(".widget-html-content p", has_text=TOTAL)
    expect(total).to_have_text(before, timeout=60_000)
    expect(page.locator(".widget-html-content h2", has_text=f"Planning: {first.project.name}")).to_be_visible()
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
    assert executable == sys.executable or __import__("pathlib").Path(executable).resolve() == __import__("pathlib").Path(sys.executable).resolve()

    open_document(page, f"Cost plan: {first.project.name}")
    assert_money_intact(page, money_lines(first))
    images = page.locator(".jp-RenderedMarkdown img[src^='data:image/png']")
    assert images.count() == 3 and all(w > 100 for w in images.evaluate_all("imgs => imgs.map(i => i.naturalWidth)"))

    type_value(page, "Monthly tasks", value)
    expect(total).to_have_text(after, timeout=15_000)
    assert_money_intact(page, money_lines(first))
    assert "e+" not in control(page, "Monthly tasks").inner_text()

    pick(page, "Project", "weather-api")
    expect(page.locator(".widget-html-content h2", has_text="Planning: weather-api")).to_be_visible(timeout=30_000)
    expect(total).to_have_text(total_line(cost.estimate(weather)), timeout=30_000)
    open_document(page, "Cost plan: weather-api")
    assert_money_intact(page, money_lines(weather))
    control(page, "Monthly requests").scroll_into_view_if_needed()
    page.locator(".widget-html-content h2", has_text="Planning: weather-api").scroll_into_view_if_needed()
    screenshot(page, "jupyterlab-cost")
    assert not page.requests.external, page.requests.external
    assert not [u for u in page.requests.failed if "/files/" in u], page.requests.failed  # no figure answered 404


@pytest.mark.timeout(150)
def test_jupyterlab_scenario_saved_reloaded_and_applied(lab, page, tmp_path):
    """Save the explorer's values as a scenario, pick it again (the cost plan below follows), apply
    it to parameters/weather-api.yaml after seeing the diff; `opslib cost-diff` shows the change
    and `opslib render` writes the new cost plan."""
    _, _, root = lab
    path = root / "parameters" / "weather-api.yaml"
    original = root / "before" / "weather-api.yaml"  # beside parameters/: its relative links resolve the same
    original.parent.mkdir(exist_ok=True)
    shutil.copy(path, original)
    params = load_params(path)
    value, _, after = expected_after(params, "monthly_requests", factor=0.75)  # within the budgets: it renders
    open_and_run(page, lab)
    total = page.locator(".widget-html-content p", has_text=TOTAL)
    expect(total).to_be_visible(timeout=60_000)
    pick(page, "Project", "weather-api")
    expect(page.locator(".widget-html-content h2", has_text="Planning: weather-api")).to_be_visible(timeout=30_000)
    expect(total).to_have_text(total_line(cost.estimate(params)), timeout=30_000)

    type_value(page, "Monthly requests", value)
    expect(total).to_have_text(after, timeout=15_000)
    name = page.get_by_placeholder("a name, e.g. peak-season")
    name.fill("lean")
    page.get_by_role("button", name="Save as scenario").click()
    expect(page.locator(".widget-html-content", has_text="Saved scenarios/weather-api/lean.yaml")).to_be_visible(timeout=15_000)
    saved = root / "scenarios" / "weather-api" / "lean.yaml"
    assert saved.is_file() and scenario.load_scenario(params, "lean").drivers == {"monthly_requests": value}
    assert not list((root / "parameters").glob("*scenario*"))  # nothing beside the projects

    pick(page, "Scenario", "lean")  # the whole notebook follows: the cost plan below is the scenario's
    expect(page.locator(".widget-html-content p", has_text="cost scenario lean")).to_be_visible(timeout=30_000)
    expect(total).to_have_text(after, timeout=30_000)
    with_scenario = cost.estimate(scenario.with_scenario(params, "lean"))
    open_document(page, "Cost plan: weather-api", total_line(with_scenario).split(" — ")[0].replace("Total: ", ""))

    page.get_by_role("button", name="Apply to parameters…").click()
    diff = page.locator(".widget-html-content pre", has_text="+++")
    expect(diff).to_contain_text(f"expected: {value}")
    page.get_by_role("button", name="Write weather-api.yaml").click()
    expect(page.locator(".widget-html-content p", has_text="Wrote weather-api.yaml: its values are now the parameters")).to_be_visible(timeout=30_000)
    expect(page.locator(".widget-html-content p", has_text="cost scenario")).to_have_count(0)  # back to the parameters, now with the values
    assert "# " in path.read_text() and path.read_text() != original.read_text()
    assert cost.estimate(load_params(path)).expected == with_scenario.expected

    run = subprocess.run([sys.executable, "-m", "opslib.cli", "cost-diff", str(original), str(path)], capture_output=True, text=True, cwd=root)
    assert "| prod | openweathermap" in run.stdout and "−$" in run.stdout, run.stdout + run.stderr  # its usage component
    run = subprocess.run([sys.executable, "-m", "opslib.cli", "render", str(path), "--out", str(tmp_path / "build")],
                         capture_output=True, text=True, cwd=root)
    assert run.returncode == 0, run.stderr
    text = (tmp_path / "build" / "weather-api" / "cost-plan.md").read_text()
    assert total_line(with_scenario).split(" — ")[0].replace("Total: ", "") in text
