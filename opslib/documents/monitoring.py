"""Alerts: the one source of the runbook's "Key metrics and alert thresholds" table and of
alerts.yml (opslib.alert), so the two never drift.

    alert_specs(params)  -> list[AlertSpec]   SLO burn-rate alerts, then the service alerts
    metric_rows(params)  -> list[MetricRow]   the same alerts as runbook table rows
    unmonitored(params)  -> list[Unmonitored] service alerts the platform cannot have, with the reason
    burn_rate(spend_pct, period_days, long_hours) -> float

SLO alerts are multi-window, multi-burn-rate alerts (Google SRE Workbook, "Alerting on
SLOs"): each tier spends a share of the error budget within its long window; the burn rate
is that share × period ÷ window, so a 30-day SLO gets 14.4× / 6× / 1× and a 28-day SLO
13.44× / 5.6× / 0.93×. Service alerts (error rate, p95 latency, CPU, memory, restarts) are
defined in opslib/data/metrics.yaml; their expressions on the platform's own metrics, and the
platform's own alerts, come from its folder's alerts.yaml.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from opslib.catalog.loaders import AlertDefinition
from opslib.check.facts import anchor_slug
from opslib.core.cron import max_interval_minutes, parse_cron
from opslib.core.formatting import number as _fmt
from opslib.core.templates import render_string
from opslib.documents.commands import resolve_targets
from opslib.params.ci import DEFAULT as CI_DEFAULT
from opslib.params.knowledge import merged
from opslib.params.models import WINDOW, ProjectParams, Service, Slo

__all__ = ["production_approvers", "MetricRow", "AlertSpec", "Unmonitored", "BUDGET_POLICY", "burn_rate", "slo_alerts", "alert_specs", "metric_rows",
           "unmonitored", "error_budget_minutes", "runbook_url", "ci_of", "selector", "latency_threshold_ms", "missing_bucket", "slo_text", "camel"]



def runbook_url(alert: str) -> str:
    """The runbook section of one alert (the runbook gives every alert a heading of its name)."""
    return f"runbook.md#{anchor_slug(alert)}"


# (share of the error budget spent, long window, short window, severity) — SRE Workbook table 5-8
BUDGET_POLICY = (
    (2, "1h", "5m", "page"),
    (5, "6h", "30m", "page"),
    (10, "3d", "6h", "ticket"),
)
_HOURS = {"m": 1 / 60, "h": 1, "d": 24}
_WORDS = {"m": "min", "h": "h", "d": "d"}


class MetricRow(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    signal: str
    threshold: str
    window: str
    severity: str
    rationale: str
    action: str
    alert: str = ""


class AlertSpec(BaseModel):
    """One alert: what alerts.yml writes and what the runbook's Monitoring table shows."""

    model_config = ConfigDict(frozen=True)

    alert: str
    name: str
    signal: str
    severity: Literal["page", "ticket"]
    expr: str
    for_: str
    window: str
    threshold: str
    rationale: str
    action: str
    labels: dict[str, str] = Field(default_factory=dict)
    # for the promtool unit tests: the ratio that must fire / stay silent (SLO alerts)
    limit: float | None = None
    slo: str | None = None
    sli: str | None = None
    kinds: tuple[str, ...] = ("web", "worker", "job")  # the service kinds it watches (deployment plans pick their gates by kind)
    origin: str = ""  # where a team's own alert is written (knowledge:), for error messages
    dependency: str | None = None  # the third-party dependency (its name) an upstream alert watches


class Unmonitored(BaseModel):
    """A service alert the platform cannot have, and why (its alerts.yaml `unsupported`)."""

    model_config = ConfigDict(frozen=True)

    alert: str
    name: str
    reason: str


def ci_of(params: ProjectParams):
    """The ci: section, or its defaults when the parameters have none."""
    return getattr(params, "ci", None) or CI_DEFAULT


def production_approvers(params: ProjectParams) -> tuple[list[str], str]:
    """Who approves a deploy to an environment that requires approval, and where that comes from
    (one rule for pipeline.md's approval gate and the deployment plan's approvers gate)."""
    ci = ci_of(params)
    if ci.production_approvers:
        return list(ci.production_approvers), "ci.production_approvers"
    return [f"Engineering manager, {params.project.team}"], "default of pipeline.md's approval gate (set ci.production_approvers to name them)"


