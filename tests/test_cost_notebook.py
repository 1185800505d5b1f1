"""The cost explorer driven headless, scenarios saved and applied, and the cost notebook executed with papermill."""

import json
import shutil

import pytest
from conftest import FIXTURES, PARAMS, REPO, execute_notebook, notebook_outputs

from opslib.documents import cost_plan as cost
from opslib.documents import scenario
from opslib.errors import InputError
from opslib.notebook.cost_plan import cost_explorer, nice_step
from opslib.params.models import load_params


@pytest.fixture(scope="module")
def shop():
    return load_params(PARAMS / "shop-platform.yaml")


@pytest.fixture
def project(tmp_path):
    """A copy of the repository's parameters and examples: scenarios and applied values land here."""
    for folder in ("parameters", "examples"):
        shutil.copytree(REPO / folder, tmp_path / folder)
    return tmp_path


def test_slider_changes_table_and_total(shop):
    ex = cost_explorer(shop, charts=False)
    before_total, before_table = ex.plan.expected, ex.table.value
    assert "cdn-requests" in before_table and "Total: $2,072–$3,937" in before_table
    ex.sliders["monthly_requests"].value = 60_000_000  # twice the expected traffic
    assert ex.controls["monthly_requests"].box.value == 60_000_000
    assert ex.plan.expected == pytest.approx(before_total + 30.0)  # CloudFront requests: +30M / 10k × $0.01
    assert ex.table.value != before_table and "$60.00" in ex.table.value
    assert ex.plan.expected == cost.estimate(shop, ex.overrides()).expected  # the same pure function as the batch


def test_controls_are_labelled_for_people(shop):
    """Human label, unit, help from the parameters and the schema, low/expected/high; no scientific notation."""
    ex = cost_explorer(shop, charts=False)
    row = ex.controls["cdn_gb"].row
    html = " ".join(w.value for w in row.children[0].children if hasattr(w, "value") and isinstance(w.value, str))
    html += row.children[1].value
    assert "CDN GB" in html and "images and static assets served by CloudFront" in html
    assert "low 600 · expected 1,000 · high 1,500 GB" in html and "most likely value" in html  # Driver.expected's description
    assert "e+" not in ex.controls["monthly_requests"].readout.value and "30,000,000" in ex.controls["monthly_requests"].readout.value
    choices = dict((v, k) for k, v in ex.sizes["eks-nodes"].options)
    assert choices["aws.ec2.m5-large-linux-on-demand.us-east-1"] == "m5.large Linux on-demand — $0.096 per hour"
    assert "most instances auto-scaling may start" in ex.replicas.row.children[1].value.lower()


def test_typed_values_are_kept_or_clamped_with_a_word(shop):
    ex = cost_explorer(shop, charts=False)
    c = ex.controls["monthly_requests"]
    c.box.value = 1e12  # beyond the slider: the slider grows, the value stays
    assert c.value == 1e12 and c.slider.max >= 1e12 and c.note.value == ""
    assert ex.plan.expected == cost.estimate(shop, ex.overrides()).expected
    c.box.value = -5.0
    assert c.value == 0 and "below the minimum" in c.note.value
    c.box.value = 1e18
    assert c.value == 1e15 and "set to" in c.note.value
    ex.replicas.box.value = 0  # prod's replicas.min is 3
    assert ex.replicas.value == 3 and "below the minimum 3" in ex.replicas.note.value


@pytest.mark.parametrize("top, step", [(150_000_000, 500_000), (0.15, 0.0005), (1, 0.005), (30, 0.1)])
def test_slider_steps_are_round(top, step):
    assert nice_step(top) == pytest.approx(step)


def test_size_and_replicas_drive_guardrail_status(shop):
    ex = cost_explorer(shop, charts=False)
    assert "aws.ec2.m5-4xlarge-linux-on-demand.us-east-1" in dict((v, k) for k, v in ex.sizes["eks-nodes"].options)
    assert "BREACH" not in ex.status.value
    ex.sizes["eks-nodes"].value = "aws.ec2.m5-xlarge-linux-on-demand.us-east-1"  # twice the node price
    assert "prod</b>: expected $2,493" in ex.status.value and "BREACH" in ex.status.value
    ex.sizes["eks-nodes"].value = "aws.ec2.m5-large-linux-on-demand.us-east-1"
    assert "BREACH" not in ex.status.value
    ex.replicas.set(30)
    assert "worst case at 30 replicas" in ex.status.value and "BREACH" in ex.status.value


