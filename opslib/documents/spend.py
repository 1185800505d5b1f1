"""Actual spend: FOCUS billing exports against the cost plan and the budgets — the analysis
behind cost-report.md (opslib.documents.cost_report renders and writes it).

    load(params, billing=None)                 -> Billing     (opslib.documents.billing: DuckDB, only aggregates in pandas)
    attribute(params, billing)                 -> DataFrame   day, env, how, service, category, cost
    analyse(params, billing, month=None)       -> CostReport  budget vs. actual, forecast, thresholds, variance, anomalies
    detect_anomalies(series, ...)              -> [(day, cost, baseline, z)]   (pure: same-weekday median, robust z)
    summary_text(report) / summary_json(report)               what `opslib actuals` prints

Decisions:
- The actual is EffectiveCost (amortized; `actuals.cost_column` switches to BilledCost).
- Attribution: a row is the project's when its project tag names the project, or it has no
  project tag and its account or service is mapped; its environment is the environment tag (a
  name or an alias), else the account's, else the service's. A row tagged for another project
  is reported as such; spend of the project without an environment and spend nobody claims
  are reported, never dropped.
- Month-end forecast = actual to date + run rate × days left, the run rate being the mean
  daily cost of the last 7 days of data (whole weeks, so weekends do not skew it).
- A threshold is crossed on the first day the cumulative actual reaches it; a threshold the
  forecast reaches is shown with the projected day.
- Variance per cost category of the plan (FOCUS ServiceCategory mapped by
  opslib/data/focus-categories.yaml), per month, against the expected estimate; a month still
  running compares its forecast. Categories that are never billed (maintenance) are left out.
- Anomaly: a day whose cost is more than `z_threshold` robust deviations from the median of
  the same weekday over the trailing `history_days` (scale: 1.4826 × MAD of the trailing
  days' deviations from their own weekday medians, at least 5% of the baseline), and at least
  `min_usd` away. The services whose cost moved most on that day are its drivers.
- `opslib actuals` exits 1 when an environment's actual spend reached 100% of its budget in
  the month reported (like `cost-diff` on a breach), 2 on bad input, else 0.
"""

from __future__ import annotations

import calendar
import math
import os
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from opslib.core.formatting import money
from opslib.documents import cost_plan
from opslib.documents.billing import categories_catalog, read_billing
from opslib.errors import InputError
from opslib.params.actuals import ActualsSection
from opslib.params.dependencies import cost_items as dependency_cost_items

__all__ = [
    "HOW", "NO_ENV", "OTHER", "UNCLAIMED", "Anomaly", "CostReport", "Crossing", "EnvMonth", "VarianceRow", "actuals_section",
    "analyse", "attribute", "default_section", "detect_anomalies", "load", "month_days", "month_of", "series",
    "summary_json", "summary_text",
]

HOW = {"tag": "project tag", "account": "account mapping (actuals.accounts)", "service": "service mapping (actuals.services)"}
NO_ENV = "project, no environment"
UNCLAIMED = "not attributed"
OTHER = "other projects"


@dataclass(frozen=True)
class Crossing:
    threshold_pct: int
    amount: float
    day: date | None  # crossed on (actual)
    projected: date | None  # forecast to cross on (not crossed yet)


@dataclass(frozen=True)
class EnvMonth:
    env: str
    month: str
    budget: float
    limit: str
    actual: float
    last_day: date
    days_in_month: int
    run_rate: float
    forecast: float
    complete: bool
    crossings: tuple[Crossing, ...]

    @property
    def pct(self) -> float:
        return 100 * self.actual / self.budget

    @property
    def forecast_pct(self) -> float:
        return 100 * self.forecast / self.budget

    @property
    def days_left(self) -> int:
        """Days of the month after the last day with data."""
        return self.days_in_month - self.last_day.day

    @property
    def crossed(self) -> list[Crossing]:
        return [c for c in self.crossings if c.day is not None]

    @property
    def over_budget(self) -> bool:
        return self.actual >= self.budget

    @property
    def status(self) -> str:
        if self.over_budget:
            return f"over the {self.limit} limit"
        if self.crossed:
            return f"{self.crossed[-1].threshold_pct}% alert"
        projected = [(c.threshold_pct, c.projected) for c in self.crossings if c.projected is not None]
        if projected:
            pct, day = projected[0]
            return f"forecast reaches {pct}% on {day.isoformat()}"
        return "within budget"


