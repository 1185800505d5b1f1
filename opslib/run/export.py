"""Review copies of executed notebooks: the HTML (and PDF) that reviewers read.

`export_review(notebook, target)` is what `opslib batch` calls for every executed
notebook; everything it needs (project, as-of date) is read from the notebook itself
(papermill records the injected `params_path` in `metadata.papermill.parameters`).

The page is self-contained and reads correctly offline: no code cells, a title, the
project, the as-of date and a table of contents; no CDN scripts (nbconvert's require.js,
MathJax and mermaid loaders are left out; a Mermaid flowchart is drawn as SVG by
core/diagrams.py — the notebooks already show it so, this catches any left as source);
tables wrap and code wraps in print, so nothing leaves the page; when the notebook carries widget state
(`metadata.widgets`, stored by nbclient at the end of a run) the standalone widget renderer
(@jupyter-widgets/html-manager `embed.js`, shipped in `opslib/static/html-manager/`) is
inlined so sliders, drop-downs and tables show their final values.

`export_pdf(html, target)` prints such a page with Debian's Chromium through Playwright
(nbconvert's webpdf wants to download its own browser): A4, a running header (project,
document, as-of date) and page numbers on every page; it is an explicit command, never
part of the default batch.
"""

from __future__ import annotations

import base64
import html as htmlmod
import re
from functools import lru_cache
from pathlib import Path

from opslib.core.diagrams import flowchart_svg
from opslib.core.files import write_text_atomic
from opslib.documents.contract import refuse_secrets
from opslib.errors import InputError, OpslibError
from opslib.params.models import load_params

__all__ = ["export_review", "export_pdf", "review_context", "WIDGET_RENDERER", "CHROMIUM", "CHROMIUM_ARGS", "FOOTER"]

WIDGET_RENDERER = Path(__file__).resolve().parent.parent / "static" / "html-manager" / "embed.js"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync")
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
TOC_MARK = "<!--opslib-toc-->"
_PUBLIC_PATH_THROW = 'throw new Error("Automatic publicPath is not supported in this browser")'

# nbconvert's lab template, minus everything that fetches from the internet, plus a header.
_TEMPLATE = r"""{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block jupyter_widgets -%}
{%- if resources.opslib.widgets_js -%}
<script>{{ resources.opslib.widgets_js }}</script>
{%- endif -%}
{%- endblock jupyter_widgets -%}
{%- block extra_css -%}<style type="text/css">{{ resources.opslib.css }}</style>{%- endblock extra_css -%}
{%- block body_header -%}
{{ super() }}
<header class="opslib-review">
<p class="opslib-kicker">opslib review copy</p>
<h1 class="opslib-title">{{ resources.opslib.title | e }}</h1>
<dl class="opslib-meta">
<dt>Project</dt><dd class="opslib-project">{{ resources.opslib.project | e }}</dd>
<dt>As of</dt><dd class="opslib-as-of">{{ resources.opslib.as_of | e }}</dd>
<dt>Notebook</dt><dd>{{ resources.opslib.notebook | e }}</dd>
</dl>
""" + TOC_MARK + r"""
</header>
{%- endblock body_header -%}
"""

