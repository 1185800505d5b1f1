"""The readiness review (readiness.md): every quality-bar "Definition of Done" item and every
item of seed 001 §8's production readiness checklist, each verified / documented, not verified /
not measured / fail / n/a, with its evidence; a verdict (go / no-go / undecided) and a sign-off.

    collect(out_dir, params) -> list[Finding]      the checks of every other document (their own
                                                    check_written, plus doccheck on each Markdown file)
    review(params, out_dir)  -> Review              items resolved against those findings and the evidence
    write(params, status, out_dir) -> Written       writes <out_dir>/readiness.md (document contract)
    check_written(out_dir, params) -> list[Finding] readiness.md lists every item with a status

Decisions:
- Passing means true, not present. An item about a document (the runbook's sections, the cost
  plan's ranges) is verified by the check opslib ran on that document. An item about the running
  system (dashboards deployed, alert rules loaded, on-call staffed) is verified only by evidence
  of state: a check opslib ran on state it can read (the deployment history, a deployment report,
  the production plan's window, the cost gate, status.json) or a fresh entry of the project's
  evidence file (readiness.evidence in the parameters). The documents saying it makes it
  "documented, not verified", with what the reviewer runs to verify it, built from the
  project's own names and its platform catalog's commands (opslib.documents.commands).
- Evidence older than readiness.max_age_days (counted back from project.as_of: no now()) is
  stale. An evidence entry with result fail fails the item; it never overrides a failing check.
- The verdict: no-go if any item fails (or status.json halts the project); undecided while a
  blocking item is not verified; go only when every blocking item is verified or n/a.
- Which item needs what is data: opslib/data/readiness-items.yaml. A failing item is the content
  of the review, not a failure of readiness.md: write() does not raise for it.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from opslib.catalog.loaders import DATA_DIR
from opslib.check.document import check_document
from opslib.check.findings import Finding
from opslib.check.items import readiness_checks, readiness_items
from opslib.check.readiness import check_readiness
from opslib.core.formatting import money
from opslib.core.templates import render, render_string
from opslib.core.yamlio import read_yaml
from opslib.documents import cost_plan, secrets
from opslib.documents.commands import RStep, command_context, input_note, inputs, steps
from opslib.documents.contract import Draft, Written, check_file, document_modules, write_draft
from opslib.documents.deployment_plan import history_path, load_history
from opslib.documents.monitoring import alert_specs
from opslib.errors import ParamsError
from opslib.params.models import ProjectParams
from opslib.params.readiness import EvidenceFile, ItemEvidence, Signature
from opslib.params.status import StatusCheck

__all__ = ["DOC", "FILE", "STATUSES", "VERIFIERS", "Check", "Item", "SignOff", "Review", "collect", "review", "render_review", "draft",
           "write", "check_written", "items", "verdict"]

DOC = "readiness"
FILE = "readiness.md"
FILES = {"runbook": "runbook.md", "cost": "cost-plan.md", "secret": "secrets.md", "pipeline": "pipeline.md", "alert": "alerts.yml"}
GENRES = {"runbook.md": "service-runbook", "cost-plan.md": "cost-plan", "secrets.md": "secrets", "pipeline.md": "pipeline"}
# readiness-items.yaml names a check as <key>.<item>; the key of each document
KEY_OF_DOC = {"runbook": "runbook", "cost-plan": "cost", "secrets": "secret", "pipeline": "pipeline", "alerts": "alert"}

ItemStatus = Literal["verified", "documented, not verified", "not measured", "fail", "n/a"]
VERIFIED: ItemStatus = "verified"
DOCUMENTED: ItemStatus = "documented, not verified"
UNMEASURED: ItemStatus = "not measured"
STATUSES: tuple[ItemStatus, ...] = (VERIFIED, DOCUMENTED, UNMEASURED, "fail", "n/a")
ROLE_LABELS = {"technical review": "Technical review", "cost approval": "Cost approval", "stakeholder": "Stakeholder sign-off"}


def _names() -> Mapping[str, Mapping[str, str]]:
    return readiness_checks()


def items() -> tuple[dict, ...]:
    return readiness_items()


def _catalog() -> dict:
    return read_yaml(DATA_DIR / "readiness-items.yaml", lines=False)


@dataclass(frozen=True)
class Check:
    """One thing the reviewer does to verify an item: a command (quoted for the shell) or a link to open."""

    text: str
    command: str | None = None
    expected: str | None = None
    link: str | None = None


@dataclass(frozen=True)
class Item:
    id: str
    area: str
    source: str
    text: str
    status: ItemStatus
    evidence: str
    blocking: bool = True
    verify: tuple[Check, ...] = ()

    @property
    def open(self) -> bool:
        """A blocking item the verdict still waits for (not verified, not failing)."""
        return self.blocking and self.status in (DOCUMENTED, UNMEASURED)


@dataclass(frozen=True)
class SignOff:
    role: str
    signer: str  # who is expected to sign (the cost approvers, …)
    name: str = ""
    date: str = ""
    decision: str = ""
    conditions: str = ""


@dataclass(frozen=True)
class Review:
    project: object
    as_of: object
    status: StatusCheck | None
    items: list[Item]
    areas: list[tuple[str, dict[str, int]]]
    counts: dict[str, int]
    verdict: str
    why: str
    evidence_file: str | None
    evidence_note: str
    sign_off: list[SignOff] = field(default_factory=list)

    @property
    def open_items(self) -> list[Item]:
        return [i for i in self.items if i.open]

    @property
    def blocking(self) -> int:
        return sum(i.blocking and i.status != "n/a" for i in self.items)

    @property
    def to_verify(self) -> list[Item]:
        """Items with something to run or open, blocking first."""
        return [i for i in self.items if i.verify and i.status in (DOCUMENTED, UNMEASURED)]


# --- the other documents' checks --------------------------------------------------------------


def collect(out_dir: str | Path, params: ProjectParams) -> list[tuple[str, str, Finding]]:
    """(module, file, finding) for every check of every other document in out_dir."""
    out_dir = Path(out_dir)
    envs = [e.name for e in params.environments]
    found = []
    for mod in document_modules():
        name = KEY_OF_DOC.get(mod.DOC, "")
        if name not in FILES:
            continue
        found += [(name, FILES[name], f) for f in mod.check_written(out_dir, params)]
    for fname, genre in GENRES.items():
        path = out_dir / fname
        if path.is_file():
            report = check_document(path.read_text(encoding="utf-8"), path, genre=genre, environments=envs)
            found += [("doc", fname, f) for f in report.findings]
    return found


def _clean(text: str, out_dir: Path) -> str:
    return text.replace(str(out_dir.resolve()) + "/", "").replace(str(out_dir) + "/", "")


def _param(params: ProjectParams, dotted: str) -> Any:
    value: Any = params
    for part in dotted.split("."):
        value = getattr(value, part, None)
    return value


def _documents(it: dict, found, params: ProjectParams) -> tuple[str, str]:
    """What the documents say about an item: (pass | fail | n/a | undecided | none, evidence)."""
    if it.get("needs_cost") and params.cost is None and params.platform not in _catalog().get("free_platforms", []):
        return "fail", (f"the parameters have no cost: section, so there is no cost-plan.md; {params.catalog.platform(params.platform).title} "
                        "is a paid platform — add a cost: section and run opslib render")
    if not it.get("checks"):
        return "none", ""
    names = _names()
    hits, missing = [], []
    for ref in it["checks"]:
        mod, _, key = ref.partition(".")
        want = names[mod][key]
        got = [(file, f) for m, file, f in found if f.item == want and m == mod]
        if not got:
            missing.append("the Markdown documents" if mod == "doc" else FILES.get(mod, "the Markdown documents"))
        hits += got
    bad = [(file, f) for file, f in hits if f.status == "fail"]
    if bad:
        return "fail", "; ".join(f"{file}: {f.message}" for file, f in bad[:3]) + (f" (+{len(bad) - 3} more)" if len(bad) > 3 else "")
    if missing:
        return "fail", f"{', '.join(sorted(set(missing)))} missing or not checked; run opslib render"
    decided = [(file, f) for file, f in hits if f.status == "pass"]
    if not decided:
        return ("n/a" if all(f.status == "n/a" for _, f in hits) else "undecided"), "; ".join(f"{file}: {f.message}" for file, f in hits[:2])
    # what each check found in this project's documents (its message: "31 metrics with thresholds"), per file
    by_file: dict[str, list[str]] = {}
    for file, f in decided:
        said = f.item if file == FILES["alert"] else " ".join(f.message.split())  # promtool's output varies by version: its check's name
        if said not in by_file.setdefault(file, []):
            by_file[file].append(said)
    evidence = "; ".join(f"{file}: {', '.join(msgs)}" for file, msgs in sorted(by_file.items()))
    if "params" in it:
        value = _param(params, it["params"])
        if value in (None, ""):
            return "fail", f"parameters field {it['params']} is not set; set it"
        evidence += f"; parameters {it['params']}: {value}"
    return "pass", evidence


# --- state opslib can read itself ----------------------------------------------------------------


@dataclass
class _State:
    """What the review reads once: the evidence file, the deployment history and reports, the cost estimate."""

    params: ProjectParams
    out_dir: Path
    status: StatusCheck | None
    evidence: EvidenceFile | None
    evidence_name: str | None
    max_age: int
    _cache: dict = field(default_factory=dict)

    def once(self, key: str, make: Callable[[], Any]) -> Any:
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    def deployments(self) -> list[tuple[str, str, str, str, str]]:
        """(env, version, date, status, where) from the history file and the deployment reports."""
        def make() -> list[tuple[str, str, str, str, str]]:
            rows = []
            path = history_path(self.params)
            where = f"deployments/{path.name}"
            for d in load_history(path) or []:
                rows.append((d.env, d.version, d.date, d.status, where))
            for report in sorted(self.out_dir.glob("deployments/*/deployment-report.md")):
                head = report.read_text(encoding="utf-8")[:2000]
                status = re.search(r'^status:\s*"?([a-z_-]+)"?', head, re.M)
                env = re.search(r"^- \*\*Environment:\*\* (\S+)", head, re.M)
                version = re.search(r"^- \*\*Version:\*\* (\S+)", head, re.M)
                when = re.search(r'^deployed:\s*"?(\d{4}-\d{2}-\d{2})', head, re.M)
                if status and env:
                    rows.append((env.group(1), version.group(1) if version else "?", when.group(1) if when else "?",
                                 status.group(1).replace("-", "_"), report.relative_to(self.out_dir).as_posix()))
            return rows
        return self.once("deployments", make)

    def plan(self) -> cost_plan.CostPlan | None:
        return self.once("plan", lambda: cost_plan.estimate(self.params, simulate=False) if self.params.cost is not None else None)

    def inventory(self) -> secrets.SecretInventory | None:
        def make() -> secrets.SecretInventory | None:
            try:
                return secrets.inventory(self.params, self.status)  # type: ignore[arg-type]
            except ParamsError:
                return None
        return self.once("inventory", make)

    def signatures(self, role: str) -> list[Signature]:
        return [s for s in (self.evidence.sign_off if self.evidence else []) if s.role == role]

    def entry(self, item_id: str) -> ItemEvidence | None:
        return self.evidence.items.get(item_id) if self.evidence else None

    def age(self, when: date) -> int:
        return (self.params.project.as_of - when).days


def _entry_text(e: ItemEvidence) -> str:
    return f"{e.verified_by} on {e.date.isoformat()}: {e.result}{' — ' + e.note if e.note else ''} ({e.link})"


def _auto(kind: str, st: _State) -> tuple[ItemStatus | None, str]:
    """A check opslib runs on state it can read: (verified | fail | None when it cannot tell, what it found)."""
    params = st.params
    envs = [e.name for e in params.environments]
    if kind == "status":
        if st.status is None or st.status.status is None:  # not read, or the parameters link no status.json
            return None, st.status.summary if st.status is not None else "status.json was not read for this review"
        if st.status.halting and not st.status.forced:
            return "fail", f"{st.status.summary}: the project is halted"
        return VERIFIED, st.status.summary
    if kind == "history":
        good = {}
        for env, version, when, status, where in st.deployments():
            if status == "success":
                good[env] = f"{env} {version} on {when} ({where})"
        missing = [e for e in envs if e not in good]
        found = "; ".join(good[e] for e in envs if e in good)
        if not missing:
            return VERIFIED, f"a successful deploy of every environment: {found}"
        return None, (f"successful deploys recorded: {found}; none of {', '.join(missing)}" if found else
                      f"no successful deploy recorded in deployments/{history_path(params).name} or a deployment report")
    if kind == "rollback":
        done = [f"{env} {version} on {when} ({where})" for env, version, when, status, where in st.deployments() if status == "rolled_back"]
        return (VERIFIED, f"a rollback was carried out: {'; '.join(done)}") if done else (None, "")
    if kind == "plan":
        plans = sorted(st.out_dir.glob(f"deployments/*-{params.production.name}/deployment-plan.md"))
        if not plans:
            return None, "no production deployment plan in this folder"
        m = re.search(r"\*\*Deploy Window:\*\* (\d{4}-\d{2}-\d{2} [^\n]+)", plans[-1].read_text(encoding="utf-8"))
        rel = plans[-1].relative_to(st.out_dir).as_posix()
        return (VERIFIED, f"{rel}: window {m.group(1)}") if m else (None, f"{rel} has no window")
    if kind == "cost_gate":
        plan = st.plan()
        if plan is None:
            return None, "no cost: section"
        over = [e for e in plan.envs if e.budget <= 0 or e.expected > e.budget]
        if over:
            return "fail", "the cost gate fails: " + "; ".join(
                f"{e.name} expected {money(e.expected)}/month against {'no budget' if e.budget <= 0 else money(e.budget)}" for e in over)
        prod = next(e for e in plan.envs if e.name == params.production.name)
        gate = f"the cost gate passed: every environment within budget ({prod.name} expected {money(prod.expected)} of {money(prod.budget)}/month)"
        signed = st.signatures("cost approval")
        if any(s.decision == "no-go" for s in signed):
            s = next(s for s in signed if s.decision == "no-go")
            return "fail", f"{gate}; {s.name} refused the cost on {s.date.isoformat()}"
        if signed:
            s = signed[0]
            return VERIFIED, f"{gate}; approved by {s.name} on {s.date.isoformat()}"
        return None, f"{gate}; no cost approval signed"
    if kind.startswith("sign_off:"):
        signed = st.signatures(kind.partition(":")[2])
        refused = [s for s in signed if s.decision == "no-go"]
        if refused:
            s = refused[0]
            return "fail", f"{s.name} on {s.date.isoformat()}: no-go{' — ' + s.conditions if s.conditions else ''}"
        if signed:
            s = signed[0]
            return VERIFIED, f"{s.name} on {s.date.isoformat()}: go{' — ' + s.conditions if s.conditions else ''}"
        return None, ""
    raise ValueError(f"opslib/data/readiness-items.yaml: unknown auto check {kind!r}")


# --- what the reviewer runs: built from the project's values and its platform catalog -----------


def _platform_steps(params: ProjectParams, raw, env_name: str, where: str, limit: int = 1) -> list[Check]:
    platform = params.catalog.platform(params.platform)
    env = params.environment(env_name)
    out = []
    for s in steps(raw, params, command_context(params, env, platform), f"{platform.label}/platform.yaml {where}"):
        if s.command:
            out.append(Check(f"{env.name}: {s.text}", s.command, s.expected))
        if len(out) >= limit:
            break
    return out


def _params_file(params: ProjectParams) -> str:
    return f"parameters/{params.path.name}" if params.path is not None else f"parameters/{params.project.name}.yaml"


def _evidence_hint(st: _State) -> str:
    return st.evidence_name or f"the evidence file (readiness.evidence in {_params_file(st.params)})"


def _v_dashboards(st: _State) -> list[Check]:
    prod = st.params.production.name
    return [Check(f"Open {d.name}: it loads and shows {st.params.project.name}'s {prod} data from the last hour", link=d.url)
            for d in st.params.monitoring.dashboards]


def _v_alerts_loaded(st: _State) -> list[Check]:
    names = sorted({a.alert for a in alert_specs(st.params)})
    tool = st.params.monitoring.metrics_tool
    shown = ", ".join(names[:6]) + (f" and {len(names) - 6} more" if len(names) > 6 else "")
    if "prometheus" in tool.lower():
        return [Check(f"List the alerting rules {tool} has loaded: all {len(names)} of alerts.yml must be there ({shown})",
                      "curl -fsS \"$PROMETHEUS_URL/api/v1/rules?type=alert\" | grep -o '\"name\":\"[^\"]*\"' | sort -u",
                      "\n".join(f'"name":"{n}"' for n in names))]
    return [Check(f"alerts.yml holds {len(names)} Prometheus rules ({shown}) but metrics live in {tool}: confirm each has a loaded "
                  f"monitor there (or that a Prometheus scraping {st.params.project.name} loads alerts.yml)")]


def _v_logs(st: _State) -> list[Check]:
    p = st.params
    platform = p.catalog.platform(p.platform)
    checks = _platform_steps(p, platform.logs.search, p.production.name, "logs.search")
    logs = p.monitoring.logs
    return [*checks, Check(f"{logs.name}: the query `{logs.query}` returns recent lines, and the retention setting is {logs.retention_days} days",
                           link=logs.url)]


def _v_on_call(st: _State) -> list[Check]:
    c = st.params.contacts
    first = c.escalation[0]
    return [Check(f"Open the schedule {c.on_call.rotation}: someone is on call now and through the go-live window; "
                  f"the first escalation step ({first.who}, {first.contact}) answers a test page", link=c.on_call.url)]


def _vendors(params: ProjectParams) -> list[str]:
    vendors = set(_catalog().get("llm_vendors", [])) | set(cost_plan.tracking_catalog()["vendors"])
    prices = {(c.price or "").split(".")[0] for c in params.cost_components}
    deps = {d.name for d in params.dependencies}
    return sorted(v for v in vendors if v in prices or v in deps)


def _v_cost_tracking(st: _State) -> list[Check]:
    p = st.params
    platform = p.catalog.platform(p.platform)
    tags = ", ".join(p.cost.tags) if p.cost is not None else ""
    ctx = {"project": p.project.name, "tags": tags, "envs": ", ".join(e.name for e in p.environments)}
    where = f"{platform.label}/cost.yaml tracking"
    out = [Check(f"{t.name}: this month's spend of {p.project.name}, grouped by environment, is not empty", render_string(t.command, ctx, where, shell=True),
                 link=t.dashboard) for t in platform.cost.tracking]
    data = cost_plan.tracking_catalog()["vendors"]
    out += [Check(f"{data[v]['name']}: usage per environment key this month", link=data[v]["dashboard"]) for v in _vendors(p) if v in data]
    return out


def _v_cost_approval(st: _State) -> list[Check]:
    p = st.params
    plan = st.plan()
    if p.cost is None or plan is None:
        return []
    prod = next(e for e in plan.envs if e.name == p.production.name)
    return [Check(f"{' or '.join(p.cost.approvers)} approve the {prod.name} budget of {money(prod.budget)}/month "
                  f"(expected {money(prod.expected)}): a sign_off entry with role cost approval in {_evidence_hint(st)}")]


def _v_secrets_store(st: _State) -> list[Check]:
    inv = st.inventory()
    if inv is None:
        return []
    return [Check(f"{pr.title}: the secret exists, with its metadata (never its value); repeat for each secret of secrets.md",
                  pr.metadata.command, pr.metadata.expected) for pr in inv.procedures if pr.metadata.command]


def _v_audit(st: _State) -> list[Check]:
    inv = st.inventory()
    if inv is None:
        return []
    return [Check(f"{e.title}: the audit trail records who read or changed the secrets", e.audit.command, e.audit.expected)
            for e in inv.emergencies if e.audit.command]


def _v_access(st: _State) -> list[Check]:
    inv = st.inventory()
    if inv is None:
        return []
    stores = ", ".join(t for t, _ in inv.stores)
    return [Check(f"Compare who can read the {st.params.production.name} secrets in {stores} with the access matrix of secrets.md "
                  f"({len(inv.matrix)} secrets, services {', '.join(inv.services)}); no person or service beyond it")]


def _ci_runs(params: ProjectParams) -> list[tuple[str, str | None]]:
    """(CI system, its pipelines page when the repository is hosted there)."""
    systems = params.ci.systems if params.ci is not None else ["github", "gitlab"]
    repo = str(params.project.repository).rstrip("/")
    host = urlsplit(repo).hostname or ""
    out: list[tuple[str, str | None]] = []
    for s in systems:
        if s == "github":
            out.append(("GitHub Actions", f"{repo}/actions" if host == "github.com" else None))
        else:
            out.append(("GitLab CI", f"{repo}/-/pipelines" if "gitlab" in host else None))
    return out


def _v_ci_tests(st: _State) -> list[Check]:
    return [Check(f"{name}: the last pipeline run of {st.params.project.name} on the default branch ran the test job and it passed", link=url)
            for name, url in _ci_runs(st.params)]


def _v_ci_scan(st: _State) -> list[Check]:
    return [Check(f"{name}: the last pipeline run of {st.params.project.name} ran a secret scan (gitleaks or detect-secrets) and it passed", link=url)
            for name, url in _ci_runs(st.params)]


def _v_deploy(st: _State) -> list[Check]:
    p = st.params
    good = {env for env, _, _, status, _ in st.deployments() if status == "success"}
    platform = p.catalog.platform(p.platform)
    out = []
    for env in p.environments:
        if env.name not in good:
            out += _platform_steps(p, platform.verify, env.name, "verify")
    if out:
        out.append(Check(f"Record each deploy in deployments/{history_path(p).name} (version, env, date, status: success) or with `opslib report`"))
    return out


def _v_rollback(st: _State) -> list[Check]:
    p = st.params
    env = p.environments[-2].name if len(p.environments) > 1 else p.production.name
    platform = p.catalog.platform(p.platform)
    return [*_platform_steps(p, platform.rollback.steps, env, "rollback.steps"),
            Check(f"Record the rehearsal in deployments/{history_path(p).name} (status: rolled_back) or with `opslib report`")]


def _v_go_live(st: _State) -> list[Check]:
    p = st.params
    return [Check("Plan the production release with its window (the plan's gates check status.json, the QA report and the history)",
                  f"opslib plan {shlex.quote(_params_file(p))} --env {shlex.quote(p.production.name)} --version \"$VERSION\" "
                  "--qa-report \"QA/QA-Report-$UNIT_ID.md\" --window \"$START/$END\"")]


def _v_qa(st: _State) -> list[Check]:
    p = st.params
    return [Check(f"The approved QA report of the release, checked by `opslib plan {_params_file(p)} --env {p.production.name} --qa-report …`, "
                  f"and an entry in {_evidence_hint(st)}")]


def _v_data(st: _State) -> list[Check]:
    return [Check(f"A data-protection assessment linked from the spec ({st.params.project.links.spec}), and an entry in {_evidence_hint(st)}")]


VERIFIERS: dict[str, Callable[[_State], list[Check]]] = {
    "dashboards": _v_dashboards, "alerts_loaded": _v_alerts_loaded, "logs": _v_logs, "on_call": _v_on_call,
    "cost_tracking": _v_cost_tracking, "cost_approval": _v_cost_approval, "secrets_store": _v_secrets_store, "audit": _v_audit,
    "access": _v_access, "ci_tests": _v_ci_tests, "ci_scan": _v_ci_scan, "deploy": _v_deploy, "rollback": _v_rollback,
    "go_live": _v_go_live, "qa": _v_qa, "data": _v_data,
}


# --- resolving one item ------------------------------------------------------------------------


def _uses_llm(params: ProjectParams) -> list[str]:
    vendors = set(_catalog().get("llm_vendors", []))
    return [v for v in _vendors(params) if v in vendors]


def _resolve(it: dict, found, st: _State) -> tuple[ItemStatus, str]:
    params = st.params
    if it.get("applies") == "llm" and not _uses_llm(params):
        return "n/a", "the project calls no LLM vendor (no price or dependency of " + ", ".join(_catalog().get("llm_vendors", [])) + ")"
    doc, doc_text = _documents(it, found, params)
    if doc == "fail":
        return "fail", doc_text
    if doc == "n/a":
        return "n/a", doc_text
    auto_status, auto_text = _auto(it["auto"], st) if "auto" in it else (None, "")
    if auto_status == "fail":  # a refused signature, a cost over budget: no evidence entry overrides it
        return "fail", auto_text
    entry = st.entry(it["id"])
    stale = ""
    if entry is not None:
        if entry.result == "fail":
            return "fail", f"evidence: {_entry_text(entry)}"
        age = st.age(entry.date)
        if age <= st.max_age:
            return VERIFIED, f"evidence: {_entry_text(entry)}" + (f"; {doc_text}" if doc == "pass" else "")
        stale = f"stale evidence: {_entry_text(entry)} is {age} days old (limit {st.max_age}); verify again"
    if auto_status == VERIFIED:
        return VERIFIED, "; ".join(x for x in (auto_text, doc_text if doc == "pass" else "") if x)
    parts = [x for x in (stale, auto_text) if x]
    if doc == "pass" and "state" not in it and "auto" not in it:
        return VERIFIED, f"opslib checked {doc_text}" + (f"; {stale}" if stale else "")
    if doc == "pass":
        unknown = it.get("state") or "the state the documents describe"
        return DOCUMENTED, "; ".join([f"documented in {doc_text}", *parts, f"not verified: {unknown}"])
    if doc == "undecided":
        return UNMEASURED, "; ".join([doc_text, *parts])
    return UNMEASURED, "; ".join([*parts, it.get("not_measured", "")]).strip("; ") or "nothing shows it"


_INPUT_MEANING = {"VERSION": "the release tag", "PREVIOUS_VERSION": "the release before it", "UNIT_ID": "the QA unit of the release",
                  "START": "the window's start, UTC ISO 8601", "END": "the window's end", "PROMETHEUS_URL": "the Prometheus server's URL"}


def _with_inputs(c: Check) -> Check:
    """A check whose command uses shell variables it does not set names them as its inputs (a
    step taken from a longer procedure, a release's own values), so nobody runs it with them empty."""
    if not c.command:
        return c
    names = inputs([RStep(c.text, c.command, None)])
    if not names:
        return c
    return replace(c, text=f"{c.text.rstrip('.')}. Inputs: {input_note(names, _INPUT_MEANING)}")


def verdict(rv_items: list[Item], status: StatusCheck | None) -> tuple[str, str]:
    """(go | no-go | undecided, why in one sentence)."""
    fails = [i for i in rv_items if i.status == "fail"]
    open_items = [i for i in rv_items if i.open]
    blocking = [i for i in rv_items if i.blocking and i.status != "n/a"]
    if status is not None and status.halting and status.status is not None:
        return "no-go", f"status.json says the project is {status.status.status}."
    if fails:
        names = ", ".join(i.id for i in fails[:5]) + (", …" if len(fails) > 5 else "")
        return "no-go", f"{len(fails)} item{'s' if len(fails) > 1 else ''} fail ({names}): fix, verify again, then sign."
    if open_items:
        doc = sum(i.status == DOCUMENTED for i in open_items)
        return "undecided", (f"{len(blocking) - len(open_items)} of {len(blocking)} blocking items are verified; {doc} are documented but not "
                             f"verified and {len(open_items) - doc} not measured: verify them (below), record the evidence, then sign.")
    return "go", f"all {len(blocking)} blocking items are verified and none fails."


def _sign_off(st: _State) -> list[SignOff]:
    p = st.params
    expected = {"technical review": "technical reviewer", "cost approval": " or ".join(p.cost.approvers) if p.cost is not None else "cost approver",
                "stakeholder": "stakeholder"}
    out = []
    for role, label in ROLE_LABELS.items():
        signed = st.signatures(role)
        if signed:
            out += [SignOff(label, expected[role], s.name, s.date.isoformat(), s.decision, s.conditions or "none") for s in signed]
        else:
            out.append(SignOff(label, expected[role]))
    return out


def review(params: ProjectParams, out_dir: str | Path, status: StatusCheck | None = None) -> Review:
    out_dir = Path(out_dir)
    found = [(m, file, Finding(f.item, f.status, _clean(f.message, out_dir), f.line, f.area, f.severity)) for m, file, f in collect(out_dir, params)]
    section = params.readiness
    evidence = section.loaded if section is not None else None
    name = section.evidence if section is not None and section.evidence else None
    st = _State(params, out_dir, status, evidence, name, section.max_age_days if section is not None else 30)
    resolved = []
    for it in items():
        status_, text = _resolve(it, found, st)
        checks: tuple[Check, ...] = ()
        if status_ in (DOCUMENTED, UNMEASURED) and it.get("verify"):
            checks = tuple(_with_inputs(c) for c in VERIFIERS[it["verify"]](st))
        resolved.append(Item(it["id"], it["area"], it["source"], it["text"], status_, text, bool(it.get("blocking", True)), checks))
    areas: list[tuple[str, dict[str, int]]] = []
    for area in dict.fromkeys(i.area for i in resolved):
        mine = [i for i in resolved if i.area == area]
        areas.append((area, {str(s): sum(i.status == s for i in mine) for s in STATUSES}))
    counts: dict[str, int] = {str(s): sum(i.status == s for i in resolved) for s in STATUSES}
    head, why = verdict(resolved, status)
    if evidence is None:
        note = f"none declared; add readiness.evidence to {_params_file(params)} (item id → verified_by, date, result, link)"
    else:
        stale = sum(st.age(e.date) > st.max_age for e in evidence.items.values())
        note = (f"{name}: {len(evidence.items)} entries ({stale} stale: older than {st.max_age} days before "
                f"{params.project.as_of.isoformat()}), {len(evidence.sign_off)} signature{'' if len(evidence.sign_off) == 1 else 's'}")
    return Review(params.project, params.project.as_of, status, resolved, areas, counts, head, why, name, note, _sign_off(st))


def render_review(rv: Review) -> str:
    return render(DOC, rv)


def _own_findings(text: str) -> list[Finding]:
    return check_readiness(text, strict=True)


def draft(params: ProjectParams, status: StatusCheck | None, out_dir: str | Path, *, review_of: Review | None = None) -> Draft:
    """Review the documents in out_dir and render readiness.md; `review_of` is a review of the same
    folder already made (the notebook shows it first), so it is not made twice."""
    rv = review_of if review_of is not None else review(params, Path(out_dir), status)
    text = render_review(rv)
    return Draft(DOC, FILE, text, _own_findings(text), model=rv)


def write(params: ProjectParams, status: StatusCheck | None, out_dir: str | Path, rv: Review | None = None) -> Written:
    """Write <out_dir>/readiness.md (a record: it is written whatever the review found)."""
    return write_draft(draft(params, status, out_dir, review_of=rv), out_dir)


def check_written(out_dir: str | Path, params: ProjectParams) -> list[Finding]:
    return check_file("readiness", out_dir, FILE, params)
