"""`opslib check` judges substance (issue 19) and the shape of hand-written runbooks (issue 18,
item 7): the score follows what helps an operator, templates score low whatever their headings,
commands of another platform than the one named fail, an unsure genre says so, every finding
says where to add what is missing, and the shape rules are warnings."""

from pathlib import Path

import pytest

from opslib.check.classify import classify, prompt_lines
from opslib.check.document import check_document
from opslib.check.formats import exceeds, render_reports
from opslib.check.markdown import parse
from opslib.check.shape import slug, stated_platform
from opslib.cli import main

CORPUS = Path(__file__).parent / "corpus"

GOOD = """# Orders API runbook

- **Platform**: Kubernetes (kubectl)
- **On-call**: PagerDuty schedule orders-primary; #orders-oncall; escalate to @orders-lead after 15 minutes
- [Rollback](#rollback)

## Deployment

1. Deploy the release:

   ```bash
   kubectl -n orders set image deploy/orders-api api=registry.example.com/orders-api:1.4.2
   kubectl -n orders rollout status deploy/orders-api --timeout=300s
   ```

   Expected output: `deployment "orders-api" successfully rolled out`.
2. Verify: `curl -fsS https://orders.example.com/healthz` returns 200 within 5 seconds.

## Troubleshooting

If the error rate is above 5% for 10 minutes, roll back, because users then see failed checkouts.

```bash
kubectl -n orders logs deploy/orders-api --since=15m
```

Expected: no `ERROR` lines. If there are, check that the database is reachable; otherwise escalate.

## Rollback

```bash
kubectl -n orders rollout undo deploy/orders-api
kubectl -n orders rollout status deploy/orders-api
```

Confirm the health check returns 200 again.
"""

# a template with every heading a good runbook has, and nothing an operator can act on
TEMPLATE = """# Runbook: [Service Name]

## Deployment

- Describe how the service is deployed
- What are the steps?

## Operations

- Routine tasks (e.g. scaling, backups)

## Monitoring

| Metric | Threshold | Why |
|---|---|---|
| | | |

## Troubleshooting

- What are the common failure modes?
- How do you diagnose them?

## Rollback

- How do you roll back? <describe the rollback here>

## Escalation

- Who is on call? _(e.g. the team's Slack channel)_
"""


def test_a_good_runbook_outscores_a_template_with_the_same_headings():
    good, template = check_document(GOOD, name="runbook.md"), check_document(TEMPLATE, name="runbook.md")
    assert template.genre == "template" and template.substance and template.substance.penalties
    assert good.score > 3 * template.score and template.score < 10
    assert len(prompt_lines(parse(TEMPLATE))) >= 8


def test_the_score_is_continuous_and_grows_with_substance():
    less = GOOD.replace("Expected output: `deployment \"orders-api\" successfully rolled out`.", "")
    assert check_document(less, name="runbook.md").score < check_document(GOOD, name="runbook.md").score
    fewer = GOOD.replace("kubectl -n orders logs deploy/orders-api --since=15m\n", "")
    assert check_document(fewer, name="runbook.md").score < check_document(GOOD, name="runbook.md").score


@pytest.mark.parametrize("named, fits", [("Kubernetes (kubectl)", True), ("Amazon ECS on AWS Fargate (AWS CLI)", False), ("Heroku", False)])
def test_commands_of_another_platform_than_the_one_named_fail(named, fits):
    text = GOOD.replace("Kubernetes (kubectl)", named)
    assert stated_platform(parse(text))[1] == 3
    report = check_document(text, name="runbook.md")
    unfit = [f for f in report.findings if f.status == "fail" and f.area == "truth" and "tools of the project's platform" in f.item]
    assert bool(unfit) != fits and (not unfit or unfit[0].severity == "error" and exceeds(report, "error"))
    if not fits:
        assert report.score < check_document(GOOD, name="runbook.md").score
        assert "named by the document, line 3" in unfit[0].message


def test_a_platform_given_on_the_command_line_wins_over_the_one_named():
    report = check_document(GOOD.replace("Kubernetes (kubectl)", "Heroku"), name="runbook.md", platform="kubernetes")
    assert not [f for f in report.findings if f.status == "fail" and "tools of the project's platform" in f.item]


def test_an_unsure_genre_says_so_and_is_judged_on_the_common_rules():
    text = "# Notes\n\nSome words about the system.\n\n```bash\nkubectl get pods\n```\n"
    guess = classify(parse(text))
    report = check_document(text)
    assert not guess.sure and not report.genre_sure
    assert any("genre unsure" in n and "--genre" in n for n in report.notes)
    assert not [f for f in report.findings if f.area == "runbook" and "sections" in f.item.lower()]  # no genre-specific rule
    assert "(unsure)" in render_reports([report], "text")
    sure = check_document(text, genre="service-runbook")
    assert sure.genre_sure and any("Deployment, Operations" in f.item for f in sure.findings)


