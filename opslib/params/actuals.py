"""The `actuals:` section of the parameters: where the FOCUS billing exports are and how their
rows are attributed to this project and its environments (cost-report.md, `opslib actuals`).

A row belongs to the project when its project tag (`tags.project`, e.g. `application`) equals
`project_tag_value`, or its SubAccountId is listed under `accounts`, or its ServiceName under
`services`. Its environment comes from the environment tag, else from the account, else from
the service mapping. Spend that cannot be attributed is reported, never dropped.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["ActualsSection", "Anomaly", "TagKeys", "cross_problems"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class TagKeys(_Model):
    project: str = Field(default="application", min_length=1, description="tag key whose value names the project (FOCUS Tags JSON object; 'user:<key>' is accepted too)")
    environment: str = Field(default="environment", min_length=1, description="tag key whose value names the environment")


class Anomaly(_Model):
    z_threshold: float = Field(default=3.5, gt=0, description="robust z-score (deviation from the same-weekday median ÷ 1.4826·MAD) from which a day is an anomaly")
    min_usd: float = Field(default=10.0, ge=0, description="ignore deviations smaller than this many USD a day")
    history_days: int = Field(default=28, ge=14, le=91, description="trailing days that form the baseline (whole weeks keep the weekly pattern)")


class ActualsSection(_Model):
    billing: list[str] = Field(min_length=1, description="FOCUS cost-and-usage exports (CSV, .csv.gz or Parquet files, or folders of them), relative to the parameters file")
    tags: TagKeys = Field(default_factory=TagKeys, description="tag keys that attribute a row to the project and the environment")
    project_tag_value: str | None = Field(default=None, description="value of the project tag that means this project (default: project.name); compared case-insensitively")
    environment_aliases: dict[str, str] = Field(default_factory=dict, description="environment tag values that mean an environment, e.g. {production: prod}; names themselves always match")
    accounts: dict[str, str] = Field(default_factory=dict, description="SubAccountId → environment, for accounts that belong to this project entirely")
    services: dict[str, str] = Field(default_factory=dict, description="ServiceName → environment, for services billed without tags (e.g. AWS Support → prod)")
    cost_column: Literal["EffectiveCost", "BilledCost"] = Field(default="EffectiveCost", description="cost column summed: EffectiveCost (amortized, FinOps default) or BilledCost (as invoiced); the other fills a missing value")
    variance_target_pct: float = Field(default=20, gt=0, description="target: actual within this percent of the estimate per month (seed 000: < 20% in the first 3 months)")
    anomaly: Anomaly = Field(default_factory=Anomaly, description="daily anomaly detection against the same-weekday baseline")


def cross_problems(params: Any) -> list[str]:
    """Checks of the actuals section against the environments and the cost section."""
    act = getattr(params, "actuals", None)
    if act is None:
        return []
    envs = [e.name for e in params.environments]
    known = ", ".join(envs)
    out = []
    if getattr(params, "cost", None) is None:
        out.append("actuals: needs a cost: section (budgets and the estimate to compare against); add one or remove actuals:")
    for where, mapping in (("accounts", act.accounts), ("services", act.services), ("environment_aliases", act.environment_aliases)):
        for key, env in mapping.items():
            if env not in envs:
                out.append(f"actuals.{where}.{key}: no environment named {env!r}; use one of {known}")
    return out
