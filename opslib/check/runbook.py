"""Quality-bar checks: every item of the quality bar's "Runbook Validation" list (plus the
documentation-quality items that can be read from the text) as a function over a parsed
Markdown document.

Checks collect every finding and never stop at the first. Each `Finding` names the
checklist item it enforces, a status (pass / fail / n/a / not measured), the line it
refers to and, when it fails, what to do. The same checks run on generated runbooks and
on hand-written ones (`opslib check runbook.md`); the strict profile of our generated
runbooks adds two demands: the file is named runbook.md, and the status.json result is stated
(a hand-written runbook that does not say is "not measured").

Item texts: opslib/data/quality-bar.yaml, genre service-runbook.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import Path

from opslib.check.commands import has_command, project_clis
from opslib.check.facts import anchor_slug
from opslib.check.findings import DEFAULT_ENVIRONMENTS, Finding, environment_names
from opslib.check.items import item_texts
from opslib.check.markdown import Document, Section, parse
from opslib.check.placeholders import find_placeholders
from opslib.check.truth import generated_truth
from opslib.params.models import ProjectParams

__all__ = ["GENRE", "ITEMS", "RUNBOOK_SECTIONS", "RUNBOOK_CHECKS", "DEFAULT_ENVIRONMENTS", "ENV_SYNONYMS", "MIN_ISSUES", "check_runbook",
           "document_environments"]

GENRE = "service-runbook"
ITEMS = item_texts(GENRE)
RUNBOOK_SECTIONS = ("Deployment", "Operations", "Monitoring", "Troubleshooting", "Rollback")
ENV_SYNONYMS = {"prod": ("prod", "production"), "dev": ("dev", "development"), "staging": ("staging", "stage")}
MIN_ISSUES = 5

NOT_APPLICABLE = re.compile(r"^\s*(\*\*)?(not applicable|n/a)\b", re.I | re.M)

Check = Callable[[Document, dict], list[Finding]]
RUNBOOK_CHECKS: list[tuple[str, Check]] = []


def _check(key: str):
    """Register a check of the item `key` (its text: ITEMS[key])."""
    def register(fn: Check) -> Check:
        RUNBOOK_CHECKS.append((key, fn))
        return fn

    return register


def _f(item: str, ok: bool, good: str, bad: str, line: int | None = None) -> Finding:
    return Finding(item, "pass" if ok else "fail", good if ok else bad, line)


def _section(doc: Document, name: str) -> Section | None:
    return doc.find(name)


def _env_sections(doc: Document, envs: list[str]) -> dict[str, Section | None]:
    dep = _section(doc, "Deployment")
    out: dict[str, Section | None] = {}
    for env in envs:
        names = ENV_SYNONYMS.get(env, (env,))
        out[env] = None
        if dep is None:
            continue
        for sec in doc.subsections(dep):
            words = re.findall(r"[a-z0-9-]+", sec.title.lower())
            if sec.level == dep.level + 1 and any(n in words for n in names):
                out[env] = sec
                break
    missing = [e for e, sec in out.items() if sec is None]
    if dep is not None and missing:
        # one procedure for every environment, with a table whose header names them (write once, show differences)
        header = next((r for r in _table_rows(doc.body(dep)) if any(c.lower() in ENV_SYNONYMS.get(e, (e,)) for e in missing for c in r)), [])
        cells = {c.lower() for c in header}
        procedure = next((s for s in doc.subsections(dep) if s.level == dep.level + 1 and "procedure" in s.title.lower()), None)
        for env in missing:
            if procedure is not None and cells & set(ENV_SYNONYMS.get(env, (env,))):
                out[env] = procedure
    return out


# "Deployment to prod", "Deploy to eu-west", "Production deployment", "qa environment"
_ENV_TITLE = (re.compile(r"\b(?:deploy(?:ment|ing|s)?|release|rollout)\s+(?:to|in|into|on)\s+(?:the\s+)?`?([a-z0-9][a-z0-9-]*)`?", re.I),
              re.compile(r"^`?([a-z0-9][a-z0-9-]*)`?\s+(?:environment|deployment|deploy)\b", re.I))
_NOT_ENV = {"release", "variables", "the", "a", "an", "all", "each", "every", "production-like", "order", "prerequisites", "steps",
            "verification", "environment", "environments", "rollback", "new", "first"}


def document_environments(doc: Document) -> list[str]:
    """The environments a runbook names in its Deployment subsections ('Deployment to qa',
    'Production deployment'), synonyms folded (production → prod), and each of dev/staging/prod
    its Deployment section names (an app `shop-staging`, a URL https://dev.…) or its text deploys
    to ("deploy to staging"): a runbook that does owes that environment a procedure;
    DEFAULT_ENVIRONMENTS when its titles name none. A runbook is judged for the environments it
    has, not for dev/staging/prod."""
    dep = _section(doc, "Deployment")
    found: list[str] = []
    subsections = [sec for sec in doc.subsections(dep) if sec.level == dep.level + 1] if dep is not None else []
    for sec in subsections:
        for pattern in _ENV_TITLE:
            m = pattern.search(sec.title.strip())
            name = m.group(1).lower() if m else None
            if name and name not in _NOT_ENV:
                name = next((key for key, names in ENV_SYNONYMS.items() if name in names), name)
                if name not in found:
                    found.append(name)
                break
    if not found and dep is not None:
        # one procedure for every environment: the columns of its environment table (a header whose first cell is blank)
        header = next((r for r in _table_rows(doc.body(dep)) if len(r) > 1 and not r[0].strip()), [])
        for cell in header[1:]:
            name = cell.strip().strip("`*").lower()
            name = next((key for key, names in ENV_SYNONYMS.items() if name in names), name)
            if re.fullmatch(r"[a-z][a-z0-9-]{0,30}", name) and name not in found:
                found.append(name)
    if not found or dep is None:
        return list(DEFAULT_ENVIRONMENTS)
    # dev / staging / prod named in the Deployment section (`-a shop-staging`, https://dev.shop.example.com, "deploy to
    # staging"), or deployed to anywhere in the text: the runbook owes each of them a procedure too
    words = {part.lower() for token in re.findall(r"[A-Za-z0-9_./-]+", doc.body(dep)) if not token.startswith("/")
             for part in re.split(r"[-._/]", token)}
    words |= {m.group(1).lower() for m in _ENV_TITLE[0].finditer(doc.text)}
    for env, names in ENV_SYNONYMS.items():
        if env not in found and words & set(names):
            found.append(env)
    return found


@_check("exists")
def check_exists(doc: Document, ctx: dict) -> list[Finding]:
    out = [Finding(ITEMS["exists"], "pass" if doc.text.strip() else "fail", "document has content" if doc.text.strip() else "the document is empty; generate or write it")]
    if ctx["strict"] and doc.path is not None and doc.path.name != "runbook.md":
        out.append(Finding(ITEMS["exists"], "fail", f"{doc.path}: name the file runbook.md so operators and tools find it"))
    return out


@_check("sections")
def check_sections(doc: Document, ctx: dict) -> list[Finding]:
    found = {name: _section(doc, name) for name in RUNBOOK_SECTIONS}
    missing = [n for n, s in found.items() if s is None]
    if missing:
        return [Finding(ITEMS["sections"], "fail", f"missing section(s) {', '.join(missing)}; add a heading for each")]
    sections = {n: s for n, s in found.items() if s is not None}  # every one, as none is missing
    lines = [sections[n].line for n in RUNBOOK_SECTIONS]
    if lines != sorted(lines):
        order = ", ".join(n for n in sorted(RUNBOOK_SECTIONS, key=lambda n: sections[n].line))
        return [Finding(ITEMS["sections"], "fail", f"sections are in the order {order}; reorder them to {', '.join(RUNBOOK_SECTIONS)}", sections[RUNBOOK_SECTIONS[0]].line)]
    return [Finding(ITEMS["sections"], "pass", "all five sections present in order", lines[0])]


@_check("environments")
def check_environments(doc: Document, ctx: dict) -> list[Finding]:
    envs = _env_sections(doc, ctx["environments"])
    missing = [e for e, s in envs.items() if s is None]
    dep = _section(doc, "Deployment")
    return [_f(ITEMS["environments"], not missing, f"deployment procedure for {', '.join(envs)}",
               f"no deployment procedure for {', '.join(missing)}; add a 'Deployment to <env>' subsection for each, or one 'Deployment procedure' with a table whose columns are the environments", dep.line if dep else None)]


@_check("commands")
def check_commands(doc: Document, ctx: dict) -> list[Finding]:
    out = []
    procedures = [s for s in _env_sections(doc, ctx["environments"]).values() if s]
    for name in ("Operations", "Rollback"):
        sec = _section(doc, name)
        if sec:
            procedures += [s for s in sec.children if s.title.lower() not in ("roll back or roll forward?", "when to roll back")]
    procedures += _issue_sections(doc)
    procedures = [s for s in procedures if not NOT_APPLICABLE.search(doc.body(s))]
    for sec in procedures:
        if not any(has_command(f, ctx["clis"]) for f in doc.fences_in(sec)) and not _points_to_commands(doc, sec, ctx["clis"]):
            out.append(Finding(ITEMS["commands"], "fail", f"'{sec.title}' has no command block with a known CLI; add the exact commands an operator runs", sec.line))
    if not procedures:
        return [Finding(ITEMS["commands"], "fail", "no procedures found; add Deployment, Operations and Rollback procedures with commands")]
    return out or [Finding(ITEMS["commands"], "pass", f"{len(procedures)} procedures, each with commands")]


def _points_to_commands(doc: Document, sec: Section, clis: frozenset[str]) -> bool:
    """A procedure written once elsewhere in the document (the rollback commands on the first
    screen) and linked from this section counts as this section's commands."""
    targets = {href[1:] for href, line in doc.links if href.startswith("#") and sec.line <= line < sec.end}
    return any(anchor_slug(s.title) in targets and any(has_command(f, clis) for f in doc.fences_in(s))
               for s in doc.sections if s is not sec)


def _per_env(doc: Document, ctx: dict, item: str, pattern: str, what: str) -> list[Finding]:
    out = []
    envs = _env_sections(doc, ctx["environments"])
    for env, sec in envs.items():
        if sec is None:
            out.append(Finding(item, "fail", f"no deployment procedure for {env}, so no {what}; add one"))
        elif not re.search(pattern, doc.body(sec), re.I | re.M):
            out.append(Finding(item, "fail", f"'{sec.title}' has no {what}; add it", sec.line))
    return out


@_check("prerequisites")
def check_prerequisites(doc: Document, ctx: dict) -> list[Finding]:
    out = _per_env(doc, ctx, ITEMS["prerequisites"], r"^#+\s*prerequisites|\*\*prerequisites", "prerequisites")
    return out or [Finding(ITEMS["prerequisites"], "pass", "every environment's deployment lists prerequisites")]


DURATION = r"expected (deployment |rollback )?(duration|time)\**:?\**\s*~?\d+\s*(s|sec|seconds|min|minutes|h|hours)\b"


@_check("durations")
def check_durations(doc: Document, ctx: dict) -> list[Finding]:
    out = _per_env(doc, ctx, ITEMS["durations"], DURATION, "expected duration")
    rb = _section(doc, "Rollback")
    if rb and not re.search(DURATION, doc.body(rb), re.I):
        out.append(Finding(ITEMS["durations"], "fail", "Rollback has no expected rollback time; add 'Expected rollback time: N minutes'", rb.line))
    return out or [Finding(ITEMS["durations"], "pass", "expected durations for every deployment and the rollback")]


def _verification(doc: Document, sec: Section, clis: frozenset[str]) -> bool:
    for sub in doc.subsections(sec):
        if "verif" in sub.title.lower() and any(has_command(f, clis) for f in doc.fences_in(sub)):
            return True
    return False


@_check("verification")
def check_verification(doc: Document, ctx: dict) -> list[Finding]:
    out = []
    for sec in _env_sections(doc, ctx["environments"]).values():
        if sec is not None and not _verification(doc, sec, ctx["clis"]):
            out.append(Finding(ITEMS["verification"], "fail", f"'{sec.title}' has no Verification subsection with commands; add health checks and expected output", sec.line))
    return out or [Finding(ITEMS["verification"], "pass", "every deployment has verification commands")]


@_check("health")
def check_health(doc: Document, ctx: dict) -> list[Finding]:
    ops = _section(doc, "Operations")
    sec = next((s for s in doc.subsections(ops) if "health" in s.title.lower()), None) if ops else None
    if sec is None:
        return [Finding(ITEMS["health"], "fail", "Operations has no health-check subsection; add endpoints and expected responses", ops.line if ops else None)]
    body = doc.body(sec)
    endpoint = re.search(r"https?://\S+|/\w*health\w*", body) and re.search(r"expected", body, re.I)
    # a service without an HTTP endpoint (a worker, a scheduled job) is checked by a command and its expected output
    command = any(has_command(f, ctx["clis"]) and re.search(r"^\s*#\s*\S", f.content, re.M) for f in doc.fences_in(sec))
    return [_f(ITEMS["health"], bool(endpoint or command), "health endpoints or health commands with expected responses",
               "health checks lack an endpoint URL or a command with its expected response; add them", sec.line)]


@_check("logs")
def check_logs(doc: Document, ctx: dict) -> list[Finding]:
    ops = _section(doc, "Operations")
    sec = next((s for s in doc.subsections(ops) if "log" in s.title.lower()), None) if ops else None
    ok = sec is not None and any(has_command(f, ctx["clis"]) for f in doc.fences_in(sec)) and re.search(r"location|stored|retention", doc.body(sec), re.I)
    return [_f(ITEMS["logs"], bool(ok), "log location and viewing commands", "Operations needs a logs subsection with where logs are kept and the commands to view them", sec.line if sec else None)]


@_check("scaling")
def check_scaling(doc: Document, ctx: dict) -> list[Finding]:
    ops = _section(doc, "Operations")
    sec = next((s for s in doc.subsections(ops) if "scal" in s.title.lower()), None) if ops else None
    body = doc.body(sec) if sec else ""
    ok = sec is not None and re.search(r"manual", body, re.I) and re.search(r"auto", body, re.I) and any(has_command(f, ctx["clis"]) for f in doc.fences_in(sec))
    return [_f(ITEMS["scaling"], bool(ok), "manual and auto-scaling procedures", "Operations needs a scaling subsection covering manual and auto-scaling with commands", sec.line if sec else None)]


def _table_rows(body: str) -> list[list[str]]:
    rows = [r for r in body.splitlines() if r.strip().startswith("|")]
    return [[c.strip() for c in re.split(r"(?<!\\)\|", r.strip())[1:-1]] for r in rows]


@_check("metrics")
def check_metrics(doc: Document, ctx: dict) -> list[Finding]:
    mon = _section(doc, "Monitoring")
    if mon is None:
        return [Finding(ITEMS["metrics"], "fail", "no Monitoring section; add key metrics with thresholds")]
    rows = _table_rows(doc.body(mon))
    header = next((r for r in rows if any("threshold" in c.lower() for c in r)), None)
    if header is None:
        return [Finding(ITEMS["metrics"], "fail", "Monitoring has no metrics table with a Threshold column; add metric, threshold and rationale", mon.line)]
    ti = next(i for i, c in enumerate(header) if "threshold" in c.lower())
    ri = next((i for i, c in enumerate(header) if "rationale" in c.lower() or "why" in c.lower()), None)
    body_rows = [r for r in rows[rows.index(header) + 2 :] if len(r) == len(header)]
    bad = [r[0] for r in body_rows if not re.search(r"\d", r[ti]) or (ri is not None and not r[ri])]
    if ri is None:
        return [Finding(ITEMS["metrics"], "fail", "metric thresholds have no rationale column; say why each threshold is what it is", mon.line)]
    if len(body_rows) < 3 or bad:
        return [Finding(ITEMS["metrics"], "fail", f"{len(body_rows)} metric(s); need at least 3 with numeric thresholds and rationale (incomplete: {', '.join(bad) or '-'})", mon.line)]
    return [Finding(ITEMS["metrics"], "pass", f"{len(body_rows)} metrics with thresholds and rationale", mon.line)]


@_check("dashboards")
def check_dashboards(doc: Document, ctx: dict) -> list[Finding]:
    mon = _section(doc, "Monitoring")
    ok = mon is not None and re.search(r"https?://", doc.body(mon))
    return [_f(ITEMS["dashboards"], bool(ok), "dashboard links in Monitoring", "Monitoring has no dashboard link; add the URL of the dashboard on-call opens first", mon.line if mon else None)]


@_check("escalation")
def check_escalation(doc: Document, ctx: dict) -> list[Finding]:
    secs = [s for s in doc.sections if "escalat" in s.title.lower() or "contact" in s.title.lower()]
    ok = any(re.search(r"\d+\s*min", doc.body(s)) and re.search(r"#[\w-]+|@|https?://|\+\d", doc.body(s)) for s in secs)
    return [_f(ITEMS["escalation"], ok, "escalation chain with timing and contacts",
               "no escalation procedure with contacts and timing; add who is called after how many minutes and how to reach them", secs[0].line if secs else None)]


def _issue_sections(doc: Document) -> list[Section]:
    ts = _section(doc, "Troubleshooting")
    if ts is None:
        return []
    return [s for s in ts.children if re.search(r"\*\*symptoms?\**|^#+\s*symptom", doc.body(s), re.I | re.M)]


@_check("issues")
def check_issues(doc: Document, ctx: dict) -> list[Finding]:
    issues = _issue_sections(doc)
    out = []
    for sec in issues:
        body = doc.body(sec)
        missing = [w for w in ("cause", "solution", "diagnos") if not re.search(w, body, re.I)]
        if missing:
            out.append(Finding(ITEMS["issues"], "fail", f"'{sec.title}' lacks {', '.join(missing)}; every issue needs symptom, cause, diagnostic commands and solution", sec.line))
    minimum = ctx.get("min_issues", 5)
    if len(issues) < minimum:
        ts = _section(doc, "Troubleshooting")
        out.append(Finding(ITEMS["issues"], "fail", f"{len(issues)} troubleshooting issue(s); document at least {minimum} with symptom, cause and solution", ts.line if ts else None))
    return out or [Finding(ITEMS["issues"], "pass", f"{len(issues)} issues with symptom, cause, diagnostics and solution")]


@_check("rollback")
def check_rollback(doc: Document, ctx: dict) -> list[Finding]:
    rb = _section(doc, "Rollback")
    ok = rb is not None and any(has_command(f, ctx["clis"]) for f in doc.fences_in(rb)) and _verification(doc, rb, ctx["clis"])
    return [_f(ITEMS["rollback"], ok, "rollback procedure with verification commands",
               "Rollback needs step-by-step commands and a verification subsection with commands", rb.line if rb else None)]


@_check("links")
def check_links(doc: Document, ctx: dict) -> list[Finding]:
    out = []
    for name in ("architecture", "plan"):
        hits = [(h, ln) for h, ln in doc.links if name in h.lower()]
        if not hits:
            out.append(Finding(ITEMS["links"], "fail", f"no link to {name}.md; link the project's {name} document"))
            continue
        for href, line in hits:
            if re.match(r"https?://", href):
                continue
            if doc.path is not None and not (doc.path.parent / href.split("#")[0]).resolve().is_file():
                out.append(Finding(ITEMS["links"], "fail", f"link {href} does not resolve from {doc.path.parent}; fix the path", line))
    return out or [Finding(ITEMS["links"], "pass", "links to architecture and plan resolve")]


@_check("placeholders")
def check_placeholders(doc: Document, ctx: dict) -> list[Finding]:
    out = [Finding(ITEMS["placeholders"], "fail", f"unfilled placeholder {hit!r}; replace it with a real value", n, severity=sev)
           for n, hit, sev in find_placeholders(doc)]
    return out or [Finding(ITEMS["placeholders"], "pass", "no unfilled placeholders")]


@_check("as_of")
def check_as_of(doc: Document, ctx: dict) -> list[Finding]:
    m = re.search(r"(as of|last updated)\**:?\**\s*\d{4}-\d{2}-\d{2}", doc.text, re.I)
    return [_f(ITEMS["as_of"], bool(m), "'as of' date present", "no 'As of: YYYY-MM-DD' date; add when the document was last reviewed")]


@_check("status")
def check_status_noted(doc: Document, ctx: dict) -> list[Finding]:
    m = re.search(r"status\.json:\s*(active|blocked|completed|on-hold)", doc.text)
    if m is not None:
        return [Finding(ITEMS["status"], "pass", "status.json result stated")]
    if re.search(r"status\.json:\s*not linked", doc.text):  # said plainly: the project links no status.json
        return [Finding(ITEMS["status"], "not measured", "the project links no status.json (the document says so); link it to check the status")]
    out = [Finding(ITEMS["status"], "not measured", "the document does not say whether status.json was checked")]
    if ctx["strict"]:
        out.append(Finding(ITEMS["status"], "fail", "the document does not state the status.json result; generate it with opslib"))
    return out


def check_runbook(text: str, *, path: Path | None = None, environments: Sequence[str] | None = None,
                  params: ProjectParams | None = None, strict: bool = False, doc: Document | None = None) -> list[Finding]:
    """Every "Runbook Validation" item (plus the documentation items read from the text), each
    as a Finding. `strict` (our generated runbooks) adds a failing finding when the file at
    `path` is not named runbook.md or the status.json result is not stated; `doc` is the text
    already parsed (saves a parse)."""
    doc = doc if doc is not None and doc.text == text else parse(text, Path(path) if path else None)
    ctx = {"environments": environment_names(environments, params, document_environments(doc)), "strict": strict, "min_issues": MIN_ISSUES,
           "clis": project_clis(params)}
    findings: list[Finding] = []
    for _key, fn in RUNBOOK_CHECKS:
        findings += fn(doc, ctx)
    if strict and params is not None:
        findings += generated_truth(text, path=Path(path) if path else None, params=params, doc=doc)
    return findings
