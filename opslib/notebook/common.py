"""What every notebook displays: Markdown, tables and findings that read the same in JupyterLab,
Voilà and the review copies, and the runbook explorer.

Money and math. JupyterLab and Voilà typeset `$…$` with MathJax *after* the Markdown is
rendered, so an escaped `\\$` (which Markdown turns back into `$`) still pairs with the next
dollar sign, and a `%` inside the pair starts a TeX comment: "70% = $280, 90% = $360" came out
as "70% = 280, 90360". A dollar sign outside code is therefore written as
`<span class="opslib-usd">&#36;</span>`: the Markdown source holds no `$` (JupyterLab's
math pre-pass finds nothing), and in the page every `$` is alone in its own element (MathJax
never pairs text across elements). HTML outputs (tables) get the same treatment; widget
labels never carry a `$` (ipywidgets typesets descriptions).
"""

from __future__ import annotations

import base64
import html
import re
from pathlib import Path

from opslib.check.findings import Finding
from opslib.core.diagrams import flowchart_svg
from opslib.documents import runbook
from opslib.errors import OpslibError
from opslib.params.models import load_params
from opslib.params.status import check_status

__all__ = ["DOLLAR", "summary", "escape_dollars", "protect_html", "markdown_for_display", "findings_table", "findings_html",
           "show_findings", "show_markdown", "show_html", "show_table", "table_html", "human_label", "runbook_explorer",
           "error_html", "TABLE_CSS"]

DOLLAR = '<span class="opslib-usd">&#36;</span>'
STATUS_COLOURS = {"pass": "#1a7f37", "fail": "#cf222e", "warning": "#bc4c00", "n/a": "#57606a", "not measured": "#9a6700"}
# !important: JupyterLab's `:not(.jp-RenderedMarkdown).jp-RenderedHTMLCommon td` (right-aligned, one line) outranks a class
TABLE_CSS = ("<style>table.opslib-table{border-collapse:collapse;margin:4px 0 12px;table-layout:auto;max-width:100%}"
             "table.opslib-table th,table.opslib-table td{text-align:left!important;vertical-align:top!important;padding:3px 8px;"
             "white-space:normal!important;overflow-wrap:break-word;border-bottom:1px solid #d8dee4}table.opslib-table th{background:#f6f8fa}"
             "table.opslib-table td.num{text-align:right!important;white-space:nowrap!important}</style>")

_FENCE = re.compile(r"^\s{0,3}(```|~~~)")
_CODE_SPAN = re.compile(r"(`+)(.+?)\1")
_MERMAID = re.compile(r"^```mermaid[ \t]*\n(.*?)^```[ \t]*$", re.M | re.S)
_IMAGE = re.compile(r"(!\[[^\]]*\]\()([^)\s]+)(\))")
_TAGS = re.compile(r"(<[^>]*>)")


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


def escape_dollars(text: str) -> str:
    """Markdown with every `$` outside code as DOLLAR (see the module's docstring)."""
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
                parts += [line[last:m.start()].replace("$", DOLLAR), m.group(0)]
                last = m.end()
            out.append("".join(parts) + line[last:].replace("$", DOLLAR))
    return "\n".join(out)


def protect_html(text: str) -> str:
    """HTML with every `$` of its text (not of its tags, scripts or styles) as DOLLAR."""
    out, skip = [], False
    for part in _TAGS.split(text):
        if part.startswith("<"):
            name = part[1:].split(None, 1)[0].lower().rstrip(">") if len(part) > 2 else ""
            skip = name in ("script", "style") or (skip and name not in ("/script", "/style"))
            out.append(part)
        else:
            out.append(part if skip else part.replace("$", DOLLAR))
    return "".join(out)


def _data_uri(data: bytes | str, mime: str) -> str:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    return f"data:{mime};base64,{base64.b64encode(raw).decode()}"


def markdown_for_display(text: str, images: dict[str, bytes | str] | None = None) -> str:
    """A document's Markdown as the notebooks show it: Mermaid flowcharts drawn as SVG
    (core/diagrams.py: no CDN), the figures it links (`figures/x.png`, from `images`) embedded
    as data: URIs (a preview has written no files a browser could fetch), money safe."""
    def diagram(m: re.Match) -> str:
        svg = flowchart_svg(m.group(1))
        return m.group(0) if svg is None else f"![diagram]({_data_uri(svg, 'image/svg+xml')})"

    def image(m: re.Match) -> str:
        data = (images or {}).get(m.group(2))
        if data is None:
            return m.group(0)
        mime = "image/svg+xml" if m.group(2).endswith(".svg") else "image/png"
        return f"{m.group(1)}{_data_uri(data, mime)}{m.group(3)}"

    return escape_dollars(_IMAGE.sub(image, _MERMAID.sub(diagram, text)))


