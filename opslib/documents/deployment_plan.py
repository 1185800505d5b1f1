"""Deployment plans (seed 003 "Deployment Plan", seed 004 pre-deployment checklist): one
release of one project to one environment, with every gate checked and its evidence.

    check_gates(params, env, version, qa, history, status) -> list[Gate]   pure; never raises for a failing gate
    build_plan(params, env, version, ...)                  -> Plan          everything resolved
    render_plan(plan)                                      -> str           Jinja, StrictUndefined
    plan_main(params_path, env, version, ...)              -> int           the `opslib plan` command

Decisions (see the report of issue #7):

- The last deployed version comes from a deployment history kept in git beside the
  parameters: `deployments/<project>.yaml` in the repository root (the folder that holds
  `parameters/`), or any file passed as `history=`. It is a list, oldest first:

      deployments:
        - {version: 1.4.0, env: prod, date: 2026-10-21, status: success}   # success | failed | rolled_back

  The last deployed version of an environment is its newest entry with status `success`;
  it is also the rollback target. A new version must be newer (semantic versioning) than
  every version that was ever deployed successfully to that environment.
- The QA report (`QA/QA-Report-<UNIT_ID>.md`, seed 003) is approved when its YAML front
  matter says `status: approved`, or, without front matter, a `Status: approved` line
  (bold allowed). `rejected` and `pending` fail the gate; a `version:` that differs from
  the release fails it too. The unit id comes from the front matter `unit_id` or the name.
- status.json: not blocked / on hold, and in a deployable phase: `deployment` for the
  production environment; `testing` or `deployment` for the others.
- Approvers: for an environment with `approval_required`, `ci.production_approvers`, else the
  team's engineering manager — the same default as pipeline.md's approval gate.
- Checklist items checked in the CI system print the command of each CI system the project
  uses (`ci.systems`), never one it does not use.
- The plan sets VERSION and PREVIOUS_VERSION from the release and the history; a rollback step
  that needs another value (Heroku's release number) gets the runbook's step that looks it up
  from what CI left behind, and the image checks get the registry login CI's build uses.
- Go/no-go thresholds are the HighErrorRate and HighLatencyP95 alerts of
  opslib.monitoring.alert_specs (one source with alerts.yml and the runbook).
- Window `START/END` (ISO 8601, e.g. 2026-11-04T14:00Z/2026-11-04T16:00Z); the rollback
  deadline is END minus the platform's expected rollback time: the last moment a rollback
  can start and still finish inside the window.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from opslib.catalog.loaders import DATA_DIR
from opslib.catalog.platforms import Platform
from opslib.core.files import inside, output_folder, write_text_atomic
from opslib.core.templates import render, render_string
from opslib.core.yamlio import read_input_text, read_yaml
from opslib.documents.commands import RStep, command_context, default_doc_dir, relative_link, steps
from opslib.documents.contract import refuse_secrets
from opslib.documents.monitoring import alert_specs, ci_of, production_approvers
from opslib.errors import InputError, OpslibError
from opslib.params.models import ProjectParams
from opslib.params.status import HALTING, ProjectStatus, load_status

__all__ = ["DOC", "Gate", "Plan", "Deployment", "QaReport", "Version", "parse_version", "history_path", "load_history", "read_qa_report",
           "parse_window", "approvers", "check_gates", "build_plan", "render_plan", "plan_path", "write_plan", "prepare",
           "GateFailed"]

DOC = "deployment-plan"
SYSTEM_TITLES = {"github": "GitHub", "gitlab": "GitLab"}
ASSIGNED = re.compile(r"^\s*(?:export\s+)?([A-Z_][A-Z0-9_]*)=", re.M)
USED = re.compile(r"\$\{?([A-Z_][A-Z0-9_]*)")
SEMVER = re.compile(r"^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z.-]+)?$")


class GateFailed(OpslibError):
    """One or more deployment gates failed (exit code 1; --force records an override)."""


# ---------------------------------------------------------------- inputs


@dataclass(frozen=True, order=True)
class Version:
    major: int
    minor: int
    patch: int
    pre: tuple = ()  # () sorts after any pre-release: see key()
    text: str = field(default="", compare=False)

    def key(self) -> tuple:
        pre = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in self.pre)
        return (self.major, self.minor, self.patch, 0 if self.pre else 1, pre)

    def __str__(self) -> str:
        return self.text


def parse_version(text: str) -> Version | None:
    m = SEMVER.match(str(text).strip())
    if not m:
        return None
    pre = tuple(m.group(4).split(".")) if m.group(4) else ()
    return Version(int(m.group(1)), int(m.group(2)), int(m.group(3)), pre, str(text).strip().removeprefix("v"))


@dataclass(frozen=True)
class Deployment:
    version: str
    env: str
    date: str
    status: str

    @property
    def semver(self) -> Version:
        """The parsed version (load_history accepts only semantic versions); ValueError otherwise."""
        v = parse_version(self.version)
        if v is None:
            raise ValueError(f"deployment to {self.env} on {self.date}: {self.version!r} is not a semantic version")
        return v


def history_path(params: ProjectParams) -> Path:
    root = params.base_dir.parent if params.base_dir.name == "parameters" else params.base_dir
    return root / "deployments" / f"{params.project.name}.yaml"


def load_history(path: Path) -> list[Deployment] | None:
    """The deployment history file (None when it does not exist)."""
    path = Path(path)
    if not path.is_file():
        return None
    raw = read_yaml(path) or {}
    rows = raw.get("deployments") if isinstance(raw, dict) else None
    if not isinstance(rows, list):
        raise InputError(f"{path}: no `deployments:` list; write one entry per deploy with version, env, date and status.")
    out = []
    for i, row in enumerate(rows):
        if not isinstance(row, dict) or set(row) != {"version", "env", "date", "status"}:
            raise InputError(f"{path}: deployments[{i}] must have exactly version, env, date and status; fix that entry.")
        if row["status"] not in ("success", "failed", "rolled_back") or parse_version(str(row["version"])) is None:
            raise InputError(f"{path}: deployments[{i}] needs a semantic version and status success, failed or rolled_back; fix that entry.")
        out.append(Deployment(str(row["version"]), str(row["env"]), str(row["date"]), row["status"]))
    return out


@dataclass(frozen=True)
class QaReport:
    path: str
    unit_id: str
    status: str | None
    version: str | None
    source: str  # where the status was read: "front matter" or "line N"


def read_qa_report(path: str | Path) -> QaReport:
    """Read a QA report's status from its front matter, or a `Status:` line."""
    path = Path(path)
    text = read_input_text(path, "QA report (--qa-report QA/QA-Report-<UNIT_ID>.md)")
    unit = re.sub(r"^QA-Report-", "", path.stem)
    lines = text.splitlines()
    if lines and lines[0].strip() == "---" and "---" in [s.strip() for s in lines[1:]]:
        end = 1 + [s.strip() for s in lines[1:]].index("---")
        try:
            front = yaml.safe_load("\n".join(lines[1:end])) or {}
        except yaml.YAMLError:
            raise InputError(f"{path}: the front matter is not valid YAML; fix it.") from None
        if isinstance(front, dict) and "status" in front:
            version = front.get("version")
            return QaReport(str(path), str(front.get("unit_id") or unit), str(front["status"]).strip().lower(),
                            str(version) if version is not None else None, "front matter")
    for n, line in enumerate(lines, 1):
        m = re.match(r"^\W*status\W*:\W*([A-Za-z_]+)", line.strip(), re.I)
        if m:
            return QaReport(str(path), unit, m.group(1).lower(), None, f"line {n}")
    return QaReport(str(path), unit, None, None, "no status field")


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime

    @property
    def text(self) -> str:
        return f"{_ts(self.start)} – {_ts(self.end)}"


