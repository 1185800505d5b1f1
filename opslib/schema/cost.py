"""The `cost:` section of the parameters (filled by the cost-plan issue)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

__all__ = ["CostSection", "cross_problems"]


class CostSection(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def cross_problems(params: Any) -> list[str]:
    return []
