"""cost-report.md: actual spend from FOCUS billing exports against the budgets and the estimate
(the analysis is opslib.documents.spend; the charts opslib.documents.cost_report_charts).

    render_report(report)                      -> str
    write_report(params, out_dir, billing, month) -> (CostReport, [Finding])
    write(params, status, out_dir)             -> Written     (document contract; n/a without an `actuals:` section)
    check_written(out_dir, params)             -> [Finding]
"""

from __future__ import annotations

from pathlib import Path

from opslib.check.cost_report import check_cost_report
from opslib.check.findings import Finding
from opslib.core.templates import render
from opslib.documents.contract import Draft, Written, check_file, write_draft
from opslib.documents.cost_report_charts import FIGURES, figure_files
from opslib.documents.spend import CostReport, actuals_section, analyse, load
from opslib.params.status import StatusCheck

__all__ = ["DOC", "FILE", "FIGURES", "check_written", "draft", "preview", "render_report", "write", "write_report"]

DOC = "cost-report"
FILE = "cost-report.md"
ITEM = "cost-report.md exists (if billing data is configured)"


def render_report(report: CostReport) -> str:
    report.figures = dict(FIGURES)
    return render(DOC, report)


def _na() -> list[Finding]:
    return [Finding(ITEM, "n/a", "no actuals: section in the parameters (no billing data configured)", None, DOC)]


def draft(params, status: StatusCheck | None = None, out_dir: str | Path | None = None, *, billing: list[str | Path] | None = None,
          month: str | None = None, figures: bool = True) -> Draft:
    """Analyse the billing exports (the parameters' actuals.billing, or `billing`), render and check
    cost-report.md; with `figures`, draw its charts. n/a without billing data."""
    if params.actuals is None and not billing:
        return Draft(DOC, FILE, None, _na(), note="No billing data configured: the parameters have no `actuals:` section.")
    act, _ = actuals_section(params, billing)
    report = analyse(params, load(params, billing), month, act)
    text = render_report(report)
    findings = [Finding(ITEM, "pass", f"{FILE}: {report.rows} billing rows, {report.first_day} to {report.last_day}", None, DOC)]
    findings += check_cost_report(text, environments=[e.name for e in params.environments], strict=True)
    return Draft(DOC, FILE, text, findings, files=figure_files(report) if figures else {}, model=report)


def preview(params, status: StatusCheck | None = None, month: str | None = None) -> Draft:
    """Render and check without writing; figures are not drawn."""
    return draft(params, status, month=month, figures=False)


def write(params, status: StatusCheck | None, out_dir: str | Path) -> Written:
    """cost-report.md and its figures when the parameters have an actuals: section, else nothing (n/a)."""
    return write_draft(draft(params, status, out_dir), out_dir)


def write_report(params, out_dir: str | Path, billing: list[str | Path] | None = None, month: str | None = None) -> tuple[CostReport, list[Finding]]:
    """`opslib actuals`: analyse `billing` (default: actuals.billing) for `month` and write the report into out_dir."""
    actuals_section(params, billing)  # no actuals: section and no files: say what to add
    d = draft(params, None, out_dir, billing=billing, month=month)
    write_draft(d, out_dir)
    return d.model, d.findings


def check_written(out_dir: str | Path, params) -> list[Finding]:
    if params.actuals is None:
        return []
    missing = Finding(ITEM, "fail", f"{Path(out_dir) / FILE} is missing; run opslib render or opslib actuals", None, DOC)
    return check_file("cost-report", out_dir, FILE, params, missing)
