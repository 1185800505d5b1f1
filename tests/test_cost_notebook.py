"""The cost explorer driven headless, and the cost notebook executed with papermill."""

import json

import papermill as pm
import pytest
from conftest import FIXTURES, PARAMS, REPO

from opslib.documents import cost_plan as cost
from opslib.notebook.cost_plan import cost_explorer
from opslib.params.models import load_params


@pytest.fixture(scope="module")
def shop():
    return load_params(PARAMS / "shop-platform.yaml")


def test_slider_changes_table_and_total(shop):
    ex = cost_explorer(shop, charts=False)
    before_total, before_table = ex.plan.expected, ex.table.value
    assert "cdn-requests" in before_table and "Total: $2,072–$3,937" in before_table
    ex.sliders["monthly_requests"].value = 60_000_000  # twice the expected traffic
    assert ex.plan.expected == pytest.approx(before_total + 30.0)  # CloudFront requests: +30M / 10k × $0.01
    assert ex.table.value != before_table and "$60.00" in ex.table.value
    assert ex.plan.expected == cost.estimate(shop, ex.overrides()).expected  # the same pure function as the batch


def test_size_and_replicas_drive_guardrail_status(shop):
    ex = cost_explorer(shop, charts=False)
    assert ex.size_component == "eks-nodes" and "aws.ec2.m5-4xlarge-linux-on-demand.us-east-1" in ex.size.options
    assert "BREACH" not in ex.status.value
    ex.size.value = "aws.ec2.m5-xlarge-linux-on-demand.us-east-1"  # twice the node price
    assert "prod</b>: expected $2,493" in ex.status.value and "BREACH" in ex.status.value
    ex.size.value = "aws.ec2.m5-large-linux-on-demand.us-east-1"
    assert "BREACH" not in ex.status.value
    ex.replicas.value = 30
    assert "worst case at 30 replicas" in ex.status.value and "BREACH" in ex.status.value


def test_live_charts_and_save_scenario(tmp_path):
    params = load_params(FIXTURES / "cost" / "tiny.yaml")
    ex = cost_explorer(params, charts=True)
    before = ex.charts.value
    assert "Estimate vs. budget" in before and "Expected monthly cost by category" in before and "P50" in before
    ex.sliders["requests"].value = 3_000_000
    assert ex.charts.value != before  # the live charts follow the slider
    assert not any(img.value for img in ex.figures.children)  # the cost-plan charts are drawn on request
    ex.document_charts.value = True
    assert all(img.value[:4] == b"\x89PNG" for img in ex.figures.children)
    path = ex.save(tmp_path / "scenario.yaml")
    overlay = cost.load_overlay(path)
    assert overlay.drivers == {"requests": 3_000_000.0} and overlay.replicas_max == {"prod": 4}
    assert cost.estimate(params, overlay).expected == ex.plan.expected


@pytest.mark.kernel
def test_cost_notebook_batch_and_interactive(tmp_path):
    out = tmp_path / "10-cost-plan.ipynb"
    pm.execute_notebook(
        str(REPO / "notebooks" / "10-cost-plan.ipynb"), str(out),
        parameters={"params_path": str(PARAMS / "agent-orchestrator.yaml"), "out_dir": str(tmp_path / "build"), "interactive": True},
        kernel_name="python3", progress_bar=False, cwd=str(REPO / "notebooks"),
    )
    nb = json.loads(out.read_text())
    outputs = [o for c in nb["cells"] if c["cell_type"] == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o["output_type"] == "error"]
    mimes = {m for o in outputs for m in o.get("data", {})}
    assert {"application/vnd.jupyter.widget-view+json", "image/png"} <= mimes
    assert "Cost plan: agent-orchestrator" in json.dumps(outputs)
    assert (tmp_path / "build" / "cost-plan.md").is_file() and (tmp_path / "build" / "figures" / "cost-budget.png").is_file()
