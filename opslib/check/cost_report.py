"""Quality-bar checks of a cost report: actual spend (billing exports) against the cost plan,
judged by the quality bar's Cost Tracking items (breakdown by environment, alert thresholds)
and the estimate-versus-actual variance that seeds 000/001 track. A cost report records what
was spent: the procedure items are n/a for it.

`strict=True` is the profile of our generated cost-report.md: every section of its template
(`## Budget vs. Actual`, …) and a budget row for every environment, each an item of its own.
Item texts: opslib/data/quality-bar.yaml, genre cost-report.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from opslib.check.cost_plan import ENV_WORDS, MONEY
from opslib.check.findings import Finding, environment_names
from opslib.check.items import item_texts, not_a_procedure
from opslib.check.markdown import Document, parse
from opslib.params.models import ProjectParams

__all__ = ["GENRE", "ITEMS", "REPORT_SECTIONS", "check_cost_report"]

GENRE = "cost-report"
ITEMS = item_texts(GENRE)
AREA = "cost-report"
# the sections of our generated report (opslib/templates/cost-report.md.j2), in order
REPORT_SECTIONS = ("Budget vs. Actual", "Variance Against the Estimate", "Anomalies", "Attribution", "Data Quality")
MONEY_RX = re.compile(MONEY)


def _line_of(text: str, pos: int) -> int:
    return text[:pos].count("\n") + 1


def check_cost_report(text: str, *, path: Path | None = None, environments: Sequence[str] | None = None,
                      params: ProjectParams | None = None, strict: bool = False, doc: Document | None = None) -> list[Finding]:
    """Every cost-report item read from the text, each as a Finding; `strict` adds the sections
    of our generated report and a budget row per environment (`doc`: the text already parsed)."""
    doc = doc if doc is not None and doc.text == text else parse(text, Path(path) if path else None)
    out: list[Finding] = []
    header = next((ln for ln in doc.lines if ln.strip().startswith("|") and re.search(r"budget", ln, re.I) and re.search(r"actual|spend", ln, re.I)), None)
    rows = [ln for ln in doc.lines if ln.strip().startswith("|") and MONEY_RX.search(ln)
            and any(re.search(rf"\|\s*({rx})\b", ln, re.I) for rx in ENV_WORDS.values())]
    ok = header is not None and bool(rows)
    out.append(Finding(ITEMS["budget_actual"], "pass" if ok else "fail", f"{len(rows)} environment rows of budget against actual" if ok else
                       "no budget-against-actual table; list each environment's budget, actual spend and % of budget",
                       doc.lines.index(header) + 1 if header else None, AREA))
    m = re.search(r"threshold[^\n]*\d+\s?%|\d+\s?%[^\n]*threshold", text, re.I)
    out.append(Finding(ITEMS["thresholds"], "pass" if m else "fail", "alert thresholds stated" if m else
                       "no alert thresholds; say which thresholds (e.g. 70/90/100% of the budget) were crossed and when",
                       _line_of(text, m.start()) if m else None, AREA))
    m = re.search(r"variance[^\n]*(\d+(\.\d+)?\s?%)|estimate[^\n]*actual|actual[^\n]*estimate", text, re.I)
    out.append(Finding(ITEMS["variance"], "pass" if m else "fail", "actual compared with the estimate" if m else
                       "no comparison with the estimate; give the variance of actual against the cost plan's estimate",
                       _line_of(text, m.start()) if m else None, AREA))
    nxt = next((s for s in doc.sections if re.search(r"next steps|actions?|recommendations?|what to do|follow-?up", s.title, re.I)), None)
    out.append(Finding(ITEMS["next"], "pass" if nxt else "fail", "next steps stated" if nxt else
                       "no next steps; say what to do when an environment is over budget (review process, owner)", nxt.line if nxt else None,
                       AREA, "warning"))
    out += not_a_procedure("a cost report records actual spend; it has no procedure to follow")
    if strict:
        out += _strict(text, environment_names(environments, params, default=()))
    return out


def _strict(text: str, envs: list[str]) -> list[Finding]:
    """The sections of our generated report and a budget row per environment: items of their
    own, reported pass or fail."""
    out = []
    for s in REPORT_SECTIONS:
        ok = f"\n## {s}" in text
        out.append(Finding(ITEMS["section"].format(section=s), "pass" if ok else "fail",
                           f"section '{s}' present" if ok else f"no '## {s}' section; regenerate with opslib actuals", None, GENRE))
    missing = [e for e in envs if f"| {e} |" not in text]
    out.append(Finding(ITEMS["environments"], "fail" if missing else "pass",
                       f"no budget row for {', '.join(missing)}" if missing else f"budget rows for {', '.join(envs)}", None, GENRE))
    return out
