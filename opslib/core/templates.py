"""Rendering: one Jinja environment with StrictUndefined for documents and catalog commands.

Templates loop and look up; they never compute. Formatting (money, numbers, percentages,
dates, shell comments, table cells) is done by the filters of `opslib.core.formatting`,
registered here and nowhere else.
"""

from __future__ import annotations

from functools import cache, lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, UndefinedError

from opslib.core.formatting import FILTERS
from opslib.errors import CatalogError

__all__ = ["environment", "render", "render_string", "template_name"]


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
    env.filters.update(FILTERS)
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
