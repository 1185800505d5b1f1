"""Which kind of operational document a text is, and how sure the checker is.

    classify(doc, name="") -> Guess(genre, sure, scores)
    prompt_lines(doc)      -> list[int]   lines that ask the writer for content (an unfilled template)

Signals are data (opslib/data/check-genres.yaml): regexes over the file name, the document's
title (its H1, or `title:` in front matter), its headings and its text, each adding its weight to
a genre's score. Two shapes decide before the signals: a document that is mostly prompts,
placeholders and `e.g.` samples is a template, and one that is mostly task boxes is a checklist.
The best genre is `sure` when it leads the runner-up by a clear margin; when it does not, the
checker says so and judges the document on the rules common to every genre.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache

from opslib.catalog.loaders import DATA_DIR
from opslib.check.markdown import Document, canonical_section, norm_title
from opslib.check.placeholders import find_placeholders
from opslib.core.yamlio import read_yaml

__all__ = ["Guess", "classify", "prompt_lines", "template_share", "title_of", "SURE_MARGIN"]

# the lead over the runner-up below which the checker is unsure of the genre
SURE_MARGIN = 1.0
WEIGHTS = {"names": 2.0, "title": 3.0, "headings": 1.0, "text": 0.5}
TITLE = 300  # characters of a title the signals read

# a prompt to the writer: a bullet or line that asks a question, an `e.g.`/"for example" sample in
# prose, "(Title: …)", "Describe …"/"Explain …"/"List …"/"Link to …" instructions, an empty table row
_QUESTION = re.compile(r"^\s*(?:[-*+]|\d+\.)?\s*(?:\*\*)?(what|how|who|when|where|which|why|is|are|can|do|does|did|will|should|has|have)\b[^`]*\?\s*(\*\*)?\s*$", re.I)
_INSTRUCTION = re.compile(r"^\s*(?:[-*+]|\d+\.)?\s*(describe|explain|list|document|provide|include|add|insert|specify|outline|briefly|"
                          r"link(s)? to|information on|guidance for|details? (of|about|on)|summar(y|ise|ize) (of|the))\b", re.I)
_SAMPLE = re.compile(r"\(\s*(e\.g\.|eg\.|for example|example:|title:)|\be\.g\.?\s", re.I)
_EMPTY_ROW = re.compile(r"^\s*\|(\s*\|)+\s*$")
_ANGLE = re.compile(r"<([a-z][\w -]*)>", re.I)
_HTML = frozenset("a abbr b br code details div em hr i img kbd li ol p pre span strong sub summary sup table tbody td th thead tr u ul".split())


@dataclass(frozen=True)
class Guess:
    genre: str
    sure: bool
    scores: dict[str, float] = field(default_factory=dict)

    @property
    def runner_up(self) -> str:
        rest = sorted(((s, g) for g, s in self.scores.items() if g != self.genre), reverse=True)
        return rest[0][1] if rest else self.genre


@cache
def _signals() -> dict[str, dict[str, list[re.Pattern]]]:
    raw = read_yaml(DATA_DIR / "check-genres.yaml", lines=False)["genres"]
    return {g: {k: [re.compile(rx, 0 if k == "names" else re.I) for rx in (v.get(k) or [])] for k in WEIGHTS}
            for g, v in raw.items()}


def title_of(doc: Document) -> str:
    """The document's title: `title:` in its front matter, else its first H1, else its first heading."""
    if doc.lines and doc.lines[0].strip() == "---":
        for ln in doc.lines[1:40]:
            if ln.strip() in ("---", "..."):
                break
            m = re.match(r"title:\s*[\"']?(.+?)[\"']?\s*$", ln)
            if m:
                return m.group(1)
    if not doc.sections:
        return ""
    return next((s for s in doc.sections if s.level == 1), doc.sections[0]).title


def _code_lines(doc: Document) -> set[int]:
    out: set[int] = set()
    for f in doc.fences:
        out.update(range(f.line, f.line + f.content.count("\n") + 2))
    return out


