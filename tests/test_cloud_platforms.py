"""The container platforms aws-ecs-fargate, google-cloud-run and azure-container-apps.

Each folder validates as a whole, templates included (tests/test_catalog.py checks every shipped
platform); here a project on each — the shop's services (four web, one worker, the nightly job) moved to the
platform, its region, registry, secret store and the platform's own catalog prices — renders
every document with every check passing, for every strategy the platform offers, and uses no
tool of another platform."""

import re
from pathlib import Path

import pytest
from conftest import PARAMS, REPO
from projects import supports
from ruamel.yaml import YAML

from opslib import check_status, load_params
from opslib.catalog.catalog import load_platform, platform_names
from opslib.cli import main
from opslib.documents import runbook
from opslib.documents.ci_files import load

SECONDS_PER_MONTH = 2628000  # 730 h

PLATFORMS = {
    "aws-ecs-fargate": {
        "region": "us-east-1", "store": "aws-secrets-manager", "registry": "123456789012.dkr.ecr.us-east-1.amazonaws.com/shop",
        "strategies": ["rolling", "blue-green", "canary"], "keeps_datastores": True, "tool": "aws",
        "components": [
            {"name": "fargate-vcpu", "price": "aws.fargate.vcpu.us-east-1", "quantity": {"count": {"low": 3, "expected": 5, "high": 8}, "factor": 0.5}},
            {"name": "fargate-memory", "price": "aws.fargate.memory.us-east-1", "quantity": {"count": {"low": 3, "expected": 5, "high": 8}}},
        ],
        "marks": ["aws ecs update-service", "aws ecs wait services-stable", "aws application-autoscaling register-scalable-target",
                  "aws scheduler update-schedule", "aws ecs run-task"],
    },
    "google-cloud-run": {
        "region": "europe-west1", "store": "gcp-secret-manager", "registry": "europe-west1-docker.pkg.dev/acme-shop/shop",
        "strategies": ["blue-green", "canary"], "keeps_datastores": False, "tool": "gcloud",
        "components": [
            {"name": "run-cpu", "price": "gcp.cloud-run.cpu-tier-1-request-based.europe-west1", "quantity": {"drivers": ["monthly_requests"], "factor": 0.2}},
            {"name": "run-memory", "price": "gcp.cloud-run.memory-tier-1-request-based.europe-west1", "quantity": {"drivers": ["monthly_requests"], "factor": 0.1}},
            {"name": "run-requests", "price": "gcp.cloud-run.requests-tier-1-beyond-2m-free.europe-west1",
             "quantity": {"drivers": ["monthly_requests"], "factor": 0.000001}, "free_units": 2},
        ],
        "marks": ["gcloud run deploy", "gcloud run services update-traffic", "--no-traffic --tag candidate", "gcloud run jobs update", "gcloud scheduler jobs pause"],
    },
    "azure-container-apps": {
        "region": "westus2", "store": "azure-key-vault", "registry": "acmeshop.azurecr.io/shop",
        "strategies": ["blue-green", "canary"], "keeps_datastores": False, "tool": "az",
        "components": [
            {"name": "aca-vcpu", "price": "azure.container-apps.vcpu-active-usage-consumption.westus2",
             "quantity": {"count": {"low": 3, "expected": 5, "high": 8}, "factor": 0.5 * SECONDS_PER_MONTH}},
            {"name": "aca-memory", "price": "azure.container-apps.memory-active-usage-consumption.westus2",
             "quantity": {"count": {"low": 3, "expected": 5, "high": 8}, "factor": SECONDS_PER_MONTH}},
            {"name": "aca-requests", "price": "azure.container-apps.requests-beyond-2m-free.westus2",
             "quantity": {"drivers": ["monthly_requests"], "factor": 0.000001}, "free_units": 2},
        ],
        "marks": ["az containerapp update", "az containerapp ingress traffic set", "az containerapp revision copy", "az containerapp job update", "az containerapp job start"],
    },
}
OTHER_TOOLS = {"aws": ("gcloud ", "az ", "kubectl "), "gcloud": ("aws ", "az ", "kubectl ", "heroku "), "az": ("aws ", "gcloud ", "kubectl ", "heroku ")}


