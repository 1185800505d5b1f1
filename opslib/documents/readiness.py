"""The readiness review (readiness.md): every quality-bar "Definition of Done" item and every
item of seed 001 §8's production readiness checklist, each pass / fail / n/a / not measured,
with its evidence, grouped by area, with a score per area.

    collect(out_dir, params) -> list[Finding]      the checks of every other document (their own
                                                    check_written, plus doccheck on each Markdown file)
    review(params, out_dir)  -> Review              items resolved against those findings
    write(params, status, out_dir) -> Written       writes <out_dir>/readiness.md (document contract)
    check_written(out_dir, params) -> list[Finding] readiness.md lists every item with a status

Decisions:
- Readiness is computed from the documents already in out_dir (render writes the modules in
  registry order, so readiness must come last; batch runs notebook 90 last) plus the
  parameters. Nothing is re-checked here: every item names, in opslib/data/readiness-items.yaml,
  the checklist items of the document modules (their `check_written`) and of doccheck that
  evidence it.
- A failing item is the content of the review, not a failure of readiness.md: write() does not
  raise for it, and its findings (also check_written's) are about the document itself.
- Items no document can evidence are "not measured" with what would evidence them. A project
  without a cost: section fails the cost items on a paid platform (every catalog platform is).
- The score of an area is doccheck.score over its decided items (n/a and not measured do not count).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from opslib.catalog.loaders import DATA_DIR
from opslib.check.document import check_document, score
from opslib.check.findings import Finding, Status
from opslib.check.items import readiness_checks, readiness_items
from opslib.check.readiness import check_readiness
from opslib.core.templates import render
from opslib.core.yamlio import read_yaml
from opslib.documents.contract import Draft, Written, check_file, document_modules, write_draft
from opslib.params.models import ProjectParams
from opslib.params.status import StatusCheck

__all__ = ["DOC", "FILE", "Item", "Review", "collect", "review", "render_review", "draft", "write", "check_written", "items"]

DOC = "readiness"
FILE = "readiness.md"
FILES = {"runbook": "runbook.md", "cost": "cost-plan.md", "secret": "secrets.md", "pipeline": "pipeline.md", "alert": "alerts.yml"}
GENRES = {"runbook.md": "service-runbook", "cost-plan.md": "cost-plan", "secrets.md": "secrets", "pipeline.md": "pipeline"}
# readiness-items.yaml names a check as <key>.<item>; the key of each document
KEY_OF_DOC = {"runbook": "runbook", "cost-plan": "cost", "secrets": "secret", "pipeline": "pipeline", "alerts": "alert"}


def _names() -> Mapping[str, Mapping[str, str]]:
    return readiness_checks()


def items() -> tuple[dict, ...]:
    return readiness_items()


@dataclass(frozen=True)
class Item:
    id: str
    area: str
    source: str
    text: str
    status: Status
    evidence: str


@dataclass(frozen=True)
class Review:
    project: object
    as_of: object
    status: StatusCheck | None
    items: list[Item]
    areas: list[tuple[str, float | None, dict[str, int]]]
    overall: float
    counts: dict[str, int]


def collect(out_dir: str | Path, params: ProjectParams) -> list[tuple[str, str, Finding]]:
    """(module, file, finding) for every check of every other document in out_dir."""
    out_dir = Path(out_dir)
    envs = [e.name for e in params.environments]
    found = []
    for mod in document_modules():
        name = KEY_OF_DOC.get(mod.DOC, "")
        if name not in FILES:
            continue
        found += [(name, FILES[name], f) for f in mod.check_written(out_dir, params)]
    for fname, genre in GENRES.items():
        path = out_dir / fname
        if path.is_file():
            report = check_document(path.read_text(encoding="utf-8"), path, genre=genre, environments=envs)
            found += [("doc", fname, f) for f in report.findings]
    return found


def _clean(text: str, out_dir: Path) -> str:
    return text.replace(str(out_dir.resolve()) + "/", "").replace(str(out_dir) + "/", "")


def _param(params: ProjectParams, dotted: str) -> Any:
    value: Any = params
    for part in dotted.split("."):
        value = getattr(value, part, None)
    return value


def _prod_plan(out_dir: Path, params: ProjectParams) -> Path | None:
    plans = sorted((out_dir / "deployments").glob(f"*-{params.production.name}/deployment-plan.md"))
    return plans[-1] if plans else None


def _resolve(it: dict, found, params: ProjectParams, out_dir: Path) -> tuple[Status, str]:
    if "not_measured" in it:
        return "not measured", it["not_measured"]
    if it.get("plan"):
        plan = _prod_plan(out_dir, params)
        if plan is None:
            why = "no production deployment plan in this folder"
        else:
            m = re.search(r"\*\*Deploy Window:\*\* (\d{4}-\d{2}-\d{2} [^\n]+)", plan.read_text(encoding="utf-8"))
            if m:
                return "pass", f"{plan.relative_to(out_dir).as_posix()}: window {m.group(1)}"
            why = f"{plan.relative_to(out_dir).as_posix()} has no window"
        return "not measured", f"{why}; `opslib plan … --env {params.production.name} --window START/END` would confirm the date"
    if it.get("needs_cost") and params.cost is None:
        if params.platform not in read_yaml(DATA_DIR / "readiness-items.yaml").get("free_platforms", []):
            return "fail", (f"the parameters have no cost: section, so there is no cost-plan.md; {params.catalog.platform(params.platform).title} "
                            "is a paid platform — add a cost: section and run opslib render")
    names = _names()
    hits, missing = [], []
    for ref in it.get("checks", []):
        mod, _, key = ref.partition(".")
        want = names[mod][key]
        got = [(file, f) for m, file, f in found if f.item == want and m == mod]
        if not got:
            missing.append(FILES.get(mod, "the Markdown documents") if mod != "doc" else "the Markdown documents")
        hits += got
    bad = [(file, f) for file, f in hits if f.status == "fail"]
    if bad:
        return "fail", "; ".join(f"{file}: {f.message}" for file, f in bad[:3]) + (f" (+{len(bad) - 3} more)" if len(bad) > 3 else "")
    if missing:
        return "fail", f"{', '.join(sorted(set(missing)))} missing or not checked; run opslib render"
    decided = [(file, f) for file, f in hits if f.status == "pass"]
    if not decided:
        return ("n/a" if all(f.status == "n/a" for _, f in hits) else "not measured"), "; ".join(f"{file}: {f.message}" for file, f in hits[:2])
    files = sorted({file for file, _ in decided})
    evidence = f"{', '.join(files)}: " + "; ".join(sorted({f.item for _, f in decided}))
    if "params" in it:
        value = _param(params, it["params"])
        if value in (None, ""):
            return "fail", f"parameters field {it['params']} is not set; set it"
        evidence += f"; parameters {it['params']}: {value}"
    if "untested" in it:
        return "not measured", f"documented ({evidence}); not measured: {it['untested']}"
    return "pass", evidence


def review(params: ProjectParams, out_dir: str | Path, status: StatusCheck | None = None) -> Review:
    out_dir = Path(out_dir)
    found = [(m, file, Finding(f.item, f.status, _clean(f.message, out_dir), f.line, f.area, f.severity)) for m, file, f in collect(out_dir, params)]
    resolved = []
    for it in items():
        st, ev = _resolve(it, found, params, out_dir)
        resolved.append(Item(it["id"], it["area"], it["source"], it["text"], st, ev))
    areas = []
    for area in dict.fromkeys(i.area for i in resolved):
        mine = [i for i in resolved if i.area == area]
        fs = [Finding(i.text, i.status, i.evidence, area=area) for i in mine]
        decided = any(i.status in ("pass", "fail") for i in mine)
        counts = {s: sum(i.status == s for i in mine) for s in ("pass", "fail", "n/a", "not measured")}
        areas.append((area, score(fs) if decided else None, counts))
    all_fs = [Finding(i.text, i.status, i.evidence, area=i.area) for i in resolved]
    counts = {s: sum(i.status == s for i in resolved) for s in ("pass", "fail", "n/a", "not measured")}
    return Review(params.project, params.project.as_of, status, resolved, areas, score(all_fs), counts)


def render_review(rv: Review) -> str:
    return render(DOC, rv)


def _own_findings(text: str) -> list[Finding]:
    return check_readiness(text, strict=True)


def draft(params: ProjectParams, status: StatusCheck | None, out_dir: str | Path, *, review_of: Review | None = None) -> Draft:
    """Review the documents in out_dir and render readiness.md; `review_of` is a review of the same
    folder already made (the notebook shows it first), so it is not made twice."""
    rv = review_of if review_of is not None else review(params, Path(out_dir), status)
    text = render_review(rv)
    return Draft(DOC, FILE, text, _own_findings(text), model=rv)


def write(params: ProjectParams, status: StatusCheck | None, out_dir: str | Path, rv: Review | None = None) -> Written:
    """Write <out_dir>/readiness.md (a record: it is written whatever the review found)."""
    return write_draft(draft(params, status, out_dir, review_of=rv), out_dir)


def check_written(out_dir: str | Path, params: ProjectParams) -> list[Finding]:
    return check_file("readiness", out_dir, FILE, params)
