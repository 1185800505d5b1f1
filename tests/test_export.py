"""Review exports (no kernel, no browser: tests/browser/ opens them in Chromium) and the
`opslib app` / `opslib export-pdf` commands' argument handling."""

from __future__ import annotations

import base64
import re
from html.parser import HTMLParser

import nbformat
from conftest import PARAMS, REPO
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from opslib.cli import main
from opslib.notebook.app import PARAMS_ENV, voila_command
from opslib.run.export import WIDGET_RENDERER, export_review

PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")
WIDGET_STATE = {"version_major": 2, "version_minor": 0, "state": {"abc": {
    "model_name": "FloatSliderModel", "model_module": "@jupyter-widgets/controls", "model_module_version": "2.0.0",
    "state": {"value": 42.0, "min": 0, "max": 100, "description": "monthly_requests"}}}}
EXTERNAL = re.compile(r"^\s*(https?:)?//", re.I)


class Loads(HTMLParser):
    """What a page would fetch: script/img/iframe src, stylesheet links, CSS url()/@import."""

    def __init__(self):
        super().__init__()
        self.urls: list[str] = []
        self._style = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in ("script", "img", "iframe", "source", "embed") and a.get("src"):
            self.urls.append(a["src"])
        if tag == "link" and a.get("href"):
            self.urls.append(a["href"])
        self._style = tag == "style"

    def handle_endtag(self, tag):
        self._style = False

    def handle_data(self, data):
        if self._style:
            css = re.sub(r"/\*.*?\*/", "", data, flags=re.S)
            self.urls += re.findall(r"url\(\s*['\"]?([^'\")]+)", css) + re.findall(r"@import\s+['\"]([^'\"]+)", css)


def external_loads(html: str) -> list[str]:
    p = Loads()
    p.feed(html)
    return [u for u in p.urls if EXTERNAL.match(u)]


def executed(tmp_path, widgets: bool = False, params_path=None):
    """A small notebook as papermill leaves it: injected parameters, outputs, maybe widget state."""
    (tmp_path / "build" / "figures").mkdir(parents=True)
    (tmp_path / "build" / "figures" / "cost-budget.png").write_bytes(PNG)
    nb = new_notebook(cells=[
        new_markdown_cell("# 10 · Cost plan\n\nWhat the project will cost."),
        new_code_cell("import opslib\nparams = opslib.load_params(params_path)", execution_count=1, outputs=[
            new_output("display_data", data={"image/png": base64.b64encode(PNG).decode(), "text/plain": "<Figure>"}),
            new_output("display_data", data={"text/html": "<table class='opslib-checks'><tr><td>pass</td></tr></table>"}),
        ]),
        new_markdown_cell("## Charts"),
        new_code_cell("notebook.show_markdown(draft.markdown)", execution_count=2, outputs=[
            new_output("display_data", data={"text/markdown": "## Estimated Costs\n\n### Total by environment\n\n"
                                                             "| env | $ |\n|---|---|\n| prod | $2,000 |\n\n![budget](figures/cost-budget.png)"}),
        ]),
    ])
    nb.metadata["papermill"] = {"parameters": {"params_path": params_path or str(PARAMS / "weather-api.yaml"),
                                               "out_dir": str(tmp_path / "build"), "interactive": False},
                                "input_path": str(REPO / "notebooks" / "10-cost-plan.ipynb")}
    if widgets:
        nb.cells[1].outputs.append(new_output("display_data", data={
            "application/vnd.jupyter.widget-view+json": {"model_id": "abc", "version_major": 2, "version_minor": 0},
            "text/plain": "FloatSlider(value=42.0)"}))
        nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": WIDGET_STATE}
    path = tmp_path / "10-cost-plan.ipynb"
    nbformat.write(nb, str(path))
    return path


def test_review_has_title_project_as_of_contents_and_no_code(tmp_path):
    target = tmp_path / "review" / "10-cost-plan.html"
    export_review(executed(tmp_path), target)
    html = target.read_text()
    assert "<title>10 · Cost plan — weather-api</title>" in html
    assert '<dd class="opslib-project">weather-api</dd>' in html and '<dd class="opslib-as-of">2026-11-02</dd>' in html
    toc = re.search(r'<nav class="opslib-toc">(.*?)</nav>', html).group(1)
    assert re.findall(r'href="#([^"]+)"', toc) == ["Charts", "Estimated-Costs", "Total-by-environment"]
    assert 'id="Estimated-Costs"' in html
    assert "opslib.load_params" not in html and "show_markdown" not in html  # no code cells
    assert "opslib-checks" in html and html.count('src="data:image/png;base64,') == 2  # the chart and the figure
    assert 'src="figures/' not in html  # cost-plan.md's figure inlined from out_dir/figures/
    assert "_jupyter_widget_embedder" not in html and len(html) < 1_000_000  # no widgets, no renderer
    assert "mathjax" not in html.lower() and "require.js" not in html and "$2,000" in html


