"""The truth rules: commands against their tools' definitions, tool fit, safety rules, one source
per fact. Regression tests for each defect class of issue 17 run on today's generated documents
(the rule finds the defect there) and on small hand-written cases (table-driven)."""

import json
import re
import subprocess
import sys

import pytest
from conftest import EXAMPLES, PARAMS, REPO
from projects import STRATEGIES, make_project

from opslib.check.clis import CLI_DIR, spec_tools, validate_command
from opslib.check.document import check_document
from opslib.check.facts import anchor_slug, inconsistencies
from opslib.check.shell import parse_script
from opslib.check.truth import GENERATED_SEVERITY, ci_blocks, detect_platform, project_tools, truth_report
from opslib.params.models import load_params
from opslib.params.status import check_status


def verdict(line: str, mention: bool = False):
    cmds = parse_script(line).commands
    assert cmds, line
    return validate_command(cmds[0], mention=mention)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """Every document of every example, as `opslib render` writes them today."""
    from opslib.run.render import render_project

    out = tmp_path_factory.mktemp("truth-render")
    return {name: render_project(PARAMS / f"{name}.yaml", out).out_dir for name in EXAMPLES}


def report(rendered, name, file, **kw):
    path = rendered[name] / file
    return truth_report(path.read_text(encoding="utf-8"), path=path, params=load_params(PARAMS / f"{name}.yaml"), **kw)


# --- the shell parser ---------------------------------------------------------------------------------

@pytest.mark.parametrize("code, names", [
    ("kubectl get pods | grep Running && echo ok", ["kubectl", "grep", "echo"]),
    ('echo "$(date +%s)"', ["echo", "date"]),
    ("aws s3 cp a \\\n  s3://b/c --quiet", ["aws"]),
    ("cat <<EOF > f\nhello $NAME\nEOF\nheroku ps -a x", ["cat", "heroku"]),
    ("for s in a b; do heroku ps -a \"$s\"; done", ["heroku"]),
    ("if [[ -n \"$X\" ]]; then kubectl get ns; fi", ["kubectl"]),
    ("X=$(( 1 + 2 )) && psql \"$DB\" -c 'select 1'", ["psql"]),
])
def test_parser_unfolds_simple_commands(code, names):
    assert [c.name for c in parse_script(code).commands] == names


def test_parser_tracks_variables_and_errors():
    s = parse_script('read -rs NEW_VALUE\nexport A=1\necho "$NEW_VALUE" ${B:-x} "$C"\nfor i in 1; do :; done\n')
    assert {v for v, _ in s.sets} >= {"NEW_VALUE", "A", "i"}
    assert {v for v, _ in s.uses} == {"NEW_VALUE", "C"}  # ${B:-x} has a default
    assert parse_script("echo 'unterminated").errors


def test_ci_blocks_read_run_and_script_with_lines():
    gh = "jobs:\n  a:\n    steps:\n      - run: |\n          set -e\n          echo \"${{ github.sha }}\"\n      - run: kubectl get ns\n"
    blocks = ci_blocks(gh)
    assert [(b.line, b.code.splitlines()[0]) for b in blocks] == [(5, "set -e"), (7, "kubectl get ns")]
    assert "${{" not in blocks[0].code  # GitHub substitutes expressions before the shell runs
    gl = "job:\n  script:\n    - echo one\n    - |\n      echo two\n  before_script: []\n"
    assert [b.code for b in ci_blocks(gl)] == ["echo one", "echo two"]


# --- commands against their tools ---------------------------------------------------------------------------

@pytest.mark.parametrize("line, status", [
    ("aws secretsmanager put-secret-value --secret-id x --secret-string y", "verified"),
    ("aws secretsmanager put-secret-value --secret-string y", "invalid"),  # required --secret-id (botocore model)
    ("aws secretsmanager put-secret-value --cli-input-json file://in.json", "verified"),
    ("aws secretsmanager put-secret-vaule --secret-id x", "invalid"),  # no such operation
    ("aws lambda get-alias --function-name f --name live --qualifer x", "invalid"),  # no such parameter
    ("aws s3 cp a.zip s3://b/a.zip --quiet", "verified"),  # a command of the CLI itself
    ("aws ecr get-login-password --region us-east-1", "verified"),
    ("aws ecs wait services-stable --cluster c --services s", "verified"),
    ("aws --region eu-west-1 sts get-caller-identity", "verified"),
    ("kubectl --context c -n ns rollout restart deployment/api", "verified"),
    ("kubectl rollout restart deployment/api --grace=1", "invalid"),
    ("kubectl rolout status deploy/api", "invalid"),
    ("kubectl cost namespace --window 7d", "unverifiable"),  # a plugin
    ("heroku ps:restart web -a app", "verified"),
    ("heroku rollback v12 -a app", "verified"),  # a hidden alias of releases:rollback
    ("heroku ps:autoscale:enable web --min 1 --max 4 -a app", "invalid"),  # takes no argument: web dynos only (issue 17)
    ('glab ci retry "$(glab ci list --per-page 1 -F json | jq -r \'.[0].id\')"', "invalid"),  # a pipeline id, not a job id (issue 17)
    ("docker run --rm -v \"$PWD:/repo\" img detect --source /repo", "verified"),  # options after the image are the container's
    ("git push --force-with-lease origin main", "verified"),
    ("git log -1 --format='%h' v1", "verified"),
    ("psql \"$DATABASE_URL\" -Atc 'select 1'", "verified"),
    ("redis-cli -u \"$REDIS_URL\" --tls ping", "verified"),
    ("curl -fsS --max-time 10 https://x", "verified"),
    ("jq -r --arg a b '.x'", "verified"),
    ("promtool check rules alerts.yml", "verified"),
    ("systemctl restart api.service", "verified"),
    ("journalctl -u api -n 100 --no-pager", "verified"),
    ("gcloud run services update-traffic api --to-latest --region r", "verified"),
    ("gcloud run services update-trafic api", "invalid"),
    ("read -rs NEW_SECRET_VALUE", "verified"),
    ("sudo systemctl restart api", "verified"),
    ("./scripts/deploy.sh prod", "unverifiable"),
    ("$TOOL --version", "unverifiable"),
])
def test_commands_are_checked_against_the_tool(line, status):
    v = verdict(line)
    assert v.status == status, v


