"""`opslib init`: a first parameters file, every field commented, for a new project or an
existing repository.

    Choices(name, platform=…, kinds=…, ci=…, store=…, datastores=…, environments=…)   what the user chose
    ask_choices(choices, ask) -> Choices       the interactive questions (a terminal), each with its choices
    build_document(choices, found=None) -> dict  the parameters as nested dicts and lists of Value leaves
    render_document(doc, header) -> str        YAML with each field's description, choices, source and QUESTION
    init_project(root, choices, found=None, today=None) -> Initialized   writes parameters/<name>.yaml, status.json,
                                               the spec skeletons and the schema; refuses to overwrite

Each value is either detected in the repository (`found`, opslib.run.detect: the file and line it
came from is written beside it as `# from Procfile:1`), chosen by the user, or a guess that
validates and renders: a guess carries a `# QUESTION:` comment saying what to check. The file
written always passes `opslib validate` and `opslib render` (tests/test_onboard.py); it starts
with a `yaml-language-server` line so editors complete and validate fields against the schema.
"""

from __future__ import annotations

import json
import os
import re
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from opslib.catalog.catalog import load_platform, open_catalog, platform_names
from opslib.catalog.secrets import secret_kinds_in, secret_stores
from opslib.errors import InputError
from opslib.params.models import DEFAULT_BUCKETS_MS, KINDS
from opslib.params.reference import SCHEMA_FILE, field_doc, schema_text

__all__ = ["Choices", "DetectedService", "Found", "Initialized", "Value", "ask_choices", "build_document", "count_questions",
           "default_store", "init_project", "make_choices", "render_document", "SCHEMA_LINE"]

SCHEMA_LINE = f"# yaml-language-server: $schema=../{SCHEMA_FILE}"
REGION = {"heroku": "us", "google-cloud-run": "us-central1", "azure-container-apps": "eastus"}
ARTIFACT = {"heroku": "slug", "aws-lambda": "dist/{svc}.zip", "vm-systemd": "dist/{svc}.tar.gz"}
STORE = {"heroku": "heroku-config-vars", "kubernetes": "kubernetes-external-secrets", "google-cloud-run": "gcp-secret-manager",
         "azure-container-apps": "azure-key-vault", "vm-systemd": "vault"}
SCOPED = {"heroku-config-vars", "github-actions", "gitlab-ci"}  # stores whose names are per environment already
AWS_STORES = {"aws-secrets-manager"}
SERVICE_NAMES = {"web": "web", "worker": "worker", "job": "nightly"}
WIDTH = 110
MAX_SERVICES = 8  # of one kind, from a repository (a monorepo's every manifest is not one project)


@dataclass(frozen=True)
class Value:
    """A leaf (or a whole section) of the document, with where it came from and what to check."""

    value: Any
    source: str | None = None  # "Procfile:1": detected in the repository
    question: str | None = None  # a guess: what the user must check or answer
    note: str | None = None  # a comment above the field (what else was found, e.g. existing CI jobs)


@dataclass(frozen=True)
class DetectedService:
    name: str
    kind: str
    source: str
    port: int | None = None
    port_source: str | None = None
    health: str | None = None
    health_source: str | None = None
    readiness: str | None = None
    readiness_source: str | None = None
    image: str | None = None
    image_source: str | None = None
    schedule: str | None = None
    schedule_source: str | None = None
    command: str | None = None
    command_source: str | None = None


@dataclass
class Found:
    """What a repository states (opslib.run.detect fills it): each value with its source."""

    values: dict[str, Value] = field(default_factory=dict)  # "platform", "region", "repository", "description", …
    services: list[DetectedService] = field(default_factory=list)
    secrets: dict[str, str] = field(default_factory=dict)  # env var name → source (names only, never values)
    datastores: dict[str, str] = field(default_factory=dict)  # catalog service → source
    ci: dict[str, str] = field(default_factory=dict)  # github / gitlab → source
    ci_jobs: list[tuple[str, str]] = field(default_factory=list)  # (existing job, source)
    languages: dict[str, str] = field(default_factory=dict)  # python / node / go → source
    alert_rules: list[tuple[str, str]] = field(default_factory=list)  # (existing Prometheus alert, source)
    docs: dict[str, str] = field(default_factory=dict)  # architecture / plan / spec / status → path relative to the repository
    skipped: list[str] = field(default_factory=list)  # files not read, and why (never their content)
    root: Path | None = None  # the repository read


