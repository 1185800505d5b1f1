"""The score of substance: how much a document helps an operator who has to act on it.

    substance(doc, genre, truth=None) -> Substance   score 0–100, parts, penalties
    Substance.top_changes(n=3)        -> list[Part]  the changes that would raise the score most

Each part measures one thing an operator needs, as a value between 0 and 1 that grows with the
evidence and saturates (the second expected output helps less than the first), times its
weight: commands (valid for the stated or detected platform: the truth report's invalid and
unfit commands count against them), specific names and values, expected outputs, verification
after a change, thresholds with a rationale, escalation naming people, channels or rotations,
a concrete rollback, numbered steps and decisions (if … then …). Heading names count for
nothing. Two penalties multiply the sum: the share of prose that prompts the writer instead of
informing the reader (questions, `e.g.` samples, `<placeholders>`, empty table rows: an
unfilled template scores low whatever its headings), and an incident report read as a runbook.
What an operator values decides what counts: an inline command the text tells them to run counts
whatever its tool; the error or output a block shows after "you will see …" counts as an expected
output; a verification with nothing concrete to check ("verify proper operation") counts half.
Weights and saturations were tuned on the `tune` half of tests/corpus only
(benchmarks/corpus.py reports the other splits).
"""

from __future__ import annotations

import math
import re
from bisect import bisect_left
from dataclasses import dataclass, field

from opslib.check.classify import prompt_lines, template_share
from opslib.check.commands import all_clis
from opslib.check.markdown import Document, canonical_section

__all__ = ["Part", "Substance", "substance", "WEIGHTS"]

# part → (weight, saturation: the evidence count at which the value reaches 63 %)
WEIGHTS: dict[str, tuple[float, float]] = {
    "commands": (3.0, 6.0), "specifics": (2.0, 25.0), "outputs": (1.5, 2.0), "verification": (1.5, 3.0), "thresholds": (1.0, 3.0),
    "escalation": (1.0, 2.0), "rollback": (1.0, 1.0), "steps": (1.0, 6.0), "decisions": (1.0, 4.0),
}
TEMPLATE_PENALTY = 2.5  # the score is multiplied by 1 - 2.5 × the share of prose that is prompts (floor 0.1)
POSTMORTEM_FACTOR = 0.5
TEMPLATE_FACTOR = 0.4  # an unfilled template, however realistic its sample commands

_OUTPUT = re.compile(r"expected (output|result|response|state)|expected:|(should|will|must) (now )?(return|show|print|output|contain|display|list|report|look like|be)\b|"
                     r"you (should|will) see|output (should|will|looks?)|returns? (http )?\d{3}\b|sample output|example output|the output|"
                     r"(healthy|success(ful)?) (state|result|output|response)", re.I)
_VERIFY = re.compile(r"\b(verif(y|ied|ication)|validat(e|ion)|confirm|make sure|ensure (that|the)|check (that|whether|if|the status)|"
                     r"smoke test|health ?check|wait (until|for)|watch\b|to see (if|whether|that)|is (now )?(healthy|running|green|ready))", re.I)
_THRESHOLD = re.compile(r"(>=?|<=?|≥|≤|above|below|exceed\w*|more than|less than|over|under|at least|at most|greater than|drops? (below|to))\s*\**~?\d+(\.\d+)?\s*"
                        r"(%|percent|ms|s\b|sec|seconds|minutes?|mins?|hours?|days?|[KMGT]i?B|requests|connections|errors)|"
                        r"\b\d+(\.\d+)?\s*%|\bfor (more than |at least )?\d+\s*(m|min|minutes?|h|hours?|s|seconds?)\b", re.I)
_RATIONALE = re.compile(r"\b(because|so that|which means|this means|means that|otherwise|in order to|to avoid|to prevent|leads? to|would|"
                        r"the reason|rationale|since (the|it|we)|as a result|impact)\b", re.I)
_ESCALATE = re.compile(r"escalat|on-?call|pager ?duty|opsgenie|incident (commander|manager)|rotation|\bsre\b|support (case|team|ticket)|"
                       r"contact (the|your)|\bpage (the|someone)|slack", re.I)
