"""A platform is one folder of data: everything the documents know about where a project runs.

    <folder>/platform.yaml         names, prerequisites, deploy per strategy, verify, operations
                                   (incl. the immediate restart of emergency rotation), logs,
                                   scaling, maintenance, rollback, the platform-bound secret stores
    <folder>/troubleshooting.yaml  the platform's troubleshooting entries
    <folder>/alerts.yaml           service-alert expressions on the metrics the platform exposes,
                                   the exporters that provide them, constants
    <folder>/ci.yaml               the CI deploy and rollback jobs
    <folder>/cost.yaml             cost-tracking tools, scaling caps, quota manifest, budgets API

    load_platform_folder(folder) -> Platform   every file validated, every problem listed at once

A capability a platform lacks is declared, with the reason, as `unsupported: <reason>`; a
document prints the reason. Something a document needs that the folder leaves out without
saying so is refused at load, naming the file and the key. opslib/data/platforms/README.md
is the user's description of the format.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

import jinja2
from jinja2 import nodes
from pydantic import BaseModel, ConfigDict, Field, PlainValidator, field_validator, model_validator

from opslib.catalog.loaders import (
    DATA_DIR,
    AlertDefinition,
    Step,
    TroubleshootingEntry,
    TroubleshootingFile,
    alert_definitions,
    catalog_error,
    load_decision_tree,
    shared_troubleshooting,
    validate_file,
)
from opslib.core.templates import environment
from opslib.core.yamlio import key_path, line_of, read_yaml
from opslib.errors import InputError

__all__ = [
    "FILES",
    "TargetField",
    "Procedure",
    "Operations",
    "Logs",
    "Scaling",
    "Rollback",
    "WebServices",
    "Capability",
    "Workers",
    "Schedules",
    "Jobs",
    "PlatformFile",
    "AlertSource",
    "PlatformAlert",
    "ExtraAlert",
    "PlatformAlerts",
    "CiCanary",
    "CiPlatform",
    "TrackingTool",
    "ScalingCaps",
    "QuotaManifest",
    "Budgets",
    "PlatformCost",
    "Platform",
    "display_path",
    "load_platform_folder",
]



M = TypeVar("M", bound=BaseModel)


def capability_or_reason(model: M, unsupported: str | None, fields: tuple[str, ...], what: str) -> M:
    """A platform either has a capability (every field in `fields` given) or says why not
    (`unsupported: <reason>`), never both and never neither."""
    given = [getattr(model, f) is not None for f in fields]
    if unsupported is not None:
        if any(given):
            raise ValueError(f"give either {what}, or unsupported with the reason, not both")
    elif not all(given):
        raise ValueError(f"give {what}, or unsupported: <reason>")
    return model

class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def display_path(path: Path) -> str:
    """opslib/data/platforms/heroku for shipped files, the full path for a project's own."""
    path = Path(path)
    return path.relative_to(DATA_DIR.parent.parent).as_posix() if path.is_relative_to(DATA_DIR) else str(path)


# --- platform.yaml ---------------------------------------------------------------------------


class TargetField(_Model):
    default: str = Field(description="Jinja template over project and env giving the default value")
    description: str = Field(description="what the name is, e.g. 'Kubernetes namespace'")


class Procedure(_Model):
    title: str = Field(description="the procedure's heading")
    steps: list[Step] = Field(min_length=1, description="its steps")


class Operations(_Model):
    start: list[Step] = Field(min_length=1, description="start the services")
    stop: list[Step] = Field(min_length=1, description="stop the services")
    restart: list[Step] = Field(min_length=1, description="rolling restart (also after a normal secret rotation)")
    restart_now: list[Step] = Field(
        min_length=1,
        description="restart every instance of one service at once, not rolling (emergency secret rotation); run for each service that reads the secret",
    )
    status: list[Step] = Field(min_length=1, description="process/instance status check")
    automated_checks: list[str] = Field(min_length=1, description="what checks health automatically (probes, uptime checks)")


class Logs(_Model):
    location: str = Field(description="where logs are written and kept on this platform")
    tail: list[Step] = Field(min_length=1, description="follow the logs")
    search: list[Step] = Field(min_length=1, description="search past logs")


class Scaling(_Model):
    manual: list[Step] = Field(min_length=1, description="scale by hand")
    auto: list[Step] = Field(min_length=1, description="set up auto-scaling")
    auto_notes: list[str] = Field(default_factory=list, description="what to know about the platform's auto-scaling")


