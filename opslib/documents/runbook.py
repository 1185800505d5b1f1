"""The runbook: from parameters and catalogs to a `Runbook` model, to runbook.md.

    build(params, status)            -> Runbook   (pure: everything resolved, nothing rendered)
    render_runbook(runbook)          -> str       (Jinja, StrictUndefined)
    draft(params, status, out_dir)   -> Draft     (rendered and checked; opslib.documents.contract)
    preview(params, status, …)       -> Draft     (what the notebook shows)
    write(params, status, out_dir)   -> Written   (write_draft: refused when a check fails)
    check_written(out_dir, params)   -> [Finding]
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from opslib.catalog.loaders import TroubleshootingEntry
from opslib.catalog.platforms import Platform
from opslib.check.document import generic_findings
from opslib.check.facts import anchor_slug, step_wait
from opslib.check.findings import Finding
from opslib.check.markdown import parse
from opslib.check.runbook import ITEMS, MIN_ISSUES, check_runbook
from opslib.check.shell import parse_script
from opslib.check.truth import generated_truth
from opslib.core.cron import max_interval_minutes, parse_cron
from opslib.core.formatting import comment, duration
from opslib.core.templates import render, render_string
from opslib.documents.commands import RStep, command_context, datastore_view, default_doc_dir, input_note, inputs, relative_link, resolve_targets
from opslib.documents.commands import steps as _all_steps
from opslib.documents.contract import Draft, Written, check_file, write_draft
from opslib.documents.knowledge import check_entries
from opslib.documents.monitoring import AlertSpec, MetricRow, Unmonitored, alert_specs, metric_rows, missing_bucket, slo_text, unmonitored
from opslib.errors import ParamsError
from opslib.params.knowledge import merged
from opslib.params.knowledge import origin as knowledge_origin
from opslib.params.models import ProjectParams, Service, validation_problems
from opslib.params.status import StatusCheck

__all__ = ["DOC", "FILE", "Runbook", "build", "render_runbook", "draft", "preview", "write", "check_written", "with_platform"]

DOC = "runbook"
FILE = "runbook.md"
MANUAL = "procedures.md"  # the companion: maintenance, datastores, every known failure written out
IN_RUNBOOK = MIN_ISSUES  # troubleshooting entries written out in the runbook itself: as many as its check asks for


@dataclass(frozen=True)
class EnvSection:
    name: str
    url: str | None
    region: str
    replicas_min: int
    replicas_max: int
    approval_required: bool
    targets: list[tuple[str, str, str]]
    prerequisites: list[RStep]
    steps: list[RStep]
    migrations: list[RStep]
    verify: list[RStep]
    expected_minutes: int
    observe_minutes: int

    @property
    def total_minutes(self) -> int:
        """Deploy and observation, start to verified."""
        return self.expected_minutes + self.observe_minutes


@dataclass(frozen=True)
class EnvDiff:
    """How one environment's deployment differs from the procedure written out (production's):
    `steps` holds (part, step number, that environment's step) for every step that differs in more
    than the names of the environment table; `replaced` lists whole parts that differ."""

    name: str
    steps: list[tuple[str, int, RStep]]
    replaced: list[tuple[str, list[RStep]]]

    @property
    def same(self) -> bool:
        return not self.steps and not self.replaced


@dataclass(frozen=True)
class AlertSection:
    """One alert's section: the heading is the alert's name, the anchor its runbook_url opens."""

    alert: str
    name: str
    severity: str
    threshold: str
    impact: str
    action: str
    first: list[Issue]  # the troubleshooting entries to read first


@dataclass(frozen=True)
class HealthCheck:
    service: str
    url: str
    expected_status: int
    expected_body: str
    readiness_url: str
    readiness_status: int
    readiness_body: str


@dataclass(frozen=True)
class Procedure:
    title: str
    steps: list[RStep]


@dataclass(frozen=True)
class JobRow:
    name: str
    schedule: str
    max_gap: str
    timeout_minutes: int
    done_when: str
    command: str | None


@dataclass(frozen=True)
class Jobs:
    rows: list[JobRow]
    show: list[RStep]
    run_now: list[RStep]
    runs: list[RStep]
    suspend: list[RStep]
    resume: list[RStep]


@dataclass(frozen=True)
class DependencyRow:
    title: str
    purpose: str
    services: str
    status: str
    rate_limit: str
    calls: str
    fallback: str
    secrets: str


@dataclass(frozen=True)
class SloRow:
    name: str
    text: str
    note: str | None


@dataclass(frozen=True)
class DatastoreOps:
    name: str
    title: str
    kind: str
    backup_schedule: str | None
    migration_tool: str | None
    status: list[RStep]
    backup: list[RStep]
    restore: list[RStep]


@dataclass(frozen=True)
class Issue:
    id: str
    title: str
    category: str
    symptoms: list[str]
    cause: str
    diagnostics: list[RStep]
    solution: list[RStep]
    escalate_after_minutes: int
    escalate_to: str
    origin: str = ""  # where a team's own entry is written (knowledge:), for error messages


@dataclass(frozen=True)
class MoreIssue:
    """A known failure of the platform or a datastore that no alert of the project points to first:
    one row (what fails, why, the first check) instead of a section."""

    id: str
    title: str
    category: str
    cause: str
    check: str


@dataclass(frozen=True)
class TreeNode:
    question: str
    issues: list[Issue]
    more: list[MoreIssue] = field(default_factory=list)


@dataclass(frozen=True)
class DataRollback:
    datastore: str
    tool: str
    current: RStep
    downgrade: RStep | None
    notes: str


@dataclass(frozen=True)
class Runbook:
    project: Any
    platform: Platform
    status: StatusCheck
    focus: str
    links: list[tuple[str, str]]
    services: list[Service]
    environments: list[EnvSection]
    start: list[RStep]
    stop: list[RStep]
    restart: list[RStep]
    process_status: list[RStep]
    health: list[HealthCheck]
    automated_checks: list[str]
    log_location: str
    log_tail: list[RStep]
    log_search: list[RStep]
    logs: Any
    scale_manual: list[RStep]
    scale_auto: list[RStep]
    scale_notes: list[str]
    replicas_min: int
    replicas_max: int
    maintenance: list[Procedure]
    datastores: list[DatastoreOps]
    metrics: list[MetricRow]
    monitoring: Any
    contacts: Any
    tree: list[TreeNode]
    issues: list[Issue]
    rollback_identify: list[RStep]
    rollback_steps: list[RStep]
    rollback_verify: list[RStep]
    rollback_minutes: int
    data_rollback: list[DataRollback]
    rollback_triggers: list[str]
    deploy: Any
    env_table: list[tuple[str, list[str]]] = field(default_factory=list)  # (row label, a value per environment)
    env_diffs: list[EnvDiff] = field(default_factory=list)
    more_issues: list[MoreIssue] = field(default_factory=list)  # known failures no alert of the project points to first
    alerts: list[AlertSection] = field(default_factory=list)
    variables: list[tuple[str, str, str]] = field(default_factory=list)
    given: frozenset[str] = frozenset()  # variables the platform or the secret store sets (the secrets' env vars)
    unmonitored: list[Unmonitored] = field(default_factory=list)  # service alerts the platform cannot have, with the reason
    worker_health: list[RStep] = field(default_factory=list)
    internal_health: list[RStep] = field(default_factory=list)  # internal web services, checked from inside the platform
    jobs: Jobs | None = None
    dependencies: list[DependencyRow] = field(default_factory=list)
    slos: list[SloRow] = field(default_factory=list)
    manual_issues: list[Issue] = field(default_factory=list)  # known failures written out in the procedures document only
    manual: str = MANUAL

    def inputs(self, *lists: list[RStep], base: str = "", rollback: bool = False) -> str:
        """The line that names a procedure's inputs (variables its steps use before setting
        them), with where each comes from; empty when there are none. `base` is the runbook's
        file name when the line is written in another document (the procedures document);
        `rollback`: the line is written above the Roll back now commands themselves."""
        names = [n for n in inputs(*lists) if n not in self.given]
        if not names:
            return ""
        known = {name: meaning for name, _example, meaning in self.variables}
        known["PREVIOUS_VERSION"] = ("the last good release: set it to the tag before the current one that the listing below shows" if rollback else
                                     f"the last good release, see [Roll back {self.focus} now]({base}#roll-back-{anchor_slug(self.focus)}-now)")
        known["VERSION"] = f"the release tag deployed last, the one a rollback leaves; see [Deployment procedure]({base}#deployment-procedure)"
        return f"Inputs: {input_note(names, known)}.\n\n"

    def href(self, issue: Issue | MoreIssue) -> str:
        """Where a known failure is written out: its section in the runbook, or in the manual."""
        here = any(i.id == issue.id for i in self.issues)
        return f"{'' if here else self.manual}#{anchor_slug(issue.title)}"

    @property
    def release_variables(self) -> list[tuple[str, str, str]]:
        """The release variables the prerequisites do not set themselves (no variable set twice)."""
        text = "\n".join(s.command or "" for s in self.procedure.prerequisites)
        return [v for v in self.variables if not re.search(rf"(^|[\s;&|(]){v[0]}=", text, re.M)]

    def block(self, *lists: list[RStep]) -> str:
        """Steps as one shell block: each step's text as a numbered comment, then its command and
        expected output (read-only diagnostics and the first screen's rollback, where one block reads faster)."""
        out: list[str] = []
        assigned: dict[str, str] = {}  # a variable a step of this block set: its value (set again to the same, the line is left out)
        for n, s in enumerate([s for items in lists for s in items], 1):
            text = re.sub(r"\[([^\]]*)\]\(#([^)]*)\)", r"\1 (#\2)", s.text).replace("`", "").replace("**", "")
            out.append(comment(f"{n}. {text}"))
            if s.command:
                lines = s.command.splitlines()
                first = _ASSIGN.match(lines[0])
                if first and assigned.get(first[1]) == first[2] and len(lines) > 1:
                    lines = lines[1:]
                for var, row in parse_script("\n".join(lines)).sets:  # what the shell parser sees set (a loop, a read too)
                    m = _ASSIGN.match(lines[row]) if row < len(lines) else None
                    if m and m[1] == var:
                        assigned[var] = m[2]
                    else:
                        assigned.pop(var, None)
                out.append("\n".join(lines))
            if s.expected:
                out.append(comment(s.expected))
        return "\n".join(out)

    def issue_block(self, issue: Issue) -> str:
        """A known failure's diagnostics, then its solution, as one block: each step says which it is."""
        return self.block([replace(s, text=f"Diagnose: {s.text}") for s in issue.diagnostics],
                          [replace(s, text=f"Fix: {s.text}") for s in issue.solution])

    @property
    def diff_steps(self) -> list[RStep]:
        return [s for d in self.env_diffs for s in [*(x[2] for x in d.steps), *(y for _t, items in d.replaced for y in items)]]

    @property
    def procedure(self) -> EnvSection:
        """The deployment procedure written out in full: the focus environment's (production by default)."""
        return next(e for e in self.environments if e.name == self.focus)

    @property
    def others(self) -> list[str]:
        return [e.name for e in self.environments if e.name != self.focus]

    @property
    def escalate_step(self) -> int:
        """The decision tree's last step: none of the questions matched."""
        return len(self.tree) + 1


def steps(raw: list, params: ProjectParams, ctx: dict[str, Any], where: str, *, one: bool = False) -> list[RStep]:
    """The runbook's steps: a step repeated for several services with the same text is written once
    (`one`: a service step acts on one service unless it says otherwise, as in troubleshooting)."""
    return _all_steps(raw, params, ctx, where, merge=True, one=one)


_ASSIGN = re.compile(r"^(?:export )?([A-Za-z_]\w*)=([\w.-]+)$")  # a literal value (`SERVICE=api`, the item a `one` step is written for)
_WORKER_ONLY = re.compile(r"^(\w+ )?workers?\b", re.I)  # a scaling note about workers (it starts so), for a project without one
_WEB_ONLY = re.compile(r"\b(web container|web dyno|health path|health endpoint|uptime check|router|load balancer|ingress|liveness probe|readiness probe)", re.I)


def troubleshooting_entries(params: ProjectParams) -> list[tuple[TroubleshootingEntry, str]]:
    """The platform's entries, the shared ones and the project's catalog folders' (catalog.troubleshooting),
    then the team's own (knowledge:, replacing an entry of the same id), each with where it is written
    ('' for the shipped catalogs)."""
    own = {e.id: (e, knowledge_origin(params, "troubleshooting", i)) for i, e in enumerate(merged(params).troubleshooting)}
    out = [own.pop(e.id, (e, "")) for e in params.catalog.troubleshooting(params.platform)]
    return out + list(own.values())


def _waits(rsteps: list[RStep]) -> int:
    """Minutes the steps wait (watch, observe, soak…), as the duration rule counts them: a
    configured deploy.expected_minutes below this cannot be right."""
    total = 0
    for s in rsteps:
        wait = step_wait(s.text, s.command or "")
        if wait is not None:
            total += wait[0] * wait[1] * s.times
    return total


_PARTS = (("prerequisites", "Prerequisites"), ("migrations", "Database migrations"), ("steps", "Steps"), ("verify", "Verification"))


def _env_names(params: ProjectParams, env: Any, platform: Platform) -> dict[str, str]:
    """The names that differ between environments: the platform's targets, URL, region and the
    datastores' real names."""
    out = {f"target.{k}": v for k, v in resolve_targets(params, env, platform).items()}
    out["url"] = env.url or ""
    out["region"] = env.region
    for ds in params.datastores:
        out[f"datastore.{ds.name}"] = ds.resource_for(params.project.name, env.name)
    return out


# an instance count in a command (`--replicas=3`, `--min 2`, `--desired-count 3`): the table's "Instances per service" row
_COUNT = re.compile(r"((?:replicas|min|max|count|capacity|instances)[\w-]*[= ])(\d+)\b")
# … or in the text before what it counts (`beside the 2 stable tasks`)
_COUNT_BEFORE = re.compile(r"\b(\d+)(?=(?: (?:stable|canary|running|healthy|old|new))? (?:tasks?|pods?|replicas|instances|dynos?|machines|VMs)\b)")


def _translate(a: dict[str, str], b: dict[str, str], counts: dict[str, str]) -> Any:
    """A function that rewrites a step of the environment with names `a` into the one with names `b`
    (instance counts by `counts`); expected outputs are examples and are not compared."""
    pairs = {a[k]: b[k] for k in a if a[k] and a[k] != b.get(k, a[k])}
    # whole names only: a retention of 90 days is not the 90 inside an account id
    rx = re.compile("(?<![A-Za-z0-9])(" + "|".join(re.escape(k) for k in sorted(pairs, key=len, reverse=True)) + ")(?![A-Za-z0-9])") if pairs else None

    def sub(t: str | None) -> str | None:
        if not t:
            return t
        t = rx.sub(lambda m: pairs[m.group(0)], t) if rx else t
        t = _COUNT.sub(lambda m: m.group(1) + counts.get(m.group(2), m.group(2)), t)
        return _COUNT_BEFORE.sub(lambda m: counts.get(m.group(1), m.group(1)), t)

    return lambda r: (sub(r.text), sub(r.command))


def _diff(shown: EnvSection, other: EnvSection, a: dict[str, str], b: dict[str, str]) -> EnvDiff:
    """What of `other`'s deployment is not `shown`'s with `other`'s names."""
    counts = {str(shown.replicas_min): str(other.replicas_min), str(shown.replicas_max): str(other.replicas_max)}
    tr = _translate(a, b, counts)
    changed: list[tuple[str, int, RStep]] = []
    replaced: list[tuple[str, list[RStep]]] = []
    for attr, title in _PARTS:
        mine, theirs = getattr(shown, attr), getattr(other, attr)
        if len(mine) != len(theirs):
            replaced.append((title, theirs))
            continue
        changed += [(title, i, y) for i, (x, y) in enumerate(zip(mine, theirs, strict=True), 1) if tr(x) != (y.text, y.command)]
    return EnvDiff(other.name, changed, replaced)


def _env_table(params: ProjectParams, platform: Platform, envs: list[EnvSection]) -> list[tuple[str, list[str]]]:
    rows: list[tuple[str, list[str]]] = [
        ("URL", [e.url or "none (serves no HTTP)" for e in envs]),
        ("Region", [e.region for e in envs]),
        ("Instances per service", [f"{e.replicas_min}–{e.replicas_max}" for e in envs]),
        ("Approval before the deploy", ["required" if e.approval_required else "not required" for e in envs]),
    ]
    for i, (key, _value, desc) in enumerate(envs[0].targets):
        rows.append((f"`{key}`: {desc}", [f"`{e.targets[i][1]}`" for e in envs]))
    by_env = {env.name: env for env in params.environments}
    for ds in params.datastores:
        rows.append((f"`{ds.name}`: real name of the datastore", [f"`{ds.resource_for(params.project.name, by_env[e.name].name)}`" for e in envs]))
    rows.append(("Expected duration", [f"{e.total_minutes} min" + (f" ({e.expected_minutes} deploy + {e.observe_minutes} observation)" if e.observe_minutes else "")
                                       for e in envs]))
    return rows


def _alert_kind(a: AlertSpec) -> tuple[str, str | None]:
    """What an alert watches, for its guide: a dependency (and its name), a worker's queue, a job, else its signal."""
    if a.dependency:
        return "dependency", a.dependency
    if not a.slo and a.kinds in (("worker",), ("job",)):
        return a.kinds[0], None
    return a.signal, None


def _alert_sections(params: ProjectParams, specs: list[AlertSpec], issues: list[Issue]) -> list[AlertSection]:
    guides = params.catalog.alert_guides()
    out = []
    for a in specs:
        kind, dep = _alert_kind(a)
        guide = guides.get(kind) or guides.get(a.signal)
        cats = guide.categories if guide else []
        if dep is not None:
            mine = [i for i in issues if i.id.endswith(f"-{dep}")]
            first = sorted(mine, key=lambda i: 0 if i.category == a.signal else 1)
        else:  # one entry of each category in turn, most likely category first
            per = [[i for i in issues if i.category == c] for c in cats]
            first = [col[n] for n in range(max((len(c) for c in per), default=0)) for col in per if n < len(col)]
        out.append(AlertSection(a.alert, a.name, a.severity, a.threshold, guide.impact if guide else "", a.action, first[:3]))
    return out


def _first_sentence(text: str) -> str:
    m = re.match(r"(.+?[.;:])(\s|$)", text.strip())
    return (m.group(1) if m else text.strip()).rstrip(".;:")


def _ranked(issues: list[Issue], alerts: list[AlertSection]) -> tuple[list[Issue], list[MoreIssue], list[Issue]]:
    """The runbook writes out the team's own entries, the entry each alert sends the on-call engineer
    to first, and more of those its alerts point to most (paging alerts count double) up to
    IN_RUNBOOK, in the decision tree's order; every other
    known failure is one row (cause, first check) there and written out in the procedures document,
    which also gets the entries in the order of the decision tree."""
    score: dict[str, int] = {}
    for a in alerts:
        for n, i in enumerate(a.first):
            score[i.id] = score.get(i.id, 0) + (2 if a.severity == "page" else 1) * (3 - min(n, 2))
    order = {c: n for n, c in enumerate(dict.fromkeys(i.category for i in issues))}  # the decision tree's order
    own = [i for i in issues if i.origin]
    firsts = {a.first[0].id for a in alerts if a.first}  # what each alert's section sends the engineer to first
    ranked = sorted((i for i in issues if not i.origin), key=lambda i: (i.id not in firsts, -score.get(i.id, 0), order[i.category]))
    top = ranked[: max(IN_RUNBOOK - len(own), len(firsts & {i.id for i in ranked}))]
    full = sorted([*own, *top], key=lambda i: (order[i.category], -score.get(i.id, 0)))
    more = []
    for i in issues:
        if i in full:
            continue
        first = i.diagnostics[0] if i.diagnostics else None
        cmd = (first.command or "") if first else ""
        check = f"`{cmd}`" if cmd and "\n" not in cmd and "|" not in cmd and "`" not in cmd else (first.text if first else "")
        more.append(MoreIssue(i.id, i.title, i.category, _first_sentence(i.cause), check))
    manual = sorted((i for i in issues if i not in full), key=lambda i: order[i.category])
    return full, more, manual


def _shown_once(issues: list[Issue], earlier: dict[str, list[RStep]]) -> list[Issue]:
    """Troubleshooting entries whose diagnostic commands were shown before (under Operations, or in
    an earlier entry) point there instead of repeating them; solutions keep their commands."""
    seen = {s.command: f"[{title}](#{anchor_slug(title)})" for title, rsteps in earlier.items() for s in rsteps if s.command}
    out = []
    for i in issues:
        diagnostics = [RStep(f"{s.text.rstrip('.')}: run the command shown under {seen[s.command]}.", None, s.expected, s.times)
                       if s.command and s.command in seen else s for s in i.diagnostics]
        if not any(s.command for s in [*diagnostics, *i.solution]):
            diagnostics = i.diagnostics  # an entry keeps at least one command of its own
        seen.update({s.command: f"[{i.title}](#{anchor_slug(i.title)})" for s in diagnostics if s.command and s.command not in seen})
        out.append(replace(i, diagnostics=diagnostics))
    return out


def _escalation_for(params: ProjectParams, minutes: int) -> str:
    """The escalation step in force `minutes` after the page."""
    chain = params.contacts.escalation
    later = [s for s in chain if s.after_minutes >= minutes]
    step = later[0] if later else chain[-1]
    return f"{step.who} ({step.contact})"


def build(
    params: ProjectParams,
    status: StatusCheck,
    focus: str | None = None,
    doc_dir: Path | None = None,
) -> Runbook:
    """Resolve everything the runbook shows. `focus` is the environment whose names the
    Operations, Troubleshooting and Rollback commands use (default: production)."""
    catalog = params.catalog
    platform = catalog.platform(params.platform)
    focus_env = params.environment(focus) if focus else params.production
    where = f"{platform.label}/platform.yaml"

    envs = []
    for env in params.environments:
        ctx = command_context(params, env, platform)
        migrations: list[RStep] = []
        for ds in params.datastores:
            if ds.migration_tool:
                tool = catalog.migration_tools()[ds.migration_tool]
                mctx = dict(ctx, datastore=datastore_view(params, ds, env))
                if platform.release_migrations and platform.one_off:  # the platform runs them: the reader checks the revision
                    migrations += [replace(s, command=render_string(platform.one_off, dict(ctx, command=s.command), where))
                                   for s in steps([tool.current], params, mctx, "opslib/data/migration-tools.yaml")]
                else:
                    migrations += steps([tool.current, tool.upgrade], params, mctx, "opslib/data/migration-tools.yaml")
        prerequisites = steps(platform.prerequisites, params, ctx, where)
        deploy_steps = steps(platform.deploy[params.deploy.strategy], params, ctx, where)
        verify = steps(platform.verify, params, ctx, where)
        envs.append(
            EnvSection(
                name=env.name,
                url=env.url,
                region=env.region,
                replicas_min=env.replicas.min,
                replicas_max=env.replicas.max,
                approval_required=env.approval_required,
                targets=[(k, v, platform.target[k].description) for k, v in ctx["target"].items()],
                prerequisites=prerequisites,
                steps=deploy_steps,
                migrations=migrations,
                verify=verify,
                expected_minutes=max(params.deploy.expected_minutes, _waits([*prerequisites, *deploy_steps, *migrations, *verify])),
                observe_minutes=params.deploy.observe_minutes if env is params.production else 0,
            )
        )

    ctx = command_context(params, focus_env, platform)
    health = [
        HealthCheck(
            service=s.name,
            url=f"{url}{s.health.path}",
            expected_status=s.health.expected_status,
            expected_body=s.health.expected_body,
            readiness_url=f"{url}{s.readiness.path}",
            readiness_status=s.readiness.expected_status,
            readiness_body=s.readiness.expected_body,
        )
        for s in params.services
        if s.kind == "web" and s.health and s.readiness and (url := s.url_in(focus_env))
    ]
    internal = platform.web.internal
    internal_health = steps(internal.steps, params, ctx, where) if internal is not None and internal.steps else []
    kinds = {s.kind for s in params.services}
    worker_health: list[RStep] = []
    automated = [render_string(t, ctx, where) for t in platform.operations.automated_checks]
    if "worker" in kinds and not platform.workers.unsupported:
        wk = platform.workers
        worker_health = steps(wk.health or [], params, ctx, where)
        for cap in (wk.exec, wk.metrics):
            if cap is not None and cap.steps:
                worker_health += steps(cap.steps, params, ctx, where)
        automated += [render_string(t, ctx, where) for t in wk.automated_checks]
    jobs = None
    if "job" in kinds and not platform.jobs.unsupported:
        j = platform.jobs
        rows = [JobRow(s.name, s.schedule or "", duration((max_interval_minutes(parse_cron(s.schedule or "@daily")) or 0) * 60),
                       s.job_timeout_minutes, s.done_when or "", s.command) for s in params.services if s.kind == "job"]
        jobs = Jobs(rows, *(steps(getattr(j, k) or [], params, ctx, where) for k in ("show", "run_now", "runs", "suspend", "resume")))
        automated += [render_string(t, ctx, where) for t in j.automated_checks]
    if not any(s.kind == "web" for s in params.services):
        automated = [t for t in automated if not _WEB_ONLY.search(t)]

    stores = []
    for ds in params.datastores:
        svc = catalog.datastore_services()[ds.service]
        dctx = dict(ctx, datastore=datastore_view(params, ds, focus_env))
        w = "opslib/data/datastores.yaml"
        stores.append(
            DatastoreOps(
                name=ds.name, title=svc.title, kind=svc.kind, backup_schedule=ds.backup_schedule,
                migration_tool=ds.migration_tool,
                status=steps(svc.status, params, dctx, w), backup=steps(svc.backup, params, dctx, w),
                restore=steps(svc.restore, params, dctx, w),
            )
        )

    engines = {catalog.datastore_services()[d.service].engine for d in params.datastores}
    store_kinds = {catalog.datastore_services()[d.service].kind for d in params.datastores}
    tw = f"{platform.label}/troubleshooting.yaml (or a shared troubleshooting.yaml)"
    issues = []
    for e, origin in troubleshooting_entries(params):
        if ((e.requires_engine is not None and e.requires_engine not in engines) or (e.requires_kind is not None and e.requires_kind not in kinds)
                or (e.requires_datastore_kind is not None and e.requires_datastore_kind not in store_kinds)):
            continue
        for dep in (params.dependencies if e.per == "dependency" else [None]):
            ectx = dict(ctx, dependency=dep) if dep is not None else ctx
            diagnostics = steps(e.diagnostics, params, ectx, origin or tw, one=True)
            if not diagnostics:  # every diagnostic is per service of a kind the project does not have
                continue
            issues.append(Issue(
                id=e.id if dep is None else f"{e.id}-{dep.name}", title=render_string(e.title, ectx, origin or tw), category=e.category,
                symptoms=[render_string(x, ectx, origin or tw) for x in e.symptoms], cause=render_string(e.cause, ectx, origin or tw),
                diagnostics=diagnostics, solution=steps(e.solution, params, ectx, origin or tw, one=True),
                escalate_after_minutes=e.escalate_after_minutes,
                escalate_to=_escalation_for(params, e.escalate_after_minutes),
                origin=origin,
            ))
    specs = alert_specs(params)
    alerts = _alert_sections(params, specs, issues)
    issues, more, manual_issues = _ranked(issues, alerts)
    tree = [
        TreeNode(question=n.question, issues=[i for i in issues if i.category == n.category],
                 more=[m for m in more if m.category == n.category])
        for n in catalog.decision_tree()
    ]
    tree = [n for n in tree if n.issues or n.more]

    data_rollback = []
    for ds in params.datastores:
        if ds.migration_tool:
            tool = catalog.migration_tools()[ds.migration_tool]
            dctx = dict(ctx, datastore=datastore_view(params, ds, focus_env))
            w = "opslib/data/migration-tools.yaml"
            data_rollback.append(
                DataRollback(
                    datastore=ds.name, tool=tool.title,
                    current=steps([tool.current], params, dctx, w)[0],
                    downgrade=steps([tool.downgrade], params, dctx, w)[0] if tool.downgrade else None,
                    notes=render_string(tool.notes, dctx, w),
                )
            )

    metrics = metric_rows(params, specs)
    # the fastest page of each signal (seeds 003/004: the error rate, the latency), not the first two (both were errors)
    first_page = {sig: next((m for m in metrics if m.severity == "page" and m.signal == sig), None) for sig in ("errors", "latency")}
    triggers = [f"{m.name} {m.threshold} (severity {m.severity})" for m in first_page.values() if m is not None]
    if "web" in kinds:
        triggers.append(f"health check of any web service does not return the expected response for {params.deploy.observe_minutes} min after the deploy")
    if "worker" in kinds:
        triggers.append(f"a worker crash-loops or stops consuming (its queue's oldest message keeps ageing) within {params.deploy.observe_minutes} min after the deploy")
    if "job" in kinds:
        triggers.append("the first run of a scheduled job on the new release fails (Operations → Scheduled jobs → Run now)")
    triggers.append("a data-corrupting bug is found (roll back and restore data before anything else)")
    triggers.append("a security vulnerability is found in the release (roll back, then fix forward)")
    slos = [SloRow(x.name, slo_text(x), (f"the services expose no http_request_duration_seconds bucket at {missing_bucket(params, x)} s: add le={missing_bucket(params, x)} "
                                         f"to the histogram's buckets (and to monitoring.latency_buckets_ms); until then this objective cannot be measured "
                                         "and its alerts have no data") if missing_bucket(params, x) else None)
            for x in params.monitoring.slos]
    deps = [DependencyRow(d.title, d.purpose, ", ".join(d.services), d.status_page or d.support or "", d.rate_limit,
                          f"timeout {d.timeout_ms} ms, {d.retries} retr{'y' if d.retries == 1 else 'ies'} with backoff",
                          d.fallback, ", ".join(d.secrets) or "none") for d in params.dependencies]
    maintenance = [Procedure(title=render_string(p.title, ctx, where), steps=steps(p.steps, params, ctx, where)) for p in platform.maintenance]
    own = merged(params)
    maintenance += [Procedure(title=render_string(p.title, ctx, knowledge_origin(params, "procedures", i)), steps=steps(p.steps, params, ctx, knowledge_origin(params, "procedures", i)))
                    for i, p in enumerate(own.procedures)]

    links = [
        ("Architecture", relative_link(params, params.project.links.architecture, doc_dir)),
        ("Plan", relative_link(params, params.project.links.plan, doc_dir)),
        ("Spec", relative_link(params, params.project.links.spec, doc_dir)),
    ]

    process_status = steps(platform.operations.status, params, ctx, where)
    log_tail, log_search = steps(platform.logs.tail, params, ctx, where), steps(platform.logs.search, params, ctx, where)
    issues = _shown_once(issues, {"Start, stop and restart": process_status, "Viewing logs": [*log_tail, *log_search]})
    shown = next(e for e in envs if e.name == focus_env.name)
    names = {env.name: _env_names(params, env, platform) for env in params.environments}
    diffs = [_diff(shown, e, names[shown.name], names[e.name]) for e in envs if e.name != shown.name]

    return Runbook(
        project=params.project,
        platform=platform,
        status=status,
        focus=focus_env.name,
        links=links,
        services=list(params.services),
        environments=envs,
        start=steps(platform.operations.start, params, ctx, where) + (jobs.resume if jobs else []),
        stop=steps(platform.operations.stop, params, ctx, where) + (jobs.suspend if jobs else []),
        restart=steps(platform.operations.restart, params, ctx, where) + ([RStep(
            "Scheduled jobs have no running instance to restart: each run starts on the current release and configuration "
            "(stop a run in progress with Suspend, then Resume).", None, None)] if jobs else []),
        process_status=process_status,
        health=health,
        automated_checks=automated,
        log_location=render_string(platform.logs.location, ctx, where),
        log_tail=log_tail,
        log_search=log_search,
        logs=params.monitoring.logs,
        scale_manual=steps(platform.scaling.manual, params, ctx, where)
        + (steps(platform.jobs.scale or [], params, ctx, where) if "job" in kinds and not platform.jobs.unsupported else []),
        scale_auto=steps(platform.scaling.auto, params, ctx, where),
        scale_notes=[n for n in (render_string(t, ctx, where) for t in platform.scaling.auto_notes) if "worker" in kinds or not _WORKER_ONLY.search(n)],
        replicas_min=focus_env.replicas.min,
        replicas_max=focus_env.replicas.max,
        maintenance=[p for p in maintenance if p.steps],
        datastores=stores,
        metrics=metrics,
        unmonitored=unmonitored(params),
        monitoring=params.monitoring,
        contacts=params.contacts,
        tree=tree,
        issues=issues,
        rollback_identify=steps(platform.rollback.identify, params, ctx, where),
        rollback_steps=steps(platform.rollback.steps, params, ctx, where),
        rollback_verify=steps(platform.rollback.verify, params, ctx, where),
        rollback_minutes=platform.rollback.expected_minutes,
        data_rollback=data_rollback,
        rollback_triggers=triggers,
        deploy=params.deploy,
        env_table=_env_table(params, platform, envs),
        env_diffs=diffs,
        alerts=alerts,
        more_issues=more,
        worker_health=worker_health,
        internal_health=internal_health,
        jobs=jobs,
        dependencies=deps,
        slos=slos,
        manual_issues=manual_issues,
        given=frozenset(i.env_var for i in params.secrets.items) if params.secrets else frozenset(),
        variables=[
            ("VERSION", "v1.4.2", "release tag being deployed (semantic version, pushed to the repository)"),
            ("PREVIOUS_VERSION", '$(git describe --tags --abbrev=0 "${VERSION}^")', "the release tag before it, looked up, never typed; check it with the Roll back now commands at the top"),
        ],
    )


def _squeeze(text: str) -> str:
    """At most one blank line in a row outside code blocks."""
    out: list[str] = []
    fence = False
    for line in text.split("\n"):
        if line.lstrip().startswith("```"):
            fence = not fence
        if not fence and not line.strip() and out and not out[-1].strip():
            continue
        out.append(line)
    return "\n".join(out)


def render_runbook(runbook: Runbook) -> str:
    return _squeeze(render(DOC, runbook))


def render_manual(runbook: Runbook) -> str:
    """The procedures document beside the runbook (same model, same names)."""
    return _squeeze(render("procedures", runbook))


def with_platform(params: ProjectParams, name: str) -> ProjectParams:
    """The same project on another platform (for the notebook's drop-down).

    Platform-specific target overrides are dropped; a deploy strategy the new platform
    lacks falls back to its first strategy. Raises ParamsError when the project cannot
    run there (e.g. a container platform and services without images)."""
    if name == params.platform:
        return params
    data = params.model_dump()
    data["platform"] = name
    for env in data["environments"]:
        env["target"] = {}
    strategies = list(params.catalog.platform(name).deploy)
    if data["deploy"]["strategy"] not in strategies:
        data["deploy"]["strategy"] = strategies[0]
    try:
        moved = ProjectParams.model_validate(data, context={"base_dir": params.base_dir, "preview": True})
    except ValidationError as exc:
        raise ParamsError(f"{params.path} on platform {name}", validation_problems(exc, data)) from None
    moved._path = params.path
    return moved


def draft(params: ProjectParams, status: StatusCheck, out_dir: str | Path | None = None, *, focus: str | None = None,
          platform: str | None = None) -> Draft:
    """Build, render and check runbook.md. `focus` is the environment the Operations,
    Troubleshooting and Rollback commands target; `platform` previews the project on another
    platform (the notebook's drop-down). Links are relative to `out_dir` (default: build/<project>)."""
    moved = with_platform(params, platform) if platform else params
    doc_dir = Path(out_dir) if out_dir is not None else default_doc_dir(params)
    model = build(moved, status, focus=focus, doc_dir=doc_dir)
    text = render_runbook(model)
    manual = render_manual(model)
    findings = check_runbook(text, path=doc_dir / FILE, environments=[e.name for e in moved.environments], params=moved, strict=True)
    findings += check_manual(manual, doc_dir / MANUAL, moved)
    findings += check_entries(moved, {"troubleshooting": ITEMS["issues"], "procedures": ITEMS["commands"]})
    return Draft(DOC, FILE, text, findings, files={MANUAL: manual}, model=model)


def check_manual(text: str, path: Path, params: ProjectParams) -> list[Finding]:
    """The procedures document is judged as a procedure document (every command against its tool,
    tool fit for the project's platform, safety, consistency); its findings name the file."""
    doc = parse(text, path)
    generic = generic_findings(doc, "procedure")
    truth = generated_truth(text, path=path, params=params, doc=doc)  # once, with the project's own tools
    return [replace(f, message=f"{MANUAL}: {f.message}") for f in [*generic, *truth] if f.status == "fail" and f.severity == "error"]


def preview(params: ProjectParams, status: StatusCheck, focus: str | None = None, platform: str | None = None) -> Draft:
    """The notebook's live preview: the same draft, nothing written."""
    return draft(params, status, focus=focus, platform=platform)


def write(params: ProjectParams, status: StatusCheck, out_dir: str | Path) -> Written:
    """Write <out_dir>/runbook.md only if every check passes."""
    return write_draft(draft(params, status, out_dir), out_dir)


def check_written(out_dir: str | Path, params: ProjectParams) -> list[Finding]:
    """The checks of the runbook.md in `out_dir` (empty when there is none)."""
    return check_file("service-runbook", out_dir, FILE, params)
