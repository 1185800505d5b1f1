"""`opslib init --from PATH`: what an existing repository already states, each value with the
file and line it came from.

    detect(root) -> Found      (opslib.run.init.Found)

Read: Procfile and app.json (Heroku), Kubernetes manifests and Helm charts (Chart.yaml,
values.yaml), ECS task definitions, Cloud Run service YAML, serverless.yml and SAM templates
(Lambda), docker-compose files, GitHub Actions and GitLab CI files, pyproject.toml,
requirements.txt, package.json and go.mod, `.env.example`-style files and the code's
environment reads (names only), Prometheus rule files, health endpoints in probes and routes,
and architecture.md / plan.md / spec.md / status.json.

Hostile input is ordinary input: the walk never follows a symbolic link (a linked file or folder
is skipped and reported, so nothing outside PATH is read), skips vendored and generated folders
and test, fixture and example folders (what a repository tests or shows is not what it
deploys), reads at most MAX_FILES files of at most MAX_FILE_BYTES each, at most MAX_DEPTH
folders deep (the spec documents and status.json count at the top or in docs/);
YAML is parsed by ruamel's safe round-trip loader under opslib.core.yamlio's limits (size,
depth, alias expansion); a file that does not parse is skipped and reported by name. Secret
VALUES are never read into the result: `.env` itself is never opened, `.env.example` lines and
environment blocks contribute their names only, and every value kept is checked against the
field's pattern (an image reference with credentials in it is dropped).
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from opslib.catalog.secrets import secret_kinds_in
from opslib.core.yamlio import check_shape, read_input_text
from opslib.errors import InputError
from opslib.run.init import DetectedService, Found, Value

__all__ = ["MAX_DEPTH", "MAX_FILES", "MAX_FILE_BYTES", "detect"]

MAX_FILES = 5000
MAX_FILE_BYTES = 512_000
MAX_DEPTH = 8
SKIP_DIRS = {".git", ".hg", ".svn", "node_modules", "vendor", ".venv", "venv", "env", "__pycache__", "dist", "build", ".terraform",
             "target", ".tox", ".mypy_cache", ".pytest_cache", ".ruff_cache", "site-packages", ".next", "coverage",
             # what the repository tests or shows, not what it deploys
             "tests", "test", "__tests__", "testdata", "fixtures", "examples", "example", "samples", "golden", "e2e"}
CODE = {".py": "python", ".js": "node", ".mjs": "node", ".cjs": "node", ".ts": "node", ".go": "go"}
ENV_FILES = {".env.example", ".env.sample", ".env.template", ".env.dist", "env.example", "example.env", ".env.defaults"}
# a name that holds a credential (config like PORT or LOG_LEVEL is not a secret)
SECRETISH = re.compile(r"(KEY|SECRET|TOKEN|PASSWORD|PASSWD|_PASS$|DSN|CREDENTIAL|PRIVATE|_AUTH|WEBHOOK|"
                       r"^(DATABASE|DB|POSTGRES|MYSQL|REDIS|MONGO(DB)?|AMQP|RABBITMQ|CELERY_BROKER)_?URL|_URI$)")
ENV_NAME = re.compile(r"[A-Z][A-Z0-9_]{1,127}")
ENV_READS = (
    re.compile(r"os\.environ\[\s*['\"]([A-Z][A-Z0-9_]*)['\"]\s*\]"),
    re.compile(r"os\.environ\.get\(\s*['\"]([A-Z][A-Z0-9_]*)['\"]"),
    re.compile(r"os\.getenv\(\s*['\"]([A-Z][A-Z0-9_]*)['\"]"),
    re.compile(r"process\.env\.([A-Z][A-Z0-9_]*)\b"),
    re.compile(r"process\.env\[\s*['\"]([A-Z][A-Z0-9_]*)['\"]\s*\]"),
    re.compile(r"os\.(?:Getenv|LookupEnv)\(\s*\"([A-Z][A-Z0-9_]*)\""),
)
HEALTH_PATH = r"/(?:healthz?|livez|liveness|readyz|ready|readiness|ping|status|_health)(?:/[A-Za-z0-9._-]*)?"
ROUTE = re.compile(r"""(?:route|get|Get|GET|HandleFunc|Handle|api_route|path)\s*\(\s*['"](""" + HEALTH_PATH + r""")['"]""")
IMAGE = re.compile(r"^([A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*(:\d{1,5})?/)?"
                   r"[a-z0-9]+([._-]{1,2}[a-z0-9]+)*(/[a-z0-9]+([._-]{1,2}[a-z0-9]+)*)*$")
PROBE = re.compile(r"^/[A-Za-z0-9._~%+=:@,/?&-]{0,200}$")
REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-?\d?$|^[a-z]+-[a-z]+\d$")
CRON5 = re.compile(r"^(@(hourly|daily|weekly)|(\S+\s+){4}\S+)$")
DATASTORE_IMAGES = (("postgres", "postgres"), ("redis", "redis"), ("elasticmq", "sqs"), ("localstack", None), ("mysql", None))
DATASTORE_SERVICE = {  # (what, platform) → catalog service
    ("postgres", "heroku"): "heroku-postgres", ("redis", "heroku"): "heroku-redis",
    ("postgres", "vm-systemd"): "self-hosted-postgresql", ("postgres", "kubernetes"): "aws-rds-postgresql",
    ("postgres", None): "aws-rds-postgresql", ("redis", None): "aws-elasticache-redis", ("sqs", None): "aws-sqs",
    ("dynamodb", None): "aws-dynamodb",
}
HEROKU_ADDONS = {"heroku-postgresql": "postgres", "heroku-redis": "redis", "heroku-kafka": None}
GITLAB_RESERVED = {"stages", "variables", "default", "include", "workflow", "image", "services", "cache", "before_script", "after_script"}


def _clean(text: str, limit: int = 200) -> str:
    """A value fit for one line of a comment or a plain field: printable, short."""
    text = re.sub(r"[\x00-\x1f\x7f\u2028\u2029]+", " ", str(text)).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


class _Walk:
    """The repository's files, read safely; each detector adds to `found`."""

    def __init__(self, root: Path):
        self.root = root
        self.found = Found()
        self.files: list[Path] = []
        self.platforms: list[tuple[str, str]] = []  # (platform, source), first evidence first
        self.datastores: dict[str, str] = {}  # postgres / redis / sqs → source
        self.health: list[tuple[str, str]] = []  # (path, source) found in code routes

    def rel(self, path: Path) -> str:
        return _clean(path.relative_to(self.root).as_posix(), 300)

    def src(self, path: Path, line: int | None) -> str:
        return f"{self.rel(path)}:{line or 1}"

    def skip(self, path: Path, why: str) -> None:
        self.found.skipped.append(f"{self.rel(path)}: {why}")

    def walk(self) -> None:
        count = 0
        for folder, dirs, names in os.walk(self.root, followlinks=False):
            here = Path(folder)
            depth = len(here.relative_to(self.root).parts)
            keep = []
            for d in sorted(dirs):
                p = here / d
                if p.is_symlink():
                    self.skip(p, "a symbolic link (not followed)")
                elif d not in SKIP_DIRS and depth < MAX_DEPTH and not (d.startswith(".") and d not in (".github",)):
                    keep.append(d)
            dirs[:] = keep
            for name in sorted(names):
                p = here / name
                if re.search(r"[\x00-\x1f\x7f]", name):
                    continue
                if p.is_symlink():
                    self.skip(p, "a symbolic link (not followed)")
                    continue
                if name == ".env" or name.endswith((".pem", ".key", ".p12", ".pfx")):
                    continue  # real secret values live there: never opened
                count += 1
                if count > MAX_FILES:
                    self.found.skipped.append(f"more than {MAX_FILES} files: the rest were not read")
                    return
                self.files.append(p)

    def text(self, path: Path) -> str | None:
        try:
            return read_input_text(path, "repository file", max_bytes=MAX_FILE_BYTES)
        except InputError:
            self.skip(path, f"not a UTF-8 regular file of at most {MAX_FILE_BYTES:,} bytes")
            return None

    def yaml_docs(self, path: Path, text: str) -> list[Any]:
        try:
            docs = [d for d in YAML(typ="rt").load_all(text) if d is not None]
            for d in docs:
                check_shape(d, str(path))
            return docs
        except (YAMLError, InputError, RecursionError, ValueError, TypeError, OverflowError):
            if "{{" not in text:  # a Helm template is not YAML until rendered: not worth a note
                self.skip(path, "not valid YAML (or beyond the size, depth or alias limits)")
            return []


def _line(node: Any, key: Any) -> int | None:
    lc = getattr(node, "lc", None)
    try:
        if lc is None:
            return None
        return (lc.item(key) if isinstance(node, list) else lc.key(key))[0] + 1
    except (KeyError, IndexError, TypeError, AttributeError):
        return None


def _get(node: Any, *keys: Any) -> Any:
    for key in keys:
        if isinstance(node, dict) and key in node:
            node = node[key]
        elif isinstance(node, list) and isinstance(key, int) and key < len(node):
            node = node[key]
        else:
            return None
    return node


def _json_line(text: str, needle: str, start: int = 0) -> int:
    i = text.find(needle, start)
    return text.count("\n", 0, i) + 1 if i >= 0 else 1


def _image(value: Any) -> str | None:
    """An image reference without tag or digest, if it is one (credentials or templating: None)."""
    if not isinstance(value, str):
        return None
    ref = value.split("@", 1)[0]
    if ":" in ref.rsplit("/", 1)[-1]:
        ref = ref.rsplit(":", 1)[0]
    return ref if IMAGE.match(ref) and len(ref) <= 255 else None


def _probe(value: Any) -> str | None:
    return value if isinstance(value, str) and PROBE.match(value) else None


def _port(value: Any) -> int | None:
    try:
        port = int(str(value).split(":")[-1].split("/")[0])
    except (TypeError, ValueError):
        return None
    return port if 1 <= port <= 65535 else None


def _aws_cron(expr: str) -> str | None:
    """serverless / EventBridge schedules as five-field cron: cron(30 2 * * ? *) → 30 2 * * *; rate(1 day) → @daily."""
    expr = expr.strip()
    m = re.fullmatch(r"cron\((\S+) (\S+) (\S+) (\S+) (\S+) (\S+)\)", expr)
    if m:
        minute, hour, dom, month, dow, _year = m.groups()
        fields = [minute, hour, "*" if dom == "?" else dom, month, "*" if dow == "?" else dow]
        return " ".join(fields)
    m = re.fullmatch(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)", expr)
    if m:
        n, unit = int(m.group(1)), m.group(2)
        if unit.startswith("day") and n == 1:
            return "@daily"
        if unit.startswith("hour"):
            return "@hourly" if n == 1 else f"0 */{n} * * *"
        if unit.startswith("minute"):
            return f"*/{n} * * * *"
    return None


def _secret_name(walk: _Walk, name: Any, source: str) -> None:
    if isinstance(name, str) and ENV_NAME.fullmatch(name) and SECRETISH.search(name):
        walk.found.secrets.setdefault(name, source)


# ---------------------------------------------------------------------------- detectors

def _procfile(walk: _Walk, path: Path, text: str) -> None:
    walk.platforms.append(("heroku", walk.src(path, 1)))
    for i, line in enumerate(text.splitlines(), 1):
        m = re.match(r"^([A-Za-z0-9_-]+):\s*(.+)$", line)
        if not m or m.group(1) == "release":
            continue
        ptype = m.group(1)
        kind = "web" if ptype == "web" else "job" if ptype in ("clock", "scheduler") else "worker"
        if kind == "job":
            continue  # a clock process is a worker that schedules; Heroku Scheduler jobs are not in the Procfile
        walk.found.services.append(DetectedService(ptype, kind, walk.src(path, i)))


def _app_json(walk: _Walk, path: Path, text: str) -> None:
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        walk.skip(path, "not valid JSON")
        return
    if not isinstance(data, dict):
        return
    walk.platforms.append(("heroku", walk.src(path, 1)))
    for key in ("description", "repository"):
        if isinstance(data.get(key), str) and data[key].strip():
            walk.found.values.setdefault(key, Value(_clean(data[key], 300), walk.src(path, _json_line(text, f'"{key}"'))))
    env = data.get("env")
    if isinstance(env, dict):
        for name in env:  # the names only: app.json may carry a value or a generator beside each
            _secret_name(walk, name, walk.src(path, _json_line(text, f'"{name}"')))
    for addon in data.get("addons") or []:
        plan = addon.get("plan") if isinstance(addon, dict) else addon
        what = HEROKU_ADDONS.get(str(plan).split(":")[0]) if isinstance(plan, str) else None
        if what:
            walk.datastores.setdefault(what, walk.src(path, _json_line(text, str(plan).split(":")[0])))


def _container_service(walk: _Walk, path: Path, name: str, kind_hint: str | None, container: Any, line: int | None,
                       schedule: tuple[str, str] | None = None) -> None:
    port, port_src = None, None
    ports = _get(container, "ports")
    if isinstance(ports, list) and ports:
        port = _port(_get(ports, 0, "containerPort"))
        port_src = walk.src(path, _line(ports[0], "containerPort") if isinstance(ports[0], dict) else None)
    probes: dict[str, tuple[str | None, str | None]] = {}
    for key, probe in (("livenessProbe", "health"), ("readinessProbe", "readiness"), ("startupProbe", "health")):
        p = _probe(_get(container, key, "httpGet", "path"))
        if p and probe not in probes:
            probes[probe] = (p, walk.src(path, _line(_get(container, key, "httpGet"), "path")))
        if port is None:
            port = _port(_get(container, key, "httpGet", "port"))
            port_src = walk.src(path, _line(_get(container, key, "httpGet"), "port")) if port else None
    image = _image(_get(container, "image"))
    for env in _get(container, "env") or []:
        if isinstance(env, dict) and isinstance(env.get("valueFrom"), dict):  # from a Secret: a secret by definition
            env_name = env.get("name")
            if isinstance(env_name, str) and ENV_NAME.fullmatch(env_name):
                walk.found.secrets.setdefault(env_name, walk.src(path, _line(env, "name")))
        elif isinstance(env, dict):
            _secret_name(walk, env.get("name"), walk.src(path, _line(env, "name")))
    kind = kind_hint or ("web" if port or probes else "worker")
    walk.found.services.append(DetectedService(
        _clean(name, 63), kind, walk.src(path, line), port=port, port_source=port_src if port else None,
        health=probes.get("health", (None, None))[0], health_source=probes.get("health", (None, None))[1],
        readiness=probes.get("readiness", (None, None))[0], readiness_source=probes.get("readiness", (None, None))[1],
        image=image, image_source=walk.src(path, _line(container, "image")) if image else None,
        schedule=schedule[0] if schedule else None, schedule_source=schedule[1] if schedule else None,
        command=_command(_get(container, "command"), _get(container, "args")) if kind_hint == "job" else None,
        command_source=walk.src(path, _line(container, "command")) if kind_hint == "job" and _get(container, "command") else None))


def _command(command: Any, args: Any) -> str | None:
    parts = [str(x) for x in (command if isinstance(command, list) else [])] + [str(x) for x in (args if isinstance(args, list) else [])]
    text = " ".join(parts)
    return _clean(text, 300) if parts and not secret_kinds_in(text) else None


def _kubernetes(walk: _Walk, path: Path, doc: Any) -> bool:
    kind, api = _get(doc, "kind"), _get(doc, "apiVersion")
    if not isinstance(kind, str) or not isinstance(api, str):
        return False
    name = _get(doc, "metadata", "name")
    if api.startswith("serving.knative.dev") and kind == "Service":
        walk.platforms.append(("google-cloud-run", walk.src(path, _line(doc, "apiVersion"))))
        region = _get(doc, "metadata", "labels", "cloud.googleapis.com/location")
        if isinstance(region, str) and REGION.match(region):
            walk.found.values.setdefault("region", Value(region, walk.src(path, _line(_get(doc, "metadata", "labels"), "cloud.googleapis.com/location"))))
        container = _get(doc, "spec", "template", "spec", "containers", 0)
        if isinstance(name, str) and container is not None:
            _container_service(walk, path, name, "web", container, _line(doc["metadata"], "name"))
        return True
    if kind in ("Deployment", "StatefulSet", "CronJob", "Job", "DaemonSet"):
        walk.platforms.append(("kubernetes", walk.src(path, _line(doc, "kind"))))
        pod = _get(doc, "spec", "jobTemplate", "spec", "template", "spec") if kind == "CronJob" else _get(doc, "spec", "template", "spec")
        container = _get(pod, "containers", 0)
        schedule = _get(doc, "spec", "schedule")
        sched = (str(schedule), walk.src(path, _line(doc["spec"], "schedule"))) if isinstance(schedule, str) and CRON5.match(schedule) else None
        if isinstance(name, str) and container is not None and kind != "Job":
            _container_service(walk, path, name, "job" if kind == "CronJob" else None, container, _line(doc["metadata"], "name"), sched)
        return True
    if kind == "Ingress":
        host = _get(doc, "spec", "rules", 0, "host")
        if isinstance(host, str) and re.fullmatch(r"[a-z0-9.-]+\.[a-z]{2,}", host):
            walk.found.values.setdefault("domain", Value(host, walk.src(path, _line(_get(doc, "spec", "rules", 0), "host"))))
        return True
    return kind in ("Service", "ConfigMap", "Secret", "HorizontalPodAutoscaler", "Namespace", "ServiceAccount")


def _helm_values(walk: _Walk, path: Path, doc: Any, chart: str | None) -> None:
    walk.platforms.append(("kubernetes", walk.src(path, 1)))
    repo = _image(_get(doc, "image", "repository"))
    port = _port(_get(doc, "service", "port")) or _port(_get(doc, "containerPort"))
    probes = {}
    for key, probe in (("livenessProbe", "health"), ("readinessProbe", "readiness")):
        p = _probe(_get(doc, key, "httpGet", "path"))
        if p:
            probes[probe] = (p, walk.src(path, _line(_get(doc, key, "httpGet"), "path")))
    host = _get(doc, "ingress", "hosts", 0, "host")
    if isinstance(host, str) and re.fullmatch(r"[a-z0-9.-]+\.[a-z]{2,}", host):
        walk.found.values.setdefault("domain", Value(host, walk.src(path, _line(_get(doc, "ingress", "hosts", 0), "host"))))
    for name in (_get(doc, "secretEnv") or _get(doc, "env") or {}):
        if isinstance(name, str):
            _secret_name(walk, name, walk.src(path, _line(_get(doc, "secretEnv") or _get(doc, "env"), name)))
    if chart:
        walk.found.services.append(DetectedService(
            chart, "web" if port or probes else "worker", walk.src(path, 1), port=port,
            port_source=walk.src(path, _line(_get(doc, "service"), "port")) if port else None,
            health=probes.get("health", (None, None))[0], health_source=probes.get("health", (None, None))[1],
            readiness=probes.get("readiness", (None, None))[0], readiness_source=probes.get("readiness", (None, None))[1],
            image=repo, image_source=walk.src(path, _line(_get(doc, "image"), "repository")) if repo else None))


def _task_definition(walk: _Walk, path: Path, text: str, data: dict) -> None:
    walk.platforms.append(("aws-ecs-fargate", walk.src(path, _json_line(text, '"containerDefinitions"'))))
    family = data.get("family")
    for c in data.get("containerDefinitions") or []:
        if not isinstance(c, dict):
            continue
        name = family if isinstance(family, str) else c.get("name")
        at = text.find(f'"{c.get("name")}"') if isinstance(c.get("name"), str) else 0
        port = _port(_get(c, "portMappings", 0, "containerPort"))
        health_cmd = " ".join(str(x) for x in _get(c, "healthCheck", "command") or [])
        m = re.search(r"https?://[^/\s'\"]+(" + HEALTH_PATH + ")", health_cmd)
        image = _image(c.get("image"))
        for s in c.get("secrets") or []:  # {name, valueFrom: an ARN}: the name only
            if isinstance(s, dict) and isinstance(s.get("name"), str) and ENV_NAME.fullmatch(s["name"]):
                walk.found.secrets.setdefault(s["name"], walk.src(path, _json_line(text, f'"{s["name"]}"', at)))
        for e in c.get("environment") or []:
            if isinstance(e, dict):
                _secret_name(walk, e.get("name"), walk.src(path, _json_line(text, f'"{e.get("name")}"', at)))
        region = _get(c, "logConfiguration", "options", "awslogs-region")
        if isinstance(region, str) and REGION.match(region):
            walk.found.values.setdefault("region", Value(region, walk.src(path, _json_line(text, '"awslogs-region"', at))))
        if isinstance(name, str):
            walk.found.services.append(DetectedService(
                _clean(name, 63), "web" if port else "worker", walk.src(path, _json_line(text, '"family"' if family else '"name"')),
                port=port, port_source=walk.src(path, _json_line(text, '"containerPort"', at)) if port else None,
                health=m.group(1) if m else None, health_source=walk.src(path, _json_line(text, m.group(1), text.find('"healthCheck"', at))) if m else None,
                image=image, image_source=walk.src(path, _json_line(text, '"image"', at)) if image else None))
        break  # the first container is the service; sidecars (log routers, agents) are not


def _serverless(walk: _Walk, path: Path, doc: Any) -> None:
    walk.platforms.append(("aws-lambda", walk.src(path, _line(doc, "provider") or 1)))
    region = _get(doc, "provider", "region")
    if isinstance(region, str) and REGION.match(region):
        walk.found.values.setdefault("region", Value(region, walk.src(path, _line(doc["provider"], "region"))))
    env = _get(doc, "provider", "environment")
    if isinstance(env, dict):
        for name in env:
            _secret_name(walk, name, walk.src(path, _line(env, name)))
    functions = _get(doc, "functions")
    for fname, fn in (functions.items() if isinstance(functions, dict) else []):
        if not isinstance(fname, str):
            continue
        events = _get(fn, "events") or []
        kind, extra = "worker", dict[str, Any]()
        for ev in events if isinstance(events, list) else []:
            if not isinstance(ev, dict):
                continue
            if "http" in ev or "httpApi" in ev:
                kind = "web"
                hp = _get(ev, "http", "path") or _get(ev, "httpApi", "path")
                if isinstance(hp, str) and re.search(HEALTH_PATH, "/" + hp.lstrip("/")):
                    extra = {"health": _probe("/" + hp.lstrip("/")), "health_source": walk.src(path, _line(ev["http"] if "http" in ev else ev["httpApi"], "path"))}
            elif "schedule" in ev and kind != "web":
                rate = _get(ev, "schedule", "rate") if isinstance(ev["schedule"], dict) else ev["schedule"]
                rate = rate[0] if isinstance(rate, list) and rate else rate  # serverless v3: a list of expressions
                cron = _aws_cron(rate) if isinstance(rate, str) else None
                kind = "job"
                if cron:
                    extra = {"schedule": cron, "schedule_source": walk.src(path, _line(ev, "schedule"))}
        handler = _get(fn, "handler")
        if kind == "job" and isinstance(handler, str):
            extra |= {"command": _clean(handler, 200), "command_source": walk.src(path, _line(fn, "handler"))}
        walk.found.services.append(DetectedService(_clean(fname, 63), kind, walk.src(path, _line(functions, fname)), **extra))


def _sam(walk: _Walk, path: Path, doc: Any) -> None:
    walk.platforms.append(("aws-lambda", walk.src(path, _line(doc, "Transform") or 1)))
    resources = _get(doc, "Resources")
    for rname, res in (resources.items() if isinstance(resources, dict) else []):
        store = {"AWS::DynamoDB::Table": "dynamodb", "AWS::Serverless::SimpleTable": "dynamodb", "AWS::SQS::Queue": "sqs"}.get(str(_get(res, "Type")))
        if store:
            walk.datastores.setdefault(store, walk.src(path, _line(res, "Type")))
        if _get(res, "Type") != "AWS::Serverless::Function" or not isinstance(rname, str):
            continue
        kind, extra = "worker", dict[str, Any]()
        events = _get(res, "Properties", "Events")
        for ev in (events.values() if isinstance(events, dict) else []):
            etype = _get(ev, "Type")
            if etype in ("Api", "HttpApi"):
                kind = "web"
                p = _get(ev, "Properties", "Path")
                if isinstance(p, str) and re.fullmatch(HEALTH_PATH, p):
                    extra = {"health": p, "health_source": walk.src(path, _line(ev["Properties"], "Path"))}
            elif etype in ("Schedule", "ScheduleV2") and kind != "web":
                kind = "job"
                cron = _aws_cron(str(_get(ev, "Properties", "Schedule") or _get(ev, "Properties", "ScheduleExpression") or ""))
                if cron:
                    extra = {"schedule": cron, "schedule_source": walk.src(path, _line(ev["Properties"], "Schedule") or _line(ev["Properties"], "ScheduleExpression"))}
        handler = _get(res, "Properties", "Handler")
        if kind == "job" and isinstance(handler, str):
            extra |= {"command": _clean(handler, 200), "command_source": walk.src(path, _line(res["Properties"], "Handler"))}
        env = _get(res, "Properties", "Environment", "Variables")
        for name in (env if isinstance(env, dict) else {}):
            _secret_name(walk, name, walk.src(path, _line(env, name)))
        walk.found.services.append(DetectedService(_clean(re.sub(r"(?<!^)(?=[A-Z])", "-", rname).lower().removesuffix("-function"), 63),
                                                   kind, walk.src(path, _line(resources, rname)), **extra))


def _compose(walk: _Walk, path: Path, doc: Any) -> None:
    services = _get(doc, "services")
    for name, svc in (services.items() if isinstance(services, dict) else []):
        image = str(_get(svc, "image") or "")
        what = next((w for needle, w in DATASTORE_IMAGES if needle in image.split("/")[-1].split(":")[0]), "")
        if what != "":
            if what:
                walk.datastores.setdefault(what, walk.src(path, _line(svc, "image")))
            continue
        env = _get(svc, "environment")
        if isinstance(env, dict):
            for n in env:
                _secret_name(walk, n, walk.src(path, _line(env, n)))
        elif isinstance(env, list):
            for i, e in enumerate(env):  # NAME or NAME=value: the name only
                _secret_name(walk, str(e).split("=", 1)[0], walk.src(path, _line(env, i)))
        test = " ".join(str(x) for x in _get(svc, "healthcheck", "test") or []) if isinstance(_get(svc, "healthcheck", "test"), list) else str(_get(svc, "healthcheck", "test") or "")
        m = re.search(r"https?://[^/\s'\"]+(" + HEALTH_PATH + ")", test)
        if m:
            walk.health.append((m.group(1), walk.src(path, _line(_get(svc, "healthcheck"), "test"))))
        ports = _get(svc, "ports")
        port = _port(ports[0]) if isinstance(ports, list) and ports else None
        if port and "port" not in walk.found.values and isinstance(name, str):
            walk.found.values["port"] = Value(port, walk.src(path, _line(svc, "ports")))


def _prometheus(walk: _Walk, path: Path, doc: Any) -> bool:
    groups = _get(doc, "groups") if not (isinstance(doc, dict) and _get(doc, "spec", "groups") is not None) else _get(doc, "spec", "groups")
    if not isinstance(groups, list):
        return False
    hit = False
    for g in groups:
        for r in _get(g, "rules") or []:
            if isinstance(r, dict) and isinstance(r.get("alert"), str):
                walk.found.alert_rules.append((_clean(r["alert"], 100), walk.src(path, _line(r, "alert"))))
                hit = True
    return hit


def _github(walk: _Walk, path: Path, doc: Any) -> None:
    walk.found.ci.setdefault("github", walk.src(path, 1))
    jobs = _get(doc, "jobs")
    for job in (jobs if isinstance(jobs, dict) else {}):
        walk.found.ci_jobs.append((_clean(str(job), 60), walk.src(path, _line(jobs, job))))
    on = _get(doc, "on")
    branches = _get(on, "push", "branches") if isinstance(on, dict) else None
    if isinstance(branches, list) and branches and isinstance(branches[0], str) and re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._/-]*", branches[0]):
        walk.found.values.setdefault("default_branch", Value(branches[0], walk.src(path, _line(on["push"], "branches"))))


