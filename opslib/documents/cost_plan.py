"""The cost plan: from the `cost:` parameters and the pricing catalog to a `CostPlan`, to cost-plan.md.

    estimate(params, overrides=None)  -> CostPlan   (pure: ranges, Monte Carlo, guardrails, rules)
    render_plan(plan)                 -> str        (Jinja, StrictUndefined)
    write(params, status, out_dir)    -> Written    (render, check, write cost-plan.md + figures/)
    check_written(out_dir, params)    -> [Finding]
    diff(old_params, new_params)      -> str        (markdown table of monthly changes)
    cost_gate(params)                 -> (ok, str)  (the pipeline's cost check)

A component's monthly cost is max(0, quantity − free units) × price × (1 − discount). A
quantity is count × drivers × factor (× hours for hourly prices), each a low/expected/high
range. A price or quantity that is not known is never counted as zero.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from opslib.catalog.loaders import DATA_DIR
from opslib.catalog.pricing import Price, load_catalog
from opslib.check.cost_plan import check_cost_plan
from opslib.check.findings import Finding
from opslib.core.formatting import comment, money, number, quantity, signed_money
from opslib.core.templates import render, render_string
from opslib.core.yamlio import read_yaml
from opslib.documents.commands import command_context, steps
from opslib.documents.contract import Draft, Written, check_file, write_draft
from opslib.documents.cost_plan_charts import FIGURES, figure_files
from opslib.errors import ParamsError
from opslib.params.status import StatusCheck

__all__ = [
    "DOC", "Overrides", "Line", "EnvTotal", "Opportunity", "CostPlan", "estimate", "render_plan", "preview", "write",
    "check_written", "check_cost_plan", "cost_gate", "diff", "region_mismatch", "REGION_MISMATCH",
]

DOC = "cost-plan"
FILE = "cost-plan.md"
EXISTS = "cost-plan.md exists (if project uses paid resources)"
BOUNDS = ("low", "expected", "high")
GROUPS = {
    "compute": ("Infrastructure", "Compute"), "serverless": ("Infrastructure", "Compute"),
    "database": ("Infrastructure", "Storage and databases"), "storage": ("Infrastructure", "Storage and databases"),
    "queue": ("Infrastructure", "Storage and databases"),
    "network": ("Infrastructure", "Networking"), "cdn": ("Infrastructure", "Networking"),
    "data_transfer": ("Data transfer", "Data transfer and bandwidth"),
    "monitoring": ("Third-party services", "Monitoring and logging"), "third_party": ("Third-party services", "APIs and SaaS"),
    "llm": ("Third-party services", "LLM tokens"),
    "maintenance": ("Maintenance", "Engineering maintenance"),
}
GROUP_ORDER = ("Infrastructure", "Data transfer", "Third-party services", "Maintenance")

Range = tuple[float, float, float]  # (low, expected, high)


def _price_text(p: Price | None) -> str:
    if p is None or p.price_usd is None:
        return "price unknown"
    v = p.price_usd
    txt = f"${v:g}" if v < 0.01 else f"${v:,.4g}"
    return f"{txt} per {p.unit}"


@dataclass(frozen=True)
class Overrides:
    """What the cost explorer changes (and a saved scenario holds, documents/scenario.py): a
    driver's expected value (its low and high scale with it), a component's price id, an
    environment's maximum replicas."""

    drivers: dict[str, float] = field(default_factory=dict)
    prices: dict[str, str] = field(default_factory=dict)
    replicas_max: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Line:
    component: str
    environment: str
    category: str
    group: str
    subgroup: str
    description: str
    service: str
    price: Price | None
    price_text: str
    quantity: Range | None
    cost: Range | None  # None unless status is "priced"
    status: str  # priced | usage | unknown-price
    basis: str
    free_units: float
    discount_pct: float
    discount_note: str | None

    @property
    def priced_cost(self) -> Range:
        """The cost of a priced line; a usage or unknown-price line has none (ValueError)."""
        if self.cost is None:
            raise ValueError(f"{self.component} ({self.environment}) has no monthly cost: {self.status}")
        return self.cost

    @property
    def range_text(self) -> str:
        if self.status == "usage":
            return f"monthly cost depends on usage: {self.price_text}"
        if self.status == "unknown-price":
            return "price unknown: monthly cost depends on usage; add the price under cost.prices"
        lo, ex, hi = self.priced_cost
        text = money(ex) if lo == hi else f"{money(lo)}–{money(hi)} (expected {money(ex)})"
        return text + " (within the free tier)" if hi == 0 and self.free_units else text


