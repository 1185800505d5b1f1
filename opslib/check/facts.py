"""One source per fact, the check side: inconsistencies within a document and against the project.

    inconsistencies(text, *, path=None, kind="markdown", params=None, doc=None) -> [(line, message)]

Each rule reads what the document states and what its steps, commands and rules do:

- a procedure whose stated duration is shorter than the waits its steps hold (a canary "35
  minutes" whose steps watch 15 minutes at each of 3 weights for 4 services);
- one URL verified for several services in one procedure (each service has its own endpoint);
- a step for another deployment strategy than the project's (a blue-green rollback step in a
  canary project), the strategy taken from the parameters or from the document's own
  "Strategy: …" line;
- a latency alert on a histogram bucket (`le="…"`) that standard client libraries do not export
  (it never fires), unless the document says to configure that bucket;
- alerts whose runbook_url opens the same anchor, or an anchor the runbook beside them lacks;
- a scaling target above the latency SLO's threshold (autoscaling on p95 800 ms against a 400 ms SLO);
- a fact that must be looked up written as a constant (`export PREVIOUS_VERSION=v1.4.1`).

Default buckets and the words that name strategies are data: opslib/data/fact-rules.yaml.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections import defaultdict
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from opslib.catalog.loaders import DATA_DIR
from opslib.check.markdown import Document, Fence, parse
from opslib.core.yamlio import read_yaml
from opslib.params.models import ProjectParams

__all__ = ["inconsistencies", "anchor_slug", "step_wait"]

_DURATION = re.compile(r"(?i)expected duration\W{0,4}\s*(?:about |~)?(\d+)\s*min")
_WAIT = re.compile(r"(?i)\b(?:watch\w*|observ\w*|wait\w*|soak\w*|monitor\w*)\b[^.\n]{0,80}?\bfor (\d+) min|\bafter (\d+) min\w* without")
_EACH = re.compile(r"(?i)\b(at|for) each (step|weight|stage)\b")
_LOOP = re.compile(r"^\s*for \w+ in ([^;\n]+);", re.M)
_STEP = re.compile(r"^(\d+)\.\s+(?:\*\*([\w.-]+(?:, [\w.-]+)*)\*\*:\s*)?(.*)$")
_BLOCK_STEP = re.compile(r"^\s*#\s*(\d+)\.\s+(?:([\w.-]+(?:, [\w.-]+)*):\s+)?(.*)$")
_URL = re.compile(r"https?://[^\s'\"`)]+")
_LOCAL = re.compile(r"https?://(127\.0\.0\.1|localhost|\[::1\])[:/]")


@cache
def _rules() -> dict[str, Any]:
    return read_yaml(DATA_DIR / "fact-rules.yaml", lines=False)


def anchor_slug(title: str) -> str:
    """The anchor GitHub (and most Markdown renderers) give a heading."""
    text = re.sub(r"[`*_~]", "", title.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def _sections(doc: Document) -> list[tuple[int, int, int, str]]:
    """(start, stop, end, title) of every section of level ≤ 3: `stop` is where its own text ends
    (its first subsection, else its end). Found by bisection: linear in the headings, not
    quadratic (a file of 100,000 headings is checked in seconds)."""
    starts = sorted(s.line for s in doc.sections if s.level <= 3)
    out = []
    for s in doc.sections:
        if s.level <= 3:
            i = bisect_right(starts, s.line)
            out.append((s.line, starts[i] if i < len(starts) and starts[i] < s.end else s.end, s.end, s.title))
    return out


def _block_steps(fence: Fence) -> list[tuple[int, str | None, str, str]]:
    """Steps written inside one shell block as numbered comments (`# 2. label: text`), each
    followed by its commands: (line, service label, text, code of the step)."""
    out: list[tuple[int, str | None, str, list[str]]] = []
    for i, ln in enumerate(fence.content.splitlines()):
        m = _BLOCK_STEP.match(ln)
        if m:
            out.append((fence.line + 1 + i, m.group(2), m.group(3), []))
        elif out:
            out[-1][3].append(ln)
    return [(line, label, text, "\n".join(code)) for line, label, text, code in out]


def _steps(doc: Document, start: int, end: int) -> list[tuple[int, str | None, str, str]]:
    """Numbered steps of a section, as a Markdown list with a code block per step or as numbered
    comments inside one shell block: (line, service label, text, code of the step)."""
    out: list[tuple[int, str | None, str, str]] = []
    for n in range(start, min(end - 1, len(doc.lines))):
        m = _STEP.match(doc.lines[n])
        if m:
            out.append((n + 1, m.group(2), m.group(3), ""))
    fence_lines = [f.line for f in doc.fences]  # in document order
    fences = doc.fences[bisect_right(fence_lines, start): bisect_left(fence_lines, end)]
    inner = {f.line: _block_steps(f) for f in fences}
    steps = []
    for i, (line, label, text, _) in enumerate(out):
        nxt = out[i + 1][0] if i + 1 < len(out) else end
        code = "\n".join(f.content for f in fences if line < f.line < nxt and not inner[f.line])
        steps.append((line, label, text, code))
    steps += [s for f in fences for s in inner[f.line]]
    return sorted(steps)


def step_wait(text: str, code: str) -> tuple[int, int] | None:
    """The wait a step states (minutes, times: `for 15 minutes at each step` over a `for … in`
    loop of its code waits once per item), or None. The duration rule sums these; the runbook
    computes its expected durations from the same sum."""
    w = _WAIT.search(text)
    if not w:
        return None
    loop = _LOOP.search(code)
    return int(w.group(1) or w.group(2)), len(loop.group(1).split()) if _EACH.search(text) and loop else 1


def _rule_durations(doc: Document) -> list[tuple[int | None, str]]:
    out: list[tuple[int | None, str]] = []
    for start, stop, _end, title in _sections(doc):
        body = "\n".join(doc.lines[start - 1: stop - 1])
        m = _DURATION.search(body)
        if not m:
            continue
        stated = int(m.group(1))
        total, parts = 0, []
        for _line, label, text, code in _steps(doc, start, stop):
            wait = step_wait(text, code)
            if wait is None:
                continue
            minutes, times = wait
            times *= len(label.split(", ")) if label else 1  # a step for several services waits once for each
            total += minutes * times
            parts.append(f"{minutes} min" + (f" × {times}" if times > 1 else "") + (f" ({label})" if label else ""))
        if total > stated:
            line = start + body[: m.start()].count("\n")
            out.append((line, f"'{title}' says {stated} minutes, but its steps wait {total} minutes ({' + '.join(parts[:6])}"
                              f"{' + …' if len(parts) > 6 else ''}); compute the duration from the steps"))
    return out


def _rule_urls(doc: Document) -> list[tuple[int | None, str]]:
    out: list[tuple[int | None, str]] = []
    for start, stop, _end, title in _sections(doc):
        by_url: dict[str, set[str]] = defaultdict(set)
        first: dict[str, int] = {}
        for line, label, _text, code in _steps(doc, start, stop):
            if not label:
                continue
            forwards = "port-forward" in code  # the step forwards its own service to the local port first
            names = label.split(", ")  # a step written once for several services calls each one in turn
            calls: dict[str, int] = defaultdict(int)
            for cmd_line in code.splitlines():
                if re.match(r"\s*(curl|wget|http)\b", cmd_line):
                    for url in _URL.findall(cmd_line):
                        if forwards and _LOCAL.match(url) or "$" in url or "}" in url:
                            continue  # a local port-forward of the step's service, or a URL built from a variable the step sets
                        by_url[url].add(names[min(calls[url], len(names) - 1)])
                        calls[url] += 1
                        first.setdefault(url, line)
        for url, labels in by_url.items():
            if len(labels) > 1:
                out.append((first[url], f"'{title}' verifies {', '.join(sorted(labels))} at the same URL {url}; verify each service at its own endpoint"))
    return out


def _stated_strategy(doc: Document, params: ProjectParams | None) -> str | None:
    if params is not None:
        return params.deploy.strategy
    m = re.search(r"(?i)\*?\*?strategy:?\*?\*?:?\s*\**\s*(rolling|blue-green|canary|recreate)\b", doc.text)
    return m.group(1).lower() if m else None


def _rule_strategy(doc: Document, params: ProjectParams | None) -> list[tuple[int | None, str]]:
    strategy = _stated_strategy(doc, params)
    if strategy is None:
        return []
    words = _rules()["strategies"]
    out: list[tuple[int | None, str]] = []
    for n, line in enumerate(doc.lines, 1):
        m = _STEP.match(line) or re.match(r"^\s*[-*]\s+()()(.*)$", line)
        if not m:
            continue
        text = m.group(3)
        for other, rx in words.items():
            if other != strategy and re.match(rx, text):
                out.append((n, f"a {other} step in a {strategy} project: \"{text[:80]}\"; keep only the steps of the project's strategy"))
    return out


def _buckets_configured(text: str, value: str) -> bool:
    return bool(re.search(rf"(?i)(?<!_)bucket[^\n]{{0,120}}\b{re.escape(value)}\b|\b{re.escape(value)}\b[^\n]{{0,60}}(?<!_)bucket(?!\{{)", text))


def _rule_buckets(text: str) -> list[tuple[int | None, str]]:
    allowed = {float(b) for b in _rules()["default_buckets_seconds"]}
    out: list[tuple[int | None, str]] = []
    seen: set[str] = set()
    for n, line in enumerate(text.splitlines(), 1):
        for m in re.finditer(r"_bucket\{[^}]*\ble=\"([^\"]+)\"", line):
            value = m.group(1)
            if value in ("+Inf", "Inf") or value in seen:
                continue
            try:
                v = float(value)
            except ValueError:
                continue
            if v not in allowed and not _buckets_configured(text, value):
                seen.add(value)
                out.append((n, f'le="{value}" is not a bucket the standard client libraries export '
                               f"({', '.join(str(b) for b in sorted(allowed))} s), so the alert never fires; "
                               "use a default bucket or say which bucket to configure"))
    return out


def _rule_anchors(text: str, path: Path | None) -> list[tuple[int | None, str]]:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return []
    if not isinstance(data, dict):
        return []
    urls: dict[str, list[str]] = defaultdict(list)
    for group in data.get("groups") or []:
        for rule in (group or {}).get("rules") or []:
            if isinstance(rule, dict) and rule.get("alert"):
                url = str((rule.get("annotations") or {}).get("runbook_url", ""))
                if url:
                    urls[url].append(str(rule["alert"]))
    out: list[tuple[int | None, str]] = []
    lines = text.splitlines()

    def line_of(needle: str) -> int | None:
        return next((i for i, ln in enumerate(lines, 1) if needle in ln), None)

    total = sum(len(v) for v in urls.values())
    for url, alerts in urls.items():
        if len(alerts) > 1:
            out.append((line_of(url), f"{len(alerts)} of {total} alerts ({', '.join(alerts[:4])}{', …' if len(alerts) > 4 else ''}) open the same "
                                      f"runbook anchor {url}; give each alert its own section and link it"))
    runbook = path.parent / "runbook.md" if path is not None else None
    if runbook is not None and runbook.is_file():
        anchors = {anchor_slug(s.title) for s in parse(runbook.read_text(encoding="utf-8")).sections}
        for url in urls:
            file, _, anchor = url.partition("#")
            if anchor and Path(file).name == "runbook.md" and anchor not in anchors:
                out.append((line_of(url), f"runbook_url {url}: runbook.md has no heading with the anchor #{anchor}; link an existing section"))
    return out


def _rule_looked_up(doc: Document) -> list[tuple[int | None, str]]:
    rules = [(re.compile(r["pattern"]), r["message"]) for r in _rules().get("looked_up", [])]
    out: list[tuple[int | None, str]] = []
    for f in doc.fences:
        for i, line in enumerate(f.content.splitlines()):
            for rx, msg in rules:
                if rx.search(line):
                    out.append((f.line + 1 + i, f"`{line.strip()[:60]}`: {msg}"))
    return out


def _rule_scaling(doc: Document, params: ProjectParams | None) -> list[tuple[int | None, str]]:
    if params is None:
        return []
    thresholds = [s.threshold_ms for s in params.monitoring.slos if s.sli == "latency" and s.threshold_ms]
    if not thresholds:
        return []
    limit = min(thresholds)
    out: list[tuple[int | None, str]] = []
    for n, line in enumerate(doc.lines, 1):
        for m in re.finditer(r"--p95[= ](\d+)|(?i:target(?:ing)?\s+(?:a\s+)?p95(?:\s+(?:response time|latency))?\s+(?:of\s+)?)(\d+)\s*ms", line):
            value = int(m.group(1) or m.group(2))
            if value > limit:
                out.append((n, f"the scaling target p95 {value} ms is above the latency SLO threshold ({limit} ms): the service scales only after "
                               "the SLO is already broken; use the SLO threshold or lower"))
    return out


def inconsistencies(text: str, *, path: str | Path | None = None, kind: str = "markdown", params: ProjectParams | None = None,
                    doc: Document | None = None) -> list[tuple[int | None, str]]:
    """Every inconsistency the rules find, with its line."""
    p = Path(path) if path else None
    if kind == "alerts" or p is not None and p.suffix in (".yml", ".yaml") and "groups:" in text:
        return _rule_buckets(text) + _rule_anchors(text, p)
    if kind != "markdown":
        return []
    doc = doc or parse(text, p)
    out = _rule_durations(doc) + _rule_urls(doc) + _rule_strategy(doc, params) + _rule_scaling(doc, params) + _rule_looked_up(doc)
    out += _rule_buckets(text)
    return sorted(set(out), key=lambda x: (x[0] or 0, x[1]))
