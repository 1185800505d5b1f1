"""Data catalogs in opslib/data: platform command sets, troubleshooting entries,
datastore services, migration tools, the decision tree and the metric catalog.

Catalogs are data, not code: adding a platform is adding `data/platforms/<name>.yaml`
(and `data/troubleshooting/<name>.yaml`). Each file is validated on load; a malformed
catalog raises CatalogError naming the file and field.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from opslib.errors import CatalogError
from opslib.core.yamlio import read_yaml

__all__ = [
    "DATA_DIR",
    "Step",
    "Platform",
    "TroubleshootingEntry",
    "DatastoreService",
    "MigrationTool",
    "platform_names",
    "load_platform",
    "load_troubleshooting",
    "datastore_services",
    "migration_tools",
    "load_decision_tree",
    "clear_caches",
]

DATA_DIR = Path(__file__).resolve().parent.parent / "data"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Step(_Model):
    """One step of a procedure: what to do, the command (a Jinja template) and what you should see."""

    text: str = Field(description="what this step does, as an instruction")
    command: str | None = Field(default=None, description="shell command(s); Jinja template over project, env, target, service, datastore")
    expected: str | None = Field(default=None, description="the output or state that means the step worked")
    for_each: Literal["service", "web_service", "worker_service", "datastore"] | None = Field(
        default=None, description="repeat the step for every service / web service / worker / datastore"
    )


class TargetField(_Model):
    default: str = Field(description="Jinja template over project and env giving the default value")
    description: str = Field(description="what the name is, e.g. 'Kubernetes namespace'")


class Procedure(_Model):
    title: str
    steps: list[Step] = Field(min_length=1)


class Operations(_Model):
    start: list[Step] = Field(min_length=1)
    stop: list[Step] = Field(min_length=1)
    restart: list[Step] = Field(min_length=1)
    status: list[Step] = Field(min_length=1, description="process/instance status check")
    automated_checks: list[str] = Field(min_length=1, description="what checks health automatically (probes, uptime checks)")


class Logs(_Model):
    location: str = Field(description="where logs are written and kept on this platform")
    tail: list[Step] = Field(min_length=1)
    search: list[Step] = Field(min_length=1)


class Scaling(_Model):
    manual: list[Step] = Field(min_length=1)
    auto: list[Step] = Field(min_length=1)
    auto_notes: list[str] = Field(default_factory=list)


class Rollback(_Model):
    identify: list[Step] = Field(min_length=1, description="how to find the last good version")
    steps: list[Step] = Field(min_length=1)
    verify: list[Step] = Field(min_length=1)
    expected_minutes: int = Field(ge=1)


class Platform(_Model):
    name: str
    title: str
    docs_url: str
    tools: list[str] = Field(min_length=1, description="CLIs the commands use (checked against the documents)")
    requires_image: bool = False
    target: dict[str, TargetField] = Field(min_length=1)
    prerequisites: list[Step] = Field(min_length=1)
    deploy: dict[Literal["rolling", "blue-green", "canary", "recreate"], list[Step]] = Field(min_length=1)
    verify: list[Step] = Field(min_length=1)
    operations: Operations
    logs: Logs
    scaling: Scaling
    maintenance: list[Procedure] = Field(min_length=1)
    rollback: Rollback


class TroubleshootingEntry(_Model):
    id: str = Field(pattern=r"^[a-z0-9-]+$")
    title: str
    category: str = Field(description="a category of data/decision-tree.yaml")
    symptoms: list[str] = Field(min_length=1)
    cause: str
    diagnostics: list[Step] = Field(min_length=1)
    solution: list[Step] = Field(min_length=1)
    escalate_after_minutes: int = Field(ge=1)
    requires_engine: str | None = Field(default=None, description="only when the project has a datastore of this engine")
    requires_kind: Literal["web", "worker"] | None = Field(default=None, description="only when the project has a service of this kind")


class TroubleshootingFile(_Model):
    entries: list[TroubleshootingEntry] = Field(min_length=1)


class DatastoreService(_Model):
    title: str
    engine: str
    kind: Literal["database", "cache", "queue", "object-store"]
    status: list[Step] = Field(min_length=1)
    backup: list[Step] = Field(min_length=1)
    restore: list[Step] = Field(min_length=1)


class MigrationTool(_Model):
    title: str
    current: Step
    upgrade: Step
    downgrade: Step | None = Field(default=None, description="None when the tool has no down migrations: roll forward instead")
    notes: str


class DecisionNode(_Model):
    category: str
    question: str


def _load(path: Path, model):
    raw = read_yaml(path, lines=False)
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        loc = ".".join(str(p) for p in err["loc"])
        raise CatalogError(f"{path}: {loc}: {err['msg']} ({exc.error_count()} problem(s)); fix the catalog file.") from None


@cache
def platform_names() -> tuple[str, ...]:
    return tuple(sorted(p.stem for p in (DATA_DIR / "platforms").glob("*.yaml")))


@cache
def load_platform(name: str) -> Platform:
    path = DATA_DIR / "platforms" / f"{name}.yaml"
    if not path.is_file():
        raise CatalogError(f"platform {name!r} has no catalog file {path}; use one of: {', '.join(platform_names())}.")
    platform = _load(path, Platform)
    if platform.name != name:
        raise CatalogError(f"{path}: name: says {platform.name!r} but the file is named {name!r}; make them match.")
    return platform


@cache
def load_troubleshooting(name: str) -> tuple[TroubleshootingEntry, ...]:
    """The platform's entries followed by the shared ones (data/troubleshooting/common.yaml)."""
    entries: list[TroubleshootingEntry] = []
    for stem in (name, "common"):
        path = DATA_DIR / "troubleshooting" / f"{stem}.yaml"
        if path.is_file():
            entries += _load(path, TroubleshootingFile).entries
    ids = [e.id for e in entries]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        raise CatalogError(f"troubleshooting entries for {name} repeat id(s) {', '.join(dup)}; give each entry its own id.")
    return tuple(entries)


class _Services(_Model):
    services: dict[str, DatastoreService]


class _Tools(_Model):
    tools: dict[str, MigrationTool]


class _Tree(_Model):
    nodes: list[DecisionNode] = Field(min_length=1)


@cache
def datastore_services() -> dict[str, DatastoreService]:
    return _load(DATA_DIR / "datastores.yaml", _Services).services


@cache
def migration_tools() -> dict[str, MigrationTool]:
    return _load(DATA_DIR / "migration-tools.yaml", _Tools).tools


@cache
def load_decision_tree() -> tuple[DecisionNode, ...]:
    return tuple(_load(DATA_DIR / "decision-tree.yaml", _Tree).nodes)


def clear_caches() -> None:
    """Forget loaded catalogs (after DATA_DIR changed, e.g. in tests)."""
    for fn in (platform_names, load_platform, load_troubleshooting, datastore_services, migration_tools, load_decision_tree):
        fn.cache_clear()