@dataclass(frozen=True)
class Choices:
    name: str
    platform: str = "kubernetes"
    kinds: tuple[str, ...] = ("web",)
    ci: tuple[str, ...] = ("github",)
    store: str | None = None  # default: the platform's own store (default_store)
    datastores: tuple[str, ...] = ()
    environments: tuple[str, ...] = ("dev", "staging", "prod")
    team: str | None = None
    description: str | None = None
    repository: str | None = None
    given: frozenset[str] = frozenset()  # the fields the user chose (flags or answers): no QUESTION on them


@dataclass(frozen=True)
class Initialized:
    path: Path
    created: list[Path]  # every file written, the parameters file first
    questions: int  # how many QUESTION comments the file holds
    detected: int  # how many values came from the repository


def default_store(platform: str) -> str:
    return STORE.get(platform, "aws-secrets-manager")


def _slug(text: str) -> str:
    return re.sub(r"-+", "-", re.sub(r"[^a-z0-9-]", "-", text.lower())).strip("-")[:63] or "app"


def _check_choices(c: Choices) -> None:
    """InputError naming the flag when a choice is not one the catalogs know."""
    problems = []
    if not re.fullmatch(r"[a-z][a-z0-9-]{0,62}", c.name):
        problems.append(f"NAME {c.name!r}: use lower-case letters, digits and dashes, starting with a letter (e.g. shop-api)")
    if c.platform not in platform_names():
        problems.append(f"--platform {c.platform}: use one of {', '.join(platform_names())}")
    else:
        p = load_platform(c.platform)
        for kind in c.kinds:
            if kind not in KINDS:
                problems.append(f"--kind {kind}: use one or more of {', '.join(KINDS)}")
            elif kind == "worker" and p.workers.unsupported or kind == "job" and p.jobs.unsupported:
                problems.append(f"--kind {kind}: {c.platform} cannot run it ({(p.workers if kind == 'worker' else p.jobs).unsupported})")
        if c.kinds.count("web") > 1 or (p.web.max_services is not None and c.kinds.count("web") > p.web.max_services):
            problems.append("--kind web: give it once")
        store = c.store or default_store(c.platform)
        if store not in secret_stores():
            problems.append(f"--store {store}: use one of {', '.join(sorted(secret_stores()))}")
        elif secret_stores()[store].get("platform_bound") and store not in p.secret_stores:
            problems.append(f"--store {store}: it serves other platforms than {c.platform}; use {default_store(c.platform)} or another store")
    for ci in c.ci:
        if ci not in ("github", "gitlab"):
            problems.append(f"--ci {ci}: use github, gitlab or both")
    services = open_catalog().datastore_services()
    for ds in c.datastores:
        if ds not in services:
            problems.append(f"--datastore {ds}: use one of {', '.join(sorted(services))}")
    for env in c.environments:
        if not re.fullmatch(r"[a-z][a-z0-9-]{0,62}", env):
            problems.append(f"--environments {env!r}: environment names are lower-case letters, digits and dashes")
    if not c.kinds or not c.environments or not c.ci:
        problems.append("--kind, --environments and --ci each need at least one value")
    if problems:
        raise InputError(f"opslib init: {'; '.join(problems)}.")


# the interactive questions: (field of Choices, question, choices or None, several allowed)
QUESTIONS: tuple[tuple[str, str, Callable[[Choices], Sequence[str]] | None, bool], ...] = (
    ("description", "What does the service do, and for whom (one sentence)?", None, False),
    ("team", "Which team owns it?", None, False),
    ("platform", "Where does it run?", lambda c: platform_names(), False),
    ("kinds", "Which kinds of service does it have (web serves HTTP, worker consumes a queue, job runs on a schedule)?",
     lambda c: [k for k in KINDS if k == "web" or getattr(load_platform(c.platform), "workers" if k == "worker" else "jobs").unsupported is None], True),
    ("environments", "Environments, in promotion order?", None, True),
    ("ci", "Which CI systems get pipeline files?", lambda c: ["github", "gitlab"], True),
    ("store", "Where do the secret values live?",
     lambda c: [s for s, v in sorted(secret_stores().items()) if not v.get("platform_bound") or s in load_platform(c.platform).secret_stores], False),
    ("datastores", "Databases, caches and queues it uses (empty for none)?", lambda c: sorted(open_catalog().datastore_services()), True),
)


