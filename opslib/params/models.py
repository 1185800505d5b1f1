"""Project parameters: the schema of `parameters/<project>.yaml` and its only reader.

`load_params(path)` parses the file, validates it against `ProjectParams` (pydantic v2,
unknown keys forbidden) and reports every mistake at once, each with its line and field
path, as one `ParamsError`.

Limits, checked before the schema (limit_problems): a string holds at most MAX_STRING
characters and no control character other than tab and line break; a number is finite and
within ±MAX_NUMBER (so a product of prices, quantities and factors stays a finite float).
Every value that lands in a generated command is validated by its type (regions, platform
targets, image references, artifacts, probe paths, base URLs): only characters a shell does
not interpret, never a leading dash. Messages name the field and never repeat its value.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails

from opslib.catalog.catalog import Catalog, open_catalog
from opslib.catalog.secrets import redact
from opslib.core.cron import parse_cron
from opslib.core.yamlio import error_message, key_path, line_of, read_yaml
from opslib.errors import ParamsError
from opslib.params import actuals as actuals_schema
from opslib.params import ci as ci_schema
from opslib.params import cost as cost_schema
from opslib.params import dependencies as dependency_schema
from opslib.params import knowledge as knowledge_schema
from opslib.params import readiness as readiness_schema
from opslib.params import secrets as secret_schema

__all__ = ["SCHEMA_VERSION", "MAX_NUMBER", "MAX_STRING", "KINDS", "DEFAULT_BUCKETS_MS", "WINDOW", "RESOURCE", "Datastore", "Environment", "ProjectParams",
           "Service", "Slo", "load_params", "params_hash", "is_url", "limit_problems", "validation_problems", "catalog_folders", "catalog_in"]

SCHEMA_VERSION = 1
MAX_STRING = 10_000
MAX_NUMBER = 10**15
MAX_PARAMS_BYTES = 1_000_000
MAX_OBJECTIVE = 99.999
MAX_PROBLEM = 400
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
# characters a shell leaves alone outside quotes (no $ ` ' " \\ ; & | < > ( ) { } [ ] * ? ! # or blanks)
_WORD = r"[A-Za-z0-9_@%+=:,./~][A-Za-z0-9_@%+=:,./~-]*"

Slug = Annotated[
    str,
    Field(pattern=r"^[a-z][a-z0-9-]{0,62}$", description="lower-case name: letters, digits and dashes"),
]


RESOURCE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]|\{env\}){0,254}$")


def is_url(value: str) -> bool:
    return bool(re.match(r"^https?://[^\s/]+", value))


_HOST = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*(:\d{1,5})?")
_URL_UNSAFE = re.compile(r"[\s\x00-\x1f\x7f\"'<>\\^`{}|]")


def _http_url(value: str) -> str:
    parts = urlsplit(value) if is_url(value) else None
    if parts is None or not _HOST.fullmatch(parts.netloc) or _URL_UNSAFE.search(value):
        raise ValueError("must be an http(s) URL such as https://example.com/path: a host name, then no spaces, quotes, "
                         "backslashes, backticks or <>{}|^ (percent-encode them)")
    return value.rstrip("/")


def _base_url(value: str) -> str:
    value = _http_url(value)
    if not re.fullmatch(r"https?://[^/?#]+(/[A-Za-z0-9._~%+=:@,/-]*)?", value):
        raise ValueError("must be a base URL such as https://shop.example.com or https://example.com/api: no query, fragment or "
                         "shell characters ($ ; & ( ) ! * …), as it is used in commands")
    return value


Url = Annotated[str, AfterValidator(_http_url)]
BaseUrl = Annotated[str, AfterValidator(_base_url)]
# (pattern, what it means): a value that lands in commands; a mismatch says what it must be (never the value)
_REGION = (r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$", "a cloud region: letters, digits, dots, dashes and underscores, e.g. us-east-1")
_TARGET = (rf"^{_WORD}( {_WORD})*$", "a name, path, URL or space-separated list of them, as used in commands: letters, digits "
           "and _@%+=:,./~- (no shell characters), not starting with a dash")
_IMAGE = (r"^([A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*(:\d{1,5})?/)?"
          r"[a-z0-9]+([._-]{1,2}[a-z0-9]+)*(/[a-z0-9]+([._-]{1,2}[a-z0-9]+)*)*$",
          "a container image repository without tag, e.g. ghcr.io/acme/api or 123456789012.dkr.ecr.us-east-1.amazonaws.com/shop/api")
_ARTIFACT = (r"^[A-Za-z0-9_.~][A-Za-z0-9_@%+=:,./~-]*$", "a file name, path or URL: letters, digits and _@%+=:,./~- "
             "(no shell characters), not starting with a dash")
_PROBE = (r"^/[A-Za-z0-9._~%+=:@,/?&-]*$", "an HTTP path starting with /, e.g. /health or /ready?full=1 (no spaces, quotes or "
          "other shell characters)")
_PREFIX = (r"^(/[A-Za-z0-9._~-]+)+$", "a path prefix such as /api/catalog: segments of letters, digits and ._~- each after a /, "
           "no trailing slash, query or shell characters")
PATTERN_HINTS = {pattern: f"must be {hint}" for pattern, hint in (_REGION, _TARGET, _IMAGE, _ARTIFACT, _PROBE, _PREFIX)}
Region = Annotated[str, Field(pattern=_REGION[0], max_length=63, description=_REGION[1])]
TargetValue = Annotated[str, Field(pattern=_TARGET[0], max_length=1000, description=_TARGET[1])]
ImageRef = Annotated[str, Field(pattern=_IMAGE[0], max_length=255, description=_IMAGE[1])]
ArtifactPath = Annotated[str, Field(pattern=_ARTIFACT[0], max_length=500, description=_ARTIFACT[1])]
ProbePath = Annotated[str, Field(pattern=_PROBE[0], max_length=500, description=_PROBE[1])]
PathPrefix = Annotated[str, Field(pattern=_PREFIX[0], max_length=200, description=_PREFIX[1])]


def catalog_folders(values: Any, base_dir: Path | str | None) -> tuple[Path, ...]:
    """The `catalogs:` folders that exist, resolved against the parameters file's folder."""
    base = Path(base_dir) if base_dir is not None else Path.cwd()
    out = []
    for value in values if isinstance(values, list) else []:
        if isinstance(value, str) and value.strip():
            path = Path(value.strip())
            path = path if path.is_absolute() else base / path
            if path.is_dir():
                out.append(path)
    return tuple(out)