_NAMED = re.compile(r"(?<![\w/])#[a-z][\w-]{2,}\b|(?<![\w])@[a-z][\w.-]{2,}\b|pagerduty\.com/\S+|\b(schedule|rotation|team|channel)\s+[`\"']?[\w-]{3,}", re.I)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")
_RUN_INLINE = re.compile(r"\b(?:run|execute|invoke|type|enter|use)\b[^`\n]{0,40}`([\w./-]+ [^`\n]{2,})`", re.I)
# prose that introduces what the operator will see: the code block after it is an expected output or error
_SEE = re.compile(r"(you (will|should|may|might) (see|get)|looks? (like|something like)|output|errors? like|returns?|prints?|shows?|response|result)[^.\n]{0,40}:?\s*$", re.I)
# a verification with something concrete to check: a code span, a number, a quoted state, a URL or a command right after it
_CONCRETE = re.compile(r"`[^`]+`|\d|\"[^\"]+\"|'[^']+'|https?://|\b(status|state|ready|running|healthy|200|green|passes|succeeds?)\b", re.I)
_ROLLBACK = re.compile(r"roll(ing|ed)? ?back|revert|restore|undo|downgrade|previous (version|release|revision)|fail ?back|back out", re.I)
_DECISION = re.compile(r"^\s*(?:[-*+]|\d+\.)?\s*(?:\*\*)?(if|when|unless|in case)\b[^.\n]{3,}[,:]|\bif (so|not|yes|no)\b|\botherwise\b", re.I)
_STEP = re.compile(r"^\s*\d+[.)]\s+\S|^#+\s*(step|phase)\s*\d+", re.I)
_SPECIFIC = re.compile(r"`[^`\n]{2,80}`|\b\d+(\.\d+)?\s*(%|ms|s|sec|seconds?|min|minutes?|h|hours?|days?|[KMGT]i?B|vCPU|cores?|replicas?|nodes?|pods?|USD|\$)|"
                       r"\$\s?\d[\d,]*(\.\d+)?")
# specific names matched one whitespace-separated token at a time (a token is at most TOKEN characters:
# the rules stay linear on a hostile line): hosts and domains, paths, dashed or underscored identifiers
_SPECIFIC_TOKEN = re.compile(r"[a-z0-9-]+(\.[a-z0-9-]+){2,}|/[\w.-]+(/[\w.-]+)+|[a-z]+[-_][a-z0-9]+([-_][a-z0-9]+)+")
TOKEN = 120
_TOKEN_RX = re.compile(rf"\S{{1,{TOKEN}}}")


def _tokens(text: str) -> list[str]:
    """Whitespace-separated tokens, punctuation around them stripped, each at most TOKEN characters."""
    return [t.strip("`'\"()[]{}<>,;:.!?*") for t in _TOKEN_RX.findall(text)]


@dataclass(frozen=True)
class Part:
    key: str
    value: float  # 0–1
    weight: float
    line: int | None  # where to add what is missing
    evidence: str  # what was found
    advice: str  # what to add

    @property
    def gain(self) -> float:
        return self.weight * (1.0 - self.value)


@dataclass
class Substance:
    score: float
    parts: list[Part]
    factor: float = 1.0  # the product of the penalties
    penalties: list[str] = field(default_factory=list)

    def top_changes(self, n: int = 3) -> list[Part]:
        """The parts whose completion would raise the score most (largest weight × what is missing)."""
        return sorted((p for p in self.parts if p.value < 0.95), key=lambda p: -p.gain)[:n]


def _sat(count: float, scale: float) -> float:
    return 1.0 - math.exp(-count / scale) if count > 0 else 0.0


def _code_lines(doc: Document) -> set[int]:
    out: set[int] = set()
    for f in doc.fences:
        out.update(range(f.line, f.line + f.content.count("\n") + 2))
    return out