def _ts(t: datetime) -> str:
    return t.strftime("%Y-%m-%d %H:%M") + (" UTC" if t.utcoffset() == timedelta(0) else t.strftime(" %z"))


def parse_window(text: str) -> Window:
    parts = str(text).split("/")
    try:
        if len(parts) != 2:
            raise ValueError
        start, end = (datetime.fromisoformat(p.strip().replace("Z", "+00:00")) for p in parts)
    except ValueError:
        raise InputError(f"--window {text!r}: use START/END in ISO 8601, e.g. 2026-11-04T14:00Z/2026-11-04T16:00Z.") from None
    start, end = (t if t.tzinfo else t.replace(tzinfo=UTC) for t in (start, end))
    if end <= start:
        raise InputError(f"--window {text!r}: END must be after START; fix the window.")
    return Window(start, end)


def approvers(params: ProjectParams) -> tuple[list[str], str]:
    """Who approves a deploy to an environment that requires approval, and where that comes from."""
    return production_approvers(params)


# ---------------------------------------------------------------- gates


@dataclass(frozen=True)
class Gate:
    name: str
    ok: bool
    evidence: str
    fix: str = ""
    applies: bool = True


def gate_status(status: ProjectStatus, path: str, production: bool) -> Gate:
    phases = ("deployment",) if production else ("testing", "deployment")
    ev = f"{path}: {status.status} / {status.current_phase}, updated {status.last_updated.date().isoformat()}"
    if status.status in HALTING:
        why = f" ({status.blocked_reason})" if status.blocked_reason else ""
        return Gate("status.json", False, ev + why, f"resolve the {status.status} state first, or pass --force to record an override")
    if status.current_phase not in phases:
        return Gate("status.json", False, ev, f"the project must be in phase {' or '.join(phases)} to deploy here; finish {status.current_phase} first")
    return Gate("status.json", True, ev)


