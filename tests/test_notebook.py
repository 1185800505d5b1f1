"""The notebooks themselves (thin, output-free in git, one picker and one default everywhere),
the session behind them, and money that is never typeset as math."""

import json
import re

import papermill as pm
import pytest
from conftest import PARAMS, REPO, execute_notebook, notebook_outputs

from opslib.notebook import common as notebook
from opslib.notebook import session as planner

NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
DEVELOPER_TEXT = re.compile(r"opslib batch|papermill|Preview only|out_dir|Wrote |\bBatch\b")


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_without_outputs_and_thin(nb):
    data = json.loads(nb.read_text())
    code = [c for c in data["cells"] if c["cell_type"] == "code"]
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in code)
    for c in code:
        src = "".join(c["source"])
        assert not any(line.lstrip().startswith(("def ", "class ", "lambda")) for line in src.splitlines()), src
        assert len(src.splitlines()) <= 8, src
    tagged = [c for c in code if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_one_picker_one_default_and_a_story(nb):
    """The same parameters (params_path "" everywhere: OPSLIB_PARAMS, else the first project),
    the session's header right after them, a first cell that says what the step decides, and no
    developer text where reviewers and budget owners read (markdown shows in Voilà and review copies)."""
    cells = json.loads(nb.read_text())["cells"]
    params = "".join(cells[1]["source"])
    assert params == "".join(json.loads(NOTEBOOKS[0].read_text())["cells"][1]["source"])
    assert pm.inspect_notebook(str(nb)).keys() == {"params_path", "scenario", "out_dir", "force", "interactive"}
    assert "planner.open_session(params_path, scenario=scenario" in "".join(cells[2]["source"]) and "s.header()" in "".join(cells[2]["source"])
    assert "**What this step decides:**" in "".join(cells[0]["source"])
    for c in cells:
        if c["cell_type"] == "markdown":
            assert not DEVELOPER_TEXT.search("".join(c["source"])), "".join(c["source"])


def test_session_follows_the_picker(tmp_path, monkeypatch):
    """The project picker switches every view; the scenario picker lists the project's scenarios."""
    monkeypatch.chdir(REPO / "notebooks")
    monkeypatch.delenv(planner.PARAMS_ENV, raising=False)
    s = planner.open_session("", interactive=True)
    assert s.root == REPO and s.path == sorted(PARAMS.glob("*.yaml"))[0]  # the first project: the default everywhere
    s.header()
    shown = []
    s.show(lambda session: shown.append(session.params.project.name))
    header = s.picker
    assert [label for label, _ in header.project.options] == [p.stem for p in sorted(PARAMS.glob("*.yaml"))]
    header.project.value = str(PARAMS / "weather-api.yaml")
    assert shown == ["agent-orchestrator", "weather-api"] and "weather-api" in header.title.value
    assert header.scenario.options[0] == ("none: the parameters as saved", "")


@pytest.mark.parametrize("value, project", [("parameters/weather-api.yaml", "weather-api"), ("shop-platform", "shop-platform"),
                                            (str(PARAMS / "weather-api.yaml"), "weather-api")])
def test_opslib_params_resolves_from_the_repository_root(value, project, monkeypatch):
    monkeypatch.chdir(REPO / "notebooks")  # where JupyterLab, Voilà and papermill run a notebook
    monkeypatch.setenv(planner.PARAMS_ENV, value)
    assert planner.open_session("").params.project.name == project


def test_a_bad_value_is_one_sentence_not_a_traceback(monkeypatch, tmp_path):
    monkeypatch.chdir(REPO / "notebooks")
    monkeypatch.setenv(planner.PARAMS_ENV, "parameters/nope.yaml")
    s = planner.open_session("")
    assert s.problem.startswith("parameters/nope.yaml: no such parameters file") and "Showing agent-orchestrator instead." in s.problem
    assert s.params.project.name == "agent-orchestrator"
    with pytest.raises(Exception, match="no such parameters file"):
        planner.open_session("", interactive=False)  # a batch run fails instead
    (tmp_path / "bad.yaml").write_text("schema_version: 1\nproject: 3\n")
    s = planner.open_session(str(tmp_path / "bad.yaml"))
    assert s.params is None and "mistake" in s.problem and "Traceback" not in s.problem


@pytest.mark.kernel
def test_runbook_notebook_interactive(tmp_path):
    """Executed as a person would open it (pickers and explorer on), previewing shop-platform."""
    out = tmp_path / "30-runbook.ipynb"
    execute_notebook(
        str(REPO / "notebooks" / "30-runbook.ipynb"), str(out),
        parameters={"params_path": str(PARAMS / "shop-platform.yaml"), "out_dir": "", "interactive": True},
        kernel_name="python3", progress_bar=False, cwd=str(REPO / "notebooks"),
    )
    outputs = notebook_outputs(out)
    assert not [o for o in outputs if o["output_type"] == "error"]
    assert "application/vnd.jupyter.widget-view+json" in {m for o in outputs for m in o.get("data", {})}
    text = json.dumps(outputs)
    assert "Runbook: shop-platform" in text and "opslib render parameters/shop-platform.yaml" in text  # what to do next


def test_explorer_updates_on_dropdown_change():
    """The explorer's drop-downs drive the preview: the callbacks run in-process here."""
    from opslib.notebook.common import runbook_explorer

    box = runbook_explorer(PARAMS / "shop-platform.yaml")
    (env, platform), checks, preview = box.children[0].children, *box.children[1:]
    assert "Runbook: shop-platform" in preview.value and "0 fail" not in checks.value
    assert "Rollback target <strong>prod</strong>" in preview.value
    env.value = "staging"
    assert "Rollback target <strong>staging</strong>" in preview.value
    platform.value = "vm-systemd"
    assert "systemctl" in preview.value and ">fail</td>" not in checks.value


D = notebook.DOLLAR


@pytest.mark.parametrize("text, expected", [
    ("from $120 to $80 a month", f"from {D}120 to {D}80 a month"),
    ("70% = $280, 90% = $360", f"70% = {D}280, 90% = {D}360"),
    ("run `echo $HOME` for $5", f"run `echo $HOME` for {D}5"),
    ("```bash\nexport A=$B\n```\n$1", f"```bash\nexport A=$B\n```\n{D}1"),
    ("~~~\n$x\n~~~", "~~~\n$x\n~~~"),
    ("no money here", "no money here"),
])
def test_money_is_not_typeset_as_latex(text, expected):
    """No `$` left outside code: JupyterLab's math pre-pass and MathJax find nothing to pair."""
    assert notebook.escape_dollars(text) == expected


def test_html_tables_keep_money_and_never_say_nan():
    html = notebook.table_html([{"item": "budget", "value": "$400 at 70% = $280"}, {"item": "score", "value": float("nan")}])
    assert "$" not in html.replace(D, "") and "NaN" not in html and "<td>—</td>" in html
    assert notebook.protect_html("<style>a{}</style><b>$5</b><script>var $ = 1</script>") == f"<style>a{{}}</style><b>{D}5</b><script>var $ = 1</script>"


def test_previews_embed_their_figures_and_draw_flowcharts():
    text = "Costs\n\n![Budget](figures/cost-budget.png)\n\n```mermaid\nflowchart LR\n  a[\"build\"] --> b[\"deploy\"]\n```\n"
    out = notebook.markdown_for_display(text, {"figures/cost-budget.png": b"\x89PNG fake"})
    assert "figures/" not in out and "![Budget](data:image/png;base64," in out
    assert "```mermaid" not in out and "data:image/svg+xml;base64," in out


@pytest.mark.parametrize("key, label", [("monthly_requests", "Monthly requests"), ("cdn_gb", "CDN GB"), ("db_storage_gb", "DB storage GB"),
                                        ("input_tokens_per_task", "Input tokens per task")])
def test_human_labels(key, label):
    assert notebook.human_label(key) == label
