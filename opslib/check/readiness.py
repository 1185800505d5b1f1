"""Quality-bar checks of a readiness review: the quality bar's checklist (and seed 001 §8's
production readiness checklist) answered item by item. A review is held to answering every
item with a status and evidence, to totals that add up, and to the status.json result; the
procedure items are n/a for it (the procedures it judges are in the other documents).

`strict=True` is the profile of our generated readiness.md: every item of
opslib/data/readiness-items.yaml is listed with a status. Item texts: opslib/data/quality-bar.yaml,
genre readiness.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from opslib.check.findings import Finding, Status
from opslib.check.items import item_texts, not_a_procedure, readiness_items
from opslib.check.markdown import Document, parse
from opslib.params.models import ProjectParams

__all__ = ["GENRE", "ITEMS", "STATUSES", "check_readiness"]

GENRE = "readiness"
ITEMS = item_texts(GENRE)
STATUSES = ("pass", "fail", "n/a", "not measured")
# the key of each finding: its item id in the catalog
DOC_ITEM = {"readiness_status": "status", "readiness_evidence": "evidence", "readiness_counts": "counts", "readiness_status_json": "status_json"}


def _f(key: str, ok: bool | None, message: str, line: int | None = None, area: str = "deployment", severity: str = "error") -> Finding:
    status: Status = "n/a" if ok is None else ("pass" if ok else "fail")
    return Finding(ITEMS[DOC_ITEM[key]], status, message, line, area, severity)


def _line(text: str, pos: int) -> int:
    return text[:pos].count("\n") + 1


def check_readiness(text: str, *, path: Path | None = None, environments: Sequence[str] | None = None,
                    params: ProjectParams | None = None, strict: bool = False, doc: Document | None = None) -> list[Finding]:
    """A readiness review answers every item with a status and evidence, states totals that
    add up and the status.json result; `strict` (our generated readiness.md) adds that every
    item of opslib/data/readiness-items.yaml is listed (`doc`: the text already parsed)."""
    doc = doc if doc is not None and doc.text == text else parse(text, Path(path) if path else None)
    out: list[Finding] = []
    rows: list[tuple[int, dict[str, str]]] = []
    header: list[str] | None = None
    for n, ln in enumerate(doc.lines, 1):
        s = ln.strip()
        if not s.startswith("|"):
            header = None
            continue
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", s)[1:-1]]
        if header is None:
            header = [c.lower() for c in cells]
            continue
        if re.match(r"^\|[\s:|-]+\|?$", s):
            continue
        if "status" in header and "item" in header and len(cells) == len(header):
            rows.append((n, dict(zip(header, cells, strict=True))))
    if not rows:
        out.append(_f("readiness_status", False, "no checklist table with Item and Status columns; answer every item in a table (item, status, evidence)", area="readiness"))
    else:
        bad = [(n, r) for n, r in rows if r["status"].strip("* ").lower() not in STATUSES]
        out += [_f("readiness_status", False, f"item {r.get('id') or r['item'][:40]!r} has status {r['status']!r}; use pass, fail, n/a or not measured", n, "readiness")
                for n, r in bad]
        if not bad:
            out.append(_f("readiness_status", True, f"{len(rows)} items, each with a status", rows[0][0], "readiness"))
        if "evidence" in rows[0][1]:
            empty = [(n, r) for n, r in rows if not r["evidence"].strip(" -")]
            out += [_f("readiness_evidence", False, f"item {r.get('id') or r['item'][:40]!r} has no evidence; name the document and check that decided it", n, "readiness")
                    for n, r in empty]
            if not empty:
                out.append(_f("readiness_evidence", True, "every item names its evidence", rows[0][0], "readiness"))
        else:
            out.append(_f("readiness_evidence", False, "the checklist has no Evidence column; say what decided each item", rows[0][0], "readiness"))
        m = re.search(r"\((\d+) pass, (\d+) fail, (\d+) n/a, (\d+) not measured\)", text)
        if m:
            stated = dict(zip(STATUSES, map(int, m.groups()), strict=True))
            counted = {s: sum(r["status"].strip("* ").lower() == s for _n, r in rows) for s in STATUSES}
            out.append(_f("readiness_counts", stated == counted, "stated totals match the items listed" if stated == counted else
                          f"the totals say {stated} but the tables list {counted}; regenerate the review", _line(text, m.start()), "readiness"))
        else:
            out.append(_f("readiness_counts", None, "the review states no totals", None, "readiness"))
    m = re.search(r"status\.json\**:?\**\s*(active|blocked|completed|on-hold)", text)
    unlinked = None if m else re.search(r"status\.json\**:?\**\s*not linked", text)
    if unlinked:  # the project links no status.json and the review says so: nothing to compare
        out.append(Finding(ITEMS[DOC_ITEM["readiness_status_json"]], "not measured", "the project links no status.json, and the review says so",
                           _line(text, unlinked.start()), "readiness"))
    else:
        out.append(_f("readiness_status_json", bool(m), "status.json result stated" if m else
                      "the review does not say what status.json said; state it (status.json: active / deployment)", _line(text, m.start()) if m else None, "readiness"))
    out += not_a_procedure("a readiness review answers the checklist; the procedures it judges are in the other documents")
    if strict:
        out.append(_listed(text))
    return out


def _listed(text: str) -> Finding:
    """Every item of the readiness review (readiness-items.yaml) is in a table row with a status."""
    items = readiness_items()
    missing = [it["id"] for it in items if not re.search(rf"^\| {re.escape(it['id'])} \|.*\| (pass|fail|n/a|not measured) \|", text, re.M)]
    return Finding(ITEMS["listed"], "fail" if missing else "pass",
                   f"items without a status: {', '.join(missing)}" if missing else f"{len(items)} items with a status and evidence",
                   area="readiness")
