"""`opslib check` on any operational document: detect its genre, then apply the quality bar's
"Validation Checklist" and "Common Mistakes" items that can be decided from the text.

    detect_genre(text, name)                       -> str   service-runbook, alert-runbook, procedure,
                                                             checklist, template, cost-plan, secrets, pipeline,
                                                             deployment-plan, deployment-report, readiness, cost-report
    check_document(text, path=None, genre=None, …) -> Report  findings (pass/fail/n/a/not measured) and scores
    find_placeholders(doc)                         -> list[(line, text, severity)]

Genre-specific checks come from the genre's checker (opslib.check.genres.check_genre: the same
checker that judges our generated documents, in its lenient profile); the rules here are the
documentation-quality and actionability items that apply to every genre (placeholders,
commands, expected outputs, verification, thresholds with a rationale, escalation contacts,
links, "as of" dates, no secret values). Synonyms, genre signals and placeholder patterns are
data: opslib/data/check-*.yaml; item texts: opslib/data/quality-bar.yaml, genre documentation.
"""

from __future__ import annotations

import re
from collections.abc import Container
from dataclasses import dataclass, field, replace
from pathlib import Path

from opslib.check.classify import classify
from opslib.check.commands import inline_commands, is_command
from opslib.check.findings import DEFAULT_ENVIRONMENTS, Finding, Status
from opslib.check.genres import check_genre
from opslib.check.items import item_text, item_texts
from opslib.check.markdown import Document, canonical_section, parse
from opslib.check.placeholders import find_placeholders
from opslib.check.scan import scan_text
from opslib.check.shape import shape_findings, stated_platform
from opslib.check.substance import Part, Substance, substance
from opslib.check.truth import truth_findings, truth_report

__all__ = ["GENRES", "ITEMS", "Report", "detect_genre", "check_document", "find_placeholders", "generic_findings", "score", "area_scores"]

GENRES = ("service-runbook", "alert-runbook", "procedure", "checklist", "template", "cost-plan", "secrets", "pipeline",
          "deployment-plan", "deployment-report", "readiness", "cost-report", "postmortem")
# the pseudo-genre the generic rules are given when the checker is unsure of the genre: only the
# rules common to every genre decide
COMMON = "document"
WARNING_WEIGHT = 0.5
# the quality bar states "specific commands (not abstractions)" in both the Runbook Validation
# and the Documentation Quality lists and names it first among the Common Mistakes: it counts twice
DOUBLE_WEIGHT = (("documentation", "commands"), ("service-runbook", "commands"))
ITEMS = item_texts("documentation")


def _item_weights() -> dict[str, float]:
    return {item_text(genre, key): 2.0 for genre, key in DOUBLE_WEIGHT}


@dataclass
class Report:
    file: str
    genre: str
    findings: list[Finding]
    score: float = 0.0
    areas: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # what the check assumed (the platform tool fit was judged against)
    genre_sure: bool = True  # False: the genre is the checker's best guess, and only the rules common to every genre judged it
    compliance: float = 0.0  # the share of decided quality-bar items that pass (`score()`); `score` is the substance
    substance: Substance | None = None

    def top_changes(self, n: int = 3) -> list[Part]:
        return self.substance.top_changes(n) if self.substance else []

    def as_dict(self) -> dict:
        return {"file": self.file, "genre": self.genre, "genre_sure": self.genre_sure, "score": self.score, "compliance": self.compliance,
                "areas": self.areas, "notes": self.notes, "findings": [f.as_dict() for f in self.findings],
                "substance": [{"part": p.key, "value": p.value, "weight": p.weight, "line": p.line, "found": p.evidence, "add": p.advice}
                              for p in (self.substance.parts if self.substance else [])],
                "penalties": self.substance.penalties if self.substance else [],
                "top_changes": [{"part": p.key, "line": p.line, "add": p.advice, "gain": round(p.gain, 2)} for p in self.top_changes()]}


