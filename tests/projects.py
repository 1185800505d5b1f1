"""Generated projects beyond the three examples: one parameters file per combination of platform,
service kinds, CI systems, secret store, datastores, deploy strategy and third-party dependencies.

    make_project(dest, **choices) -> Path     writes dest/parameters/<name>.yaml and the files it links
    project_choices()                         a Hypothesis strategy of `choices` (every axis sampled)
    sample_choices(rng)                       the same draw with a random.Random (benchmarks, scripts)
    outcome(path, out) -> Outcome             validate; if valid, render every document and plan a release
    MATRIX                                    the axes and their values

The projects are meant to be ordinary, not hostile: realistic names and values, so that a
failure is a failure of opslib on a project shape, not of the generator. A choice the platform
cannot take (a strategy it has no procedure for, a kind it cannot run, a store bound to another
platform) is made on purpose now and then: `opslib validate` must refuse it with the field path.
Other engineers: import `make_project` (tests/ is on sys.path under pytest) and pass the axes you
care about; the rest default to a small web service on Kubernetes.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from hypothesis import strategies as st

from opslib.catalog.catalog import load_platform, platform_names

__all__ = ["MATRIX", "Outcome", "make_project", "supports", "project_choices", "sample_choices", "outcome", "shell_errors"]

MATRIX: dict[str, tuple] = {
    "platform": platform_names(),  # every shipped platform folder, not a list of our own
    "kinds": (("web",), ("worker",), ("job",), ("web", "worker"), ("web", "job"), ("worker", "job"), ("web", "worker", "job")),
    "ci": (("github",), ("gitlab",), ("github", "gitlab")),
    "store": ("aws-secrets-manager", "vault", "kubernetes-external-secrets", "heroku-config-vars", "gcp-secret-manager",
              "azure-key-vault", "github-actions", "gitlab-ci"),
    "datastores": ((), ("aws-rds-postgresql",), ("aws-sqs",), ("aws-sqs", "aws-dynamodb"), ("heroku-postgres", "heroku-redis"),
                   ("aws-elasticache-redis", "aws-s3"), ("self-hosted-postgresql",)),
    "strategy": ("rolling", "blue-green", "canary", "recreate"),
    "dependencies": (0, 1, 2),
}
STRATEGIES = {name: tuple(load_platform(name).deploy) for name in platform_names()}  # what each platform's folder offers
BOUND = {"kubernetes-external-secrets": "kubernetes", "heroku-config-vars": "heroku"}
# where a platform's images live, by the registry its CI logs in to (a platform not named here: ECR)
REGISTRY = {"google-cloud-run": "us-docker.pkg.dev/gen-project-1/gen", "azure-container-apps": "genacr.azurecr.io/gen"}
REGION = {"heroku": "us", "google-cloud-run": "us-central1", "azure-container-apps": "eastus"}


def supports(platform: str, what: str) -> bool:
    """Whether the platform's folder runs `what`: a kind (worker, job), or a worker's
    health_command (exec) or metrics endpoint (metrics)."""
    p = load_platform(platform)
    if what in ("worker", "job"):
        return (p.workers if what == "worker" else p.jobs).unsupported is None
    cap = getattr(p.workers, what)
    return p.workers.unsupported is None and cap is not None and cap.unsupported is None
PROVIDERS = (
    {"name": "stripe", "title": "Stripe", "purpose": "card payments and refunds", "endpoint": "https://api.stripe.com",
     "status_page": "https://status.stripe.com", "env_var": "STRIPE_SECRET_KEY",
     "probe": "curl -sS -o /dev/null -w '%{http_code}\\n' -u \"${STRIPE_SECRET_KEY}:\" https://api.stripe.com/v1/balance"},
    {"name": "sendgrid", "title": "SendGrid", "purpose": "transactional e-mail", "endpoint": "https://api.sendgrid.com",
     "status_page": "https://status.sendgrid.com", "env_var": "SENDGRID_API_KEY",
     "probe": "curl -sS -o /dev/null -w '%{http_code}\\n' -H \"Authorization: Bearer ${SENDGRID_API_KEY}\" https://api.sendgrid.com/v3/scopes"},
    {"name": "anthropic", "title": "Anthropic", "purpose": "model calls of the agents", "endpoint": "https://api.anthropic.com",
     "status_page": "https://status.anthropic.com", "env_var": "ANTHROPIC_API_KEY", "probe": None},
)
NOTES = "# {title}\n\nAs of 2026-11-02. Generated for the opslib test suite.\n"


def _service(kind: str, i: int, platform: str, choices: dict) -> dict[str, Any]:
    name = {"web": "api", "worker": "worker", "job": "nightly"}[kind] + (f"-{i}" if i else "")
    svc: dict[str, Any] = {"name": name, "kind": kind}
    if load_platform(platform).requires_image or (platform == "aws-lambda" and choices.get("images")):
        svc["image"] = f"{REGISTRY.get(platform, '123456789012.dkr.ecr.us-east-1.amazonaws.com/gen')}/{name}"
    else:
        svc["artifact"] = {"heroku": "slug", "aws-lambda": f"dist/{name}.zip", "vm-systemd": f"dist/{name}.tar.gz"}.get(platform, "slug")
    if kind == "web":
        svc.update(port=8080, health={"path": "/healthz", "expected_status": 200, "expected_body": '"status":"ok"'},
                   readiness={"path": "/readyz", "expected_status": 200, "expected_body": '"ready":true'})
    elif kind == "worker":
        if "aws-sqs" in choices["datastores"]:
            svc["consumes"] = "tasks"
        if choices.get("health_command") and supports(platform, "exec"):
            svc["health_command"] = {"command": "python -m app.health --max-lag 300", "expected": "ok: consumer connected"}
        if choices.get("metrics") and supports(platform, "metrics"):
            svc["metrics"] = {"port": 9102}
    else:
        svc.update(schedule="30 2 * * *" if platform == "heroku" else choices.get("schedule", "15 3 * * 1-5"),
                   command="python -m app.nightly_export", done_when="exit status 0 and the log line 'export complete'",
                   timeout_minutes=10 if platform == "aws-lambda" else 45)
        if choices.get("smoke_run") is False:
            svc["smoke_run"] = False
    return svc


def _secret(name: str, env_var: str, kind: str, store: str, services: list[str], provider: str | None) -> dict[str, Any]:
    scoped = store in ("heroku-config-vars", "github-actions", "gitlab-ci")
    item: dict[str, Any] = {
        "name": env_var if scoped else f"{{env}}/gen-project/{name}", "kind": kind, "store": store, "env_var": env_var,
        "description": f"{name} (never the value)", "services": services, "owner": "Platform Team", "last_rotated": "2026-09-01",
    }
    if provider:
        item["provider"] = provider
    return item


def make_project(dest: Path | str, **choices: Any) -> Path:
    """Write a project's parameters (and the architecture, plan, spec and status.json it links)
    under `dest`; return the parameters file. Choices (default in brackets): platform
    [kubernetes], kinds [("web",)], ci [("github", "gitlab")], store [aws-secrets-manager],
    datastores [()], strategy [the platform's first], dependencies [0], environments [3],
    url_without_web [False], health_command, metrics, smoke_run, images, knowledge [False],
    cost [True], name [gen-project], route [None: one web service; path, urls or internal: a second
    web service api-1 with that route, where the platform takes more than one (internal falls back
    to path where the platform cannot check an internal one)]."""
    dest = Path(dest)
    platform = choices.setdefault("platform", "kubernetes")
    kinds = tuple(choices.setdefault("kinds", ("web",)))
    choices.setdefault("datastores", ())
    store = choices.get("store", "aws-secrets-manager")
    name = choices.get("name", "gen-project")
    (dest / "parameters").mkdir(parents=True, exist_ok=True)
    docs = dest / "docs"
    docs.mkdir(exist_ok=True)
    for doc in ("architecture", "plan", "spec"):
        (docs / f"{doc}.md").write_text(NOTES.format(title=doc.title()), encoding="utf-8")
    (docs / "status.json").write_text(json.dumps({"status": "active", "current_phase": "deployment", "last_updated": "2026-11-01T10:00:00Z"}), encoding="utf-8")

    services = [_service(k, 0, platform, choices) for k in kinds]
    env_names = ("dev", "staging", "prod")[-choices.get("environments", 3):]
    route = choices.get("route")
    if route and "web" in kinds and load_platform(platform).web.max_services is None:  # a second web service, routed
        internal = load_platform(platform).web.internal
        if route == "internal" and (internal is None or internal.unsupported):
            route = "path"
        extra = _service("web", 1, platform, choices)
        extra["route"] = {"path": {"path": "/api-1"}, "internal": {"internal": True},
                          "urls": {"urls": {e: f"https://api-1.{e}.gen.example.com" for e in env_names}}}[route]
        services.append(extra)
    names = [s["name"] for s in services]
    has_web = "web" in kinds
    envs = []
    for e in env_names:
        env: dict[str, Any] = {"name": e, "region": REGION.get(platform, "us-east-1"),
                               "replicas": {"min": 1 if e != "prod" else 2, "max": 2 if e != "prod" else 6}, "approval_required": e == "prod"}
        if has_web or choices.get("url_without_web"):
            env["url"] = f"https://{e}.gen.example.com" if e != "prod" else "https://gen.example.com"
        envs.append(env)

    datastores = []
    for i, svc in enumerate(choices["datastores"]):
        ds: dict[str, Any] = {"name": "tasks" if svc == "aws-sqs" else f"store-{i}", "service": svc}
        if svc.endswith("postgresql") or svc == "heroku-postgres":
            ds["migration_tool"] = "alembic"
        if choices.get("real_names") and svc != "aws-sqs":
            ds["resource_name"] = f"gen-{{env}}-{ds['name']}"
        datastores.append(ds)

    slos: list[dict[str, Any]] = []
    if has_web:
        slos += [{"name": "API availability", "sli": "availability", "objective": 99.9},
                 {"name": "API latency", "sli": "latency", "objective": 95, "threshold_ms": choices.get("latency_ms", 250)}]
    if "worker" in kinds or not has_web:
        slos.append({"name": "messages processed", "sli": "custom", "objective": 99.5, "unit": "messages",
                     "good": 'sum(rate(worker_messages_total{job="gen-project",outcome="success"}[{{ window }}]))',
                     "total": 'sum(rate(worker_messages_total{job="gen-project"}[{{ window }}]))'})

    deps, items = [], []
    secret_services = names
    items.append(_secret("database-url", "DATABASE_URL", "database-credential", store, secret_services, None))
    for i in range(choices.get("dependencies", 0)):
        p = PROVIDERS[i % len(PROVIDERS)]
        dep: dict[str, Any] = {
            "name": p["name"], "title": p["title"], "purpose": p["purpose"], "services": names[:1], "endpoint": p["endpoint"],
            "status_page": p["status_page"], "rate_limit": "100 requests per second per account", "timeout_ms": 5000, "retries": 2,
            "fallback": "queue the work and retry from the worker; the user sees 'pending'", "secrets": [p["env_var"]],
        }
        if p["probe"]:
            dep["probe"] = {"command": p["probe"], "expected": "200"}
        if i == 0:
            dep["metrics"] = {"error_ratio": f'sum(rate(upstream_requests_total{{upstream="{p["name"]}",code=~"5.."}}[5m])) / sum(rate(upstream_requests_total{{upstream="{p["name"]}"}}[5m]))'}
            dep["pricing"] = {"monthly_usd": 20, "plan": "starter plan", "source": f"{p['endpoint']}/pricing", "as_of": "2026-10-01", "environments": ["prod"]}
        else:
            dep["pricing"] = {"usage": [{"unit": "call", "price_usd": 0.001, "drivers": ["requests"], "free_units": 1000}],
                              "source": "vendor quote", "as_of": "2026-10-01"}
        deps.append(dep)
        items.append(_secret(f"{p['name']}-key", p["env_var"], "api-key", store, names[:1], f"{p['title']} dashboard → API keys"))

    doc: dict[str, Any] = {
        "schema_version": 1,
        "project": {"name": name, "description": "A generated project for the opslib test suite.", "repository": f"https://github.com/acme/{name}",
                    "team": "Platform Team", "as_of": "2026-11-02",
                    "links": {"architecture": "../docs/architecture.md", "plan": "../docs/plan.md", "spec": "../docs/spec.md"},
                    "status_file": "../docs/status.json"},
        "platform": platform,
        "environments": envs,
        "services": services,
        "datastores": datastores,
        "monitoring": {
            "metrics_tool": "Prometheus + Grafana", "slos": slos,
            "dashboards": [{"name": "Overview", "url": "https://grafana.example.com/d/gen/overview"}],
            "logs": {"name": "Grafana Loki", "url": "https://grafana.example.com/explore", "query": '{app="gen-project"} |= "error"', "retention_days": 14},
        },
        "contacts": {
            "on_call": {"rotation": "PagerDuty gen-primary", "url": "https://acme.pagerduty.com/schedules/PGEN1"},
            "channels": [{"purpose": "incidents", "name": "#gen-incidents"}, {"purpose": "deploys", "name": "#gen-deploys"}],
            "escalation": [{"after_minutes": 0, "who": "Primary on-call", "contact": "PagerDuty gen-primary"},
                           {"after_minutes": 30, "who": "Engineering manager", "contact": "#gen-incidents"}],
        },
        "deploy": {"strategy": choices.get("strategy") or STRATEGIES[platform][0], "expected_minutes": 10},
        "secrets": {"security_contact": "#security (Slack)", "aws_account_id": "123456789012", "items": items},
        "ci": {"systems": list(choices.get("ci", ("github", "gitlab")))},
        "dependencies": deps,
    }
    if choices.get("cost", True):
        doc["cost"] = {
            "prices": [{"id": "gen.compute.instance-month", "provider": "acme", "service": "Compute", "sku": "instance", "unit": "instance-month",
                        "price_usd": 40, "source": "test quote", "as_of": "2026-10-01"}],
            "drivers": {"requests": {"unit": "requests", "low": 100000, "expected": 200000, "high": 400000, "description": "requests a month"}},
            "traffic_driver": "requests",
            "components": [{"name": "compute", "category": "compute", "description": "instances", "price": "gen.compute.instance-month",
                            "quantity": {"count": {"low": 1, "expected": 2, "high": 3}}, "utilization_pct": 30}],
            "budgets": {e: {"monthly_usd": 5000, "limit": "soft", "alert_to": ["ops@example.com"]} for e in env_names},
        }
    if choices.get("knowledge"):
        (dest / "parameters" / "knowledge.yaml").write_text(yaml.safe_dump({
            "procedures": [{"title": "Warm the cache after a restore", "steps": [
                {"text": "Request the busiest pages once.", "command": "curl -sS -o /dev/null -w '%{http_code}\\n' https://gen.example.com/", "expected": "200"}]}],
        }, sort_keys=False), encoding="utf-8")
        doc["knowledge"] = {"file": "knowledge.yaml", "troubleshooting": [{
            "id": "gen-stuck-export", "title": "Nightly export stuck on a lock", "category": "dependency",
            "symptoms": ["the export log stops at 'waiting for lock'"], "cause": "a long transaction holds the lock the export needs",
            "diagnostics": [{"text": "Find the blocking session.", "command": "psql \"$DATABASE_URL\" -c 'select pid, state, query from pg_stat_activity where wait_event_type = '\"'\"'Lock'\"'\"''",
                             "expected": "the waiting export and the session that blocks it"}],
            "solution": [{"text": "End the blocking session if it is idle in transaction.", "command": "psql \"$DATABASE_URL\" -c 'select pg_terminate_backend(12345)'", "expected": "t"}],
            "escalate_after_minutes": 30}],
            "alerts": [{"alert": "GenExportRowsLow", "name": "rows exported by the last run", "signal": "traffic", "severity": "ticket", "for": "0m",
                        "window": "last run", "threshold": "< 1000 rows", "rationale": "a normal night exports 40,000 rows", "action": "Check the source tables",
                        "expr": 'min(export_rows{job="gen-project"}) < 1000'}]}
    path = dest / "parameters" / f"{name}.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def _choices(pick: Any, chance: Any) -> dict[str, Any]:
    """One draw over every axis: `pick(values)` chooses one, `chance()` is true 9 times in 10 (a
    strategy, or a store, the platform supports; the tenth time any, to exercise the refusals)."""
    platform = pick(MATRIX["platform"])
    strategies = STRATEGIES[platform] if chance() else MATRIX["strategy"]
    stores = [s for s in MATRIX["store"] if BOUND.get(s, platform) == platform] if chance() else list(MATRIX["store"])
    kinds = [k for k in MATRIX["kinds"] if all(x == "web" or supports(platform, x) for x in k)] if chance() else list(MATRIX["kinds"])
    return {
        "platform": platform, "kinds": pick(kinds), "ci": pick(MATRIX["ci"]), "store": pick(stores),
        "datastores": pick(MATRIX["datastores"]), "strategy": pick(strategies), "dependencies": pick(MATRIX["dependencies"]),
        "environments": pick((2, 3)), "health_command": pick((True, False)), "metrics": pick((True, False)),
        "smoke_run": pick((None, False)), "url_without_web": pick((True, False)), "knowledge": pick((True, False)),
        "real_names": pick((True, False)), "latency_ms": pick((250, 400, 1000)), "images": pick((True, False)),
        "route": pick((None, "path", "urls", "internal")),
    }


@st.composite
def project_choices(draw: Any) -> dict[str, Any]:
    """Choices for make_project over every axis of MATRIX (a Hypothesis strategy)."""
    return _choices(lambda values: draw(st.sampled_from(values)), lambda: draw(st.integers(0, 9)) > 0)


def sample_choices(rng: Any) -> dict[str, Any]:
    """The same draw with a random.Random (benchmarks/generated.py)."""
    return _choices(rng.choice, lambda: rng.randrange(10) > 0)


# a refusal names the field it is about: 'services[2].schedule: …', 'deploy.strategy: …'
FIELD = re.compile(r"^\s+(line \d+: )?[a-z_]+(\[\d+\]|\.[a-z_]+)*(\[\d+\])?(\.[a-z_]+(\[\d+\])?)*: \S", re.M)


@dataclass(frozen=True)
class Outcome:
    refused: bool  # `opslib validate` exit code 2
    message: str  # what validate printed (refused) or the failing findings, empty when every check passed
    problems: list[str]  # what is wrong with the outcome itself: a traceback, a refusal without a field path, a failing check


def outcome(path: Path, out: Path) -> Outcome:
    """The contract for a generated project: `opslib validate` refuses it (exit 2, every problem
    naming its field), or every document renders with every check passing and a deployment plan
    for production can be written. Never a traceback."""
    from opslib.check.findings import failed
    from opslib.check.genres import check_genre
    from opslib.cli import main
    from opslib.documents.deployment_plan import build_plan, check_gates, render_plan
    from opslib.params.models import load_params
    from opslib.run.render import render_project

    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        rc = main(["validate", str(path)])
    text = err.getvalue()
    if rc == 2:
        lines = text.strip().splitlines()[1:]
        bad = [ln for ln in lines if ln.strip() and not FIELD.match(ln)]
        return Outcome(True, text, [f"refusal without a field path: {b}" for b in bad] + (["Traceback in the output"] if "Traceback" in text else []))
    if rc != 0:
        return Outcome(False, text, [f"validate exited {rc}: {text[-500:]}"])
    try:
        rendered = render_project(path, out)
        params = load_params(path)
        prod = params.production.name
        plan = render_plan(build_plan(params, prod, "1.4.2", check_gates(params, prod, "1.4.2", None, None, _status(params), "status.json", "history"),
                                      force=True))
        plan_findings = check_genre("deployment-plan", plan, params=params)
    except Exception as exc:  # the contract: every failure is an OpslibError with a message, never a traceback
        from opslib.errors import OpslibError

        kind = "check failed" if isinstance(exc, OpslibError) else f"traceback ({exc.__class__.__name__})"
        return Outcome(False, str(exc), [f"{kind}: {str(exc)[:3000]}"])
    fails = failed(rendered.findings) + failed(plan_findings)
    docs = [(out / params.project.name / name).read_text(encoding="utf-8") for name in ("runbook.md", "pipeline.md", "secrets.md")]
    return Outcome(False, "", [f"[{f.item}] {f.message}" for f in fails] + shell_errors("\n".join([*docs, plan])))


def shell_errors(text: str) -> list[str]:
    """`bash -n` over every ```bash block of a document: the commands parse as shell."""
    import subprocess
    import textwrap

    out = []
    for _, body in re.findall(r"^( *)```bash\n(.*?)^\1```", text, re.M | re.S):
        block = textwrap.dedent(body)
        res = subprocess.run(["bash", "-n"], input=block, capture_output=True, text=True)
        if res.returncode:
            out.append(f"bash -n: {res.stderr.strip()[:200]}\n{block[:300]}")
    return out


def _status(params: Any) -> Any:
    from opslib.params.status import load_status

    return load_status(params.base_dir / params.project.status_file)