def test_live_charts_and_document_charts():
    params = load_params(FIXTURES / "cost" / "tiny.yaml")
    ex = cost_explorer(params, charts=True)
    before = ex.charts.value
    assert "Estimate vs. budget" in before and "Expected monthly cost by category" in before and "P50" in before
    ex.sliders["requests"].value = 3_000_000
    assert ex.charts.value != before  # the live charts follow the slider
    assert not any(img.value for img in ex.figures.children)  # the cost-plan charts are drawn on request
    ex.document_charts.value = True
    assert all(img.value[:4] == b"\x89PNG" for img in ex.figures.children)
    assert "worst case at 1 replica " in ex.status.value  # dev runs one: no "1 replicas"


def test_scenario_saved_reloaded_and_applied(project):
    """Saved under scenarios/<project>/ (outside parameters/), loaded back into a new explorer,
    applied to the parameters file (only the changed values; comments kept); the estimate of the
    applied file is the explorer's."""
    path = project / "parameters" / "shop-platform.yaml"
    params = load_params(path)
    ex = cost_explorer(params, charts=False)
    ex.controls["monthly_requests"].set(45_000_000)
    ex.sizes["eks-nodes"].value = "aws.ec2.m5-xlarge-linux-on-demand.us-east-1"
    ex.replicas.set(12)
    saved = ex.save("peak-season")
    assert saved == project / "scenarios" / "shop-platform" / "peak-season.yaml" and scenario.list_scenarios(params) == ["peak-season"]
    assert sorted(p.name for p in (project / "parameters").iterdir()) == sorted(p.name for p in PARAMS.glob("*.yaml"))  # nothing added there
    back = scenario.load_scenario(params, "peak-season")
    assert back == ex.changes() and back.drivers == {"monthly_requests": 45_000_000.0} and back.replicas_max == {"prod": 12}
    again = cost_explorer(params, charts=False, overrides=back)
    assert again.plan.expected == ex.plan.expected and again.controls["monthly_requests"].value == 45_000_000
    assert cost.estimate(scenario.apply_scenario(params, back)).expected == ex.plan.expected
    before = path.read_text()
    edit = again.propose()
    changed = [ln for ln in edit.diff if ln.startswith(("+", "-")) and not ln.startswith(("+++", "---"))]
    assert len(changed) == 2 * (1 + 3 + 2 + 1) and all("#" not in ln for ln in changed)  # replicas, 3 bounds, 2 env ranges, price
    again.apply()
    after = path.read_text()
    assert [ln for ln in before.splitlines() if ln.lstrip().startswith("#")] == [ln for ln in after.splitlines() if ln.lstrip().startswith("#")]
    assert cost.estimate(load_params(path)).expected == ex.plan.expected
    assert "m5-xlarge" in after and "replicas: {min: 3, max: 12}" in after


def test_scenario_names_and_values_are_validated(project):
    params = load_params(project / "parameters" / "weather-api.yaml")
    for bad in ("../../etc/x", "Peak", "a/b", "", "x" * 70, ".hidden"):
        with pytest.raises(InputError, match="scenario name"):
            scenario.save_scenario(params, bad, cost.Overrides())
    folder = project / "scenarios" / "weather-api"
    folder.mkdir(parents=True)
    (folder / "bad.yaml").write_text("project: shop-platform\ndrivers: {nope: 1, monthly_requests: -3}\nprices: {web-dynos: no.such.price}\n"
                                     "replicas_max: {prod: 0, qa: 2}\nextra: 1\n")
    with pytest.raises(InputError) as err:
        scenario.load_scenario(params, "bad")
    text = str(err.value)
    for expected in ("extra: unknown key", "project: names 'shop-platform'", "drivers.nope: no such usage driver",
                     "drivers.monthly_requests: must be a number", "prices.web-dynos: unknown price id", "replicas_max.prod: must be a whole number",
                     "replicas_max.qa: no such environment"):
        assert expected in text, expected
    with pytest.raises(InputError, match="no such scenario for weather-api; use one of bad"):
        scenario.load_scenario(params, "missing")


