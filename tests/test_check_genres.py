"""`opslib check` genres beyond runbooks: hand-written cost plans (opslib/check/cost_plan.py), deployment
plans, deployment reports and readiness reviews (opslib/check/deployment.py, opslib/check/readiness.py). Table tests: a snippet
that passes every rule, then one mutation per rule that must fail exactly that rule."""

import pytest

from opslib.check.cost_plan import check_cost_plan
from opslib.check.document import check_document, detect_genre

COST = """# Payments API cost plan

## Estimated Costs

Estimated as of: 2026-10-01, us-east-1 on-demand prices. Assumptions: 2M requests a month, 730 hours.

| Component | What | Monthly cost |
|---|---|---|
| Compute | 2–4 EKS nodes m6i.large | $140–$280 |
| Storage | RDS PostgreSQL db.t4g.medium, 100 GB | $95 |
| Network | ALB and 200 GB data transfer | $40 |
| Monitoring | Datadog APM, 3 hosts | $93 |

Total: $368–$508 per month.

## Cost Tracking

AWS Cost Explorer, filtered by the tag `service=payments`; dashboard: https://console.aws.amazon.com/cost-management/home#/dashboard

## Guardrails

| Environment | Budget |
|---|---|
| dev | $100 |
| staging | $200 |
| prod | $600 |

Autoscaling: min 2, max 4 nodes.
Budget alerts at 80% and 100% go to #payments-finops.

## Optimization Opportunities

- Quick win: right-size the staging database to db.t4g.small, saving $30 a month.
"""


def failing(findings):
    return sorted({f.item for f in findings if f.status == "fail"})


def test_hand_written_cost_plan_passes_every_item():
    findings = check_cost_plan(COST)
    assert failing(findings) == []
    assert {f.status for f in findings if "Worst-case" in f.item} == {"not measured"}
    report = check_document(COST, name="payments-cost.md")
    assert report.genre == "cost-plan" and report.compliance == 100.0


@pytest.mark.parametrize("mutate, word", [
    (lambda t: t.replace("Estimated as of: 2026-10-01, ", ""), "as of"),
    (lambda t: t.replace("$140–$280", "$140").replace("Total: $368–$508", "Total: $368"), "ranges and assumptions"),
    (lambda t: t.replace(" Assumptions: 2M requests a month, 730 hours.", ""), "ranges and assumptions"),
    (lambda t: t.replace("| Monitoring | Datadog APM, 3 hosts | $93 |\n", ""), "Third-party"),
    (lambda t: t.replace("| Network | ALB and 200 GB data transfer | $40 |\n", ""), "Infrastructure costs"),
    (lambda t: t.replace("AWS Cost Explorer, filtered by the tag `service=payments`; dashboard: https://console.aws.amazon.com/cost-management/home#/dashboard", "We look at the bill."), "tracking tools"),
    (lambda t: t.replace("| dev | $100 |\n| staging | $200 |\n| prod | $600 |\n", ""), "Spending limits"),
    (lambda t: t.replace("Autoscaling: min 2, max 4 nodes.\n", ""), "Auto-scaling"),
    (lambda t: t.replace("Budget alerts at 80% and 100% go to #payments-finops.\n", ""), "Budget alerts"),
    (lambda t: t.replace("Quick win: right-size the staging database to db.t4g.small, saving $30 a month.", "Right-size the staging database to db.t4g.small."), "with priority"),
    (lambda t: t.replace("right-size the staging database to db.t4g.small", "buy a compute savings plan"), "Right-sizing"),
    (lambda t: t.replace("## Cost Tracking", "## Notes"), "All required sections"),
    (lambda t: t.replace("## Guardrails", "## Limits and alerts").replace("## Optimization Opportunities", "## Guardrails").replace("## Limits and alerts", "## Optimization Opportunities"), "All required sections"),
])
def test_each_cost_rule_passes_then_fails(mutate, word):
    bad = failing(check_cost_plan(mutate(COST)))
    assert any(word.lower() in item.lower() for item in bad), bad
    assert len(bad) <= 2, bad  # the mutation breaks its own rule, not the whole plan


@pytest.mark.parametrize("text", [
    "## Cost\n\n| Service | Cost |\n|---|---|\n| Total | $40 |\n| Grand total | $50 |\n",  # totals are not components
    "# Payments\n\n## Costs\n\nIt costs around $1000/month. This includes servers, databases, and storage.\n",  # the quality bar's bad example
])
def test_cost_traps_are_not_a_breakdown(text):
    assert any("break down by component" in i for i in failing(check_cost_plan(text)))