def ask_choices(choices: Choices, ask: Callable[[str, Sequence[str] | None, str], str]) -> Choices:
    """Ask each question not answered by a flag; `ask(question, choices, default)` returns the
    answer (the default when the answer is empty). A wrong answer is asked again, up to 3 times."""
    for name, question, options, several in QUESTIONS:
        if name in choices.given:
            continue
        current = getattr(choices, name)
        if name == "store":
            current = current or default_store(choices.platform)
        default = ", ".join(current) if isinstance(current, tuple) else (current or "")
        for _ in range(3):
            answer = ask(question, list(options(choices)) if options else None, default).strip() or default
            value: Any = tuple(a.strip() for a in re.split(r"[,\s]+", answer) if a.strip()) if several else answer
            trial = replace(choices, **{name: value}, given=choices.given | {name})
            try:
                _check_choices(trial)
            except InputError:
                continue
            choices = trial
            break
    return choices


# ---------------------------------------------------------------------------- the document

def _q(value: Any, question: str, given: bool = False) -> Value:
    return Value(value) if given else Value(value, question=question)


def _image(platform: str, name: str, svc: str, region: str) -> str:
    if platform == "google-cloud-run":
        return f"{region.split('-')[0]}-docker.pkg.dev/{name}/{name}/{svc}"
    if platform == "azure-container-apps":
        return f"{name.replace('-', '')}acr.azurecr.io/{name}/{svc}"
    return f"123456789012.dkr.ecr.{region}.amazonaws.com/{name}/{svc}"


def _services(c: Choices, found: Found, region: str) -> tuple[list[dict[str, Any]], list[str]]:
    platform = load_platform(c.platform)
    detected = [s for s in found.services if s.kind in c.kinds or "kinds" not in c.given]
    out, names = [], []
    kinds = list(dict.fromkeys([s.kind for s in detected] + [k for k in c.kinds if k not in {s.kind for s in detected}]))
    for kind in kinds:
        if kind == "worker" and platform.workers.unsupported or kind == "job" and platform.jobs.unsupported:
            continue
        limit = (platform.web.max_services or MAX_SERVICES) if kind == "web" else MAX_SERVICES
        mine = [s for s in detected if s.kind == kind][:limit] or [DetectedService(SERVICE_NAMES[kind], kind, "")]
        for s in mine:
            name = _slug(s.name)
            if name in names:
                continue
            names.append(name)
            svc: dict[str, Any] = {"name": Value(name, s.source or None, None if s.source else "the name it is deployed under (deployment, process type, function)"),
                                   "kind": Value(kind, s.source or None)}
            if kind == "web":
                svc["port"] = Value(s.port, s.port_source) if s.port else _q(8080, "the port the service listens on")
                for probe, path, src, guess in (("health", s.health, s.health_source, "/healthz"), ("readiness", s.readiness, s.readiness_source, "/readyz")):
                    body = '"status":"ok"' if probe == "health" else '"ready":true'
                    svc[probe] = {"path": Value(path, src) if path else _q(guess, f"the {probe} endpoint's path; add one to the service if it has none"),
                                  "expected_status": 200,
                                  "expected_body": _q(body, f"a fragment of the body a healthy {probe} endpoint returns")}
                if s is not mine[0]:  # the first web service is served at the environment's URL, each other one at its own endpoint
                    svc["route"] = {"path": _q(f"/{name}", "where the service is reachable: a path prefix under the environment's URL (path), "
                                                           "its own URL per environment (urls: {dev: …}) or internal: true (no public route)")}
            elif kind == "job":
                svc["schedule"] = Value(s.schedule, s.schedule_source) if s.schedule else _q("30 2 * * *", "when the job runs (cron, UTC)")
                svc["command"] = Value(s.command, s.command_source) if s.command else _q("python -m app.nightly", "the command one run executes")
                svc["done_when"] = _q("exit status 0 and the log line 'run complete'", "what a successful run leaves behind, as on-call checks it")
                svc["timeout_minutes"] = _q(10 if c.platform == "aws-lambda" else 30, "how long one run may take")
            if platform.requires_image:
                svc["image"] = Value(s.image, s.image_source) if s.image else _q(_image(c.platform, c.name, name, region), "the image repository CI pushes to (no tag)")
            else:
                svc["artifact"] = _q(ARTIFACT.get(c.platform, "dist/{svc}.tar.gz").format(svc=name), "what the build produces")
            out.append(svc)
    return out, names