@dataclass(frozen=True)
class EnvTotal:
    name: str
    low: float
    expected: float
    high: float
    worst_case: float
    budget: float
    limit: str
    alert_to: list[str]
    replicas_min: int
    replicas_max: int
    thresholds: tuple[int, ...] = ()

    @property
    def pct(self) -> float:
        return 100 * self.expected / self.budget

    @property
    def breach(self) -> bool:
        return self.worst_case > self.budget

    @property
    def overrun(self) -> float:
        """How far the worst case exceeds the budget (negative when within)."""
        return self.worst_case - self.budget

    @property
    def worst_case_pct(self) -> float:
        return 100 * self.worst_case / self.budget

    @property
    def alert_levels(self) -> list[tuple[int, float]]:
        """(threshold %, amount) for every budget alert threshold."""
        return [(t, self.budget * t / 100) for t in self.thresholds]


@dataclass(frozen=True)
class Opportunity:
    rule: str
    title: str
    priority: str
    component: str
    environments: str
    saving: float | None
    detail: str


@dataclass
class CostPlan:
    project: Any
    platform: str
    as_of: str
    lines: list[Line]
    envs: list[EnvTotal]
    low: float
    expected: float
    high: float
    p10: float
    p50: float
    p90: float
    samples: np.ndarray
    cost_per_request: str
    assumptions: list[str]
    prices: list[tuple[str, str, str, str, str]]
    stale: list[str]
    thresholds: list[int]
    opportunities: list[Opportunity]
    tracking: list[dict]
    vendors: list[dict]
    tags: list[str]
    review_frequency: str
    approvers: list[str]
    approval_increase_pct: int
    quotas: list[tuple[str, str]]
    scaling_commands: list[tuple[str, str]]
    budget_commands: list[tuple[str, str, str, str]]
    vendor_limits: list[str]
    figures: dict[str, str] = field(default_factory=dict)
    has_actuals: bool = False  # cost-report.md is written beside the plan (parameters have `actuals:`)
    # from the platform's cost.yaml: the quota manifest's heading and language, or why the
    # platform has no quota object / cannot cap its scale
    quota_title: str = ""
    quota_language: str = "yaml"
    quota_unsupported: str = ""
    scaling_unsupported: str = ""
    # prices used for an environment in another region (REGION_MISMATCH unless acknowledged)
    region_flags: list[str] = field(default_factory=list)

    @property
    def categories(self) -> list[str]:
        return sorted({ln.category for ln in self.lines})

    def group_lines(self, group: str) -> list[Line]:
        return [ln for ln in self.lines if ln.group == group]

    def group_total(self, group: str) -> Range:
        costs = [ln.cost for ln in self.group_lines(group) if ln.cost is not None]
        return sum(c[0] for c in costs), sum(c[1] for c in costs), sum(c[2] for c in costs)

    @property
    def groups(self) -> list[dict]:
        out = []
        for g in GROUP_ORDER:
            lines = self.group_lines(g)
            lo, ex, hi = self.group_total(g)
            subs = sorted({ln.subgroup for ln in lines}, key=lambda s: list(dict.fromkeys(v[1] for v in GROUPS.values())).index(s))
            out.append({"name": g, "lines": lines, "subgroups": subs, "total": _range(lo, ex, hi)})
        return out

    @property
    def total_text(self) -> str:
        return _range(self.low, self.expected, self.high)

    @property
    def usage_lines(self) -> list[Line]:
        return [ln for ln in self.lines if ln.status != "priced"]

    def table(self) -> list[dict]:
        """Rows for the notebook's live breakdown table."""
        return [
            {"environment": ln.environment, "component": ln.component, "category": ln.category,
             "low": ln.cost[0] if ln.cost else None, "expected": ln.cost[1] if ln.cost else None,
             "high": ln.cost[2] if ln.cost else None, "basis": ln.basis if ln.cost else ln.range_text}
            for ln in self.lines
        ]


def _range(lo: float, ex: float, hi: float) -> str:
    return money(ex) if round(lo, 2) == round(hi, 2) else f"{money(lo)}–{money(hi)} (expected {money(ex)})"


@cache
def rules() -> dict:
    return read_yaml(DATA_DIR / "cost-rules.yaml", lines=False)


@cache
def tracking_catalog() -> dict:
    """Third-party vendors' cost pages (a platform's own tools are in its folder's cost.yaml)."""
    return read_yaml(DATA_DIR / "cost-tracking.yaml", lines=False)


def _hourly(p: Price | None) -> bool:
    return p is not None and (p.unit == "hour" or p.unit.endswith("-hour"))


def _quantity_spec(comp, env: str):
    return comp.per_environment.get(env, comp.quantity)


def _driver_range(cost, name: str, env: str, scale: dict[str, float]) -> Range:
    d = cost.drivers[name]
    r = d.environments.get(env, d)
    k = scale.get(name, 1.0)
    return (r.low * k, r.expected * k, r.high * k)


def _scales(cost, overrides: Overrides | None) -> dict[str, float]:
    out = {}
    for name, value in (overrides.drivers.items() if overrides else []):
        if name not in cost.drivers:
            raise ParamsError("overrides", [f"cost.drivers: unknown driver {name!r}; use one of {', '.join(sorted(cost.drivers))}"])
        base = cost.drivers[name].expected
        out[name] = value / base if base else 1.0
    return out


