"""Cost-plan charts (matplotlib's object API: no pyplot, no backend switch, so importing
this module leaves a notebook's inline charts alone): breakdown, distribution of the total, budget.

`figures(plan)` returns the three matplotlib figures (the notebook shows them);
`figure_files(plan)` gives them as PNG files (figures/…) without dates in the metadata, so
the same plan gives the same bytes.
"""

from __future__ import annotations

import io

import numpy as np
from matplotlib.figure import Figure

__all__ = ["COLOURS", "FIGURES", "figure_files", "figures", "png_bytes", "breakdown_figure", "distribution_figure", "budget_figure"]

COLOURS = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac", "#86bcb6", "#d37295"]
METADATA = {"Software": None}
FIGURES = {"breakdown": "figures/cost-breakdown.png", "distribution": "figures/cost-distribution.png", "budget": "figures/cost-budget.png"}


def breakdown_figure(plan, dpi: int = 100):
    fig = Figure(figsize=(7, 3.6), dpi=dpi)
    ax = fig.subplots()
    envs = [e.name for e in plan.envs]
    cats = plan.categories
    bottom = np.zeros(len(envs))
    for i, cat in enumerate(cats):
        vals = np.array([sum(ln.cost[1] for ln in plan.lines if ln.cost and ln.category == cat and ln.environment == e) for e in envs])
        ax.bar(envs, vals, bottom=bottom, label=cat, color=COLOURS[i % len(COLOURS)])
        bottom += vals
    ax.set_ylabel("USD / month (expected)")
    ax.set_title(f"{plan.project.name}: monthly cost by category and environment")
    ax.legend(fontsize=7, loc="upper left", ncol=2, frameon=False)
    _layout(fig, dpi)
    return fig


def distribution_figure(plan, dpi: int = 100):
    fig = Figure(figsize=(7, 3.2), dpi=dpi)
    ax = fig.subplots()
    ax.hist(plan.samples, bins=40, color="#4e79a7", alpha=0.8)
    for value, label, style in ((plan.p10, "P10", ":"), (plan.p50, "P50", "-"), (plan.p90, "P90", ":"), (plan.low, "low", "--"), (plan.high, "high", "--")):
        ax.axvline(value, color="#333333", linestyle=style, linewidth=1)
        ax.text(value, ax.get_ylim()[1] * 0.95, f" {label}", fontsize=7, va="top")
    ax.set_xlabel("total USD / month (all environments)")
    ax.set_ylabel("samples")
    ax.set_title("Range of the total monthly cost (Monte Carlo)")
    _layout(fig, dpi)
    return fig


def budget_figure(plan, dpi: int = 100):
    fig = Figure(figsize=(7, 3.2), dpi=dpi)
    ax = fig.subplots()
    envs = [e.name for e in plan.envs]
    x = np.arange(len(envs))
    exp = [e.expected for e in plan.envs]
    err = [[e.expected - e.low for e in plan.envs], [e.high - e.expected for e in plan.envs]]
    ax.bar(x, exp, color="#4e79a7", yerr=err, capsize=4, label="expected (low–high)")
    ax.scatter(x, [e.worst_case for e in plan.envs], marker="v", color="#e15759", zorder=3, label="worst case at max scale")
    for i, e in enumerate(plan.envs):
        for t in plan.thresholds:
            ax.hlines(e.budget * t / 100, i - 0.4, i + 0.4, colors="#333333" if t >= 100 else "#f28e2b", linestyles="-" if t >= 100 else "--", linewidth=1)
    ax.set_xticks(x, envs)
    ax.set_ylabel("USD / month")
    ax.set_title("Estimate vs. budget (lines: alert thresholds " + "/".join(f"{t}%" for t in plan.thresholds) + ")")
    ax.legend(fontsize=7, frameon=False)
    _layout(fig, dpi)
    return fig


def _layout(fig, dpi: int) -> None:
    """tight_layout for documents; fixed margins for the explorer's quick low-resolution previews."""
    if dpi >= 100:
        fig.tight_layout()
    else:
        fig.subplots_adjust(left=0.1, right=0.98, bottom=0.15, top=0.9)


def figures(plan, dpi: int = 100) -> dict:
    """The three charts; dpi below 100 gives the explorer's fast previews."""
    return {"breakdown": breakdown_figure(plan, dpi), "distribution": distribution_figure(plan, dpi), "budget": budget_figure(plan, dpi)}


def png_bytes(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata=METADATA)
    return buf.getvalue()


def figure_files(plan) -> dict[str, bytes]:
    """The charts as PNG files, by their path relative to the document (FIGURES)."""
    return {FIGURES[key]: png_bytes(fig) for key, fig in figures(plan).items()}