def shop_on(tmp_path: Path, platform: str, strategy: str) -> Path:
    """The shop example moved to `platform` with everything that names another cloud replaced."""
    spec = PLATFORMS[platform]
    yaml = YAML()
    raw = yaml.load((PARAMS / "shop-platform.yaml").read_text())
    for key in ("architecture", "plan", "spec"):
        raw["project"]["links"][key] = str((PARAMS / raw["project"]["links"][key]).resolve())
    raw["project"]["status_file"] = str((PARAMS / raw["project"]["status_file"]).resolve())
    raw.pop("actuals")
    raw["platform"] = platform
    raw["deploy"]["strategy"] = strategy
    for env in raw["environments"]:
        env["region"] = spec["region"]
    dropped = {s["name"] for s in raw["services"] if s.get("kind", "web") in ("worker", "job") and not supports(platform, s["kind"])}
    raw["services"] = [s for s in raw["services"] if s["name"] not in dropped]  # what a platform cannot run (none of these three today)
    for svc in raw["services"]:
        svc["image"] = f"{spec['registry']}/{svc['name']}"
        for key, capability in (("health_command", "exec"), ("metrics", "metrics")):
            if key in svc and not supports(platform, capability):
                del svc[key]
    for owner in [*raw["secrets"]["items"], *raw.get("dependencies", [])]:
        if "services" in owner:
            owner["services"] = [n for n in owner["services"] if n not in dropped]
    raw["secrets"]["items"] = [i for i in raw["secrets"]["items"] if i.get("services", True)]  # a secret of the dropped job alone
    for item in raw["secrets"]["items"]:
        item["store"] = spec["store"]
        item.pop("external_secret", None)
    if not spec["keeps_datastores"]:
        raw["datastores"] = []
    maintenance = next(c for c in raw["cost"]["components"] if c["name"] == "maintenance")
    # utilization_pct from the metrics lets the right-sizing rule price a saving: per-second
    # prices (Cloud Run, Container Apps) match no other optimisation rule yet (see the report)
    raw["cost"]["components"] = [
        dict(c, category="compute", description=f"{c['name']} of the five services", autoscaled="count" in c["quantity"], utilization_pct=40)
        for c in spec["components"]
    ] + [maintenance]
    path = tmp_path / "parameters" / "shop-platform.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as fh:
        yaml.dump(raw, fh)
    return path


CASES = [(p, s) for p, spec in PLATFORMS.items() for s in spec["strategies"]]


@pytest.mark.parametrize("platform", PLATFORMS)
def test_the_platform_offers_what_it_says(platform):
    spec = load_platform(platform)
    assert sorted(spec.deploy) == sorted(PLATFORMS[platform]["strategies"])
    assert len(spec.troubleshooting) >= 8
    assert spec.requires_image and PLATFORMS[platform]["tool"] in spec.tools
    assert spec.cost.budgets.api and spec.cost.scaling_caps.steps


@pytest.mark.parametrize("platform, strategy", CASES)
def test_a_project_on_the_platform_renders_every_document(tmp_path, capsys, platform, strategy):
    path = shop_on(tmp_path, platform, strategy)
    out = tmp_path / "build"
    assert main(["render", str(path), "--out", str(out)]) == 0, capsys.readouterr().err
    assert main(["plan", str(path), "--env", "prod", "--version", "1.5.0", "--out", str(out), "--force"]) == 0, capsys.readouterr().err
    docs = out / "shop-platform"
    texts = {p.name: p.read_text() for p in [*docs.glob("*.md"), docs / "alerts.yml", docs / "ci" / ".gitlab-ci.yml",
                                             *(docs / "ci" / ".github" / "workflows").glob("*.yml"),
                                             docs / "deployments" / "1.5.0-prod" / "deployment-plan.md"]}
    book = texts["runbook.md"]
    assert load_platform(platform).title in book
    assert all(mark in book for mark in PLATFORMS[platform]["marks"]), [m for m in PLATFORMS[platform]["marks"] if m not in book]
    assert "stripe-reconcile" in texts["alerts.yml"] and "stripe-reconcile" in texts[".gitlab-ci.yml"]  # the nightly job moved too
    # each CI system signs in with its own OIDC token: GitLab declares it (id_tokens), GitHub's runner provides its own
    token = {"aws-ecs-fargate": "AWS_ID_TOKEN", "google-cloud-run": "GCP_ID_TOKEN", "azure-container-apps": "AZURE_ID_TOKEN"}[platform]
    gitlab = load(texts[".gitlab-ci.yml"])
    assert all(token in gitlab[f"{job}-{env}"]["id_tokens"] for job in ("deploy", "rollback") for env in ("dev", "staging", "prod"))
    assert token not in texts["deploy.yml"] and "ACTIONS_ID_TOKEN_REQUEST" not in texts[".gitlab-ci.yml"]
    # no command of another cloud's CLI in any document or CI file (shell lines only)
    lines = [ln.strip() for text in texts.values() for ln in text.splitlines()]
    foreign = [ln for ln in lines for tool in OTHER_TOOLS[PLATFORMS[platform]["tool"]] if ln.startswith((tool, f"- {tool}", f"$ {tool}"))]
    assert not foreign, foreign[:5]
    # the cost plan uses the platform's own prices, in the project's region, with no flag
    plan = texts["cost-plan.md"]
    assert all(c["price"] in plan for c in PLATFORMS[platform]["components"]) and "REGION MISMATCH" not in plan