@pytest.mark.parametrize("body, invalid", [
    ('kubectl -n x logs -l app="$s" --tail=100 -f --prefix', True),   # follows the first item forever
    ("ssh \"$s\" 'journalctl -u api -f'", True),                    # also on the remote side of ssh
    ("heroku logs --tail -a \"$s\"", True),
    ("aws logs tail \"/ecs/$s\" --follow --since 10m", True),
    ("ssh \"$s\" 'journalctl -u api -f' | sed 's/^/x /' &", False),  # in the background, then `wait`
    ('kubectl -n x logs -l app="$s" --since=1h', False),              # returns
    ("aws logs tail \"/ecs/$s\" --since 1h", False),
    ("heroku logs -n 100 -a \"$s\"", False),
    ("tail -n 20 \"$s.log\"", False),
])
def test_a_command_that_never_returns_is_invalid_in_a_loop(body, invalid):
    """A stream follower (data/check-streams.yaml) in a loop body never lets the loop reach its
    second item; outside a loop, or run in the background, it is fine."""
    looped = truth_report(f"# T\n\n```bash\nfor s in a b; do\n  {body}\ndone\nwait\n```\n", path="t.md", run_shellcheck=False)
    assert any(c.status == "invalid" and "never reaches the second item" in c.message for c in looped.commands) == invalid
    alone = truth_report(f"# T\n\n```bash\ns=a\n{body}\nwait\n```\n", path="t.md", run_shellcheck=False)
    assert not any("never reaches" in c.message for c in alone.commands)


def test_a_mention_in_prose_need_not_carry_required_options():
    assert verdict("aws sts assume-role-with-web-identity", mention=True).status == "verified"
    assert verdict("npm ERR! ERESOLVE", mention=True).status == "unverifiable"


def test_every_cli_definition_says_version_and_how():
    files = sorted(CLI_DIR.glob("*.json"))
    assert len(files) >= 40
    for f in files:
        raw = json.loads(f.read_text())
        assert raw["tool"] and raw["version"] and raw["how"], f.name
        assert raw["source"] in ("cli", "docs"), f.name
        assert "" in raw["commands"] or raw.get("builtin"), f.name
    docs = {json.loads(f.read_text())["tool"] for f in files if json.loads(f.read_text())["source"] == "docs"}
    assert {"glab", "flyway", "helm"} <= docs
    assert {"aws", "kubectl", "gh", "heroku", "psql", "redis-cli", "docker", "git", "jq", "curl", "promtool", "gcloud", "az"} <= spec_tools()


@pytest.mark.parametrize("line, status, message", [
    ("az containerapp show -n shop-prod-api -g shop-prod --query properties.latestRevisionName -o tsv", "verified", ""),
    ("az containerapp logs show -n app -g rg --follow --tail 30 --format text", "verified", ""),
    ("az containerapp job registry set -n job -g rg --server acme.azurecr.io --identity system -o none", "verified", ""),
    ("az containerapp show -n app -g rg --revisions", "invalid", "`az containerapp show` has no option --revisions"),
    ("az containerapp shw -n app", "invalid", "did you mean 'show'?"),
    ("az monitor log-analytics query -w 0000 --analytics-query 'AppTraces'", "unverifiable", "outside the captured definition of az"),
    ("az webapp list -g rg", "unverifiable", "outside the captured definition of az"),
])
def test_az_commands_are_checked_against_the_azure_cli(line, status, message):
    """The matrix: 471 az command lines of Azure Container Apps projects were unverifiable (no definition
    of az); opslib/data/clis/az.json is captured from azure-cli's own command table."""
    v = verdict(line)
    assert v.tool == "az" and v.status == status and message in v.message, v


# --- tool fit ----------------------------------------------------------------------------------------------------

def test_tool_fit_refuses_another_platforms_cli():
    text = "## Restart\n\n```bash\nkubectl rollout restart deployment/web -n prod\nheroku ps:restart web -a app\n```\n"
    params = load_params(PARAMS / "weather-api.yaml")
    r = truth_report(text, params=params, run_shellcheck=False)
    assert [t for _, t in r.unfit] == ["kubectl"]
    assert "kubectl" not in project_tools(params) and "heroku" in project_tools(params)


