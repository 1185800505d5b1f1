"""Readiness review: golden readiness.md per example, evidence from the other documents' checks."""

import json

import pytest
from conftest import EXAMPLES, PARAMS, REPO, execute_notebook

from opslib import check_status, load_params
from opslib.check.findings import failed
from opslib.documents import readiness
from opslib.documents.contract import document_modules


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """Every example project's documents, written once (as opslib render does)."""
    out = {}
    for name in EXAMPLES:
        params = load_params(PARAMS / f"{name}.yaml")
        status = check_status(params)
        d = tmp_path_factory.mktemp("build") / name
        d.mkdir()
        for mod in document_modules():
            if mod is not readiness:
                mod.write(params, status, d)
        out[name] = (params, status, d)
    return out


@pytest.mark.parametrize("name", EXAMPLES)
def test_golden_readiness(rendered, name, golden):
    params, status, d = rendered[name]
    written = readiness.write(params, status, d)
    text = written.path.read_text()
    assert not failed(written.findings) and "pass" in {f.status for f in written.findings}
    assert not failed(readiness.check_written(d, params))
    assert str(d) not in text
    golden(f"{name}/readiness.md", text)


def test_write_reuses_a_review_already_made(rendered):
    params, status, d = rendered["weather-api"]
    fresh = readiness.write(params, status, d).path.read_text()
    rv = readiness.review(params, d, status)
    assert readiness.write(params, status, d, rv).path.read_text() == fresh


def test_every_item_listed(rendered):
    params, status, d = rendered["shop-platform"]
    rv = readiness.review(params, d, status)
    assert len(rv.items) == len(readiness.items()) == 47
    by = {i.id: i for i in rv.items}
    assert by["dod-01"].status == "pass" and "runbook.md" in by["dod-01"].evidence
    assert by["prc-01"].status == "not measured"
    assert by["prc-24"].status == "not measured" and "documented" in by["prc-24"].evidence


def test_missing_documents_fail(tmp_path, rendered):
    params, status, _ = rendered["weather-api"]
    rv = readiness.review(params, tmp_path, status)
    by = {i.id: i for i in rv.items}
    assert by["dod-01"].status == "fail" and "runbook.md" in by["dod-01"].evidence


def test_no_cost_section_fails_cost_items(tmp_path, rendered):
    params, status, d = rendered["weather-api"]
    bare = params.model_copy(update={"cost": None})
    rv = readiness.review(bare, d, status)
    item = next(i for i in rv.items if i.id == "dod-02")
    assert item.status == "fail" and "paid platform" in item.evidence


def test_go_live_from_production_plan(tmp_path, rendered):
    params, status, d = rendered["shop-platform"]
    plan = tmp_path / "deployments" / "2.4.0-prod" / "deployment-plan.md"
    plan.parent.mkdir(parents=True)
    plan.write_text("- **Deploy Window:** 2026-11-04 14:00 UTC – 2026-11-04 16:00 UTC\n")
    by = {i.id: i for i in readiness.review(params, tmp_path, status).items}
    assert by["prc-32"].status == "pass" and "2026-11-04 14:00" in by["prc-32"].evidence


@pytest.mark.kernel
def test_notebook_writes_readiness(tmp_path, rendered):
    params, status, d = rendered["agent-orchestrator"]
    out = tmp_path / "90.ipynb"
    execute_notebook(str(REPO / "notebooks" / "90-readiness-review.ipynb"), str(out),
                        parameters={"params_path": str(PARAMS / "agent-orchestrator.yaml"), "out_dir": str(d), "interactive": False},
                        kernel_name="python3", progress_bar=False, cwd=str(REPO / "notebooks"))
    nb = json.loads(out.read_text())
    outputs = [o for c in nb["cells"] if c["cell_type"] == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o["output_type"] == "error"]
    assert "image/png" in {m for o in outputs for m in o.get("data", {})}
    assert (d / "readiness.md").read_text() == readiness.render_review(readiness.review(params, d, status))
