"""Data catalogs in opslib/data that are not platforms: the shared troubleshooting entries,
datastore services, migration tools, the decision tree, the shared alert definitions and the
secret kinds; and the one way every catalog file is validated.

A platform is a folder of its own (opslib/catalog/platforms.py); the shipped catalogs plus a
project's own folders make a Catalog (opslib/catalog/catalog.py). Each file is validated on
load; a malformed file raises one CatalogError that lists every problem with its file, line
and key path.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from opslib.core.yamlio import error_message, key_path, line_of, read_yaml
from opslib.errors import CatalogError, InputError

__all__ = [
    "AlertGuide",
    "load_alert_guides",
    "DATA_DIR",
    "Step",
    "TroubleshootingEntry",
    "TroubleshootingFile",
    "DatastoreService",
    "MigrationTool",
    "DecisionNode",
    "AlertDefinition",
    "QueueAlert",
    "SecretKind",
    "SecretKindsFile",
    "validate_file",
    "catalog_error",
    "load_file",
    "datastore_services",
    "migration_tools",
    "load_decision_tree",
    "alert_definitions",
    "shared_troubleshooting",
    "clear_caches",
]

# the shipped catalogs: the one place that knows where opslib's data lives
DATA_DIR = Path(__file__).resolve().parent.parent / "data"

M = TypeVar("M", bound=BaseModel)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Step(_Model):
    """One step of a procedure: what to do, the command (a Jinja template) and what you should see."""

    text: str = Field(description="what this step does, as an instruction")
    command: str | None = Field(default=None, description="shell command(s); Jinja template over project, env, target, service, datastore")
    expected: str | None = Field(default=None, description="the output or state that means the step worked")
    for_each: Literal["service", "web_service", "worker_service", "job_service", "any_service", "datastore", "dependency"] | None = Field(
        default=None,
        description=(
            "repeat the step for every long-running service (web and worker) / web service / worker / scheduled job / "
            "service of any kind / datastore / third-party dependency; a step whose text renders empty is left out"
        ),
    )
    one: bool | None = Field(
        default=None,
        description=(
            "with for_each: the step acts on the one item the reader is looking at (follow its logs, scale it), not on "
            "every item; it is written once, for the first item, with the item's name in a shell variable and the "
            "others named (a loop would be wrong: `logs -f` never returns, scaling every service is not asked). "
            "Unset: false, except in troubleshooting entries over services, which act on the service the alert or "
            "symptom names (`one: false` there for a step meant for every service)"
        ),
    )


class TroubleshootingEntry(_Model):
    id: str = Field(pattern=r"^[a-z0-9-]+$", description="unique id (lower-case letters, digits, dashes)")
    title: str = Field(description="the problem as the on-call engineer would name it")
    category: str = Field(description="a category of data/decision-tree.yaml")
    symptoms: list[str] = Field(min_length=1, description="what the engineer sees")
    cause: str = Field(description="why it happens")
    diagnostics: list[Step] = Field(min_length=1, description="how to confirm the cause")
    solution: list[Step] = Field(min_length=1, description="how to fix it")
    escalate_after_minutes: int = Field(ge=1, description="escalate when not solved after this many minutes")
    requires_engine: str | None = Field(default=None, description="only when the project has a datastore of this engine")
    requires_kind: Literal["web", "worker", "job"] | None = Field(default=None, description="only when the project has a service of this kind")
    requires_datastore_kind: Literal["database", "cache", "queue", "object-store"] | None = Field(
        default=None, description="only when the project has a datastore of this kind (any engine)")
    per: Literal["dependency"] | None = Field(
        default=None, description="dependency: the entry is repeated for every third-party dependency of the project (Jinja over dependency)"
    )


class TroubleshootingFile(_Model):
    entries: list[TroubleshootingEntry] = Field(min_length=1, description="the troubleshooting entries")


class DatastoreService(_Model):
    title: str
    engine: str
    kind: Literal["database", "cache", "queue", "object-store"]
    status: list[Step] = Field(min_length=1)
    backup: list[Step] = Field(min_length=1)
    restore: list[Step] = Field(min_length=1)
    alerts: dict[str, QueueAlert] = Field(default_factory=dict, description="queues: per-worker alerts (metrics.yaml, per: worker) on the queue's own metrics")


class MigrationTool(_Model):
    title: str
    current: Step
    upgrade: Step
    downgrade: Step | None = Field(default=None, description="None when the tool has no down migrations: roll forward instead")
    notes: str


class DecisionNode(_Model):
    category: str
    question: str


def _every_kind() -> list[Literal["web", "worker", "job"]]:
    return ["web", "worker", "job"]


class AlertDefinition(_Model):
    """A service alert shared by every platform (opslib/data/metrics.yaml); a platform's
    alerts.yaml gives its expression, or an alert of its own (`extra`) in the same shape."""

    alert: str = Field(pattern=r"^[A-Z][A-Za-z0-9]*$", description="alert name in alerts.yml (CamelCase)")
    name: str = Field(description="what is measured, as the runbook's Metric column shows it")
    signal: Literal["latency", "traffic", "errors", "saturation"] = Field(description="golden signal")
    kinds: list[Literal["web", "worker", "job"]] = Field(default_factory=_every_kind, description="service kinds the alert applies to")
    severity: Literal["page", "ticket"] = Field(description="page: wake someone; ticket: next working day")
    for_: str = Field(alias="for", pattern=r"^\d+[smhd]$", description="how long the condition must hold (Prometheus `for`)")
    window: str = Field(description="the window in words, e.g. '10 min'")
    threshold: str = Field(description="the threshold in words (Jinja)")
    rationale: str = Field(description="why this threshold (Jinja)")
    action: str = Field(description="what the on-call engineer does")
    expr: str | None = Field(default=None, description="PromQL over metrics the service exposes itself; absent: every platform gives its own")
    per: Literal["worker", "job"] | None = Field(
        default=None,
        description="worker / job: one alert per worker or scheduled job, named <alert><Service> (Jinja also over service, queue, max_gap_s, timeout_s)",
    )


class QueueAlert(_Model):
    """A per-worker queue alert's expression on a queue service's own metrics (datastores.yaml)."""

    expr: str = Field(description="PromQL (Jinja over queue: the real queue name, env, ci)")
    source: str = Field(description="the exporter or integration that provides the metric")


class _Alerts(_Model):
    metrics: list[AlertDefinition] = Field(min_length=1)


class SecretKind(_Model):
    title: str = Field(min_length=1, description="what the secret is, as secrets.md shows it")
    rotation_days: int | None = Field(ge=1, description="default rotation period in days; null: rotate on compromise only")
    source: str = Field(min_length=1, description="where the period comes from (standard, vendor guidance)")
    generate: str = Field(min_length=1, description="how a new value is made")
    generate_command: str | None = Field(default=None, description="the shell command when the team makes the value itself")
    third_party: bool = Field(default=False, description="a credential issued by a third-party provider: every such secret belongs to a dependency of the project")


class SecretKindsFile(_Model):
    kinds: dict[str, SecretKind] = Field(min_length=1, description="secret kinds by name")


class _Services(_Model):
    services: dict[str, DatastoreService]


class _Tools(_Model):
    tools: dict[str, MigrationTool]


class AlertGuide(_Model):
    """What an alert of one kind means for users and which questions of the decision tree diagnose it."""

    impact: str = Field(description="what users or the business feel while the alert fires")
    categories: list[str] = Field(min_length=1, description="decision-tree categories whose entries diagnose it, most likely first")


class _Tree(_Model):
    nodes: list[DecisionNode] = Field(min_length=1)
    alerts: dict[str, AlertGuide] = Field(default_factory=dict)




def validate_file(path: Path, model: type[M], label: str | None = None, raw: Any = None) -> tuple[M | None, list[str]]:
    """Validate one catalog file (or its already parsed `raw`); (the model, []) or (None, every
    problem as '<label> line N: key.path: what is wrong; what to do')."""
    label = label or str(path)
    if raw is None:
        try:
            raw = read_yaml(path, lines=False)
        except InputError as exc:
            return None, [str(exc)]
    try:
        return model.model_validate(raw), []
    except ValidationError as exc:
        marked: Any = read_yaml(path)  # again, with line numbers, only when there is something to report
        out = []
        for err in exc.errors(include_url=False):
            line = line_of(marked, tuple(err["loc"]))
            where = f"{label} line {line}" if line else label
            out.append(f"{where}: {key_path(tuple(err['loc']))}: {error_message(err)}")
        return None, out


def catalog_error(where: str | Path, problems: list[str], hint: str = "opslib/data/platforms/README.md describes the files") -> CatalogError:
    noun = "problem" if len(problems) == 1 else "problems"
    lines = [f"{where}: {len(problems)} {noun} in the catalog; fix each one below ({hint})."]
    return CatalogError("\n".join(lines + [f"  {p}" for p in problems]))


def load_file(path: Path, model: type[M]) -> M:
    """One catalog file, validated; CatalogError listing every problem otherwise."""
    obj, problems = validate_file(path, model)
    if obj is None:
        raise catalog_error(path, problems, "the comment at the top of the file describes it")
    return obj


@cache
def datastore_services() -> dict[str, DatastoreService]:
    return load_file(DATA_DIR / "datastores.yaml", _Services).services


@cache
def migration_tools() -> dict[str, MigrationTool]:
    return load_file(DATA_DIR / "migration-tools.yaml", _Tools).tools


@cache
def load_decision_tree() -> tuple[DecisionNode, ...]:
    return tuple(load_file(DATA_DIR / "decision-tree.yaml", _Tree).nodes)


@cache
def load_alert_guides() -> dict[str, AlertGuide]:
    """Per alert kind (signal, `worker`, `job`, `dependency`): its impact and the categories that diagnose it."""
    tree = load_file(DATA_DIR / "decision-tree.yaml", _Tree)
    known = {n.category for n in tree.nodes}
    for kind, guide in tree.alerts.items():
        unknown = [c for c in guide.categories if c not in known]
        if unknown:
            raise catalog_error(DATA_DIR / "decision-tree.yaml", [f"alerts.{kind}: unknown categor{'y' if len(unknown) == 1 else 'ies'} {', '.join(unknown)}; use one of the nodes' categories"])
    return dict(tree.alerts)


@cache
def alert_definitions() -> tuple[AlertDefinition, ...]:
    """The shared service alerts, in the order the runbook and alerts.yml list them."""
    return tuple(load_file(DATA_DIR / "metrics.yaml", _Alerts).metrics)


@cache
def shared_troubleshooting() -> tuple[TroubleshootingEntry, ...]:
    """The entries every platform shares (datastores, third-party APIs): data/troubleshooting.yaml."""
    return tuple(load_file(DATA_DIR / "troubleshooting.yaml", TroubleshootingFile).entries)


def clear_caches() -> None:
    """Forget loaded catalogs (after a catalog file changed, e.g. in tests)."""
    for fn in (datastore_services, migration_tools, load_decision_tree, alert_definitions, shared_troubleshooting):
        fn.cache_clear()