_CSS = """
body.jp-Notebook { max-width: 1100px; margin: 0 auto; padding: 0 24px 48px; }
header.opslib-review { border-bottom: 1px solid #d0d7de; margin: 24px 0 16px; padding-bottom: 12px; font-family: var(--jp-ui-font-family, sans-serif); }
.opslib-kicker { color: #57606a; text-transform: uppercase; letter-spacing: .08em; font-size: 11px; margin: 0; }
.opslib-title { font-size: 28px; margin: 4px 0 8px; }
.opslib-meta { display: grid; grid-template-columns: max-content auto; gap: 2px 12px; margin: 0 0 12px; font-size: 13px; }
.opslib-meta dt { color: #57606a; } .opslib-meta dd { margin: 0; font-weight: 600; }
nav.opslib-toc { background: #f6f8fa; border: 1px solid #d0d7de; border-radius: 6px; padding: 8px 16px; font-size: 13px; }
nav.opslib-toc ol { margin: 4px 0; padding-left: 20px; columns: 2; } nav.opslib-toc ol ol { columns: 1; list-style: lower-alpha; margin: 0; } nav.opslib-toc li { break-inside: avoid; }
nav.opslib-toc a { color: #0969da; text-decoration: none; }
.jp-Cell { padding: 2px 0; }
table.opslib-cost, table.opslib-checks, .jp-RenderedHTMLCommon table { font-size: 12px; }
.jp-RenderedHTMLCommon table { max-width: 100%; }
.jp-RenderedHTMLCommon td, .jp-RenderedHTMLCommon th { white-space: normal !important; overflow-wrap: break-word; vertical-align: top; }
.jp-RenderedHTMLCommon td code { white-space: normal; overflow-wrap: anywhere; }
.jp-RenderedHTMLCommon img, .jp-OutputArea-output img { max-width: 100%; height: auto; }
.jp-OutputArea-output { overflow-x: visible; }
.jupyter-widgets { font-family: var(--jp-ui-font-family, sans-serif); font-size: 13px; }
/* a review copy hides nothing: folded sections (the full documents under an explorer) show open, and
   their carets (Font Awesome, which the widget renderer would fetch as font files) are not drawn */
.jupyter-widget-Collapse .jupyter-widget-Collapse-contents.lm-Widget.lm-mod-hidden { display: block !important; }
.jupyter-widgets .fa, .jupyter-widget-Collapse-header .fa { display: none !important; }
@page { size: A4; }
@media print {
  body.jp-Notebook { max-width: none; padding: 0; }
  nav.opslib-toc { break-after: avoid; }
  nav.opslib-toc ol { columns: 1; }
  h1, h2, h3, h4, h5 { break-after: avoid; page-break-after: avoid; break-inside: avoid; }
  .jp-MarkdownCell:has(h1, h2, h3, h4) { break-after: avoid; page-break-after: avoid; }
  tr, img, svg, .opslib-verdict, .opslib-signoff { break-inside: avoid; page-break-inside: avoid; }
  pre, code { white-space: pre-wrap !important; overflow-wrap: anywhere; }
  .jp-RenderedHTMLCommon table, table.opslib-table { font-size: 11px; }
  .jp-OutputArea-output, .jp-RenderedHTMLCommon { overflow: visible !important; }
  .jupyter-widgets.widget-button, .jupyter-widgets.widget-text { display: none !important; }
}
"""

_HEADING = re.compile(r'<h([1-3]) id="([^"]+)">(.*?)<a class="anchor-link"', re.S)
_TAG = re.compile(r"<[^>]+>")
_IMG_SRC = re.compile(r'(<img\b[^>]*?\s)src="([^"]+)"')
_IMAGE_TYPES = {".png": "image/png", ".svg": "image/svg+xml", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}
_MERMAID = re.compile(r'<div class="jp-Mermaid">\s*<pre class="mermaid">(.*?)</pre>\s*</div>', re.S)


@lru_cache(maxsize=1)
def _exporter():
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter

    return HTMLExporter(template_name="lab", extra_loaders=[DictLoader({"opslib-review.html.j2": _TEMPLATE})],
                        template_file="opslib-review.html.j2", exclude_input=True, exclude_input_prompt=True,
                        exclude_output_prompt=True)


@lru_cache(maxsize=1)
def _widgets_js() -> str:
    if not WIDGET_RENDERER.is_file():
        raise OpslibError(f"{WIDGET_RENDERER}: the widget renderer is missing; reinstall opslib (scripts/setup).")
    js = WIDGET_RENDERER.read_text(encoding="utf-8")
    # webpack's automatic publicPath needs the <script src>; inlined, it has none: use the page's folder
    if _PUBLIC_PATH_THROW not in js:
        raise OpslibError(f"{WIDGET_RENDERER}: unexpected bundle (no automatic publicPath); see its README.md for the version to use.")
    return js.replace(_PUBLIC_PATH_THROW, 'e="./"').replace("</script", "<\\/script")


def _title(nb) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return ""


def review_context(nb, notebook: Path) -> dict:
    """Title, project and as-of date of an executed notebook (from its injected parameters)."""
    meta = nb.metadata.get("papermill", {})
    given = meta.get("parameters", {}).get("params_path")
    project, as_of = "not recorded (run with opslib batch or papermill)", "not recorded"
    if given:
        path = Path(given)
        if not path.is_absolute() and not path.is_file():  # relative to the kernel's folder: the input notebook's
            base = Path(meta["input_path"]).parent if meta.get("input_path") else notebook.parent
            path = base / path
        try:
            params = load_params(path)
            project, as_of = params.project.name, params.project.as_of.isoformat()
        except OpslibError:
            project = f"{Path(given).stem} (parameters file {given} no longer readable)"
    heading = _title(nb) or notebook.stem
    title = f"{heading} — {project}" if not project.startswith("not recorded") else heading
    return {"title": title, "project": project, "as_of": as_of, "notebook": notebook.name}


