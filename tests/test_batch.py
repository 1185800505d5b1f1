"""papermill batch runs: the real notebooks, real kernels."""

import json
import shutil

import pytest
from conftest import FIXTURES, PARAMS, REPO

from opslib.cli import main

pytestmark = pytest.mark.kernel


@pytest.fixture(scope="module")
def batch_run(tmp_path_factory):
    """weather-api and shop-platform (good), a project with invalid parameters, and a blocked
    project whose notebook fails at the status gate — all in one batch, two at a time."""
    root = tmp_path_factory.mktemp("batch")
    (root / "parameters").mkdir()
    for name in ("weather-api", "shop-platform"):
        shutil.copy(PARAMS / f"{name}.yaml", root / "parameters")
    shutil.copytree(REPO / "examples", root / "examples")
    shutil.copy(FIXTURES / "bad-params" / "many-mistakes.yaml", root / "parameters" / "broken.yaml")
    shutil.copytree(FIXTURES / "bad-params" / "blocked", root / "blocked")
    blocked = next((root / "blocked").glob("*.yaml"))
    out = root / "build"
    # a previous good build of the blocked project must survive its failed run
    (out / "invoice-mailer").mkdir(parents=True)
    (out / "invoice-mailer" / "runbook.md").write_text("previous runbook\n")
    code = main(["batch", str(root / "parameters"), str(blocked), "--out", str(out), "--jobs", "2",
                 "--notebooks", str(REPO / "notebooks"), "--quiet"])
    return root, out, code


def test_exit_code_nonzero_when_any_failed(batch_run):
    assert batch_run[2] == 1


@pytest.mark.parametrize("name", ["weather-api", "shop-platform"])
def test_good_projects_complete(batch_run, name):
    _, out, _ = batch_run
    project = out / name
    for doc in ("runbook.md", "procedures.md"):  # the notebook writes the runbook and the procedures beside it
        assert (project / doc).read_text() == (REPO / "tests" / "golden" / name / doc).read_text()
    executed = json.loads((project / "notebooks" / "30-runbook.ipynb").read_text())
    assert executed["metadata"]["papermill"]["parameters"]["interactive"] is False
    html = (project / "review" / "30-runbook.html").read_text()
    assert "Deployment procedure" in html and "Roll back prod now" in html and "opslib.load_params" not in html  # no code cells
    assert "Procedures (beside the runbook)" in html and "Known failures" in html  # procedures.md in the review copy too
    record = json.loads((project / "run.json").read_text())
    assert record["mode"] == "batch"
    assert record["notebooks"] == sorted(p.name for p in (REPO / "notebooks").glob("*.ipynb"))
    assert {"10-cost-plan.ipynb", "20-secret-inventory.ipynb", "30-runbook.ipynb", "40-cicd-pipeline.ipynb",
            "90-readiness-review.ipynb"} <= set(record["notebooks"])
    assert len(record["inputs_sha256"]) == 64
    assert {"runbook.md", "cost-plan.md", "secrets.md", ".env.example", "figures/cost-breakdown.png",
            "pipeline.md", "alerts.yml", "ci/.gitlab-ci.yml", "ci/.github/workflows/deploy.yml", "readiness.md"} <= set(record["documents"])
    assert record["timings_s"]["total"] > 0


def test_failures_are_reported_and_leave_nothing_half_written(batch_run, capsys):
    root, out, _ = batch_run
    assert not (out / "broken").exists()
    assert (out / "invoice-mailer" / "runbook.md").read_text() == "previous runbook\n"
    assert (out / "_failed" / "invoice-mailer" / "10-cost-plan.ipynb").exists()
    assert not list(out.glob(".*"))


def test_failure_report_names_project_notebook_cell_error(tmp_path, capsys):
    root = tmp_path
    shutil.copytree(FIXTURES / "bad-params" / "blocked", root / "blocked")
    shutil.copytree(REPO / "examples", root / "examples")
    blocked = next((root / "blocked").glob("*.yaml"))
    code = main(["batch", str(blocked), str(FIXTURES / "bad-params" / "many-mistakes.yaml"), "--out", str(root / "build"),
                 "--notebooks", str(REPO / "notebooks"), "--quiet", "--jobs", "1"])
    err = capsys.readouterr().err
    assert code == 1
    assert "invoice-mailer: FAILED in 10-cost-plan.ipynb cell" in err and "StatusGateError" in err and "is blocked" in err
    assert "many-mistakes: FAILED" in err and "mistakes; fix each field" in err
    assert "Traceback" not in err


def test_rerun_skips_unchanged_projects_and_fails_the_failed_again(batch_run, capsys):
    """Nothing changed: the good projects are skipped (no kernel started), their folders untouched."""
    root, out, _ = batch_run
    before = {p: p.stat().st_mtime_ns for p in (out / "weather-api").rglob("*")}
    code = main(["batch", str(root / "parameters"), "--out", str(out), "--jobs", "2", "--notebooks", str(REPO / "notebooks"), "--quiet"])
    text = capsys.readouterr()
    assert code == 1  # broken.yaml is still broken
    assert "weather-api: unchanged since its last run, skipped" in text.out and "shop-platform: unchanged" in text.out
    assert "(2 unchanged, skipped); 1 failed" in text.out
    assert {p: p.stat().st_mtime_ns for p in (out / "weather-api").rglob("*")} == before
