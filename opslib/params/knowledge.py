"""The `knowledge:` section: what the team knows about its own service, in the shape of the
shipped catalog entries, merged into the documents and checked like generated content.

    knowledge:
      file: ops/knowledge.yaml        # optional: more of the same in a file beside the parameters
      troubleshooting: [...]          # entries of opslib/data/troubleshooting.yaml's shape → runbook Troubleshooting
      procedures: [...]               # {title, steps} → procedures.md (beside the runbook) → Maintenance tasks
      alerts: [...]                   # opslib/data/metrics.yaml's shape, with expr → alerts.yml and the runbook

An entry whose id is a shipped entry's id replaces it. Commands are Jinja over the same names
as catalog commands (project, env, target, deploy, service, datastore). A mistake in the file
is reported with the file's line; a rendered entry that fails a check (no command an operator
can run, an unfilled placeholder, an unknown template name) is reported with the line of the
entry in the file it came from (`origin`).

    Knowledge, KnowledgeFile          the pydantic types
    merged(params) -> KnowledgeFile   inline entries, then the file's
    origin(params, section, index)    'parameters/x.yaml line 12' or 'ops/knowledge.yaml line 4'
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, ValidationInfo, model_validator

from opslib.catalog.loaders import AlertDefinition, TroubleshootingEntry
from opslib.catalog.platforms import Procedure
from opslib.core.yamlio import error_message, key_path, line_of, read_yaml
from opslib.errors import InputError

__all__ = ["Knowledge", "KnowledgeFile", "OwnAlert", "merged", "origin", "SECTIONS"]

SECTIONS = ("troubleshooting", "procedures", "alerts")


class OwnAlert(AlertDefinition):
    """An alert of the team's own: opslib/data/metrics.yaml's shape, with its expression."""

    expr: str = Field(description="PromQL over the project's own metrics (Jinja over sel, env, target, project, ci)")


class KnowledgeFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    troubleshooting: list[TroubleshootingEntry] = Field(default_factory=list, description="troubleshooting entries (id, title, category, symptoms, cause, diagnostics, solution, escalate_after_minutes)")
    procedures: list[Procedure] = Field(default_factory=list, description="procedures of the team's own (title, steps), listed in procedures.md (beside the runbook) under Maintenance tasks")
    alerts: list[OwnAlert] = Field(default_factory=list, description="alerts of the team's own (alert, name, signal, severity, for, window, threshold, rationale, action, expr)")


class Knowledge(KnowledgeFile):
    file: str | None = Field(default=None, description="a YAML file beside the parameters (relative path) holding more troubleshooting, procedures and alerts")

    _loaded: KnowledgeFile | None = PrivateAttr(default=None)
    _path: Path | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _read_file(self, info: ValidationInfo) -> Knowledge:
        base = (info.context or {}).get("base_dir") if isinstance(info.context, dict) else None
        if self.file is None or base is None:
            return self
        path = Path(base) / self.file
        try:
            raw = read_yaml(path)
        except InputError as exc:
            raise ValueError(f"{self.file}: {str(exc).split(': ', 1)[-1]}") from None
        if not isinstance(raw, dict):
            raise ValueError(f"{self.file}: must be a mapping with troubleshooting, procedures and/or alerts")
        try:
            self._loaded = KnowledgeFile.model_validate(raw)
        except ValidationError as exc:
            problems = []
            for err in exc.errors(include_url=False):
                line = line_of(raw, tuple(err["loc"]))
                problems.append(f"knowledge.file: {self.file}{f' line {line}' if line else ''}: {key_path(tuple(err['loc']))}: {error_message(err)}")
            raise ValueError(" | ".join(problems)) from None
        self._path = path
        return self

    @property
    def loaded(self) -> KnowledgeFile | None:
        return self._loaded


def merged(params: Any) -> KnowledgeFile:
    """The team's entries: the inline ones, then the file's (empty without a knowledge: section)."""
    own: Knowledge | None = getattr(params, "knowledge", None)
    if own is None:
        return KnowledgeFile()
    extra = own.loaded or KnowledgeFile()
    return KnowledgeFile(**{s: [*getattr(own, s), *getattr(extra, s)] for s in SECTIONS})


def origin(params: Any, section: str, index: int) -> str:
    """Where entry `index` of merged(params).<section> is written: file and line."""
    own: Knowledge | None = getattr(params, "knowledge", None)
    inline = len(getattr(own, section)) if own is not None else 0
    loc: tuple[str | int, ...]
    if own is not None and index >= inline and own.file:
        path, loc, label = Path(params.base_dir) / own.file, (section, index - inline), own.file
    else:
        path, loc, label = params.path, ("knowledge", section, index), str(params.path or "parameters")
    try:
        line = line_of(read_yaml(path), loc) if path is not None else None
    except InputError:
        line = None
    return f"{label} line {line}" if line else label
