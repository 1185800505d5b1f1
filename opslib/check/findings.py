"""Findings: what every check returns, one per decided item; and the one signature every
genre's checker has (`Checker`), so generated and hand-written documents go through the same
function.

    check_<genre>(text, *, path=None, environments=None, params=None, strict=False, doc=None) -> list[Finding]

`strict=True` is the profile of opslib's own generated documents: the same findings, plus a
finding for each extra demand of their exact shape (a `### Spending limits` table, a
`Component` table, …). It only adds findings: a document that fails an item without it fails
it with it too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol

if TYPE_CHECKING:
    from opslib.check.markdown import Document
    from opslib.params.models import ProjectParams

__all__ = ["Status", "Finding", "failed", "warned", "Checker", "DEFAULT_ENVIRONMENTS", "environment_names"]

Status = Literal["pass", "fail", "n/a", "not measured"]
DEFAULT_ENVIRONMENTS = ("dev", "staging", "prod")


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
    """The failures that count: errors. A failing finding of severity "warning" is reported (and
    fails `opslib check --fail-on warning`) but refuses no generated document."""
    return [f for f in findings if f.status == "fail" and f.severity == "error"]


def warned(findings: list[Finding]) -> list[Finding]:
    """The failing findings of severity "warning"."""
    return [f for f in findings if f.status == "fail" and f.severity == "warning"]


class Checker(Protocol):
    """A genre's checker: `path` names the file (relative links resolve from it), `environments`
    the project's environments (default: those of `params`, else dev, staging, prod), `params`
    the project the document was generated for (the secret inventory, …), `strict` the profile
    of our generated documents, `doc` the text already parsed."""

    def __call__(self, text: str, *, path: Path | None = None, environments: Sequence[str] | None = None,
                 params: ProjectParams | None = None, strict: bool = False, doc: Document | None = None) -> list[Finding]: ...


def environment_names(environments: Sequence[str] | None, params: ProjectParams | None = None,
                      default: Sequence[str] | None = DEFAULT_ENVIRONMENTS) -> list[str]:
    """The environments a document is judged for: given, else the parameters', else `default`."""
    if environments:
        return list(environments)
    if params is not None:
        return [e.name for e in params.environments]
    return list(default or [])