def _command_lines(doc: Document) -> tuple[int, list[int]]:
    """The command lines in code blocks (a known CLI, a path, a query), and the lines of the blocks holding any."""
    clis = all_clis()
    n, where = 0, []
    for f in doc.fences:
        hits = 0
        for raw in f.content.splitlines():
            line = re.sub(r"^\s*(\$|#|>|PS>)\s+", "", raw).strip()
            words = [w for w in re.split(r"[\s;|&(]+", line) if w and "=" not in w]
            if words and (words[0] in clis or words[0].startswith(("./", "/"))) and not raw.lstrip().startswith("# ") or \
                    re.search(r"\b(sum|rate|count|avg|max|min|histogram_quantile)\s*(by\s*\([^)]*\)\s*)?\(|\bSELECT\b.+\bFROM\b", line, re.I):
                hits += 1
        if hits:
            where.append(f.line)
        n += hits
    return n, where


def _prose(doc: Document, code: set[int]) -> list[tuple[int, str]]:
    return [(i, ln) for i, ln in enumerate(doc.lines, 1) if i not in code and ln.strip()]


def _first_action_line(doc: Document) -> int | None:
    for s in doc.sections:
        if canonical_section(s.title) in ("Troubleshooting", "Operations", "Deployment", "Rollback"):
            return s.line
    mains = [s for s in doc.sections if s.level == doc.section_level]
    return mains[0].line if mains else (doc.sections[0].line if doc.sections else 1)


