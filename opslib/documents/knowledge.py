"""The team's own entries (the parameters' `knowledge:`) checked like generated content, each
finding naming the file and line the entry is written at.

    check_entries(params, items) -> list[Finding]   troubleshooting entries and procedures (runbook items)
    check_alerts(params, item)   -> list[Finding]   own alerts: rendered, named once, accepted by promtool

A troubleshooting entry or procedure must render (its templates use only the names catalog
commands have), give at least one command of a known CLI, and hold no unfilled placeholder; an
alert must render, have a name no generated alert has, and be accepted by `promtool check rules`.
The documents that show the entries (runbook.md, alerts.yml) are refused when one fails.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import yaml

from opslib.check.alerts import promtool
from opslib.check.commands import has_command, project_clis
from opslib.check.findings import Finding
from opslib.check.markdown import Fence, parse
from opslib.check.placeholders import find_placeholders
from opslib.core.templates import render_string
from opslib.documents.commands import RStep, command_context, steps
from opslib.errors import CatalogError
from opslib.params.knowledge import merged, origin
from opslib.params.models import ProjectParams

__all__ = ["check_entries", "check_alerts"]


def _markdown(title: str, rendered: list[RStep]) -> str:
    out = [f"### {title}", ""]
    for s in rendered:
        out.append(f"- {s.text}")
        if s.command:
            out += ["", "```bash", s.command, *(f"# {x}" for x in (s.expected or "").splitlines()), "```", ""]
    return "\n".join(out) + "\n"


def _entry_findings(params: ProjectParams, item: str, where: str, title: str, raw_steps: list, texts: list[str]) -> list[Finding]:
    ctx = command_context(params, params.production, params.catalog.platform(params.platform))
    try:
        rendered = steps(raw_steps, params, ctx, where)
        prose = [render_string(t, ctx, where) for t in (title, *texts)]
    except CatalogError as exc:
        return [Finding(item, "fail", f"{where}: {str(exc).split(': ', 1)[-1]}")]
    doc = parse(_markdown(prose[0], rendered) + "\n".join(prose[1:]) + "\n")
    clis = project_clis(params)
    out = []
    if not any(has_command(f, clis) for f in doc.fences):
        out.append(Finding(item, "fail", f"{where}: no command of a known CLI; give the exact command an operator runs (known: the platform's tools and opslib/data/known-clis.yaml)"))
    for n, step in enumerate(rendered, 1):
        if step.command and not has_command(Fence("bash", step.command, 0), clis):
            out.append(Finding(item, "fail", f"{where}: step {n} ({step.text[:40]!r}): {step.command.splitlines()[0][:60]!r} does not start with a known CLI; "
                                             "write the exact command, or move the advice into the step's text"))
    out += [Finding(item, "fail", f"{where}: unfilled placeholder {hit!r}; replace it with a real value", severity=sev) for _n, hit, sev in find_placeholders(doc)]
    return out


def check_entries(params: ProjectParams, items: dict[str, str]) -> list[Finding]:
    """Every own troubleshooting entry and procedure; `items` maps 'troubleshooting' and 'procedures'
    to the quality-bar item a failure is reported under."""
    own = merged(params)
    out: list[Finding] = []
    for i, e in enumerate(own.troubleshooting):
        where = f"{origin(params, 'troubleshooting', i)}: knowledge troubleshooting entry {e.id!r}"
        out += _entry_findings(params, items["troubleshooting"], where, e.title, [*e.diagnostics, *e.solution], [*e.symptoms, e.cause])
    for i, p in enumerate(own.procedures):
        where = f"{origin(params, 'procedures', i)}: knowledge procedure {p.title!r}"
        out += _entry_findings(params, items["procedures"], where, p.title, list(p.steps), [])
    return out


def check_alerts(params: ProjectParams, item: str, generated: list[str], rendered: dict[str, str]) -> list[Finding]:
    """The team's own alerts: a name of its own (`generated`: every other alert's name) and an
    expression promtool accepts (`rendered`: alert name → rendered expression)."""
    own = merged(params)
    out: list[Finding] = []
    seen: set[str] = set()
    for i, a in enumerate(own.alerts):
        where = f"{origin(params, 'alerts', i)}: knowledge alert {a.alert!r}"
        if a.alert in generated or a.alert in seen:
            out.append(Finding(item, "fail", f"{where}: the name is taken (by a generated alert or another own one); give the alert its own name", area="alerts"))
        seen.add(a.alert)
        expr = rendered.get(a.alert)
        if expr is None:
            continue
        with tempfile.TemporaryDirectory(prefix="opslib-own-alert-") as tmp:
            path = Path(tmp) / "rule.yml"
            path.write_text(yaml.safe_dump({"groups": [{"name": "own", "rules": [{"alert": a.alert, "expr": expr}]}]}), encoding="utf-8")
            res = promtool("check", "rules", path.name, cwd=path.parent)
        if res is not None and res[0] != 0:
            reason = next((ln.strip() for ln in res[1].splitlines() if "error" in ln.lower() or "parse" in ln.lower()), res[1].strip()[-300:])
            out.append(Finding(item, "fail", f"{where}: promtool refuses the expression ({reason}); fix expr", area="alerts"))
    return out