def gate_qa(qa: QaReport | None, version: str) -> Gate:
    if qa is None:
        return Gate("QA report approved", False, "no QA report given", "pass --qa-report QA/QA-Report-<UNIT_ID>.md (status: approved)")
    ev = f"{qa.path} ({qa.source}): status {qa.status or 'missing'}"
    if qa.status != "approved":
        what = "has no status field" if qa.status is None else f"is {qa.status}"
        return Gate("QA report approved", False, ev, f"the QA report {what}; do not deploy — return the unit {qa.unit_id} to QA")
    approved, wanted = parse_version(qa.version) if qa.version else None, parse_version(version)
    if approved is not None and (wanted is None or approved.key() != wanted.key()):
        return Gate("QA report approved", False, ev + f", version {qa.version}", f"QA approved {qa.version}, not {version}; deploy the approved version or get {version} approved")
    return Gate("QA report approved", True, ev + (f", version {qa.version}" if qa.version else ""))


def _good(history: list[Deployment] | None, env: str) -> list[Deployment]:
    return [d for d in history or [] if d.env == env and d.status == "success"]


def gate_version(version: str, history: list[Deployment] | None, env: str, where: str) -> Gate:
    v = parse_version(version)
    if v is None:
        return Gate("version", False, f"{version!r} is not a semantic version", "use MAJOR.MINOR.PATCH, e.g. 1.4.2")
    good = _good(history, env)
    if not good:
        return Gate("version", True, f"{version} is semantic; no earlier successful deploy to {env} in {where}")
    newest = max(good, key=lambda d: d.semver.key())
    if v.key() <= newest.semver.key():
        return Gate("version", False, f"{version} is not newer than {newest.version}, deployed to {env} on {newest.date} ({where})",
                    f"release a version above {newest.version} (a rollback is done with the rollback procedure, not a new plan)")
    return Gate("version", True, f"{version} is semantic and newer than {newest.version}, deployed to {env} on {newest.date} ({where})")


def gate_rollback(history: list[Deployment] | None, env: str, where: str) -> Gate:
    if history is None:
        return Gate("rollback target", False, f"no deployment history ({where} does not exist)",
                    f"record the version running in {env} in {where} (version, env, date, status: success)")
    good = _good(history, env)
    if not good:
        return Gate("rollback target", False, f"{where} has no successful deploy to {env}",
                    f"record the version running in {env} in {where}; without it there is nothing to roll back to")
    last = good[-1]
    return Gate("rollback target", True, f"previous version {last.version}, deployed to {env} on {last.date} ({where})")


def gate_approvers(params: ProjectParams, env_name: str) -> Gate:
    env = params.environment(env_name)
    if not env.approval_required:
        return Gate("approvers", True, f"{env_name} does not require approval (environments[{env_name}].approval_required: false)", applies=False)
    names, source = approvers(params)
    return Gate("approvers", bool(names), f"approval by {', '.join(names)} ({source}) in the CI deploy-{env_name} environment",
                "name the approvers in ci.production_approvers")


def check_gates(params: ProjectParams, env: str, version: str, qa: QaReport | None, history: list[Deployment] | None,
                status: ProjectStatus, status_path: str, history_where: str) -> list[Gate]:
    """Every gate, in order; pure (all inputs already read)."""
    production = env == params.production.name
    return [
        gate_status(status, status_path, production),
        gate_qa(qa, version),
        gate_version(version, history, env, history_where),
        gate_rollback(history, env, history_where),
        gate_approvers(params, env),
    ]