@pytest.mark.parametrize("title, found", [
    ("Cost Estimation", "Estimated Costs"), ("Cost breakdown by service", "Estimated Costs"), ("Budget configuration", "Guardrails"),
    ("Cost monitoring", "Cost Tracking"), ("Cost allocation tags", "Cost Tracking"), ("Cost reduction checklist", "Optimization Opportunities"),
])
def test_cost_section_synonyms_at_any_level(title, found):
    text = f"# Plan\n\n## Intro\n\n### {title}\n\n$10 per month\n"
    findings = check_cost_plan(text)
    sections = next(f for f in findings if f.item.startswith("All required sections"))
    assert found not in sections.message.split("for ", 1)[-1].split(";")[0]


PLAN = """# Deployment Plan — PAY-12

- **As of**: 2026-11-02
- **Target environment:** prod

## Overview

payments-api 1.8.0 to prod, rolling update. Expected duration: 10 minutes. See runbook.md for troubleshooting.

## Pre-Deployment Checklist

- [ ] QA report approved
- [ ] On-call engineer identified

### Prerequisites

```bash
kubectl config use-context prod
```

## Deployment Steps

```bash
kubectl -n payments set image deploy/api api=registry.example.com/api:1.8.0
kubectl -n payments rollout status deploy/api
```

Expected: `deployment "api" successfully rolled out`. If the rollout fails, roll back.

## Verification Steps

```bash
curl -sS https://payments.example.com/health
```

Expected output: `{"status":"ok"}`.

## Rollback Triggers

Roll back at once if the error rate is above 5% for 5 minutes, because users then fail to pay, or a health check fails.

## Rollback Steps

Expected rollback time: 3 minutes.

```bash
kubectl -n payments rollout undo deploy/api
```

## Escalation Contacts

Page #payments-oncall; after 15 min the engineering manager.
"""


def test_deployment_plan_passes_every_rule():
    report = check_document(PLAN)
    assert report.genre == "deployment-plan"
    assert failing(report.findings) == [] and report.compliance == 100.0
    assert {f.status for f in report.findings if "Thresholds with a rationale" in f.item} == {"pass"}


@pytest.mark.parametrize("mutate, word", [
    (lambda t: t.replace("Expected rollback time: 3 minutes.\n", ""), "Expected rollback time"),
    (lambda t: t.replace("above 5% for 5 minutes, because users then fail to pay, or a health check fails", "things look bad"), "Rollback triggers"),
    (lambda t: t.replace("```bash\nkubectl -n payments set image deploy/api api=registry.example.com/api:1.8.0\nkubectl -n payments rollout status deploy/api\n```",
                         "Deploy the new version with the pipeline."), "specific commands"),
    (lambda t: t.replace("## Escalation Contacts", "## Notes"), "Deployment plan sections"),
    (lambda t: t.replace("## Verification Steps", "## Checks").replace("## Deployment Steps", "## Verification Steps").replace("## Checks", "## Deployment Steps"), "Deployment plan sections"),
    (lambda t: t.replace(" See runbook.md for troubleshooting.", ""), "architecture.md"),
    (lambda t: t.replace("Expected duration: 10 minutes. ", ""), "Expected durations"),
])
def test_each_deployment_plan_rule_passes_then_fails(mutate, word):
    report = check_document(mutate(PLAN))
    assert report.genre == "deployment-plan"
    assert any(word.lower() in i.lower() for i in failing(report.findings)), failing(report.findings)


REPORT = """# Deployment Report — PAY-12

## Summary
- **Status:** SUCCESS
- **Environment:** prod
- **Duration:** 12 min (2026-11-04 14:02 – 2026-11-04 14:14)

## Pre-Deployment State
- Previous version: 1.7.3

## Deployment Timeline
| Time | Action | Status |
|------|--------|--------|
| 14:02 | Started deployment | - |
| 14:09 | Rolled out | SUCCESS |

## Verification Results
| Check | Expected | Actual | Status |
|-------|----------|--------|--------|
| Health endpoint | 200 OK | 200 OK | PASS |

## Post-Deployment State
- Current version: 1.8.0

## Issues Encountered
- None

## Rollback Status
- Rollback required: No
"""


def test_deployment_report_is_held_to_its_format_not_to_procedure_rules():
    report = check_document(REPORT)
    assert report.genre == "deployment-report" and failing(report.findings) == []
    na = {f.item for f in report.findings if f.status == "n/a"}
    assert "All procedures use specific commands (not abstractions)" in na and "Expected outputs documented" in na


@pytest.mark.parametrize("mutate, word", [
    (lambda t: t.replace("- **Status:** SUCCESS\n", ""), "outcome"),
    (lambda t: t.replace("| 14:02 |", "| start |").replace("| 14:09 |", "| later |"), "timeline"),
    (lambda t: t.replace("| Check | Expected | Actual | Status |", "| Check | Note | Result | Status |"), "Verification results"),
    (lambda t: t.replace("- Rollback required: No\n", "- It went fine\n"), "Rollback status"),
    (lambda t: t.replace("## Issues Encountered\n- None\n\n", ""), "Deployment report sections"),
])
def test_each_deployment_report_rule_passes_then_fails(mutate, word):
    report = check_document(mutate(REPORT))
    assert report.genre == "deployment-report"
    assert any(word.lower() in i.lower() for i in failing(report.findings)), failing(report.findings)