def score(findings: list[Finding], truth: bool = False, shape: bool = False) -> float:
    """0–100: the weighted share of decided quality-bar items that pass. An item counts once
    (it fails if any of its findings fails); an item that fails only with warnings weighs half;
    n/a and not-measured items do not count, nor do the shape warnings (area "shape"). A document with nothing decidable scores 0. The truth
    rules' items count only with `truth=True` (their own area score): they are reported, but the
    overall score stays the one the corpus ranking was measured with until it is re-weighted."""
    items: dict[tuple[str, str], tuple[bool, float]] = {}
    for f in findings:
        if f.status not in ("pass", "fail") or f.area == "truth" and not truth or f.area == "shape" and not shape:
            continue
        key = (f.area, f.item)
        ok, w = items.get(key, (True, 0.0))
        if f.status == "fail":
            w = max(w, WARNING_WEIGHT if f.severity == "warning" else 1.0)
            ok = False
        elif ok:
            w = 1.0
        items[key] = (ok, w)
    weights = _item_weights()
    items = {k: (ok, w * weights.get(k[1], 1.0)) for k, (ok, w) in items.items()}
    den = sum(w for _ok, w in items.values())
    num = sum(w for ok, w in items.values() if ok)
    return round(100 * num / den, 1) if den else 0.0


# --- data -------------------------------------------------------------------------------------

# --- genre --------------------------------------------------------------------------------------

def detect_genre(text: str, name: str = "", doc: Document | None = None) -> str:
    """The kind of operational document: decided from file name, title, headings and text signals
    (opslib.check.classify; `classify` also says whether the checker is sure)."""
    return classify(doc or parse(text), name).genre


# --- rules ----------------------------------------------------------------------------------------

# a line that may hold a secret: a run of 16+ token characters with a letter and a digit, a URL
# with user info, a PEM line, or a secret-like key. Linear: the runs are found once each (the old
# single regex with two look-aheads rescanned the rest of a run from every position: minutes on
# a 1 MB line)
TOKEN_RUN = re.compile(r"[A-Za-z0-9+/_\-.=]{16,}")
CAND_OTHER = re.compile(r"://[^\s/@]*@|-----(?:BEGIN|END)|(?i:pass(word|wd)?|secret|token|api[_-]?key)\s*[:=]")


def _candidate(line: str) -> bool:
    if CAND_OTHER.search(line):
        return True
    return any(re.search(r"\d", m.group()) and re.search(r"[A-Za-z]", m.group()) for m in TOKEN_RUN.finditer(line))


def _q(key: str, status: Status, message: str, line: int | None = None, area: str = "documentation", severity: str = "error") -> Finding:
    return Finding(ITEMS[key], status, message, line, area, severity)


def _main_sections(doc: Document):
    level = doc.section_level
    return [s for s in doc.sections if s.level == level]


def _action_sections(doc: Document, genre: str):
    """The sections an operator acts on: Troubleshooting-like sections of an alert runbook,
    every main section of a procedure."""
    mains = _main_sections(doc)
    if genre == "alert-runbook":
        secs = [s for s in mains if canonical_section(s.title) == "Troubleshooting"]
        return secs or mains
    return mains or ([doc.sections[0]] if doc.sections else [])


def _where(doc: Document, genre: str, what: str) -> int:
    """The line where a missing thing belongs: under the title ("top"), at the first procedure
    section ("action"), at the first or the last code block ("command", "last command")."""
    if what == "top":
        return next((s.line for s in doc.sections if s.level == doc.section_level), doc.sections[0].line if doc.sections else 1)
    secs = _action_sections(doc, genre)
    if what in ("command", "last command") and doc.fences:
        inside = [f for s in secs for f in doc.fences_in(s)] or doc.fences
        return inside[0 if what == "command" else -1].line
    return secs[0].line if secs else 1


def _rule_sections(doc: Document, genre: str) -> list[Finding]:
    if genre != "alert-runbook":
        return []
    mains = _main_sections(doc)
    ctx = [s for s in mains if canonical_section(s.title) == "Monitoring"]
    act = [s for s in mains if canonical_section(s.title) == "Troubleshooting"]
    missing = [n for n, v in (("Meaning/Impact", ctx), ("Diagnosis/Mitigation", act)) if not v]
    if missing:
        return [_q("sections", "fail", f"alert runbook without {', '.join(missing)}; add '## Meaning', '## Impact', '## Diagnosis', '## Mitigation'",
                   mains[0].line if mains else None, "runbook")]
    if ctx[0].line > act[0].line:
        return [_q("sections", "fail", f"'{act[0].title}' comes before '{ctx[0].title}'; explain what the alert means before how to fix it", act[0].line, "runbook")]
    names = [s.title for s in ctx + act]
    return [_q("sections", "pass", f"alert context and actions present: {', '.join(names)}", ctx[0].line, "runbook")]