def _catalog_folder(value: str, info: ValidationInfo) -> str:
    base = (info.context or {}).get("base_dir")
    path = Path(value)
    if base is not None and not path.is_absolute():
        path = Path(base) / path
    if not path.is_dir():
        raise ValueError(f"folder {value!r} does not exist (relative to the parameters file); fix the path or create the folder")
    return value


CatalogFolder = Annotated[str, AfterValidator(_catalog_folder)]


def catalog_in(info: ValidationInfo) -> Catalog:
    """The catalog a validator checks names against: the project's (load_params puts it into the
    validation context), else the shipped one."""
    context = info.context if isinstance(info.context, dict) else {}
    return context.get("catalog") or open_catalog()


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Links(Model):
    architecture: str = Field(description="architecture.md: a path relative to the parameters file, or an https URL")
    plan: str = Field(description="plan.md: a path relative to the parameters file, or an https URL")
    spec: str = Field(description="spec.md: a path relative to the parameters file, or an https URL")

    @field_validator("architecture", "plan", "spec")
    @classmethod
    def _exists(cls, value: str, info: ValidationInfo) -> str:
        base = (info.context or {}).get("base_dir")
        if base is not None and not is_url(value) and not (Path(base) / value).is_file():
            raise ValueError(f"file {value!r} does not exist (relative to the parameters file); fix the path or create the file")
        return value


class Project(Model):
    name: Slug = Field(description="project name, used in resource names (e.g. shop-platform)")
    description: str = Field(min_length=1, description="one sentence: what the service does and for whom")
    repository: Url = Field(description="URL of the source repository")
    team: str = Field(min_length=1, description="owning team")
    as_of: date = Field(description="date the parameters were last reviewed; every document shows it as its 'as of' date")
    links: Links = Field(description="the project's architecture, plan and spec documents")
    status_file: str | None = Field(
        default=None,
        description="path of the project's status.json, relative to the parameters file; without it the documents say the project's "
                    "status was not checked, and `opslib plan` refuses (a release is planned behind the status.json gate)",
    )

    @field_validator("status_file")
    @classmethod
    def _status_exists(cls, value: str | None, info: ValidationInfo) -> str | None:
        base = (info.context or {}).get("base_dir")
        if value is not None and base is not None and not (Path(base) / value).is_file():
            raise ValueError(f"file {value!r} does not exist (relative to the parameters file); fix the path or create status.json")
        return value


class Replicas(Model):
    min: int = Field(ge=0, description="fewest instances (replicas, dynos, concurrency floor) kept running")
    max: int = Field(ge=1, description="most instances auto-scaling may start; the cost ceiling")

    @model_validator(mode="after")
    def _ordered(self) -> Replicas:
        if self.max < self.min:
            raise ValueError(f"max ({self.max}) must be ≥ min ({self.min})")
        return self


class Environment(Model):
    name: Slug = Field(description="environment name: dev, staging, prod, …")
    url: BaseUrl | None = Field(
        default=None,
        description="public base URL of the environment; needed when the project has a web service, left out when nothing is served publicly",
    )
    region: Region = Field(description="cloud region, e.g. us-east-1")
    replicas: Replicas = Field(description="instance range per service")
    approval_required: bool = Field(description="whether a deploy needs a named approver (true for production)")
    target: dict[str, TargetValue] = Field(
        default_factory=dict,
        description="platform names for this environment (e.g. namespace, app); defaults come from the platform catalog",
    )



class Probe(Model):
    path: ProbePath = Field(description="HTTP path, starting with /")
    expected_status: int = Field(default=200, ge=100, le=599, description="HTTP status a healthy service returns")
    expected_body: str = Field(min_length=1, description="response body (or a fragment of it) a healthy service returns")


class HealthCommand(Model):
    command: str = Field(min_length=1, description="command run inside a running instance of the worker; exit status 0 means healthy, e.g. 'python -m app.health'")
    expected: str = Field(min_length=1, description="what a healthy instance prints, e.g. 'ok: consumer connected, lag 3'")


class MetricsEndpoint(Model):
    port: int = Field(ge=1, le=65535, description="port of the Prometheus metrics endpoint inside the instance")
    path: str = Field(default="/metrics", pattern=r"^/[A-Za-z0-9._~/%-]*$", description="path of the metrics endpoint")


class Route(Model):
    """Where a web service is reachable, like a Kubernetes Ingress path or a ClusterIP-only Service.
    Without a route a web service is served at its environment's URL (one web service per URL)."""

    path: PathPrefix | None = Field(
        default=None,
        description="public, under the environment's URL at this path prefix (the ingress or load balancer routes <env url><path> "
                    "to the service, so its health is checked at <env url><path><health path>), e.g. /api/catalog",
    )
    urls: dict[str, BaseUrl] | None = Field(
        default=None,
        description="public at its own base URL, one per environment ({dev: https://catalog.dev.example.com, prod: …}); "
                    "its health is checked at <url><health path>",
    )
    internal: bool = Field(
        default=False,
        description="true: its health and readiness paths are not routed publicly (a cluster-internal service that only other services "
                    "call, or one whose only public route is a webhook path); its health is checked from inside the platform "
                    "(port-forward, exec), as the platform catalog's web.internal says",
    )

    @model_validator(mode="after")
    def _one(self) -> Route:
        chosen = [f for f in ("path", "urls") if getattr(self, f) is not None] + (["internal"] if self.internal else [])
        if len(chosen) != 1:
            raise ValueError("set exactly one of path, urls or internal: true (leave route out to serve the service at the environment's URL)")
        return self


