"""The command engine: a platform's catalog steps (Jinja templates) rendered with one
project's names — the targets of an environment (namespace, app, function prefix …), its
services and datastores. Every document that shows a command gets it from here, with each
interpolated value quoted for the shell it lands in (render_string(…, shell=True)).
"""

from __future__ import annotations

import itertools
import os
import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from opslib.catalog.loaders import Step
from opslib.catalog.platforms import Platform
from opslib.check.safety import predefined
from opslib.check.shell import parse_script
from opslib.core.templates import render_string
from opslib.params.models import Datastore, Environment, ProjectParams, Service, is_url

__all__ = ["RStep", "service_url", "scale_p95_ms", "DatastoreView", "datastore_view", "KIND_OF", "resolve_targets", "command_context", "steps", "relative_link", "default_doc_dir", "inputs", "input_note", "INPUT_HINT"]


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
    times: int = 1  # items a merged `for_each` step covers (its stated wait holds once per item)


def resolve_targets(params: ProjectParams, env: Environment, platform: Platform) -> dict[str, str]:
    """The environment's names on the platform: its own (`environments[].target`), else the
    default, which may use the names above it (`deployer@{{ target.gcp_project }}…`)."""
    where = f"{platform.label}/platform.yaml target"
    out: dict[str, str] = {}
    for key, spec in platform.target.items():
        out[key] = env.target.get(key) or render_string(spec.default, {"project": params.project, "env": env, "target": dict(out)}, where)
    return out


def scale_p95_ms(params: ProjectParams) -> int:
    """The p95 response time autoscaling aims at: the tightest latency SLO's threshold (scaling
    later than that breaks the objective first), 800 ms without a latency SLO."""
    limits = [s.threshold_ms for s in params.monitoring.slos if s.sli == "latency" and s.threshold_ms]
    return min(limits) if limits else 800


def command_context(params: ProjectParams, env: Environment, platform: Platform) -> dict[str, Any]:
    return {"project": params.project, "env": env, "target": resolve_targets(params, env, platform), "deploy": params.deploy,
            "scale_p95_ms": scale_p95_ms(params)}


KIND_OF = {"service": ("web", "worker"), "web_service": ("web",), "worker_service": ("worker",), "job_service": ("job",),
           "any_service": ("web", "worker", "job")}


def service_url(service: Service, env: Environment) -> str:
    """The public base URL a web service's health path is appended to in `env` (its route), "" for an
    internal web service (checked from inside the platform: `{% if service_url %}` in the catalog) and other kinds."""
    return service.url_in(env) or ""


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


_LOOP_VARS = ("SERVICE", "ITEM", "NAME_OF_ITEM")


def _states(code: str) -> list[str]:
    """The quoting state before each character of shell code: "'" inside '…', '"' inside "…", "" outside."""
    out, state, i = [], "", 0
    while i < len(code):
        ch = code[i]
        out.append(state)
        if state == "'":
            state = "" if ch == "'" else state
        elif ch == "\\" and i + 1 < len(code):
            out.append(state)
            i += 1
        elif state == '"':
            state = "" if ch == '"' else state
        elif ch in "'\"":
            state = ch
        i += 1
    return out


def _name(name: str) -> re.Pattern[str]:
    """An item's name as a whole word of shell code (not inside a longer name or after `$`)."""
    return re.compile(rf"(?<![\w$]){re.escape(name)}(?!\w)")


def _parameterised(name: str, code: str, var: str, keep: frozenset[int] = frozenset()) -> str | None:
    """`code` with the item's `name` replaced by "${VAR}" (inside "…" by ${VAR}), except the
    occurrences numbered in `keep`; None when the name does not occur or a replaced one is inside
    '…' (or a heredoc), where a variable would not expand."""
    if "<<" in code:
        return None
    states = _states(code)
    parts, last = [], 0
    for n, m in enumerate(_name(name).finditer(code)):
        if n in keep:
            continue
        state = states[m.start()] if m.start() < len(states) else ""
        if state == "'":
            return None
        parts += [code[last:m.start()], f"${{{var}}}" if state == '"' else f'"${{{var}}}"']
        last = m.end()
    if not parts:
        return None
    return "".join(parts) + code[last:]


def _shape(names: list[str], commands: list[str], var: str) -> str | None:
    """The one command that gives each item's command when VAR is its name: the name replaced
    where it is the item's (not where it is part of another name: a service `notifier` in the
    project `sms-notifier`), or None."""
    found = len(_name(names[0]).findall(commands[0]))
    if not found or found > 8:
        return None
    for size in range(found + 1):  # keep as few occurrences as the other items' commands allow
        for keep in itertools.combinations(range(found), size):
            shape = _parameterised(names[0], commands[0], var, frozenset(keep))
            if shape is not None and all(shape.replace(f'"${{{var}}}"', n).replace(f"${{{var}}}", n) == c
                                         for n, c in zip(names, commands, strict=True)):
                return shape
    return None


def _free_var(commands: list[str], preferred: str = "SERVICE") -> str | None:
    return next((v for v in (preferred, *_LOOP_VARS) if not any(v in c for c in commands)), None)


def _as_loop(names: list[str], commands: list[str]) -> str | None:
    """The commands of a `for_each` step as one `for` loop over the items, when each item's command
    is the same but for its name (never inside '…' or a heredoc, where a variable would not expand)."""
    var = _free_var(commands)
    body = _shape(names, commands, var) if var else None
    if body is None or var is None:
        return None
    if len(names) * len(commands[0].splitlines()) <= len(body.splitlines()) + 2:
        return None  # the commands one after the other are no longer than the loop
    return f"for {var} in {' '.join(names)}; do\n" + "\n".join("  " + ln for ln in body.splitlines()) + "\ndone"


