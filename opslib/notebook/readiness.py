"""What the readiness notebook (90-readiness-review) displays: the review as tables and a chart."""

from __future__ import annotations

import tempfile
from pathlib import Path

from opslib.documents import contract as document
from opslib.documents import readiness

__all__ = ["documents_folder", "areas_table", "items_table", "areas_chart"]

COLOURS = {"pass": "#2e7d32", "fail": "#c62828", "n/a": "#9e9e9e", "not measured": "#f9a825"}


def documents_folder(params, status, out_dir: str) -> Path:
    """The folder to review: `out_dir` when given (batch: the other notebooks wrote there),
    else a temporary folder into which every other document is rendered first."""
    if out_dir:
        return Path(out_dir)
    folder = Path(tempfile.mkdtemp(prefix="opslib-readiness-"))
    for module in document.document_modules():
        if module is not readiness:
            module.write(params, status, folder)
    return folder


def areas_table(review):
    import pandas as pd

    return pd.DataFrame([{"area": a, "score": s, **c} for a, s, c in review.areas]).set_index("area")


def items_table(review):
    import pandas as pd

    pd.set_option("display.max_colwidth", None)
    return pd.DataFrame([vars(i) for i in review.items]).set_index("id")


def areas_chart(review, project: str):
    ax = areas_table(review)[list(COLOURS)].plot.barh(stacked=True, figsize=(8, 4), color=list(COLOURS.values()))
    ax.set_xlabel("items")
    ax.set_title(f"{project}: readiness items by area (overall {review.overall}%)")
    return ax