KINDS = ("web", "worker", "job")
_KIND_FIELDS = {
    "web": ("port", "health", "readiness", "route"),
    "worker": ("consumes", "health_command", "metrics"),
    "job": ("schedule", "command", "done_when", "timeout_minutes", "smoke_run"),
}


class Service(Model):
    name: Slug = Field(description="service name as deployed (deployment, process type, function, unit or schedule name)")
    kind: Literal["web", "worker", "job"] = Field(
        default="web",
        description=(
            "web serves HTTP (health: liveness and readiness probes); worker consumes a queue or stream (health: a command "
            "run inside an instance and/or a metrics endpoint, and the queue's age); job runs on a schedule (health: the "
            "last successful run within its schedule)"
        ),
    )
    port: int | None = Field(default=None, ge=1, le=65535, description="port the service listens on (web services)")
    health: Probe | None = Field(default=None, description="liveness endpoint: is the process alive (web services)")
    readiness: Probe | None = Field(default=None, description="readiness endpoint: can it serve traffic, dependencies reachable (web services)")
    route: Route | None = Field(
        default=None,
        description="web services: where it is reachable — a path prefix under the environment's URL, its own URL per environment, "
                    "or internal only; default the environment's URL (give every other web service of the project a route)",
    )
    consumes: str | None = Field(
        default=None, description="worker: the datastore (a queue of datastores:) it consumes; its depth, age and dead letters are the worker's alerts"
    )
    health_command: HealthCommand | None = Field(default=None, description="worker: the health command run inside a running instance, and its healthy output")
    metrics: MetricsEndpoint | None = Field(default=None, description="worker: its Prometheus metrics endpoint inside the instance")
    schedule: str | None = Field(
        default=None, description="job: when it runs, a five-field cron expression in UTC (e.g. '30 2 * * *' is 02:30 daily) or @hourly/@daily/@weekly"
    )
    command: str | None = Field(default=None, description="job: the command one run executes (e.g. 'python -m app.nightly_export'); platforms that start runs themselves need it")
    done_when: str | None = Field(
        default=None, description="job: what a successful run means, as the on-call engineer checks it (exit status 0 and what it leaves behind)"
    )
    timeout_minutes: int | None = Field(default=None, ge=1, le=1440, description="job: how long one run may take; the run-duration alert fires beyond it (default 60)")
    smoke_run: bool | None = Field(
        default=None,
        description="job: whether the smoke test after a deploy triggers one run (default true); false for a job that must not run off schedule "
        "(it bills, e-mails or is not idempotent): the smoke test then only checks the schedule points at the release",
    )
    image: ImageRef | None = Field(default=None, description="container image repository, without tag")
    artifact: ArtifactPath | None = Field(default=None, description="build artifact (zip, tarball, slug) when not containerized")

    @field_validator("schedule")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        if value is not None:
            parse_cron(value)
        return value

    @model_validator(mode="after")
    def _shape(self) -> Service:
        problems = []
        needed = {"web": ("port", "health", "readiness"), "worker": (), "job": ("schedule", "done_when")}[self.kind]
        missing = [f for f in needed if getattr(self, f) is None]
        if missing:
            problems.append(f"a {self.kind} service needs {', '.join(missing)}; add {'it' if len(missing) == 1 else 'them'} or change kind")
        foreign = [f for kind, fields in _KIND_FIELDS.items() if kind != self.kind for f in fields if getattr(self, f) is not None]
        for f in foreign:
            owner = next(k for k, fields in _KIND_FIELDS.items() if f in fields)
            problems.append(f"{f} applies to {owner} services, not to a {self.kind}; remove it or set kind: {owner}")
        if (self.image is None) == (self.artifact is None):
            problems.append("set exactly one of image or artifact")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def internal(self) -> bool:
        """A web service with no public route (route.internal)."""
        return self.route is not None and self.route.internal

    def url_in(self, env: Environment) -> str | None:
        """The public base URL of a web service in `env` (its route's own URL, the environment's URL
        with its path prefix, or the environment's URL); None for an internal one or another kind."""
        if self.kind != "web" or self.internal:
            return None
        if self.route is not None and self.route.urls is not None:
            return self.route.urls.get(env.name)
        if env.url is None:
            return None
        return env.url + (self.route.path if self.route is not None and self.route.path else "")

    @property
    def job_timeout_minutes(self) -> int:
        """How long one run of a job may take (timeout_minutes, default 60)."""
        return self.timeout_minutes or 60

    @property
    def smoke_test(self) -> bool:
        """A job's smoke test triggers one run (unless smoke_run: false)."""
        return self.smoke_run is not False

    @property
    def long_running(self) -> bool:
        """web and worker services run all the time; jobs only while a run lasts."""
        return self.kind != "job"