def _quantity(cost, comp, env: str, price: Price | None, scale: dict[str, float],
              count_override: float | None = None) -> tuple[Range | None, str]:
    q = _quantity_spec(comp, env)
    if q.unknown:
        return None, "amount not known yet"
    parts = []
    vals = [1.0, 1.0, 1.0]
    if count_override is not None:
        vals = [count_override] * 3
        parts.append(f"{quantity(count_override)} at maximum scale")
    elif q.count is not None:
        vals = [q.count.low, q.count.expected, q.count.high]
        parts.append(quantity(q.count.expected) if q.count.low == q.count.high else f"{quantity(q.count.low)}–{quantity(q.count.high)}")
    for name in q.drivers:
        r = _driver_range(cost, name, env, scale)
        vals = [v * r[i] for i, v in enumerate(vals)]
        parts.append(f"{name} {quantity(r[1])}")
    if q.factor != 1:
        vals = [v * q.factor for v in vals]
        parts.append(f"{q.factor:g}")
    if _hourly(price):
        hours = q.hours if q.hours is not None else rules()["hours_per_month"]
        vals = [v * hours for v in vals]
        parts.append(f"{quantity(hours)} h")
    lo, ex, hi = vals
    return (lo, ex, hi), " × ".join(parts) if parts else "1"


def _price_cost(comp, qty: Range | None, price: Price | None) -> Range | None:
    if qty is None or price is None or price.price_usd is None:
        return None
    usd, keep = price.price_usd, 1 - comp.discount_pct / 100
    lo, ex, hi = (max(0.0, v - comp.free_units) * usd * keep for v in qty)
    return lo, ex, hi


def _envs_of(params, comp) -> list[str]:
    names = [e.name for e in params.environments]
    return [n for n in names if comp.environments is None or n in comp.environments]


def _resolve_prices(params, overrides: Overrides | None) -> tuple[dict[str, Price], dict[str, Price | None]]:
    cost = params.cost
    catalog = load_catalog(cost, params.base_dir, params.catalog.prices, params.cost_price_entries)
    chosen: dict[str, Price | None] = {}
    for comp in params.cost_components:
        pid = (overrides.prices.get(comp.name) if overrides else None) or comp.price
        if pid is None:
            chosen[comp.name] = None
        elif pid not in catalog:
            raise ParamsError(str(params.path or "parameters"), [f"cost.components ({comp.name}).price: unknown price id {pid!r}; pick one from opslib/data/pricing.csv or add it under cost.prices"])
        else:
            chosen[comp.name] = catalog[pid]
    return catalog, chosen


def _monte_carlo(params, scale: dict[str, float], chosen: dict[str, Price | None]) -> np.ndarray:
    cost = params.cost
    rng = np.random.default_rng(cost.seed)
    n = cost.simulations
    total = np.zeros(n)

    def tri(lo: float, ex: float, hi: float) -> np.ndarray | float:
        if hi <= lo:
            return lo
        return rng.triangular(lo, ex, hi, n)

    driver_samples: dict[tuple[str, str], Any] = {}
    for env in params.environments:
        for name in sorted(cost.drivers):
            driver_samples[(name, env.name)] = tri(*_driver_range(cost, name, env.name, scale))
    hours_default = rules()["hours_per_month"]
    for comp in params.cost_components:
        price = chosen[comp.name]
        if price is None or price.price_usd is None:
            continue
        for env in _envs_of(params, comp):
            q = _quantity_spec(comp, env)
            if q.unknown:
                continue
            v: Any = tri(q.count.low, q.count.expected, q.count.high) if q.count is not None else 1.0
            for name in q.drivers:
                v = v * driver_samples[(name, env)]
            v = v * q.factor * ((q.hours if q.hours is not None else hours_default) if _hourly(price) else 1.0)
            total += np.maximum(0.0, v - comp.free_units) * price.price_usd * (1 - comp.discount_pct / 100)
    return total


