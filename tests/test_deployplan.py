"""Deployment plans: gates (pure), golden plans per strategy and example project, the CLI entry."""

import shutil

import pytest
from conftest import EXAMPLES, FIXTURES, PARAMS

from opslib.catalog import catalog
from opslib.cli import main
from opslib.documents.deployment_plan import (
    Deployment,
    GateFailed,
    build_plan,
    check_gates,
    gate_qa,
    gate_rollback,
    gate_status,
    gate_version,
    parse_version,
    parse_window,
    prepare,
    read_qa_report,
    render_plan,
)
from opslib.errors import InputError
from opslib.params.models import load_params
from opslib.params.status import ProjectStatus

D = FIXTURES / "deploy"
QA = {"shop-platform": "QA-Report-SHOP-142.md", "weather-api": "QA-Report-WX-7.md", "agent-orchestrator": "QA-Report-SHOP-142.md",
      "sms-notifier": "QA-Report-SMS-21.md", "merchant-digest": "QA-Report-MDG-4.md"}
VERSION = {"shop-platform": "2.4.0", "weather-api": "1.4.0", "agent-orchestrator": "0.9.0", "sms-notifier": "2.1.0", "merchant-digest": "1.2.0"}
WINDOW = "2026-11-04T14:00Z/2026-11-04T16:00Z"
CASES = [(p, s) for p in EXAMPLES for s in catalog.load_platform(load_params(PARAMS / f"{p}.yaml").platform).deploy]


def _status(status="active", phase="deployment", reason=None):
    return ProjectStatus(status=status, current_phase=phase, last_updated="2026-11-01T09:00:00Z", blocked_reason=reason)


HIST = [Deployment("2.3.1", "prod", "2026-10-21", "success"), Deployment("2.3.2", "prod", "2026-10-28", "rolled_back")]


@pytest.mark.parametrize("project,strategy", CASES, ids=[f"{p}-{s}" for p, s in CASES])
def test_golden_plan(project, strategy, golden):
    params = load_params(PARAMS / f"{project}.yaml")
    qa = read_qa_report(D / QA[project]) if project != "agent-orchestrator" else None
    from dataclasses import replace

    qa = replace(qa, path=f"QA/{(D / QA[project]).name}") if qa else None
    version = VERSION[project] if project != "agent-orchestrator" else "0.9.0"
    from opslib.documents.deployment_plan import load_history

    hist = load_history(D / "history" / f"{project}.yaml")
    gates = check_gates(params, "prod", version, qa, hist, _status(), "status.json", f"deployments/{project}.yaml")
    plan = build_plan(params, "prod", version, gates, qa=qa, history=hist, window=parse_window(WINDOW), strategy=strategy, force=True)
    text = render_plan(plan)
    assert "## Gates" in text and "## Rollback Triggers" in text and "export VERSION=v" in text
    if strategy == "canary":
        assert "Metric gate between canary steps" in text and "| 10% |" in text
    golden(f"plans/{project}-{strategy}-prod.md", text)


@pytest.mark.parametrize("status,phase,prod,ok", [
    ("blocked", "deployment", True, False), ("on-hold", "deployment", False, False),
    ("active", "testing", True, False), ("active", "testing", False, True), ("active", "deployment", True, True),
    ("active", "implementation", False, False),
])
def test_status_gate(status, phase, prod, ok):
    g = gate_status(_status(status, phase, "waiting for DBA" if status != "active" else None), "status.json", prod)
    assert g.ok is ok
    assert g.ok or g.fix


@pytest.mark.parametrize("name,ok", [("QA-Report-SHOP-142.md", True), ("QA-Report-SHOP-143.md", False),
                                     ("QA-Report-WX-7.md", True), ("QA-Report-AGT-9.md", False)])
def test_qa_gate(name, ok):
    qa = read_qa_report(D / name)
    version = "2.4.0" if "SHOP" in name else "1.0.0"
    assert gate_qa(qa, version).ok is ok


def test_qa_gate_version_mismatch_and_missing():
    assert not gate_qa(read_qa_report(D / "QA-Report-SHOP-142.md"), "2.5.0").ok
    g = gate_qa(None, "1.0.0")
    assert not g.ok and "--qa-report" in g.fix


def test_qa_gate_with_a_version_that_is_not_semantic():
    """The QA report approved 2.4.0; a deploy of `latest` fails the gate (it raised AttributeError)."""
    g = gate_qa(read_qa_report(D / "QA-Report-SHOP-142.md"), "latest")
    assert not g.ok and "not latest" in g.fix


@pytest.mark.parametrize("version,ok", [("2.4.0", True), ("2.3.1", False), ("2.3.0", False), ("2.3.2", True),
                                        ("2.4.0-rc.1", True), ("v3.0.0", True), ("2.4", False), ("latest", False)])
def test_version_gate(version, ok):
    assert gate_version(version, HIST, "prod", "h.yaml").ok is ok


