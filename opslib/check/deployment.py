"""Quality-bar checks of deployment plans and deployment reports (seed 003 formats).

The quality bar judges operational documentation; a deployment plan is one (a procedure for
one release and environment), so it gets the quality bar's documentation items plus the
plan format of seed 003 (Overview, Pre-Deployment Checklist, Deployment Steps, Verification
Steps, Rollback Steps, Escalation Contacts; rollback triggers; an expected rollback time).
A deployment report records what happened: the procedure items (commands, expected outputs,
durations, prerequisites) are n/a for it; it is held to seed 003's report format instead.
(A readiness review, the quality bar's checklist answered item by item, is opslib/check/readiness.py.)
No extra demands are made of our generated plans and reports: `strict` adds nothing.

Section shapes are data: opslib/data/check-documents.yaml; item texts: opslib/data/quality-bar.yaml
(genres deployment-plan, deployment-report, and documentation for the items every genre shares).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
from pathlib import Path

from opslib.catalog.loaders import DATA_DIR
from opslib.check.commands import is_command
from opslib.check.findings import Finding, Status
from opslib.check.items import item_texts, not_a_procedure
from opslib.check.markdown import Document, Section, norm_title, parse
from opslib.check.truth import generated_truth
from opslib.core.yamlio import read_yaml
from opslib.params.models import ProjectParams

__all__ = ["PLAN_ITEMS", "REPORT_ITEMS", "check_deployment_plan", "check_deployment_report"]

PLAN_ITEMS = item_texts("deployment-plan")
REPORT_ITEMS = item_texts("deployment-report")
DOC_ITEMS = item_texts("documentation")
# the item of each key: (genre items, id)
DOC_ITEM = {
    "plan_sections": (PLAN_ITEMS, "sections"), "plan_commands": (DOC_ITEMS, "commands"), "plan_triggers": (PLAN_ITEMS, "triggers"),
    "plan_rollback_time": (PLAN_ITEMS, "rollback_time"), "plan_environment": (DOC_ITEMS, "environments"),
    "plan_links": (DOC_ITEMS, "links"), "plan_architecture": (DOC_ITEMS, "architecture"),
    "report_sections": (REPORT_ITEMS, "sections"), "report_outcome": (REPORT_ITEMS, "outcome"), "report_timeline": (REPORT_ITEMS, "timeline"),
    "report_verification": (REPORT_ITEMS, "verification"), "report_rollback": (REPORT_ITEMS, "rollback"), "report_dated": (DOC_ITEMS, "as_of"),
}


@cache
def _shapes() -> dict:
    raw = read_yaml(DATA_DIR / "check-documents.yaml", lines=False)
    return {g: {"sections": {name: [re.compile(rx, re.I) for rx in rxs] for name, rxs in (v.get("sections") or {}).items()},
                "procedures": [re.compile(rx, re.I) for rx in v.get("procedures") or []]}
            for g, v in raw.items()}


def _f(key: str, ok: bool | None, message: str, line: int | None = None, area: str = "deployment", severity: str = "error") -> Finding:
    status: Status = "n/a" if ok is None else ("pass" if ok else "fail")
    texts, item = DOC_ITEM[key]
    return Finding(texts[item], status, message, line, area, severity)


def _line(text: str, pos: int) -> int:
    return text[:pos].count("\n") + 1


def _match_sections(doc: Document, genre: str) -> dict[str, Section | None]:
    out: dict[str, Section | None] = {}
    used: set[int] = set()
    for name, rxs in _shapes()[genre]["sections"].items():
        # the regexes are in order of preference: "Pre-Deployment Checklist" before "Gates"
        sec = next((s for rx in rxs for s in doc.sections if s.line not in used and rx.search(norm_title(s.title))), None)
        out[name] = sec
        if sec is not None:
            used.add(sec.line)
    return out


def _sections_finding(doc: Document, genre: str, key: str) -> Finding:
    found = _match_sections(doc, genre)
    missing = [n for n, s in found.items() if s is None]
    if missing:
        return _f(key, False, f"missing section(s) {', '.join(missing)}; add a heading for each")
    sections = {n: s for n, s in found.items() if s is not None}  # every one, as none is missing
    names = list(sections)
    if [s.line for s in sections.values()] != sorted(s.line for s in sections.values()):
        order = ", ".join(sorted(names, key=lambda n: sections[n].line))
        return _f(key, False, f"sections are in the order {order}; reorder them to {', '.join(names)}", sections[names[0]].line)
    return _f(key, True, f"all {len(names)} sections present, in order", sections[names[0]].line)


def _table(doc: Document, sec: Section | None) -> list[list[str]]:
    body = doc.lines[sec.line - 1 : sec.end - 1] if sec else doc.lines
    rows = [r for r in body if r.strip().startswith("|")]
    return [[c.strip() for c in re.split(r"(?<!\\)\|", r.strip())[1:-1]] for r in rows]


# --- deployment plan ---------------------------------------------------------------------------

def check_deployment_plan(text: str, *, path: Path | None = None, environments: Sequence[str] | None = None,
                          params: ProjectParams | None = None, strict: bool = False, doc: Document | None = None) -> list[Finding]:
    """Seed 003's plan format and the documentation items a plan decides itself (`doc`: the
    text already parsed)."""
    doc = doc if doc is not None and doc.text == text else parse(text, Path(path) if path else None)
    out = [_sections_finding(doc, "deployment-plan", "plan_sections")]

    procs = [s for s in doc.sections if any(rx.search(norm_title(s.title)) for rx in _shapes()["deployment-plan"]["procedures"])]
    # a procedure section counts once: its own fences or those of its subsections
    bad = [s for s in procs if not any(is_command(f.content) for f in doc.fences_in(s))]
    if not procs:
        out.append(_f("plan_commands", False, "no deployment, verification or rollback steps found; add them with the exact commands", area="documentation"))
    else:
        out += [_f("plan_commands", False, f"'{s.title}' has no command block; add the exact commands an operator runs", s.line, "documentation") for s in bad]
        if not bad:
            out.append(_f("plan_commands", True, f"{len(procs)} procedure section(s), each with commands in code blocks", procs[0].line, "documentation"))

    trig = next((s for s in doc.sections if re.search(r"rollback (triggers|criteria)|roll back if|when to roll ?back|no-?go", s.title, re.I)), None)
    body = doc.body(trig) if trig else ""
    ok = trig is not None and bool(re.search(r"\d+(\.\d+)?\s*(%|ms|s\b|seconds?|min|minutes?)", body)) and bool(re.search(r"error|latency|health", body, re.I))
    out.append(_f("plan_triggers", ok, "rollback triggers with thresholds" if ok else
                  "no rollback triggers with thresholds; list when to roll back at once (error rate > N% for M min, p95 latency, failed health check)",
                  trig.line if trig else None))

    m = re.search(r"expected rollback (time|duration)\**:?\**\s*~?\d+\s*(s|sec|seconds|min|minutes|h|hours)\b|roll ?back[^\n]{0,60}\b(takes?|within|expected)\b[^\n]{0,20}\d+\s*(min|minutes|s|seconds)", text, re.I)
    out.append(_f("plan_rollback_time", bool(m), "expected rollback time stated" if m else
                  "no expected rollback time; say how long the rollback takes ('Expected rollback time: 5 minutes')", _line(text, m.start()) if m else None,
                  "documentation"))

    m = re.search(r"\b(target )?environment\**:?\**\s*\**\s*(dev|development|staging|stage|prod|production|qa|uat)\b|\bto \**(dev|staging|prod|production)\**\b", text, re.I)
    out.append(_f("plan_environment", bool(m), "target environment stated" if m else
                  "the plan does not say which environment it deploys to; state the target environment and what differs there",
                  _line(text, m.start()) if m else None, "documentation", "warning"))

    refs = re.findall(r"\b[\w./-]+\.(?:md|ya?ml|json)\b", text) + [h for h, _ in doc.links]
    out.append(_f("plan_links", bool(refs), f"{len(refs)} reference(s) to related procedures and documents" if refs else
                  "no links to related procedures; reference the runbook's rollback and troubleshooting sections and the QA report",
                  None, "documentation", "warning"))
    arch = re.search(r"\b(architecture|runbook)(\.md)?\b", text, re.I)
    out.append(_f("plan_architecture", bool(arch), "references the runbook or architecture document" if arch else
                  "no reference to the runbook or architecture document; link them so the operator finds the context",
                  _line(text, arch.start()) if arch else None, "documentation", "warning"))
    if strict and params is not None:
        out += generated_truth(text, path=Path(path) if path else None, params=params, doc=doc)
    return out


# --- deployment report -----------------------------------------------------------------------

def check_deployment_report(text: str, *, path: Path | None = None, environments: Sequence[str] | None = None,
                            params: ProjectParams | None = None, strict: bool = False, doc: Document | None = None) -> list[Finding]:
    """Seed 003's report format; the procedure items are n/a for a record of what happened
    (`doc`: the text already parsed)."""
    doc = doc if doc is not None and doc.text == text else parse(text, Path(path) if path else None)
    out = [_sections_finding(doc, "deployment-report", "report_sections")]
    found = _match_sections(doc, "deployment-report")

    m = re.search(r"status\**:?\**\s*\"?\**\s*(success(ful)?|succeeded|failed|failure|rolled[_ ]back|partial|aborted)\b", text, re.I)
    out.append(_f("report_outcome", bool(m), f"outcome stated ({m.group(1)})" if m else
                  "the outcome is not stated; add 'Status: SUCCESS | FAILED | ROLLED_BACK' to the summary", _line(text, m.start()) if m else None))

    tl = found.get("Deployment Timeline")
    times = re.findall(r"\b\d{1,2}:\d{2}\b", doc.body(tl)) if tl else []
    out.append(_f("report_timeline", len(times) >= 2, f"timeline with {len(times)} timed entries" if len(times) >= 2 else
                  "the timeline has no times; list each action with the time it happened (HH:MM)", tl.line if tl else None))

    vr = found.get("Verification Results")
    rows = _table(doc, vr) if vr else []
    header = rows[0] if rows else []
    ok = bool(vr) and any("expected" in c.lower() for c in header) and any(re.search(r"actual|result|status", c, re.I) for c in header) and len(rows) > 2
    out.append(_f("report_verification", ok, f"{max(len(rows) - 2, 0)} verification result(s) with expected and actual values" if ok else
                  "verification results lack expected and actual values; add a table (check, expected, actual, status)", vr.line if vr else None))

    rb = found.get("Rollback Status")
    body = doc.body(rb) if rb else ""
    required = re.search(r"rollback required\**:?\**\s*(yes|no)", body, re.I)
    ok = required is not None and (required.group(1).lower() == "no" or bool(re.search(r"reason\**:?\**\s*\S", body, re.I)))
    out.append(_f("report_rollback", ok, "rollback status stated" if ok else
                  "say whether a rollback was required ('Rollback required: Yes/No') and, if yes, the reason", rb.line if rb else None))

    m = re.search(r"\b\d{4}-\d{2}-\d{2}\b", text)
    out.append(_f("report_dated", bool(m), "dated" if m else "the report has no date; state when the deployment happened (YYYY-MM-DD)",
                  _line(text, m.start()) if m else None, "documentation", "warning"))
    out += not_a_procedure("a deployment report records what happened; it has no procedure to follow")
    return out
