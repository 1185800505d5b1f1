"""What the readiness notebook (90-readiness-review) displays: a verdict and a sign-off block
first (its review copy is what the reviewers sign), then the scores by area and every item with
its evidence."""

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
    """One row per area; an area with no decided item has no score ("—", never NaN)."""
    import pandas as pd

    rows = [{"area": a, "score": f"{s:.0f}%" if s is not None else "—", **c} for a, s, c in review.areas]
    return pd.DataFrame(rows).set_index("area")


def items_table(review):
    import pandas as pd

    pd.set_option("display.max_colwidth", None)
    return pd.DataFrame([vars(i) for i in review.items]).set_index("id")


def areas_chart(review, project: str) -> Figure:
    """Items per area by status, stacked (matplotlib's object API: no backend switch)."""
    rows = list(reversed(review.areas))
    fig = Figure(figsize=(8, 0.35 * len(rows) + 1.4))
    ax = fig.subplots()
    left = [0] * len(rows)
    for status, colour in COLOURS.items():
        values = [c[status] for _, _, c in rows]
        ax.barh([a for a, _, _ in rows], values, left=left, color=colour, label=status)
        left = [x + v for x, v in zip(left, values, strict=True)]
    ax.set_xlabel("items")
    c = review.counts
    ax.set_title(f"{project}: {c['pass']} pass, {c['fail']} fail, {c['n/a']} n/a, {c['not measured']} not measured")
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    return fig


def decision(review) -> tuple[str, str]:
    """(verdict, why) — the sentence a reviewer reads first. A score over the decided items alone
    would say 100% with half the checklist unmeasured; this says what is and is not known."""
    c = review.counts
    total = sum(c.values())
    halting = review.status is not None and review.status.halting and review.status.status is not None
    if c["fail"]:
        failed = [i for i in review.items if i.status == "fail"]
        names = "; ".join(f"{i.id} {i.text}" for i in failed[:3]) + ("; …" if len(failed) > 3 else "")
        return "Not ready", f"{c['fail']} of {total} items fail ({names}). Fix them, run the batch again, then sign."
    if halting:
        return "Not ready", f"status.json says the project is {review.status.status.status if review.status and review.status.status else 'halted'}; it is reviewed only because the run was forced."
    if c["not measured"]:
        return ("Ready to sign, with checks by hand",
                f"{c['pass']} of {total} items pass and none fails; {c['not measured']} cannot be shown by a document (they are marked "
                "'not measured' below with what would evidence them): the signers confirm those by hand.")
    return "Ready to sign", f"All {c['pass']} decided items pass ({c['n/a']} n/a)."


def verdict_html(review) -> str:
    head, why = decision(review)
    colour = "#cf222e" if head.startswith("Not") else ("#9a6700" if "hand" in head else "#1a7f37")
    return (f"<div class='opslib-verdict' style='border-left:6px solid {colour};padding:6px 12px;margin:6px 0 12px;background:#f6f8fa'>"
            f"<p style='font-size:18px;margin:2px 0;color:{colour}'><b>Verdict: {html.escape(head)}</b></p>"
            f"<p style='margin:2px 0'>{html.escape(why)}</p></div>")


def signoff_html(params) -> str:
    """Who signs (seed 001 §8 Approval): the technical reviewer, each cost approver, the stakeholders."""
    approvers = list(params.cost.approvers) if params.cost is not None else ["Cost approver"]
    roles = [("Technical review", "technical reviewer")] + [("Cost approval", a) for a in approvers] + [("Stakeholder sign-off", "stakeholder")]
    rows = "".join(f"<tr style='height:2.6em'><td>{html.escape(item)}</td><td>{html.escape(who)}</td><td></td><td>approve / reject</td>"
                   "<td></td><td></td></tr>" for item, who in roles)
    return protect_html(
        f"{TABLE_CSS}<div class='opslib-signoff'><p><b>Sign-off</b> — print this review (or its PDF), fill in each line, and keep the signed copy "
        f"with the release record of {html.escape(params.project.name)}.</p>"
        "<table class='opslib-table opslib-signoff-table' style='width:100%'><thead><tr><th>item</th><th>role</th><th>name</th>"
        "<th>decision</th><th>date</th><th style='width:22%'>signature</th></tr></thead>"
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
    show_html(verdict_html(_review(s)) + signoff_html(s.params))


def areas(s) -> None:
    from IPython.display import Image, display

    rv = _review(s)
    show_table(areas_table(rv).reset_index(), numeric=("score", "pass", "fail", "n/a", "not measured"))
    display(Image(png_bytes(areas_chart(rv, s.params.project.name))))


def items(s) -> None:
    show_table(items_table(_review(s)).reset_index())


def write(s):
    """readiness.md, a record: written whatever the review found (the review shown above, not a second one)."""
    return readiness.write(s.params, s.status, s.out_dir, _review(s))