def _gitlab(walk: _Walk, path: Path, doc: Any) -> None:
    walk.found.ci.setdefault("gitlab", walk.src(path, 1))
    for job in (doc if isinstance(doc, dict) else {}):
        if isinstance(job, str) and job not in GITLAB_RESERVED and not job.startswith("."):
            walk.found.ci_jobs.append((_clean(job, 60), walk.src(path, _line(doc, job))))


def _manifest(walk: _Walk, path: Path, text: str) -> None:
    name = path.name
    if name == "pyproject.toml":
        walk.found.languages.setdefault("python", walk.src(path, 1))
        try:
            data = tomllib.loads(text)
        except (tomllib.TOMLDecodeError, RecursionError):
            walk.skip(path, "not valid TOML")
            return
        desc = _get(data, "project", "description")
        if isinstance(desc, str) and desc.strip():
            walk.found.values.setdefault("description", Value(_clean(desc, 300), walk.src(path, _json_line(text, "description"))))
        urls = _get(data, "project", "urls")
        repo = next((u for k, u in (urls.items() if isinstance(urls, dict) else []) if str(k).lower() in ("repository", "source", "homepage")), None)
        if isinstance(repo, str) and re.fullmatch(r"https://[A-Za-z0-9.-]+/[A-Za-z0-9._/-]+", repo):
            walk.found.values.setdefault("repository", Value(repo, walk.src(path, _json_line(text, repo))))
    elif name in ("requirements.txt", "setup.py", "Pipfile"):
        walk.found.languages.setdefault("python", walk.src(path, 1))
    elif name == "package.json":
        walk.found.languages.setdefault("node", walk.src(path, 1))
        try:
            data = json.loads(text)
        except (json.JSONDecodeError, RecursionError):
            walk.skip(path, "not valid JSON")
            return
        if isinstance(data, dict):
            if isinstance(data.get("description"), str) and data["description"].strip():
                walk.found.values.setdefault("description", Value(_clean(data["description"], 300), walk.src(path, _json_line(text, '"description"'))))
            repo = data.get("repository")
            repo = repo.get("url") if isinstance(repo, dict) else repo
            if isinstance(repo, str):
                repo = re.sub(r"^git\+|\.git$", "", repo)
                if re.fullmatch(r"https://[A-Za-z0-9.-]+/[A-Za-z0-9._/-]+", repo):
                    walk.found.values.setdefault("repository", Value(repo, walk.src(path, _json_line(text, '"repository"'))))
    elif name == "go.mod":
        walk.found.languages.setdefault("go", walk.src(path, 1))
        m = re.search(r"^module\s+((?:github\.com|gitlab\.com)/[A-Za-z0-9._-]+/[A-Za-z0-9._-]+)\s*$", text, re.M)
        if m:
            walk.found.values.setdefault("repository", Value(f"https://{m.group(1)}", walk.src(path, _json_line(text, "module"))))


