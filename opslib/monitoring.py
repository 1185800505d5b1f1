"""Alert thresholds derived from SLOs (multi-window burn rates, Google SRE workbook ch. 5)
plus the resource metrics of data/metrics.yaml."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from .catalog import load_metrics
from .params import ProjectParams, Slo
from .render import number as _fmt

__all__ = ["MetricRow", "BURN_RATES", "slo_rows", "metric_rows", "error_budget_minutes"]

# (burn rate, long window, short window, share of a 30-day budget spent, severity)
BURN_RATES = (
    (14.4, "1 h", "5 min", 2, "page"),
    (6.0, "6 h", "30 min", 5, "page"),
    (1.0, "3 d", "6 h", 10, "ticket"),
)


class MetricRow(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    signal: str
    threshold: str
    window: str
    severity: str
    rationale: str
    action: str


def error_budget_minutes(slo: Slo) -> float:
    return round(slo.window_days * 24 * 60 * (100 - slo.objective) / 100, 1)


def slo_rows(slo: Slo) -> list[MetricRow]:
    budget = round(100 - slo.objective, 6)
    rows = []
    for rate, long_w, short_w, spent, severity in BURN_RATES:
        limit = round(rate * budget, 6)
        if slo.sli == "availability":
            name = f"{slo.name}: 5xx error ratio"
            threshold = f"> {_fmt(limit)}% over {long_w} and over {short_w}"
        else:
            name = f"{slo.name}: share of requests slower than {slo.threshold_ms} ms"
            threshold = f"> {_fmt(limit)}% over {long_w} and over {short_w}"
        rows.append(
            MetricRow(
                name=name,
                signal="errors" if slo.sli == "availability" else "latency",
                threshold=threshold,
                window=f"{long_w} / {short_w}",
                severity=severity,
                rationale=(
                    f"SLO {_fmt(slo.objective)}% over {slo.window_days} days leaves an error budget of {_fmt(budget)}% "
                    f"({_fmt(error_budget_minutes(slo))} min); a {_fmt(rate)}× burn rate spends {spent}% of it in {long_w}"
                ),
                action=(
                    "Page the on-call engineer; follow the Troubleshooting decision tree"
                    if severity == "page"
                    else "Open a ticket for the owning team; review at the next stand-up"
                ),
            )
        )
    return rows


def metric_rows(params: ProjectParams) -> list[MetricRow]:
    """SLO burn-rate rows for every SLO, then the resource metrics that fit the services."""
    rows = [row for slo in params.monitoring.slos for row in slo_rows(slo)]
    kinds = {s.kind for s in params.services}
    for m in load_metrics():
        if kinds & set(m.kinds):
            rows.append(
                MetricRow(
                    name=m.name, signal=m.signal, threshold=m.threshold, window=m.window,
                    severity=m.severity,
                    rationale=m.rationale, action=m.action,
                )
            )
    return rows