def _toc(body: str) -> str:
    """Contents from the page's h2/h3 headings (notebook sections and the documents shown in it)."""
    sections: list[tuple[str, list[str]]] = []
    for level, anchor, text in _HEADING.findall(body):
        if level == "1":
            continue  # the notebook title is the page title
        link = f'<a href="#{anchor}">{htmlmod.escape(htmlmod.unescape(_TAG.sub("", text)).strip())}</a>'
        if level == "2" or not sections:
            sections.append((link, []))
        else:
            sections[-1][1].append(link)
    if not sections:
        return ""
    items = "".join(f"<li>{link}" + (f"<ol>{''.join(f'<li>{s}</li>' for s in subs)}</ol>" if subs else "") + "</li>"
                    for link, subs in sections)
    return f'<nav class="opslib-toc"><b>Contents</b><ol>{items}</ol></nav>'


def _embed_images(body: str, base: Path) -> str:
    """Images the documents link relatively (cost-plan.md's figures/*.png) inlined as data: URIs,
    so the review copy shows them wherever it is opened."""
    import base64

    def inline(m: re.Match) -> str:
        path = base / htmlmod.unescape(m.group(2))
        if m.group(2).startswith(("data:", "http:", "https:", "/")) or not path.is_file() or path.suffix.lower() not in _IMAGE_TYPES:
            return m.group(0)
        return f'{m.group(1)}src="data:{_IMAGE_TYPES[path.suffix.lower()]};base64,{base64.b64encode(path.read_bytes()).decode()}"'

    return _IMG_SRC.sub(inline, body)


def _mermaid(body: str) -> str:
    """Mermaid blocks nbconvert left for mermaid.js (a CDN script) drawn as SVG images instead."""
    def draw(m: re.Match) -> str:
        svg = flowchart_svg(htmlmod.unescape(m.group(1)))
        if svg is None:
            return m.group(0)
        return f'<img alt="diagram" src="data:image/svg+xml;base64,{base64.b64encode(svg.encode()).decode()}">'

    return _MERMAID.sub(draw, body)


_SEGMENTS = re.compile(r"(<head\b.*?</head>|<script\b.*?</script>|<style\b.*?</style>|<pre\b.*?</pre>|<textarea\b.*?</textarea>|<[^>]+>)", re.S | re.I)
_LONG = re.compile(r"[^\s<>]{12,}")
_ENTITY = re.compile(r"(&#?\w+;)")


def _soft_breaks(body: str) -> str:
    """Break opportunities (<wbr>) inside long tokens of text — price ids, URLs, CamelCase alert
    names — after dots, dashes, slashes and underscores, between camel humps, and every 24
    characters at the latest: table columns then share the page width without chopping words."""
    def token(m: re.Match) -> str:
        out, run = [], 0
        for part in _ENTITY.split(m.group(0)):
            if _ENTITY.fullmatch(part):
                out.append(part)
                run += 1
                continue
            for i, ch in enumerate(part):
                out.append(ch)
                run += 1
                nxt = part[i + 1] if i + 1 < len(part) else ""
                if ch in "./_-:=?&," or (ch.islower() and nxt.isupper()) or run >= 24:
                    out.append("<wbr>")
                    run = 0
        return "".join(out)

    return "".join(part if _SEGMENTS.fullmatch(part) else _LONG.sub(token, part) for part in _SEGMENTS.split(body))