def _environments(c: Choices, found: Found, has_web: bool) -> tuple[list[dict[str, Any]], str]:
    region = found.values.get("region") or _q(REGION.get(c.platform, "us-east-1"), "the region it runs in")
    domain = found.values.get("domain")
    envs = []
    for i, env in enumerate(c.environments):
        last = i == len(c.environments) - 1
        e: dict[str, Any] = {"name": Value(env) if "environments" in c.given else _q(env, "the environment's name as deployed")}
        if has_web:
            host = domain.value if domain else f"{c.name}.example.com"
            e["url"] = Value(f"https://{host}" if last else f"https://{env}.{host}", domain.source if domain else None,
                             None if domain and last else "the environment's public base URL")
        e["region"] = region
        e["replicas"] = _q({"min": 2, "max": 6} if last else {"min": 1, "max": 2}, "how many instances run, at least and at most")
        e["approval_required"] = Value(last)
        envs.append(e)
    return envs, str(region.value)


THIRD_PARTY = {"api-key", "webhook-secret", "oauth-client-secret"}
GENERIC = {"API", "APP", "SECRET", "AUTH", "ACCESS", "PRIVATE", "PUBLIC", "CLIENT", "SERVICE", "WEBHOOK", "OAUTH", "SESSION"}


def secret_kind(name: str) -> str:
    """A first guess at a secret's kind from its variable name."""
    if re.search(r"DATABASE|(^|_)DB(_|$)|POSTGRES|MYSQL|REDIS|MONGO|AMQP|RABBITMQ|BROKER", name):
        return "database-credential"
    if re.search(r"SECRET_KEY$|SIGNING|JWT|SESSION", name):
        return "token-signing-key"
    if "WEBHOOK" in name:
        return "webhook-secret"
    if "OAUTH" in name or "CLIENT_SECRET" in name:
        return "oauth-client-secret"
    if re.search(r"ENCRYPT|FERNET|CIPHER", name):
        return "encryption-key"
    if re.search(r"^AWS_|ACCESS_KEY_ID|SECRET_ACCESS_KEY", name):
        return "cloud-access-key"
    if "PASSWORD" in name or name.endswith(("_PASS", "_PASSWD")):
        return "password"
    if re.search(r"API_KEY|_KEY$|TOKEN|DSN", name):
        return "api-key"
    return "password"


def provider_of(name: str) -> str:
    """The provider a third-party credential belongs to, from its prefix (STRIPE_API_KEY → stripe)."""
    head = next((p for p in name.split("_") if p and p not in GENERIC), "provider")
    return _slug(head)


def _dependency(provider: str, env_vars: list[str], sources: list[str | None], services: list[str], today: date) -> dict[str, Any]:
    title = provider.replace("-", " ").title()
    src = next((s for s in sources if s), None)
    return {
        "name": Value(provider, src, f"the provider {', '.join(env_vars)} belongs to"),
        "title": _q(title, "the provider's name as people say it"),
        "purpose": _q(f"calls made with {', '.join(env_vars)}", "what the project uses it for"),
        "services": Value(services),
        "endpoint": _q(f"https://api.{provider}.com", "the base URL the services call"),
        "support": _q(f"{title} support portal", "how to reach its support, or give status_page: its public status page"),
        "rate_limit": _q("the limits of the project's plan with the provider (not looked up yet)", "its rate limits and quotas"),
        "timeout_ms": _q(5000, "the client timeout per call"),
        "retries": 2,
        "fallback": _q("answer 503 with Retry-After and retry the call later", "what the service does while the provider is down"),
        "secrets": Value(env_vars, src),
        "pricing": {"monthly_usd": _q(0, "its fixed monthly fee (0 only when the plan is free); add usage: prices per unit"),
                    "plan": _q("plan not looked up yet", "what the fee buys"),
                    "source": _q("not looked up yet", "the pricing page or contract"), "as_of": today.isoformat()},
    }