def prompt_lines(doc: Document) -> list[int]:
    """Lines outside code that ask the writer for content instead of giving it: questions,
    instructions ("Describe …", "Link to …"), `e.g.` samples, empty table rows and unfilled
    placeholders. Headings that ask a question count only when nothing answers them."""
    code = _code_lines(doc)
    heads = {s.line: s for s in doc.sections}
    # a placeholder inside an inline code span is a command's parameter, not a hole in the text
    out = {n for n, h, sev in find_placeholders(doc) if sev == "error" and not re.search(r"`[^`]*" + re.escape(h) + r"[^`]*`", doc.lines[n - 1])}
    for n, line in enumerate(doc.lines, 1):
        if n in code or not line.strip():
            continue
        if n in heads:
            sec = heads[n]
            answered = any(x.strip() and not x.lstrip().startswith("#") for x in doc.lines[sec.line:sec.end - 1])
            if line.rstrip().endswith("?") and not answered:
                out.add(n)
            continue
        bare = re.sub(r"`[^`]*`", "", line)
        if any(m.group(1).split(" ")[0].lower() not in _HTML for m in _ANGLE.finditer(bare)):
            out.add(n)  # "Prepared by <author>": an angle-bracket slot outside code
        elif _QUESTION.match(line) or _EMPTY_ROW.match(line) or _SAMPLE.search(line) and "`" not in line:
            out.add(n)
        elif _INSTRUCTION.match(line) and len(line) < 200 and "`" not in line and not re.search(r"\d", line):
            out.add(n)
    return sorted(out)


def _content_lines(doc: Document) -> int:
    code = _code_lines(doc)
    return sum(1 for n, ln in enumerate(doc.lines, 1) if ln.strip() and n not in code and not ln.lstrip().startswith(("#", "---", "|--", "|:-")))


def _task_ratio(doc: Document) -> float:
    items = [ln for ln in doc.lines if re.match(r"\s*([-*+]|\d+\.)\s+", ln)]
    tasks = [ln for ln in items if re.match(r"\s*([-*+]|\d+\.)\s+\[[ xX]\]", ln)]
    return len(tasks) / len(items) if items else 0.0


def template_share(doc: Document) -> float:
    """The share of the document's prose lines that are prompts, samples or placeholders."""
    return len(prompt_lines(doc)) / max(_content_lines(doc), 1)


def classify(doc: Document, name: str = "") -> Guess:
    """The genre of `doc` (file name `name` helps), and whether the checker is sure of it."""
    titles = [norm_title(s.title[:TITLE]) for s in doc.sections]  # capped: the signals stay linear on a hostile heading
    title = norm_title(title_of(doc)[:TITLE])
    scores: dict[str, float] = {}
    for genre, sig in _signals().items():
        s = WEIGHTS["names"] * sum(bool(rx.search(name)) for rx in sig["names"])
        s += WEIGHTS["title"] * any(rx.search(title) for rx in sig["title"]) if title else 0.0
        s += WEIGHTS["headings"] * sum(any(rx.search(t) for t in titles) for rx in sig["headings"])
        s += WEIGHTS["text"] * sum(bool(rx.search(doc.text)) for rx in sig["text"])
        scores[genre] = s
    if re.fullmatch(r"[A-Z][a-z]+([A-Z][A-Za-z0-9]*)+", title_of(doc)[:TITLE].strip()):  # KubeletDown: an alert's name
        scores["alert-runbook"] += WEIGHTS["title"]
    canon = {canonical_section(s.title) for s in doc.sections if s.level == doc.section_level} - {None}
    if len(canon & {"Deployment", "Operations", "Rollback"}) >= 2:
        scores["service-runbook"] += 2
    share = template_share(doc)
    if share >= 0.25 or share >= 0.05 and any(rx.search(name) for rx in _signals()["template"]["names"]):
        scores["template"] = max(scores.values()) + 2 * SURE_MARGIN
    elif _task_ratio(doc) >= 0.6 and scores["checklist"] >= scores["service-runbook"]:
        scores["checklist"] = max(scores.values()) + SURE_MARGIN
    ranked = sorted(scores.items(), key=lambda kv: -kv[1])  # stable: ties go to the genre listed first
    best, top = ranked[0]
    if top <= 0:
        return Guess("procedure" if doc.fences else "service-runbook", False, scores)
    second = ranked[1][1] if len(ranked) > 1 else 0.0
    return Guess(best, top - second >= SURE_MARGIN, scores)
