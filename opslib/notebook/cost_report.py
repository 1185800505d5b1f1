"""The notebook side of the cost report (notebooks/15-cost-actuals.ipynb): summary, charts and
an explorer whose drop-downs (month, environment, service) update a table and a chart without
re-running cells. Every number comes from `spend.analyse`, the function the batch run uses.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

from opslib.core.formatting import money
from opslib.documents import cost_report as costreport
from opslib.documents.cost_plan_charts import png_bytes
from opslib.documents.cost_report import render_report
from opslib.documents.cost_report_charts import cumulative_figure, daily_figure, figures
from opslib.documents.spend import analyse, load, month_days, summary_text
from opslib.notebook.common import show_html, show_markdown

__all__ = [
    "ALL",
    "NO_DATA",
    "ActualsExplorer",
    "actuals_explorer",
    "analyse_or_none",
    "service_table_html",
    "show_charts",
    "show_report",
    "show_summary",
    "written_text",
    "summary",
    "explorer",
    "document",
    "write",
]

NO_DATA = ("No billing data configured: the parameters have no `actuals:` section. Add one with `billing:` (FOCUS exports) "
           "to compare actual spend with the cost plan and the budgets, or run `opslib actuals BILLING… --params PARAMS`.")
ALL = "(all)"


def analyse_or_none(params, month: str | None = None):
    """The cost report of a project with an actuals: section, else None."""
    if params.actuals is None:
        return None
    return analyse(params, load(params), month)


def show_summary(params, report) -> None:
    if report is None:
        show_markdown(NO_DATA)
    else:
        show_html("<pre style='white-space:pre-wrap'>" + html.escape(summary_text(report)) + "</pre>")


def show_charts(report) -> None:
    from IPython.display import Image, display

    if report is not None:
        display(*[Image(png_bytes(f)) for f in figures(report).values()])


def show_report(report) -> None:
    show_markdown(render_report(report) if report is not None else NO_DATA)


def written_text(written) -> str:
    if written is None:
        return "Preview only: set `out_dir` (or run `opslib batch`) to write cost-report.md."
    if not written.path.exists():
        return "No billing data configured: nothing to write (cost-report.md is n/a for this project)."
    return f"Wrote `{written.path.name}` and figures/."


def service_table_html(report, month: str, env: str, service: str) -> str:
    """Cost per service (or, for one service, per day) in a month and environment, as an HTML table."""
    start, end = month_days(month)
    d = report.daily
    d = d[(d["day"] >= start) & (d["day"] <= end)]
    if env != ALL:
        d = d[d["env"] == env]
    if service != ALL:
        rows = d[d["service"] == service].groupby("day")["cost"].sum()
        body = "".join(f"<tr><td>{day.isoformat()}</td><td style='text-align:right'>{money(v)}</td></tr>" for day, v in rows.items())
        head = "<tr><th>day</th><th>cost</th></tr>"
        total = float(rows.sum())
    else:
        rows = d.groupby(["service", "category"])["cost"].sum().sort_values(ascending=False)
        body = "".join(f"<tr><td>{html.escape(str(s))}</td><td>{html.escape(str(c))}</td><td style='text-align:right'>{money(v)}</td></tr>"
                       for (s, c), v in rows.items())
        head = "<tr><th>service</th><th>category</th><th>cost</th></tr>"
        total = float(rows.sum())
    title = f"<p><b>{html.escape(env)}, {month}{'' if service == ALL else ', ' + html.escape(service)}: {money(total)}</b></p>"
    return title + f"<table class='opslib-actuals'>{head}{body or '<tr><td>no spend</td></tr>'}</table>"


@dataclass
class ActualsExplorer:
    report: Any
    widget: Any
    month: Any
    env: Any
    service: Any
    table: Any
    chart: Any

    def services(self) -> list[str]:
        start, end = month_days(self.month.value)
        d = self.report.daily
        d = d[(d["day"] >= start) & (d["day"] <= end)]
        if self.env.value != ALL:
            d = d[d["env"] == self.env.value]
        return [ALL] + sorted({str(s) for s in d["service"]})

    def update(self, *_: Any) -> None:
        options = self.services()
        if list(self.service.options) != options:
            keep = self.service.value if self.service.value in options else ALL
            self.service.unobserve(self.update, "value")
            self.service.options = options
            self.service.value = keep
            self.service.observe(self.update, "value")
        self.table.value = service_table_html(self.report, self.month.value, self.env.value, self.service.value)
        envs = None if self.env.value == ALL else [self.env.value]
        if self.service.value == ALL:
            fig = cumulative_figure(self.report, self.month.value, envs, dpi=60)
        else:
            fig = daily_figure(self.report, envs, self.service.value, dpi=60)
        self.chart.value = png_bytes(fig)


def actuals_explorer(report) -> ActualsExplorer:
    """Drop-downs for month, environment and service; a table and a chart that follow them."""
    import ipywidgets as w

    envs = list(dict.fromkeys(e.env for e in report.env_months))
    month = w.Dropdown(options=report.months, value=report.month, description="month")
    env = w.Dropdown(options=[ALL] + envs, value=ALL, description="environment")
    service = w.Dropdown(options=[ALL], value=ALL, description="service")
    table = w.HTML()
    chart = w.Image(format="png")
    box = w.VBox([w.HBox([month, env, service]), w.HBox([table, chart])])
    ex = ActualsExplorer(report, box, month, env, service, table, chart)
    for dd in (month, env, service):
        dd.observe(ex.update, "value")
    ex.update()
    return ex


# --- the notebook's views (Session.show) -----------------------------------------------------------


def _draft(s):
    if "actuals-draft" not in s.cache:
        s.cache["actuals-draft"] = costreport.draft(s.params, s.status)
    return s.cache["actuals-draft"]


def summary(s) -> None:
    show_summary(s.params, _draft(s).model)


def explorer(s) -> None:
    """Month, environment and service drop-downs (interactive sessions with billing data)."""
    from IPython.display import display

    report = _draft(s).model
    if s.interactive and report is not None:
        display(actuals_explorer(report).widget)


def document(s) -> None:
    d = _draft(s)
    if d.text is None:
        show_markdown(NO_DATA)
    else:
        s.document(d)


def write(s):
    return costreport.write(s.params, s.status, s.out_dir)