def selector(params: ProjectParams) -> str:
    """PromQL label matchers of the production service."""
    return ci_of(params).alert_selector or f'job="{params.project.name}"'


def _hours(window: str) -> float:
    return int(window[:-1]) * _HOURS[window[-1]]


def _words(window: str) -> str:
    return f"{window[:-1]} {_WORDS[window[-1]]}"


def burn_rate(spend_pct: float, period_days: int, long_window: str) -> float:
    """Burn rate that spends `spend_pct` % of a `period_days` error budget in `long_window`."""
    return round(spend_pct / 100 * period_days * 24 / _hours(long_window), 6)


def error_budget_minutes(slo: Slo) -> float:
    return round(slo.window_days * 24 * 60 * (100 - slo.objective) / 100, 1)


def camel(text: str) -> str:
    """'checkout availability' → 'CheckoutAvailability' (alert names)."""
    words = re.findall(r"[A-Za-z0-9]+", text)
    out = "".join(w[:1].upper() + w[1:] for w in words)
    return out if out[:1].isalpha() else "Slo" + out


def _num(x: float) -> str:
    return format(round(x, 10), ".10g")


def _seconds(ms: int) -> str:
    return _num(ms / 1000)


def missing_bucket(params: ProjectParams, slo: Slo) -> str | None:
    """The histogram bucket a latency SLO needs and the services do not expose (le in seconds), else None."""
    if slo.sli != "latency" or slo.latency_ms in params.monitoring.latency_buckets_ms:
        return None
    return _seconds(slo.latency_ms)


def slo_text(slo: Slo) -> str:
    """What the objective promises, in words."""
    if slo.sli == "availability":
        what = "succeed (non-5xx)"
    elif slo.sli == "latency":
        what = f"complete within {slo.latency_ms} ms"
    else:
        what = "are good (good ÷ total of its own expressions)"
    return f"{_fmt(slo.objective)}% of {slo.events} {what} over {slo.window_days} days"


def _bad_ratio(slo: Slo, sel: str, window: str) -> str:
    if slo.sli == "availability":
        return (f'sum(rate(http_requests_total{{{sel},code=~"5.."}}[{window}]))'
                f' / sum(rate(http_requests_total{{{sel}}}[{window}]))')
    if slo.sli == "latency":
        return (f'(1 - sum(rate(http_request_duration_seconds_bucket{{{sel},le="{_seconds(slo.latency_ms)}"}}[{window}]))'
                f' / sum(rate(http_request_duration_seconds_count{{{sel}}}[{window}])))')
    good, total = (" ".join(WINDOW.sub(window, e or "").split()) for e in (slo.good, slo.total))
    return f"(1 - ({good}) / ({total}))"


def slo_alerts(slo: Slo, sel: str) -> list[AlertSpec]:
    budget = round(100 - slo.objective, 6)
    out = []
    for spend, long_w, short_w, severity in BUDGET_POLICY:
        rate = burn_rate(spend, slo.window_days, long_w)
        limit_pct = round(rate * budget, 6)
        limit = round(limit_pct / 100, 10)
        if slo.sli == "availability":
            name = f"{slo.name}: 5xx error ratio"
        elif slo.sli == "latency":
            name = f"{slo.name}: share of requests slower than {slo.latency_ms} ms"
        else:
            name = f"{slo.name}: share of {slo.events} that are not good"
        expr = f"({_bad_ratio(slo, sel, long_w)} > {_num(limit)}) and ({_bad_ratio(slo, sel, short_w)} > {_num(limit)})"
        out.append(AlertSpec(
            alert=f"{camel(slo.name)}BudgetBurn{long_w}",
            name=name,
            signal="latency" if slo.sli == "latency" else "errors",
            severity=severity,
            expr=expr,
            for_="2m" if severity == "page" else "15m",
            window=f"{_words(long_w)} / {_words(short_w)}",
            threshold=f"> {_fmt(limit_pct)}% over {_words(long_w)} and over {_words(short_w)}",
            rationale=(
                f"SLO {_fmt(slo.objective)}% over {slo.window_days} days leaves an error budget of {_fmt(budget)}% "
                f"({_fmt(error_budget_minutes(slo))} min); a {_fmt(rate)}× burn rate spends {spend}% of it in {_words(long_w)}"
            ),
            action=(
                "Page the on-call engineer; follow the Troubleshooting decision tree"
                if severity == "page"
                else "Open a ticket for the owning team; review at the next stand-up"
            ),
            labels={"slo": slo.name, "burn_rate": _fmt(rate)},
            limit=limit,
            slo=slo.name,
            sli=slo.sli,
            kinds=("web",) if slo.sli != "custom" else ("web", "worker", "job"),
        ))
    return out