def _rule_commands(doc: Document, genre: str) -> list[Finding]:
    out = []
    secs = _action_sections(doc, genre)
    for sec in secs:
        body = doc.body(sec)
        if any(is_command(f.content) for f in doc.fences_in(sec)):
            continue
        if inline_commands(body):
            out.append(_q("commands", "fail", f"'{sec.title}' has commands only inline; put them in a code block an operator can copy", sec.line, severity="warning"))
            continue
        out.append(_q("commands", "fail", f"'{sec.title}' has no command, query or URL; add the exact commands an operator runs", sec.line))
    return out or [_q("commands", "pass", f"{len(secs)} procedure section(s) with commands in code blocks")]


def _rule_outputs(doc: Document, genre: str) -> list[Finding]:
    rx = re.compile(r"expected (output|result|response|state)|expected:|(should|will) (return|show|print|output|contain|display|list|report)|"
                    r"you should see|output (should|will)|returns? (http )?\d{3}\b|for example:|e\.g\.,? ?output", re.I)
    m = rx.search(doc.text)
    if not m:
        # a console block with a prompt line followed by output lines shows the expected output
        for f in doc.fences:
            lines = [ln for ln in f.content.splitlines() if ln.strip()]
            if any(ln.lstrip().startswith("$ ") for ln in lines) and any(not ln.lstrip().startswith(("$ ", "#")) for ln in lines):
                return [_q("outputs", "pass", "a console block shows the expected output", f.line)]
        return [_q("outputs", "fail", "no expected output; after each command say what a healthy result looks like ('Expected: …')", _where(doc, genre, "command"))]
    return [_q("outputs", "pass", "expected outputs documented", doc.text[: m.start()].count("\n") + 1)]


def _rule_errors(doc: Document, genre: str) -> list[Finding]:
    m = re.search(r"\b(if (it|the|this|that)\b[^.\n]*\b(fails?|errors?|not|doesn't|does not|times? out)|errors?\b|fail(s|ed|ure|ing)?\b|troubleshoot)", doc.text, re.I)
    return [_q("errors", "pass" if m else "fail", "error cases documented" if m else "no error cases; say what to do when a step fails",
               doc.text[: m.start()].count("\n") + 1 if m else _where(doc, genre, "action"), severity="warning")]


DURATION_RX = re.compile(r"(takes?|duration|expected (time|duration)|wait|allow|within|about|approximately|~|under|less than|<)\s*\**:?\**\s*(about |up to |roughly )?\**\s*\d+(\s*[-–]\s*\d+)?\s*(s|sec|seconds?|mins?|minutes?|h|hrs?|hours?)\b", re.I)


def _rule_durations(doc: Document, genre: str) -> list[Finding]:
    if genre in ("alert-runbook", "checklist"):
        return [_q("durations", "n/a", f"a {genre} has no timed procedure")]
    m = DURATION_RX.search(doc.text)
    return [_q("durations", "pass" if m else "fail", "expected durations documented" if m else "no expected duration; say how long each procedure takes ('Expected duration: 10 minutes')",
               doc.text[: m.start()].count("\n") + 1 if m else _where(doc, genre, "action"), severity="warning")]


def _rule_verification(doc: Document, genre: str) -> list[Finding]:
    rx = re.compile(r"\b(verif(y|ication)|validat(e|ion)|confirm|make sure|ensure (that|the)|check (that|whether|the status)|smoke test|health ?check)", re.I)
    secs = [s for s in _action_sections(doc, genre) if canonical_section(s.title) != "Monitoring"] if genre == "alert-runbook" else _main_sections(doc)
    text = "\n".join(doc.body(s) for s in secs) or doc.text
    m = rx.search(text)
    return [_q("verification", "pass" if m else "fail", "verification after the change" if m else
               "no verification step; after the fix say how to confirm it worked (command and expected result)",
               None if m else _where(doc, genre, "last command"))]


