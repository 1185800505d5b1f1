"""The `cost:` section of the parameters: usage drivers, priced components, budgets.

A component's monthly cost is `price × quantity`, where the quantity is the product of a
count range, the named usage drivers it lists, a constant factor and (for hourly prices)
the hours per month it runs. Every quantity is a range (low / expected / high). Prices come
from the pricing catalog (`opslib/data/pricing.csv`, a catalog file of the project's own, or
`prices:` here) by id; a price or quantity that is not known is never treated as zero.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, GetJsonSchemaHandler, model_validator
from pydantic.json_schema import JsonSchemaValue

__all__ = ["CostSection", "Range", "Driver", "Quantity", "Component", "Budget", "PriceEntry", "CATEGORIES", "cross_problems"]

CATEGORIES = (
    "compute", "database", "storage", "network", "data_transfer", "serverless", "cdn", "queue",
    "monitoring", "third_party", "llm", "maintenance",
)
Category = Literal[
    "compute", "database", "storage", "network", "data_transfer", "serverless", "cdn", "queue",
    "monitoring", "third_party", "llm", "maintenance",
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Range(_Model):
    low: float = Field(ge=0, description="optimistic value (fewest units)")
    expected: float = Field(ge=0, description="most likely value")
    high: float = Field(ge=0, description="pessimistic value (most units)")

    @model_validator(mode="before")
    @classmethod
    def _scalar(cls, value: Any) -> Any:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return {"low": value, "expected": value, "high": value}
        return value

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: Any, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        """A range may be written as one number (low = expected = high): say so in the JSON Schema,
        so that editors validating against it accept `count: 1` as load_params does."""
        schema = handler(core_schema)
        if cls is not Range:  # a Driver needs its unit and description: no shorthand
            return schema
        return {"anyOf": [{"type": "number", "minimum": 0, "description": "one number: low, expected and high alike"}, schema]}

    @model_validator(mode="after")
    def _ordered(self) -> Range:
        if not self.low <= self.expected <= self.high:
            raise ValueError(f"must satisfy low ≤ expected ≤ high (got {self.low}, {self.expected}, {self.high}); reorder the values")
        return self


class Driver(Range):
    unit: str = Field(min_length=1, description="what one unit of the driver is, e.g. requests, GB, tokens")
    description: str = Field(min_length=1, description="what drives the number and where it comes from")
    environments: dict[str, Range] = Field(
        default_factory=dict, description="per-environment ranges that replace low/expected/high there (e.g. dev traffic)"
    )


class Quantity(_Model):
    count: Range | None = Field(default=None, description="how many units (nodes, dynos, hours, GB…) as a range; omit when the drivers give the amount")
    drivers: list[str] = Field(default_factory=list, description="names of usage drivers multiplied into the quantity")
    factor: float = Field(default=1.0, ge=0, description="constant multiplier converting driver units to price units (e.g. 0.000001 for a per-1M price)")
    hours: float | None = Field(default=None, ge=0, le=744, description="hours per month the resource runs, for hourly prices (default 730)")
    unknown: bool = Field(default=False, description="true when the amount is not known yet: the plan shows 'depends on usage' with the unit price")


class Component(_Model):
    name: str = Field(pattern=r"^[a-z][a-z0-9-]{0,62}$", description="component name, lower-case with dashes (e.g. eks-nodes)")
    category: Category = Field(description="kind of cost: " + ", ".join(CATEGORIES))
    description: str = Field(min_length=1, description="what is paid for, in a few words")
    service: str | None = Field(default=None, description="service of the project the cost belongs to (cost-allocation tag 'service')")
    environments: list[str] | None = Field(default=None, description="environments where the component exists; default: all")
    price: str | None = Field(default=None, description="price id from the pricing catalog (opslib/data/pricing.csv, cost.catalog or cost.prices); omitted: price unknown, a failing check")
    price_region_note: str | None = Field(
        default=None, min_length=1,
        description="why a price of another region than the environment's stands for it (e.g. 'same list price in both regions, checked 2026-10-01'); "
                    "without it such a price is flagged REGION MISMATCH in cost-plan.md and fails its check",
    )
    quantity: Quantity = Field(default_factory=Quantity, description="how many price units per month, in every environment")
    per_environment: dict[str, Quantity] = Field(default_factory=dict, description="quantity per environment, replacing `quantity` there")
    free_units: float = Field(default=0, ge=0, description="free-tier units per month, subtracted before pricing (e.g. 30000 free API calls)")
    discount_pct: float = Field(default=0, ge=0, lt=100, description="negotiated or committed discount in percent, applied after the free tier")
    discount_note: str | None = Field(default=None, description="what the discount is (contract, savings plan…); shown beside it")
    autoscaled: bool = Field(default=False, description="true when the count follows the environment's replicas (worst case uses replicas.max)")
    stateless: bool = Field(default=False, description="true when instances can be interrupted (spot/preemptible candidates)")
    arch: Literal["x86_64", "arm64"] = Field(default="x86_64", description="CPU architecture of compute or functions")
    utilization_pct: float | None = Field(default=None, ge=0, le=100, description="measured or expected average CPU/memory utilization (right-sizing)")
    always_on: bool = Field(default=False, description="true when a non-production resource must run around the clock (no night shutdown)")


class Budget(_Model):
    monthly_usd: float = Field(gt=0, description="spending limit per month in USD")
    limit: Literal["hard", "soft"] = Field(description="hard: stop or scale down at the limit; soft: exceeding needs approval")
    alert_to: list[str] = Field(min_length=1, description="who receives the budget alerts (e-mail addresses or channels)")


class PriceEntry(_Model):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9.-]*$", description="price id components refer to (lower-case, dots and dashes)")
    provider: str = Field(min_length=1, description="vendor, e.g. aws, heroku, openai, acme")
    service: str = Field(min_length=1, description="vendor service, e.g. EC2")
    sku: str = Field(min_length=1, description="what exactly is priced")
    region: str = Field(default="global", description="region the price applies to")
    unit: str = Field(min_length=1, description="price unit, e.g. hour, GB-month, 1M tokens")
    price_usd: float = Field(ge=0, description="price per unit in USD")
    source: str = Field(min_length=1, description="where the price comes from (URL, contract, quote)")
    as_of: date = Field(description="date the price was read")


class Quota(_Model):
    cpu_per_replica: float = Field(default=0.5, gt=0, description="CPU limit per replica of each service (Kubernetes ResourceQuota)")
    memory_gib_per_replica: float = Field(default=1.0, gt=0, description="memory limit in GiB per replica of each service")
    storage_gib: float = Field(default=100, gt=0, description="persistent-volume storage allowed per namespace in GiB")


class CostSection(_Model):
    catalog: str | None = Field(default=None, description="a pricing catalog CSV of your own (same columns as opslib/data/pricing.csv), relative to the parameters file; its ids override the shipped ones")
    prices: list[PriceEntry] = Field(default_factory=list, description="extra or overriding prices; they win over every catalog")
    max_price_age_days: int = Field(default=365, ge=1, description="a price read longer ago than this (before project.as_of) is flagged as stale")
    drivers: dict[str, Driver] = Field(default_factory=dict, description="named usage drivers (requests per month, GB stored, tokens per task…)")
    traffic_driver: str | None = Field(default=None, description="driver that counts requests or tasks; gives the cost per request")
    components: list[Component] = Field(min_length=1, description="priced components of the project")
    budgets: dict[str, Budget] = Field(description="spending limit per environment name")
    alert_thresholds_pct: list[int] = Field(default=[70, 90, 100], description="budget alert thresholds in percent of each limit, increasing")
    approval_increase_pct: int = Field(default=20, ge=1, description="a budget increase above this percent needs the approvers")
    approvers: list[str] = Field(default=["Engineering Manager", "Finance"], min_length=1, description="who approves budget increases")
    review_frequency: Literal["daily", "weekly", "monthly"] = Field(default="weekly", description="how often the cost dashboard is reviewed")
    tags: list[str] = Field(default=["environment", "service", "team"], min_length=1, description="cost-allocation tags every resource carries")
    quota: Quota = Field(default_factory=Quota, description="per-replica resource limits behind the Kubernetes ResourceQuota")
    simulations: int = Field(default=2000, ge=100, le=100000, description="Monte Carlo samples for P10/P50/P90 of the total")
    seed: int = Field(default=20260101, ge=0, description="random seed of the Monte Carlo (same seed, same percentiles)")

    @model_validator(mode="after")
    def _consistent(self) -> CostSection:
        problems = []
        t = self.alert_thresholds_pct
        if t != sorted(set(t)) or not t or t[0] <= 0:
            problems.append(f"alert_thresholds_pct: must be increasing positive percentages such as [70, 90, 100] (got {t})")
        names = [c.name for c in self.components]
        for name in sorted({n for n in names if names.count(n) > 1}):
            problems.append(f"components: {name!r} is named twice; give each component its own name")
        for i, comp in enumerate(self.components):
            for d in comp.quantity.drivers + [d for q in comp.per_environment.values() for d in q.drivers]:
                if d not in self.drivers:
                    problems.append(f"components[{i}].quantity.drivers: unknown driver {d!r}; define it under cost.drivers or fix the name")
        if self.traffic_driver is not None and self.traffic_driver not in self.drivers:
            problems.append(f"traffic_driver: unknown driver {self.traffic_driver!r}; use one of {', '.join(sorted(self.drivers)) or 'the drivers you define'}")
        if problems:
            raise ValueError(" | ".join(f"cost.{p}" for p in problems))
        return self


def cross_problems(params: Any, prices: dict[str, Any]) -> list[str]:
    """Checks of the cost section against the rest of the parameters (environment names) and the
    project's catalog `prices` (price ids)."""
    cost = getattr(params, "cost", None)
    if cost is None:
        return []
    envs = [e.name for e in params.environments]
    known = ", ".join(envs)
    out = []
    for name in cost.budgets:
        if name not in envs:
            out.append(f"cost.budgets.{name}: no environment named {name!r}; use one of {known}")
    for name in envs:
        if name not in cost.budgets:
            out.append(f"cost.budgets: environment {name!r} has no budget; add cost.budgets.{name}")
    for dname, drv in cost.drivers.items():
        for env in drv.environments:
            if env not in envs:
                out.append(f"cost.drivers.{dname}.environments.{env}: no environment named {env!r}; use one of {known}")
    # a catalog file of the project's own is resolved against the parameters file, which is
    # not known while validating: its ids are checked when the plan is estimated
    catalog = None if cost.catalog else {**prices, **{p.id: p for p in cost.prices}}
    for i, comp in enumerate(cost.components):
        for env in (comp.environments or []) + list(comp.per_environment):
            if env not in envs:
                out.append(f"cost.components[{i}] ({comp.name}): no environment named {env!r}; use one of {known}")
        if catalog is not None and comp.price is not None and comp.price not in catalog:
            out.append(f"cost.components[{i}].price: unknown price id {comp.price!r}; pick one from opslib/data/pricing.csv or add it under cost.prices")
    return out