# ---------------------------------------------------------------- the plan


@dataclass(frozen=True)
class Threshold:
    name: str
    threshold: str
    rationale: str
    query: str
    canary: bool = True  # a gate between canary steps (a scheduled job has no traffic share: its check is after the deploy)


@dataclass(frozen=True)
class CanaryStep:
    percent: int
    hold_minutes: int


@dataclass(frozen=True)
class Plan:
    project: Any
    env: Any
    version: str
    tag: str
    previous: str | None
    strategy: str
    platform: Platform
    unit_id: str
    window: str
    rollback_deadline: str
    expected_minutes: int
    observe_minutes: int
    rollback_minutes: int
    gates: list[Gate]
    forced: list[Gate]
    checklist: list[dict]
    setup: list[RStep]
    prerequisites: list[RStep]
    steps: list[RStep]
    pattern: dict
    feature_flags: dict
    canary: list[CanaryStep]
    verify: list[RStep]
    thresholds: list[Threshold]
    immediate: list[str]
    investigate: list[str]
    rollback_steps: list[RStep]
    rollback_verify: list[RStep]
    escalation: list[Any]
    channels: list[Any]
    on_call: Any
    qa_path: str
    as_of: date
    links: list = field(default_factory=list)

    @property
    def preparation(self) -> list[RStep]:
        """Tool set-up, then the platform's prerequisites: one numbered list."""
        return [*self.setup, *self.prerequisites]


@cache
def deploy_catalog() -> dict:
    return read_yaml(DATA_DIR / "deploy-checklist.yaml")


# go/no-go alerts by the kind of service they watch: (alert name or prefix, label); a prefix ends
# with '*' (one alert per worker or job, named <prefix><Service>)
GO_NO_GO = {
    "web": (("HighErrorRate", "Error rate (5xx share)"), ("HighLatencyP95", "p95 latency vs. baseline")),
    "worker": (("WorkerProcessingFailures*", "Failed messages"), ("QueueOldestMessageAge*", "Oldest message in the queue")),
    "job": (("JobFailed*", "Failed run of a scheduled job"),),
}


def _thresholds(params: ProjectParams) -> list[Threshold]:
    """The go/no-go thresholds: the production alerts that watch what a deploy can break, by the
    kinds of the project's services (web: error rate and p95 latency; workers: failed messages and
    queue age; jobs: a failed run)."""
    specs = alert_specs(params)
    kinds = [k for k in ("web", "worker", "job") if any(s.kind == k for s in params.services)]
    out = []
    for kind in kinds:
        for name, label in GO_NO_GO[kind]:
            found = [a for a in specs if (a.alert.startswith(name[:-1]) if name.endswith("*") else a.alert == name)]
            for a in found:
                suffix = f" ({a.name.split(':')[0]})" if name.endswith("*") else ""
                out.append(Threshold(label + suffix, a.threshold, a.rationale, a.expr, canary=kind != "job"))
        if kind == "web" and not any(a.alert == "HighLatencyP95" for a in specs):
            out.append(Threshold("p95 latency vs. baseline", "> 2× the pre-deployment p95 baseline",
                                 "no latency SLO or ci.latency_baseline_ms; seeds 003/004 make 2× baseline a rollback trigger", "see the latency dashboard"))
    burn = [a for a in specs if a.sli == "custom" and a.alert.endswith("BudgetBurn1h")]
    out += [Threshold(f"SLO {a.slo}", a.threshold, a.rationale, a.expr) for a in burn]
    return out