class Rollback(_Model):
    identify: list[Step] = Field(min_length=1, description="how to find the last good version")
    steps: list[Step] = Field(min_length=1, description="how to go back to it")
    verify: list[Step] = Field(min_length=1, description="how to check the rollback worked")
    expected_minutes: int = Field(ge=1, description="how long a rollback takes")


class Capability(_Model):
    """Steps the platform has for a capability, or why it has none."""

    steps: list[Step] | None = Field(default=None, min_length=1, description="the steps (for_each worker_service, job_service or web_service)")
    unsupported: str | None = Field(default=None, min_length=1, description="why the platform cannot do it (validation and the documents print it)")

    @model_validator(mode="after")
    def _one(self) -> Capability:
        return capability_or_reason(self, self.unsupported, ("steps",), "steps")


class WebServices(_Model):
    """What limits web services on the platform (none when the key is left out)."""

    internal: Capability | None = Field(
        default=None,
        description="how the health and readiness of an internal web service (route.internal, no public route) are checked from inside "
                    "the platform (for_each web_service, each step's text empty unless `not service_url`), or why it cannot be; "
                    "left out: web services must be public",
    )
    max_services: int | None = Field(default=None, ge=1, description="most web services one project may have on the platform")
    why: str | None = Field(default=None, min_length=1, description="why (printed when validation refuses a project)")

    @model_validator(mode="after")
    def _reason(self) -> WebServices:
        if self.max_services is not None and self.why is None:
            raise ValueError("max_services needs why (the reason validation prints)")
        return self


class Workers(_Model):
    """How the platform runs workers (queue or stream consumers), or why it cannot."""

    health: list[Step] | None = Field(default=None, min_length=1, description="is each worker running and consuming (for_each worker_service): Health checks, smoke tests")
    exec: Capability | None = Field(default=None, description="run a worker's health_command inside a running instance (for_each worker_service)")
    metrics: Capability | None = Field(default=None, description="read a worker's metrics endpoint from a running instance (for_each worker_service)")
    automated_checks: list[str] = Field(default_factory=list, description="what checks workers automatically (sentences)")
    unsupported: str | None = Field(default=None, min_length=1, description="why the platform cannot run workers")

    @model_validator(mode="after")
    def _one(self) -> Workers:
        return capability_or_reason(self, self.unsupported, ("health", "exec", "metrics"), "health, exec and metrics")


class Schedules(_Model):
    pattern: str = Field(description="regular expression a job's five-field cron schedule must match on this platform")
    rule: str = Field(description="the schedules the platform accepts, in words (validation prints it)")


class Jobs(_Model):
    """How the platform runs scheduled jobs, or why it cannot. Every list is for_each job_service."""

    schedules: Schedules | None = Field(default=None, description="the cron schedules the platform accepts; default: any")
    requires_command: bool = Field(default=False, description="a job must give command (the platform starts the run itself)")
    max_timeout_minutes: int | None = Field(default=None, ge=1, description="the longest run the platform allows (a job's timeout_minutes must not exceed it)")
    show: list[Step] | None = Field(default=None, min_length=1, description="the job's schedule, state and last run")
    run_now: list[Step] | None = Field(default=None, min_length=1, description="start one run now, outside the schedule")
    runs: list[Step] | None = Field(default=None, min_length=1, description="recent runs with their status and duration")
    scale: list[Step] | None = Field(default=None, min_length=1, description="give a run more resources (memory, CPU, size); the runbook's Scaling")
    suspend: list[Step] | None = Field(default=None, min_length=1, description="stop future runs (and how to stop a running one)")
    resume: list[Step] | None = Field(default=None, min_length=1, description="resume the schedule")
    automated_checks: list[str] = Field(default_factory=list, description="what the platform does on its own about failed or missed runs (sentences)")
    unsupported: str | None = Field(default=None, min_length=1, description="why the platform cannot run scheduled jobs")

    @model_validator(mode="after")
    def _one(self) -> Jobs:
        return capability_or_reason(self, self.unsupported, ("show", "run_now", "runs", "scale", "suspend", "resume"),
                                    "show, run_now, runs, scale, suspend and resume")


