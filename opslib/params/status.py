"""The status.json gate (seed 000: "Must check project status.json before starting work").

`check_status(params, force=False)` reads the project's status.json, validates it, and
refuses to go on when the project is blocked or on hold unless `force` is set. It returns
a `StatusCheck` that documents state what was checked. A project without `status_file` has a
StatusCheck with no status: the documents say "status.json: not linked … not checked".
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from opslib.core.yamlio import key_path, read_input_text
from opslib.errors import InputError, StatusError, StatusGateError
from opslib.params.models import ProjectParams

__all__ = ["HALTING", "ProjectStatus", "StatusCheck", "check_status", "load_status"]

HALTING = ("blocked", "on-hold")


class ProjectStatus(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    status: Literal["active", "blocked", "completed", "on-hold"] = Field(description="project state")
    current_phase: Literal["spec", "architecture", "implementation", "testing", "deployment"] = Field(description="current phase")
    last_updated: datetime = Field(description="ISO-8601 time of the last update")
    blocked_reason: str | None = Field(default=None, description="why the project is blocked or on hold")
    notes: str | None = Field(default=None, description="free text")


class StatusCheck(BaseModel):
    model_config = ConfigDict(frozen=True)

    path: str
    status: ProjectStatus | None  # None: the parameters link no status.json
    forced: bool

    @property
    def halting(self) -> bool:
        return self.status is not None and self.status.status in HALTING

    @property
    def summary(self) -> str:
        s = self.status
        if s is None:
            return "status.json: not linked (project.status_file), so the project's status was not checked"
        text = f"status.json: {s.status} / {s.current_phase}, updated {s.last_updated.date().isoformat()}"
        if self.halting and self.forced:
            text += f" — generated anyway with --force although the project is {s.status}"
            if s.blocked_reason:
                text += f" ({s.blocked_reason})"
        return text


def load_status(path: Path) -> ProjectStatus:
    if not Path(path).exists():
        raise StatusError(f"{path}: status.json not found; create it or fix project.status_file in the parameters.")
    try:
        raw = json.loads(read_input_text(path, "status.json", max_bytes=1_000_000))
    except InputError as exc:
        raise StatusError(str(exc)) from None
    except (json.JSONDecodeError, RecursionError) as exc:
        where = f" (line {exc.lineno})" if isinstance(exc, json.JSONDecodeError) else " (nested too deeply)"
        raise StatusError(f"{path}: not valid JSON{where}; fix the file.") from None
    try:
        return ProjectStatus.model_validate(raw)
    except ValidationError as exc:
        parts = [f"{key_path(e['loc'])}: {e['msg'][0].lower()}{e['msg'][1:]}" for e in exc.errors(include_url=False)]
        raise StatusError(f"{path}: malformed status.json ({'; '.join(parts)}); fix those fields.") from None


def check_status(params: ProjectParams, force: bool = False) -> StatusCheck:
    """Read the project's status.json; refuse a blocked or on-hold project unless forced."""
    if params.project.status_file is None:
        return StatusCheck(path="", status=None, forced=force)
    path = params.base_dir / params.project.status_file
    status = load_status(path)
    if status.status in HALTING and not force:
        reason = f": {status.blocked_reason}" if status.blocked_reason else ""
        raise StatusGateError(
            f"{path}: project {params.project.name} is {status.status}{reason}; "
            "resolve it first, or pass --force to generate the documents anyway (the documents will say so)."
        )
    return StatusCheck(path=str(path), status=status, forced=force)