def _env_example(walk: _Walk, path: Path, text: str) -> None:
    for i, line in enumerate(text.splitlines(), 1):
        m = re.match(r"^\s*(?:export\s+)?([A-Z][A-Z0-9_]*)\s*=", line)  # the name; the rest of the line is never kept
        if m:
            _secret_name(walk, m.group(1), walk.src(path, i))


def _code(walk: _Walk, path: Path, text: str) -> None:
    walk.found.languages.setdefault(CODE[path.suffix], walk.src(path, 1)) if path.suffix != ".py" or "import " in text else None
    for i, line in enumerate(text.splitlines(), 1):
        for pattern in ENV_READS:
            for m in pattern.finditer(line):
                _secret_name(walk, m.group(1), walk.src(path, i))
        route = ROUTE.search(line)
        if route and _probe(route.group(1)):
            walk.health.append((route.group(1), walk.src(path, i)))


DOCS = {"architecture.md": "architecture", "plan.md": "plan", "spec.md": "spec", "status.json": "status"}


def detect(root: Path) -> Found:
    """What the repository at `root` states. InputError when `root` is not a folder."""
    if root.is_symlink() or not root.is_dir():
        raise InputError(f"--from {root}: not a folder; pass the root folder of the repository to read.")
    walk = _Walk(root.resolve())
    walk.found.root = walk.root
    walk.walk()
    charts = {p.parent: _get(walk.yaml_docs(p, t), 0, "name") for p in walk.files if p.name == "Chart.yaml" and (t := walk.text(p))}
    for path in walk.files:
        name, suffix = path.name, path.suffix
        lower = name.lower()
        key = DOCS.get(lower)
        rel_parts = path.relative_to(walk.root).parts
        if key and key not in walk.found.docs and (len(rel_parts) == 1 or len(rel_parts) == 2 and rel_parts[0] in ("docs", "doc")):
            walk.found.docs[key] = path.relative_to(walk.root).as_posix()
        if name == "Procfile":
            if (text := walk.text(path)) is not None:
                _procfile(walk, path, text)
        elif name == "app.json":
            if (text := walk.text(path)) is not None:
                _app_json(walk, path, text)
        elif name in ("pyproject.toml", "requirements.txt", "setup.py", "Pipfile", "package.json", "go.mod"):
            if (text := walk.text(path)) is not None:
                _manifest(walk, path, text)
        elif lower in ENV_FILES:
            if (text := walk.text(path)) is not None:
                _env_example(walk, path, text)
        elif suffix in CODE:
            if (text := walk.text(path)) is not None:
                _code(walk, path, text)
        elif suffix == ".json" and "task" in lower or suffix == ".json" and "ecs" in path.as_posix().lower():
            if (text := walk.text(path)) is not None and "containerDefinitions" in text:
                try:
                    data = json.loads(text)
                except (json.JSONDecodeError, RecursionError):
                    walk.skip(path, "not valid JSON")
                    continue
                data = data.get("taskDefinition", data) if isinstance(data, dict) else data
                if isinstance(data, dict):
                    _task_definition(walk, path, text, data)
        elif suffix in (".yml", ".yaml"):
            _yaml_file(walk, path, charts)
    _finish(walk)
    return walk.found