def _latency(params: ProjectParams) -> tuple[int, str] | None:
    ci = ci_of(params)
    if ci.latency_baseline_ms:
        return 2 * ci.latency_baseline_ms, f"Set to 2× the p95 baseline of {ci.latency_baseline_ms} ms (ci.latency_baseline_ms)"
    lat = [s for s in params.monitoring.slos if s.sli == "latency"]
    if not any(s.kind == "web" for s in params.services):
        return None
    if not lat:
        return None
    slo = next((s for s in lat if s.objective == 95), lat[0])
    return slo.latency_ms, f"Set to the threshold of the latency SLO {slo.name!r} ({slo.latency_ms} ms)"


def latency_threshold_ms(params: ProjectParams) -> int | None:
    """The p95 latency above which HighLatencyP95 fires (and a canary step fails), in ms; None
    without a latency SLO or ci.latency_baseline_ms."""
    lat = _latency(params)
    return lat[0] if lat else None


def _context(params: ProjectParams) -> dict:
    env = params.production
    platform = params.catalog.platform(params.platform)
    target = resolve_targets(params, env, platform)
    lat = _latency(params)
    return {
        "ci": ci_of(params), "sel": selector(params), "target": target, "env": env, "project": params.project,
        "latency_ms": lat[0] if lat else None, "latency_s": _seconds(lat[0]) if lat else None,
        "latency_basis": lat[1] if lat else None,
        "constants": platform.alerts.constants,
    }


def _service_alerts(params: ProjectParams) -> list[tuple[AlertDefinition, str | None, str | None]]:
    """(definition, expression, reason it is unsupported) of every service alert that fits the
    project's service kinds: the shared ones, then the platform's own."""
    platform = params.catalog.platform(params.platform)
    kinds = {s.kind for s in params.services}
    out: list[tuple[AlertDefinition, str | None, str | None]] = []
    for m in params.catalog.alert_definitions():
        mine = platform.alerts.alerts.get(m.alert)
        if kinds & set(m.kinds):  # the platform folder was refused at load if it left an alert out
            out.append((m, mine.expr if mine else m.expr, mine.unsupported if mine else None))
    out += [(m, m.expr, None) for m in platform.alerts.extra if kinds & set(m.kinds)]
    return out


def _per_context(params: ProjectParams, m: AlertDefinition, s: Service, ctx: dict) -> dict:
    local = dict(ctx, service=s, queue=None, max_gap_s=0, timeout_s=0)
    if m.per == "worker" and s.consumes:
        ds = next(d for d in params.datastores if d.name == s.consumes)
        local["queue"] = ds.resource_for(params.project.name, params.production.name)
    if m.per == "job" and s.schedule:
        local["max_gap_s"] = (max_interval_minutes(parse_cron(s.schedule)) or 0) * 60
        local["timeout_s"] = s.job_timeout_minutes * 60
    return local


def _per_expr(params: ProjectParams, m: AlertDefinition, s: Service, default: str | None) -> str | None:
    """A per-worker alert on the consumed queue's own metrics (datastores.yaml), else the platform's or the shared expression."""
    if m.per == "worker" and s.consumes:
        ds = next(d for d in params.datastores if d.name == s.consumes)
        own = params.catalog.datastore_services()[ds.service].alerts.get(m.alert)
        if own is not None:
            return own.expr
    return default


def _spec(m: AlertDefinition, expr: str, ctx: dict, where: str, alert: str, kinds: tuple[str, ...], origin: str = "") -> AlertSpec:
    return AlertSpec(
        alert=alert, name=render_string(m.name, ctx, where), signal=m.signal, severity=m.severity,
        expr=" ".join(render_string(expr, ctx, where).split()),
        for_=m.for_, window=m.window,
        threshold=render_string(m.threshold, ctx, where),
        rationale=" ".join(render_string(m.rationale, ctx, where).split()),
        action=render_string(m.action, ctx, where), kinds=kinds, origin=origin,
    )