def test_review_carries_widget_state_and_loads_nothing_from_the_internet(tmp_path):
    target = tmp_path / "review.html"
    export_review(executed(tmp_path, widgets=True), target)
    html = target.read_text()
    assert 'type="application/vnd.jupyter.widget-state+json"' in html and '"monthly_requests"' in html
    assert 'type="application/vnd.jupyter.widget-view+json"' in html
    assert "_jupyter_widget_embedder" in html  # the renderer, inlined from opslib/static/html-manager
    assert "Automatic publicPath is not supported" not in html
    assert external_loads(html) == []
    assert "unpkg.com" not in html and "cdnjs" not in html and "cdn.jsdelivr.net/npm/@jupyter-widgets" not in html


def test_external_loads_detector_catches_cdn_scripts():
    assert external_loads('<script src="https://unpkg.com/x.js"></script><link rel="stylesheet" href="//cdn/x.css">'
                          "<style>@import 'https://fonts/x.css'; /* url(https://ignored) */</style>") == [
        "https://unpkg.com/x.js", "//cdn/x.css", "https://fonts/x.css"]


def test_review_without_recorded_parameters_and_with_relative_path(tmp_path):
    nb = executed(tmp_path, params_path="../parameters/shop-platform.yaml")  # relative to the input notebook
    export_review(nb, tmp_path / "a.html")
    assert "<title>10 · Cost plan — shop-platform</title>" in (tmp_path / "a.html").read_text()
    data = nbformat.read(str(nb), as_version=4)
    del data.metadata["papermill"]
    nbformat.write(data, str(nb))
    export_review(nb, tmp_path / "b.html")
    html = (tmp_path / "b.html").read_text()
    assert "<title>10 · Cost plan</title>" in html and "not recorded" in html


def test_widget_renderer_is_shipped_with_its_licence():
    folder = WIDGET_RENDERER.parent
    assert WIDGET_RENDERER.stat().st_size > 1_000_000
    assert {"LICENSE", "README.md", "embed.js.LICENSE.txt"} <= {p.name for p in folder.iterdir()}
    assert "html-manager 1.0.15" in (folder / "README.md").read_text()


def test_app_command_line(tmp_path, capsys):
    cmd = voila_command(REPO / "notebooks" / "10-cost-plan.ipynb", 8899)
    assert cmd[1:3] == ["-m", "voila"] and "--no-browser" in cmd and "--port=8899" in cmd
    assert "--strip_sources=True" in cmd and "--template=lab" in cmd
    assert PARAMS_ENV in (REPO / "notebooks" / "10-cost-plan.ipynb").read_text()  # the notebook reads it
    assert main(["app", "cost", "--params", str(tmp_path / "nope.yaml")]) == 2
    assert "nope.yaml" in capsys.readouterr().err
    assert main(["app", "cost", "--notebooks", str(tmp_path)]) == 2
    assert "notebook not found" in capsys.readouterr().err


def test_export_pdf_reports_a_missing_file(tmp_path, capsys):
    assert main(["export-pdf", str(tmp_path / "missing.html")]) == 2
    err = capsys.readouterr().err
    assert "missing.html: no such HTML file" in err and "Traceback" not in err


def test_app_module_stays_light():
    import subprocess
    import sys

    code = "import sys, opslib.cli; opslib.cli.parser(); print(any(m.split('.')[0] in ('voila', 'jupyter_server', 'nbconvert', 'playwright') for m in sys.modules))"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "False"


def test_pre_commit_strips_outputs_but_keeps_parameters_tags():
    from ruamel.yaml import YAML

    config = YAML(typ="safe").load((REPO / ".pre-commit-config.yaml").read_text())
    hooks = {h["id"]: h for repo in config["repos"] for h in repo["hooks"]}
    strip = hooks["nbstripout"]
    assert strip["entry"] == "nbstripout" and strip["types"] == ["jupyter"]
    assert any(d.startswith("nbstripout==") for d in strip["additional_dependencies"])
    args = " ".join(strip["args"])
    assert "--keep-id" in args and "metadata.widgets" in args and "metadata.papermill" in args
    assert "tags" not in args  # papermill finds the parameters cell by its tag
