"""Which kind of operational document a text is, and how sure the checker is.

    classify(doc, name="")   -> Guess(genre, sure, scores)   scores: the probability of each genre
    features(doc, name="")   -> Features                     what the model reads
    prompt_lines(doc)        -> list[int]   lines that ask the writer for content (an unfilled template)

A small multinomial logistic regression, stored as data (opslib/data/check-genre-model.json,
fitted by benchmarks/fit_genre.py on the corpus splits that have been looked at, never on the
untouched blind3 set). What it reads is transparent:

- signals (opslib/data/check-genres.yaml): regexes over the file name (and its folder's: the last
  two parts of the path, not a repository's own top folders), the document's title (its H1, or
  `title:` in front matter), its headings and its text. A genre's own signal counts enter
  its score through weights shared by every genre (`shared`, plus a penalised adjustment of the
  genre's own, `own`), so a genre without training documents is still scored by its signals;
- shape (SHAPES, 21 numbers): command density, task boxes, numbered steps, prompts and
  placeholders, money amounts, timestamps, an alert's CamelCase name as title, the canonical
  runbook sections, tables, questions, length, links, past-tense narrative, instructions, and the
  density of secret, pipeline, alert, cost and incident words; each genre weighs them with its own
  weights (`shape`).

Two shapes decide before the model: a document that is mostly prompts, placeholders and `e.g.`
samples is a template, and one that is mostly task boxes under a checklist's name, title or
heading a checklist. The best genre is `sure`
when its probability reaches the model's `sure_probability`; when it does not, the checker says
so and judges the document on the rules common to every genre.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from functools import cache

from opslib.catalog.loaders import DATA_DIR
from opslib.check.commands import all_clis
from opslib.check.markdown import Document, canonical_section, norm_title
from opslib.check.placeholders import find_placeholders
from opslib.core.yamlio import read_yaml

__all__ = ["Features", "Guess", "classify", "features", "logits", "override", "prompt_lines", "template_share", "title_of", "SIGNAL_KINDS", "SHAPES"]

SIGNAL_KINDS = ("names", "title", "headings", "text")
MODEL = DATA_DIR / "check-genre-model.json"
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
    return {g: {k: [re.compile(rx, 0 if k == "names" else re.I) for rx in (v.get(k) or [])] for k in SIGNAL_KINDS}
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


# --- what the model reads -------------------------------------------------------------------------

# shape features: name → what it measures (each is a number the document's size does not inflate)
SHAPES = {
    "commands": "command lines in code blocks per content line",
    "fences": "log(1 + code blocks)",
    "tasks": "share of list items that are task boxes",
    "steps": "numbered list lines per content line",
    "prompts": "share of prose lines that prompt the writer (template_share)",
    "money": "log(1 + money amounts)",
    "times": "log(1 + lines that start with a time or a date)",
    "camel_title": "the title is an alert's CamelCase name",
    "runbook_sections": "canonical runbook sections among the main headings (Deployment, Operations, Monitoring, Troubleshooting, Rollback)",
    "tables": "table rows per content line",
    "questions": "lines ending with a question mark per content line",
    "length": "log(1 + non-blank lines) / 5",
    "headings": "log(1 + headings) / 3",
    "links": "links per content line",
    "past_tense": "log(1 + past-tense narrative words: was, were, happened, noticed, rolled back)",
    "imperative": "share of prose lines that start with an instruction (run, check, verify, create, click, …)",
    "words_secret": "secret, credential, token, password, rotate, key vault words per 100 words",
    "words_pipeline": "pipeline, workflow, stage, job, build, merge, release words per 100 words",
    "words_alert": "alert, fires, firing, severity, paged words per 100 words",
    "words_cost": "cost, price, pricing, budget, spend, billing words per 100 words",
    "words_incident": "incident, outage, root cause, impact, timeline, postmortem words per 100 words",
}
_VOCAB = {
    "words_secret": re.compile(r"\b(secrets?|credentials?|tokens?|passwords?|passphrase|rotat\w*|key ?vault|secrets manager|api keys?)\b", re.I),
    "words_pipeline": re.compile(r"\b(pipelines?|workflows?|stages?|jobs?|builds?|merges?|merged|releases?|ci|cd|promot\w*)\b", re.I),
    "words_alert": re.compile(r"\b(alerts?|alarms?|fires|firing|fired|severity|paged|pages)\b", re.I),
    "words_cost": re.compile(r"\b(costs?|pric\w*|budgets?|spend\w*|billing|billed|invoice|savings)\b", re.I),
    "words_incident": re.compile(r"\b(incidents?|outages?|root causes?|impact\w*|timeline|post-?mortems?|lessons learned)\b", re.I),
}
_IMPERATIVE = re.compile(r"^\s*(?:[-*+]|\d+[.)])?\s*(?:\*\*)?(run|check|verify|ensure|make sure|confirm|create|delete|remove|set|open|click|go to|navigate|"
                         r"log ?in(to)?|use|select|copy|add|update|restart|scale|wait|execute|install|download|connect|enable|disable|follow)\b", re.I)
_MONEY = re.compile(r"[$€£]\s?\d[\d,]*(\.\d+)?|\b\d[\d,]*(\.\d+)?\s?(USD|EUR|GBP|CNY)\b")
_TIME_LINE = re.compile(r"^\s*(?:[-*+]|\|)?\s*(?:\*\*)?\[?(\d{1,2}:\d{2}|\d{4}-\d{2}-\d{2}|\d{2}-\d{2} \d{1,2}:\d{2})")
_PAST = re.compile(r"\b(was|were|happened|noticed|rolled back|went|caused|became|started to)\b", re.I)
_NUMBERED = re.compile(r"^\s*\d+[.)]\s+\S")
_TABLE_ROW = re.compile(r"^\s*\|.*\|\s*$")


@dataclass(frozen=True)
class Features:
    signals: dict[str, dict[str, float]]  # genre → signal kind → count
    shape: dict[str, float]  # SHAPES name → value


NAME_PARTS = 2  # the name signals read the file's name and its folder's, not the whole path (an organisation's layout)


def name_key(name: str) -> str:
    """The part of a path the name signals read: its last NAME_PARTS components ("runbooks/source/
    add-nodes.md" is read as "source/add-nodes.md": a repository's top folders are its own layout)."""
    return "/".join(name.replace("\\", "/").split("/")[-NAME_PARTS:])


def _signal_counts(doc: Document, name: str) -> dict[str, dict[str, float]]:
    name = name_key(name)
    titles = [norm_title(s.title[:TITLE]) for s in doc.sections]  # capped: the signals stay linear on a hostile heading
    title = norm_title(title_of(doc)[:TITLE])
    out: dict[str, dict[str, float]] = {}
    for genre, sig in _signals().items():
        out[genre] = {
            "names": float(sum(bool(rx.search(name)) for rx in sig["names"])),
            "title": float(any(rx.search(title) for rx in sig["title"])) if title else 0.0,
            "headings": float(sum(any(rx.search(t) for t in titles) for rx in sig["headings"])),
            "text": float(sum(bool(rx.search(doc.text)) for rx in sig["text"])),
        }
    return out


def _command_lines(doc: Document) -> int:
    clis = all_clis()
    n = 0
    for f in doc.fences:
        for raw in f.content.splitlines():
            line = re.sub(r"^\s*(\$|>|PS>)\s+", "", raw).strip()
            words = [w for w in re.split(r"[\s;|&(]+", line) if w and "=" not in w]
            if words and (words[0] in clis or words[0].startswith(("./", "/"))):
                n += 1
    return n


def features(doc: Document, name: str = "") -> Features:
    """What the genre model reads of `doc` (file name `name`): signal counts per genre, and shape."""
    content = max(_content_lines(doc), 1)
    code = _code_lines(doc)
    prose = [ln for n, ln in enumerate(doc.lines, 1) if n not in code and ln.strip()]
    canon = {canonical_section(s.title) for s in doc.sections if s.level == doc.section_level} - {None}
    shape = {
        "commands": min(_command_lines(doc) / content, 2.0),
        "fences": math.log1p(len(doc.fences)),
        "tasks": _task_ratio(doc),
        "steps": min(sum(1 for ln in prose if _NUMBERED.match(ln)) / content, 1.0),
        "prompts": min(template_share(doc), 1.0),
        "money": math.log1p(len(_MONEY.findall(doc.text[:200_000]))),
        "times": math.log1p(sum(1 for ln in prose if _TIME_LINE.match(ln[:60]))),
        "camel_title": float(bool(re.fullmatch(r"[A-Za-z][a-z]+([A-Z][A-Za-z0-9]*)+", title_of(doc)[:TITLE].strip()))),
        "runbook_sections": float(len(canon & {"Deployment", "Operations", "Monitoring", "Troubleshooting", "Rollback"})),
        "tables": min(sum(1 for ln in prose if _TABLE_ROW.match(ln)) / content, 2.0),
        "questions": min(sum(1 for ln in prose if ln.rstrip().endswith("?")) / content, 1.0),
        "length": math.log1p(sum(1 for ln in doc.lines if ln.strip())) / 5,
        "headings": math.log1p(len(doc.sections)) / 3,
        "links": min(len(doc.links) / content, 2.0),
        "past_tense": math.log1p(len(_PAST.findall(" ".join(prose)[:200_000]))),
        "imperative": sum(1 for ln in prose if _IMPERATIVE.match(ln)) / max(len(prose), 1),
    }
    body = doc.text[:200_000]
    words = max(len(body.split()), 1)
    shape.update({k: min(100 * len(rx.findall(body)) / words, 20.0) for k, rx in _VOCAB.items()})
    return Features(_signal_counts(doc, name), shape)


# --- the model --------------------------------------------------------------------------------------

@cache
def _model() -> dict:
    return json.loads(MODEL.read_text(encoding="utf-8"))


def logits(feats: Features, model: dict | None = None) -> dict[str, float]:
    """Each genre's score: its signal counts times the shared weights (plus the genre's own
    adjustment), its bias, and the
    standardised shape times the genre's own weights (genres the model was not fitted on have none)."""
    m = model or _model()
    shared, scale = m["shared"], m["scale"]
    z = {f: (feats.shape[f] - scale[f][0]) / scale[f][1] for f in SHAPES}
    out = {}
    for genre, counts in feats.signals.items():
        own = m["own"].get(genre, {})
        s = sum((shared[k] + own.get(k, 0.0)) * counts[k] for k in SIGNAL_KINDS) + m["bias"].get(genre, 0.0)
        s += sum(w * z[f] for f, w in m["shape"].get(genre, {}).items())
        out[genre] = s
    return out


def _softmax(scores: dict[str, float]) -> dict[str, float]:
    top = max(scores.values())
    exp = {g: math.exp(s - top) for g, s in scores.items()}
    total = sum(exp.values())
    return {g: e / total for g, e in exp.items()}


def override(feats: Features) -> str | None:
    """The two shapes that decide before the model: mostly prompts (a template), mostly task boxes
    under a checklist's name or title (a checklist)."""
    share = feats.shape["prompts"]
    if share >= 0.25 or share >= 0.05 and feats.signals["template"]["names"]:
        return "template"
    check = feats.signals["checklist"]
    if feats.shape["tasks"] >= 0.6 and check["title"] + check["names"] + check["headings"]:
        return "checklist"
    return None


def classify(doc: Document, name: str = "") -> Guess:
    """The genre of `doc` (file name `name` helps), and whether the checker is sure of it."""
    feats = features(doc, name)
    probs = _softmax(logits(feats))
    forced = override(feats)
    if forced:
        probs = {g: (1.0 if g == forced else 0.0) for g in probs}
    ranked = sorted(probs.items(), key=lambda kv: -kv[1])  # stable: ties go to the genre listed first
    best, top = ranked[0]
    return Guess(best, top >= _model()["sure_probability"], {g: round(p, 4) for g, p in probs.items()})