@pytest.mark.kernel
def test_cost_notebook_batch_and_interactive(tmp_path):
    out = tmp_path / "10-cost-plan.ipynb"
    execute_notebook(
        str(REPO / "notebooks" / "10-cost-plan.ipynb"), str(out),
        parameters={"params_path": str(PARAMS / "agent-orchestrator.yaml"), "out_dir": str(tmp_path / "build"), "interactive": True},
        kernel_name="python3", progress_bar=False, cwd=str(REPO / "notebooks"),
    )
    outputs = notebook_outputs(out)
    assert not [o for o in outputs if o["output_type"] == "error"]
    mimes = {m for o in outputs for m in o.get("data", {})}
    assert "application/vnd.jupyter.widget-view+json" in mimes
    text = json.dumps(outputs)
    assert "Cost plan: agent-orchestrator" in text and "data:image/png;base64," in text  # the preview embeds its figures
    assert (tmp_path / "build" / "cost-plan.md").is_file() and (tmp_path / "build" / "figures" / "cost-budget.png").is_file()


def test_scenario_command_lists_and_applies(project, capsys):
    from opslib.cli import main

    path = project / "parameters" / "weather-api.yaml"
    params = load_params(path)
    assert main(["scenario", "list", str(path)]) == 0 and "no scenarios in" in capsys.readouterr().out
    scenario.save_scenario(params, "lean", cost.Overrides(drivers={"monthly_requests": 3_000_000}))
    before = path.read_text()
    assert main(["scenario", "apply", str(path), "lean", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "-      expected: 4000000" in out and "+      expected: 3000000" in out and path.read_text() == before
    assert main(["cost-diff", str(path), "--scenario", "lean"]) == 0
    assert f"{path} → {path} with scenario lean" in capsys.readouterr().out
    assert main(["scenario", "apply", str(path), "lean"]) == 0
    assert "expected: 3000000" in path.read_text() and main(["scenario", "apply", str(path), "lean"]) == 0
    assert "already holds the values" in capsys.readouterr().out
    assert main(["scenario", "apply", str(path), "nope"]) == 2
    assert "no such scenario for weather-api; use one of lean" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["render", str(path), "--scenario", "../../etc"])
    assert "a scenario name is lower-case" in capsys.readouterr().err


@pytest.mark.kernel
def test_render_and_batch_take_a_scenario(project, capsys):
    """Both write the parameters-with-scenario documents into <out>/<project>@<name>/, never over
    the parameters' own; a project without that scenario fails with one sentence."""
    from opslib.cli import main

    path = project / "parameters" / "weather-api.yaml"
    params = load_params(path)
    overrides = cost.Overrides(drivers={"monthly_requests": 3_000_000})
    scenario.save_scenario(params, "lean", overrides)
    expected = cost.estimate(params, overrides).total_text
    assert main(["render", str(path), "--scenario", "lean", "--out", str(project / "build")]) == 0
    folder = project / "build" / "weather-api@lean"
    assert expected in (folder / "cost-plan.md").read_text() and json.loads((folder / "run.json").read_text())["scenario"] == "lean"
    assert not (project / "build" / "weather-api").exists()
    capsys.readouterr()
    assert main(["batch", str(path), str(project / "parameters" / "shop-platform.yaml"), "--scenario", "lean", "--out", str(project / "batch"),
                 "--jobs", "1", "--quiet"]) == 1
    captured = capsys.readouterr()
    assert "scenarios/shop-platform/lean.yaml: no such scenario for shop-platform" in captured.err
    done = project / "batch" / "weather-api@lean"
    assert expected in (done / "cost-plan.md").read_text() and json.loads((done / "run.json").read_text())["scenario"] == "lean"
    assert (done / "review" / "10-cost-plan.html").is_file() and "cost scenario <b>lean</b>" in (done / "review" / "10-cost-plan.html").read_text()