class PlatformFile(_Model):
    """platform.yaml: the platform's names and procedures (the runbook's, the deployment plan's)."""

    name: str = Field(pattern=r"^[a-z][a-z0-9-]*$", description="the platform's name, the same as its folder's")
    title: str = Field(description="the platform as the documents name it")
    docs_url: str = Field(description="the platform's reference documentation")
    tools: list[str] = Field(min_length=1, description="CLIs the commands use (checked against the documents)")
    requires_image: bool = Field(default=False, description="services must set image (container platforms)")
    secret_stores: list[str] = Field(
        default_factory=list, description="secret stores bound to one platform (platform_bound in secret-stores.yaml) that this platform delivers"
    )
    target: dict[str, TargetField] = Field(min_length=1, description="the names an environment has on this platform (namespace, app, …)")
    prerequisites: list[Step] = Field(min_length=1, description="what to check before a deploy")
    deploy: dict[Literal["rolling", "blue-green", "canary", "recreate"], list[Step]] = Field(
        min_length=1, description="deploy steps per strategy; a strategy left out is not available on the platform"
    )
    verify: list[Step] = Field(min_length=1, description="how to check a deploy")
    operations: Operations = Field(description="start, stop, restart, immediate restart, status, automated checks")
    logs: Logs = Field(description="where the logs are and how to read them")
    scaling: Scaling = Field(description="manual and automatic scaling")
    maintenance: list[Procedure] = Field(min_length=1, description="routine maintenance procedures")
    rollback: Rollback = Field(description="how to go back to the last good version")
    web: WebServices = Field(default_factory=WebServices, description="limits on web services")
    workers: Workers = Field(description="how workers run and are checked, or unsupported: <reason>")
    jobs: Jobs = Field(description="how scheduled jobs run and are operated, or unsupported: <reason>")
    release_migrations: str | None = Field(
        default=None,
        description=(
            "when the platform itself runs the database migrations of a deploy (Heroku's release phase): how, as a "
            "clause; the runbook then says so and shows only the database's revision, through one_off, instead of "
            "asking the reader to run the migration"
        ),
    )
    one_off: str | None = Field(
        default=None, description="a command that runs `command` in a one-off instance with the release's code and configuration (Jinja over target, command)"
    )

    @model_validator(mode="after")
    def _release_migrations_need_one_off(self) -> PlatformFile:
        if self.release_migrations and not self.one_off:
            raise ValueError("release_migrations needs one_off (how the runbook reads the database's revision)")
        return self


# --- alerts.yaml -----------------------------------------------------------------------------


class AlertSource(_Model):
    title: str = Field(description="the exporter or integration, e.g. kube-state-metrics")
    url: str = Field(description="its documentation")
    provides: str = Field(description="which metrics it provides")


class PlatformAlert(_Model):
    """A shared alert (opslib/data/metrics.yaml) on this platform: its expression and the source
    of the metric, or why the platform cannot have it."""

    source: str | None = Field(default=None, description="the key of `sources` whose exporter provides the metric")
    expr: str | None = Field(default=None, description="PromQL (Jinja over ci, sel, target, env, project, constants)")
    unsupported: str | None = Field(default=None, min_length=1, description="why the platform has no such alert (printed in the runbook)")

    @model_validator(mode="after")
    def _one(self) -> PlatformAlert:
        return capability_or_reason(self, self.unsupported, ("expr", "source"), "expr and source (the exporter providing the metric)")


class ExtraAlert(AlertDefinition):
    """An alert only this platform has, in the shape of opslib/data/metrics.yaml plus its source."""

    expr: str = Field(description="PromQL (Jinja over ci, sel, target, env, project, constants)")
    source: str = Field(description="the key of `sources` whose exporter provides the metric")


class PlatformAlerts(_Model):
    sources: dict[str, AlertSource] = Field(default_factory=dict, description="exporters and integrations the expressions read")
    constants: dict[str, Any] = Field(default_factory=dict, description="platform constants the expressions use (e.g. memory per dyno size)")
    alerts: dict[str, PlatformAlert] = Field(
        default_factory=dict, description="shared alerts by name: every one without an expression of its own must be here"
    )
    extra: list[ExtraAlert] = Field(default_factory=list, description="alerts only this platform has")


# --- ci.yaml ---------------------------------------------------------------------------------


def _as_written(value: Any) -> str:
    """The string as read, keeping ruamel's scalar style: a folded `>-` command stays folded in
    the generated .gitlab-ci.yml."""
    if not isinstance(value, str):
        raise ValueError("must be a string (a shell command)")
    return value