class Datastore(Model):
    name: Slug = Field(description="datastore name (database, cache or queue)")
    service: str = Field(description="managed service from opslib/data/datastores.yaml, e.g. aws-rds-postgresql")
    migration_tool: str | None = Field(default=None, description="schema migration tool from opslib/data/migration-tools.yaml")
    backup_schedule: str | None = Field(default=None, description="when backups run and how long they are kept, e.g. 'daily 03:00 UTC, 7 days'")
    resource_name: str | dict[str, str] | None = Field(
        default=None,
        description=(
            "the real identifier of the resource (RDS instance, queue, bucket, table, cache cluster, Heroku add-on): "
            "one name with {env} standing for the environment name (e.g. shop-{env}-db), or one name per environment "
            "({prod: orders, staging: orders-stg}); default <project>-<env>-<name> (e.g. shop-platform-prod-shop-db)"
        ),
    )

    @field_validator("resource_name")
    @classmethod
    def _resource(cls, value: str | dict[str, str] | None) -> str | dict[str, str] | None:
        for name in ([value] if isinstance(value, str) else list(value.values()) if value else []):
            if not RESOURCE.match(name):
                raise ValueError(f"{name!r} is not a resource name: use letters, digits, '.', '_', '-' and {{env}} (at most 255 characters)")
        return value

    def resource_for(self, project: str, env: str) -> str:
        """The datastore's name in environment `env` (resource_name, else <project>-<env>-<name>)."""
        if isinstance(self.resource_name, dict):
            return self.resource_name[env]
        return (self.resource_name or f"{project}-{{env}}-{self.name}").replace("{env}", env)

    @field_validator("service")
    @classmethod
    def _known_service(cls, value: str, info: ValidationInfo) -> str:
        known = catalog_in(info).datastore_services()
        if value not in known:
            raise ValueError(f"unknown datastore service {value!r}; use one of: {', '.join(sorted(known))}")
        return value

    @field_validator("migration_tool")
    @classmethod
    def _known_tool(cls, value: str | None, info: ValidationInfo) -> str | None:
        tools = catalog_in(info).migration_tools()
        if value is not None and value not in tools:
            raise ValueError(f"unknown migration tool {value!r}; use one of: {', '.join(sorted(tools))}")
        return value


WINDOW = re.compile(r"\{\{\s*window\s*\}\}")
_LE = re.compile(r'\ble\s*=~?\s*"([^"]*)"')
_HISTOGRAM = re.compile(r"([A-Za-z_:][A-Za-z0-9_:]*)_bucket\b")
DEFAULT_BUCKETS_MS = (5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000)


class Slo(Model):
    name: str = Field(min_length=1, description="what the objective protects, e.g. 'checkout availability'")
    sli: Literal["availability", "latency", "custom"] = Field(
        description=(
            "availability: share of non-5xx responses of the web services (http_requests_total); latency: share of web "
            "requests faster than threshold_ms (http_request_duration_seconds); custom: good ÷ total from your own "
            "expressions (any metric: messages processed, job runs, a platform metric)"
        )
    )
    objective: float = Field(description="target in percent over the window, above 0 and at most 99.999, e.g. 99.9")
    threshold_ms: int | None = Field(default=None, gt=0, description="latency threshold in milliseconds (latency SLOs)")
    good: str | None = Field(
        default=None,
        description=(
            "custom SLOs: PromQL rate of good events with the range written {{ window }}, e.g. "
            "sum(rate(worker_messages_total{job=\"orders\",outcome=\"success\"}[{{ window }}]))"
        ),
    )
    total: str | None = Field(
        default=None, description="custom SLOs: PromQL rate of all events with the range written {{ window }}, e.g. sum(rate(worker_messages_total{job=\"orders\"}[{{ window }}]))"
    )
    unit: str = Field(default="", description="custom SLOs: what one event is, in the plural, e.g. 'messages' or 'job runs' (documents say '99.9% of messages …'); default 'events'")
    buckets: list[float] | None = Field(
        default=None, min_length=1, max_length=100,
        description=(
            "custom SLOs that read a histogram bucket (good: …_bucket{…,le=\"180\"}): the bucket boundaries the histogram exports "
            "(at least those the expressions read), in its own unit (seconds for a *_seconds histogram), e.g. [30, 60, 180, 300]; every le the expressions "
            "read must be one of them (alerts.yml states them), as monitoring.latency_buckets_ms does for latency SLOs"
        ),
    )
    window_days: int = Field(default=30, ge=1, le=90, description="rolling window of the objective in days")

    @field_validator("objective")
    @classmethod
    def _objective(cls, value: float) -> float:
        if not 0 < value <= MAX_OBJECTIVE:
            raise ValueError(f"must be above 0 and at most {MAX_OBJECTIVE} (five nines): a smaller error budget cannot be alerted on "
                             "from request metrics (the alert rules would be empty)")
        return value

    @model_validator(mode="after")
    def _shape(self) -> Slo:
        problems = []
        if self.sli == "latency" and self.threshold_ms is None:
            problems.append("a latency SLO needs threshold_ms")
        if self.sli != "latency" and self.threshold_ms is not None:
            problems.append("threshold_ms applies to latency SLOs only; remove it")
        if self.sli == "custom":
            for field in ("good", "total"):
                value = getattr(self, field)
                if value is None:
                    problems.append(f"a custom SLO needs {field} (a PromQL rate over [{{{{ window }}}}])")
                elif not WINDOW.search(value):
                    problems.append(f"{field} must use the range {{{{ window }}}} (e.g. [{{{{ window }}}}]) so each burn-rate window can be filled in")
            problems += self._bucket_problems()
        elif self.good is not None or self.total is not None or self.unit or self.buckets is not None:
            problems.append("good, total, unit and buckets apply to custom SLOs only; remove them or set sli: custom")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def _bucket_problems(self) -> list[str]:
        """Every le a custom SLO's expressions read is one of its declared buckets (when it declares them)."""
        if self.buckets is None:
            return []
        out = []
        if any(not math.isfinite(b) or b <= 0 for b in self.buckets) or self.buckets != sorted(set(self.buckets)):
            out.append("buckets must be positive, finite and strictly increasing, as the histogram exports them")
        for field in ("good", "total"):
            for value in _LE.findall(getattr(self, field) or ""):
                try:
                    le = float(value)
                except ValueError:
                    le = math.nan
                if value not in ("+Inf", "Inf") and le not in self.buckets:
                    out.append(f"{field} reads le=\"{value[:20]}\", which is not one of buckets; use a declared bucket or add it to buckets")
        return out

    @property
    def histograms(self) -> list[str]:
        """The histograms (metric names without _bucket) a custom SLO's expressions read a bucket of."""
        return sorted({m for f in (self.good, self.total) for m in _HISTOGRAM.findall(f or "")})

    @property
    def latency_ms(self) -> int:
        """threshold_ms of a latency SLO (which the validator makes sure it has); ValueError otherwise."""
        if self.threshold_ms is None:
            raise ValueError(f"SLO {self.name!r} ({self.sli}) has no threshold_ms")
        return self.threshold_ms

    @property
    def events(self) -> str:
        """What one event of the SLI is, in the plural (requests for the HTTP SLIs)."""
        return "requests" if self.sli != "custom" else (self.unit or "events")


