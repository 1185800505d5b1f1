"""The documents opslib writes, in order. Each is a module of opslib with:

    DOC                                   document name (kebab-case: runbook, cost-plan, secrets)
    write(params, status, out_dir)        build, render, check, write; raise ChecksFailed on a failing check
    check_written(out_dir, params)        re-check what was written (for run.json)

`opslib render` writes every document; `opslib batch` runs every notebook, and each
notebook writes its document through the same `write`.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

__all__ = ["DOCUMENT_MODULES", "Written", "document_modules"]

DOCUMENT_MODULES = ("runbook", "cost_plan", "cost_report", "secrets", "pipeline", "alerts", "readiness")  # readiness last: it reviews the others


def document_modules() -> list[ModuleType]:
    return [importlib.import_module(f"opslib.documents.{name}") for name in DOCUMENT_MODULES]


@dataclass(frozen=True)
class Written:
    """What a document module's write() returns: the main file written and its findings."""

    path: Path
    findings: list