def estimate(params, overrides: Overrides | None = None, simulate: bool = True) -> CostPlan:
    """The cost plan of a project (pure; `overrides` are the notebook's slider values)."""
    cost = params.cost
    if cost is None:
        raise ParamsError(str(params.path or "parameters"), ["cost: missing; add a cost: section (drivers, components, budgets) to plan costs"])
    scale = _scales(cost, overrides)
    catalog, chosen = _resolve_prices(params, overrides)
    lines: list[Line] = []
    envs: list[EnvTotal] = []
    for env in params.environments:
        sums = [0.0, 0.0, 0.0]
        worst = 0.0
        rmax = (overrides.replicas_max.get(env.name) if overrides else None) or env.replicas.max
        for comp in params.cost_components:
            if env.name not in _envs_of(params, comp):
                continue
            price = chosen[comp.name]
            qty, basis = _quantity(cost, comp, env.name, price, scale)
            c = _price_cost(comp, qty, price)
            status = "priced" if c is not None else ("unknown-price" if price is None or price.price_usd is None else "usage")
            if comp.free_units:
                basis += f" − {quantity(comp.free_units)} free"
            if comp.discount_pct:
                basis += f", −{comp.discount_pct:g}% ({comp.discount_note or 'discount'})"
            group, sub = GROUPS[comp.category]
            lines.append(Line(comp.name, env.name, comp.category, group, sub, comp.description, comp.service or params.project.name,
                              price, _price_text(price), qty, c, status, basis, comp.free_units, comp.discount_pct, comp.discount_note))
            if c is None:
                continue
            sums = [s + c[i] for i, s in enumerate(sums)]
            if comp.autoscaled:
                wq, _ = _quantity(cost, comp, env.name, price, scale, count_override=float(rmax))
                wc = _price_cost(comp, wq, price)
                if wc is None:  # cannot happen: the same quantity spec and price gave `c`
                    raise AssertionError(f"{comp.name} ({env.name}): priced at the expected scale but not at maximum scale")
                worst += wc[2]
            else:
                worst += c[2]
        b = cost.budgets.get(env.name)
        envs.append(EnvTotal(env.name, sums[0], sums[1], sums[2], worst_case=worst, budget=b.monthly_usd if b else 0.0, limit=b.limit if b else "none",
                             alert_to=list(b.alert_to) if b else [], replicas_min=env.replicas.min, replicas_max=rmax,
                             thresholds=tuple(cost.alert_thresholds_pct)))
    lo, ex, hi = (sum(getattr(e, k) for e in envs) for k in BOUNDS)
    samples = _monte_carlo(params, scale, chosen) if simulate else np.array([ex])
    p10, p50, p90 = (float(np.percentile(samples, q)) for q in (10, 50, 90))
    plan = CostPlan(
        project=params.project, platform=params.platform, as_of=params.project.as_of.isoformat(), lines=lines, envs=envs,
        low=lo, expected=ex, high=hi, p10=p10, p50=p50, p90=p90, samples=samples,
        cost_per_request=_per_request(params, envs, scale),
        assumptions=_assumptions(params, scale),
        prices=[], stale=[], thresholds=list(cost.alert_thresholds_pct), opportunities=[], tracking=[], vendors=[],
        tags=list(cost.tags), review_frequency=cost.review_frequency, approvers=list(cost.approvers),
        approval_increase_pct=cost.approval_increase_pct, quotas=[], scaling_commands=[], budget_commands=[], vendor_limits=[],
    )
    plan.has_actuals = getattr(params, "actuals", None) is not None
    plan.prices, plan.stale = _price_table(params, chosen)
    plan.region_flags = _region_flags(params, lines)
    plan.opportunities = opportunities(params, plan, catalog)
    _guardrail_details(params, plan, chosen)
    _tracking(params, plan, chosen)
    return plan


def _per_request(params, envs: list[EnvTotal], scale) -> str:
    cost = params.cost
    if cost.traffic_driver is None:
        return "not computed: set cost.traffic_driver to the driver that counts requests or tasks"
    prod = params.production.name
    d = cost.drivers[cost.traffic_driver]
    lo, ex, hi = _driver_range(cost, cost.traffic_driver, prod, scale)
    e = next(x for x in envs if x.name == prod)
    if ex == 0:
        return f"not computed: {cost.traffic_driver} is 0 in {prod}"
    per = e.expected / ex
    return (f"{money(per)} per {d.unit.rstrip('s') if d.unit.endswith('s') else d.unit} in {prod} "
            f"({money(e.expected)} ÷ {quantity(ex)} {d.unit} a month; {money(e.low / hi if hi else 0)}–{money(e.high / lo if lo else e.high)} across the range)")


def _assumptions(params, scale) -> list[str]:
    cost = params.cost
    out = []
    for name in sorted(cost.drivers):
        d = cost.drivers[name]
        lo, ex, hi = _driver_range(cost, name, params.production.name, scale)
        txt = f"**{name}** ({d.unit}): {quantity(lo)} / {quantity(ex)} / {quantity(hi)} (low / expected / high) in {params.production.name} — {d.description}"
        others = [f"{e}: {quantity(_driver_range(cost, name, e, scale)[1])}" for e in sorted(d.environments) if e != params.production.name]
        if others:
            txt += f"; expected elsewhere {', '.join(others)}"
        out.append(txt)
    out.append(f"Hourly resources run {rules()['hours_per_month']} hours a month unless a component says otherwise.")
    out.append("The expected column multiplies the most likely values; the Monte Carlo P50 is higher when the ranges are skewed upward "
               "(high further from expected than low), and it is the better single number for the budget.")
    out.append(f"Monte Carlo: {cost.simulations} samples of triangular(low, expected, high) per driver and count, seed {cost.seed}.")
    return out