def build_plan(params: ProjectParams, env: str, version: str, gates: list[Gate], *, qa: QaReport | None = None,
               history: list[Deployment] | None = None, window: Window | None = None, strategy: str | None = None,
               force: bool = False) -> Plan:
    """Resolve every part of the plan (the gates are already checked)."""
    platform = params.catalog.platform(params.platform)
    strategy = strategy or params.deploy.strategy
    if strategy not in platform.deploy:
        raise InputError(f"strategy {strategy!r} is not available on {platform.name}; use one of {', '.join(platform.deploy)}.")
    environment = params.environment(env)
    ctx = command_context(params, environment, platform)
    ctx["deploy"] = params.deploy.model_copy(update={"strategy": strategy})  # catalog steps of the plan's strategy, not the project's
    where = f"{platform.label}/platform.yaml"
    good = _good(history, env)
    previous = good[-1].version if good else None
    parsed = parse_version(version)
    vtext = parsed.text if parsed else version
    tag = f"v{vtext}" if parsed else version
    setup = [RStep("Set the release being deployed and the rollback target in your shell (every command below uses them).",
                   f"export VERSION={tag}\nexport PREVIOUS_VERSION=v{previous}" if previous else f"export VERSION={tag}", None)]
    setup += _registry_login(params, platform, environment)
    prereq = [s for s in steps(platform.prerequisites, params, ctx, where) if not (s.command or "").startswith("export VERSION=")]
    thresholds = _thresholds(params)
    cat = deploy_catalog()
    channels = params.contacts.channels
    deploys = next((c.name for c in channels if "deploy" in c.purpose.lower()), channels[0].name)
    jctx = {"version": vtext, "tag": tag, "previous": previous, "env": environment,
            "project": params.project, "deploys_channel": deploys,
            "on_call": f"{params.contacts.on_call.rotation} ({params.contacts.on_call.url})",
            "thresholds": {t.name: t.threshold.lstrip("> ") for t in thresholds}}
    kinds = {sv.kind for sv in params.services}
    byname = {g.name: g for g in gates}
    gate_keys = {"qa": "QA report approved", "version": "version", "rollback": "rollback target", "status": "status.json"}
    checklist = []
    for group in cat["checklist"]:
        items = []
        for it in (i for i in group["items"] if not set(i.get("kinds", ["web", "worker", "job"])).isdisjoint(kinds)):
            g = byname.get(gate_keys.get(it.get("gate", ""), ""))
            items.append({"text": it["text"], "done": bool(g and g.ok),
                          "how": f"gate {g.name}: {g.evidence}" if g else _how(it, jctx, ci_of(params).systems)})
        checklist.append({"group": group["group"], "items": items})
    if window:
        deadline = _ts(window.end - timedelta(minutes=platform.rollback.expected_minutes))
        wtext = window.text
    else:
        wtext, deadline = "not scheduled (pass --window START/END)", f"{platform.rollback.expected_minutes} min before the end of the window"
    canary = [CanaryStep(p, params.deploy.observe_minutes) for p in params.deploy.canary_steps] if strategy == "canary" else []
    rollback = steps(platform.rollback.steps, params, ctx, where)
    return Plan(
        project=params.project, env=environment, version=vtext, tag=tag, previous=previous, strategy=strategy,
        platform=platform, unit_id=qa.unit_id if qa else f"{params.project.name}-{vtext}",
        window=wtext, rollback_deadline=deadline, expected_minutes=params.deploy.expected_minutes,
        observe_minutes=params.deploy.observe_minutes, rollback_minutes=platform.rollback.expected_minutes,
        gates=gates, forced=[g for g in gates if not g.ok] if force else [], checklist=checklist,
        setup=setup, prerequisites=prereq, steps=steps(platform.deploy[strategy], params, ctx, where),
        pattern=cat["patterns"][strategy], feature_flags=cat["patterns"]["feature_flags"], canary=canary,
        verify=steps(platform.verify, params, ctx, where), thresholds=thresholds,
        immediate=[render_string(t["text"] if isinstance(t, dict) else t, jctx, "deploy-checklist.yaml") for t in cat["immediate"]
                   if not isinstance(t, dict) or not set(t["kinds"]).isdisjoint(kinds)],
        investigate=[render_string(t, jctx, "deploy-checklist.yaml") for t in cat["investigate"]],
        rollback_steps=_lookups(steps(platform.rollback.identify, params, ctx, where), rollback) + rollback,
        rollback_verify=steps(platform.rollback.verify, params, ctx, where),
        escalation=list(params.contacts.escalation), channels=list(channels), on_call=params.contacts.on_call,
        qa_path=qa.path if qa else "none given", as_of=params.project.as_of,
    )


def _how(item: dict, jctx: dict, systems: list[str]) -> str:
    """How a checklist item is confirmed: its `how`, or the command of each CI system in use."""
    where = "opslib/data/deploy-checklist.yaml"
    if "how_ci" not in item:
        return render_string(item["how"], jctx, where)
    texts = [(SYSTEM_TITLES[s], render_string(item["how_ci"][s], jctx, where)) for s in systems if s in item["how_ci"]]
    return texts[0][1] if len(texts) == 1 else "; ".join(f"{title}: {text}" for title, text in texts)


