import json
import shutil

import pytest
from conftest import FIXTURES, PARAMS, REPO

from opslib.cli import main


def test_validate_good(capsys):
    assert main(["validate", *map(str, sorted(PARAMS.glob("*.yaml")))]) == 0
    out = capsys.readouterr().out
    assert out.count(": valid (") == len(list(PARAMS.glob("*.yaml"))) and "status.json: active" in out


def test_validate_bad_exit_2_lists_all_without_traceback(capsys):
    assert main(["validate", str(FIXTURES / "bad-params" / "many-mistakes.yaml"), str(PARAMS / "weather-api.yaml")]) == 2
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    assert "many-mistakes.yaml:" in captured.err and "mistakes; fix each field" in captured.err
    assert "weather-api.yaml: valid" in captured.out


def test_validate_yaml_error(capsys):
    assert main(["validate", str(FIXTURES / "bad-params" / "not-yaml.yaml")]) == 2
    assert "invalid YAML" in capsys.readouterr().err


@pytest.fixture
def workspace(tmp_path):
    """A copy of the repository's parameters and examples, so tests write only under tmp_path."""
    shutil.copytree(PARAMS, tmp_path / "parameters")
    shutil.copytree(REPO / "examples", tmp_path / "examples")
    return tmp_path


@pytest.mark.slow
def test_render_writes_documents_and_run_record(workspace, capsys):
    assert main(["render", str(workspace / "parameters")]) == 0
    for name in ("weather-api", "shop-platform", "agent-orchestrator"):
        out = workspace / "build" / name
        assert (out / "runbook.md").read_text() == (REPO / "tests" / "golden" / name / "runbook.md").read_text()
        record = json.loads((out / "run.json").read_text())
        assert record["project"] == name and len(record["params_sha256"]) == 64
        # warnings (the truth rules' findings that need document code) are recorded, not failures
        assert record["documents"]["runbook.md"] and all(c["status"] != "fail" or c["severity"] == "warning" for c in record["checks"])
    assert not list((workspace / "build").glob(".*"))


def test_render_refuses_blocked_project_then_force(workspace, capsys):
    blocked = FIXTURES / "bad-params" / "blocked"
    shutil.copytree(blocked, workspace / "blocked")
    params = next((workspace / "blocked").glob("*.yaml"))
    assert main(["render", str(params), "--out", str(workspace / "out")]) == 2
    err = capsys.readouterr().err
    assert "is blocked" in err and "--force" in err and "Traceback" not in err
    assert not (workspace / "out").exists() or not list((workspace / "out").rglob("runbook.md"))
    assert main(["render", str(params), "--out", str(workspace / "out"), "--force"]) == 0
    text = next((workspace / "out").rglob("runbook.md")).read_text()
    assert "generated anyway with --force" in text


def test_check_command(workspace, capsys, tmp_path):
    good = workspace / "build" / "weather-api" / "runbook.md"
    good.parent.mkdir(parents=True)
    good.write_text((REPO / "tests" / "golden" / "weather-api" / "runbook.md").read_text())
    assert main(["check", str(good), "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    # the truth rules' warnings (area "truth") are tested in tests/test_truth.py, the shape warnings of
    # issue 18 (area "shape": length, repetition) in tests/test_check_substance.py
    assert report[0]["file"] == str(good) and {f["status"] for f in report[0]["findings"] if f["area"] not in ("truth", "shape")} == {"pass"}
    assert {f["severity"] for f in report[0]["findings"] if f["area"] == "shape" and f["status"] == "fail"} <= {"warning"}
    bad = tmp_path / "runbook.md"
    bad.write_text("# Runbook\n\n## Deployment\n\nDeploy it.\n")
    assert main(["check", str(bad)]) == 1
    out = capsys.readouterr().out
    assert "missing section(s) Operations, Monitoring, Troubleshooting, Rollback" in out
    assert f"{bad}:3: fail:" in out or f"{bad}: fail:" in out
    assert main(["check", str(tmp_path / "missing.md")]) == 2


def test_unknown_command_exit_2(capsys):
    with pytest.raises(SystemExit) as info:
        main(["deploy-everything"])
    assert info.value.code == 2


def test_schema_command(capsys):
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["additionalProperties"] is False and "environments" in schema["required"]


def test_cost_diff_files_and_git_revisions(workspace, capsys, monkeypatch):
    """REV:path is read from the git repository of the current directory (as git show does)."""
    import subprocess

    monkeypatch.chdir(workspace)
    params = workspace / "parameters" / "weather-api.yaml"
    def git(*a):
        return subprocess.run(["git", *a], cwd=workspace, check=True, capture_output=True)

    git("init", "-q")
    git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "--allow-empty", "-m", "start")
    git("add", "-A")
    git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "params")
    params.write_text(params.read_text().replace("expected: 4000000", "expected: 6000000"))
    assert main(["cost-diff", "HEAD:parameters/weather-api.yaml", str(params)]) == 0
    out = capsys.readouterr().out
    assert "| prod | openweathermap-usage | $135 | $225 | +$90.00 |" in out and "$643 → $733" in out
    assert main(["cost-diff", "HEAD~1:parameters/weather-api.yaml", str(params)]) == 2
    err = capsys.readouterr().err
    assert "HEAD~1:parameters/weather-api.yaml" in err and "Traceback" not in err


def test_scan_secrets_command(tmp_path, capsys):
    clean = tmp_path / "repo"
    clean.mkdir()
    (clean / "app.py").write_text("import os\nDATABASE_URL = os.environ['DATABASE_URL']\n")
    assert main(["scan-secrets", str(clean)]) == 0
    token = "ghp_" + "A1b2C3d4E5f6G7h8I9j0" + "K1l2M3n4O5p6Q7"
    (clean / "leak.py").write_text(f"TOKEN = '{token}'\n")
    assert main(["scan-secrets", str(clean), "--format", "json"]) == 1
    out = capsys.readouterr().out
    assert "leak.py" in out and token not in out
    assert main(["scan-secrets", str(tmp_path / "nope")]) == 2


def test_plan_and_report_commands(workspace, capsys, tmp_path):
    shutil.copytree(REPO / "deployments", workspace / "deployments")
    qa = REPO / "examples" / "qa" / "QA-Report-SHOP-142.md"
    params = str(workspace / "parameters" / "shop-platform.yaml")
    assert main(["plan", params, "--env", "prod", "--version", "2.4.0", "--qa-report", str(qa),
                 "--window", "2026-11-03T14:00Z/2026-11-03T16:00Z", "--out", str(tmp_path / "out")]) == 0
    plan = tmp_path / "out" / "shop-platform" / "deployments" / "2.4.0-prod" / "deployment-plan.md"
    assert "## Rollback Triggers" in plan.read_text()
    assert main(["plan", params, "--env", "prod", "--version", "2.3.0", "--qa-report", str(qa), "--out", str(tmp_path / "out2")]) == 1
    err = capsys.readouterr().err
    assert "not newer than 2.3.1" in err and "Traceback" not in err and not (tmp_path / "out2").exists()
    results = REPO / "tests" / "fixtures" / "deploy"
    assert main(["report", str(results / "results-rolled-back.yaml"), "--out", str(tmp_path / "rep")]) == 0
    assert list((tmp_path / "rep").rglob("deployment-report.md"))
    assert main(["report", str(results / "results-contradiction.yaml"), "--out", str(tmp_path / "rep")]) == 2
    assert "contradicts itself" in capsys.readouterr().err