@dataclass(frozen=True)
class VarianceRow:
    month: str
    category: str
    low: float | None
    expected: float | None
    high: float | None
    actual: float
    basis: str  # actual | forecast
    variance_pct: float | None
    target_pct: float

    @property
    def within(self) -> bool | None:
        return None if self.variance_pct is None else abs(self.variance_pct) < self.target_pct

    @property
    def verdict(self) -> str:
        if self.variance_pct is None:
            return "not in the estimate" if self.expected in (None, 0) else "n/a"
        return "within target" if self.within else "outside target"


@dataclass(frozen=True)
class Anomaly:
    day: date
    env: str
    cost: float
    baseline: float
    z: float
    drivers: tuple[tuple[str, float], ...]
    until: date | None = None  # last day of a run of consecutive anomalous days (same direction)
    days: int = 1

    @property
    def driver_text(self) -> str:
        return ", ".join(f"{s} ({'+' if d >= 0 else '−'}{money(abs(d))})" for s, d in self.drivers) or "no single service"


@dataclass
class CostReport:
    project: Any
    as_of: str
    first_day: date
    last_day: date
    month: str
    months: list[str]
    files: list[str]
    rows: int
    notes: list[str]
    cost_column: str
    thresholds: list[int]
    target_pct: float
    env_months: list[EnvMonth]
    variance: list[VarianceRow]
    month_totals: list[VarianceRow]
    anomalies: list[Anomaly]
    anomaly_rule: str
    anomaly_history: str
    attribution: list[tuple[str, str, float, int]]  # (who, how, cost, rows)
    unbilled: list[tuple[str, float]]
    daily: Any = None  # attributed frame (for charts and the notebook)
    figures: dict[str, str] = field(default_factory=dict)

    def month_envs(self, month: str | None = None) -> list[EnvMonth]:
        m = month or self.month
        return [e for e in self.env_months if e.month == m]

    @property
    def over_budget(self) -> list[EnvMonth]:
        return [e for e in self.month_envs() if e.over_budget]

    @property
    def first_months(self) -> list[VarianceRow]:
        return self.month_totals[:3]

    @property
    def target_summary(self) -> str:
        rows = [r for r in self.first_months if r.variance_pct is not None]
        if not rows:
            return "not measured: no estimate to compare with"
        met = sum(bool(r.within) for r in rows)
        return f"met in {met} of {len(rows)} month(s)" + ("" if met == len(rows) else " — review the cost drivers below")

    @property
    def selected_variance(self) -> list[VarianceRow]:
        return [r for r in self.variance if r.month == self.month]

    @property
    def crossings(self) -> list[tuple[EnvMonth, Crossing]]:
        return [(e, c) for e in self.month_envs() for c in e.crossings if c.day or c.projected]


# --- loading and attribution -------------------------------------------------------------


def default_section(billing: list[str]):
    """The actuals section used when a project has none and files are given on the command line."""
    return ActualsSection(billing=[str(b) for b in billing])


def actuals_section(params, billing: list[str | Path] | None = None):
    act = params.actuals
    if act is None:
        if not billing:
            raise InputError(f"{params.path or 'parameters'}: actuals: missing; add an actuals: section with billing: [files] or pass the billing exports on the command line.")
        return default_section([str(b) for b in billing]), [Path(b) for b in billing]
    paths = [Path(b) for b in billing] if billing else [params.base_dir / b for b in act.billing]
    return act, paths


def load(params, billing: list[str | Path] | None = None):
    """Read the project's billing exports (or `billing`, overriding actuals.billing)."""
    act, paths = actuals_section(params, billing)
    return read_billing(paths, act.tags.project, act.tags.environment, act.cost_column)


