"""`opslib app cost` as a budget owner meets it, in real Chromium: the explorer first, titled with
the project, no developer text, money intact after a slider move, a picker that switches project,
saving that can only write scenarios/<project>/<name>.yaml — and after SIGTERM no Voilà process
(nor kernel) is left, nothing listening."""

from __future__ import annotations

import html
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

import pytest
from playwright.sync_api import expect

from opslib.documents import cost_plan as cost
from opslib.notebook.app import descendants
from opslib.notebook.cost_plan import guardrail_html
from opslib.params.models import load_params

from .conftest import REPO, free_port
from .test_cost_browser import MATH, TOTAL, control, expected_after, pick, total_line, type_value

pytestmark = [pytest.mark.browser, pytest.mark.kernel]

DEVELOPER_TEXT = ("opslib batch", "opslib render", "papermill", "out_dir", "Preview only", "Traceback", "params_path", "Apply to parameters")


def files_under(root) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts}


def proc_file(pid: int, name: str) -> str:
    try:
        with open(f"/proc/{pid}/{name}", "rb") as fh:
            return fh.read().decode(errors="replace")
    except OSError:
        return ""


def running(pid: int) -> bool:
    stat = proc_file(pid, "stat")
    return bool(stat) and stat.split(") ", 1)[1][:1] != "Z"  # a zombie has exited


def listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.timeout(300)
def test_voila_app_for_budget_owners(tmp_path, page, server, jupyter_env, screenshot):
    root = tmp_path / "repo"
    for folder in ("notebooks", "parameters", "examples"):
        shutil.copytree(REPO / folder, root / folder)
    params = load_params(root / "parameters" / "weather-api.yaml")  # not the default project: --params reaches the kernel
    port = free_port()
    cmd = [sys.executable, "-m", "opslib.cli", "app", "cost", "--params", str(root / "parameters" / "weather-api.yaml"),
           "--port", str(port), "--notebooks", str(root / "notebooks")]
    app = server(cmd, jupyter_env, tmp_path / "voila.log", cwd=tmp_path)
    app.wait_ready(f"http://127.0.0.1:{port}/voila/static/require.min.js")
    before_files = files_under(root)

    value, before, after = expected_after(params, "monthly_requests")
    page.goto(f"http://127.0.0.1:{port}/", timeout=120_000)  # Voilà runs the notebook before the page loads
    total = page.locator(".widget-html-content p", has_text=TOTAL)
    expect(total).to_have_text(before, timeout=60_000)
    expect(page).to_have_title("Cost explorer: weather-api")
    expect(page.locator(".widget-html-content h2", has_text="Cost explorer: weather-api")).to_be_visible()
    # the explorer first: right under the picker, on the first screen, above the checks and the document
    explorer_top = page.locator(".opslib-cost-explorer").bounding_box()["y"]
    checks_top = page.get_by_role("heading", name="Quality-bar checks").bounding_box()["y"]
    assert explorer_top < 900 < checks_top
    body = page.locator("body").inner_text()
    assert not [t for t in DEVELOPER_TEXT if t in body], [t for t in DEVELOPER_TEXT if t in body]
    assert "opslib.load_params" not in body and "open_session(" not in body  # no code visible
    guardrails = html.unescape(re.sub(r"<[^>]+>", "", guardrail_html(cost.estimate(params))))
    assert page.locator(MATH).count() == 0 and guardrails.split("Guardrails")[1][:60] in re.sub(r"\n+", "", body)

    type_value(page, "Monthly requests", value)
    expect(total).to_have_text(after, timeout=15_000)
    assert page.locator(MATH).count() == 0
    moved = html.unescape(re.sub(r"<[^>]+>", "", guardrail_html(cost.estimate(params, cost.Overrides(drivers={"monthly_requests": value})))))
    expect(page.locator(".widget-html-content ul")).to_contain_text(moved.split("Guardrails")[1].strip()[:50])
    page.get_by_role("heading", name="Explore the estimate").evaluate("h => h.scrollIntoView({block: 'start'})")
    page.locator(".widget-html-content h2", has_text="Cost explorer").scroll_into_view_if_needed()
    screenshot(page, "voila-cost")

    # saving: a name, never a path; only scenarios/<project>/<name>.yaml can appear
    assert all("/" not in (i.get_attribute("value") or "") for i in page.locator("input[type=text]").all())
    name = page.get_by_placeholder("a name, e.g. peak-season")
    for hostile in ("../../parameters/weather-api", "/tmp/evil", "x.yaml\nproject: y"):
        name.fill(hostile)
        page.get_by_role("button", name="Save as scenario").click()
        expect(page.locator(".widget-html-content pre", has_text="scenario name")).to_be_visible(timeout=15_000)
    assert files_under(root) == before_files and not os.path.exists("/tmp/evil") and not os.path.exists("/tmp/evil.yaml")
    name.fill("budget-a")
    page.get_by_role("button", name="Save as scenario").click()
    expect(page.locator(".widget-html-content", has_text="Saved scenarios/weather-api/budget-a.yaml")).to_be_visible(timeout=15_000)
    assert files_under(root) - before_files == {"scenarios/weather-api/budget-a.yaml"}

    pick(page, "Project", "shop-platform")
    expect(page).to_have_title("Cost explorer: shop-platform", timeout=30_000)
    expect(total).to_have_text(total_line(cost.estimate(load_params(root / "parameters" / "shop-platform.yaml"))), timeout=30_000)
    assert control(page, "CDN GB").count() == 1
    # Voilà's lab template links Font Awesome from a CDN (icons only; aborted here, nothing else leaves)
    assert all("fontawesome" in u for u in page.requests.external), page.requests.external

    # SIGTERM to `opslib app` alone (not its group): it stops Voilà and the kernels, nothing keeps listening
    tree = descendants(app.proc.pid)
    assert any("voila" in proc_file(p, "cmdline") for p in tree) and any("ipykernel" in proc_file(p, "cmdline") for p in tree)
    os.kill(app.proc.pid, signal.SIGTERM)
    assert app.proc.wait(30) == 0
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(running(p) for p in tree):
        time.sleep(0.1)
    left = [p for p in tree if running(p)]
    assert not left, subprocess.run(["ps", "-o", "pid,ppid,cmd", "-p", ",".join(map(str, left))], capture_output=True, text=True).stdout
    assert not listening(port)