def test_every_failing_finding_of_a_thin_document_has_a_line():
    report = check_document((CORPUS / "prometheus-operator-kube-proxy-down.md").read_text(), name="KubeProxyDown.md")
    fails = [f for f in report.findings if f.status == "fail"]
    assert fails and all(f.line for f in fails), [f for f in fails if not f.line]
    runbook = check_document(GOOD.replace("## Troubleshooting", "## Notes"), name="runbook.md")  # genre checker findings too
    assert [f for f in runbook.findings if f.status == "fail"] and all(f.line for f in runbook.findings if f.status == "fail")
    changes = report.top_changes()
    assert len(changes) == 3 and all(c.line and c.advice for c in changes)
    assert [c.gain for c in changes] == sorted((c.gain for c in changes), reverse=True)
    md = render_reports([report], "markdown")
    assert "The 3 changes that would raise the score most:" in md and f"1. line {changes[0].line}: {changes[0].advice}" in md


def test_a_postmortem_is_not_a_runbook():
    report = check_document((CORPUS / "kubernetes-prow-flakiness-2019-05-30.md").read_text(), name="2019-05-30.md")
    assert report.genre == "postmortem"
    assert any(f.status == "fail" and "incident report" in f.message for f in report.findings)
    assert any("incident report" in p for p in report.substance.penalties)


# --- shape: issue 18, item 7 ------------------------------------------------------------------------------

def shape(report, word):
    return [f for f in report.findings if f.area == "shape" and word.lower() in f.item.lower()]


def test_length_against_the_genre_is_a_warning():
    long = GOOD + "".join(f"\nNote {i}: the orders queue keeps {i} messages.\n" for i in range(200))
    report = check_document(long, name="runbook.md")
    [finding] = shape(report, "Length")
    assert finding.status == "fail" and finding.severity == "warning" and "over the 300" in finding.message
    assert not exceeds(report, "error") or [f for f in report.findings if f.status == "fail" and f.severity == "error" and f.area != "shape"]
    assert shape(check_document(GOOD, name="runbook.md"), "Length")[0].status == "pass"


def test_repeated_lines_over_five_percent_warn():
    block = "".join(f"\nStep {i}: restart worker {i} and check its queue.\n" for i in range(30))
    repeated = GOOD + block + "\n## Staging\n" + block
    [finding] = shape(check_document(repeated, name="runbook.md"), "repeat")
    assert finding.status == "fail" and finding.severity == "warning" and finding.line > len(GOOD.splitlines())
    assert shape(check_document(GOOD + block, name="runbook.md"), "repeat")[0].status == "pass"


def test_rollback_must_be_reachable_from_the_first_screen():
    assert shape(check_document(GOOD, name="runbook.md"), "Rollback reachable")[0].status == "pass"
    buried = GOOD.replace("- [Rollback](#rollback)\n", "") .replace("## Deployment", "## Deployment\n" + "\nText.\n" * 25)
    [finding] = shape(check_document(buried, name="runbook.md"), "Rollback reachable")
    assert finding.status == "fail" and finding.severity == "warning" and "Rollback section starts at line" in finding.message


def test_alert_links_need_a_section_each(tmp_path):
    doc = tmp_path / "runbook.md"
    doc.write_text(GOOD + "\n## OrdersHighErrorRate\n\nMeaning: more than 5% of requests fail.\n")
    (tmp_path / "alerts.yml").write_text(
        "groups:\n- name: orders\n  rules:\n"
        "  - alert: OrdersHighErrorRate\n    expr: x > 1\n    annotations:\n      runbook_url: https://example.com/runbook.md#ordershigherrorrate\n"
        "  - alert: OrdersLatency\n    expr: x > 1\n    annotations:\n      runbook_url: https://example.com/runbook.md#orderslatency\n")
    report = check_document(doc.read_text(), path=doc)
    found = shape(report, "runbook_url")
    assert [f.status for f in found] == ["fail"] and "OrdersLatency" in found[0].message and found[0].severity == "warning"
    (tmp_path / "alerts.yml").unlink()
    assert shape(check_document(doc.read_text(), path=doc), "runbook_url") == []
    given = tmp_path / "rules.yml"
    given.write_text("groups:\n- name: x\n  rules:\n  - alert: A\n    expr: x\n    annotations:\n      runbook_url: runbook.md#rollback\n")
    assert [f.status for f in shape(check_document(doc.read_text(), path=doc, alerts=given), "runbook_url")] == ["pass"]


def test_slug_is_githubs_anchor():
    assert slug("Orders: High Error-Rate (prod)") == "orders-high-error-rate-prod"