def test_platform_is_detected_or_given_for_hand_written_documents():
    text = "## Deploy\n\n```bash\nheroku releases -a app\nheroku ps -a app\nkubectl get pods\n```\n"
    assert detect_platform(["heroku", "heroku", "kubectl", "curl"]) == "heroku"
    r = check_document(text, name="runbook.md")
    assert any("heroku (detected from the commands)" in n for n in r.notes)
    assert any(f.area == "truth" and "`kubectl` is not a tool" in f.message for f in r.findings)
    r = check_document(text, name="runbook.md", platform="kubernetes")
    assert any("given with --platform" in n for n in r.notes)
    assert sum("is not a tool" in f.message for f in r.findings) == 2


def test_cli_check_platform_option(tmp_path):
    doc = tmp_path / "runbook.md"
    doc.write_text("## Deploy\n\n```bash\nheroku ps -a app\n```\n")
    out = subprocess.run([sys.executable, "-m", "opslib.cli", "check", str(doc), "--platform", "nowhere"], capture_output=True, text=True)
    assert out.returncode == 2 and "--platform 'nowhere'" in out.stderr and "Traceback" not in out.stderr
    out = subprocess.run([sys.executable, "-m", "opslib.cli", "check", str(doc), "--platform", "heroku"], capture_output=True, text=True)
    assert "note: tool fit judged against the tools of platform heroku (given with --platform)" in out.stdout


# --- safety ------------------------------------------------------------------------------------------------------

SAFETY = [
    # (code, rule that fires, the same operation with its guard)
    ("kubectl delete pods --all -n prod", "delete-all-pods", "kubectl delete pods -l app=api -n prod"),
    ("kubectl rollout restart deployment -n prod", "restart-every-deployment", "kubectl rollout restart deployment/api -n prod"),
    ("aws lambda delete-function-concurrency --function-name f", "remove-lambda-concurrency-cap",
     "aws lambda get-function-concurrency --function-name f\naws lambda delete-function-concurrency --function-name f"),
    ('rm -rf "$BUILD_DIR/"', "rm-rf-variable", 'rm -rf "${BUILD_DIR:?}/"'),
    ("kill -9 1234", "kill-9", "kill -TERM 1234\nsleep 10\nkill -9 1234"),
    ("psql \"$DB\" -c 'DROP TABLE orders'", "drop-table", "pg_dump \"$DB\" > before.sql  # restore: pg_restore\npsql \"$DB\" -c 'DROP TABLE orders'"),
    ("git push --force origin main", "force-push", "git push --force-with-lease origin main"),
    ("terraform destroy -auto-approve", "terraform-destroy", "terraform plan -destroy -out destroy.plan\nterraform destroy -auto-approve"),
    ("redis-cli -u \"$REDIS_URL\" flushall", "redis-flush", "read -rp 'Type FLUSH to confirm: ' ok\nredis-cli -u \"$REDIS_URL\" flushall"),
    ('aws secretsmanager put-secret-value --secret-id prod/app/data-encryption-key --secret-string "$NEW_KEY"', "overwrite-encryption-key",
     "# add the new key version, re-encrypt the data with it, then retire the old version\n"
     'aws secretsmanager put-secret-value --secret-id prod/app/data-encryption-key --secret-string "$NEW_KEY"'),
]


@pytest.mark.parametrize("code, rule, guarded", SAFETY, ids=[s[1] for s in SAFETY])
def test_destructive_operations_need_their_guard(code, rule, guarded):
    def hazards(c):
        return [h.rule for _, h, _ in truth_report(f"## Procedure\n\n```bash\nNEW_KEY=x\nDB=x\nBUILD_DIR=x\n{c}\n```\n", run_shellcheck=False).hazards]

    assert hazards(code) == [rule]
    assert hazards(guarded) == []


def test_emergency_rotation_reads_the_new_value_first(rendered):
    """Issue 17: `value="$NEW_SECRET_VALUE"` was written without the variable ever being set (at 3 am
    that stores an empty secret); the emergency step now reads it first, without echo."""
    for name in EXAMPLES:
        r = report(rendered, name, "secrets.md", run_shellcheck=False)
        text = (rendered[name] / "secrets.md").read_text()
        assert not any(v == "NEW_SECRET_VALUE" for _line, v in r.unset), name
        emergency = text[text.index("## Emergency Rotation"):]
        assert emergency.index("read -rs NEW_SECRET_VALUE") < emergency.index('"$NEW_SECRET_VALUE"'), name


def test_lambda_restart_no_longer_removes_the_concurrency_cap(rendered):
    """Issue 17: the emergency restart and Start deleted the reserved concurrency (the cap); fixed in
    the aws-lambda platform data, and the rule catches the old command."""
    old = ("## Restart\n\n```bash\naws lambda put-function-concurrency --function-name f --reserved-concurrent-executions 0 && "
           "aws lambda delete-function-concurrency --function-name f\n```\n")
    assert [h.rule for _, h, _ in truth_report(old, run_shellcheck=False).hazards] == ["remove-lambda-concurrency-cap"]
    for doc in ("secrets.md", "runbook.md"):
        r = report(rendered, "agent-orchestrator", doc, run_shellcheck=False)
        assert not any(h.rule == "remove-lambda-concurrency-cap" for _, h, _ in r.hazards), doc