def test_a_canary_on_codedeploy_says_it_shifts_in_two_steps(tmp_path):
    params = load_params(shop_on(tmp_path, "aws-ecs-fargate", "canary"))
    text = runbook.preview(params, check_status(params, force=True)).markdown
    assert re.search(r"--traffic-routing-config '\{\"type\":\"TimeBasedCanary\",\"timeBasedCanary\":\{\"canaryPercentage\":10,\"canaryInterval\":15\}\}'", text)
    assert "CodeDeploy's ECS canary shifts traffic in two steps" in text
    # workers have no load balancer: never CodeDeploy; their canary is one task of a canary service
    worker = text[text.index("a worker's canary is one task of its canary service"):][:2500]
    assert "--service \"$F-canary\" --task-definition" in worker and "--desired-count 1" in worker and "order-events" in worker
    promote = text[text.index("Promote the worker's canary"):][:1500]
    assert "--service \"$F-canary\" --desired-count 0" in promote


def test_the_readme_lists_every_shipped_platform_with_its_strategies():
    """The README's table of platforms is the list that works: every shipped folder, with the
    strategies its platform.yaml offers."""
    rows = dict(re.findall(r"^\| `([a-z0-9-]+)` \| ([a-z, -]+) \|", (REPO / "README.md").read_text(), re.M))
    assert set(rows) == set(platform_names())
    for name, strategies in rows.items():
        assert sorted(s.strip() for s in strategies.split(",")) == sorted(load_platform(name).deploy), name


@pytest.mark.parametrize("platform", PLATFORMS)
def test_the_platform_runs_scheduled_jobs_with_every_procedure(platform):
    """Each container platform runs the shop's nightly job: every job procedure has steps, and the
    deploy of each strategy, the verify and the rollback cover jobs (a job the deploy never
    touched would keep running the old release)."""
    spec = load_platform(platform)
    assert supports(platform, "job")
    jobs = spec.jobs
    for name in ("show", "run_now", "runs", "scale", "suspend", "resume"):
        assert getattr(jobs, name), name
    assert all(any(s.for_each == "job_service" for s in steps) for steps in spec.deploy.values())
    assert any(s.for_each == "job_service" for s in spec.verify)
    assert any(s.for_each == "job_service" for s in spec.rollback.steps)
    ci = spec.ci
    assert any(s.for_each == "job_service" for s in ci.deploy) and any(s.for_each == "job_service" for s in ci.rollback)
    assert any(s.for_each == "job_service" for s in ci.smoke)
    assert sum(e.requires_kind == "job" for e in spec.troubleshooting) >= 2


def test_a_target_default_follows_the_names_above_it():
    """The deploying service account lives in the environment's Google Cloud project: with the
    project ID overridden (acme-merchant-digest-stg), its default follows it, in every environment."""
    from opslib.documents.commands import resolve_targets

    params = load_params(PARAMS / "merchant-digest.yaml")
    platform = load_platform("google-cloud-run")
    for env in params.environments:
        names = resolve_targets(params, env, platform)
        assert names["deploy_service_account"] == f"deployer@{names['gcp_project']}.iam.gserviceaccount.com"
    assert resolve_targets(params, params.environment("staging"), platform)["gcp_project"] == "acme-merchant-digest-stg"