def _canonical(values, weights) -> dict[str, str]:
    """lower-case value → its most frequent spelling (ties: the alphabetically first)."""
    counts: dict[tuple[str, str], int] = {}
    for v, w in zip(values, weights, strict=True):
        if v is None or (isinstance(v, float) and math.isnan(v)):
            continue
        key = (str(v).lower(), str(v))
        counts[key] = counts.get(key, 0) + int(w)
    best: dict[str, str] = {}
    for (k, v), _n in sorted(counts.items(), key=lambda x: (-x[1], x[0][1])):
        best.setdefault(k, v)
    return best


def attribute(params, billing, section=None):
    """One row per (day, env, how, service, category) with its cost; env is the environment name,
    NO_ENV, UNCLAIMED or OTHER."""
    import pandas as pd

    act = section or actuals_section(params, billing.files)[0]
    d = billing.daily.copy()
    d = d[d["day"].notna() & d["cost"].notna()]
    envs = {e.name.lower(): e.name for e in params.environments}
    aliases = {k.lower(): v for k, v in act.environment_aliases.items()}
    accounts = {str(k).lower(): v for k, v in act.accounts.items()}
    services = {str(k).lower(): v for k, v in act.services.items()}
    ours = (act.project_tag_value or params.project.name).lower()
    svc_names = _canonical(d["service"].tolist(), d["rows"].tolist())

    def lower(x):
        return None if x is None or (isinstance(x, float) and math.isnan(x)) else str(x).strip().lower()

    out_env, out_how = [], []
    for ptag, etag, acct, svc in zip(d["project_tag"], d["env_tag"], d["account"], d["service"], strict=True):
        ptag, etag, acct, svc = lower(ptag), lower(etag), lower(acct), lower(svc)
        if ptag and ptag != ours:
            out_env.append(OTHER)
            out_how.append("project tag of another project")
            continue
        by_acct, by_svc = accounts.get(acct or ""), services.get(svc or "")
        if not ptag and not by_acct and not by_svc:
            out_env.append(UNCLAIMED)
            out_how.append("no project tag, account or service mapping")
            continue
        env = envs.get(etag or "") or aliases.get(etag or "")
        if env:
            out_env.append(env)
            out_how.append("tag" if ptag else ("account" if by_acct else "service"))
        elif by_acct:
            out_env.append(by_acct)
            out_how.append("account")
        elif by_svc:
            out_env.append(by_svc)
            out_how.append("service")
        else:
            out_env.append(NO_ENV)
            out_how.append("project tag without environment tag")
    frame = pd.DataFrame({
        "day": pd.to_datetime(d["day"]).dt.date, "env": out_env, "how": out_how,
        "service": [svc_names.get(str(s).lower(), "(no ServiceName)") if s is not None and not (isinstance(s, float) and math.isnan(s)) else "(no ServiceName)" for s in d["service"]],
        "category": d["category"].astype(str), "cost": d["cost"].astype(float), "rows": d["rows"].astype(int),
    })
    return frame.groupby(["day", "env", "how", "service", "category"], as_index=False)[["cost", "rows"]].sum()


# --- analysis ------------------------------------------------------------------------------


def month_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def month_days(month: str) -> tuple[date, date]:
    y, m = map(int, month.split("-"))
    return date(y, m, 1), date(y, m, calendar.monthrange(y, m)[1])


def series(frame, start: date, end: date) -> list[float]:
    """Daily totals of `frame` from start to end inclusive (missing days are 0)."""
    by = frame.groupby("day")["cost"].sum().to_dict() if len(frame) else {}
    n = (end - start).days + 1
    return [float(by.get(start + timedelta(days=i), 0.0)) for i in range(n)]


def _run_rate(values: list[float]) -> float:
    last = values[-7:]
    return sum(last) / len(last) if last else 0.0


