"""Service kinds, SLIs on any metric, real names, third-party dependencies and the team's own
knowledge: what the parameters accept, what `opslib validate` refuses (with the field), and what
the documents make of them. Generated projects over the whole matrix: tests/test_generated.py."""

from __future__ import annotations

import re
import shutil

import pytest
import yaml
from conftest import PARAMS
from projects import make_project

from opslib import check_status, load_params
from opslib.catalog.catalog import clear_caches, open_catalog
from opslib.catalog.loaders import DATA_DIR
from opslib.check.findings import failed
from opslib.core.cron import max_interval_minutes, parse_cron
from opslib.core.formatting import aws_cron, duration
from opslib.documents import alerts, cost_plan, runbook, secrets
from opslib.documents.monitoring import alert_specs
from opslib.errors import ParamsError


def _edit(path, change):
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    return path


def _problems(path) -> str:
    with pytest.raises(ParamsError) as exc:
        load_params(path)
    return str(exc.value)


# --- cron ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("expr, hours", [("*/10 * * * *", 1 / 6), ("30 2 * * *", 24), ("0 3 * * 1-5", 72), ("@weekly", 168),
                                         ("0 0 1 * *", 744), ("0 */6 * * *", 6), ("15 3 1,15 * *", 17 * 24)])
def test_the_longest_gap_of_a_schedule(expr, hours):
    assert max_interval_minutes(parse_cron(expr)) == round(hours * 60)


@pytest.mark.parametrize("expr, message", [("0 0 * *", "5 fields"), ("61 * * * *", "minute field: 61 is outside 0-59"),
                                           ("0 0 30 2 *", "never runs"), ("*/0 * * * *", "step '0'")])
def test_a_bad_schedule_says_which_field(expr, message):
    with pytest.raises(ValueError) as exc:
        parse_cron(expr)
    assert message.replace("5 fields", "4 field(s)") in str(exc.value) or message in str(exc.value)


@pytest.mark.parametrize("expr, aws", [("15 3 * * 1-5", "cron(15 3 ? * MON-FRI *)"), ("30 4 * * *", "cron(30 4 * * ? *)"),
                                       ("*/10 * * * *", "cron(0/10 * * * ? *)"), ("0 2 1 * *", "cron(0 2 1 * ? *)"),
                                       ("@weekly", "cron(0 0 ? * SUN *)"), ("0 6 * * 0,6", "cron(0 6 ? * SUN,SAT *)")])
def test_a_schedule_as_aws_writes_it(expr, aws):
    """EventBridge (rules and Scheduler) wants six fields, `?` in one day field and days of week
    counted from Sunday = 1: names avoid the off-by-one of cron's Sunday = 0."""
    assert aws_cron(expr) == aws


def test_durations_read_like_people_write_them():
    assert [duration(s) for s in (300, 5400, 86400 * 3 + 2700, 86400 * 2)] == ["5 min", "1 h 30 min", "3 d 45 min", "2 d"]


# --- kinds against platforms ----------------------------------------------------------------------


@pytest.mark.parametrize("choices, field, words", [
    ({"platform": "heroku", "kinds": ("job",)}, None, None),
    ({"platform": "aws-lambda", "kinds": ("worker",), "health_command": True}, None, None),  # the generator leaves it out on Lambda
    ({"platform": "heroku", "kinds": ("web", "worker")}, None, None),
])
def test_projects_the_platform_can_run_validate(tmp_path, choices, field, words):
    load_params(make_project(tmp_path, **choices))