def _secret(name: str, source: str | None, c: Choices, store: str, services: list[str]) -> dict[str, Any]:
    kind = secret_kind(name)
    path = name if store in SCOPED else f"{{env}}/{c.name}/{name.lower().replace('_', '-')}"
    return {
        "name": Value(path, source),
        "kind": _q(kind, "what the secret is (a kind of opslib/data/secret-kinds.yaml)"),
        "store": Value(store) if "store" in c.given else _q(store, "where the value lives"),
        "env_var": Value(name, source),
        "description": _q(f"{name}, read by the service (names only: never the value here)", "what it is for and its format"),
        "services": Value(services),
        "owner": _q(c.team or "Platform Team", "who rotates it"),
        "last_rotated": _q(date.today().isoformat(), "when the current value was created (YYYY-MM-DD)"),
    }


def make_choices(name: str, given: dict[str, Any], found: Found | None = None) -> Choices:
    """The choices of the flags (`given`), the rest from what the repository states, else the defaults."""
    values = {k: v for k, v in given.items() if v is not None}
    if found is not None:
        if "platform" not in values and "platform" in found.values:
            values["platform"] = found.values["platform"].value
        if "kinds" not in values and found.services:
            values["kinds"] = tuple(dict.fromkeys(s.kind for s in found.services))
        if "ci" not in values and found.ci:
            values["ci"] = tuple(s for s in ("github", "gitlab") if s in found.ci)
    return Choices(name=name, **values, given=frozenset(k for k, v in given.items() if v is not None))


def _datastore_name(service: str, taken: list[str]) -> str:
    base = "queue" if "sqs" in service else "cache" if "redis" in service else "table" if "dynamodb" in service else "db"
    name, i = base, 2
    while name in taken:
        name, i = f"{base}-{i}", i + 1
    return name


def _docs(found: Found, params_dir: Path | None) -> dict[str, str]:
    """The spec documents and status.json the repository has, relative to the parameters folder."""
    if found.root is None or params_dir is None:
        return {k: f"../{p}" for k, p in found.docs.items()}
    return {k: Path(os.path.relpath(found.root / p, params_dir.resolve())).as_posix() for k, p in found.docs.items()}