def _env_month(frame, env: str, month: str, last_day: date, budget, thresholds: list[int]) -> EnvMonth:
    start, end = month_days(month)
    last = min(last_day, end)
    vals = series(frame, start, last)
    actual = sum(vals)
    rate = _run_rate(vals)
    left = (end - last).days
    forecast = actual + rate * left
    crossings = []
    for t in thresholds:
        amount = budget.monthly_usd * t / 100
        cum, day, projected = 0.0, None, None
        for i, v in enumerate(vals):
            cum += v
            if cum >= amount - 1e-9:
                day = start + timedelta(days=i)
                break
        if day is None and left and rate > 0 and forecast >= amount - 1e-9:
            projected = last + timedelta(days=math.ceil((amount - actual) / rate - 1e-9))
        crossings.append(Crossing(t, amount, day, projected))
    return EnvMonth(env, month, budget.monthly_usd, budget.limit, actual, last, end.day, rate, forecast, left == 0, tuple(crossings))


def _category_forecast(frame, month: str, last_day: date) -> dict[str, tuple[float, bool]]:
    start, end = month_days(month)
    last = min(last_day, end)
    out = {}
    for cat, part in frame.groupby("category"):
        vals = series(part, start, last)
        out[str(cat)] = (sum(vals) + _run_rate(vals) * (end - last).days, last == end)
    return out


def _estimates(params) -> tuple[dict[str, tuple[float, float, float]], list[tuple[str, float]]]:
    plan = cost_plan.estimate(params, simulate=False)
    unbilled_cats = set(categories_catalog()["unbilled"])
    est: dict[str, list] = {}
    unbilled: dict[str, float] = {}
    # the dependencies' own lines are billed by the providers (Stripe, SendGrid …), not on the cloud bill
    direct = {c.name: c for c in dependency_cost_items(params)[0]}
    providers = sorted({d.title for d in params.dependencies if any(name.startswith(f"{d.name}-") for name in direct)})
    direct_key = f"third-party providers billed directly ({', '.join(providers)})"
    for ln in plan.lines:
        key = direct_key if ln.component in direct else ln.category if ln.category in unbilled_cats else None
        if key is not None:
            if ln.cost is not None:
                unbilled[key] = unbilled.get(key, 0.0) + ln.cost[1]
            continue
        cur = est.setdefault(ln.category, [0.0, 0.0, 0.0, True])
        if ln.cost is None:
            cur[3] = False  # part of the category is not priced: its estimate is a lower bound
            continue
        for i in range(3):
            cur[i] += ln.cost[i]
    return {k: (v[0], v[1], v[2]) for k, v in est.items()}, sorted(unbilled.items())


def _variance(month: str, cat: str, est, actual: float, basis: str, target: float) -> VarianceRow:
    lo, ex, hi = est if est else (None, None, None)
    pct = 100 * (actual - ex) / ex if ex else None
    return VarianceRow(month, cat, lo, ex, hi, actual, basis, pct, target)


def detect_anomalies(values: list[float], start: date, history_days: int = 28, z_threshold: float = 3.5,
                     min_usd: float = 10.0) -> list[tuple[date, float, float, float]]:
    """Days of `values` (daily costs from `start`) far from their same-weekday baseline.

    For day d with at least `history_days` of history: baseline = median of the same weekday in
    the trailing window; scale = 1.4826 × MAD of the window's deviations from their own weekday
    medians, at least 5% of the baseline and 0.01; z = (cost − baseline) / scale."""
    import numpy as np

    out = []
    for i in range(history_days, len(values)):
        window = values[i - history_days:i]
        wd = [(start + timedelta(days=i - history_days + j)).weekday() for j in range(history_days)]
        med = {w: float(np.median([v for v, x in zip(window, wd, strict=True) if x == w])) for w in set(wd)}
        resid = np.array([v - med[x] for v, x in zip(window, wd, strict=True)])
        mad = float(np.median(np.abs(resid - np.median(resid))))
        day = start + timedelta(days=i)
        base = med.get(day.weekday(), float(np.median(window)))
        scale = max(1.4826 * mad, 0.05 * abs(base), 0.01)
        z = (values[i] - base) / scale
        if abs(z) >= z_threshold and abs(values[i] - base) >= min_usd:
            out.append((day, values[i], base, z))
    return out


