"""Table tests for the checkers that moved into the check room (secrets, pipeline, cost report,
readiness review, alert rules): a hand-written document that passes every rule, then one
mutation per rule that fails exactly that item."""


import pytest
from conftest import GOLDEN, PARAMS

from opslib.check.alerts import ITEMS as ALERT_ITEMS
from opslib.check.alerts import check_alerts
from opslib.check.cost_report import ITEMS as REPORT_ITEMS
from opslib.check.cost_report import check_cost_report
from opslib.check.findings import failed
from opslib.check.pipeline import ITEMS as PIPELINE_ITEMS
from opslib.check.pipeline import check_pipeline
from opslib.check.readiness import ITEMS as READINESS_ITEMS
from opslib.check.readiness import check_readiness
from opslib.check.secrets import ITEMS as SECRET_ITEMS
from opslib.check.secrets import check_secrets
from opslib.documents import alerts
from opslib.params.models import load_params

needs_promtool = pytest.mark.usefixtures("promtool_installed")


def failing(findings):
    return sorted({f.item for f in failed(findings)})


SECRETS = """# Secrets: payments

## Tool: HashiCorp Vault

Values live in HashiCorp Vault (KV v2 under `secret/payments`); pods read them through the agent.

## Required Secrets

| Name | Env var | Used by |
|---|---|---|
| secret/payments/prod/db-password | DB_PASSWORD | api |

## Rotation Frequency

| Kind | Period |
|---|---|
| database password | every 90 days |

## Rotation Procedure

```bash
vault kv patch secret/payments/prod/db-password value=@new-password.txt
kubectl -n payments rollout restart deploy/api
```

Verify: `kubectl -n payments rollout status deploy/api` reports the rollout complete.

## Emergency Rotation

Revoke the leaked credential, restart every pod at once, audit the access log, write a post-mortem.

```bash
vault lease revoke -prefix database/creds/payments
kubectl -n payments delete pods -l app=api
```

## Referencing Secrets in Code

```python
import os
password = os.environ["DB_PASSWORD"]
```

## Access Control

| Secret | api | worker |
|---|---|---|
| db-password | read | |

Least privilege: only the api role reads it.

```hcl
path "secret/data/payments/prod/db-password" { capabilities = ["read"] }
```

Never commit secrets to git.
"""


def test_hand_written_secrets_document_passes_every_item():
    findings = check_secrets(SECRETS)
    assert failing(findings) == [] and {f.item for f in findings} == set(SECRET_ITEMS.values())


@pytest.mark.parametrize("mutate, key", [
    (lambda t: t.replace("| secret/payments/prod/db-password | DB_PASSWORD | api |\n", ""), "identified"),
    (lambda t: t.replace("## Tool: HashiCorp Vault\n\nValues live in HashiCorp Vault", "## Tool\n\nValues live in our store"), "tool"),
    (lambda t: t.replace("Verify: `kubectl -n payments rollout status deploy/api` reports the rollout complete.\n", ""), "procedures"),
    (lambda t: t.replace("every 90 days", "regularly"), "frequencies"),
    (lambda t: t.replace(", write a post-mortem", ""), "emergency"),
    (lambda t: t.replace('```python\nimport os\npassword = os.environ["DB_PASSWORD"]\n```', "Read it from the environment."), "code"),
    (lambda t: t.replace("Least privilege: only the api role reads it.\n", ""), "access"),
    (lambda t: t.replace("Never commit secrets to git.\n", ""), "warnings"),
    (lambda t: t + "\naws_access_key_id = AKIA" + "Q" * 4 + "Z7Z7Z7Z7Z7Z7\n", "no_values"),
])
def test_each_secrets_rule_passes_then_fails(mutate, key):
    bad = mutate(SECRETS)
    assert bad != SECRETS
    assert failing(check_secrets(bad)) == [SECRET_ITEMS[key]]


def test_with_params_every_inventory_secret_must_be_listed():
    params = load_params(PARAMS / "weather-api.yaml")
    f = next(f for f in check_secrets(SECRETS, params=params) if f.item == SECRET_ITEMS["identified"])
    assert f.status == "fail" and "missing:" in f.message


PIPELINE = """# CI/CD: payments

## Build stage

```bash
docker build -t registry.example.com/payments:$VERSION .
trivy image --exit-code 1 registry.example.com/payments:$VERSION
```

## Test stage

```bash
pytest -q
pip-audit
```

## Deploy to staging

```bash
kubectl -n payments-staging set image deploy/api api=registry.example.com/payments:$VERSION
```

Smoke test: `curl -fsS https://staging.payments.example.com/health`, expected `{"status":"ok"}`.

## Deploy to prod

```bash
kubectl -n payments set image deploy/api api=registry.example.com/payments:$VERSION
```

## Approval

Approvers: @payments-leads approve every production deploy.

## Rollback

```bash
kubectl -n payments rollout undo deploy/api
```

## Notifications

Results go to #payments-deploys.
"""


def test_hand_written_pipeline_passes_every_item():
    findings = check_pipeline(PIPELINE)
    assert failing(findings) == [] and [f.item for f in findings] == list(PIPELINE_ITEMS.values())