def _rule_thresholds(doc: Document, genre: str) -> list[Finding]:
    if genre not in ("alert-runbook", "service-runbook", "deployment-plan"):
        return [_q("thresholds", "n/a", f"a {genre} defines no alert thresholds", area="monitoring")]
    rx = re.compile(r"(>|<|≥|≤|above|below|exceed\w*|more than|less than|over|under)\s*\**~?\d+(\.\d+)?\s*(%|percent|ms|s\b|seconds|minutes|hours|days|GB|MB)|\d+(\.\d+)?\s*%", re.I)
    m = rx.search(doc.text)
    if not m:
        return [_q("thresholds", "fail", "no threshold; state the value the alert or metric fires at (e.g. '> 95% for 15 minutes')", _where(doc, genre, "top"), area="monitoring")]
    why = re.search(r"\b(because|so that|which means|this means|means that|impact|rationale|why\b|otherwise|leads? to|would)", doc.text, re.I)
    line = doc.text[: m.start()].count("\n") + 1
    return [_q("thresholds", "pass" if why else "fail", "threshold with a rationale" if why else "a threshold without a rationale; say why the value is what it is",
               line, "monitoring")]


def _rule_escalation(doc: Document, genre: str) -> list[Finding]:
    m = re.search(r"escalat|on-?call|pager(duty)?|opsgenie|contact (the|your)|support (case|team|ticket)|#[a-z][\w-]+\b(?! )|@[a-z][\w-]+", doc.text, re.I)
    return [_q("escalation", "pass" if m else "fail", "escalation contacts named" if m else "no escalation contact; say who to page or which channel to use when this does not fix it",
               doc.text[: m.start()].count("\n") + 1 if m else _where(doc, genre, "top"))]


def _rule_links(doc: Document, genre: str) -> list[Finding]:
    refs = re.findall(r"^\s*\[[^\]]+\]:\s*\S+", doc.text, re.M)
    n = len(doc.links) + len(refs)
    out = [_q("links", "pass" if n else "fail", f"{n} link(s) to related procedures and references" if n else "no links; link the related procedures (deployment → verification → rollback) and references",
              doc.links[0][1] if doc.links else _where(doc, genre, "top"), severity="warning")]
    arch = any(re.search(r"architecture|plan\.md|design", h, re.I) for h, _ in doc.links)
    out.append(_q("architecture", "pass" if arch else "fail", "links to architecture/plan documents" if arch else
                  "no link to the architecture or plan document; link architecture.md and plan.md", None if arch else _where(doc, genre, "top"), severity="warning"))
    return out


def _rule_as_of(doc: Document, genre: str) -> list[Finding]:
    m = re.search(r"(as of|last (updated|reviewed|verified|modified)|updated|reviewed|last_verified_at|last_modified_date|date)\**\s*[:=]?\**\s*[\"']?(\d{4}-\d{2}-\d{2}|\w+ \d{1,2},? \d{4}|\d{1,2} \w+ \d{4})", doc.text, re.I)
    return [_q("as_of", "pass" if m else "fail", "dated" if m else "no 'Last updated: YYYY-MM-DD'; date the document so readers know how fresh it is",
               doc.text[: m.start()].count("\n") + 1 if m else _where(doc, genre, "top"), severity="warning")]


def _rule_placeholders(doc: Document, genre: str) -> list[Finding]:
    out = [_q("placeholders", "fail", f"unfilled placeholder {hit!r}; replace it with a real value or declare it as a parameter (NAME=… above the commands)", n, severity=sev)
           for n, hit, sev in find_placeholders(doc)]
    return out or [_q("placeholders", "pass", "no unfilled placeholders")]


def _rule_template(doc: Document, genre: str) -> list[Finding]:
    if genre == "postmortem":
        return [_q("incident", "fail", "this is an incident report, not a runbook; write what to do next time (the diagnosis commands, the fix, "
                   "the verification) into the service's runbook and link it here", 1)]
    if genre != "template":
        return []
    return [_q("template", "fail", "this is an unfilled template; fill in every placeholder before using it as a runbook", 1)]


def _rule_environments(doc: Document, genre: str) -> list[Finding]:
    if genre in ("alert-runbook", "checklist", "template"):
        return [_q("environments", "n/a", f"a {genre} is not per environment")]
    found = [e for e in DEFAULT_ENVIRONMENTS if re.search(rf"\b({e}|{ {'prod': 'production', 'dev': 'development', 'staging': 'stage'}[e]})\b", doc.text, re.I)]
    ok = len(found) >= 2
    return [_q("environments", "pass" if ok else "fail", f"environments named: {', '.join(found)}" if ok else
               "environment-specific differences are not noted; say what differs in dev, staging and prod", None if ok else _where(doc, genre, "action"), severity="warning")]