def test_what_a_platform_cannot_run_is_refused_with_the_field(tmp_path):
    path = make_project(tmp_path, platform="heroku", kinds=("web", "worker", "job"))

    def change(d):
        d["services"][2]["schedule"] = "0 3 * * 1"  # weekly: Heroku Scheduler cannot
        d["services"][2].pop("command")
        d["services"][1]["metrics"] = {"port": 9100}
        d["services"].append(dict(d["services"][0], name="admin"))
    text = _problems(_edit(path, change))
    assert "services[2].schedule: '0 3 * * 1' is not a schedule heroku can run (Heroku Scheduler runs a job every 10 minutes" in text
    assert "services[2].command: missing; heroku starts each run of a job itself" in text
    assert "services[1].metrics: heroku cannot reach a worker's metrics endpoint" in text
    assert "services[3].kind: heroku takes at most 1 web service(s)" in text


def test_lambda_refuses_a_job_longer_than_15_minutes_and_a_health_command(tmp_path):
    path = make_project(tmp_path, platform="aws-lambda", kinds=("worker", "job"))

    def change(d):
        d["services"][1]["timeout_minutes"] = 40
        d["services"][0]["health_command"] = {"command": "python -m app.health", "expected": "ok"}
    text = _problems(_edit(path, change))
    assert "services[1].timeout_minutes: 40 is longer than a run can last on aws-lambda (15 minutes)" in text
    assert "services[0].health_command: aws-lambda cannot run a command in a running worker" in text


def test_kind_fields_belong_to_their_kind(tmp_path):
    path = make_project(tmp_path, kinds=("web", "job"))

    def change(d):
        d["services"][0]["schedule"] = "0 3 * * *"
        d["services"][1].pop("done_when")
    text = _problems(_edit(path, change))
    assert "services[0]: schedule applies to job services, not to a web; remove it or set kind: job" in text
    assert "services[1]: a job service needs done_when" in text


def test_a_web_service_needs_a_url_and_a_project_without_one_does_not(tmp_path):
    path = make_project(tmp_path / "a", kinds=("worker",))
    assert all(e.url is None for e in load_params(path).environments)
    web = make_project(tmp_path / "b", kinds=("web",))
    text = _problems(_edit(web, lambda d: d["environments"][0].pop("url")))
    assert "environments[0].url: missing; the web service api is served here" in text


def test_a_platform_that_cannot_run_jobs_says_why_at_validate(tmp_path):
    """A platform of the project's own declares `jobs: {unsupported: …}`: validate names the service."""
    catalog = tmp_path / "catalogs" / "acme"
    folder = catalog / "platforms" / "tiny-paas"
    shutil.copytree(DATA_DIR / "platforms" / "heroku", folder)
    text = (folder / "platform.yaml").read_text().replace("name: heroku\n", "name: tiny-paas\n", 1)
    text = text[: text.index("\njobs:\n")] + "\njobs:\n  unsupported: tiny-paas has no scheduler; run the job from a worker's own timer\n"
    (folder / "platform.yaml").write_text(text)
    path = make_project(tmp_path, platform="heroku", kinds=("web", "job"))
    clear_caches()
    text = _problems(_edit(path, lambda d: d.update(platform="tiny-paas", catalogs=["../catalogs/acme"])))
    assert "services[1].kind: tiny-paas cannot run scheduled jobs: tiny-paas has no scheduler" in text


# --- SLIs on any metric ---------------------------------------------------------------------------


def test_a_custom_sli_gives_burn_rate_alerts_on_its_own_expressions(tmp_path):
    params = load_params(make_project(tmp_path, kinds=("worker",)))
    burn = [a for a in alert_specs(params) if a.slo == "messages processed"]
    assert [a.alert for a in burn] == ["MessagesProcessedBudgetBurn1h", "MessagesProcessedBudgetBurn6h", "MessagesProcessedBudgetBurn3d"]
    assert 'outcome="success"}[1h]' in burn[0].expr and '[5m]' in burn[0].expr and "{{" not in burn[0].expr
    assert burn[0].threshold == "> 7.2% over 1 h and over 5 min"  # 14.4 × the 0.5% budget