def test_migration_without_undo_needs_a_snapshot_first(rendered):
    """Issue 17: a migration ran with no snapshot before it while its tool has no undo."""
    old = "## Migrate\n\n1. Validate checksums, then apply pending migrations.\n\n```bash\nflyway validate\nflyway migrate\n```\n"
    assert [h.rule for _, h, _ in truth_report(old, run_shellcheck=False).hazards] == ["migration-without-undo"]
    r = report(rendered, "shop-platform", "runbook.md", run_shellcheck=False)
    assert not any(h.rule == "migration-without-undo" for _, h, _ in r.hazards)


def test_encryption_key_of_the_parameters_is_a_target():
    params = load_params(PARAMS / "agent-orchestrator.yaml")
    text = ("## Emergency\n\n```bash\nNEW=x\naws secretsmanager put-secret-value --secret-id prod/agent-orchestrator/state-encryption-key "
            '--secret-string "$NEW"\n```\n')
    assert [h.rule for _, h, _ in truth_report(text, params=params, run_shellcheck=False).hazards] == ["overwrite-encryption-key"]


def test_a_variable_declared_as_an_input_is_not_unset():
    text = "## Restore\n\nSet RESTORE_TIME (UTC) from the incident timeline.\n\n```bash\naws rds describe-db-instances --db-instance-identifier \"$ID_$RESTORE_TIME\"\n```\n"
    assert [v for _, v in truth_report(text, run_shellcheck=False).unset] == ["ID_"]


# --- one source per fact -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", EXAMPLES)
def test_deployment_duration_is_computed_from_its_steps(rendered, name):
    """Issue 17: shop-platform's prod deployment said 50 minutes while its canary steps wait 195;
    the runbook now takes the larger of deploy.expected_minutes and the steps' waits."""
    facts = report(rendered, name, "runbook.md", run_shellcheck=False).facts
    assert not [m for _, m in facts if "but its steps wait" in m]
    old = ("## Deployment to prod\n\n**Expected duration**: 50 minutes.\n\n"
           "1. Shift traffic, watching the error rate for 15 minutes at each step.\n"
           "   ```bash\n   for W in 10 25 50 100; do echo $W; done\n   ```\n")
    assert any("says 50 minutes, but its steps wait 60 minutes" in m for _, m in inconsistencies(old, kind="markdown"))


def test_each_service_is_verified_at_its_own_endpoint(rendered):
    """Issue 17: shop-platform verified catalog-api, orders-api and payments-api at one URL,
    https://shop.example.com/healthz (the storefront's host); they are internal now (route.internal),
    checked through a port-forward each. The rule still fires on three services at one URL."""
    facts = report(rendered, "shop-platform", "runbook.md", run_shellcheck=False).facts
    assert not [m for _, m in facts if "same URL" in m]
    step = "{n}. **{s}**: Call the public health endpoint.\n   ```bash\n   curl -sS https://shop.example.com/healthz\n   ```\n"
    doc = "## Verify\n\n" + "\n".join(step.format(n=n, s=s) for n, s in enumerate(["catalog-api", "orders-api", "payments-api"], 1))
    assert [m for _, m in inconsistencies(doc, kind="markdown")] == [
        "'Verify' verifies catalog-api, orders-api, payments-api at the same URL https://shop.example.com/healthz; verify each service at its own endpoint"]


def test_a_port_forward_per_service_is_not_one_url():
    """False positive (issue 17): each kubernetes verification step port-forwards its own service
    to 127.0.0.1:18080 before calling it, so the same local URL reaches a different service each
    time. Without the port-forward the same URL still is one service verified for several."""
    step = ("{n}. **{s}**: Call the readiness endpoint through a port-forward.\n   ```bash\n"
            "   kubectl port-forward service/{s} 18080:8080 >/dev/null &\n   curl -sS http://127.0.0.1:18080/readyz\n   ```\n")
    doc = "## Verify\n\n" + step.format(n=1, s="a") + "\n" + step.format(n=2, s="b")
    assert not [m for _, m in inconsistencies(doc, kind="markdown") if "same URL" in m]
    bare = doc.replace("   kubectl port-forward service/a 18080:8080 >/dev/null &\n", "").replace(
        "   kubectl port-forward service/b 18080:8080 >/dev/null &\n", "")
    assert [m for _, m in inconsistencies(bare, kind="markdown") if "same URL http://127.0.0.1:18080/readyz" in m]


def test_a_url_built_from_the_steps_own_variable_is_not_one_url():
    """False positive (found by the matrix): Cloud Run's blue-green steps read each service's URL into
    $URL and call its candidate tag, the candidate URL made from it; that is not
    one URL for every service."""
    step = ("{n}. **{s}**: Test the candidate.\n   ```bash\n   URL=$(gcloud run services describe {s} --format='value(status.url)')\n"
            "   curl -sS \"${{URL/https:\\/\\//https://candidate---}}/healthz\"\n   ```\n")
    doc = "## Verify\n\n" + step.format(n=1, s="a") + "\n" + step.format(n=2, s="b")
    assert "https://candidate---}/healthz" in doc
    assert not [m for _, m in inconsistencies(doc, kind="markdown") if "same URL" in m]