def _price_table(params, chosen):
    max_age = params.cost.max_price_age_days
    as_of = params.project.as_of
    rows, stale = [], []
    for pid in sorted({p.id for p in chosen.values() if p is not None}):
        p = next(x for x in chosen.values() if x is not None and x.id == pid)
        if p.as_of is None:
            flag = "⚠ as-of date unknown"
            stale.append(f"{pid}: as-of date unknown ({p.as_of_note or 'no note'}); confirm the price on the vendor page")
        elif (as_of - p.as_of).days > max_age:
            flag = f"⚠ older than {max_age} days"
            stale.append(f"{pid}: read {p.as_of.isoformat()}, {(as_of - p.as_of).days} days before {as_of.isoformat()}; confirm the price")
        else:
            flag = "current"
        rows.append((pid, _price_text(p), p.source, p.as_of.isoformat() if p.as_of else "unknown", flag))
    missing = sorted(c.name for c in params.cost_components if chosen[c.name] is None)
    for name in missing:
        rows.append((f"({name})", "price unknown", "none: add the price under cost.prices", "unknown", "⚠ unknown"))
    return rows, stale


REGION_MISMATCH = "REGION MISMATCH"
REGIONLESS = frozenset({"global", "n/a", "any", ""})


def region_mismatch(price: Price | None, env_region: str) -> bool:
    """A regional price for another region than the environment's (`global` and `n/a` prices
    apply everywhere; names are compared case-insensitively)."""
    if price is None:
        return False
    region = price.region.strip().lower()
    return region not in REGIONLESS and region != env_region.strip().lower()


def _region_flags(params, lines: list[Line]) -> list[str]:
    """One sentence per component, price and environment region whose price is for another
    region: REGION MISMATCH, or acknowledged with the component's price_region_note."""
    comps = {c.name: c for c in params.cost.components}
    regions = {e.name: e.region for e in params.environments}
    groups: dict[tuple[str, str, str], list[str]] = {}
    for ln in lines:
        if ln.price is not None and region_mismatch(ln.price, regions[ln.environment]):
            groups.setdefault((ln.component, ln.price.id, regions[ln.environment]), []).append(ln.environment)
    out = []
    for (comp, pid, region), envs in groups.items():
        price_region = next(ln.price.region for ln in lines if ln.price is not None and ln.price.id == pid)
        where = f"{comp} in {', '.join(envs)} ({region}) is priced with {pid}, a {price_region} price"
        note = comps[comp].price_region_note
        out.append(f"{where}; acknowledged: {note}" if note else
                   f"**{REGION_MISMATCH}**: {where}; add the {region} price under cost.prices, or say why this one stands for it in "
                   f"cost.components ({comp}).price_region_note")
    return out


# --- optimization rules ------------------------------------------------------------------


def _by_component(plan: CostPlan, pred) -> dict[str, list[Line]]:
    out: dict[str, list[Line]] = {}
    for ln in plan.lines:
        if ln.cost is not None and pred(ln):
            out.setdefault(ln.component, []).append(ln)
    return out


