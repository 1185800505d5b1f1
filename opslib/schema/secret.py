"""The `secrets:` section of the parameters (filled by the secret-inventory issue)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

__all__ = ["SecretsSection", "cross_problems", "value_problems"]


class SecretsSection(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def cross_problems(params: Any) -> list[str]:
    return []


def value_problems(raw: Any) -> list[str]:
    """One line per value in the raw parameters that looks like a real secret (never echoing it)."""
    return []