def build_document(c: Choices, found: Found | None = None, today: date | None = None, params_dir: Path | None = None) -> dict[str, Any]:
    """The parameters for `c` (and what the repository states): nested dicts and lists whose
    leaves are Value (or plain values the user need not check); `params_dir` is where the file
    goes (links are relative to it)."""
    found = found or Found()
    _check_choices(c)
    today = today or date.today()
    store = c.store or default_store(c.platform)
    has_web = "web" in c.kinds or any(s.kind == "web" for s in found.services)
    envs, region = _environments(c, found, has_web)
    services, names = _services(c, found, region)
    has_web = any(s["kind"].value == "web" for s in services)
    kinds = {s["kind"].value for s in services}
    platform = load_platform(c.platform)
    given = c.given

    def v(key: str, guess: Any, question: str) -> Value:
        return found.values.get(key) or _q(guess, question)

    docs = _docs(found, params_dir)
    project = {
        "name": Value(c.name),
        "description": Value(c.description) if c.description else v("description", f"The {c.name} service.", "one sentence: what it does and for whom"),
        "repository": Value(c.repository) if c.repository else v("repository", f"https://github.com/acme/{c.name}", "the source repository's URL"),
        "team": Value(c.team) if c.team else _q("Platform Team", "the owning team"),
        "as_of": Value(today.isoformat()),
        "links": {k: Value(docs[k], found.docs[k]) if k in docs else Value(f"../docs/{k}.md", question=f"write the {k} document (a skeleton was created)")
                  for k in ("architecture", "plan", "spec")},
        "status_file": Value(docs["status"], found.docs["status"]) if "status" in docs else Value("../docs/status.json"),
    }
    slos: list[Any] = []
    if has_web:
        slos += [{"name": "availability", "sli": "availability", "objective": _q(99.9, "the availability you promise")},
                 {"name": "latency", "sli": "latency", "objective": 95,
                  "threshold_ms": _q(250, f"the latency threshold; it must be a bucket of the request-duration histogram ({', '.join(map(str, DEFAULT_BUCKETS_MS))} ms by default)")}]
    if not has_web or "worker" in kinds:
        unit, metric = ("messages", "worker_messages_total") if "worker" in kinds else ("job runs", "job_runs_total")
        slos.append(Value({"name": f"{unit} processed", "sli": "custom", "objective": 99.5, "unit": unit,
                           "good": f'sum(rate({metric}{{job="{c.name}",outcome="success"}}[{{{{ window }}}}]))',
                           "total": f'sum(rate({metric}{{job="{c.name}"}}[{{{{ window }}}}]))'},
                          question=f"the metric your code exports for {unit} (a counter with an outcome label)"))
    monitoring = {
        "metrics_tool": _q("Prometheus + Grafana", "where the metrics live"),
        "slos": slos,
        "dashboards": [{"name": "Service overview", "url": _q(f"https://grafana.example.com/d/{c.name}/overview", "the dashboard on-call opens first")}],
        "logs": {"name": _q("Grafana Loki", "the log tool"), "url": _q("https://grafana.example.com/explore", "the link to the log search"),
                 "query": _q(f'{{app="{c.name}"}} |= "error"', "a query that shows production errors"), "retention_days": _q(14, "how long logs are kept")},
    }
    if found.alert_rules:
        rules = ", ".join(f"{name} ({src})" for name, src in found.alert_rules[:8]) + (", …" if len(found.alert_rules) > 8 else "")
        monitoring["metrics_tool"] = Value("Prometheus + Grafana", found.alert_rules[0][1],
                                           note=f"existing Prometheus alerts: {rules}; alerts.yml adds the SLO burn-rate and resource alerts, "
                                                "keep yours beside it (or add them under knowledge.alerts)")
    team = c.team or "Platform Team"
    contacts = {
        "on_call": {"rotation": _q(f"PagerDuty {c.name}-primary", "the on-call schedule"),
                    "url": _q(f"https://pagerduty.example.com/schedules/{c.name}-primary", "the link to the schedule")},
        "channels": [{"purpose": "incidents", "name": _q(f"#{c.name}-incidents", "the incident channel")},
                     {"purpose": "deploys", "name": _q(f"#{c.name}-deploys", "the deploy channel")}],
        "escalation": [{"after_minutes": 0, "who": "Primary on-call", "contact": _q(f"PagerDuty {c.name}-primary", "how the first step is reached")},
                       {"after_minutes": 30, "who": _q(f"Engineering manager, {team}", "who is next"), "contact": _q(f"#{c.name}-incidents", "how")}],
    }
    secret_names = dict(found.secrets)
    if not secret_names:
        for ds in c.datastores or found.datastores:
            secret_names.setdefault("DATABASE_URL" if "redis" not in ds else "REDIS_URL", "")
    items: list[Any] = [_secret(n, src or None, c, store, names) for n, src in sorted(secret_names.items())]
    providers: dict[str, list[str]] = {}
    for n in sorted(secret_names):
        if secret_kind(n) in THIRD_PARTY:
            providers.setdefault(provider_of(n), []).append(n)
    dependencies = [_dependency(p, env_vars, [secret_names[v] or None for v in env_vars], names, today) for p, env_vars in providers.items()]
    if not items:
        items = [Value(_secret("SECRET_KEY", None, c, store, names),
                       question="no secret found: list each secret the services read (names and metadata only, never values)")]
    languages = sorted(found.languages)
    secrets: dict[str, Any] = {
        "security_contact": _q("#security (Slack)", "who to call when a secret leaks"),
        "languages": Value(languages, ", ".join(found.languages[x] for x in languages)) if languages else _q(["python"], "the languages of the services"),
    }
    if store in AWS_STORES or any(i.get("store") == "aws-secrets-manager" for i in items if isinstance(i, dict)):
        secrets["aws_account_id"] = _q("123456789012", "the AWS account id (12 digits)")
    secrets["items"] = items
    ci_systems = [s for s in ("github", "gitlab") if s in found.ci] if found.ci and "ci" not in given else list(c.ci)
    ci_source = ", ".join(found.ci[s] for s in ci_systems if s in found.ci) or None
    jobs = ", ".join(f"{name} ({src})" for name, src in found.ci_jobs[:8]) + (", …" if len(found.ci_jobs) > 8 else "")
    ci: dict[str, Any] = {"systems": Value(ci_systems, ci_source, note=f"existing CI jobs: {jobs}; pipeline.md and ci/ are generated beside "
                                                                   "them, compare before replacing" if jobs else None)}
    if found.values.get("default_branch"):
        ci["default_branch"] = found.values["default_branch"]
    datastores: list[dict[str, Any]] = []
    for ds in dict.fromkeys([*c.datastores, *found.datastores]):
        name = _datastore_name(ds, [d["name"].value for d in datastores])
        datastores.append({"name": Value(name, found.datastores.get(ds)), "service": Value(ds, found.datastores.get(ds))})
    strategy = found.values.get("strategy")
    if strategy is None or strategy.value not in platform.deploy:
        strategy = _q(next(iter(platform.deploy)), f"how releases roll out ({', '.join(platform.deploy)} on {c.platform})")
    doc: dict[str, Any] = {
        "schema_version": 1,
        "project": project,
        "platform": Value(c.platform, found.values["platform"].source if "platform" in found.values and "platform" not in given else None,
                          None if "platform" in given or "platform" in found.values else "where it runs"),
        "environments": envs,
        "services": services,
        "datastores": datastores,
        "monitoring": monitoring,
        "contacts": contacts,
        "deploy": {"strategy": strategy, "expected_minutes": _q(10, "how long a deploy takes")},
        "secrets": secrets,
        "ci": ci,
    }
    if dependencies:
        doc["dependencies"] = dependencies
    return doc