def opportunities(params, plan: CostPlan, catalog: dict[str, Price]) -> list[Opportunity]:
    """Every optimization rule of opslib/data/cost-rules.yaml that fires on this plan."""
    cfg = rules()["rules"]
    comps = {c.name: c for c in params.cost_components}
    prod = params.production.name
    out: list[Opportunity] = []

    def add(rule: str, comp: str, lines: list[Line], saving: float | None, detail: str) -> None:
        r = cfg[rule]
        out.append(Opportunity(rule, r["title"], r["priority"], comp, ", ".join(dict.fromkeys(ln.environment for ln in lines)),
                               saving, detail))

    r = cfg["right-sizing"]
    sized = _by_component(plan, lambda ln: ln.category in ("compute", "database") and comps[ln.component].utilization_pct is not None)
    low_util = {k: v for k, v in sized.items() if comps[k].utilization_pct < r["below_utilization_pct"]}
    for name, lines in low_util.items():
        u = comps[name].utilization_pct
        pct = min(r["max_saving_pct"], 100 * (1 - u / r["target_utilization_pct"]))
        add("right-sizing", name, lines, sum(ln.priced_cost[1] for ln in lines) * pct / 100,
            f"average utilization {u:g}% < {r['below_utilization_pct']}%: one size smaller (or fewer units) brings it to about {r['target_utilization_pct']}%, saving ~{pct:.0f}%")
    if not low_util:
        out.append(Opportunity("right-sizing", r["title"], r["priority"], "all compute and databases", "all", None,
                               "no component reports utilization below "
                               f"{r['below_utilization_pct']}% (set utilization_pct from 30 days of metrics); review the sizes at each monthly cost review"))

    r = cfg["commitment"]
    for name, lines in _by_component(plan, lambda ln: ln.environment == prod and ln.category in r["categories"]
                                     and ln.price is not None and ln.price.provider in r["providers"] and ln.price.service in r["services"] and _hourly(ln.price)).items():
        base = sum(ln.priced_cost[0] for ln in lines)
        if base >= r["min_monthly_usd"] and comps[name].discount_pct == 0:
            add("commitment", name, lines, base * r["discount_pct"] / 100,
                f"the steady baseline ({money(base)}/month at the low count) runs all month: a 1-year commitment saves ~{r['discount_pct']}%")

    r = cfg["shutdown"]
    for name, lines in _by_component(plan, lambda ln: ln.environment != prod and ln.category in r["categories"] and _hourly(ln.price)
                                     and not comps[ln.component].always_on).items():
        hours = [(_quantity_spec(comps[name], ln.environment).hours or rules()["hours_per_month"]) for ln in lines]
        saving = sum(ln.priced_cost[1] * (1 - r["hours_per_month"] / h) for ln, h in zip(lines, hours, strict=True) if h > r["hours_per_month"])
        if saving > 0:
            add("shutdown", name, lines, saving,
                f"run {r['hours_per_month']} h instead of {rules()['hours_per_month']} h a month (weekdays 12 h), saving {100 * (1 - r['hours_per_month'] / rules()['hours_per_month']):.0f}% of these hours")

    r = cfg["storage-lifecycle"]
    for name, lines in _by_component(plan, lambda ln: ln.category == "storage" and ln.price is not None and ln.price.service in r["services"] and ln.price.unit.startswith("GB-month")).items():
        exp = sum(ln.priced_cost[1] for ln in lines)
        if exp >= r["min_monthly_usd"]:
            add("storage-lifecycle", name, lines, exp * r["cold_fraction"] * (1 - r["cold_price_ratio"]),
                f"move data untouched for 30 days (~{r['cold_fraction'] * 100:.0f}%) to an infrequent-access class at ~{r['cold_price_ratio'] * 100:.0f}% of the price")

    r = cfg["caching"]
    traffic = params.cost.traffic_driver
    for name, lines in _by_component(plan, lambda ln: ln.environment == prod and ln.category in r["categories"]
                                     and traffic in _quantity_spec(comps[ln.component], ln.environment).drivers).items():
        exp = sum(ln.priced_cost[1] for ln in lines)
        if exp >= r["min_monthly_usd"]:
            add("caching", name, lines, exp * r["saving_pct"] / 100,
                f"{money(exp)}/month grows with {traffic}; a cache (CDN, Redis, HTTP caching headers) with a {r['saving_pct']}% hit ratio removes that share")

    r = cfg["arm64"]
    for name, lines in _by_component(plan, lambda ln: ln.category in r["categories"] and comps[ln.component].arch == "x86_64"
                                     and ln.price is not None and ln.price.provider in r["providers"] and ln.price.service in r["services"]
                                     and (_hourly(ln.price) or ln.price.unit == "GB-second")).items():
        add("arm64", name, lines, sum(ln.priced_cost[1] for ln in lines) * r["saving_pct"] / 100,
            f"arm64 (Graviton) costs ~{r['saving_pct']}% less for the same capacity; rebuild images/functions for arm64 and load-test")

    r = cfg["spot"]
    for name, lines in _by_component(plan, lambda ln: ln.category in r["categories"] and comps[ln.component].stateless
                                     and ln.price is not None and ln.price.provider in r["providers"] and ln.price.service in r["services"] and _hourly(ln.price)).items():
        add("spot", name, lines, sum(ln.priced_cost[1] for ln in lines) * r["saving_pct"] / 100,
            f"stateless and interruptible: spot capacity is ~{r['saving_pct']}% cheaper; keep the baseline on-demand and handle the 2-minute notice")

    r = cfg["cheaper-model"]
    for name, lines in _by_component(plan, lambda ln: ln.category == "llm" and ln.price is not None and ln.price.id in r["cheaper"]).items():
        price = lines[0].price
        if price is None or not price.price_usd:
            continue
        alt = catalog.get(r["cheaper"][price.id])
        if alt is None or alt.price_usd is None:
            continue
        ratio = alt.price_usd / price.price_usd
        exp = sum(ln.priced_cost[1] for ln in lines)
        add("cheaper-model", name, lines, exp * r["routable_pct"] / 100 * (1 - ratio),
            f"route ~{r['routable_pct']}% of tasks to {alt.sku} ({_price_text(alt)}) after an eval shows equal quality")

    order = {"quick win": 0, "complex": 1}
    return sorted(out, key=lambda o: (order.get(o.priority, 2), -(o.saving or 0), o.rule, o.component))


# --- guardrails and tracking ---------------------------------------------------------------


def _caps(params, env) -> dict[str, Any]:
    """What a platform's scaling caps and quota manifest read (cost.yaml `caps`)."""
    q = params.cost.quota
    # long-running services scale to the maximum; a scheduled job runs one instance at a time
    most = env.replicas.max * sum(s.long_running for s in params.services) + sum(not s.long_running for s in params.services)
    return {"min": max(env.replicas.min, 1), "max": env.replicas.max, "instances_max": most,
            "cpu": quantity(most * q.cpu_per_replica), "memory_gib": quantity(most * q.memory_gib_per_replica), "storage_gib": quantity(q.storage_gib)}


