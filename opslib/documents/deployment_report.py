"""Deployment reports (seed 003, Phase 5): a record of what happened → deployment-report.md.

    load_results(path)        -> Results   validated (pydantic, extra="forbid"), consistent with itself
    render_report(results)    -> str
    report_main(path, out)    -> int       the `opslib report RESULTS.yaml [--out DIR]` command

The results record (YAML, written by whoever ran the deploy; example in
tests/fixtures/deploy/results-*.yaml):

    unit_id, project, environment, version, previous_version, status (success|failed|rolled_back),
    started / finished ("YYYY-MM-DD HH:MM"), deployer, health_before, health_after, key_metrics,
    links: {qa_report, artifacts}, timeline: [{time, action, status}],
    verification: [{check, expected, actual, status: pass|fail}], issues: [...],
    rollback: {required, reason}, escalation: {severity, issue, impact, actions_taken, current_status,
    help_needed, contacts_notified}   (required when status is failed)

A record that contradicts itself is rejected: status success with a failed check or a FAILED
timeline event, rolled_back without rollback.required (and the reverse), failed without an
escalation. Written to <out>/<project>/deployments/<version>-<environment>/deployment-report.md
(beside the plan) with --out, else beside the results file. `project` and `environment` are
lower-case names and `version` a semantic version (they make the path), and the path is
checked to stay inside --out; times are real dates and times.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from opslib.core.files import inside, output_folder, write_text_atomic
from opslib.core.templates import render
from opslib.core.yamlio import key_path, read_yaml
from opslib.documents.contract import refuse_secrets
from opslib.errors import InputError

__all__ = ["DOC", "Results", "load_results", "render_report", "report_path", "write_report"]

DOC = "deployment-report"
FMT = "%Y-%m-%d %H:%M"


def _real_time(value: str) -> str:
    try:
        datetime.strptime(value, FMT)
    except ValueError:
        raise ValueError("must be a real date and time written YYYY-MM-DD HH:MM") from None
    return value


Stamp = Annotated[str, Field(pattern=r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$", description="YYYY-MM-DD HH:MM"), AfterValidator(_real_time)]
Name = Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{0,62}$", description="lower-case name: letters, digits and dashes")]
SemVer = Annotated[str, Field(pattern=r"^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z.-]+)?$",
                              max_length=100, description="semantic version, e.g. 1.4.2")]


class _M(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Event(_M):
    time: str = Field(pattern=r"^\d{2}:\d{2}$", description="HH:MM")
    action: str = Field(min_length=1)
    status: str = Field(description="SUCCESS, PASS, FAILED, FAIL or -")


class Check(_M):
    check: str = Field(min_length=1)
    expected: str
    actual: str
    status: Literal["pass", "fail"]


class Links(_M):
    qa_report: str = Field(min_length=1, description="QA/QA-Report-<UNIT_ID>.md")
    artifacts: str = Field(min_length=1, description="artifact location (image, zip)")


class Rollback(_M):
    required: bool
    reason: str | None = None


class Escalation(_M):
    severity: Literal["CRITICAL", "HIGH"]
    issue: str
    impact: str
    actions_taken: list[str] = Field(min_length=1)
    current_status: str
    help_needed: str
    contacts_notified: str


class Results(_M):
    unit_id: str = Field(min_length=1)
    project: Name
    environment: Name
    version: SemVer
    previous_version: str = Field(min_length=1)
    status: Literal["success", "failed", "rolled_back"]
    started: Stamp
    finished: Stamp
    deployer: str = "DevOps Agent"
    health_before: str
    health_after: str
    key_metrics: str = ""
    links: Links
    timeline: list[Event] = Field(min_length=1)
    verification: list[Check] = Field(min_length=1)
    issues: list[str] = Field(default_factory=list)
    rollback: Rollback
    escalation: Escalation | None = None

    @property
    def minutes(self) -> int:
        return int((datetime.strptime(self.finished, FMT) - datetime.strptime(self.started, FMT)).total_seconds() // 60)


def contradictions(r: Results) -> list[str]:
    out = []
    bad_checks = [c.check for c in r.verification if c.status == "fail"]
    bad_events = [e.action for e in r.timeline if e.status.upper() in ("FAILED", "FAIL")]
    if r.status == "success" and bad_checks:
        out.append(f"status is success but verification check(s) failed: {', '.join(bad_checks)}")
    if r.status == "success" and bad_events:
        out.append(f"status is success but timeline event(s) failed: {', '.join(bad_events)}")
    if r.status == "rolled_back" and not r.rollback.required:
        out.append("status is rolled_back but rollback.required is false")
    if r.status != "rolled_back" and r.rollback.required:
        out.append(f"rollback.required is true but status is {r.status} (use rolled_back)")
    if r.rollback.required and not r.rollback.reason:
        out.append("rollback.required is true without rollback.reason")
    if r.status == "failed" and r.escalation is None:
        out.append("status is failed without an escalation request (escalation:)")
    if r.minutes < 0:
        out.append("finished is before started")
    return out


def load_results(path: str | Path) -> Results:
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: results file not found; pass the YAML record of the deployment.")
    raw = read_yaml(path)
    try:
        r = Results.model_validate(raw)
    except ValidationError as exc:
        parts = [f"{key_path(e['loc'])}: {_problem(e)}" for e in exc.errors(include_url=False)]
        raise InputError(f"{path}: {'; '.join(parts)}; fix those fields.") from None
    bad = contradictions(r)
    if bad:
        raise InputError(f"{path}: the record contradicts itself ({'; '.join(bad)}); correct the record.")
    return r


def _problem(err) -> str:
    """The pydantic message without the value (a field of a record may hold anything)."""
    if err["type"] == "string_pattern_mismatch":
        return {"project": "must be a lower-case name (letters, digits, dashes)", "environment": "must be a lower-case name (letters, digits, dashes)",
                "version": "must be a semantic version such as 1.4.2"}.get(str(err["loc"][-1]), "must be written YYYY-MM-DD HH:MM")
    if err["type"] == "value_error":
        return str(err["ctx"]["error"])
    return str(err["msg"])


def render_report(r: Results) -> str:
    return render(DOC, r)


def report_path(r: Results, results_path: Path, out: str | Path | None = None) -> Path:
    """Where the report goes: under --out (checked to stay inside it), else beside the record."""
    if out:
        return inside(output_folder(out), r.project, "deployments", f"{r.version}-{r.environment}", "deployment-report.md",
                      what="record's project, version and environment")
    return Path(results_path).parent / "deployment-report.md"


def write_report(results_path: str | Path, out: str | Path | None = None) -> tuple[Results, Path]:
    """Read a deployment record and write its deployment-report.md; return the record and the path."""
    r = load_results(results_path)
    path, text = report_path(r, Path(results_path), out), render_report(r)
    refuse_secrets({path: text})
    return r, write_text_atomic(path, text)
