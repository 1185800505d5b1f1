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
STATUSES = ("pass", "fail", "n/a", "not measured", "verified", "documented, not verified")
# the totals a review states: a hand-written one's (pass, fail, n/a, not measured) or ours
TOTALS: tuple[tuple[str, ...], ...] = (("pass", "fail", "n/a", "not measured"), ("verified", "documented, not verified", "not measured", "fail", "n/a"))
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
        out += [_f("readiness_status", False, f"item {r.get('id') or r['item'][:40]!r} has status {r['status']!r}; use verified, documented, not verified, not measured, fail or n/a", n, "readiness")
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
        m, names = None, TOTALS[0]  # names: the totals a review states
        for names in TOTALS:
            m = re.search(r"\(" + ", ".join(rf"(\d+) {re.escape(s)}" for s in names) + r"\)", text)
            if m:
                break
        if m:
            stated = dict(zip(names, map(int, m.groups()), strict=True))
            counted = {s: sum(r["status"].strip("* ").lower() == s for _n, r in rows) for s in names}
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
        out += [_listed(text), _verdict(text, rows), _state(rows)]
    return out


def _verdict(text: str, rows: list[tuple[int, dict[str, str]]]) -> Finding:
    """Our review opens with a verdict that follows from its rows: no-go when an item fails (or
    status.json halts the project), undecided while a blocking item is not verified, else go."""
    m = re.search(r"^\*\*Verdict: (go|no-go|undecided)\*\*", text, re.M)
    if not m or not re.search(r"^## Sign-off", text, re.M):
        return Finding(ITEMS["verdict"], "fail", "no **Verdict: go / no-go / undecided** line or no Sign-off section; regenerate the review", area="readiness")
    status = [r["status"].strip("* ").lower() for _n, r in rows]
    blocking = [r["status"].strip("* ").lower() for _n, r in rows if r.get("blocking", "yes") == "yes"]
    halted = re.search(r"status\.json: (blocked|on-hold)", text)
    expected = ("no-go" if "fail" in status or halted else
                "undecided" if any(s not in ("verified", "n/a") for s in blocking) else "go")
    ok = m.group(1) == expected
    return Finding(ITEMS["verdict"], "pass" if ok else "fail", f"verdict {m.group(1)}, as the items say" if ok else
                   f"the verdict says {m.group(1)} but the items say {expected}; regenerate the review", _line(text, m.start()), "readiness")


# evidence that comes from a document's word, not from state (readiness.py writes these)
_ON_A_DOCUMENT = ("documented in", "opslib checked")


def _state(rows: list[tuple[int, dict[str, str]]]) -> Finding:
    """No item of readiness-items.yaml marked `state` (dashboards deployed, alerts loaded, on-call
    staffed…) is verified with a document's word as its only evidence."""
    state = {it["id"] for it in readiness_items() if "state" in it}
    bad = [(n, r) for n, r in rows if r.get("id") in state and r["status"].strip("* ").lower() == "verified"
           and r.get("evidence", "").startswith(_ON_A_DOCUMENT)]
    if bad:
        return Finding(ITEMS["state"], "fail", f"{', '.join(r['id'] for _n, r in bad)} verified by a document alone; "
                       "verify the state (evidence file or a check opslib runs) or mark it documented, not verified", bad[0][0], "readiness")
    return Finding(ITEMS["state"], "pass", f"every verified item of the {len(state)} about the running system rests on evidence of state",
                   area="readiness")


def _listed(text: str) -> Finding:
    """Every item of the readiness review (readiness-items.yaml) is in a table row with a status."""
    items = readiness_items()
    missing = [it["id"] for it in items if not re.search(rf"^\| {re.escape(it['id'])} \|.*\| ({'|'.join(map(re.escape, STATUSES))}) \|", text, re.M)]
    return Finding(ITEMS["listed"], "fail" if missing else "pass",
                   f"items without a status: {', '.join(missing)}" if missing else f"{len(items)} items with a status and evidence",
                   area="readiness")