def show_markdown(text: str, images: dict[str, bytes | str] | None = None) -> None:
    from IPython.display import Markdown, display

    display(Markdown(markdown_for_display(text, images)))


def show_html(text: str) -> None:
    from IPython.display import HTML, display

    display(HTML(protect_html(text)))


def _cell(value) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "—"  # not decided / not known: never "NaN"
    return html.escape(str(value))


def table_html(rows: list[dict], numeric: tuple[str, ...] = (), caption: str = "") -> str:
    """Rows as a wrapping HTML table (no index column, "—" for a missing value, money safe)."""
    if not rows:
        return "<p><i>none</i></p>"
    cols = list(rows[0])
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in cols)
    body = "".join("<tr>" + "".join(f"<td{' class=num' if c in numeric else ''}>{_cell(r.get(c))}</td>" for c in cols) + "</tr>"
                   for r in rows)
    cap = f"<caption style='text-align:left;font-weight:bold'>{html.escape(caption)}</caption>" if caption else ""
    return protect_html(f"{TABLE_CSS}<table class='opslib-table'>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")


def show_table(data, numeric: tuple[str, ...] = (), caption: str = "") -> None:
    """A DataFrame or a list of dicts as table_html."""
    from IPython.display import HTML, display

    rows = data.to_dict("records") if hasattr(data, "to_dict") else list(data)
    display(HTML(table_html(rows, numeric, caption)))


def findings_html(findings: list[Finding]) -> str:
    rows = "".join(
        f"<tr><td style='color:{STATUS_COLOURS.get(_label(f), '#1f2328')};font-weight:bold;white-space:nowrap'>{html.escape(_label(f))}</td>"
        f"<td>{html.escape(f.item)}</td><td>{html.escape(f.message)}</td></tr>"
        for f in findings
    )
    return protect_html(f"{TABLE_CSS}<p><b>Quality-bar checks</b>: {html.escape(summary(findings))}</p>"
                        f"<table class='opslib-table opslib-checks'><thead><tr><th>status</th><th>item</th><th>finding</th></tr></thead>"
                        f"<tbody>{rows}</tbody></table>")


def show_findings(findings: list[Finding]) -> None:
    from IPython.display import HTML, display

    display(HTML(findings_html(findings)))


def error_html(exc: BaseException) -> str:
    return f"<pre style='color:#cf222e;white-space:pre-wrap'>{html.escape(str(exc))}</pre>"


_WORDS = {"gb": "GB", "tb": "TB", "mb": "MB", "cdn": "CDN", "db": "DB", "nat": "NAT", "api": "API", "llm": "LLM", "cpu": "CPU",
          "io": "I/O", "sms": "SMS", "ci": "CI", "url": "URL", "id": "ID", "pct": "%", "usd": "USD", "vm": "VM", "s3": "S3"}


def human_label(key: str) -> str:
    """`monthly_requests` → "Monthly requests", `cdn_gb` → "CDN GB": a YAML key as people say it."""
    words = [_WORDS.get(w.lower(), w) for w in re.split(r"[_\s]+", str(key)) if w]
    if words and words[0] == words[0].lower():
        words[0] = words[0][:1].upper() + words[0][1:]
    return " ".join(words)


def runbook_explorer(params, status=None):
    """Drop-downs for the environment the commands target and the platform; a live runbook
    preview and its checks. (The project is picked once, at the top of the notebook.)"""
    import ipywidgets as w
    from markdown_it import MarkdownIt

    if isinstance(params, (str, Path)):
        params = load_params(params)
    status = status if status is not None else check_status(params, force=True)
    label = {"description_width": "150px"}
    env = w.Dropdown(description="Commands target", options=[e.name for e in params.environments], value=params.production.name, style=label,
                     tooltip="the environment the runbook's commands are written for")
    platform = w.Dropdown(description="Platform", options=list(params.catalog.platform_names()), value=params.platform, style=label,
                          tooltip="where the project runs; another platform shows how its runbook would read")
    checks = w.HTML()
    preview = w.HTML(layout=w.Layout(max_height="600px", overflow="auto", border="1px solid #d0d7de", padding="0 1em"))
    md = MarkdownIt("commonmark").enable("table")

    def refresh(*_):
        try:
            draft = runbook.preview(params, status, focus=env.value, platform=platform.value)
        except OpslibError as exc:
            checks.value, preview.value = error_html(exc), ""
            return
        checks.value = findings_html(draft.findings)
        preview.value = md.render(escape_dollars(draft.markdown))

    env.observe(refresh, names="value")
    platform.observe(refresh, names="value")
    refresh()
    return w.VBox([w.HBox([env, platform]), checks, preview])