def _need_commands(value: list[Step]) -> list[Step]:
    bare = [f"{i + 1} ({step.text[:40]!r})" for i, step in enumerate(value) if not step.command]
    if bare:
        raise ValueError(f"step {', '.join(bare)} has no command; every step of a CI job runs one: add it")
    return value


class CiCanary(_Model):
    """How the production deploy job runs a canary where the platform shifts traffic (weights
    in steps, a hold and a metric gate at each step), or why the platform cannot."""

    tool: str | None = Field(default=None, description="what shifts the traffic and gates each step, named (e.g. Argo Rollouts)")
    url: str | None = Field(default=None, description="the tool's documentation")
    how: str | None = Field(default=None, description="one or two sentences: how the job shifts traffic, holds and gates (Jinja over the CI context and canary)")
    requires: list[str] = Field(default_factory=list, description="what must be in place before the first canary (sentences, Jinja)")
    gate: list[str] = Field(default_factory=list, description="what each step must satisfy to go on (sentences, Jinja over canary; an empty result is left out)")
    steps: list[Step] | None = Field(
        default=None, min_length=1, description="the production deploy job's steps for the canary strategy, instead of deploy (Jinja over the CI context, canary, services)"
    )
    rollback: list[Step] | None = Field(default=None, min_length=1, description="rollback after a failed canary; default: the ci.yaml rollback")
    manifest_title: str | None = Field(default=None, description="what the manifest is (shown above it)")
    manifest: str | None = Field(default=None, description="a manifest applied once that carries the steps and the gate (Jinja over the CI context, canary, services)")
    unsupported: str | None = Field(default=None, min_length=1, description="why the platform cannot shift traffic in steps (printed in pipeline.md)")

    @field_validator("steps", "rollback")
    @classmethod
    def _commands(cls, value: list[Step] | None) -> list[Step] | None:
        return value if value is None else _need_commands(value)

    @model_validator(mode="after")
    def _one(self) -> CiCanary:
        return capability_or_reason(self, self.unsupported, ("tool", "how", "steps"), "tool, how and steps (the automated canary)")


class CiPlatform(_Model):
    """ci.yaml: how the generated CI/CD pipelines deploy to the platform and roll back."""

    image: str = Field(description="container image of the deploy jobs")
    tools: Annotated[str, PlainValidator(_as_written)] = Field(description="shell command that installs or checks the deploy tools in that image")
    aws_oidc: bool = Field(default=False, description="deploy jobs assume an AWS role through OIDC")
    role: str | None = Field(default=None, description="the AWS role the jobs assume (Jinja over project, env, target); needed with aws_oidc")
    gitlab_id_tokens: dict[str, str] = Field(
        default_factory=dict,
        description="OIDC ID tokens the GitLab deploy and rollback jobs declare (id_tokens): variable name → audience (may use CI/CD variables), "
        "read by setup to sign in without a stored key (Google Workload Identity Federation, Azure federated credentials)",
    )
    credentials: list[str] = Field(default_factory=list, description="CI secrets the deploy jobs need, e.g. HEROKU_API_KEY")
    fetch_full_history: bool = Field(default=False, description="the deploy needs the whole git history (git push deploys)")
    build: Literal["container", "artifact", "containerless"] = Field(
        description="container: build and push images; artifact: build zips or tarballs; containerless: the platform builds from the pushed commit"
    )
    registry_login: str | None = Field(default=None, description="log in to the image registry (Jinja over env, registry); needed with build: container")
    setup: str | None = Field(
        default=None,
        description="a command each deploy job runs first (Jinja; `system` is the CI system, github or gitlab, where the sign-in differs), e.g. fetch the cluster credentials",
    )
    runner_tools: Annotated[str, PlainValidator(_as_written)] | None = Field(
        default=None, description="command that installs the deploy tools on GitHub's ubuntu-latest runner (GitHub jobs run there, not in image); default: none needed"
    )
    record: list[Step] = Field(
        default_factory=list, description="steps run before anything changes: save what the rollback needs under .deploy/ (Jinja over the CI context)"
    )
    deploy: list[Step] = Field(min_length=1, description="the deploy job's steps (Jinja over project, env, target, service, deploy, aws_account_id)")
    rollback: list[Step] = Field(min_length=1, description="the platform's own rollback, run on any failure after the deploy started (deploy, rollout timeout, smoke test)")
    canary: CiCanary | None = Field(default=None, description="the production canary automated by the deploy job, or unsupported: <reason>; default: canaries deploy at once")
    smoke: list[Step] = Field(
        default_factory=list,
        description="smoke tests of workers, jobs and internal web services after a deploy (for_each worker_service / job_service / web_service, "
                    "the web step's text empty unless `not service_url`): non-interactive, exit non-zero on failure",
    )

    @field_validator("deploy", "rollback", "record", "smoke")
    @classmethod
    def _commands(cls, value: list[Step]) -> list[Step]:
        return _need_commands(value)

    @model_validator(mode="after")
    def _needs(self) -> CiPlatform:
        if self.aws_oidc and not self.role:
            raise ValueError("aws_oidc: true needs role (the AWS role the deploy jobs assume)")
        if self.build == "container" and not self.registry_login:
            raise ValueError("build: container needs registry_login (how the jobs log in to the image registry)")
        return self


