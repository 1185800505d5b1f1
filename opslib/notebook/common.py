"""What the notebooks display, and the interactive runbook explorer.

Notebook cells stay thin: they call these functions. The explorer's callbacks call the
same pure function the batch run uses (`runbook.preview`).
"""

from __future__ import annotations

import re
from pathlib import Path

from opslib.check.findings import Finding
from opslib.documents import runbook
from opslib.errors import OpslibError
from opslib.params.models import load_params
from opslib.params.status import check_status

__all__ = ["summary", "escape_dollars", "findings_table", "show_status", "show_findings", "show_markdown", "show_written", "runbook_explorer"]


def findings_table(findings: list[Finding]):
    import pandas as pd

    return pd.DataFrame(
        [{"status": f.status, "quality-bar item": f.item, "finding": f.message, "line": f.line or ""} for f in findings]
    )


def _label(f: Finding) -> str:
    """pass, fail, n/a, not measured; a failing finding of severity warning reads "warning"."""
    return "warning" if f.status == "fail" and f.severity == "warning" else f.status


def summary(findings: list[Finding]) -> str:
    counts = {s: sum(_label(f) == s for f in findings) for s in ("pass", "fail", "warning", "n/a", "not measured")}
    return ", ".join(f"{n} {s}" for s, n in counts.items() if n)


def show_status(params, status) -> None:
    from IPython.display import Markdown, display

    display(Markdown(f"**{params.project.name}** on **{params.platform}**, as of {params.project.as_of.isoformat()} — {status.summary}"))


def show_findings(findings: list[Finding]) -> None:
    from IPython.display import Markdown, display

    display(Markdown(f"**Quality-bar checks**: {summary(findings)}"))
    table = findings_table(findings).style.hide(axis="index").set_properties(**{"text-align": "left"})
    display(table.set_table_styles([{"selector": "th", "props": [("text-align", "left")]}]))


_FENCE = re.compile(r"^\s{0,3}(```|~~~)")
_CODE_SPAN = re.compile(r"(`+)(.+?)\1")


def escape_dollars(text: str) -> str:
    """Escape `$` outside code so JupyterLab, Voilà and nbconvert don't typeset money as LaTeX
    ("$120 … $80" would become an equation); `\\$` renders as a plain dollar sign."""
    out, fenced = [], None
    for line in text.split("\n"):
        fence = _FENCE.match(line)
        if fenced:
            fenced = None if fence and fence.group(1) == fenced else fenced
            out.append(line)
        elif fence:
            fenced = fence.group(1)
            out.append(line)
        else:
            parts, last = [], 0
            for m in _CODE_SPAN.finditer(line):
                parts += [line[last:m.start()].replace("$", r"\$"), m.group(0)]
                last = m.end()
            out.append("".join(parts) + line[last:].replace("$", r"\$"))
    return "\n".join(out)


def show_markdown(text: str) -> None:
    from IPython.display import Markdown, display

    display(Markdown(escape_dollars(text)))


def show_written(written) -> None:
    from IPython.display import Markdown, display

    if written is None:
        display(Markdown("Preview only: set `out_dir` (or run `opslib batch`) to write runbook.md."))
    else:
        display(Markdown(f"Wrote `{written.path.name}`: {summary(written.findings)}."))


def _html_findings(findings: list[Finding]) -> str:
    colour = {"pass": "#1a7f37", "fail": "#cf222e", "warning": "#bc4c00", "n/a": "#57606a", "not measured": "#9a6700"}
    rows = "".join(
        f"<tr><td style='color:{colour[_label(f)]};font-weight:bold'>{_label(f)}</td><td>{f.item}</td><td>{f.message}</td></tr>"
        for f in findings
    )
    return f"<p><b>Quality-bar checks</b>: {summary(findings)}</p><table class='opslib-checks'>{rows}</table>"


def runbook_explorer(params_path: str | Path, params_dir: str | Path | None = None):
    """Drop-downs for project, environment and platform; a live runbook preview and its checks."""
    import html

    import ipywidgets as w
    from markdown_it import MarkdownIt

    params_path = Path(params_path).resolve()
    folder = Path(params_dir).resolve() if params_dir else params_path.parent
    projects = sorted(folder.glob("*.yaml"))
    project = w.Dropdown(description="Project", options=[(p.stem, str(p)) for p in projects], value=str(params_path))
    env = w.Dropdown(description="Environment")
    platform = w.Dropdown(description="Platform")  # the project's catalog's platforms, set when a project loads
    message = w.HTML()
    checks = w.HTML()
    preview = w.HTML(layout=w.Layout(max_height="600px", overflow="auto", border="1px solid #d0d7de", padding="0 1em"))
    md = MarkdownIt("commonmark").enable("table")
    state: dict = {}

    def load_project(*_):
        try:
            state["params"] = load_params(project.value)
            state["status"] = check_status(state["params"], force=True)
        except OpslibError as exc:
            state.clear()
            message.value = f"<pre style='color:#cf222e'>{html.escape(str(exc))}</pre>"
            return
        p = state["params"]
        state["loading"] = True
        try:
            env.options = [e.name for e in p.environments]
            env.value = p.production.name
            platform.options = list(p.catalog.platform_names())
            platform.value = p.platform
        finally:
            state["loading"] = False
        refresh()

    def refresh(*_):
        if "params" not in state or state.get("loading") or env.value is None:
            return
        try:
            draft = runbook.preview(state["params"], state["status"], focus=env.value, platform=platform.value)
        except OpslibError as exc:
            message.value = f"<pre style='color:#cf222e'>{html.escape(str(exc))}</pre>"
            checks.value = preview.value = ""
            return
        status = state["status"]
        message.value = f"<p>{html.escape(status.summary)}</p>"
        checks.value = _html_findings(draft.findings)
        preview.value = md.render(draft.markdown)

    project.observe(load_project, names="value")
    env.observe(refresh, names="value")
    platform.observe(refresh, names="value")
    load_project()
    return w.VBox([w.HBox([project, env, platform]), message, checks, preview])
