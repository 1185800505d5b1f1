"""What notebooks/30-runbook.ipynb displays: the explorer (environment, platform), the
quality-bar checks, runbook.md and procedures.md beside it — the same pure functions as the batch run."""

from __future__ import annotations

import html

from opslib.documents import runbook as runbookdoc
from opslib.documents.contract import Draft
from opslib.notebook.common import runbook_explorer, show_findings, show_html

__all__ = ["explorer", "checks", "document", "procedures", "write"]


def explorer(s) -> None:
    """Drop-downs for the environment the commands target and the platform; a batch run says which it used."""
    from IPython.display import display

    if s.interactive:
        display(runbook_explorer(s.params, s.status))
    else:
        show_html(f"<p>The runbook below: commands for every environment, written in full for <b>{html.escape(s.params.production.name)}</b>, "
                  f"on <b>{html.escape(s.params.platform)}</b>.</p>")


def _draft(s):
    if "runbook-draft" not in s.cache:
        s.cache["runbook-draft"] = runbookdoc.preview(s.params, s.status)
    return s.cache["runbook-draft"]


def checks(s) -> None:
    """The published runbook's checks (the explorer's are for the environment and platform picked there)."""
    show_findings(_draft(s).findings)


def document(s) -> None:
    s.document(_draft(s))


def procedures(s) -> None:
    """procedures.md, written beside the runbook: maintenance, datastores, the failures it links to."""
    d = _draft(s)
    s.document(Draft(d.doc, runbookdoc.MANUAL, d.files.get(runbookdoc.MANUAL), d.findings))


def write(s):
    return runbookdoc.write(s.params, s.status, s.out_dir)
