"""Rendering: one Jinja environment with StrictUndefined for documents and catalog commands.

Templates loop and look up; they never compute. Formatting (numbers, dates,
shell comments, table cells) is done by filters defined here.
"""

from __future__ import annotations

from datetime import date
from functools import cache, lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, UndefinedError

from opslib.errors import CatalogError

__all__ = ["environment", "number", "render", "render_string", "template_name"]


def number(value: float) -> str:
    """99.9 → '99.9', 95.0 → '95', 0.6000000001 → '0.6'."""
    return f"{round(value, 4):g}"


def _isodate(value: date) -> str:
    return value.isoformat()


def _comment(text: str) -> str:
    """Prefix every line with '# ' (expected output inside a shell block)."""
    return "\n".join(f"# {line}" if line else "#" for line in str(text).splitlines())


def _cell(text: Any) -> str:
    """Make a value safe for a Markdown table cell."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def _anchor(title: str) -> str:
    """GitHub-style heading anchor."""
    out = []
    for ch in title.lower().strip():
        if ch.isalnum() or ch in "-_":
            out.append(ch)
        elif ch == " ":
            out.append("-")
    return "".join(out)


@cache
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("opslib", "templates"),
        undefined=StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(number=number, isodate=_isodate, comment=_comment, cell=_cell, anchor=_anchor)
    return env


@cache
def _catalog_environment() -> Environment:
    """The document environment without block trimming: a catalog command keeps the
    newline after an inline `{% endif %}`, as its author wrote it."""
    return environment().overlay(trim_blocks=False, lstrip_blocks=False)


@lru_cache(maxsize=4096)
def _compiled(source: str):
    return _catalog_environment().from_string(source)


def template_name(doc: str) -> str:
    """Document name → template file (`runbook` → `runbook.md.j2`)."""
    return f"{doc}.md.j2"


def render(doc: str, model: Any) -> str:
    """Render document `doc` (e.g. "runbook") from its model."""
    return environment().get_template(template_name(doc)).render(doc=model)


def render_string(source: str, context: dict[str, Any], where: str = "catalog") -> str:
    """Render a catalog template string (a command, a default name) with StrictUndefined."""
    try:
        return _compiled(source).render(**context).strip("\n")
    except UndefinedError as exc:
        raise CatalogError(f"{where}: template {source.strip()[:60]!r} uses an unknown field ({exc.message}); fix the catalog entry.") from None
