"""The document contract: every document module has the same shape and one write sequence.

    DOC                                       document name, kebab-case (runbook, cost-plan, secrets)
    FILE                                      its main file (runbook.md, cost-plan.md, alerts.yml)
    draft(params, status, out_dir=None, …)    -> Draft     build, render, check; nothing written
    preview(params, status, …)                -> Draft     the same without figures (the notebooks' live view)
    write(params, status, out_dir, …)         -> Written   write_draft(draft(…)): refuse a failing draft, write atomically
    keep_failed(draft, folder)                -> Path|None a refused draft, marked FAILING DRAFT, where the user can read it
    check_written(out_dir, params)            -> [Finding] the checks of what is in out_dir (run.json, readiness)

`opslib render` writes every document of DOCUMENT_MODULES into a staging folder and swaps it
into place (opslib.run.render); `opslib batch` runs the notebooks, which call the same write.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from opslib.catalog.secrets import secret_kinds_in
from opslib.check.findings import Finding, failed
from opslib.check.genres import check_genre
from opslib.core.files import write_bytes_atomic, write_text_atomic
from opslib.errors import ChecksFailed, SecretInOutput
from opslib.params.models import ProjectParams

__all__ = ["DOCUMENT_MODULES", "FAILED_SUFFIX", "Draft", "Written", "check_file", "document_modules", "keep_failed", "refuse_secrets",
           "write_draft"]

# readiness last: it reviews the others
DOCUMENT_MODULES = ("runbook", "cost_plan", "cost_report", "secrets", "pipeline", "alerts", "readiness")


def document_modules() -> list[ModuleType]:
    return [importlib.import_module(f"opslib.documents.{name}") for name in DOCUMENT_MODULES]


@dataclass(frozen=True)
class Draft:
    """A rendered and checked document that is not written yet: what a preview shows and what
    write_draft writes. `text` is None when the document does not apply to the project (no
    `cost:` section, no billing data); `files` are further files beside it (figures, CI files,
    .env.example), relative to the project folder; `model` is what it was rendered from; `note`
    says why a document that does not apply is not written."""

    doc: str
    file: str
    text: str | None
    findings: list[Finding]
    files: Mapping[str, str | bytes] = field(default_factory=dict)
    model: Any = None
    note: str = ""  # what a preview shows when the document does not apply

    @property
    def markdown(self) -> str:
        return self.text if self.text is not None else self.note

    @property
    def ok(self) -> bool:
        return not failed(self.findings)


@dataclass(frozen=True)
class Written:
    """What a document module's write() returns: the main file written and its findings."""

    path: Path
    findings: list[Finding]


def check_file(genre: str, out_dir: str | Path, file: str, params: ProjectParams, missing: Finding | None = None) -> list[Finding]:
    """check_written of most documents: the genre's checker, strict profile, over `<out_dir>/<file>`;
    `missing` is the finding when the file is not there (default: nothing to check)."""
    path = Path(out_dir) / file
    if not path.is_file():
        return [missing] if missing is not None else []
    return check_genre(genre, path.read_text(encoding="utf-8"), path=path, params=params, strict=True)


def refuse_secrets(files: Mapping[str | Path, str | bytes]) -> None:
    """SecretInOutput for the first file whose content holds a secret value (keys, values,
    anywhere: the token rules of opslib/data/secret-rules.yaml); checked before anything is written."""
    for path, content in files.items():
        kinds = secret_kinds_in(content)
        if kinds:
            raise SecretInOutput(str(path), kinds)


FAILED_SUFFIX = ".failed"  # <out>/<project>.failed/: the drafts of a render that failed its checks


def failing_banner(draft: Draft) -> str:
    """The lines a kept failing draft starts with: not published, and which items failed (with
    their line in the kept file)."""
    bad = failed(draft.findings)
    head = (f"FAILING DRAFT — {draft.file} failed {len(bad)} quality-bar check(s) at render and was not published; "
            "fix the parameters and run `opslib render` again.")
    markdown = draft.file.endswith(".md")
    offset = len(bad) + (3 if markdown else 1)  # the banner's own lines
    items = [f"[{f.item}] {f.message}" + (f" (line {f.line + offset})" if f.line else "") for f in bad]
    if markdown:
        return "\n".join([f"> **{head}**", ">", *(f"> - {i}" for i in items)]) + "\n\n"
    return "\n".join([f"# {head}", *(f"#   {i}" for i in items)]) + "\n"


def keep_failed(draft: Draft, folder: str | Path) -> Path | None:
    """Write a failing draft's main file into `folder` (e.g. build/<project>.failed/), with the
    banner on top, and its companion Markdown documents, atomically, so the user reads what failed in context. Nothing is written when
    it would hold a secret value (None), nor for a document that does not apply."""
    if draft.text is None:
        return None
    path = Path(folder) / draft.file
    text = failing_banner(draft) + draft.text
    if secret_kinds_in(text):
        return None
    write_text_atomic(path, text)
    for rel, content in draft.files.items():  # a companion document (the operations manual) may hold the failing item
        if rel.endswith(".md") and "/" not in rel and isinstance(content, str) and not secret_kinds_in(content):
            write_text_atomic(Path(folder) / rel, content)
    return path


def write_draft(draft: Draft, out_dir: str | Path) -> Written:
    """The one write sequence: a draft that fails a check is refused (ChecksFailed names the file
    and the failing items; nothing is written), and so is one with a secret value in any of its
    files (SecretInOutput); otherwise the further files, then the main file, each written to a
    temporary file and renamed into place."""
    out_dir = Path(out_dir)
    path = out_dir / draft.file
    if not draft.ok:
        raise ChecksFailed(str(path), draft.findings, draft=draft)
    if draft.text is None:
        return Written(path=path, findings=draft.findings)
    refuse_secrets({path: draft.text, **{out_dir / rel: content for rel, content in draft.files.items()}})
    for rel, content in draft.files.items():
        if isinstance(content, bytes):
            write_bytes_atomic(out_dir / rel, content)
        else:
            write_text_atomic(out_dir / rel, content)
    write_text_atomic(path, draft.text)
    return Written(path=path, findings=draft.findings)