def _rule_prerequisites(doc: Document, genre: str) -> list[Finding]:
    if genre not in ("procedure", "deployment-plan"):
        return []
    m = re.search(r"prerequisites?|before you (start|begin)|requirements|you (will )?need|access to", doc.text, re.I)
    return [_q("prerequisites", "pass" if m else "fail", "prerequisites documented" if m else "no prerequisites; list the access, tools and credentials needed before step 1",
               doc.text[: m.start()].count("\n") + 1 if m else _where(doc, genre, "action"), "runbook")]


def _rule_secrets(doc: Document, genre: str) -> list[Finding]:
    idx = [i for i, ln in enumerate(doc.lines) if _candidate(ln)]
    hits = scan_text("\n".join(doc.lines[i] for i in idx), str(doc.path or "<document>")) if idx else []
    out = [_q("secrets", "fail", f"looks like a {h.kind} (sha1 {h.hash[:10]}); remove the value, rotate it, and name the secret instead", idx[h.line - 1] + 1, "secrets")
           for h in hits]
    return out or [_q("secrets", "pass", "no value that looks like a secret", area="secrets")]


GENERIC_RULES = [_rule_template, _rule_sections, _rule_commands, _rule_outputs, _rule_errors, _rule_durations, _rule_verification,
                 _rule_prerequisites, _rule_thresholds, _rule_escalation, _rule_links, _rule_as_of, _rule_environments,
                 _rule_placeholders, _rule_secrets]
# items the genre's own checks already decide (never reported twice)
SKIP = {
    "service-runbook": {_rule_commands, _rule_durations, _rule_verification, _rule_thresholds, _rule_escalation, _rule_placeholders,
                        _rule_as_of, _rule_environments, _rule_links, _rule_sections},
    "cost-plan": {_rule_commands, _rule_outputs, _rule_errors, _rule_durations, _rule_verification, _rule_thresholds, _rule_escalation,
                  _rule_as_of, _rule_environments, _rule_links},
    "secrets": {_rule_outputs, _rule_errors, _rule_durations, _rule_thresholds, _rule_escalation, _rule_environments, _rule_links, _rule_commands},
    "pipeline": {_rule_outputs, _rule_thresholds, _rule_escalation, _rule_links, _rule_commands, _rule_durations},
    # the deployment checkers decide these for the deployment genres (seed 003 formats); a report and a
    # readiness review are records, not procedures: the procedure items are n/a there
    "deployment-plan": {_rule_commands, _rule_links, _rule_environments, _rule_sections},
    "deployment-report": {_rule_commands, _rule_outputs, _rule_errors, _rule_durations, _rule_verification, _rule_prerequisites,
                          _rule_escalation, _rule_links, _rule_as_of, _rule_environments, _rule_sections},
    "readiness": {_rule_commands, _rule_outputs, _rule_errors, _rule_durations, _rule_verification, _rule_prerequisites,
                  _rule_escalation, _rule_links, _rule_environments, _rule_sections},
    "cost-report": {_rule_commands, _rule_outputs, _rule_errors, _rule_durations, _rule_verification, _rule_prerequisites,
                    _rule_escalation, _rule_environments, _rule_sections, _rule_thresholds},
}


def generic_findings(doc: Document, genre: str, skip: Container[object] | None = None) -> list[Finding]:
    """The rules common to every genre that the genre's own checker does not already decide."""
    skipped: Container[object] = SKIP.get(genre, set()) if skip is None else skip
    return [f for rule in GENERIC_RULES if rule not in skipped for f in rule(doc, genre)]


# records of past events: their commands are quoted, not procedures to follow
NO_TRUTH = ("deployment-report", "readiness", "cost-report")
# the truth rules' severities on a hand-written document: an invalid command, an unfit tool and an
# unguarded destructive operation are errors; a snippet's unset variable and an inconsistency found
# by reading the prose (a heuristic) are warnings
HAND_WRITTEN_SEVERITY = {"variables": "warning", "shellcheck": "warning", "consistent": "warning"}


def _truth(text: str, p: Path | None, platform: str | None, doc: Document | None = None, kind: str | None = None) -> tuple[list[Finding], list[str]]:
    findings, notes, _counts = _truth_counted(text, p, platform, doc, kind)
    return findings, notes


