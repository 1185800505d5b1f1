"""Unfilled template values in a document (data/check-placeholders.yaml and its filters):
one rule for every genre and for the runbook checks."""

from __future__ import annotations

import re
from functools import cache
from weakref import WeakKeyDictionary

from opslib.catalog.loaders import DATA_DIR
from opslib.check.markdown import Document
from opslib.core.yamlio import read_yaml

__all__ = ["find_placeholders"]

Hit = tuple[int, str, str]  # (line, text, severity)
# find_placeholders' results per parsed document, dropped with the document
_FOUND: WeakKeyDictionary[Document, tuple[Hit, ...]] = WeakKeyDictionary()


@cache
def _placeholder_data() -> tuple[list[tuple[str, re.Pattern]], frozenset[str]]:
    raw = read_yaml(DATA_DIR / "check-placeholders.yaml", lines=False)
    pats = [(p["name"], re.compile(p["regex"], 0 if p["name"] in ("todo", "dollar-x", "date-template") else re.I)) for p in raw["patterns"]]
    return pats, frozenset(raw["html_tags"])


def _code_lines(doc: Document) -> set[int]:
    out: set[int] = set()
    for f in doc.fences:
        out.update(range(f.line, f.line + f.content.count("\n") + 2))
    return out


def _declared(doc: Document, word: str) -> bool:
    w = re.escape(word)
    return bool(re.search(rf"\$\{{?{w}\b|\b{w}\s*=|`{w}`|^\s*[-*]?\s*\**{w}\**\s*:", doc.text, re.M | re.I))


def find_placeholders(doc: Document) -> list[Hit]:
    """Unfilled template values: (line, text, severity). Not counted: command parameters the
    document declares (`<CLUSTER>` with `CLUSTER=` or `$CLUSTER` elsewhere) or assigns to a shell
    variable, HTML tags, autolinks, `{{ }}` alert templates; a `<TOKEN>` outside code is notation.
    Computed once per parsed document (genre detection and two rules ask for it)."""
    cached = _FOUND.get(doc)
    if cached is not None:
        return list(cached)
    pats, html = _placeholder_data()
    code = _code_lines(doc)
    out: list[Hit] = []
    for n, line in enumerate(doc.lines, 1):
        stripped = re.sub(r"\{\{.*?\}\}", "", line)
        found = None
        for name, rx in pats:
            for m in rx.finditer(stripped):
                hit = m.group(0)
                if name == "question-prompt" and n in code:
                    continue
                if name == "bracket-slot" and n in code:
                    continue  # in code, brackets are syntax: INI/systemd sections ([Service]), arrays, tests
                if name == "long-angle-text" and (hit[1:].split(" ")[0].strip("/").lower() in html or "=" in hit or ":" in hit):
                    continue
                if name in ("your-value", "long-angle-text") and re.search(rf"\b\w+=['\"]?{re.escape(hit)}", stripped):
                    continue  # PVC_NAME='<label from the alert>': a declared command parameter
                found = (n, hit.strip(), "error")
                break
            if found:
                break
        if not found and n in code:
            for m in re.finditer(r"<([A-Za-z][\w-]*)>", stripped):
                token = m.group(1)
                if token.lower() in html or _declared(doc, token) or re.search(rf"\b\w+=['\"]?<{re.escape(token)}>", stripped):
                    continue
                found = (n, m.group(0), "warning")
                break
        if found:
            out.append(found)
    _FOUND[doc] = tuple(out)
    return out
