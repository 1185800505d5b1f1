"""The `readiness:` section of the parameters and the evidence file it names.

The readiness review (readiness.md) passes an item only on evidence of state: a check opslib
ran itself, or an entry of the project's evidence file — who verified the item, when, with
what result and where the proof is. Evidence older than `max_age_days` (counted back from
project.as_of, so documents stay deterministic) is stale: the item is documented, not verified.

    readiness:
      evidence: ../evidence/weather-api.yaml    # relative to the parameters file; YAML or JSON
      max_age_days: 30

    # evidence/weather-api.yaml
    schema_version: 1
    items:
      prc-13: {verified_by: Dana Ruiz (SRE), date: 2026-10-30, result: pass,
               link: https://…, note: all three dashboards load with production data}
    sign_off:
      - {role: technical review, name: Dana Ruiz, date: 2026-11-02, decision: go, conditions: …}

The file is read when the parameters are loaded, with the same limits as a parameters file
(size, depth, aliases, string length, control characters, secret-looking values); every mistake
is reported at once, naming the file, the line and the field.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, ValidationInfo, field_validator, model_validator

from opslib.core.yamlio import error_message, key_path, line_of, read_yaml
from opslib.errors import InputError
from opslib.params.secrets import value_problems

__all__ = ["MAX_EVIDENCE_BYTES", "ROLES", "ItemEvidence", "Signature", "EvidenceFile", "ReadinessSection", "item_id_problem"]

MAX_EVIDENCE_BYTES = 1_000_000
MAX_TEXT = 2_000
ROLES = ("technical review", "cost approval", "stakeholder")
ITEM_ID = re.compile(r"^[a-z]{2,8}-\d{2,3}$")
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @field_validator("*", mode="after")
    @classmethod
    def _no_control(cls, value: object) -> object:
        if isinstance(value, str) and CONTROL.search(value):
            raise ValueError("holds a control character; remove it (only tabs and line breaks are allowed)")
        return value


class ItemEvidence(_Model):
    verified_by: str = Field(min_length=1, max_length=200, description="who checked the item's state (name, role)")
    date: dt.date = Field(description="when it was checked (YYYY-MM-DD); older than readiness.max_age_days before project.as_of is stale")
    result: Literal["pass", "fail"] = Field(description="what the check found: pass (the state is as documented) or fail")
    link: str = Field(min_length=1, max_length=MAX_TEXT, description="where the proof is: a URL (CI run, screenshot, ticket) or a file path")
    note: str = Field(default="", max_length=MAX_TEXT, description="what was checked, in one sentence (e.g. 'all 14 rules loaded in Prometheus')")


class Signature(_Model):
    role: Literal["technical review", "cost approval", "stakeholder"] = Field(description="what is signed (seed 001 §8 Approval)")
    name: str = Field(min_length=1, max_length=200, description="who signed")
    date: dt.date = Field(description="when (YYYY-MM-DD)")
    decision: Literal["go", "no-go"] = Field(description="go or no-go")
    conditions: str = Field(default="", max_length=MAX_TEXT, description="conditions attached to the decision (empty: none)")


class EvidenceFile(_Model):
    schema_version: Literal[1] = Field(description="version of the evidence file's schema; 1")
    items: dict[str, ItemEvidence] = Field(default_factory=dict, description="readiness item id (e.g. prc-13) → who verified it, when, result, link")
    sign_off: list[Signature] = Field(default_factory=list, description="the signatures of the review: technical review, cost approval, stakeholder")

    @field_validator("items", mode="after")
    @classmethod
    def _ids(cls, items: dict[str, ItemEvidence]) -> dict[str, ItemEvidence]:
        bad = [k for k in items if item_id_problem(k)]
        if bad:
            raise ValueError(f"{bad[0][:40]!r} is not a readiness item id; use the ids of readiness.md (dod-01 … dod-15, prc-01 … prc-32)")
        return items


def item_id_problem(key: str) -> bool:
    return not ITEM_ID.match(key)


class ReadinessSection(_Model):
    evidence: str | None = Field(default=None, max_length=1000, description="YAML or JSON file of evidence per readiness item (verified_by, date, result, link) "
                                 "and the review's sign-off; a path relative to the parameters file")
    max_age_days: int = Field(default=30, ge=1, le=3650, description="evidence older than this many days before project.as_of is stale (documented, not verified)")

    _loaded: EvidenceFile | None = PrivateAttr(default=None)
    _path: Path | None = PrivateAttr(default=None)

    @field_validator("evidence", mode="after")
    @classmethod
    def _check_file(cls, value: str | None, info: ValidationInfo) -> str | None:
        base = (info.context or {}).get("base_dir") if isinstance(info.context, dict) else None
        if value is not None and base is not None:
            _read(Path(base), value)
        return value

    @model_validator(mode="after")
    def _read_file(self, info: ValidationInfo) -> ReadinessSection:
        base = (info.context or {}).get("base_dir") if isinstance(info.context, dict) else None
        if self.evidence is None or base is None:
            return self
        self._loaded = _read(Path(base), self.evidence)
        self._path = Path(base) / self.evidence
        return self

    @property
    def loaded(self) -> EvidenceFile | None:
        """The evidence file, validated (None without one)."""
        return self._loaded

    @property
    def path(self) -> Path | None:
        return self._path


def _read(base: Path, name: str) -> EvidenceFile:
    """The evidence file `name` (relative to the parameters' folder), validated; ValueError listing
    every problem, each naming the file, its line and the field (never a value)."""
    try:
        raw = read_yaml(base / name, max_bytes=MAX_EVIDENCE_BYTES)
    except InputError as exc:
        raise ValueError(f"{name}: {str(exc).split(': ', 1)[-1]}") from None
    if not isinstance(raw, dict):
        raise ValueError(f"{name}: must be a mapping with schema_version, items and sign_off")
    leaked = value_problems(raw)
    if leaked:
        raise ValueError(_joined([f"{name}: {p}" for p in leaked]))
    try:
        return EvidenceFile.model_validate(_plain(raw))
    except ValidationError as exc:
        problems = []
        for err in exc.errors(include_url=False):
            loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
            line = line_of(raw, loc)
            problems.append(f"{name}{f' line {line}' if line else ''}: {key_path(loc)}: {error_message(err)}")
        raise ValueError(_joined(problems)) from None


def _joined(problems: list[str]) -> str:
    """One problem: the loader prefixes the field (readiness.evidence); several: each line names it."""
    return problems[0] if len(problems) == 1 else " | ".join(f"readiness.evidence: {p}" for p in problems)


def _plain(node: object) -> object:
    if isinstance(node, dict):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    return node