def _guardrail_details(params, plan: CostPlan, chosen) -> None:
    platform = params.catalog.platform(params.platform)
    cost = platform.cost
    where = f"{platform.label}/cost.yaml"
    plan.quota_title, plan.quota_language = cost.quota.title or "", cost.quota.language
    plan.quota_unsupported = " ".join((cost.quota.unsupported or "").split())
    plan.scaling_unsupported = " ".join((cost.scaling_caps.unsupported or "").split())
    for env in params.environments:
        e = next(x for x in plan.envs if x.name == env.name)
        ctx = dict(command_context(params, env, platform), caps=_caps(params, env))
        if cost.quota.manifest is not None:
            plan.quotas.append((env.name, render_string(cost.quota.manifest, ctx, f"{where} quota.manifest")))
        for step in steps(cost.scaling_caps.steps or [], params, ctx, f"{where} scaling_caps"):
            if step.command:
                plan.scaling_commands.append((env.name, step.command + (f"\n{comment('expected: ' + step.expected)}" if step.expected else "")))
        if not any(p is not None and p.provider == "aws" for p in chosen.values()):
            continue
        account = params.secrets.aws_account_id if params.secrets else None
        budget = {
            "BudgetName": f"{params.project.name}-{env.name}-monthly",
            "BudgetLimit": {"Amount": f"{e.budget:.2f}", "Unit": "USD"},
            "TimeUnit": "MONTHLY", "BudgetType": "COST",
            "CostFilters": {"TagKeyValue": [f"user:environment${env.name}", ]},
        }
        notes = [{"Notification": {"NotificationType": "FORECASTED" if t < 100 else "ACTUAL", "ComparisonOperator": "GREATER_THAN",
                                   "Threshold": t, "ThresholdType": "PERCENTAGE"},
                  "Subscribers": [{"SubscriptionType": "EMAIL", "Address": a} for a in e.alert_to if "@" in a]}
                 for t in plan.thresholds]
        plan.budget_commands.append((
            env.name, json.dumps(budget, indent=2), json.dumps(notes, indent=2),
            (f"aws budgets create-budget --account-id {account} " if account else
             "AWS_ACCOUNT_ID=$(aws sts get-caller-identity --query Account --output text)\n"
             "aws budgets create-budget --account-id \"$AWS_ACCOUNT_ID\" ") + f"--budget file://budget-{env.name}.json "
            f"--notifications-with-subscribers file://notifications-{env.name}.json",
        ))
    providers = sorted({p.provider for p in chosen.values() if p is not None})
    if cost.budgets.unsupported is not None:
        plan.vendor_limits.append(" ".join(cost.budgets.unsupported.split()))
    for v in ("anthropic", "openai"):
        if v in providers:
            plan.vendor_limits.append(f"{tracking_catalog()['vendors'][v]['name']}: set a monthly spend limit per environment equal to "
                                      "its budget's LLM share, so a runaway loop stops at the vendor.")


def _tracking(params, plan: CostPlan, chosen) -> None:
    data = tracking_catalog()
    platform = params.catalog.platform(params.platform)
    where = f"{platform.label}/cost.yaml tracking"
    ctx = {"project": params.project.name, "tags": ", ".join(plan.tags), "envs": ", ".join(e.name for e in params.environments)}
    for tool in platform.cost.tracking:
        plan.tracking.append({
            "name": tool.name, "dashboard": tool.dashboard,
            "steps": [render_string(s, ctx, where) for s in tool.steps],
            "command": render_string(tool.command, ctx, where, shell=True),
        })
    for prov in sorted({p.provider for p in chosen.values() if p is not None}):
        if prov in data["vendors"]:
            plan.vendors.append(data["vendors"][prov])


# --- rendering, checks, writing ------------------------------------------------------------


def render_plan(plan: CostPlan) -> str:
    return render(DOC, plan)


def draft(params, status: StatusCheck | None = None, out_dir: str | Path | None = None, *, overrides: Overrides | None = None,
          figures: bool = True) -> Draft:
    """Estimate, render and check cost-plan.md; with `figures`, draw its charts (figures/*.png,
    0.3–0.7 s: the notebook's live preview leaves them out). `overrides` are the explorer's values."""
    if params.cost is None:
        note = f"# Cost plan: {params.project.name}\n\nNo `cost:` section in the parameters: add drivers, components and budgets to plan costs.\n"
        return Draft(DOC, FILE, None, [Finding(EXISTS, "n/a", "no cost: section in the parameters", None, "cost-plan")], note=note)
    plan = estimate(params, overrides)
    plan.figures = dict(FIGURES)
    text = render_plan(plan)
    findings = check_cost_plan(text, environments=[e.name for e in params.environments], params=params, strict=True)
    return Draft(DOC, FILE, text, findings, files=figure_files(plan) if figures else {}, model=plan)