def test_blue_green_rollback_step_in_a_canary_project(rendered):
    """Issue 17: the canary shop-platform printed the blue-green rollback steps; the kubernetes and
    vm-systemd catalogs now print only the project's strategy, and the rule still catches one."""
    facts = report(rendered, "shop-platform", "runbook.md", run_shellcheck=False).facts
    assert not any("a blue-green step in a canary project" in m for _, m in facts)
    old = "# Runbook\n\n## Rollback\n\n1. Blue-green deploys: point the Service back at the old slot.\n"
    found = inconsistencies(old, kind="markdown", params=load_params(PARAMS / "shop-platform.yaml"))
    assert any("a blue-green step in a canary project" in m for _, m in found)


def test_latency_alert_on_a_bucket_the_services_declare(rendered):
    """Issue 17: a latency alert on le="0.4", a bucket the standard client libraries do not export,
    never fires; weather-api's services export it (monitoring.latency_buckets_ms), and alerts.yml
    now says so. Without that line the rule still reports it."""
    facts = report(rendered, "weather-api", "alerts.yml").facts
    assert not any('le="0.4" is not a bucket' in m for _, m in facts)
    text = (rendered["weather-api"] / "alerts.yml").read_text()
    assert "# Buckets the services export (monitoring.latency_buckets_ms), in s: " in text and " 0.4 " in text
    bare = "\n".join(ln for ln in text.splitlines() if not ln.startswith("# Buckets"))
    assert any('le="0.4" is not a bucket' in m for _, m in inconsistencies(bare, kind="alerts"))
    ok = 'groups:\n- name: g\n  rules:\n  - alert: Slow\n    expr: rate(http_request_duration_seconds_bucket{le="0.5"}[5m]) > 1\n'
    assert inconsistencies(ok, kind="alerts") == []


def test_a_custom_sli_declares_the_buckets_of_its_histogram(rendered):
    """Issue 17: agent-orchestrator's task-completion SLI reads le="180" of its own histogram,
    agent_task_duration_seconds, and had no place to declare that bucket; monitoring.slos[].buckets
    declares it and alerts.yml states it. Without that line the rule still reports it."""
    facts = report(rendered, "agent-orchestrator", "alerts.yml").facts
    assert not any('le="180"' in m for _, m in facts)
    text = (rendered["agent-orchestrator"] / "alerts.yml").read_text()
    line = "# Buckets of agent_task_duration_seconds (task completion time (p95, enqueue to result), monitoring.slos[2].buckets): 180"
    assert line in text.splitlines()
    bare = "\n".join(ln for ln in text.splitlines() if ln != line)
    assert any('le="180" is not a bucket' in m for _, m in inconsistencies(bare, kind="alerts"))


CUSTOM = {"name": "tasks on time", "sli": "custom", "objective": 95, "unit": "tasks",
          "good": 'sum(rate(task_seconds_bucket{le="180"}[{{ window }}]))', "total": "sum(rate(task_seconds_count[{{ window }}]))"}


@pytest.mark.parametrize("change, expected", [
    ({"buckets": [60, 120, 300]}, 'good reads le="180", which is not one of buckets; use a declared bucket or add it to buckets'),
    ({"buckets": [300, 180]}, "buckets must be positive, finite and strictly increasing"),
    ({"buckets": [0, 180]}, "buckets must be positive, finite and strictly increasing"),
    ({"sli": "availability", "good": None, "total": None, "unit": "", "buckets": [180]},
     "good, total, unit and buckets apply to custom SLOs only; remove them or set sli: custom"),
])
def test_custom_sli_buckets_are_validated(change, expected):
    from pydantic import ValidationError

    from opslib.params.models import Slo

    assert Slo.model_validate(dict(CUSTOM, buckets=[60, 180])).histograms == ["task_seconds"]
    with pytest.raises(ValidationError, match=re.escape(expected)):
        Slo.model_validate({k: v for k, v in dict(CUSTOM, **change).items() if v is not None})


@pytest.mark.parametrize("name", EXAMPLES)
def test_every_alert_opens_its_own_runbook_section(rendered, name):
    """Issue 17/18: every alert's runbook_url opened the same anchor; now each opens its own section."""
    facts = report(rendered, name, "alerts.yml").facts
    assert not any("open the same runbook anchor" in m or "has no heading with the anchor" in m for _, m in facts), facts
    doubled = (rendered[name] / "alerts.yml").read_text().replace("runbook_url: runbook.md#", "runbook_url: runbook.md#x", 1)
    assert any("has no heading with the anchor" in m for _, m in inconsistencies(doubled, path=rendered[name] / "alerts.yml", kind="alerts"))


def test_scaling_target_follows_the_latency_slo(rendered):
    """Issue 17: Heroku autoscaling aimed at p95 800 ms against a 400 ms SLO; it now takes the SLO's threshold."""
    facts = report(rendered, "weather-api", "runbook.md", run_shellcheck=False).facts
    assert not any("scaling target" in m for _, m in facts)
    text = (rendered["weather-api"] / "runbook.md").read_text()
    assert "--p95 400" in text and "--p95 800" not in text
    assert any("scaling target p95 800 ms is above the latency SLO threshold (400 ms)" in m
               for _, m in inconsistencies(text.replace("--p95 400", "--p95 800"), kind="markdown", params=load_params(PARAMS / "weather-api.yaml")))


