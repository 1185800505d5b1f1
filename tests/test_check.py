
import pytest
from conftest import PARAMS

from opslib import check_runbook, check_status, load_params
from opslib.check.findings import failed
from opslib.check.runbook import RUNBOOK_CHECKS
from opslib.documents.runbook import build, render_runbook


@pytest.fixture(scope="module")
def good_text():
    params = load_params(PARAMS / "shop-platform.yaml")
    return render_runbook(build(params, check_status(params)))


def statuses(findings, item_word):
    return {f.status for f in findings if item_word.lower() in f.item.lower()}


def test_generated_runbook_passes_everything(good_text):
    findings = check_runbook(good_text, strict=True)
    assert not failed(findings), [f for f in failed(findings)]
    items = {f.item for f in findings}
    assert len(items) == len(RUNBOOK_CHECKS) >= 16


BAD_EXAMPLE = """# Runbook

## Deployment to Production

Deploy the application to production using the CI/CD pipeline or manually. Verify that it's working correctly. If something goes wrong, roll back.

## Troubleshooting

### Service Won't Start

If the service won't start, check the logs and make sure the database is accessible. Fix any connection issues or credential problems.
"""


def test_quality_bar_bad_example_fails(good_text):
    findings = check_runbook(BAD_EXAMPLE)
    for word in ("required sections", "each environment", "specific commands", "durations", "Health check", "Log locations",
                 "Scaling", "metrics", "Dashboard", "Escalation", "Common issues", "Rollback procedure", "architecture"):
        assert statuses(findings, word) == {"fail"}, word


def drop_section(text, title):
    lines = text.splitlines(keepends=True)
    start = next(i for i, ln in enumerate(lines) if ln.strip() == f"## {title}")
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    return "".join(lines[:start] + lines[end:])


@pytest.mark.parametrize(
    "mutate, item_word, message",
    [
        (lambda t: drop_section(drop_section(t, "Monitoring"), "Alerts"), "required sections", "missing section(s) Monitoring"),
        (lambda t: t.replace("## Rollback", "## Rollbackx").replace("## Deployment", "## Rollback", 1).replace("## Rollbackx", "## Deployment"),
         "required sections", "reorder them"),
        (lambda t: t.replace(" staging |", " pre-production |", 1), "each environment", "no deployment procedure for staging"),
        (lambda t: t.replace("**Expected duration**", "**Duration**"), "durations", "has no expected duration"),
        (lambda t: t.replace("#### Prerequisites", "#### Before you start"), "Prerequisites", "has no prerequisites"),
        (lambda t: t.replace("| Alert | Threshold |", "| Alert | Limit |"), "metrics", "metric"),
        (lambda t: t.replace("architecture.md", "arch.txt"), "architecture", "no link to architecture.md"),
        (lambda t: t + "\nSet the URL to <your-value-here>.\n", "realistic values", "unfilled placeholder"),
        (lambda t: t.replace("**As of**: ", "**Reviewed**: "), "as of", "no 'As of: YYYY-MM-DD' date"),
        (lambda t: t.replace("**Symptom**", "**What you see**"), "Common issues", "troubleshooting issue(s)"),
    ],
)
def test_each_check_can_fail(good_text, mutate, item_word, message):
    bad = mutate(good_text)
    assert bad != good_text
    findings = [f for f in check_runbook(bad, strict=True) if item_word.lower() in f.item.lower()]
    assert any(f.status == "fail" and message in f.message for f in findings), findings


def test_sections_in_html_comments_do_not_count(good_text):
    hidden = good_text.replace("## Monitoring", "<!--\n## Monitoring\n-->", 1).replace("## Alerts", "<!--\n## Alerts\n-->", 1)
    assert statuses(check_runbook(hidden, strict=True), "required sections") == {"fail"}


def test_broken_relative_link_fails(tmp_path, good_text):
    findings = check_runbook(good_text, path=tmp_path / "runbook.md", strict=True)
    assert any(f.status == "fail" and "does not resolve" in f.message for f in findings)


def test_file_check_on_disk(tmp_path, good_text):
    path = tmp_path / "notes.md"
    path.write_text(good_text)
    assert statuses(check_runbook(path.read_text(), path=path), "file exists") == {"pass"}  # any name for a hand-written runbook
    assert "fail" in statuses(check_runbook(path.read_text(), path=path, strict=True), "file exists")  # ours is runbook.md
