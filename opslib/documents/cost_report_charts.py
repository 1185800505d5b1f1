"""Cost-report charts (matplotlib's object API, no pyplot): cumulative spend against budget, estimate vs. actual by
category, daily cost with anomalies. PNGs are written without dates in the metadata, so the
same report gives the same bytes (like costchart.py).
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np
from matplotlib.figure import Figure

from opslib.documents.cost_plan_charts import COLOURS, png_bytes
from opslib.documents.spend import month_days, series

__all__ = ["FIGURES", "categories_figure", "cumulative_figure", "daily_figure", "figure_files", "figures"]


FIGURES = {"cumulative": "figures/cost-actuals-cumulative.png", "categories": "figures/cost-actuals-categories.png",
           "daily": "figures/cost-actuals-daily.png"}


def cumulative_figure(report, month: str | None = None, envs: list[str] | None = None, dpi: int = 100):
    """Cumulative actual per environment in the month, the forecast to month end, the budget and thresholds."""
    rows = [e for e in report.month_envs(month) if envs is None or e.env in envs]
    fig = Figure(figsize=(3.2 * max(1, len(rows)) + 0.6, 3.2), dpi=dpi)
    axes = fig.subplots(1, max(1, len(rows)), squeeze=False)
    for ax, e in zip(axes[0], rows, strict=False):  # one axis when there are no rows
        start, end = month_days(e.month)
        vals = series(report.daily[report.daily["env"] == e.env], start, min(e.last_day, end))
        days = np.arange(1, len(vals) + 1)
        ax.plot(days, np.cumsum(vals), color="#4e79a7", label="actual")
        if not e.complete:
            ax.plot([len(vals), end.day], [e.actual, e.forecast], color="#4e79a7", linestyle="--", label="forecast")
        for t in report.thresholds:
            ax.axhline(e.budget * t / 100, color="#333333" if t >= 100 else "#f28e2b", linestyle="-" if t >= 100 else ":", linewidth=1)
            ax.text(1, e.budget * t / 100, f"{t}%", fontsize=6, va="bottom")
        for c in e.crossed:
            ax.plot([c.day.day], [c.amount], marker="o", color="#e15759", markersize=4)
        ax.set_xlim(1, end.day)
        ax.set_title(f"{e.env}: {e.pct:.0f}% of budget", fontsize=8)
        ax.set_xlabel(f"day of {e.month}", fontsize=7)
        ax.tick_params(labelsize=6)
    axes[0][0].set_ylabel("USD (cumulative)", fontsize=7)
    axes[0][0].legend(fontsize=6, frameon=False, loc="upper left")
    fig.suptitle(f"{report.project.name}: spend against budget, {month or report.month}", fontsize=9)
    fig.tight_layout()
    return fig


def categories_figure(report, month: str | None = None, dpi: int = 100):
    """Estimate (expected, low–high) against actual or forecast per cost category."""
    rows = [r for r in report.variance if r.month == (month or report.month)]
    fig = Figure(figsize=(7, 3.2), dpi=dpi)
    ax = fig.subplots()
    x = np.arange(len(rows))
    exp = [r.expected or 0 for r in rows]
    err = [[(r.expected or 0) - (r.low or 0) for r in rows], [(r.high or 0) - (r.expected or 0) for r in rows]]
    ax.bar(x - 0.2, exp, 0.4, yerr=err, capsize=3, color="#bab0ac", label="estimate (expected, low–high)")
    ax.bar(x + 0.2, [r.actual for r in rows], 0.4, color=["#59a14f" if r.within else "#e15759" if r.within is False else "#4e79a7" for r in rows],
           hatch=["//" if r.basis == "forecast" else "" for r in rows], label="actual (hatched: forecast); red: outside target")
    ax.set_xticks(x, [r.category for r in rows], fontsize=7)
    ax.set_ylabel("USD / month")
    ax.set_title(f"Estimate vs. actual by category, {month or report.month} (target ±{report.target_pct:g}%)", fontsize=9)
    ax.legend(fontsize=6, frameon=False)
    fig.tight_layout()
    return fig


def daily_figure(report, envs: list[str] | None = None, service: str | None = None, dpi: int = 100):
    """Daily cost per environment over the whole data, anomalies marked."""
    fig = Figure(figsize=(7, 3.2), dpi=dpi)
    ax = fig.subplots()
    frame = report.daily if service is None else report.daily[report.daily["service"] == service]
    names = [e for e in dict.fromkeys(e.env for e in report.env_months) if envs is None or e in envs]
    n = (report.last_day - report.first_day).days + 1
    days = [report.first_day + timedelta(days=i) for i in range(n)]
    for i, env in enumerate(names):
        ax.plot(days, series(frame[frame["env"] == env], report.first_day, report.last_day), color=COLOURS[i % len(COLOURS)], label=env, linewidth=1)
    for a in report.anomalies:
        if a.env in names and service is None:
            ax.plot([a.day], [a.cost], marker="o", color="#e15759", markersize=6, fillstyle="none")
            ax.annotate(a.day.isoformat(), (a.day, a.cost), fontsize=6, xytext=(3, 3), textcoords="offset points")
    ax.set_ylabel("USD / day")
    ax.set_title("Daily cost" + (f" of {service}" if service else "") + " (circles: anomalies)", fontsize=9)
    ax.legend(fontsize=6, frameon=False)
    ax.tick_params(labelsize=6)
    fig.autofmt_xdate()
    fig.tight_layout()
    return fig


def figures(report, dpi: int = 100) -> dict:
    return {"cumulative": cumulative_figure(report, dpi=dpi), "categories": categories_figure(report, dpi=dpi), "daily": daily_figure(report, dpi=dpi)}


def figure_files(report) -> dict[str, bytes]:
    """The charts as PNG files, by their path relative to the report (FIGURES)."""
    return {FIGURES[key]: png_bytes(fig) for key, fig in figures(report).items()}