# ---------------------------------------------------------------------------- YAML with comments

def _scalar(value: Any) -> str:
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return value
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    text = yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=10**6).strip()
    return text[:-4].strip() if text.endswith("\n...") or text.endswith(" ...") else text.removesuffix("...").strip()


def _comment(text: str, indent: str) -> list[str]:
    return [f"{indent}# {line}" for line in textwrap.wrap(" ".join(text.split()), WIDTH - len(indent) - 2, break_on_hyphens=False)]


def _doc_path(path: str) -> str:
    return re.sub(r"\.\d+(?=\.|$)", ".[]", path)


def _lines(node: Any, path: str, indent: str, said: set[str]) -> list[str]:
    """The YAML lines of a mapping; a field's description (and a question) is written once, at
    its first occurrence (the first item of a list), `said` holds what was written already."""
    out: list[str] = []
    for key, raw in node.items():
        fpath = f"{path}.{key}" if path else key
        dpath = _doc_path(fpath)
        info = field_doc(dpath)
        value, source, question = (raw.value, raw.source, raw.question) if isinstance(raw, Value) else (raw, None, None)
        if info is not None and info.description and dpath not in said:
            out += _comment(info.description, indent)
            if info.choices and len(info.choices) > 1:
                out += _comment("choices: " + ", ".join(info.choices), indent)
        said.add(dpath)
        if isinstance(raw, Value) and raw.note:
            out += _comment(raw.note, indent)
        repeated = bool(question) and f"{dpath}?{question}" in said  # asked above: marked on its line only
        if question and not repeated:
            out += _comment(f"QUESTION: {question}", indent)
            said.add(f"{dpath}?{question}")
        tail = f"  # from {source}" if source else ""
        if repeated:
            tail += "  # QUESTION (as above)"
        if isinstance(value, dict) and value:
            out.append(f"{indent}{key}:{tail}")
            out += _lines(value, fpath, indent + "  ", said)
        elif isinstance(value, list) and value and any(isinstance(x, dict) or isinstance(x, Value) and isinstance(x.value, dict) for x in value):
            out.append(f"{indent}{key}:{tail}")
            for i, item in enumerate(value):
                item_value, item_q = (item.value, item.question) if isinstance(item, Value) else (item, None)
                if item_q:
                    out += _comment(f"QUESTION: {item_q}", indent + "  ")
                body = _lines(item_value, f"{fpath}.{i}", indent + "    ", said)
                first = next(j for j, ln in enumerate(body) if not ln.lstrip().startswith("#"))
                body = [f"{indent}  {ln.lstrip()}" for ln in body[:first]] + [f"{indent}  - {body[first].lstrip()}"] + body[first + 1:]
                out += body
        else:
            plain = [x.value if isinstance(x, Value) else x for x in value] if isinstance(value, list) else value
            out.append(f"{indent}{key}: {_scalar(plain)}{tail}")
    return out


def count_questions(doc: Any) -> tuple[int, int]:
    """(questions, detected values) in a document of build_document."""
    q = d = 0
    stack = [doc]
    while stack:
        node = stack.pop()
        if isinstance(node, Value):
            q += node.question is not None
            d += node.source is not None
            stack.append(node.value)
        elif isinstance(node, dict):
            stack += list(node.values())
        elif isinstance(node, list):
            stack += node
    return q, d