def test_custom_slis_are_refused_without_the_window_and_http_slis_without_a_web_service(tmp_path):
    path = make_project(tmp_path, kinds=("worker",))
    text = _problems(_edit(path, lambda d: d["monitoring"]["slos"][0].update(good="sum(rate(worker_messages_total[5m]))")))
    assert "monitoring.slos[0]: good must use the range {{ window }}" in text
    path = make_project(tmp_path / "b", kinds=("worker",))
    text = _problems(_edit(path, lambda d: d["monitoring"]["slos"].append({"name": "availability", "sli": "availability", "objective": 99.9})))
    assert "monitoring.slos[1].sli: availability is measured on the web services' HTTP requests and this project has none" in text


def test_a_latency_objective_between_buckets_says_which_bucket_to_add(tmp_path):
    params = load_params(make_project(tmp_path, kinds=("web",), latency_ms=400))
    text = runbook.preview(params, check_status(params, force=True)).markdown
    assert "no http_request_duration_seconds bucket at 0.4 s: add le=0.4" in text
    ok = load_params(make_project(tmp_path / "b", kinds=("web",), latency_ms=250))
    assert "not measurable yet" not in runbook.preview(ok, check_status(ok, force=True)).markdown


# --- real names -----------------------------------------------------------------------------------


def test_a_datastore_carries_its_real_name(tmp_path):
    path = make_project(tmp_path, datastores=("aws-rds-postgresql",))
    params = load_params(_edit(path, lambda d: d["datastores"][0].update(resource_name={"dev": "orders-dev", "staging": "orders-stg", "prod": "orders"})))
    d = runbook.preview(params, check_status(params, force=True))
    text = d.markdown + d.files[runbook.MANUAL]  # the datastore's status, backup and restore are in procedures.md
    assert "--db-instance-identifier orders \\" in text and "gen-project-prod-store-0" not in text
    bad = _edit(path, lambda d: d["datastores"][0].update(resource_name="orders"))
    assert "datastores[0].resource_name: one name for 3 environments; put {env} in it" in _problems(bad)


def test_a_vault_path_is_never_doubled(tmp_path):
    path = make_project(tmp_path, store="vault")
    text = _problems(_edit(path, lambda d: d["secrets"]["items"][0].update(name="secret/{env}/gen-project/database-url")))
    assert "secrets.items[0].name: starts with the KV mount 'secret'" in text
    params = load_params(_edit(path, lambda d: (d["secrets"]["items"][0].update(name="{env}/gen-project/database-url"),
                                                d["secrets"].update(vault_mount="kv/acme"))))
    doc = secrets.draft(params, check_status(params, force=True), tmp_path / "out").text
    assert "vault kv metadata get -mount=kv/acme prod/gen-project/database-url" in doc
    assert "kv/acme/data/prod/gen-project/database-url" in doc and "secret/data/secret" not in doc


def test_cloud_roles_and_workload_identities_are_secret_kinds():
    kinds = open_catalog().secret_kinds
    for kind in ("aws-iam-role", "gcp-service-account", "azure-managed-identity"):
        assert kinds[kind]["rotation_days"] is None and "nothing to generate" in kinds[kind]["generate"]


# --- dependencies ---------------------------------------------------------------------------------


def test_a_dependency_feeds_runbook_alerts_and_cost_plan(tmp_path):
    params = load_params(make_project(tmp_path, kinds=("web",), dependencies=2))
    text = runbook.preview(params, check_status(params, force=True)).markdown
    for title in ("Stripe unavailable or failing", "Stripe rate limiting (HTTP 429)", "Stripe rejects the credential (401/403)",
                  "SendGrid slow (calls near the 5000 ms timeout)"):
        assert f"### {title}" in text or f"| [{title}](procedures.md#" in text  # a section, or a row of Other known failures (written out in procedures.md)
    for title in ("Stripe unavailable or failing",):  # what the UpstreamStripeErrors alert opens first
        assert f"### {title}" in text
    assert "https://status.stripe.com" in text and "UPSTREAM_API_URL" not in text
    assert "UpstreamStripeErrors" in {a.alert for a in alert_specs(params)}
    plan = cost_plan.preview(params).markdown
    assert "stripe-plan" in plan and "sendgrid-usage" in plan and "no third-party services" not in plan.lower()