def test_shape_warnings_do_not_fail_the_cli_by_default(tmp_path):
    doc = tmp_path / "runbook.md"
    doc.write_text(GOOD + "".join(f"\nNote {i}: the orders queue keeps {i} messages.\n" for i in range(200)))
    report = check_document(doc.read_text(), path=doc)
    assert [f for f in report.findings if f.status == "fail" and f.area == "shape"]
    assert all(f.severity == "warning" for f in report.findings if f.area == "shape")
    assert main(["check", str(doc), "--fail-on", "never"]) == 0


def test_cli_alerts_option_checks_the_given_rules_against_the_runbook(tmp_path, capsys):
    doc = tmp_path / "docs" / "runbook.md"
    doc.parent.mkdir()
    doc.write_text(GOOD)
    rules = tmp_path / "monitoring" / "rules.yml"  # not beside the document: found only through --alerts
    rules.parent.mkdir()
    rules.write_text("groups:\n- name: orders\n  rules:\n"
                     "  - alert: OrdersDown\n    expr: up == 0\n    annotations:\n      runbook_url: https://example.com/runbook.md#ordersdown\n")
    assert main(["check", str(doc), "--fail-on", "never", "--format", "json"]) == 0
    assert "OrdersDown" not in capsys.readouterr().out
    assert main(["check", str(doc), "--alerts", str(rules), "--fail-on", "never", "--format", "json"]) == 0
    out = capsys.readouterr().out
    assert "alert OrdersDown links to #ordersdown" in out
    doc.write_text(GOOD + "\n## OrdersDown\n\nEvery orders instance is down: page the on-call.\n")
    assert main(["check", str(doc), "--alerts", str(rules), "--fail-on", "never", "--format", "json"]) == 0
    assert "every one of 1 alert link(s) opens a section" in capsys.readouterr().out


@pytest.mark.parametrize("content, word", [(None, "file not found"), ("groups: [unclosed\n", "not readable YAML"), ("rules: []\n", "no 'groups:'")])
def test_cli_alerts_option_rejects_a_missing_or_wrong_file_in_one_sentence(tmp_path, capsys, content, word):
    doc = tmp_path / "runbook.md"
    doc.write_text(GOOD)
    rules = tmp_path / "rules.yml"
    if content is not None:
        rules.write_text(content)
    assert main(["check", str(doc), "--alerts", str(rules)]) == 2
    err = capsys.readouterr().err.strip()
    assert word in err and str(rules) in err and "Traceback" not in err and len(err.splitlines()) == 1


def test_cli_accepts_postmortem_as_a_genre(tmp_path, capsys):
    doc = tmp_path / "incident.md"
    doc.write_text("# Outage on 2024-03-01\n\n## Timeline\n\n- 10:02 alert fired\n- 10:30 rolled back\n\n## Root cause\n\nA bad config.\n")
    assert main(["check", str(doc), "--genre", "postmortem", "--format", "json", "--fail-on", "never"]) == 0
    assert '"genre": "postmortem"' in capsys.readouterr().out


def _part(text: str, key: str):
    return next(p for p in check_document(text, genre="procedure").substance.parts if p.key == key)


def test_an_inline_command_the_text_says_to_run_counts_whatever_its_tool():
    told = "# Tripwire violation\n\n1. Run a report: `tripwire -m c -I`\n2. Read the Object Detail section.\n"
    named = "# Tripwire violation\n\n1. A report is produced by `tripwire`.\n2. Read the Object Detail section.\n"
    assert _part(told, "commands").value > _part(named, "commands").value == 0


def test_the_error_an_operator_will_see_counts_as_an_expected_output():
    shown = "# Stale lock\n\nIn the pipeline you will see errors like this:\n\n```\nError: Error acquiring the state lock\n```\n\nDelete the lock.\n"
    hidden = "# Stale lock\n\nThe pipeline fails.\n\n```\nError: Error acquiring the state lock\n```\n\nDelete the lock.\n"
    assert _part(shown, "outputs").value > _part(hidden, "outputs").value == 0


def test_a_vague_verification_counts_half_of_a_concrete_one():
    vague = "# Restore\n\n1. Restore the snapshot.\n2. Verify proper operation.\n"
    concrete = "# Restore\n\n1. Restore the snapshot.\n2. Verify that `GET /health` returns 200.\n"
    assert 0 < _part(vague, "verification").value < _part(concrete, "verification").value
    assert "vague one counts half" in _part(vague, "verification").evidence


def test_the_length_message_reads_right_for_a_genre_starting_with_a_vowel():
    report = check_document("# KubeletDown\n\n## Meaning\n\nThe kubelet is down.\n", genre="alert-runbook")
    [length] = shape(report, "Length fits the genre")
    assert "for an alert-runbook" in length.message
