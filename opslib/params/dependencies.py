"""The `dependencies:` section: the third-party services the project calls (payments, e-mail,
weather data, model providers …). One declaration feeds four documents:

- the runbook: per dependency an outage, a rate-limiting, an authentication-failure and a
  slowness entry in Troubleshooting (shared entries with `per: dependency` in
  opslib/data/troubleshooting.yaml), on the decision tree's dependency branch;
- alerts.yml and the runbook's metrics table: upstream error ratio and latency, where the
  team gives the metric (`metrics`);
- the cost plan: a third-party line per fixed fee and per unit price (`pricing`), through
  `cost_items(params)`;
- the secret cross-check: every secret a dependency names is in the inventory, and every
  third-party credential of the inventory (kinds with `third_party: true`) belongs to a
  dependency.

    Dependency, DependencyPricing        the pydantic types
    cross_problems(params) -> list[str]  services, secrets, drivers, names
    cost_items(params) -> (components, prices)   the dependencies' cost lines, for the cost plan
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from opslib.params.cost import Component, PriceEntry, Quantity

__all__ = ["Dependency", "DependencyPricing", "UsagePrice", "DependencyMetrics", "Probe", "cross_problems", "cost_items", "price_id"]

SLUG = r"^[a-z][a-z0-9-]{0,62}$"


def _url(value: str) -> str:
    # it lands in commands (curl … <endpoint>): host, port and a plain path only, nothing a shell reads
    if not re.fullmatch(r"https://[A-Za-z0-9.-]+(:\d{1,5})?(/[A-Za-z0-9._~/%-]*)?", value):
        raise ValueError("must be an https URL of a host and a plain path (letters, digits, . _ ~ / % -), such as https://api.example.com/v1")
    return value.rstrip("/")


HttpsUrl = Annotated[str, AfterValidator(_url)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class UsagePrice(_Model):
    unit: str = Field(min_length=1, description="what one priced unit is, e.g. 'call', '1M input tokens', 'successful card charge'")
    price: str | None = Field(default=None, description="a price id of the pricing catalog (opslib/data/pricing.csv, cost.prices)")
    price_usd: float | None = Field(default=None, ge=0, description="the price per unit in USD, when it is not in a pricing catalog")
    drivers: list[str] = Field(min_length=1, description="cost.drivers entries multiplied into the units a month (e.g. [monthly_requests, cache_miss_ratio])")
    factor: float = Field(default=1.0, ge=0, description="converts driver units to priced units (e.g. 0.000001 when the price is per 1M)")
    free_units: float = Field(default=0, ge=0, description="units a month included for free, subtracted before pricing")

    @model_validator(mode="after")
    def _one_price(self) -> UsagePrice:
        if (self.price is None) == (self.price_usd is None):
            raise ValueError("give either price (a catalog id) or price_usd")
        return self


class DependencyPricing(_Model):
    monthly_usd: float | None = Field(default=None, ge=0, description="fixed fee per month in USD (plan or subscription); 0 when the plan is free or the fees are not paid from this budget")
    plan: str | None = Field(default=None, description="what the fixed fee buys, or why it is 0, e.g. 'Essentials 50K: 50,000 e-mails a month'")
    usage: list[UsagePrice] = Field(default_factory=list, description="per-unit prices, each with the cost drivers that count its units")
    components: list[str] = Field(default_factory=list, description="cost.components that already price the provider (e.g. token lines of category llm)")
    source: str = Field(min_length=1, description="where the numbers come from: the provider's pricing page or the contract")
    as_of: date = Field(description="date the price was read")
    environments: list[str] | None = Field(default=None, description="environments that pay the fixed fee and usage; default: all (leave out sandboxes that are free)")

    @model_validator(mode="after")
    def _shape(self) -> DependencyPricing:
        if self.monthly_usd is None and not self.usage and not self.components:
            raise ValueError("give monthly_usd (a fixed fee, 0 when nothing is paid from this budget), usage (per-unit prices) or components (cost lines that price it)")
        if self.plan is None and self.monthly_usd is not None:
            raise ValueError("monthly_usd needs plan (what the fee buys, or why it is 0)")
        return self


class DependencyMetrics(_Model):
    error_ratio: str | None = Field(
        default=None,
        description="PromQL giving the share (0-1) of failed calls to the provider over 5 minutes, e.g. "
        "sum(rate(upstream_requests_total{upstream=\"stripe\",code=~\"5..|429\"}[5m])) / sum(rate(upstream_requests_total{upstream=\"stripe\"}[5m]))",
    )
    error_pct: float = Field(default=5.0, gt=0, lt=100, description="the upstream error alert fires above this percentage for 5 minutes")
    latency_p95_seconds: str | None = Field(
        default=None,
        description="PromQL giving the p95 duration of calls to the provider in seconds, e.g. histogram_quantile(0.95, "
        "sum by (le) (rate(upstream_request_duration_seconds_bucket{upstream=\"stripe\"}[5m])))",
    )
    latency_ms: int | None = Field(default=None, gt=0, description="the upstream latency alert fires above this p95 for 10 minutes; default: half the timeout")

    @model_validator(mode="after")
    def _one(self) -> DependencyMetrics:
        if self.error_ratio is None and self.latency_p95_seconds is None:
            raise ValueError("give error_ratio and/or latency_p95_seconds, or leave metrics out")
        return self


class Probe(_Model):
    command: str = Field(min_length=1, description="a command that calls the provider with the service's credential and prints the HTTP status, e.g. "
                         "curl -sS -o /dev/null -w '%{http_code}\\n' -u \"${STRIPE_SECRET_KEY}:\" https://api.stripe.com/v1/balance")
    expected: str = Field(min_length=1, description="what a healthy answer prints, e.g. 200")


class Dependency(_Model):
    name: str = Field(pattern=SLUG, description="short name, lower-case with dashes (e.g. stripe); used in alert names and cost lines")
    title: str = Field(min_length=1, description="the provider as people name it, e.g. Stripe")
    purpose: str = Field(min_length=1, description="what the project uses it for, e.g. 'card payments and refunds at checkout'")
    services: list[str] = Field(min_length=1, description="services of the project that call it")
    endpoint: HttpsUrl = Field(description="base URL the services call, e.g. https://api.stripe.com")
    status_page: HttpsUrl | None = Field(default=None, description="the provider's public status page; leave out when there is none (then give support)")
    support: str | None = Field(default=None, description="how to reach the provider's support (plan, portal, phone), e.g. 'Stripe Dashboard → Support (Premium: 24/7 phone)'")
    rate_limit: str = Field(min_length=1, description="the provider's rate limits and quotas as they apply to the project's plan, e.g. '100 read and 100 write requests/s'")
    timeout_ms: int = Field(ge=1, le=600000, description="client timeout per call in milliseconds")
    retries: int = Field(default=2, ge=0, le=10, description="retries per call on timeouts, 429 and 5xx (with exponential backoff and jitter, honouring Retry-After)")
    fallback: str = Field(min_length=1, description="what the service does while the provider is down or limiting, e.g. 'serve the cached forecast up to 6 h old'")
    secrets: list[str] = Field(default_factory=list, description="env_var names of the secrets (secrets.items) the calls use")
    probe: Probe | None = Field(default=None, description="a command that checks the provider with the service's credential (troubleshooting); default: an unauthenticated request to endpoint")
    metrics: DependencyMetrics | None = Field(default=None, description="client-side metrics of the calls, for the upstream error and latency alerts; leave out when there are none")
    pricing: DependencyPricing = Field(description="what it costs: a fixed monthly fee, a per-unit price, or both (cost plan, third-party services)")

    @model_validator(mode="after")
    def _contact(self) -> Dependency:
        if self.status_page is None and self.support is None:
            raise ValueError("give status_page or support, so the on-call engineer can find out whether the provider is down")
        return self

    @property
    def timeout_s(self) -> str:
        return format(self.timeout_ms / 1000, "g")

    @property
    def latency_alert_ms(self) -> int:
        """The p95 above which the upstream latency alert fires (metrics.latency_ms, default half the timeout)."""
        return (self.metrics.latency_ms if self.metrics and self.metrics.latency_ms else None) or max(1, self.timeout_ms // 2)


def price_id(dep: Dependency, part: str) -> str:
    return f"dependency.{dep.name}.{part}"


def cost_items(params: Any) -> tuple[list[Component], list[PriceEntry]]:
    """The dependencies' cost lines (category third_party): `<name>-plan` for a fixed fee and
    `<name>-usage` (`-usage-2` …) per usage price, with the prices that are not in a catalog."""
    comps: list[Component] = []
    prices: list[PriceEntry] = []
    for dep in getattr(params, "dependencies", None) or []:
        p = dep.pricing
        common = {"category": "third_party", "service": dep.services[0], "environments": p.environments}
        if p.monthly_usd is not None:
            pid = price_id(dep, "plan")
            prices.append(PriceEntry(id=pid, provider=dep.title, service=dep.title, sku=p.plan or "monthly plan", unit="month",
                                     price_usd=p.monthly_usd, source=p.source, as_of=p.as_of))
            comps.append(Component(name=f"{dep.name}-plan", description=f"{dep.title}: {p.plan}", price=pid,
                                   quantity=Quantity(count={"low": 1, "expected": 1, "high": 1}), **common))
        for i, u in enumerate(p.usage):
            suffix = "usage" if len(p.usage) == 1 else f"usage-{i + 1}"
            pid = u.price or price_id(dep, suffix)
            if u.price_usd is not None:
                prices.append(PriceEntry(id=pid, provider=dep.title, service=dep.title, sku=u.unit, unit=u.unit,
                                         price_usd=u.price_usd, source=p.source, as_of=p.as_of))
            comps.append(Component(name=f"{dep.name}-{suffix}", description=f"{dep.title}: {u.unit} ({dep.purpose})", price=pid,
                                   quantity=Quantity(drivers=list(u.drivers), factor=u.factor), free_units=u.free_units, **common))
    return comps, prices


def cross_problems(params: Any, third_party_kinds: set[str], prices: dict[str, Any]) -> list[str]:
    """The dependencies against services, the secret inventory, the cost drivers and names;
    and every third-party credential of the inventory against the dependencies."""
    deps = getattr(params, "dependencies", None) or []
    services = {s.name for s in params.services}
    inventory = {i.env_var for i in (params.secrets.items if getattr(params, "secrets", None) else [])}
    cost = getattr(params, "cost", None)
    envs = [e.name for e in params.environments]
    out: list[str] = []
    seen: dict[str, int] = {}
    for i, dep in enumerate(deps):
        where = f"dependencies[{i}]"
        if dep.name in seen:
            out.append(f"{where}.name: {dep.name!r} is named twice (also dependencies[{seen[dep.name]}]); give each dependency its own name")
        seen.setdefault(dep.name, i)
        unknown = [s for s in dep.services if s not in services]
        if unknown:
            out.append(f"{where}.services: unknown service(s) {', '.join(unknown)}; use {', '.join(sorted(services))}")
        for j, var in enumerate(dep.secrets):
            if var not in inventory:
                out.append(f"{where}.secrets[{j}]: {var} is not in the secret inventory; add it under secrets.items (its env_var) or fix the name")
        p = dep.pricing
        for env in p.environments or []:
            if env not in envs:
                out.append(f"{where}.pricing.environments: no environment named {env!r}; use one of {', '.join(envs)}")
        if (p.usage or p.components) and cost is None:
            out.append(f"{where}.pricing: usage and components are priced in the cost model; add a cost: section (drivers, budgets) or give monthly_usd only")
        known = {**prices, **{x.id: x for x in cost.prices}} if cost is not None else prices
        for j, u in enumerate(p.usage):
            for d in u.drivers:
                if cost is not None and d not in cost.drivers:
                    out.append(f"{where}.pricing.usage[{j}].drivers: {d!r} is not a driver of cost.drivers; add it there (units a month) or fix the name")
            if u.price is not None and cost is not None and not cost.catalog and u.price not in known:
                out.append(f"{where}.pricing.usage[{j}].price: unknown price id {u.price!r}; pick one from opslib/data/pricing.csv, add it under cost.prices, or give price_usd")
        names = {c.name for c in cost.components} if cost is not None else set()
        for j, c in enumerate(p.components):
            if c not in names:
                out.append(f"{where}.pricing.components[{j}]: no cost component named {c!r}; use one of cost.components or fix the name")
        own = {f"{dep.name}-plan", f"{dep.name}-usage", *(f"{dep.name}-usage-{k + 1}" for k in range(len(p.usage)))}
        clash = sorted(names & own)
        if clash:
            out.append(f"{where}.name: cost.components already has {', '.join(clash)}, a line the dependency's pricing makes; rename the component or list it under pricing.components")
    claimed = {var for dep in deps for var in dep.secrets}
    for i, item in enumerate(params.secrets.items if getattr(params, "secrets", None) else []):
        if item.kind in third_party_kinds and item.env_var not in claimed:
            out.append(f"secrets.items[{i}].env_var: {item.env_var} is a third-party credential ({item.kind}) that no dependency uses; "
                       "declare the provider under dependencies: (with this env_var in its secrets) or change the kind")
    return out
