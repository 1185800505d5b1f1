"""Review copies of executed notebooks: the HTML (and PDF) that reviewers read.

`export_review(notebook, target)` is what `opslib batch` calls for every executed
notebook; everything it needs (project, as-of date) is read from the notebook itself.
"""

from __future__ import annotations

from pathlib import Path

from .output import write_text_atomic

__all__ = ["export_review"]


def export_review(notebook: Path, target: Path) -> None:
    """Write an HTML review copy of an executed notebook, without code cells."""
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True)
    body, _ = exporter.from_filename(str(notebook))
    write_text_atomic(target, body)
