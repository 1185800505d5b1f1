"""The command engine: a platform's catalog steps (Jinja templates) rendered with one
project's names — the targets of an environment (namespace, app, function prefix …), its
services and datastores. Every document that shows a command gets it from here, with each
interpolated value quoted for the shell it lands in (render_string(…, shell=True)).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from opslib.catalog.loaders import Step
from opslib.catalog.platforms import Platform
from opslib.check.safety import predefined
from opslib.check.shell import parse_script
from opslib.core.templates import render_string
from opslib.params.models import Datastore, Environment, ProjectParams, is_url

__all__ = ["RStep", "DatastoreView", "datastore_view", "KIND_OF", "resolve_targets", "command_context", "steps", "relative_link", "default_doc_dir", "inputs"]


@dataclass(frozen=True)
class DatastoreView:
    name: str
    service: str
    migration_tool: str | None
    backup_schedule: str | None
    resource: str  # the real name in the environment (resource_name, else <project>-<env>-<name>)


@dataclass(frozen=True)
class RStep:
    text: str
    command: str | None
    expected: str | None


def resolve_targets(params: ProjectParams, env: Environment, platform: Platform) -> dict[str, str]:
    base = {"project": params.project, "env": env}
    where = f"{platform.label}/platform.yaml target"
    return {
        key: env.target.get(key) or render_string(spec.default, base, where)
        for key, spec in platform.target.items()
    }


def command_context(params: ProjectParams, env: Environment, platform: Platform) -> dict[str, Any]:
    return {"project": params.project, "env": env, "target": resolve_targets(params, env, platform), "deploy": params.deploy}


KIND_OF = {"service": ("web", "worker"), "web_service": ("web",), "worker_service": ("worker",), "job_service": ("job",),
           "any_service": ("web", "worker", "job")}


def _items(step: Step, params: ProjectParams) -> list[tuple[str, Any] | None]:
    if step.for_each is None:
        return [None]
    if step.for_each == "datastore":
        return [("datastore", d) for d in params.datastores]
    if step.for_each == "dependency":
        return [("dependency", d) for d in params.dependencies]
    kinds = KIND_OF[step.for_each]
    return [("service", s) for s in params.services if s.kind in kinds]


def datastore_view(params: ProjectParams, ds: Datastore, env: Environment) -> DatastoreView:
    """A datastore as catalog commands see it: its fields and `resource`, its real name in `env`."""
    return DatastoreView(ds.name, ds.service, ds.migration_tool, ds.backup_schedule, ds.resource_for(params.project.name, env.name))


def steps(raw: list[Step], params: ProjectParams, ctx: dict[str, Any], where: str) -> list[RStep]:
    """Render catalog steps, expanding `for_each` over services, datastores or dependencies.
    A step whose text renders empty (`{% if … %}` around it) is left out."""
    out = []
    for step in raw:
        items = _items(step, params)
        for item in items:
            local = dict(ctx)
            label = ""
            if item is not None:
                value = datastore_view(params, item[1], ctx["env"]) if item[0] == "datastore" else item[1]
                local[item[0]] = value
                label = f"**{item[1].name}**: " if len(items) > 1 else ""
            text = render_string(step.text, local, where)
            if not text.strip():
                continue
            out.append(
                RStep(
                    text=label + text,
                    command=render_string(step.command, local, where, shell=True) if step.command else None,
                    expected=render_string(step.expected, local, where) if step.expected else None,
                )
            )
    return out


def relative_link(params: ProjectParams, value: str, doc_dir: Path | None) -> str:
    if is_url(value) or doc_dir is None:
        return value
    target = (params.base_dir / value).resolve()
    return Path(os.path.relpath(target, Path(doc_dir).resolve())).as_posix()


def default_doc_dir(params: ProjectParams, out_dir: Path | None = None) -> Path:
    """Where the runbook is written: <out>/<project>, <out> defaulting to build/ beside parameters/."""
    root = params.base_dir.parent if params.base_dir.name == "parameters" else params.base_dir
    return Path(out_dir or root / "build") / params.project.name


def inputs(*lists: list[RStep]) -> list[str]:
    """The shell variables a procedure's steps use before any of its steps sets them, in order of
    first use (the shell's own variables left out): the procedure must name them as inputs."""
    seen: set[str] = set()
    out: list[str] = []
    for rsteps in lists:
        for s in rsteps:
            if not s.command:
                continue
            script = parse_script(s.command)
            sets = sorted(script.sets, key=lambda x: x[1])
            for var, line in sorted(script.uses, key=lambda x: x[1]):
                if var in seen or var.isdigit() or predefined(var, ()) or any(v == var and ln <= line for v, ln in sets):
                    continue
                seen.add(var)
                out.append(var)
            seen.update(v for v, _ in sets)
    return out