def preview(params, status: StatusCheck | None = None, overrides: Overrides | None = None) -> Draft:
    """Render and check without writing; figures are referenced, not drawn."""
    return draft(params, status, overrides=overrides, figures=False)


def write(params, status: StatusCheck | None, out_dir: str | Path) -> Written:
    """Write cost-plan.md and figures/ only if every check passes (nothing without a cost: section)."""
    return write_draft(draft(params, status, out_dir), out_dir)


def check_written(out_dir: str | Path, params) -> list[Finding]:
    if params.cost is None:
        return []
    missing = Finding(EXISTS, "fail", f"{Path(out_dir) / FILE} is missing; run opslib render", None, "cost-plan")
    return check_file("cost-plan", out_dir, FILE, params, missing)


# --- cost diff ----------------------------------------------------------------------------


def diff(old_params, new_params) -> str:
    """Markdown table of expected monthly changes per component and environment, total and budget impact."""
    old, new = estimate(old_params, simulate=False), estimate(new_params, simulate=False)

    def index(plan):
        return {(ln.environment, ln.component): ln for ln in plan.lines}

    a, b = index(old), index(new)
    rows = ["| Environment | Component | Old (expected) | New (expected) | Change |", "|---|---|---:|---:|---:|"]
    envs = [e.name for e in new_params.environments] + [e.name for e in old_params.environments if e.name not in {x.name for x in new_params.environments}]
    keys = sorted(set(a) | set(b), key=lambda k: (envs.index(k[0]), k[1]))
    for k in keys:
        o, n = a.get(k), b.get(k)
        ov = o.cost[1] if o and o.cost else None
        nv = n.cost[1] if n and n.cost else None
        if ov == nv and (o is None) == (n is None) and (o is None or o.status == n.status):
            continue
        ot = "—" if o is None else (money(ov) if ov is not None else "depends on usage")
        nt = "—" if n is None else (money(nv) if nv is not None else "depends on usage")
        ch = signed_money((nv or 0) - (ov or 0)) if (ov is not None or o is None) and (nv is not None or n is None) else "unknown"
        rows.append(f"| {k[0]} | {k[1]} | {ot} | {nt} | {ch} |")
    if len(rows) == 2:
        rows.append("| — | no component changed | | | $0.00 |")
    out = ["# Cost diff", "", f"{old_params.project.name}: {old_params.path or 'old'} → {new_params.path or 'new'}", "", *rows, ""]
    out.append(f"**Total expected monthly**: {money(old.expected)} → {money(new.expected)} ({signed_money(new.expected - old.expected)}"
               f"{_pct(new.expected, old.expected)}); range {old.total_text} → {new.total_text}.")
    out += ["", "| Environment | Budget | Old expected | New expected | New % of budget | Worst case vs. limit |", "|---|---:|---:|---:|---:|---|"]
    olds = {e.name: e for e in old.envs}
    for e in new.envs:
        o = olds.get(e.name)
        out.append(f"| {e.name} | {money(e.budget)} | {money(o.expected) if o else '—'} | {money(e.expected)} | {e.pct:.0f}% | "
                   f"{'over the ' + e.limit + ' limit: ' + money(e.worst_case) if e.breach else 'within: ' + money(e.worst_case)} |")
    inc = [e.name for e in new.envs if e.name in olds and olds[e.name].expected and (e.expected - olds[e.name].expected) / olds[e.name].expected * 100 > new_params.cost.approval_increase_pct]
    out.append("")
    out.append(f"**Budget impact**: increase over {new_params.cost.approval_increase_pct}% in {', '.join(inc)}: needs approval by {', '.join(new_params.cost.approvers)}."
               if inc else f"**Budget impact**: no environment grows more than {new_params.cost.approval_increase_pct}%; no approval needed.")
    return "\n".join(out) + "\n"


def _pct(new: float, old: float) -> str:
    return f", {100 * (new - old) / old:+.1f}%" if old else ""


def cost_gate(params) -> tuple[bool, str]:
    """The pipeline's cost-check stage (seed 001 §2, stage 4): (every environment's expected
    monthly cost within its budget, a Markdown report for the CI job's summary)."""
    plan = estimate(params, simulate=False)
    lines = [f"## Cost check: {params.project.name}", "",
             "| Environment | Expected monthly cost | Budget | Share of budget | Result |", "|---|---|---|---|---|"]
    ok = True
    for e in plan.envs:
        if e.budget <= 0:
            lines.append(f"| {e.name} | ${e.expected:,.2f} | none | — | FAIL: no budget set (cost.budgets.{e.name}) |")
            ok = False
            continue
        over = e.expected > e.budget
        ok = ok and not over
        lines.append(f"| {e.name} | ${e.expected:,.2f} | ${e.budget:,.2f} | {number(round(e.pct, 1))}% | "
                     f"{'FAIL: over budget' if over else 'pass'} |")
    lines += ["", "Estimates as of " + params.project.as_of.isoformat() + " (opslib cost model, expected values)."]
    return ok, "\n".join(lines) + "\n"