def _yaml_file(walk: _Walk, path: Path, charts: dict[Path, Any]) -> None:
    rel = path.relative_to(walk.root).as_posix()
    if "/templates/" in f"/{rel}" and path.parent.parent in charts:
        return  # a Helm template: read through values.yaml
    text = walk.text(path)
    if text is None:
        return
    docs = walk.yaml_docs(path, text)
    if not docs:
        return
    first = docs[0]
    if rel.startswith(".github/workflows/"):
        _github(walk, path, first)
    elif path.name == ".gitlab-ci.yml":
        _gitlab(walk, path, first)
    elif path.name in ("serverless.yml", "serverless.yaml"):
        _serverless(walk, path, first)
    elif isinstance(first, dict) and "AWS::Serverless" in str(first.get("Transform", "")):
        _sam(walk, path, first)
    elif path.name.startswith(("docker-compose", "compose")):
        _compose(walk, path, first)
    elif path.name in ("values.yaml", "values.yml") and path.parent in charts:
        chart = charts[path.parent]
        _helm_values(walk, path, first, _clean(chart, 63) if isinstance(chart, str) else None)
    elif path.name == "Chart.yaml":
        walk.platforms.append(("kubernetes", walk.src(path, 1)))
        desc = _get(first, "description")
        if isinstance(desc, str) and desc.strip():
            walk.found.values.setdefault("description", Value(_clean(desc, 300), walk.src(path, _line(first, "description"))))
    else:
        for doc in docs:
            if not _kubernetes(walk, path, doc):
                _prometheus(walk, path, doc)