def test_secrets_and_dependencies_are_cross_checked(tmp_path):
    path = make_project(tmp_path, dependencies=1)
    text = _problems(_edit(path, lambda d: d["dependencies"][0].update(secrets=["STRIPE_KEY"])))
    assert "dependencies[0].secrets[0]: STRIPE_KEY is not in the secret inventory" in text
    assert "secrets.items[1].env_var: STRIPE_SECRET_KEY is a third-party credential (api-key) that no dependency uses" in text


def test_shipped_sample_outputs_name_no_example():
    """The catalogs' sample outputs are built from the project's own values: nothing of
    weather-api (or the shop) turns up in another project's documents."""
    for path in list((DATA_DIR / "platforms").rglob("*.yaml")) + [DATA_DIR / "migration-tools.yaml", DATA_DIR / "troubleshooting.yaml",
                                                                DATA_DIR / "datastores.yaml"]:
        text = path.read_text()
        for word in ("weather", "forecast", "orders-api", "catalog-api", "shop-platform", "openweathermap"):
            assert not re.search(rf"^(?!\s*#).*{word}", text, re.M | re.I), (path, word)


# --- the team's own knowledge --------------------------------------------------------------------


def test_own_entries_are_merged_and_checked_with_their_line(tmp_path, promtool_installed):
    path = make_project(tmp_path, kinds=("web", "job"), knowledge=True)
    params = load_params(path)
    draft = runbook.preview(params, check_status(params, force=True))
    assert "### Nightly export stuck on a lock" in draft.markdown and "### Warm the cache after a restore" in draft.files[runbook.MANUAL]
    assert "GenExportRowsLow" in {a.alert for a in alert_specs(params)}
    assert not failed(draft.findings)  # the truth warnings of the shipped entries are issue 17's, not the team's entries'
    assert not [f for f in draft.findings if f.status == "fail" and "knowledge" in f.message]

    _edit(path, lambda d: d["knowledge"]["troubleshooting"][0]["diagnostics"][0].update(command="look at the locks"))
    bad = load_params(path)
    fails = [f.message for f in runbook.preview(bad, check_status(bad, force=True)).findings if f.status == "fail"]
    assert any(re.search(r"gen-project\.yaml line \d+: knowledge troubleshooting entry 'gen-stuck-export': step 1 .*does not start with a known CLI", m)
               for m in fails), fails

    _edit(path, lambda d: d["knowledge"]["alerts"][0].update(expr="sum(rate(x[5m]) >"))
    bad = load_params(path)
    fails = [f.message for f in alerts.draft(bad).findings if f.status == "fail"]
    assert any(re.search(r"line \d+: knowledge alert 'GenExportRowsLow': promtool refuses the expression", m) for m in fails)


def test_a_mistake_in_the_knowledge_file_names_its_line(tmp_path):
    path = make_project(tmp_path, knowledge=True)
    own = tmp_path / "parameters" / "knowledge.yaml"
    own.write_text(own.read_text().replace("title: Warm the cache after a restore", "titel: Warm the cache after a restore"))
    text = _problems(path)
    assert re.search(r"knowledge\.file: knowledge\.yaml line 2: procedures\[0\]\.titel: unknown key", text)


def test_examples_declare_their_dependencies():
    deps = {p.stem: [d.name for d in load_params(p).dependencies] for p in PARAMS.glob("*.yaml")}
    assert deps == {"weather-api": ["openweathermap"], "shop-platform": ["stripe", "sendgrid"], "agent-orchestrator": ["anthropic", "github"],
                    "sms-notifier": ["twilio"], "merchant-digest": ["sendgrid"]}
