"""One checker per genre, the same for generated and hand-written documents: the registry.

    check_genre(genre, text, *, path=None, environments=None, params=None, strict=False, doc=None) -> list[Finding]

Every checker has that signature (opslib.check.findings.Checker); `strict=True` is the profile
of our own generated documents and only adds findings. Genres without a checker of their own
(alert-runbook, procedure, checklist, template, postmortem) are judged by the generic rules of
opslib.check.document alone: their checker returns no findings.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from opslib.check.alerts import check_alerts
from opslib.check.cost_plan import check_cost_plan
from opslib.check.cost_report import check_cost_report
from opslib.check.deployment import check_deployment_plan, check_deployment_report
from opslib.check.findings import Checker, Finding
from opslib.check.markdown import Document
from opslib.check.pipeline import check_pipeline
from opslib.check.readiness import check_readiness
from opslib.check.runbook import check_runbook
from opslib.check.secrets import check_secrets
from opslib.params.models import ProjectParams

__all__ = ["CHECKERS", "GENERIC_GENRES", "check_genre"]

CHECKERS: dict[str, Checker] = {
    "service-runbook": check_runbook,
    "cost-plan": check_cost_plan,
    "cost-report": check_cost_report,
    "secrets": check_secrets,
    "pipeline": check_pipeline,
    "deployment-plan": check_deployment_plan,
    "deployment-report": check_deployment_report,
    "readiness": check_readiness,
    "alerts": check_alerts,
}
# genres `opslib check` recognises that only the generic rules judge
GENERIC_GENRES = ("alert-runbook", "procedure", "checklist", "template", "postmortem")


def check_genre(genre: str, text: str, *, path: Path | None = None, environments: Sequence[str] | None = None,
                params: ProjectParams | None = None, strict: bool = False, doc: Document | None = None) -> list[Finding]:
    """The findings of the genre's checker (none for a genre only the generic rules judge)."""
    if genre in GENERIC_GENRES:
        return []
    try:
        checker = CHECKERS[genre]
    except KeyError:
        raise ValueError(f"unknown genre {genre!r}; use one of {', '.join([*CHECKERS, *GENERIC_GENRES])}") from None
    return checker(text, path=path, environments=environments, params=params, strict=strict, doc=doc)