def _drop_title(nb) -> None:
    """The notebook's own '# title' line: the review header already carries it (with the project)."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            lines = cell.source.splitlines()
            if lines and lines[0].startswith("# "):
                cell.source = "\n".join(lines[1:]).lstrip("\n")
            return


def export_review(notebook: Path, target: Path) -> None:
    """Write an HTML review copy of an executed notebook: no code, a header with title, project,
    as-of date and contents, the widgets' final state, nothing loaded from the internet."""
    import nbformat

    notebook, target = Path(notebook), Path(target)
    nb = nbformat.read(str(notebook), as_version=4)
    ctx = review_context(nb, notebook)
    nb.metadata["title"] = ctx["title"]
    _drop_title(nb)
    has_widgets = bool(nb.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state"))
    if not has_widgets:
        nb.metadata.pop("widgets", None)
    resources = {"metadata": {"name": notebook.stem},
                 "opslib": {**ctx, "css": _CSS, "widgets_js": _widgets_js() if has_widgets else ""}}
    body, _ = _exporter().from_notebook_node(nb, resources=resources)
    body = _soft_breaks(_mermaid(body.replace(TOC_MARK, _toc(body), 1)))
    out_dir = nb.metadata.get("papermill", {}).get("parameters", {}).get("out_dir")
    if out_dir:
        body = _embed_images(body, Path(out_dir))
    refuse_secrets({target: body})
    write_text_atomic(target, body)


def _require_html(path: Path) -> None:
    """InputError unless `path` starts like an HTML page (UTF-8 text with <html or <!doctype html>)."""
    try:
        with path.open("rb") as fh:
            head = fh.read(65536)
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        text = ""
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror}); pass a review copy from build/<project>/review/.") from None
    if "\0" in text or not re.search(r"<!doctype html|<html[\s>]", text, re.I):
        raise InputError(f"{path}: not an HTML page; pass a review copy such as build/<project>/review/10-cost-plan.html.")
FOOTER = ('<div style="font-size:8px;width:100%;text-align:center;color:#57606a;font-family:sans-serif">'
          'page <span class="pageNumber"></span> of <span class="totalPages"></span></div>')


def _running_header(page) -> str:
    """Project · document on the left, the as-of date on the right, from the review copy's own header."""
    def text(selector: str) -> str:
        node = page.locator(selector)
        return node.first.inner_text().strip() if node.count() else ""

    title = text("header.opslib-review .opslib-title")
    project = text("header.opslib-review .opslib-project")
    document = title.rsplit(" — ", 1)[0] if title else page.title()
    left = " · ".join(htmlmod.escape(t) for t in (project, document) if t)
    as_of = htmlmod.escape(text("header.opslib-review .opslib-as-of"))
    return ('<div style="font-size:8px;width:100%;margin:0 10mm;color:#57606a;font-family:sans-serif;display:flex;justify-content:space-between">'
            f"<span>{left}</span><span>{'as of ' + as_of if as_of else ''}</span></div>")


def export_pdf(html: Path, target: Path | None = None, browser: str = CHROMIUM, timeout_s: float = 60) -> Path:
    """Print an HTML review copy to PDF (A4) with Chromium; requests that leave the machine are blocked."""
    import shutil
    import tempfile

    html = Path(html).resolve()
    if not html.is_file():
        raise InputError(f"{html}: no such HTML file; run `opslib batch` first (review copies are in build/<project>/review/).")
    _require_html(html)
    if not Path(browser).is_file() and not shutil.which(browser):
        raise OpslibError(f"{browser}: Chromium not found; run scripts/setup (it installs Debian's chromium).")
    target = Path(target) if target else html.with_suffix(".pdf")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise OpslibError("export-pdf needs playwright; install opslib's test extras (pip install -e '.[test]' or scripts/setup).") from None
    with tempfile.TemporaryDirectory(prefix="opslib-pdf-") as profile, sync_playwright() as pw:
        ctx = pw.chromium.launch_persistent_context(profile, executable_path=shutil.which(browser) or browser,
                                                    args=list(CHROMIUM_ARGS), headless=True)
        try:
            page = ctx.new_page()
            page.route("**/*", lambda route: route.continue_() if route.request.url.startswith(("file:", "data:", "blob:"))
                       else route.abort())
            page.goto(html.as_uri(), wait_until="load", timeout=timeout_s * 1000)
            if page.locator("script[type='application/vnd.jupyter.widget-view+json']").count():
                page.wait_for_selector(".jupyter-widgets.widget-container, .jupyter-widgets .widget-html", timeout=timeout_s * 1000)
            page.emulate_media(media="print")
            pdf = page.pdf(format="A4", print_background=True, display_header_footer=True, header_template=_running_header(page),
                           footer_template=FOOTER, margin={"top": "16mm", "bottom": "14mm", "left": "10mm", "right": "10mm"})
        finally:
            ctx.close()
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_bytes(pdf)
    tmp.replace(target)
    return target