def _registry_login(params: ProjectParams, platform: Platform, env: Any) -> list[RStep]:
    """The registry login of CI's build, before prerequisites that read the registry (a
    private registry such as ECR answers nothing without it)."""
    images = sorted({s.image for s in params.services if s.image})
    if platform.ci.build != "container" or not platform.ci.registry_login or not images:
        return []
    login = render_string(platform.ci.registry_login, {"env": env, "registry": images[0].split("/")[0]}, f"{platform.label}/ci.yaml")
    return [RStep("Log in to the image registry CI pushes to (the same login as the pipeline's build job); the image checks below need it.", login, None)]


def _lookups(identify: list[RStep], rollback: list[RStep]) -> list[RStep]:
    """The runbook's steps that set a value the rollback steps use and the plan does not set
    (VERSION and PREVIOUS_VERSION come from the release and the history)."""
    text = "\n".join(s.command or "" for s in rollback)
    needed = set(USED.findall(text)) - set(ASSIGNED.findall(text)) - {"VERSION", "PREVIOUS_VERSION"}
    return [s for s in identify if s.command and set(ASSIGNED.findall(s.command)) & needed]


def render_plan(plan: Plan) -> str:
    return render(DOC, plan)


def plan_path(params: ProjectParams, env: str, version: str, out: str | Path | None = None) -> Path:
    """<out>/<project>/deployments/<version>-<env>/deployment-plan.md, checked to stay inside the output folder."""
    folder = default_doc_dir(params, output_folder(out) if out else None)
    return inside(folder.parent, folder.name, "deployments", f"{version}-{env}", "deployment-plan.md", what="--version and --env")


def _rel(path: Path, base: Path) -> str:
    try:
        return Path(path).resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return str(path)


def prepare(params: ProjectParams, env: str, version: str, qa_report: str | Path | None = None, window: str | None = None,
            history: str | Path | None = None, strategy: str | None = None, force: bool = False) -> Plan:
    """Read every input, check the gates; raise GateFailed unless all pass or `force` is set."""
    try:
        params.environment(env)
    except KeyError:
        raise InputError(f"--env {env}: {params.path} has no environment {env}; use one of {', '.join(e.name for e in params.environments)}.") from None
    if parse_version(version) is None or len(version) > 100:
        raise InputError(f"--version: {version[:100]!r} is not a semantic version; use MAJOR.MINOR.PATCH, e.g. 1.4.2 (a pre-release: 1.4.2-rc.1).")
    root = history_path(params).parent.parent
    hpath = Path(history) if history else history_path(params)
    where = _rel(hpath, root)
    hist = load_history(hpath)
    qa = read_qa_report(qa_report) if qa_report else None
    if qa is not None:
        qa = replace(qa, path=_rel(Path(qa.path), root))
    if params.project.status_file is None:
        raise InputError(f"{params.path}: project.status_file is not set; a release is planned behind the status.json gate, so create "
                         "status.json (opslib init writes one) and name it in project.status_file.")
    spath = params.base_dir / params.project.status_file
    status = load_status(spath)
    gates = check_gates(params, env, version, qa, hist, status, _rel(spath, root), where)
    bad = [g for g in gates if not g.ok]
    if bad and not force:
        lines = [f"deployment plan for {params.project.name} {version} to {env}: {len(bad)} gate(s) failed; fix them or pass --force to record an override."]
        lines += [f"  [{g.name}] {g.evidence}; {g.fix}" for g in bad]
        raise GateFailed("\n".join(lines))
    return build_plan(params, env, version, gates, qa=qa, history=hist, window=parse_window(window) if window else None,
                      strategy=strategy, force=force)


def write_plan(plan: Plan, path: Path, params: ProjectParams | None = None) -> Path:
    if params is not None:  # links relative to where the plan is written
        plan = replace(plan, links=[("Runbook", "../../runbook.md"), ("Architecture", relative_link(params, params.project.links.architecture, path.parent)),
                                    ("Plan", relative_link(params, params.project.links.plan, path.parent))])
    text = render_plan(plan)
    refuse_secrets({path: text})
    return write_text_atomic(path, text)
