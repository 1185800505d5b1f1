"""Findings: what every check returns, one per decided item."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

__all__ = ["Status", "Finding", "failed"]

Status = Literal["pass", "fail", "n/a", "not measured"]


@dataclass(frozen=True)
class Finding:
    item: str
    status: Status
    message: str
    line: int | None = None
    area: str = "runbook"
    severity: str = "error"  # a failing finding is an "error" or a "warning" (`--fail-on`)

    def as_dict(self) -> dict:
        return asdict(self)


def failed(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.status == "fail"]
