"""Deployment reports: seed 003 front matter, tables, rollback and escalation; self-contradicting records rejected."""

import pytest
from conftest import FIXTURES

from opslib.cli import main
from opslib.documents.deployment_report import load_results, render_report, write_report
from opslib.errors import InputError

D = FIXTURES / "deploy"


@pytest.mark.parametrize("name", ["results-success", "results-rolled-back"])
def test_golden_report(name, golden):
    golden(f"reports/{name}.md", render_report(load_results(D / f"{name}.yaml")))


def test_rolled_back_report(tmp_path, capsys):
    assert main(["report", str(D / "results-rolled-back.yaml"), "--out", str(tmp_path)]) == 0
    text = (tmp_path / "shop-platform" / "deployments" / "2.4.0-prod" / "deployment-report.md").read_text()
    assert text.startswith("---\ntags: [deployment, release, agent/devops]\n")
    assert 'status: "rolled_back"' in text and 'qa_report: "[[QA/QA-Report-SHOP-142]]"' in text
    assert "| 14:27 | Canary at 25% | FAILED |" in text
    assert "| Error rate | < 5% | 7.8% (orders-api canary) | FAIL |" in text
    assert "- Rollback required: Yes" in text and "- Current version: 2.3.1" in text
    assert "## Escalation Request\n- **Agent:** DevOps\n- **Unit ID:** SHOP-142\n- **Severity:** HIGH" in text
    assert "rolled_back" in capsys.readouterr().out


def test_success_report_has_no_escalation():
    text = render_report(load_results(D / "results-success.yaml"))
    assert "- **Status:** SUCCESS" in text and "Escalation" not in text and "- Rollback required: No" in text


def test_contradiction_rejected():
    with pytest.raises(InputError, match="contradicts itself.*status is success but verification check\\(s\\) failed: Error rate"):
        load_results(D / "results-contradiction.yaml")


@pytest.mark.parametrize("edit,match", [
    (("status: success", "status: failed"), "failed without an escalation"),
    (("required: false", "required: true"), "rollback.required is true but status is success"),
    (('finished: "2026-11-04 14:31"', 'finished: "2026-11-04 13:31"'), "finished is before started"),
    (("status: success", "status: done"), "status:"),
    (("deployer: DevOps Agent", "deployer: DevOps Agent\nsurprise: 1"), "surprise"),
])
def test_bad_records(tmp_path, edit, match):
    text = (D / "results-success.yaml").read_text().replace(*edit, 1)
    path = tmp_path / "r.yaml"
    path.write_text(text)
    with pytest.raises(InputError, match=match):
        load_results(path)


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="not found"):
        write_report(str(tmp_path / "nope.yaml"))