class Dashboard(Model):
    name: str = Field(min_length=1, description="dashboard title")
    url: Url = Field(description="link to the dashboard")



class LogTool(Model):
    name: str = Field(min_length=1, description="log aggregation tool, e.g. Grafana Loki, Papertrail, CloudWatch Logs Insights")
    url: Url = Field(description="link to the log search")
    query: str = Field(min_length=1, description="a query that shows this project's production errors")
    retention_days: int = Field(ge=1, description="how long logs are kept")



class Monitoring(Model):
    metrics_tool: str = Field(min_length=1, description="where metrics live, e.g. Prometheus + Grafana, Datadog, CloudWatch")
    slos: list[Slo] = Field(min_length=1, description="service level objectives the alert thresholds derive from")
    latency_buckets_ms: list[int] = Field(
        default=list(DEFAULT_BUCKETS_MS),
        min_length=1,
        description=(
            "bucket boundaries (le, in ms) of the services' http_request_duration_seconds histogram; a latency SLO's threshold "
            "must be one of them to be measurable (default: the Prometheus client libraries' default buckets 5 ms … 10 s)"
        ),
    )
    dashboards: list[Dashboard] = Field(min_length=1, description="dashboards on-call engineers open first")
    logs: LogTool = Field(description="log aggregation")


class OnCall(Model):
    rotation: str = Field(min_length=1, description="on-call schedule name, e.g. PagerDuty 'shop-primary'")
    url: Url = Field(description="link to the schedule")


class Channel(Model):
    purpose: str = Field(min_length=1, description="what the channel is for, e.g. incidents, deploys")
    name: str = Field(min_length=1, description="channel or address, e.g. #shop-incidents")


class EscalationStep(Model):
    after_minutes: int = Field(ge=0, description="minutes after the page when this step is taken")
    who: str = Field(min_length=1, description="role or team, e.g. 'Primary on-call'")
    contact: str = Field(min_length=1, description="how to reach them: pager, channel, phone bridge or e-mail")


class Contacts(Model):
    on_call: OnCall = Field(description="who is paged")
    channels: list[Channel] = Field(min_length=1, description="chat channels and mailing lists")
    escalation: list[EscalationStep] = Field(min_length=1, description="escalation chain, earliest step first")

    @field_validator("escalation")
    @classmethod
    def _increasing(cls, steps: list[EscalationStep]) -> list[EscalationStep]:
        minutes = [s.after_minutes for s in steps]
        if minutes != sorted(minutes) or len(set(minutes)) != len(minutes):
            raise ValueError(f"after_minutes must strictly increase along the chain (got {minutes})")
        return steps


class Deploy(Model):
    strategy: Literal["rolling", "blue-green", "canary", "recreate"] = Field(description="how a new version replaces the old one")
    expected_minutes: int = Field(ge=1, le=480, description="how long one environment's deploy takes, start to verified")
    canary_steps: list[int] = Field(default=[10, 25, 50, 100], description="canary traffic percentages, increasing, ending at 100")
    observe_minutes: int = Field(default=10, ge=0, le=240, description="minutes to watch dashboards after a production deploy")

    @field_validator("canary_steps")
    @classmethod
    def _steps(cls, steps: list[int]) -> list[int]:
        if not steps or steps != sorted(set(steps)) or steps[-1] != 100 or steps[0] <= 0:
            raise ValueError(f"must be increasing percentages between 1 and 100 that end at 100 (got {steps})")
        return steps