READINESS = """# Readiness Review: payments

- **As of**: 2026-11-02
- **Project status checked**: status.json: active / deployment
- **Overall score**: 100% of decided items pass (1 pass, 0 fail, 0 n/a, 1 not measured)

## Runbook

| ID | Item | Source | Status | Evidence |
|----|------|--------|--------|----------|
| dod-01 | runbook.md exists | DoD | pass | runbook.md: runbook.md file exists |
| prc-29 | Technical review complete | §8 Approval | not measured | the reviewer's signature would |

## Sign-off

Signed on the HTML export.
"""


def test_readiness_review_passes():
    report = check_document(READINESS)
    assert report.genre == "readiness" and failing(report.findings) == [] and report.compliance == 100.0


@pytest.mark.parametrize("mutate, word", [
    (lambda t: t.replace("| DoD | pass |", "| DoD | done |"), "answered with a status"),
    (lambda t: t.replace("runbook.md: runbook.md file exists", "-"), "evidence"),
    (lambda t: t.replace("(1 pass, 0 fail", "(2 pass, 0 fail"), "totals"),
    (lambda t: t.replace("- **Project status checked**: status.json: active / deployment\n", ""), "status.json"),
])
def test_each_readiness_rule_passes_then_fails(mutate, word):
    report = check_document(mutate(READINESS), genre="readiness")
    assert any(word.lower() in i.lower() for i in failing(report.findings)), failing(report.findings)


@pytest.mark.parametrize("text, name, genre", [
    (PLAN, "", "deployment-plan"), (REPORT, "", "deployment-report"), (READINESS, "", "readiness"), (COST, "", "cost-plan"),
    ("# Cost Estimation\n\nAs of June 2022 the monthly cost is:\n\n| Service | Cost (MLY) |\n|---|---|\n| Fargate | $ 72.08 |\n", "", "cost-plan"),
    # an SLO error-budget alert runbook is not a cost plan
    ("# KubeAPIErrorBudgetBurn\n\n## Meaning\n\nThe error budget burns.\n\n## Impact\n\nbad\n\n## Diagnosis\n\n## Mitigation\n", "kube-api-error-budget-burn.md", "alert-runbook"),
])
def test_new_genres_are_detected(text, name, genre):
    assert detect_genre(text, name) == genre


def test_expected_duration_with_a_colon_counts():
    text = "# Scale Redis\n\n## Prerequisites\n\nAccess to the cluster.\n\n## Steps\n\nExpected duration: 10 minutes.\n\n```bash\nkubectl scale sts/redis --replicas=3\n```\n"
    report = check_document(text, genre="procedure")
    assert {f.status for f in report.findings if f.item == "Expected durations documented"} == {"pass"}


COST_REPORT = """# Cost report: payments

Actual spend from the billing exports against the [cost plan](cost-plan.md). Data as of: 2026-10-31.

## Budget vs. Actual

| Environment | Budget | Actual | % of budget |
|---|---:|---:|---:|
| dev | $100 | $112 | 112% |
| prod | $600 | $410 | 68% |

Thresholds 70%, 90%, 100% of each budget; dev crossed 100% on 2026-10-29.

## Variance Against the Estimate

| Month | Estimate | Actual | Variance |
|---|---:|---:|---:|
| 2026-10 | $480 | $522 | +8.8% |

## Next Steps

Over budget: follow the cost plan's cost increase review process.
"""


def test_cost_report_is_its_own_genre():
    report = check_document(COST_REPORT)
    assert report.genre == "cost-report" and failing(report.findings) == [] and report.compliance == 100.0
    assert "All procedures use specific commands (not abstractions)" in {f.item for f in report.findings if f.status == "n/a"}


@pytest.mark.parametrize("mutate, word", [
    (lambda t: t.replace("| dev | $100 | $112 | 112% |\n| prod | $600 | $410 | 68% |\n", ""), "actual spend against each budget"),
    (lambda t: t.replace("Thresholds 70%, 90%, 100% of each budget; dev crossed 100% on 2026-10-29.\n", ""), "thresholds"),
    (lambda t: t.replace("## Variance Against the Estimate\n\n| Month | Estimate | Actual | Variance |\n|---|---:|---:|---:|\n| 2026-10 | $480 | $522 | +8.8% |\n", ""), "variance"),
    (lambda t: t.replace("## Next Steps", "## Notes"), "over budget"),
])
def test_each_cost_report_rule_passes_then_fails(mutate, word):
    report = check_document(mutate(COST_REPORT), genre="cost-report")
    assert any(word.lower() in i.lower() for i in failing(report.findings)), failing(report.findings)