def test_anchor_slug_is_githubs():
    assert anchor_slug("Key metrics and alert thresholds") == "key-metrics-and-alert-thresholds"
    assert anchor_slug("`H10` App crashed!") == "h10-app-crashed"


# --- generated documents ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", EXAMPLES)
def test_generated_documents_have_no_invalid_command_and_no_unfit_tool(rendered, name):
    out = rendered[name]
    files = [*out.glob("*.md"), *out.glob("ci/.github/workflows/*.yml"), *out.glob("ci/.gitlab-ci.yml")]
    for f in files:
        r = report(rendered, name, f.relative_to(out).as_posix(), run_shellcheck=False)
        assert not [c for c in r.commands if c.status == "invalid"], (f.name, [c for c in r.commands if c.status == "invalid"])
        assert not r.unfit, (f.name, r.unfit)
        assert not r.parse_errors, (f.name, r.parse_errors)


def test_generated_findings_are_warnings_where_the_fix_needs_document_code():
    assert GENERATED_SEVERITY["commands"] == "error" and GENERATED_SEVERITY["tool_fit"] == "error"
    assert {GENERATED_SEVERITY[k] for k in ("destructive", "variables", "consistent", "shellcheck")} == {"warning"}


@pytest.mark.slow
@pytest.mark.parametrize("name", EXAMPLES)
@pytest.mark.parametrize("platform", ["heroku", "kubernetes", "aws-lambda", "vm-systemd"])
def test_generated_projects_on_every_platform_have_only_real_commands(name, platform):
    """Beyond the examples: each example moved to each shipped platform (the notebook's drop-down)."""
    from opslib.documents import runbook
    from opslib.errors import ParamsError

    try:
        params = runbook.with_platform(load_params(PARAMS / f"{name}.yaml"), platform)
    except ParamsError as exc:  # a refusal is an answer too: the platform named, then one line per field and what to do
        first, *fields = str(exc).strip().splitlines()
        assert f"on platform {platform}" in first and fields and "Traceback" not in str(exc), str(exc)
        assert all(re.match(r"^\s+(line \d+: )?[a-z_]+(\[\d+\])?(\.[a-z_]+(\[\d+\])?)*: \S", f) for f in fields), fields
        return
    draft = runbook.draft(params, check_status(params))
    bad = [f.message for f in draft.findings if f.area == "truth" and f.status == "fail" and f.severity == "error"]
    assert not bad, bad
    r = truth_report(draft.text or "", params=params, run_shellcheck=False)
    total = sum(r.counts.values())
    assert r.counts["verified"] >= 0.95 * total, r.unverifiable_by_tool()