def _finish(walk: _Walk) -> None:
    """Settle the platform (the first evidence of the most evident one), datastores, health."""
    found = walk.found
    if walk.platforms:
        counts: dict[str, int] = {}
        for p, _ in walk.platforms:
            counts[p] = counts.get(p, 0) + 1
        best = max(counts, key=lambda p: (counts[p], -[x for x, _ in walk.platforms].index(p)))
        found.values["platform"] = Value(best, next(s for p, s in walk.platforms if p == best))
    platform = found.values["platform"].value if "platform" in found.values else None
    for what, source in walk.datastores.items():
        service = DATASTORE_SERVICE.get((what, platform)) or DATASTORE_SERVICE.get((what, None))
        if service:
            found.datastores.setdefault(service, source)
    # a web service without a probe in its manifest: the health route the code serves
    health = {p: s for p, s in reversed(walk.health)}
    ready = next(((p, s) for p, s in health.items() if "read" in p), None)
    live = next(((p, s) for p, s in health.items() if "read" not in p), None)
    port = found.values.pop("port", None)
    services = []
    for svc in found.services:
        if svc.kind == "web":
            extra: dict[str, Any] = {}
            if svc.health is None and live:
                extra |= {"health": live[0], "health_source": live[1]}
            if svc.readiness is None and (ready or svc.health or live):
                r = ready or ((svc.health, svc.health_source) if svc.health else live)
                extra |= {"readiness": r[0], "readiness_source": r[1]} if r else {}
            if svc.port is None and port is not None:
                extra |= {"port": port.value, "port_source": port.source}
            svc = DetectedService(**{**svc.__dict__, **extra})
        services.append(svc)
    found.services = services