# --- cost.yaml -------------------------------------------------------------------------------


class TrackingTool(_Model):
    name: str = Field(description="the cost-tracking tool")
    dashboard: str = Field(description="where its dashboard is")
    steps: list[str] = Field(min_length=1, description="how to set it up (Jinja over project, tags, envs)")
    command: str = Field(description="a command that shows the spend (Jinja over project, tags, envs)")


class ScalingCaps(_Model):
    """Commands that hold each environment at its maximum (the cost plan's Guardrails)."""

    steps: list[Step] | None = Field(default=None, min_length=1, description="Jinja over project, env, target, deploy, service, caps; run per environment")
    unsupported: str | None = Field(default=None, min_length=1, description="why the platform cannot cap its scale (printed in the cost plan)")

    @model_validator(mode="after")
    def _one(self) -> ScalingCaps:
        return capability_or_reason(self, self.unsupported, ("steps",), "steps (the commands that cap each environment)")


class QuotaManifest(_Model):
    """A resource quota per environment (e.g. a Kubernetes ResourceQuota), or why there is none."""

    title: str | None = Field(default=None, description="what the manifest is, shown above it")
    language: str = Field(default="yaml", description="the manifest's code-block language")
    manifest: str | None = Field(default=None, description="the manifest (Jinja over project, env, target, caps)")
    unsupported: str | None = Field(default=None, min_length=1, description="why the platform has no quota object (printed in the cost plan)")

    @model_validator(mode="after")
    def _one(self) -> QuotaManifest:
        return capability_or_reason(self, self.unsupported, ("title", "manifest"), "title and manifest")


class Budgets(_Model):
    """Whether the platform's spend can be capped by a budgets API."""

    api: str | None = Field(default=None, description="the budgets API that carries the platform's spend, e.g. AWS Budgets")
    unsupported: str | None = Field(default=None, min_length=1, description="why there is no budgets API (printed in the cost plan)")

    @model_validator(mode="after")
    def _one(self) -> Budgets:
        return capability_or_reason(self, self.unsupported, ("api",), "api (the budgets API)")


class PlatformCost(_Model):
    tracking: list[TrackingTool] = Field(min_length=1, description="cost-tracking tools (Cost Tracking)")
    scaling_caps: ScalingCaps = Field(description="commands that enforce each environment's maximum (Guardrails → Auto-scaling limits)")
    quota: QuotaManifest = Field(description="resource quota per environment (Guardrails → Resource quotas)")
    budgets: Budgets = Field(description="budgets API, or why there is none (Guardrails)")


# --- the folder --------------------------------------------------------------------------------


class Platform(PlatformFile):
    """Every file of a platform folder, validated."""

    folder: Path = Field(description="the platform's folder")
    troubleshooting: tuple[TroubleshootingEntry, ...] = Field(description="troubleshooting.yaml")
    alerts: PlatformAlerts = Field(description="alerts.yaml")
    ci: CiPlatform = Field(description="ci.yaml")
    cost: PlatformCost = Field(description="cost.yaml")

    @property
    def label(self) -> str:
        return display_path(self.folder)


FILES: dict[str, type[BaseModel]] = {
    "platform.yaml": PlatformFile,
    "troubleshooting.yaml": TroubleshootingFile,
    "alerts.yaml": PlatformAlerts,
    "ci.yaml": CiPlatform,
    "cost.yaml": PlatformCost,
}

