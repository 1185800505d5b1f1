"""The quality bar: one checker per genre, the same for generated and hand-written documents.

    check_genre(genre, text, *, path=None, environments=None, params=None, strict=False) -> list[Finding]
    check_document(text, path=None, genre=None, environments=None, name=None)          -> Report

`check_genre` runs a genre's checker (runbook, cost plan, cost report, secrets, pipeline,
deployment plan, deployment report, readiness review, alert rules); `strict=True` is the profile
of opslib's own generated documents and only adds findings. `check_document` is `opslib check`:
genre detection, the genre's checker, the generic documentation rules and a score. Item texts
are data: opslib/data/quality-bar.yaml (opslib.check.items).

Modules: findings (Finding, the Checker signature), items (the item catalog), markdown,
commands, placeholders, runbook, cost_plan, cost_report, secrets, pipeline, deployment,
readiness, alerts (one per genre), genres (the registry), document (`opslib check`), formats,
scan (secret scanning).
"""

from opslib.check.document import GENRES, Report, check_document, detect_genre
from opslib.check.findings import Checker, Finding
from opslib.check.genres import CHECKERS, check_genre

__all__ = ["CHECKERS", "GENRES", "Checker", "Finding", "Report", "check_document", "check_genre", "detect_genre"]