def test_benchmark_prints_the_report():
    out = subprocess.run([sys.executable, str(REPO / "benchmarks" / "truth.py"), "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "--timing" in out.stdout


# --- CI steps that cannot protect anything (issue 17) ------------------------------------------------------------------

def test_a_cost_gate_pipe_without_pipefail_and_an_unrelated_package_are_found(rendered):
    """The CI steps of before issue 17 (a pipe to tee without pipefail, `pip install opslib` from
    PyPI) are found in both CI dialects; the generated CI files have neither."""
    github = ("jobs:\n  cost:\n    runs-on: ubuntu-latest\n    steps:\n      - run: |\n          pip install opslib\n"
              "          python -m opslib.costgate parameters/x.yaml | tee cost-report.md\n")
    gitlab = "cost-check:\n  script:\n    - pip install opslib\n    - python -m opslib.costgate parameters/x.yaml | tee cost-report.md\n"
    for kind, text in (("github-actions", github), ("gitlab-ci", gitlab)):
        gating = truth_report(text, kind=kind, run_shellcheck=False).gating
        assert any("opslib.costgate" in m and "without pipefail" in m for _, m in gating), kind
        assert any("`pip install opslib` installs the package of that name on the public index, an unrelated 2014 library" in m for _, m in gating), kind
    for ci in ("ci/.github/workflows/ci.yml", "ci/.gitlab-ci.yml"):
        assert report(rendered, "weather-api", ci, run_shellcheck=False).gating == [], ci


def test_gitlab_pipefail_comes_from_the_jobs_before_script():
    """before_script and script share one shell: `default:`'s pipefail holds unless a job replaces it."""
    on = "default:\n  before_script:\n    - set -o pipefail\njob:\n  script:\n    - >-\n      apt-get update &&\n      curl -fsSL https://x.example/i.sh | sh\n"
    assert truth_report(on, kind="gitlab-ci", run_shellcheck=False).gating == []
    off = on.replace("job:\n", "job:\n  before_script: []\n")
    assert len(truth_report(off, kind="gitlab-ci", run_shellcheck=False).gating) == 1
    pinned = "job:\n  script:\n    - pip install 'opslib @ git+https://github.com/acme/opslib@3f9c2a7e41b08d5c6e2f1a9b7d4c0e8f5a2b6c1d'\n"
    assert truth_report(pinned, kind="gitlab-ci", run_shellcheck=False).gating == []


def test_pipefail_and_pins_satisfy_the_gating_rules():
    wf = ("jobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: python -m tool | tee out.txt\n        shell: bash\n"
          "      - run: |\n          set -euo pipefail\n          pip install 'pip-audit==2.7.3'\n          tool | tee out.txt\n")
    assert truth_report(wf, kind="github-actions", run_shellcheck=False).gating == []
    bad = "jobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: pip install pip-audit && tool | tee out.txt\n"
    assert len(truth_report(bad, kind="github-actions", run_shellcheck=False).gating) == 2


def test_a_platform_no_shipped_platform_matches_is_not_guessed():
    """An OpenShift runbook (`oc`, one `systemctl`) is not judged as a vm-systemd runbook."""
    r = check_document((REPO / "tests" / "corpus" / "openshift-kubelet-down.md").read_text(), name="runbook.md")
    assert not any("is not a tool" in f.message for f in r.findings)
    assert any("tool fit not judged" in n for n in r.notes)


# --- issue 17, document side: what the examples' runbooks no longer print ------------------------------------------

@pytest.mark.parametrize("name", EXAMPLES)
def test_runbooks_quote_command_substitutions(rendered, name):
    """`--start-time $(date …)` was split on spaces by the shell (SC2046); the catalog now quotes it."""
    r = report(rendered, name, "runbook.md")
    assert not [s for s in r.shellcheck if s[1] == "SC2046"], [s for s in r.shellcheck if s[1] == "SC2046"]


@pytest.mark.parametrize("name", EXAMPLES)
def test_runbooks_look_up_the_rollback_target(rendered, name):
    """`export PREVIOUS_VERSION=v1.4.1` was printed in Release variables, every deployment and the
    Kubernetes 'Identify the last good version'; the rollback target is now looked up."""
    facts = report(rendered, name, "runbook.md", run_shellcheck=False).facts
    assert not [m for _, m in facts if "written down as a constant" in m]
    old = "## Deploy\n\n```bash\nexport PREVIOUS_VERSION=v1.4.1\n```\n"
    assert any("written down as a constant" in m for _, m in truth_report(old, run_shellcheck=False).facts)


@pytest.mark.parametrize("platform, strategy", [(p, s) for p, ss in STRATEGIES.items() for s in ss])
def test_generated_runbooks_on_every_platform_keep_to_their_strategy_and_quote(tmp_path, platform, strategy):
    """Every platform and strategy: no step of another strategy, no rollback target typed as a
    constant, no unquoted command substitution (SC2046), no variable used without being set or
    named as an input, no duration below the steps' waits."""
    from opslib.documents import runbook

    store = "heroku-config-vars" if platform == "heroku" else "aws-secrets-manager"
    params = load_params(make_project(tmp_path, platform=platform, strategy=strategy, kinds=("web", "worker"), store=store))
    draft = runbook.draft(params, check_status(params, force=True))
    bad = [f.message for f in draft.findings if f.status == "fail" and any(
        m in f.message for m in ("step in a", "written down as a constant", "SC2046", "never set in this procedure", "but its steps wait"))]
    assert bad == []


@pytest.mark.parametrize("name", EXAMPLES)
def test_runbook_procedures_name_their_inputs(rendered, name):
    """Issue 17: $VERSION, $REDIS_URL, $PREVIOUS_VERSION… were used in procedures that neither set
    them nor said where they come from; each procedure now opens with an 'Inputs:' line."""
    r = report(rendered, name, "runbook.md", run_shellcheck=False)
    assert r.unset == []
    text = (rendered[name] / "runbook.md").read_text()
    named = re.findall(r"^Inputs: `VERSION` \(([^)]*)\)", text, re.M)
    assert all(n.startswith("the release tag deployed last") for n in named)  # where it comes from, never "set it"


# --- the generated matrix (benchmarks/truth.py --matrix): what it found -----------------------------------------------

def _render(tmp_path, **choices):
    from opslib.run.render import render_project

    path = make_project(tmp_path, **choices)
    return load_params(path), render_project(path, tmp_path / "build").out_dir


def test_the_platforms_ci_credentials_are_set_in_gitlab(tmp_path):
    """The matrix found $DEPLOY_SSH_KEY and $DEPLOY_SSH_KNOWN_HOSTS 'unset' in vm-systemd's .gitlab-ci.yml
    (and the Azure and Heroku credentials likewise): GitLab reads them from CI/CD variables, which
    pipeline.md lists from the platform's ci.yaml credentials; the truth rules now know them."""
    params, out = _render(tmp_path, platform="vm-systemd", strategy="rolling", ci=("gitlab",), store="vault")
    text = (out / "ci" / ".gitlab-ci.yml").read_text()
    assert '"$DEPLOY_SSH_KEY"' in text
    assert truth_report(text, path=out / "ci" / ".gitlab-ci.yml", params=params, run_shellcheck=False).unset == []


def test_the_key_vault_access_policy_names_its_input(tmp_path):
    """The matrix found $APP_PRINCIPAL_ID unset in secrets.md of every project storing its secrets
    in Azure Key Vault; the policy now says to set it (the identity the service runs as)."""
    params, out = _render(tmp_path, platform="azure-container-apps", strategy="canary", store="azure-key-vault")
    text = (out / "secrets.md").read_text()
    assert '--assignee "$APP_PRINCIPAL_ID"' in text
    assert truth_report(text, path=out / "secrets.md", params=params, run_shellcheck=False).unset == []


def test_a_latency_threshold_between_buckets_is_stated_in_alerts(tmp_path):
    """The matrix found le="0.4" (a 400 ms latency SLO, default buckets) in alerts.yml with nothing
    saying which bucket to add, while the runbook said it; alerts.yml now says it too."""
    params, out = _render(tmp_path, latency_ms=400)
    text = (out / "alerts.yml").read_text()
    assert "# Not measurable yet: the services expose no http_request_duration_seconds bucket at 0.4 s (API latency, 400 ms): add le=0.4" in text
    assert truth_report(text, path=out / "alerts.yml", params=params, run_shellcheck=False).facts == []


@pytest.mark.parametrize("platform, route", [("kubernetes", "internal"), ("vm-systemd", "internal"), ("aws-ecs-fargate", "urls"),
                                             ("google-cloud-run", "path"), ("azure-container-apps", "internal")])
def test_a_second_web_service_is_verified_at_its_own_endpoint(tmp_path, platform, route):
    params, out = _render(tmp_path, platform=platform, strategy=STRATEGIES[platform][0], route=route)
    assert [s.name for s in params.services if s.kind == "web"] == ["api", "api-1"]
    for doc in ("runbook.md", "pipeline.md"):
        facts = truth_report((out / doc).read_text(), path=out / doc, params=params, run_shellcheck=False).facts
        assert not [m for _, m in facts if "same URL" in m], facts


def test_a_project_with_few_alerted_issues_still_documents_five(tmp_path):
    """The matrix: a job-only project on Azure Container Apps failed its runbook check (4 troubleshooting
    issues in full; the others only as rows of 'Other known failures', as no alert points to them).
    The runbook now documents the next ones in full up to the quality bar's five."""
    params, out = _render(tmp_path, platform="azure-container-apps", kinds=("job",), strategy="canary", datastores=("aws-sqs",),
                          ci=("gitlab",), store="gcp-secret-manager", environments=2, knowledge=True, smoke_run=False)
    text = (out / "runbook.md").read_text()
    assert text.count("\n**Symptom**: ") >= 5
    assert "Replicas cannot pull the image from Azure Container Registry\n" in text  # a section of its own now, not a row


def test_pipeline_md_declares_the_ci_credentials_it_lists(tmp_path):
    """The matrix: $HEROKU_API_KEY read 'unset' in pipeline.md of Heroku projects whose secret
    inventory does not hold it, though pipeline.md lists it as a CI secret to set."""
    params, out = _render(tmp_path, platform="heroku", strategy="rolling", ci=("github", "gitlab"), store="github-actions")
    text = (out / "pipeline.md").read_text()
    assert "| `HEROKU_API_KEY` | Heroku deploy credential | GitHub Actions secret / GitLab CI/CD variable |" in text
    assert truth_report(text, path=out / "pipeline.md", params=params, run_shellcheck=False).unset == []
    bare = text.replace("| `HEROKU_API_KEY` | Heroku deploy credential |", "| `OTHER` | Heroku deploy credential |")
    assert {v for _, v in truth_report(bare, params=params, run_shellcheck=False).unset} == {"HEROKU_API_KEY"}


def test_ecs_test_listener_keeps_the_services_route(tmp_path):
    """ECS blue-green tests the green task set through the test listener: each routed service at its
    own path there (both were at <env url>:8443/healthz, one URL for two services)."""
    from opslib.documents.runbook import build, render_runbook

    params = load_params(make_project(tmp_path, platform="aws-ecs-fargate", strategy="blue-green", route="path"))
    text = render_runbook(build(params, check_status(params, force=True)))
    assert "https://gen.example.com:8443/healthz\n" in text and "https://gen.example.com:8443/api-1/healthz\n" in text
    assert not [m for _, m in inconsistencies(text, kind="markdown") if "same URL" in m]


def test_the_shipped_platforms_tools_are_cached_on_disk(tmp_path, monkeypatch):
    """`opslib check` without --platform parsed every command of every shipped platform on each run
    (0.6 s of its 0.6 s check); the result is cached on disk under the hash of the files it reads."""
    import opslib.check.truth as truth

    monkeypatch.setenv("OPSLIB_CACHE_DIR", str(tmp_path))
    truth._shipped_platform_tools.cache_clear()
    first = truth._shipped_platform_tools()
    files = list((tmp_path / "platform-tools").glob("*.json"))
    assert len(files) == 1 and "kubectl" in first["kubernetes"] and "heroku" in first["heroku"]
    truth._shipped_platform_tools.cache_clear()
    assert truth._shipped_platform_tools() == first  # read back from the file
    files[0].write_text("{not json", encoding="utf-8")
    truth._shipped_platform_tools.cache_clear()
    assert truth._shipped_platform_tools() == first  # a broken cache file is recomputed, never an error
    truth._shipped_platform_tools.cache_clear()