def _drivers(frame, day: date, history_days: int, first: date) -> tuple[tuple[str, float], ...]:
    import numpy as np

    deltas = []
    for svc, part in frame.groupby("service"):
        start = max(first, day - timedelta(days=history_days))
        vals = series(part, start, day)
        today = vals[-1]
        same = [v for j, v in enumerate(vals[:-1]) if (start + timedelta(days=j)).weekday() == day.weekday()]
        base = float(np.median(same)) if same else 0.0
        deltas.append((str(svc), today - base))
    total = sum(d for _, d in deltas)
    sign = 1 if total >= 0 else -1
    ranked = sorted((d for d in deltas if d[1] * sign > 0.005), key=lambda x: (-abs(x[1]), x[0]))
    # a driver moved at least a tenth as much as the main one (the rest is day-to-day noise)
    return tuple(d for d in ranked[:3] if abs(d[1]) >= 0.1 * abs(ranked[0][1]))


def analyse(params, billing, month: str | None = None, section=None) -> CostReport:
    """Budget vs. actual, forecast, thresholds, variance and anomalies (pure over the aggregate)."""
    if params.cost is None:
        raise InputError(f"{params.path or 'parameters'}: cost: missing; actual spend is compared with the cost section's budgets and estimate, so add a cost: section.")
    act = section or actuals_section(params, billing.files)[0]
    frame = attribute(params, billing, act)
    if not len(frame):
        raise InputError(f"{', '.join(str(f) for f in billing.files)}: no billing rows with a date and a cost; export a FOCUS file with usage rows.")
    first_day, last_day = min(frame["day"]), max(frame["day"])
    months = sorted({month_of(d) for d in frame["day"]})
    if month is not None and month not in months:
        raise InputError(f"--month {month}: the billing data covers {months[0]} to {months[-1]}; pick a month in that range (YYYY-MM).")
    sel = month or months[-1]
    cost = params.cost
    envnames = [e.name for e in params.environments]
    env_months = []
    for m in months:
        for env in envnames:
            env_months.append(_env_month(frame[frame["env"] == env], env, m, last_day, cost.budgets[env], list(cost.alert_thresholds_pct)))
    est, unbilled = _estimates(params)
    project = frame[frame["env"].isin(envnames + [NO_ENV])]
    variance, totals = [], []
    target = act.variance_target_pct
    for m in months:
        start, end = month_days(m)
        part = project[(project["day"] >= start) & (project["day"] <= end)]
        fc = _category_forecast(part, m, last_day)
        basis = "actual" if min(last_day, end) == end else "forecast"
        for cat in sorted(set(est) | set(fc)):
            variance.append(_variance(m, cat, est.get(cat), fc.get(cat, (0.0, True))[0], basis, target))
        tot_est = tuple(sum(v[i] for v in est.values()) for i in range(3))
        totals.append(_variance(m, "total", tot_est, sum(v[0] for v in fc.values()), basis, target))
    ano_cfg = act.anomaly
    anomalies = []
    for env in envnames:
        part = frame[frame["env"] == env]
        vals = series(part, first_day, last_day)
        runs: list[Anomaly] = []
        for day, value, base, z in detect_anomalies(vals, first_day, ano_cfg.history_days, ano_cfg.z_threshold, ano_cfg.min_usd):
            prev = runs[-1] if runs else None
            if prev is not None and (prev.until or prev.day) == day - timedelta(days=1) and (prev.z > 0) == (z > 0):
                runs[-1] = replace(prev, until=day, days=prev.days + 1)  # one episode: a level shift is reported once
                continue
            runs.append(Anomaly(day, env, value, base, z, _drivers(part, day, ano_cfg.history_days, first_day)))
        anomalies += runs
    anomalies.sort(key=lambda a: (a.day, envnames.index(a.env)))
    start = first_day + timedelta(days=ano_cfg.history_days)
    attribution = []
    for who in envnames + [NO_ENV, UNCLAIMED, OTHER]:
        part = frame[frame["env"] == who]
        for how, sub in sorted(part.groupby("how"), key=lambda x: x[0]):
            attribution.append((who, HOW.get(str(how), str(how)), float(sub["cost"].sum()), int(sub["rows"].sum())))
        if who in (NO_ENV, UNCLAIMED) and not len(part):
            attribution.append((who, "none in the data", 0.0, 0))
    return CostReport(
        project=params.project, as_of=last_day.isoformat(), first_day=first_day, last_day=last_day, month=sel, months=months,
        files=[_display(f, params) for f in billing.files], rows=billing.rows, notes=list(billing.notes), cost_column=act.cost_column,
        thresholds=list(cost.alert_thresholds_pct), target_pct=target, env_months=env_months, variance=variance, month_totals=totals,
        anomalies=anomalies,
        anomaly_rule=(f"robust z-score ≥ {ano_cfg.z_threshold:g} against the median of the same weekday over the trailing "
                      f"{ano_cfg.history_days} days, and at least {money(ano_cfg.min_usd)} away from it"),
        anomaly_history=(f"Detection starts on {start.isoformat()}, after {ano_cfg.history_days} days of history; consecutive anomalous days "
                         "in the same direction are one entry (a level shift)." if start <= last_day else
                         f"The data covers fewer than {ano_cfg.history_days} days: too short for a baseline yet."),
        attribution=attribution, unbilled=unbilled, daily=frame,
    )