@pytest.mark.parametrize("mutate, key", [
    (lambda t: t.replace("docker build -t registry.example.com/payments:$VERSION .\n", ""), "build"),
    (lambda t: t.replace("pytest -q\n", ""), "test"),
    (lambda t: t.replace("pip-audit\n", ""), "security"),
    (lambda t: t.replace("## Deploy to prod", "## Production"), "deploy"),
    (lambda t: t.replace("Approvers: @payments-leads approve every production deploy.", "Someone approves."), "approval"),
    (lambda t: t.replace(', expected `{"status":"ok"}`', ""), "smoke"),
    (lambda t: t.replace("```bash\nkubectl -n payments rollout undo deploy/api\n```", "Undo the rollout."), "rollback"),
    (lambda t: t.replace("Results go to #payments-deploys.", "Results go to the team."), "notify"),
])
def test_each_pipeline_rule_passes_then_fails(mutate, key):
    bad = mutate(PIPELINE)
    assert bad != PIPELINE
    assert failing(check_pipeline(bad)) == [PIPELINE_ITEMS[key]]


def test_pipeline_environments_come_from_the_parameters():
    params = load_params(PARAMS / "weather-api.yaml")  # dev, staging, prod: the snippet has no dev deploy
    assert failing(check_pipeline(PIPELINE, params=params)) == [PIPELINE_ITEMS["deploy"]]
    assert failing(check_pipeline(PIPELINE, environments=["staging", "prod"], params=params)) == []


# --- the generated documents' extra demands (strict profile) ------------------------------------

REPORT = (GOLDEN / "shop-platform" / "cost-report.md").read_text()
ENVS = ["dev", "staging", "prod"]


@pytest.mark.parametrize("mutate, envs, item", [
    (lambda t: t, ENVS, None),
    (lambda t: t.replace("\n## Anomalies", "\n## Unusual days"), ENVS, REPORT_ITEMS["section"].format(section="Anomalies")),
    (lambda t: t.replace("\n## Data Quality", "\n### Data Quality"), ENVS, REPORT_ITEMS["section"].format(section="Data Quality")),
    (lambda t: t, [*ENVS, "qa"], REPORT_ITEMS["environments"]),
])
def test_generated_cost_report_strict_demands(mutate, envs, item):
    text = mutate(REPORT)
    assert failing(check_cost_report(text, environments=envs)) == []  # a team's report need not look like ours
    assert failing(check_cost_report(text, environments=envs, strict=True)) == ([item] if item else [])


READINESS = (GOLDEN / "weather-api" / "readiness.md").read_text()


@pytest.mark.parametrize("drop, ok", [(None, True), ("| dod-07 |", False), ("| prc-32 |", False)])
def test_generated_readiness_lists_every_item(drop, ok):
    text = "\n".join(ln for ln in READINESS.splitlines() if drop is None or not ln.startswith(drop)) + "\n"
    listed = [f for f in check_readiness(text, strict=True) if f.item == READINESS_ITEMS["listed"]]
    assert [f.status for f in listed] == ["pass" if ok else "fail"]
    if not ok:
        assert drop.strip("| ") in listed[0].message
    assert not [f for f in check_readiness(text) if f.item == READINESS_ITEMS["listed"]]  # lenient: any review's items


# --- alert rules -----------------------------------------------------------------------------

RULES = (GOLDEN / "weather-api" / "alerts.yml").read_text()


@pytest.mark.parametrize("mutate, fails", [
    (lambda t: t, False),
    (lambda t: t.replace("      rationale:", "      note:", 1), True),
    (lambda t: t.replace("      runbook_url:", "      link:", 1), True),
    (lambda t: "groups: 3\n", True),
])
def test_every_alert_is_explained(mutate, fails):
    meaning = next(f for f in check_alerts(mutate(RULES)) if f.item == ALERT_ITEMS["meaning"])
    assert meaning.status == ("fail" if fails else "pass")


@needs_promtool
def test_alert_rules_checked_and_unit_tested_beside_their_tests(tmp_path):
    params = load_params(PARAMS / "weather-api.yaml")
    (tmp_path / "alerts.yml").write_text(RULES)
    assert [f.status for f in check_alerts(RULES, path=tmp_path / "alerts.yml", strict=True)] == ["pass", "pass", "fail"]
    (tmp_path / alerts.TEST_FILE).write_text(alerts.render_tests(params))
    assert [f.status for f in check_alerts(RULES, path=tmp_path / "alerts.yml", strict=True)] == ["pass", "pass", "pass"]
    broken = RULES.replace("> 0.0144)", "> 0.9)")  # a text that is not the file: checked on a copy, beside a copy of the tests
    by = {f.item: f for f in check_alerts(broken, path=tmp_path / "alerts.yml")}
    assert by[ALERT_ITEMS["check"]].status == "pass" and by[ALERT_ITEMS["test"]].status == "fail"
    assert (tmp_path / "alerts.yml").read_text() == RULES
    assert {f.status for f in check_alerts("groups:\n  - name: x\n    rules:\n      - alert: Bad\n        expr: rate(\n")
            if f.item == ALERT_ITEMS["check"]} == {"fail"}