class ProjectParams(Model):
    """One project's parameters: everything the documents are generated from."""

    schema_version: Literal[1] = Field(description="version of this schema; 1")
    project: Project = Field(description="what the project is and where its other documents live")
    platform: str = Field(
        description="where it runs: a platform folder of opslib/data/platforms (kubernetes, heroku, aws-lambda, vm-systemd, …) or of one of the catalogs"
    )
    catalogs: list[CatalogFolder] = Field(
        default_factory=list,
        description=(
            "folders of the project's own catalogs, relative to the parameters file: platforms/<name>/ (a platform folder, "
            "see opslib/data/platforms/README.md), troubleshooting.yaml, pricing.csv and secret-kinds.yaml, each adding to "
            "the shipped catalogs or replacing an entry of the same name; a later folder wins over an earlier one"
        ),
    )
    environments: list[Environment] = Field(min_length=1, description="environments in promotion order, e.g. dev, staging, prod")
    services: list[Service] = Field(min_length=1, description="deployable services, in deployment order")
    datastores: list[Datastore] = Field(default_factory=list, description="databases, caches and queues the services use")
    monitoring: Monitoring = Field(description="SLOs, dashboards and logs")
    contacts: Contacts = Field(description="on-call rotation, channels and escalation chain")
    deploy: Deploy = Field(description="deployment strategy and timing")
    cost: cost_schema.CostSection | None = Field(default=None, description="cost model: usage drivers, components, budgets (cost-plan.md)")
    secrets: secret_schema.SecretsSection | None = Field(default=None, description="secret inventory: names and metadata, never values (secrets.md)")
    ci: ci_schema.CiSection | None = Field(default=None, description="CI/CD pipeline and service-alert settings (pipeline.md, ci/, alerts.yml); every field has a default")
    actuals: actuals_schema.ActualsSection | None = Field(default=None, description="FOCUS billing exports and their attribution: actual spend against the estimate and the budgets (cost-report.md)")
    dependencies: list[dependency_schema.Dependency] = Field(
        default_factory=list,
        description="third-party services the project calls (payments, e-mail, data and model providers): purpose, status page, limits, "
        "timeouts, fallback, pricing and secrets; they feed the runbook's troubleshooting, alerts.yml, the cost plan and the secret cross-check",
    )
    knowledge: knowledge_schema.Knowledge | None = Field(
        default=None,
        description="the team's own troubleshooting entries, procedures and alerts (inline or in a file beside the parameters), in the shape of the shipped catalog entries",
    )
    readiness: readiness_schema.ReadinessSection | None = Field(
        default=None,
        description="the readiness review's evidence: a file (YAML or JSON, beside the parameters) of who verified each item, when, the result and a link, "
        "and the sign-off; evidence older than max_age_days before project.as_of is stale",
    )

    _path: Path | None = PrivateAttr(default=None)

    @property
    def path(self) -> Path | None:
        """The parameters file this was loaded from (None when built in code)."""
        return self._path

    @property
    def base_dir(self) -> Path:
        return self._path.parent if self._path is not None else Path.cwd()

    @property
    def catalog(self) -> Catalog:
        """The shipped catalogs plus the project's own folders (`catalogs`), cached per folder set."""
        return open_catalog(catalog_folders(self.catalogs, self.base_dir))

    @property
    def cost_components(self) -> list[cost_schema.Component]:
        """The cost model's components, then the lines the dependencies' pricing makes (third-party services)."""
        return [*(self.cost.components if self.cost else []), *dependency_schema.cost_items(self)[0]]

    @property
    def cost_price_entries(self) -> list[cost_schema.PriceEntry]:
        """Prices the dependencies' pricing gives (fixed fees, per-unit prices not in a catalog)."""
        return dependency_schema.cost_items(self)[1]

    @property
    def project_folder(self) -> Path:
        """The project's own folder (what the secret scan reads): the folder of its status.json,
        else the folder above parameters/ (or the parameters file's folder)."""
        if self.project.status_file is not None:
            return (self.base_dir / self.project.status_file).resolve().parent
        return self.base_dir.parent if self.base_dir.name == "parameters" else self.base_dir

    @property
    def production(self) -> Environment:
        """The last environment in promotion order."""
        return self.environments[-1]

    def environment(self, name: str) -> Environment:
        for env in self.environments:
            if env.name == name:
                return env
        raise KeyError(name)

    @model_validator(mode="before")
    @classmethod
    def _open_catalog(cls, data: Any, info: ValidationInfo) -> Any:
        """Put the project's catalog into the validation context, for the validators of every section."""
        if isinstance(info.context, dict) and "catalog" not in info.context and isinstance(data, dict):
            info.context["catalog"] = open_catalog(catalog_folders(data.get("catalogs"), info.context.get("base_dir")))
        return data

    @field_validator("platform")
    @classmethod
    def _known_platform(cls, value: str, info: ValidationInfo) -> str:
        names = catalog_in(info).platform_names()
        if value not in names:
            raise ValueError(f"unknown platform {value!r}; use one of: {', '.join(names)} (or add its folder under platforms/ of a catalog)")
        return value

    @field_validator("environments", "services", "datastores")
    @classmethod
    def _unique_names(cls, items: list, info: ValidationInfo) -> list:
        seen: set[str] = set()
        for item in items:
            if item.name in seen:
                raise ValueError(f"{item.name!r} is named twice; give each entry of {info.field_name} its own name")
            seen.add(item.name)
        return items

    @model_validator(mode="after")
    def _platform_fit(self, info: ValidationInfo) -> ProjectParams:
        context = info.context if isinstance(info.context, dict) else {}
        catalog = context.get("catalog") or open_catalog(catalog_folders(self.catalogs, context.get("base_dir")))
        platform = catalog.platform(self.platform)
        problems = []
        for i, env in enumerate(self.environments):
            unknown = sorted(set(env.target) - set(platform.target))
            if unknown:
                problems.append(
                    f"environments[{i}].target: unknown key(s) {', '.join(unknown)} for platform {self.platform}; "
                    f"use {', '.join(sorted(platform.target))}"
                )
        if self.deploy.strategy not in platform.deploy:
            problems.append(
                f"deploy.strategy: {self.platform} has no {self.deploy.strategy!r} procedure; "
                f"use one of {', '.join(sorted(platform.deploy))}"
            )
        if platform.requires_image and any(s.image is None for s in self.services):
            problems.append(f"services: platform {self.platform} deploys container images; set image on every service")
        problems += self._kind_problems(catalog, platform)
        if not context.get("preview"):  # the runbook notebook previews a project on another platform: its stores may not fit there
            problems += secret_schema.platform_problems(self, catalog)
        problems += dependency_schema.cross_problems(self, {k for k, v in catalog.secret_kinds.items() if v.get("third_party")}, catalog.prices)
        problems += (cost_schema.cross_problems(self, catalog.prices) + secret_schema.cross_problems(self) + ci_schema.cross_problems(self)
                     + actuals_schema.cross_problems(self))
        if problems:
            raise ValueError(" | ".join(problems))
        return self


    def _route_problems(self, platform: Any) -> list[str]:
        """Each web service reachable at its own endpoint: one at the environment's URL, the others
        routed by path, by their own URLs (one per environment) or internal where the platform can check them."""
        problems = []
        envs = [e.name for e in self.environments]
        at_root = [s.name for s in self.services if s.kind == "web" and s.route is None]
        paths: dict[str, str] = {}
        for i, s in enumerate(self.services):
            route = s.route
            if route is None:
                if len(at_root) > 1 and s.name != at_root[0]:
                    problems.append(f"services[{i}].route: missing; {at_root[0]} is already served at the environment's URL, so give {s.name} "
                                    "a route (path, urls or internal: true) to check each web service at its own endpoint")
                continue
            cap = platform.web.internal
            if route.internal and (cap is None or cap.unsupported):
                why = cap.unsupported if cap is not None and cap.unsupported else "its catalog has no web.internal steps"
                problems.append(f"services[{i}].route.internal: {self.platform} cannot check an internal web service ({why}); "
                                "give it a path or urls instead")
            if route.urls is not None:
                missing, unknown = [e for e in envs if e not in route.urls], sorted(set(route.urls) - set(envs))
                if missing or unknown:
                    problems.append(f"services[{i}].route.urls: " + "; ".join(
                        ([f"no URL for {', '.join(missing)}"] if missing else []) + ([f"{', '.join(unknown)} is not an environment"] if unknown else []))
                        + f"; give one URL for each of {', '.join(envs)}")
            if route.path is not None:
                if route.path in paths:
                    problems.append(f"services[{i}].route.path: {paths[route.path]} has the same path prefix; give each web service its own")
                paths.setdefault(route.path, s.name)
        return problems

    def _kind_problems(self, catalog: Catalog, platform: Any) -> list[str]:
        """Service kinds against the platform and the rest of the parameters."""
        problems = []
        webs = [i for i, s in enumerate(self.services) if s.kind == "web"]
        problems += self._route_problems(platform)
        at_env = [i for i in webs if (route := self.services[i].route) is None or route.path is not None]
        if at_env:
            for i, env in enumerate(self.environments):
                if env.url is None:
                    problems.append(f"environments[{i}].url: missing; the web service {self.services[at_env[0]].name} is served here, give its public base URL")
        if platform.web.max_services is not None and len(webs) > platform.web.max_services:
            problems.append(f"services[{webs[-1]}].kind: {self.platform} takes at most {platform.web.max_services} web service(s): {platform.web.why}")
        stores = {d.name: catalog.datastore_services()[d.service] for d in self.datastores if d.service in catalog.datastore_services()}
        for i, s in enumerate(self.services):
            where = f"services[{i}]"
            if s.kind == "worker" and platform.workers.unsupported:
                problems.append(f"{where}.kind: {self.platform} cannot run workers: {platform.workers.unsupported}")
            if s.kind == "job" and platform.jobs.unsupported:
                problems.append(f"{where}.kind: {self.platform} cannot run scheduled jobs: {platform.jobs.unsupported}")
            if s.health_command is not None and platform.workers.exec is not None and platform.workers.exec.unsupported:
                problems.append(f"{where}.health_command: {self.platform} cannot run a command in a running worker: {platform.workers.exec.unsupported}; remove it")
            if s.metrics is not None and platform.workers.metrics is not None and platform.workers.metrics.unsupported:
                problems.append(f"{where}.metrics: {self.platform} cannot reach a worker's metrics endpoint: {platform.workers.metrics.unsupported}; remove it")
            if s.kind == "job" and not platform.jobs.unsupported:
                rule = platform.jobs.schedules
                if rule is not None and s.schedule is not None and not re.fullmatch(rule.pattern, parse_cron(s.schedule).fields):
                    problems.append(f"{where}.schedule: {s.schedule!r} is not a schedule {self.platform} can run ({rule.rule}); change it")
                limit = platform.jobs.max_timeout_minutes
                if limit is not None and s.job_timeout_minutes > limit:
                    problems.append(f"{where}.timeout_minutes: {s.job_timeout_minutes} is longer than a run can last on {self.platform} "
                                    f"({limit} minutes); set timeout_minutes to at most {limit} or split the job")
                if platform.jobs.requires_command and s.command is None:
                    problems.append(f"{where}.command: missing; {self.platform} starts each run of a job itself and needs the command it runs")
            if s.consumes is not None:
                if s.consumes not in stores:
                    problems.append(f"{where}.consumes: no datastore named {s.consumes!r}; use one of datastores: ({', '.join(sorted(stores)) or 'none declared'})")
                elif stores[s.consumes].kind != "queue":
                    problems.append(f"{where}.consumes: {s.consumes} is a {stores[s.consumes].kind}, not a queue; name a queue of datastores: or leave consumes out")
        for i, slo in enumerate(self.monitoring.slos):
            if slo.sli != "custom" and not webs:
                problems.append(f"monitoring.slos[{i}].sli: {slo.sli} is measured on the web services' HTTP requests and this project has none; "
                                "use sli: custom with good and total expressions")
        for i, ds in enumerate(self.datastores):
            names = ds.resource_name
            if isinstance(names, dict):
                missing = [e.name for e in self.environments if e.name not in names]
                extra = [e for e in names if e not in {x.name for x in self.environments}]
                if missing or extra:
                    problems.append(f"datastores[{i}].resource_name: {'no name for ' + ', '.join(missing) if missing else ''}"
                                    f"{'; ' if missing and extra else ''}{'unknown environment(s) ' + ', '.join(extra) if extra else ''}; "
                                    "give one name per environment")
            elif isinstance(names, str) and "{env}" not in names and len(self.environments) > 1:
                problems.append(f"datastores[{i}].resource_name: one name for {len(self.environments)} environments; put {{env}} in it "
                                "or give one name per environment")
        return problems