def _display(path: Path, params) -> str:
    try:
        return Path(os.path.relpath(path, params.base_dir)).as_posix()
    except ValueError:
        return path.as_posix()


# --- summaries (what `opslib actuals` prints) --------------------------------------------


def summary_text(report: CostReport) -> str:
    lines = [f"{report.project.name}: {report.rows} billing rows, {report.first_day} to {report.last_day}; month {report.month}"]
    for e in report.month_envs():
        crossed = ", ".join(f"{c.threshold_pct}% on {c.day}" for c in e.crossed) or "no threshold crossed"
        lines.append(f"  {e.env}: {money(e.actual)} of {money(e.budget)} ({e.pct:.0f}%), forecast {money(e.forecast)} "
                     f"({e.forecast_pct:.0f}%); {crossed}")
    for r in report.month_totals:
        v = "n/a" if r.variance_pct is None else f"{r.variance_pct:+.1f}%"
        lines.append(f"  variance {r.month}: {money(r.actual)} ({r.basis}) vs. estimate {money(r.expected)}: {v} ({r.verdict})")
    lines += [f"  anomaly {a.day}{f' ({a.days} days)' if a.days > 1 else ''} {a.env}: {money(a.cost)} vs. {money(a.baseline)} (z {a.z:.1f}); {a.driver_text}" for a in report.anomalies]
    un = [a for a in report.attribution if a[0] in (NO_ENV, UNCLAIMED) and a[3]]
    if un:
        lines.append("  unattributed: " + "; ".join(f"{who} {money(c)} ({how})" for who, how, c, _ in un))
    lines += [f"  normalised: {n}" for n in report.notes]
    return "\n".join(lines)


def summary_json(report: CostReport) -> dict:
    return {
        "project": report.project.name, "rows": report.rows, "first_day": report.first_day.isoformat(), "last_day": report.last_day.isoformat(),
        "month": report.month, "notes": report.notes,
        "budgets": [{"env": e.env, "month": e.month, "budget": e.budget, "actual": round(e.actual, 2), "forecast": round(e.forecast, 2),
                     "run_rate": round(e.run_rate, 2), "complete": e.complete,
                     "crossings": [{"threshold_pct": c.threshold_pct, "amount": c.amount, "day": c.day.isoformat() if c.day else None,
                                    "projected": c.projected.isoformat() if c.projected else None} for c in e.crossings]}
                    for e in report.env_months],
        "variance": [{"month": r.month, "category": r.category, "expected": r.expected, "actual": round(r.actual, 2), "basis": r.basis,
                      "variance_pct": None if r.variance_pct is None else round(r.variance_pct, 2), "verdict": r.verdict}
                     for r in report.variance + report.month_totals],
        "anomalies": [{"day": a.day.isoformat(), "days": a.days, "env": a.env, "cost": round(a.cost, 2), "baseline": round(a.baseline, 2), "z": round(a.z, 2),
                       "drivers": [{"service": s, "delta": round(d, 2)} for s, d in a.drivers]} for a in report.anomalies],
        "attribution": [{"who": w, "how": h, "cost": round(c, 2), "rows": n} for w, h, c, n in report.attribution],
    }