def _truth_counted(text: str, p: Path | None, platform: str | None, doc: Document | None = None,
                   kind: str | None = None) -> tuple[list[Finding], list[str], tuple[int, int]]:
    """The truth findings, the notes, and the counts of invalid and unfit commands. A hand-written
    document that names its platform ("Platform: Amazon ECS", "runs on Kubernetes") is judged
    against that platform's tools unless `platform` is given: its commands must belong to it."""
    stated = None if platform else stated_platform(doc or parse(text))
    report = truth_report(text, path=p, platform=platform or (stated[0] if stated else None), doc=doc, kind=kind)
    if stated and report.platform == stated[0]:
        report.platform_note = f"platform {stated[0]} (named by the document, line {stated[1]})"
    notes = [f"tool fit judged against the tools of {report.platform_note}" if report.platform else report.platform_note] if report.commands else []
    invalid = sum(c.status == "invalid" for c in report.commands)
    return truth_findings(report, severity=HAND_WRITTEN_SEVERITY), notes, (invalid, len(report.unfit))


def _check_yaml(text: str, p: Path, platform: str | None) -> Report:
    """A CI file or Prometheus rules given to `opslib check`: the truth rules (and the alert genre's checks)."""
    if re.search(r"^groups:", text, re.M):
        findings = check_genre("alerts", text, path=p)
        truth, notes = _truth(text, p, platform, kind="yaml")
        findings += truth
        return Report(str(p), "alerts", findings, score(findings), area_scores(findings), notes)
    findings, notes = _truth(text, p, platform)
    return Report(str(p), "pipeline", findings, score(findings), area_scores(findings), notes)


def check_document(text: str, path: str | Path | None = None, genre: str | None = None, environments: list[str] | None = None,
                   name: str | None = None, platform: str | None = None, alerts: str | Path | None = None) -> Report:
    """Detect the genre (unless given) and run its checks plus every generic rule and the truth
    rules (commands against their tools, tool fit for `platform` or the one the commands show,
    safety, consistency); never stops at the first finding. `path` resolves relative links and
    names the file; `name` (default: the path's file name) only helps genre detection; `alerts`
    is a Prometheus rules file whose `runbook_url` anchors must match sections (default: an
    alerts.yml beside the document). The score is the substance score (opslib.check.substance);
    `compliance` the share of decided items that pass. When the genre is not given and the
    checker is unsure of it, only the rules common to every genre judge the document."""
    p = Path(path) if path else None
    if p is not None and p.suffix in (".yml", ".yaml"):
        return _check_yaml(text, p, platform)
    doc = parse(text, p)
    guess = classify(doc, name or (p.as_posix() if p else ""))
    sure = genre is not None or guess.sure
    genre = genre or guess.genre
    if genre not in GENRES:
        raise ValueError(f"unknown genre {genre!r}; use one of {', '.join(GENRES)}")
    notes: list[str] = []
    if sure:
        findings = check_genre(genre, text, path=p, environments=environments, doc=doc)
        skip = SKIP.get(genre, set())
        judged_as = genre
    else:
        findings, skip, judged_as = [], set(), COMMON
        notes.append(f"genre unsure: {guess.genre} or {guess.runner_up} ({guess.scores[guess.genre]:.0%} and "
                     f"{guess.scores[guess.runner_up]:.0%} likely); judged on the rules common to every genre; give --genre to choose")
    findings += generic_findings(doc, judged_as, skip)
    findings += shape_findings(doc, genre, p, alerts)
    counts = (0, 0)
    if genre not in NO_TRUTH:
        truth, tnotes, counts = _truth_counted(text, p, platform, doc)
        findings += truth
        notes += tnotes
    sub = substance(doc, genre, *counts)
    findings = _with_lines(findings, doc, judged_as)
    return Report(str(p) if p else "<text>", genre, findings, sub.score, area_scores(findings), notes, sure, score(findings), sub)


def _with_lines(findings: list[Finding], doc: Document, genre: str) -> list[Finding]:
    """Every failing finding names a line: one that has none (a missing section, a missing link)
    points where the document's main sections start, where the missing thing is to be added."""
    top = _where(doc, genre, "top")
    return [replace(f, line=top) if f.status == "fail" and not f.line else f for f in findings]


def area_scores(findings: list[Finding]) -> dict[str, float]:
    areas = sorted({f.area for f in findings})
    return {a: score([f for f in findings if f.area == a], truth=a == "truth", shape=a == "shape") for a in areas
            if any(f.area == a and f.status in ("pass", "fail") for f in findings)}