def _choice(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


def _one(names: list[str], rendered: list[RStep], kind: str) -> list[RStep]:
    """A `one` step over several items: written once, for the first item, its name in a shell
    variable the reader sets to the item they are looking at (the others named). Where the
    commands differ in more than the name, each item's command: one line each under one step, else
    a step per item."""
    first = rendered[0]
    commands = [r.command or "" for r in rendered]
    if len(set(commands)) == 1:  # the same for every item (one image for a service and its job)
        return [RStep(first.text, first.command, first.expected)]
    var = _free_var(commands, {"datastore": "DATASTORE", "dependency": "PROVIDER"}.get(kind, "SERVICE"))
    body = _shape(names, commands, var) if var and all(commands) else None
    if body is not None and var is not None:
        return [RStep(f"{first.text} Set {var} to {_choice(names)}.", f"{var}={shlex.quote(names[0])}\n{body}", first.expected)]
    pattern = _name(names[0])
    if all(commands) and pattern.search(first.command or "") and all(pattern.sub(n, commands[0]) == c for n, c in zip(names, commands, strict=True)):
        return [RStep(f"{first.text} Shown for {names[0]}; for {_choice(names[1:])}, put its name in place of {names[0]}.",
                      first.command, first.expected)]
    if all(c.count("\n") == 0 for c in commands):  # one line each (a process type, not the name): the reader runs theirs
        return [RStep(f"{first.text} The line of the one you are looking at ({', '.join(names)}, in that order).",
                      "\n".join(c for c in commands if c) or None, first.expected)]
    return [RStep(f"**{n}**: {r.text}", r.command, r.expected) for n, r in zip(names, rendered, strict=True)]


def _merged(label: list[str], rendered: list[RStep]) -> RStep:
    """One step for a `for_each` step whose text is the same for every item: one loop over the
    items when their commands differ only in the item's name, else the commands one after the
    other; the expected output of the first item (a loop) or of each without repeats."""
    commands = [r.command for r in rendered if r.command]
    loop = _as_loop(label, commands) if len(commands) == len(rendered) else None
    expected: list[str] = []
    for r in rendered[:1] if loop else rendered:
        for line in (r.expected or "").splitlines():
            if line not in expected:
                expected.append(line)
    if loop and expected:
        expected[0] = f"{expected[0]}   (for {label[0]}; likewise for each)"
    return RStep(text=f"**{', '.join(label)}**: {rendered[0].text}", command=loop or "\n".join(commands) or None,
                 expected="\n".join(expected) or None, times=len(rendered))


def steps(raw: list[Step], params: ProjectParams, ctx: dict[str, Any], where: str, *, merge: bool = False, one: bool = False) -> list[RStep]:
    """Render catalog steps, expanding `for_each` over services, datastores or dependencies.
    A step whose text renders empty (`{% if … %}` around it) is left out. With `merge`, the
    items of a `for_each` step whose text reads the same become one step (one per distinct text).
    `one`: a service step whose `one` is unset acts on one service (troubleshooting entries)."""
    out = []
    for step in raw:
        items = _items(step, params)
        single = step.one if step.one is not None else one and bool(items) and items[0] is not None and items[0][0] == "service"
        rendered: list[tuple[str, RStep]] = []
        for item in items:
            local = dict(ctx)
            name = ""
            if item is not None:
                value = datastore_view(params, item[1], ctx["env"]) if item[0] == "datastore" else item[1]
                local[item[0]] = value
                if item[0] == "service":
                    local["service_url"] = service_url(item[1], ctx["env"])
                name = item[1].name
            text = render_string(step.text, local, where)
            if not text.strip():
                continue
            rendered.append((name, RStep(
                text=text,
                command=render_string(step.command, local, where, shell=True) if step.command else None,
                expected=render_string(step.expected, local, where) if step.expected else None,
            )))
        if (merge or single) and len(rendered) > 1:  # items whose text reads the same become one step (public and internal services apart)
            groups: dict[str, list[tuple[str, RStep]]] = {}
            for name, r in rendered:
                groups.setdefault(r.text, []).append((name, r))
            for group in groups.values():
                if single and len(group) > 1:
                    out.extend(_one([n for n, _r in group], [r for _n, r in group], items[0][0] if items and items[0] else ""))
                elif len(group) > 1:
                    out.append(_merged([n for n, _r in group], [r for _n, r in group]))
                else:
                    name, r = group[0]
                    out.append(RStep(f"**{name}**: {r.text}", r.command, r.expected) if name else r)
            continue
        for name, r in rendered:
            out.append(RStep(f"**{name}**: {r.text}", r.command, r.expected) if name and len(items) > 1 else r)
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


# what an input is, by the last word of its name, when the document does not say it elsewhere
INPUT_HINT = {
    "URL": "a URL, set it before you start; a datastore's connection URL holds its password: never echo it",
    "NAME": "the name shown by the diagnostics above or in the alert; set it before you start",
    "ID": "the id shown by the listing command; set it before you start",
    "TIME": "UTC, ISO 8601, from the incident timeline; set it before you start",
    "VALUE": "the new value, read into the shell without echo (`read -rs`); set it before you start",
    "RELEASE": "the release number shown by the listing of the Roll back now commands",
}


def input_note(names: list[str], known: dict[str, str]) -> str:
    """"`VAR` (where it comes from), …" for a procedure's inputs: what the document says of each
    (`known`), else the hint for the last word of its name."""
    return ", ".join(f"`{n}` ({known.get(n) or INPUT_HINT.get(n.rsplit('_', 1)[-1], 'set it before you start')})" for n in names)


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