# the names a file's templates may use (what the documents put into their context)
_COMMAND = {"project", "env", "target", "deploy", "service", "service_url", "datastore", "dependency", "scale_p95_ms"}
_NAMES = {
    "platform.yaml": _COMMAND,
    "troubleshooting.yaml": _COMMAND,
    "ci.yaml": _COMMAND | {"aws_account_id", "registry", "canary", "services", "system"},
    "cost.yaml": _COMMAND | {"caps", "tags", "envs"},
    "alerts.yaml": {"ci", "sel", "target", "env", "project", "constants", "latency_ms", "latency_s", "latency_basis",
                    "service", "queue", "max_gap_s", "timeout_s"},
}
_JINJA_GLOBALS = {"range", "dict", "lipsum", "cycler", "joiner", "namespace", "loop"}
_EXTRA = {"one_off": {"command"}}  # platform.yaml keys whose templates get more: one_off wraps a rendered command


def _strings(node: Any, loc: tuple = ()):
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _strings(value, loc + (key,))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _strings(value, loc + (i,))
    elif isinstance(node, str) and ("{{" in node or "{%" in node):
        yield loc, node


def _template_problems(raw: Any, fname: str, targets: set[str] | None) -> list[tuple[tuple, str]]:
    """Jinja syntax, unknown variables, unknown filters and target names that platform.yaml
    does not define, in every template of one file: (key path, problem)."""
    env = environment()
    out = []
    for loc, text in _strings(raw):
        allowed = _NAMES[fname] | _JINJA_GLOBALS | (_EXTRA.get(loc[0], set()) if fname == "platform.yaml" and loc else set())
        try:
            ast = env.parse(text)
        except jinja2.TemplateSyntaxError as exc:
            out.append((loc, f"template syntax error ({exc.message}); fix the Jinja"))
            continue
        names = list(ast.find_all(nodes.Name))  # loaded minus assigned (loop variables): cheaper than jinja2.meta
        unknown = sorted({n.name for n in names if n.ctx == "load"} - {n.name for n in names if n.ctx != "load"} - allowed)
        if unknown:
            out.append((loc, f"uses {', '.join(unknown)}, which the documents do not provide here; use {', '.join(sorted(_NAMES[fname]))}"))
        bad_filters = sorted({f.name for f in ast.find_all(nodes.Filter) if f.name not in env.filters})
        if bad_filters:
            out.append((loc, f"uses the unknown filter(s) {', '.join(bad_filters)}; use one of {', '.join(sorted(env.filters))}"))
        if targets is not None:
            attrs = {n.attr for n in ast.find_all(nodes.Getattr) if isinstance(n.node, nodes.Name) and n.node.name == "target"}
            missing = sorted(attrs - targets)
            if missing:
                out.append((loc, f"uses target.{', target.'.join(missing)}, which platform.yaml's target does not define; add it there or fix the name"))
    return out