def substance(doc: Document, genre: str, invalid: int = 0, unfit: int = 0) -> Substance:
    """The score of substance of `doc`; `invalid` and `unfit` are the truth report's counts of
    commands that are wrong for their tool or for the platform."""
    code = _code_lines(doc)
    prose = _prose(doc, code)
    text = "\n".join(ln for _i, ln in prose)
    parts: list[Part] = []
    action = _first_action_line(doc)

    def add(key: str, count: float, line: int | None, evidence: str, advice: str, factor: float = 1.0) -> None:
        weight, scale = WEIGHTS[key]
        parts.append(Part(key, round(_sat(count, scale) * factor, 4), weight, line, evidence, advice))

    ncmd, blocks = _command_lines(doc)
    inline = len([c for c in re.findall(r"`([^`\n]+)`", text) if c.split(" ")[0] in all_clis() and " " in c])
    # an inline command the text tells the operator to run counts whatever its tool ("Run `tripwire -m c …`")
    inline += len([m for m in _RUN_INLINE.finditer(text) if m.group(1).split(" ")[0] not in all_clis()])
    valid = 1.0 - min(1.0, (invalid + unfit) / max(ncmd + inline, 1)) if (invalid or unfit) else 1.0
    add("commands", ncmd + 0.5 * inline, action,
        f"{ncmd} command line(s) in code blocks, {inline} inline" + (f"; {invalid} invalid, {unfit} for another platform" if invalid or unfit else ""),
        "put the exact commands an operator runs in code blocks (the platform's own CLI, real names, no placeholders)"
        if valid == 1.0 else "fix the commands that are invalid or belong to another platform than the document's", valid)

    specifics = {m.group(0) for m in _SPECIFIC.finditer(doc.text) if not re.search(r"<[^>]+>|\bTODO\b|\[[A-Z ]+\]", m.group(0))}
    specifics |= {t for t in _tokens(doc.text) if _SPECIFIC_TOKEN.fullmatch(t)}
    prompts = prompt_lines(doc)
    add("specifics", len(specifics), prompts[0] if prompts else action, f"{len(specifics)} specific names and values",
        "name the real things: hosts, clusters, namespaces, dashboards, metric names, values with their units")

    outputs = len(list(_OUTPUT.finditer(text)))
    for f in doc.fences:  # a console block with a prompt and output lines shows what a healthy result looks like
        lines = [ln for ln in f.content.splitlines() if ln.strip()]
        if any(ln.lstrip().startswith(("$ ", "# ", "> ")) for ln in lines) and any(not ln.lstrip().startswith(("$ ", "#", "> ")) for ln in lines):
            outputs += 1
        elif f.info in ("text", "output", "console", "json", "plaintext") and not any(ln.split(" ")[0] in all_clis() for ln in lines[:2]):
            outputs += 1
        elif lines and not any(ln.split(" ")[0] in all_clis() or ln.lstrip().startswith(("./", "/")) for ln in lines[:3]) and \
                any(_SEE.search(doc.lines[i - 1]) for i in range(max(1, f.line - 3), f.line) if doc.lines[i - 1].strip()):
            outputs += 1  # "you will see errors like this:" followed by the error
    add("outputs", outputs, blocks[0] if blocks else action, f"{outputs} expected output(s)",
        "after each command, show what a healthy result looks like (\"Expected: …\" or a sample of the output)")

    verify = 0.0
    for i, ln in prose:
        for m in _VERIFY.finditer(ln):
            # concrete: something to check on the line after the verb, or a command within the next 3 lines
            k = bisect_left(blocks, i)
            near = k < len(blocks) and blocks[k] <= i + 3
            verify += 1.0 if _CONCRETE.search(ln[m.end():]) or near else 0.5
    add("verification", verify, blocks[-1] if blocks else action, f"{verify:g} verification step(s) (a vague one counts half)",
        "after each change, say how to confirm it worked: the command and the result to expect")

    nthr = len(list(_THRESHOLD.finditer(text)))
    why = len(list(_RATIONALE.finditer(text)))
    add("thresholds", nthr, next((i for i, ln in prose if _THRESHOLD.search(ln)), 1), f"{nthr} threshold(s), {why} rationale(s)",
        "state the values that matter (alert thresholds, limits, durations) and why they are what they are",
        0.6 + 0.4 * min(1.0, why / 2) if nthr else 1.0)

    esc = [i for i, ln in prose if _ESCALATE.search(ln)]
    named = len({m.group(0).lower() for m in _NAMED.finditer(text)} | {t.lower() for t in _tokens(text) if _EMAIL.fullmatch(t)})
    add("escalation", (1.0 if esc else 0.0) + named, esc[0] if esc else 1, f"escalation {'mentioned' if esc else 'absent'}, {named} named contact(s)",
        "say whom to page when this does not work: the rotation, channel or person, by name")

    rb = [i for i, ln in enumerate(doc.lines, 1) if _ROLLBACK.search(ln)]
    concrete = any(any(b <= fl <= b + 25 for fl in blocks) for b in rb)
    rsec = next((s for s in doc.sections if canonical_section(s.title) == "Rollback"), None)
    add("rollback", (0.4 if rb else 0.0) + (1.0 if concrete else 0.0) + (0.4 if rsec else 0.0), rsec.line if rsec else None,
        "rollback " + ("with commands" if concrete else "mentioned" if rb else "absent"),
        "give the way back: a Rollback section with the exact commands and how to tell it worked")

    steps = sum(1 for _i, ln in prose if _STEP.match(ln))
    add("steps", steps, action, f"{steps} numbered step(s)", "write the procedure as numbered steps, one action each")

    decisions = sum(1 for _i, ln in prose if _DECISION.search(ln))
    add("decisions", decisions, action, f"{decisions} decision(s)",
        "say what to do for each outcome: \"if the check shows X, do Y; otherwise …\"")

    total = sum(p.weight for p in parts)
    raw = sum(p.weight * p.value for p in parts) / total
    factor, penalties = 1.0, []
    share = template_share(doc)
    if share > 0:
        cut = max(0.1, 1.0 - TEMPLATE_PENALTY * share)
        factor *= cut
        penalties.append(f"{share:.0%} of the prose lines prompt the writer (questions, e.g. samples, placeholders, empty rows): ×{cut:.2f}")
    if genre == "template":
        factor *= TEMPLATE_FACTOR
        penalties.append(f"an unfilled template: ×{TEMPLATE_FACTOR}; fill in every prompt and placeholder with the real names and values")
    if genre == "postmortem":
        factor *= POSTMORTEM_FACTOR
        penalties.append(f"an incident report, not a runbook: ×{POSTMORTEM_FACTOR}; move what to do next time into a runbook")
    return Substance(round(100 * raw * factor, 1), parts, round(factor, 3), penalties)