def render_document(doc: dict[str, Any], header: Sequence[str] = ()) -> str:
    lines = [SCHEMA_LINE, *(f"# {h}" if h else "#" for h in header), ""]
    said: set[str] = set()
    for key in doc:
        lines += _lines({key: doc[key]}, "", "", said)
        lines.append("")
    lines += _comment("cost: (cost-plan.md) is left out: add usage drivers, priced components and budgets per environment when you "
                      "have them (docs/parameters.md, section cost; parameters/weather-api.yaml is a worked example).", "")
    return "\n".join(lines).rstrip("\n") + "\n"


# ---------------------------------------------------------------------------- files

SKELETON = """# {title}: {name}

As of {today}. Written by `opslib init` as a starting point; the runbook and the deployment plan link here.

QUESTION: {ask}
"""
ASKS = {"architecture": "which components does the service have, what do they call, and where does data live?",
        "plan": "what is being delivered, in which phases, and what must be true before production?",
        "spec": "what must the service do (requirements, interfaces, limits)?"}


def init_project(root: str | Path, choices: Choices, found: Found | None = None, today: date | None = None,
                 header: Sequence[str] = ()) -> Initialized:
    """Write `<root>/parameters/<name>.yaml` (refusing to overwrite it), and what it links that
    does not exist yet: docs/status.json, docs/<architecture|plan|spec>.md skeletons and
    schema/parameters.schema.json."""
    root = Path(root)
    path = root / "parameters" / f"{choices.name}.yaml"
    if path.exists() or path.is_symlink():
        raise InputError(f"{path}: already exists; opslib init never overwrites a parameters file, so pick another NAME or move the file away.")
    today = today or date.today()
    doc = build_document(choices, found, today, path.parent)
    _, detected = count_questions(doc)

    def header_lines(questions: int) -> list[str]:
        lines = list(header) or [f"{choices.name}: parameters written by `opslib init` on {today.isoformat()}."]
        return lines + ["", "Each field has its description above it; `# from FILE:LINE` says where a value was found in the repository;",
                        f"`# QUESTION` marks a guess to check ({questions} of them). Reference: docs/parameters.md of opslib.",
                        f"Then: opslib validate parameters/{choices.name}.yaml && opslib render parameters/{choices.name}.yaml"]

    below = render_document(doc, header_lines(0)).splitlines()[1 + len(header_lines(0)):]  # below the header
    questions = sum("# QUESTION" in ln for ln in below)
    text = render_document(doc, header_lines(questions))
    kinds = secret_kinds_in(text)
    if kinds:  # a value read from the repository looked like a secret: never written
        raise InputError(f"{path}: not written, it would contain a secret value ({', '.join(sorted(set(kinds)))}) read from the repository; "
                         "remove the value from the file it came from and rotate it.")
    created = []
    _write_new(path, text)
    created.append(path)
    today_s = today.isoformat()
    extra: dict[Path, str] = {}
    if found is None or "status" not in found.docs:
        extra[root / "docs" / "status.json"] = json.dumps({"status": "active", "current_phase": "deployment",
                                                          "last_updated": f"{today_s}T00:00:00Z",
                                                          "notes": "written by opslib init; keep it current (render refuses a blocked project)"},
                                                         indent=2) + "\n"
    for kind in ("architecture", "plan", "spec"):
        if found is None or kind not in found.docs:
            extra[root / "docs" / f"{kind}.md"] = SKELETON.format(title=kind.title(), name=choices.name, today=today_s, ask=ASKS[kind])
    extra[root / SCHEMA_FILE] = schema_text()
    for target, content in extra.items():
        if not target.exists() and not target.is_symlink():
            _write_new(target, content)
            created.append(target)
    return Initialized(path, created, questions, detected)


def _write_new(path: Path, text: str) -> None:
    """Create `path` (and its folder) with `text`; never replaces a file (O_EXCL)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("x", encoding="utf-8") as fh:
            fh.write(text)
    except FileExistsError:
        raise InputError(f"{path}: already exists; opslib init never overwrites it, so move it away or pick another NAME.") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot write it ({exc.strerror or exc.__class__.__name__}); run opslib init in a folder you can write to.") from None
