"""What the readiness notebook (90-readiness-review) displays: a verdict and a sign-off block
first (its review copy is what the reviewers sign), then the items by area and status and every
item with its evidence."""

from __future__ import annotations

import html
import tempfile
from pathlib import Path

from matplotlib.figure import Figure

from opslib.documents import contract as document
from opslib.documents import readiness
from opslib.documents.cost_plan_charts import png_bytes
from opslib.notebook.common import TABLE_CSS, protect_html, show_html, show_table

__all__ = ["documents_folder", "areas_table", "items_table", "areas_chart", "verdict", "verdict_html", "signoff_html", "decision",
           "areas", "items", "write"]

COLOURS = {"verified": "#2e7d32", "documented, not verified": "#f9a825", "not measured": "#bc4c00", "fail": "#c62828", "n/a": "#9e9e9e"}


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
    """One row per area: how many of its items are verified, documented only, not measured, failing, n/a."""
    import pandas as pd

    rows = [{"area": a, **c} for a, c in review.areas]
    return pd.DataFrame(rows).set_index("area")


def items_table(review):
    import pandas as pd

    pd.set_option("display.max_colwidth", None)
    # readiness.md has the blocking column; the review copy keeps to the page width (its items read "(not blocking)")
    return pd.DataFrame([{**{k: v for k, v in vars(i).items() if k not in ("verify", "blocking")},
                          "text": i.text if i.blocking else f"{i.text} (not blocking)"} for i in review.items]).set_index("id")


def areas_chart(review, project: str) -> Figure:
    """Items per area by status, stacked (matplotlib's object API: no backend switch)."""
    rows = list(reversed(review.areas))
    fig = Figure(figsize=(8, 0.35 * len(rows) + 1.4))
    ax = fig.subplots()
    left = [0] * len(rows)
    for status, colour in COLOURS.items():
        values = [c[status] for _, c in rows]
        ax.barh([a for a, _ in rows], values, left=left, color=colour, label=status)
        left = [x + v for x, v in zip(left, values, strict=True)]
    ax.set_xlabel("items")
    c = review.counts
    ax.set_title(f"{project}: {review.verdict} — {c['verified']} verified, {c['documented, not verified']} documented only, "
                 f"{c['not measured']} not measured, {c['fail']} fail")
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    return fig


def decision(review) -> tuple[str, str]:
    """(verdict, why) — the sentence a reviewer reads first: go / no-go / undecided, as readiness.md says."""
    return review.verdict, review.why


def verdict_html(review) -> str:
    head, why = decision(review)
    colour = {"no-go": "#cf222e", "undecided": "#9a6700"}.get(head, "#1a7f37")
    return (f"<div class='opslib-verdict' style='border-left:6px solid {colour};padding:6px 12px;margin:6px 0 12px;background:#f6f8fa'>"
            f"<p style='font-size:18px;margin:2px 0;color:{colour}'><b>Verdict: {html.escape(head)}</b></p>"
            f"<p style='margin:2px 0'>{html.escape(why)}</p></div>")


def signoff_html(review) -> str:
    """Who signs (seed 001 §8 Approval): the technical reviewer, the cost approvers, the stakeholders —
    filled from the evidence file's sign-off where it has one, else blank lines to fill."""
    rows = "".join(f"<tr style='height:2.6em'><td>{html.escape(s.role)}</td><td>{html.escape(s.signer)}</td><td>{html.escape(s.name)}</td>"
                   f"<td>{html.escape(s.decision or 'go / no-go')}</td><td>{html.escape(s.date)}</td><td>{html.escape(s.conditions)}</td></tr>"
                   for s in review.sign_off)
    return protect_html(
        f"{TABLE_CSS}<div class='opslib-signoff'><p><b>Sign-off</b> — print this review (or its PDF), fill in each line, and keep the signed copy "
        f"with the release record of {html.escape(review.project.name)} (or record the signatures under sign_off: in the evidence file).</p>"
        "<table class='opslib-table opslib-signoff-table' style='width:100%'><thead><tr><th>role</th><th>signer</th><th>name</th>"
        "<th>decision</th><th>date</th><th style='width:22%'>conditions</th></tr></thead>"
        f"<tbody>{rows}</tbody></table></div>")


# --- the notebook's views (Session.show) -----------------------------------------------------------


def _review(s):
    if "review" not in s.cache:
        folder = documents_folder(s.params, s.status, s.out_dir)
        s.cache["folder"] = folder
        s.cache["review"] = readiness.review(s.params, folder, s.status)
    return s.cache["review"]


def verdict(s) -> None:
    """The verdict and the sign-off block: what the review copy opens with."""
    rv = _review(s)
    show_html(verdict_html(rv) + signoff_html(rv))


def areas(s) -> None:
    from IPython.display import Image, display

    rv = _review(s)
    show_table(areas_table(rv).reset_index(), numeric=tuple(COLOURS))
    display(Image(png_bytes(areas_chart(rv, s.params.project.name))))


def items(s) -> None:
    show_table(items_table(_review(s)).reset_index())


def write(s):
    """readiness.md, a record: written whatever the review found (the review shown above, not a second one)."""
    return readiness.write(s.params, s.status, s.out_dir, _review(s))