def _describe(err: ErrorDetails) -> list[str]:
    loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
    path = key_path(loc)
    kind = err["type"]
    if kind == "value_error" and "ctx" not in err:
        msg = err["msg"]
    elif kind == "string_pattern_mismatch" and loc and loc[-1] == "name":
        msg = "must be lower-case letters, digits and dashes, starting with a letter (e.g. shop-api)"
    elif kind == "string_pattern_mismatch" and str(err.get("ctx", {}).get("pattern")) in PATTERN_HINTS:
        msg = PATTERN_HINTS[str(err["ctx"]["pattern"])]
    else:
        msg = error_message(err)
    if kind == "value_error" and (" | " in msg or not loc):
        return [m if ":" in m.split(" ")[0] else f"{path}: {m}" for m in msg.split(" | ")]
    return [f"{path}: {msg}"]


def validation_problems(exc: ValidationError, raw: Any) -> list[str]:
    out = []
    for err in exc.errors(include_url=False):
        line = line_of(raw, err["loc"])
        for text in _describe(err):
            out.append(f"line {line}: {text}" if line else text)
    return out


def _scalars(node: Any, loc: tuple) -> Any:
    """(location, value, is_key) for every key and scalar (read_yaml bounded the expansion)."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield loc + (key,), key, True
            yield from _scalars(value, loc + (key,))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _scalars(value, loc + (i,))
    else:
        yield loc, node, False


def limit_problems(raw: Any) -> list[str]:
    """One line per string that is too long or holds a control character, and per number that
    is not finite or beyond ±MAX_NUMBER (never echoing the value)."""
    out = []
    for loc, value, is_key in _scalars(raw, ()):
        what = None
        if isinstance(value, str):
            if len(value) > MAX_STRING:
                what = f"{len(value):,} characters, more than the limit of {MAX_STRING:,}; shorten it"
            elif CONTROL.search(value):
                what = "holds a control character; remove it (only tabs and line breaks are allowed)"
        elif isinstance(value, bool):
            continue
        elif isinstance(value, float) and not math.isfinite(value):
            what = "not a finite number; use a number between -10^15 and 10^15"
        elif isinstance(value, int | float) and abs(value) > MAX_NUMBER:
            what = "too large; use a number between -10^15 and 10^15"
        if what:
            line = line_of(raw, loc)
            where = key_path(loc[:-1]) + " (a key)" if is_key else key_path(loc)
            out.append(f"{'line ' + str(line) + ': ' if line else ''}{where}: {what}")
    return out


def load_params(path: str | Path) -> ProjectParams:
    """Read and validate one parameters file; raise ParamsError listing every mistake."""
    path = Path(path)
    raw = read_yaml(path, max_bytes=MAX_PARAMS_BYTES)
    if not isinstance(raw, dict):
        raise ParamsError(str(path), ["(top level): must be a mapping of sections (schema_version, project, platform, …)"])
    leaked = secret_schema.value_problems(raw) + limit_problems(raw)
    if leaked:
        raise ParamsError(str(path), _safe(leaked))
    version = raw.get("schema_version")
    if version is not None and version != SCHEMA_VERSION:
        said = repr(version) if isinstance(version, int) else "something else"
        raise ParamsError(str(path), [f"schema_version: this opslib reads version {SCHEMA_VERSION}, the file says {said}; upgrade opslib or migrate the file"])
    try:
        params = ProjectParams.model_validate(_plain(raw), context={"base_dir": path.parent})
    except ValidationError as exc:
        problems = validation_problems(exc, raw)
        # pydantic skips the list-level duplicate check when an item of the list has an
        # error; check the raw names too so every mistake is reported in one run
        for section, text in _duplicate_names(raw):
            if not any(section in p and "named twice" in p for p in problems):
                problems.append(text)
        raise ParamsError(str(path), _safe(problems)) from None
    params._path = path
    return params


def _safe(problems: list[str]) -> list[str]:
    """Sorted by line; a secret value that a field path or a quoted name would repeat redacted,
    and each line at most MAX_PROBLEM characters (a 10,000-character name is not repeated)."""
    out = []
    for problem in sorted(problems, key=_line_key):
        text = redact(problem)
        out.append(text if len(text) <= MAX_PROBLEM else text[: MAX_PROBLEM - 1] + "…")
    return out


def _line_key(problem: str) -> tuple[int, str]:
    m = re.match(r"line (\d+): ", problem)
    return (int(m.group(1)) if m else 10**9, problem)


def _duplicate_names(raw: dict) -> list[tuple[str, str]]:
    out = []
    for section in ("environments", "services", "datastores"):
        items = raw.get(section)
        if not isinstance(items, list):
            continue
        seen: dict[str, int] = {}
        for i, item in enumerate(items):
            name = item.get("name") if isinstance(item, dict) else None
            if not isinstance(name, str):
                continue
            if name in seen:
                line = line_of(raw, (section, i, "name"))
                prefix = f"line {line}: " if line else ""
                out.append((section, f"{prefix}{section}[{i}].name: {name!r} is named twice (also {section}[{seen[name]}]); give each entry its own name"))
            else:
                seen[name] = i
    return out


def _plain(node: Any) -> Any:
    """ruamel's round-trip containers as plain dicts and lists (pydantic wants plain types)."""
    if isinstance(node, dict):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    return node


def params_hash(params: ProjectParams) -> str:
    """SHA-256 of the validated parameters (stable across key order and formatting)."""
    blob = json.dumps(params.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()