def _dependency_alerts(params: ProjectParams) -> list[AlertSpec]:
    out = []
    for d in params.dependencies:
        if d.metrics is None:
            continue
        users = ", ".join(d.services)
        if d.metrics.error_ratio:
            out.append(AlertSpec(
                alert=f"Upstream{camel(d.name)}Errors", name=f"{d.title}: share of failed calls", signal="errors", severity="page",
                expr=f"({' '.join(d.metrics.error_ratio.split())}) > {_num(d.metrics.error_pct / 100)}", for_="5m", window="5 min",
                threshold=f"> {_fmt(d.metrics.error_pct)}% of calls for 5 min",
                rationale=(f"{users} depend{'s' if len(d.services) == 1 else ''} on {d.title} for {d.purpose}; a sustained failure share beyond the retries "
                           f"({d.retries}) reaches users unless the fallback holds"),
                action=f"Check the {d.title} status and follow Troubleshooting → '{d.title} unavailable or failing'; the fallback: {d.fallback}",
                dependency=d.name,
            ))
        if d.metrics.latency_p95_seconds:
            limit = d.latency_alert_ms
            out.append(AlertSpec(
                alert=f"Upstream{camel(d.name)}Latency", name=f"{d.title}: p95 call duration", signal="latency", severity="ticket",
                expr=f"({' '.join(d.metrics.latency_p95_seconds.split())}) > {_seconds(limit)}", for_="10m", window="10 min",
                threshold=f"> {limit} ms for 10 min",
                rationale=(f"the client timeout is {d.timeout_ms} ms; a p95 beyond {limit} ms means calls are close to timing out "
                           "and retries multiply the load"),
                action=f"Follow Troubleshooting → '{d.title} slow'; check {d.status_page or d.support}",
                dependency=d.name,
            ))
    return out


def alert_specs(params: ProjectParams) -> list[AlertSpec]:
    """Every alert of the project: SLO burn-rate alerts for every SLO, the service alerts that fit
    its service kinds and platform, one set per worker and per scheduled job, the upstream alerts
    of its dependencies, then the team's own alerts (knowledge:)."""
    sel = selector(params)
    out = [a for slo in params.monitoring.slos for a in slo_alerts(slo, sel)]
    ctx = _context(params)
    platform = params.catalog.platform(params.platform)
    where = f"opslib/data/metrics.yaml and {platform.label}/alerts.yaml"
    for m, expr, _unsupported in _service_alerts(params):
        if expr is None:
            continue
        if m.per is not None:
            for s in (x for x in params.services if x.kind == m.per):
                local = _per_context(params, m, s, ctx)
                chosen = _per_expr(params, m, s, expr)
                if chosen is not None:
                    out.append(_spec(m, chosen, local, where, f"{m.alert}{camel(s.name)}", (m.per,)))
            continue
        if m.alert == "HighLatencyP95" and ctx["latency_ms"] is None:
            continue
        out.append(_spec(m, expr, ctx, where, m.alert, tuple(m.kinds)))
    out += _dependency_alerts(params)
    own = merged(params)
    for i, a in enumerate(own.alerts):
        out.append(_spec(a, a.expr, ctx, f"knowledge.alerts[{i}] ({a.alert})", a.alert, tuple(a.kinds), origin=f"knowledge.alerts[{i}]"))
    return out


def unmonitored(params: ProjectParams) -> list[Unmonitored]:
    """The service alerts the project's platform cannot have (alerts.yaml `unsupported`), with the reason."""
    return [Unmonitored(alert=m.alert, name=m.name if m.per is None else m.alert, reason=" ".join(reason.split()))
            for m, _expr, reason in _service_alerts(params) if reason is not None]


def metric_rows(params: ProjectParams, specs: list[AlertSpec] | None = None) -> list[MetricRow]:
    """The runbook's Monitoring table: exactly the alerts of alerts.yml (`specs`, when the caller has them)."""
    return [
        MetricRow(name=a.name, signal=a.signal, threshold=a.threshold, window=a.window, severity=a.severity,
                  rationale=a.rationale, action=a.action, alert=a.alert)
        for a in (alert_specs(params) if specs is None else specs)
    ]
