"""The shape of a hand-written document, as warnings (issue 18): length against its genre,
repeated lines, rollback reachable from the first screen, a section for every alert link; and
the platform a document names.

    shape_findings(doc, genre, path=None, alerts=None) -> list[Finding]   warnings (area "shape")
    stated_platform(doc)                               -> (platform, line) | None
    slug(title)                                        -> str            the anchor a heading gets

Every failing finding here is a warning: it is reported (and fails `--fail-on warning`) but a
document is not refused for its shape.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import yaml

from opslib.check.findings import Finding
from opslib.check.items import item_texts
from opslib.check.markdown import Document, canonical_section

__all__ = ["LENGTH", "FIRST_SCREEN", "MAX_REPEATED", "PLATFORM_NAMES", "shape_findings", "stated_platform", "slug", "structural"]

ITEMS = item_texts("documentation")
# lines by genre: (a minimal document, a complex one); a service runbook is complex when its
# troubleshooting holds at least COMPLEX_ISSUES entries (seed 002's examples: ≈ 250 and ≈ 800 lines)
LENGTH = {"service-runbook": (300, 900), "alert-runbook": (200, 200), "procedure": (400, 400), "checklist": (300, 300)}
COMPLEX_ISSUES = 8
FIRST_SCREEN = 40  # lines
MAX_REPEATED = 0.05
# phrases that name a shipped platform when a document states where it runs
PLATFORM_NAMES = {
    "aws-ecs-fargate": r"amazon ecs|aws ecs|\becs\b|fargate",
    "aws-lambda": r"aws lambda|\blambda\b",
    "azure-container-apps": r"azure container apps|container apps",
    "google-cloud-run": r"cloud run",
    "heroku": r"heroku",
    "kubernetes": r"kubernetes|\bk8s\b|\b(eks|gke|aks)\b|openshift",
    "vm-systemd": r"systemd|virtual machines?|\bvms?\b|ec2 instances?",
}
_STATES = re.compile(r"^[ \t]*[-*]?[ \t]*\**platform\**\s*[:|]\s*\**(?P<a>[^\n|]{2,80})|"
                     r"\b(runs|running|is deployed|deployed|hosted|lives|is hosted|runs as \w+) (on|to|in|as) (?P<b>[^\n.;,]{2,50})", re.I | re.M)
# structure, not content: fences, rules, table separators, bare list markers and headings, tags,
# shell keywords and brackets alone on a line (also as an expected output's `# {`), label-only lines
_TRIVIAL = re.compile(r"^(```.*|~~~.*|---+|\|?[\s:|-]+\|?|[-*+]|\d+\.|#+|</?\w+>|[][{}()]|end|fi|done|else|then|do|esac|\*\*"
                      r"|#\s*[][{}()],?|\*\*[^*]+\*\*:)$")


def structural(line: str) -> bool:
    """Whether a line is structure rather than content (left out when repetition is measured)."""
    return not line.strip() or bool(_TRIVIAL.match(line.strip()))


def slug(title: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    t = re.sub(r"[^\w\- ]", "", title.strip().lower())
    return t.replace(" ", "-")


def stated_platform(doc: Document) -> tuple[str, int] | None:
    """The shipped platform the document says it runs on ("Platform: AWS Lambda", "runs on
    Kubernetes"), with the line; None when it names none or several."""
    for m in _STATES.finditer(doc.text):
        phrase = m.group("a") or m.group("b") or ""
        hits = [name for name, rx in PLATFORM_NAMES.items() if re.search(rx, phrase, re.I)]
        if len(hits) == 1:
            return hits[0], doc.text[: m.start()].count("\n") + 1
    return None


def _w(key: str, ok: bool, good: str, bad: str, line: int | None = None) -> Finding:
    return Finding(ITEMS[key], "pass" if ok else "fail", good if ok else bad, line, "shape", "warning")


def _length(doc: Document, genre: str) -> list[Finding]:
    if genre not in LENGTH:
        return []
    minimal, complex_ = LENGTH[genre]
    n = len(doc.lines)
    trouble = next((s for s in doc.sections if canonical_section(s.title) == "Troubleshooting"), None)
    issues = len([s for s in doc.subsections(trouble) if s.level == trouble.level + 1]) if trouble else 0
    limit = complex_ if issues >= COMPLEX_ISSUES else minimal
    kind = "a complex" if limit == complex_ and complex_ != minimal else "a minimal" if complex_ != minimal else "an" if genre[0] in "aeiou" else "a"
    return [_w("length", n <= limit, f"{n} lines, within {limit} for {kind} {genre}",
               f"{n} lines, over the {limit} of {kind} {genre}; keep one procedure with a table of what differs, and move reference material to linked pages",
               limit + 1 if n > limit else None)]


def _repetition(doc: Document, genre: str) -> list[Finding]:
    if genre not in LENGTH:
        return []  # a cost plan's, a pipeline's or a readiness review's table rows and steps repeat by design
    lines = [(i, ln.strip()) for i, ln in enumerate(doc.lines, 1) if ln.strip() and not _TRIVIAL.match(ln.strip())]
    if len(lines) < 20:
        return []
    seen: Counter[str] = Counter()
    first_repeat = None
    repeated = 0
    for i, ln in lines:
        if seen[ln]:
            repeated += 1
            first_repeat = first_repeat or i
        seen[ln] += 1
    share = repeated / len(lines)
    return [_w("repetition", share <= MAX_REPEATED, f"{share:.0%} of non-blank lines repeat an earlier line",
               f"{share:.0%} of non-blank lines repeat an earlier line (at most {MAX_REPEATED:.0%}); write the procedure once and show per environment only what differs",
               first_repeat)]


def _rollback_reachable(doc: Document, genre: str) -> list[Finding]:
    if genre != "service-runbook":
        return []
    top = "\n".join(doc.lines[:FIRST_SCREEN])
    linked = any(ln <= FIRST_SCREEN and re.search(r"roll-?back|revert", href, re.I) for href, ln in doc.links)
    heading = any(s.line <= FIRST_SCREEN and canonical_section(s.title) == "Rollback" for s in doc.sections)
    command = bool(re.search(r"roll ?back", top, re.I)) and any(f.line <= FIRST_SCREEN for f in doc.fences)
    rsec = next((s for s in doc.sections if canonical_section(s.title) == "Rollback"), None)
    where = f"the Rollback section starts at line {rsec.line}" if rsec else "there is no Rollback section"
    return [_w("rollback_first_screen", linked or heading or command, "rollback reachable from the first screen",
               f"rollback is not reachable from the first {FIRST_SCREEN} lines ({where}); add a quick reference at the top with the rollback command or a link to [Rollback](#rollback)",
               1)]


def _alerts_file(path: Path | None, alerts: str | Path | None) -> Path | None:
    if alerts:
        return Path(alerts)
    if path is None:
        return None
    return next((c for c in (path.parent / "alerts.yml", path.parent / "alerts.yaml") if c.is_file()), None)


def _alert_anchors(doc: Document, path: Path | None, alerts: str | Path | None) -> list[Finding]:
    file = _alerts_file(path, alerts)
    if file is None:
        return []
    try:
        rules = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return [_w("alert_sections", False, "", f"{file}: cannot read the alert rules; fix the YAML or pass the right file with --alerts")]
    anchors = {slug(s.title) for s in doc.sections}
    out: list[Finding] = []
    checked = 0
    for group in rules.get("groups") or [] if isinstance(rules, dict) else []:
        for rule in group.get("rules") or []:
            url = str(((rule or {}).get("annotations") or {}).get("runbook_url", ""))
            target, _, anchor = url.partition("#")
            if not anchor or (path is not None and target and not target.endswith(path.name)):
                continue
            checked += 1
            if anchor.lower() not in anchors:
                out.append(_w("alert_sections", False, "", f"alert {rule.get('alert', '?')} links to #{anchor}, which no heading here opens; "
                                                           f"add a section '## {rule.get('alert', anchor)}' with meaning, impact, diagnosis and mitigation"))
    if checked and not out:
        out.append(_w("alert_sections", True, f"every one of {checked} alert link(s) opens a section", ""))
    return out


def shape_findings(doc: Document, genre: str, path: Path | None = None, alerts: str | Path | None = None) -> list[Finding]:
    """The shape warnings of a hand-written document of `genre`."""
    return _length(doc, genre) + _repetition(doc, genre) + _rollback_reachable(doc, genre) + _alert_anchors(doc, path, alerts)