class _Where:
    """'<file> line N: key.path' for a problem found after validation (line numbers read only then)."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.marked: dict[str, Any] = {}

    def __call__(self, fname: str, loc: tuple) -> str:
        if fname not in self.marked:
            try:
                self.marked[fname] = read_yaml(self.folder / fname)
            except InputError:
                self.marked[fname] = None
        line = line_of(self.marked[fname], loc) if self.marked[fname] is not None else None
        return f"{fname} line {line}: {key_path(loc)}" if line else f"{fname}: {key_path(loc)}"


@cache
def _known_stores() -> dict[str, Any]:
    return dict(read_yaml(DATA_DIR / "secret-stores.yaml", lines=False)["stores"])


def _cross_problems(folder: Path, parts: dict[str, Any], where: _Where) -> list[str]:
    out = []
    spec: PlatformFile | None = parts.get("platform.yaml")
    if spec is not None:
        if spec.name != folder.name:
            out.append(f"{where('platform.yaml', ('name',))}: says {spec.name!r} but the folder is named {folder.name!r}; make them match")
        stores = _known_stores()
        for i, store in enumerate(spec.secret_stores):
            if store not in stores:
                out.append(f"{where('platform.yaml', ('secret_stores', i))}: unknown secret store {store!r}; use one of {', '.join(sorted(stores))}")
            elif not stores[store].get("platform_bound"):
                out.append(f"{where('platform.yaml', ('secret_stores', i))}: {store} reaches workloads on every platform; list only platform-bound stores")
    alerts: PlatformAlerts | None = parts.get("alerts.yaml")
    if alerts is not None:
        shared = {a.alert: a for a in alert_definitions()}
        for a in alert_definitions():
            if a.expr is None and a.alert not in alerts.alerts:
                out.append(f"{where('alerts.yaml', ('alerts',))}.{a.alert}: missing; give expr and source (the exporter that provides the metric), "
                           "or unsupported: <reason> when the platform cannot have this alert")
        for name, alert in alerts.alerts.items():
            if name not in shared:
                out.append(f"{where('alerts.yaml', ('alerts', name))}: not an alert of opslib/data/metrics.yaml ({', '.join(shared)}); "
                           "define an alert of the platform's own under extra")
            elif alert.source is not None and alert.source not in alerts.sources:
                out.append(f"{where('alerts.yaml', ('alerts', name, 'source'))}: unknown source {alert.source!r}; add it under sources")
        seen = set(shared)
        for i, extra in enumerate(alerts.extra):
            if extra.alert in seen:
                out.append(f"{where('alerts.yaml', ('extra', i, 'alert'))}: {extra.alert} is named twice (or is a shared alert); give it its own name")
            seen.add(extra.alert)
            if extra.source not in alerts.sources:
                out.append(f"{where('alerts.yaml', ('extra', i, 'source'))}: unknown source {extra.source!r}; add it under sources")
    trouble: TroubleshootingFile | None = parts.get("troubleshooting.yaml")
    if trouble is not None:
        categories = [n.category for n in load_decision_tree()]
        shared_ids = {e.id for e in shared_troubleshooting()}
        seen_ids: set[str] = set()
        for i, entry in enumerate(trouble.entries):
            if entry.id in shared_ids or entry.id in seen_ids:
                out.append(f"{where('troubleshooting.yaml', ('entries', i, 'id'))}: {entry.id!r} is used twice (here or in the shared "
                           "opslib/data/troubleshooting.yaml); give each entry its own id")
            seen_ids.add(entry.id)
            if entry.category not in categories:
                out.append(f"{where('troubleshooting.yaml', ('entries', i, 'category'))}: unknown category {entry.category!r}; "
                           f"use one of the decision tree's: {', '.join(categories)}")
    return out


@cache
def load_platform_folder(folder: Path, check_templates: bool = True) -> Platform:
    """Read and validate every file of a platform folder; one CatalogError lists every problem.

    `check_templates` parses every Jinja template (syntax, names, filters, target keys): about
    50 ms a platform, so the shipped platforms skip it at run time and the test suite does it."""
    folder = Path(folder)
    problems: list[str] = []
    parts: dict[str, Any] = {}
    raws: dict[str, Any] = {}
    if not folder.is_dir():
        raise catalog_error(display_path(folder), ["not a folder; a platform is a folder holding " + ", ".join(FILES)])
    for fname, model in FILES.items():
        path = folder / fname
        if not path.is_file():
            problems.append(f"{fname}: missing; add the file (opslib/data/platforms/README.md says what it holds)")
            continue
        try:  # ci.yaml is read with its YAML styles (see CiPlatform.tools); the others with the fast loader
            raws[fname] = read_yaml(path, lines=fname == "ci.yaml")
        except InputError as exc:
            problems.append(str(exc))
            continue
        obj, errs = validate_file(path, model, fname, raws[fname])
        problems += errs
        if obj is not None:
            parts[fname] = obj
    for path in sorted(folder.iterdir()):
        if path.suffix in (".yaml", ".yml") and path.name not in FILES:
            problems.append(f"{path.name}: unknown file (nothing reads it); a platform folder holds {', '.join(FILES)}")
    where = _Where(folder)
    problems += _cross_problems(folder, parts, where)
    raw_target = raws.get("platform.yaml", {}).get("target") if isinstance(raws.get("platform.yaml"), dict) else None
    targets = {str(k) for k in raw_target} if isinstance(raw_target, dict) else None  # also when platform.yaml has other problems
    for fname, raw in raws.items() if check_templates else ():
        problems += [f"{where(fname, loc)}: {text}" for loc, text in _template_problems(raw, fname, targets)]
    if problems:
        raise catalog_error(display_path(folder), problems)
    spec = parts["platform.yaml"]
    return Platform(
        **dict(spec), folder=folder, troubleshooting=tuple(parts["troubleshooting.yaml"].entries),
        alerts=parts["alerts.yaml"], ci=parts["ci.yaml"], cost=parts["cost.yaml"],
    )
