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
from opslib.core.templates import render_string
from opslib.params.models import Environment, ProjectParams, is_url

__all__ = ["RStep", "resolve_targets", "command_context", "steps", "relative_link", "default_doc_dir"]


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


def _items(step: Step, params: ProjectParams) -> list[tuple[str, Any] | None]:
    if step.for_each is None:
        return [None]
    if step.for_each == "datastore":
        return [("datastore", d) for d in params.datastores]
    kind = {"service": None, "web_service": "web", "worker_service": "worker"}[step.for_each]
    return [("service", s) for s in params.services if kind is None or s.kind == kind]


def steps(raw: list[Step], params: ProjectParams, ctx: dict[str, Any], where: str) -> list[RStep]:
    """Render catalog steps, expanding `for_each` over services or datastores."""
    out = []
    for step in raw:
        items = _items(step, params)
        for item in items:
            local = dict(ctx)
            label = ""
            if item is not None:
                local[item[0]] = item[1]
                label = f"**{item[1].name}**: " if len(items) > 1 else ""
            out.append(
                RStep(
                    text=label + render_string(step.text, local, where),
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