def test_prerelease_order():
    assert parse_version("1.0.0-rc.1").key() < parse_version("1.0.0").key() < parse_version("1.0.1").key()
    assert parse_version("1.0.0-alpha").key() < parse_version("1.0.0-alpha.1").key()


def test_rollback_gate():
    assert not gate_rollback(None, "prod", "h.yaml").ok
    assert not gate_rollback([Deployment("1.0.0", "staging", "2026-10-01", "success")], "prod", "h.yaml").ok
    g = gate_rollback(HIST, "prod", "h.yaml")
    assert g.ok and "2.3.1" in g.evidence  # the rolled-back 2.3.2 is not a rollback target


def test_window():
    w = parse_window(WINDOW)
    assert w.text == "2026-11-04 14:00 UTC – 2026-11-04 16:00 UTC"
    for bad in ("2026-11-04T16:00Z/2026-11-04T14:00Z", "tomorrow", "2026-11-04T14:00Z"):
        with pytest.raises(InputError):
            parse_window(bad)


def _project(tmp_path, status="active", phase="deployment"):
    """A copy of shop-platform whose status.json and history live under tmp_path."""
    root = tmp_path / "repo"
    (root / "parameters").mkdir(parents=True)
    text = (PARAMS / "shop-platform.yaml").read_text().replace("../examples/specs/projects/shop-platform/", "../specs/")
    (root / "parameters" / "shop-platform.yaml").write_text(text)
    for f in ("architecture.md", "plan.md", "spec.md"):
        (root / "specs").mkdir(exist_ok=True)
        shutil.copy(PARAMS.parent / "examples/specs/projects/shop-platform" / f, root / "specs" / f)
    (root / "specs" / "status.json").write_text(
        f'{{"status": "{status}", "current_phase": "{phase}", "last_updated": "2026-11-01T09:00:00Z"'
        + (', "blocked_reason": "waiting for the DBA"' if status == "blocked" else "") + "}")
    (root / "deployments").mkdir()
    shutil.copy(D / "history" / "shop-platform.yaml", root / "deployments" / "shop-platform.yaml")
    return root / "parameters" / "shop-platform.yaml"


def test_plan_main_writes_plan(tmp_path, capsys):
    path = _project(tmp_path)
    assert main(["plan", str(path), "--env", "prod", "--version", "2.4.0", "--qa-report", str(D / "QA-Report-SHOP-142.md"),
                 "--window", WINDOW, "--out", str(tmp_path / "build")]) == 0
    plan = tmp_path / "build" / "shop-platform" / "deployments" / "2.4.0-prod" / "deployment-plan.md"
    text = plan.read_text()
    assert "| rollback target | PASS | previous version 2.3.1" in text and "Override" not in text
    assert "[Architecture](../../../../repo/specs/architecture.md)" in text
    assert "wrote" in capsys.readouterr().out


@pytest.mark.parametrize("case,kwargs,word", [
    ("blocked", {"status": "blocked"}, "status.json"),
    ("unapproved", {"qa": "QA-Report-SHOP-143.md"}, "QA report approved"),
    ("older", {"version": "2.3.0"}, "version"),
    ("no-rollback", {"history": False}, "rollback target"),
])
def test_failed_gate_stops_plan(tmp_path, capsys, case, kwargs, word):
    path = _project(tmp_path, status=kwargs.get("status", "active"))
    if kwargs.get("history") is False:
        (path.parent.parent / "deployments" / "shop-platform.yaml").unlink()
    args = ["plan", str(path), "--env", "prod", "--version", kwargs.get("version", "2.4.0"),
            "--qa-report", str(D / kwargs.get("qa", "QA-Report-SHOP-142.md")), "--out", str(tmp_path / "build")]
    assert main(args) == 1
    out = capsys.readouterr().err
    assert f"[{word}]" in out and "--force" in out
    assert not (tmp_path / "build").exists()
    # --force writes the plan and records the override
    assert main([*args, "--force"]) == 0
    text = next((tmp_path / "build").rglob("deployment-plan.md")).read_text()
    assert "**Override (--force)**" in text and f"| {word} | FAIL |" in text


def test_bad_inputs(tmp_path):
    path = _project(tmp_path)
    with pytest.raises(InputError, match="no environment qa"):
        prepare(load_params(path), "qa", "2.4.0")
    with pytest.raises(InputError, match="strategy 'canary' is not available on heroku"):
        params = load_params(PARAMS / "weather-api.yaml")
        build_plan(params, "prod", "1.4.0", [], strategy="canary")
    bad = tmp_path / "h.yaml"
    bad.write_text("deployments:\n  - {version: 1.0, env: prod}\n")
    with pytest.raises(InputError, match="deployments\\[0\\]"):
        prepare(load_params(path), "prod", "2.4.0", history=bad)
    with pytest.raises(GateFailed):
        prepare(load_params(path), "prod", "2.4.0")  # no QA report
