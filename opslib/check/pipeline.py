"""Quality-bar checks of a CI/CD pipeline document: every item of the quality bar's "CI/CD
Pipeline Validation" list, on a generated or a hand-written pipeline document. Our generated
pipeline.md is held to the same rules (`strict` adds nothing; its CI files are validated
against the official schemas by opslib.documents.pipeline). Item texts:
opslib/data/quality-bar.yaml, genre pipeline.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from opslib.check.commands import has_command, project_clis
from opslib.check.findings import Finding, environment_names
from opslib.check.items import item_texts
from opslib.check.markdown import Document, Section, parse
from opslib.check.truth import generated_truth
from opslib.params.models import ProjectParams

__all__ = ["GENRE", "ITEMS", "check_pipeline"]

GENRE = "pipeline"
ITEMS = item_texts(GENRE)
# the environments a pipeline document must deploy to when neither the caller nor the
# parameters name them
DEFAULT_DEPLOY_ENVIRONMENTS = ("staging", "prod")


def _f(item: str, ok: bool, good: str, bad: str, line: int | None = None) -> Finding:
    return Finding(item, "pass" if ok else "fail", good if ok else bad, line, area="pipeline")


def _sections(doc: Document, *words: str) -> list[Section]:
    return [s for s in doc.sections if any(w in s.title.lower() for w in words)]


def _text(doc: Document, secs: list[Section]) -> str:
    return "\n".join(doc.body(s) for s in secs)


def check_pipeline(text: str, *, path: Path | None = None, environments: Sequence[str] | None = None,
                   params: ProjectParams | None = None, strict: bool = False, doc: Document | None = None) -> list[Finding]:
    """Every item of the quality bar's "CI/CD Pipeline Validation" list, on a generated or
    hand-written pipeline document (`doc`: the text already parsed)."""
    doc = doc if doc is not None and doc.text == text else parse(text, Path(path) if path else None)
    low = text.lower()
    envs = environment_names(environments, params, default=DEFAULT_DEPLOY_ENVIRONMENTS)
    out = []
    b = _text(doc, _sections(doc, "build", "stage"))
    out.append(_f(ITEMS["build"], bool(re.search(r"docker build|package|zip|wheel|npm pack|go build", b, re.I)),
                  "build stage with its command", "no build stage with a command (docker build, package, …); document or add it"))
    t = _text(doc, _sections(doc, "test", "stage"))
    out.append(_f(ITEMS["test"], bool(re.search(r"\b(pytest|jest|go test|npm test|unit test)", t, re.I)),
                  "test stage runs the unit and integration tests", "no test stage with a test command; add one"))
    dep = bool(re.search(r"pip-audit|npm audit|govulncheck|dependency audit|snyk|dependabot", low))
    cont = bool(re.search(r"trivy|grype|container (image )?scan|image scan", low)) or "not containerized" in low
    out.append(_f(ITEMS["security"], dep and cont, "dependency audit and container image scan (or not containerized)",
                  f"missing: {', '.join(w for w, ok in (('dependency audit', dep), ('container image scan', cont)) if not ok)}"))
    missing = []
    for env in envs:
        secs = [s for s in doc.sections if re.search(rf"\bdeploy\w* (to )?{re.escape(env)}\b", s.title, re.I)]
        if not secs or not any(doc.fences_in(s) for s in secs):
            missing.append(env)
    out.append(_f(ITEMS["deploy"], not missing, f"automated deploy with commands for {', '.join(envs)}",
                  f"no deploy section with commands for: {', '.join(missing)} (heading 'Deploy to <env>')"))
    ap = _text(doc, _sections(doc, "approval"))
    out.append(_f(ITEMS["approval"], bool(re.search(r"approv\w*:?\s*\S", ap, re.I)) and ("production" in ap.lower() or "prod" in ap.lower()),
                  "production approval gate and approvers named", "no Approval section naming who approves production deploys"))
    sm = _text(doc, _sections(doc, "smoke", "deploy"))
    # an HTTP check of the web services, or (workers, scheduled jobs) a command with the result it expects
    probed = bool(re.search(r"curl|http", sm)) or any(has_command(f, project_clis(params)) for s in _sections(doc, "smoke", "deploy") for f in doc.fences_in(s))
    out.append(_f(ITEMS["smoke"], "smoke" in sm.lower() and probed and "expect" in sm.lower(),
                  "post-deploy smoke test with endpoint and expected response", "no smoke test (endpoint and expected response) after deploys"))
    rb = _text(doc, _sections(doc, "roll"))
    out.append(_f(ITEMS["rollback"], bool(rb) and any(doc.fences_in(s) for s in _sections(doc, "roll")),
                  "rollback automation with the platform's rollback command", "no rollback section with commands"))
    nt = _text(doc, _sections(doc, "notif"))
    out.append(_f(ITEMS["notify"], bool(re.search(r"#[\w-]+|@[\w.-]+|slack|teams|e-?mail", nt, re.I)),
                  "notification channel configured", "no Notifications section naming a channel"))
    if strict and params is not None:
        out += generated_truth(text, path=Path(path) if path else None, params=params, doc=doc)
    return out
