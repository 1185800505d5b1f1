"""Rendering: one Jinja environment with StrictUndefined for documents and catalog commands.

Templates loop and look up; they never compute. Formatting (money, numbers, percentages,
dates, shell comments, table cells) is done by the filters of `opslib.core.formatting`,
registered here and nowhere else.

A command (`render_string(…, shell=True)`) has every value it interpolates quoted for the
place it lands in: a word of its own or part of one (shlex.quote), inside '…' ('\\'' for a
quote), inside "…" (\\ before \\ " $ `) or in a comment (no line break), found by reading the
rendered command as the shell would. A value made only of characters the shell does not
interpret (letters, digits, spaces and _@%+=:,./-) is left as it is, so commands with
ordinary names read as before.
"""

from __future__ import annotations

import re
import shlex
import uuid
from functools import cache, lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, UndefinedError, pass_context

from opslib.core.formatting import FILTERS, Verbatim
from opslib.errors import CatalogError

__all__ = ["environment", "render", "render_string", "shell_quote_values", "template_name"]

SHELL_INERT = re.compile(r"[A-Za-z0-9_@%+=:,./ -]*")  # not ~: a leading ~ is expanded


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


_MARKS = "_opslib_shell_values"


@pass_context
def _mark(context: Any, value: Any) -> str:
    """finalize of the shell environment: every interpolated value becomes a marker that
    shell_quote_values replaces once the whole command is known (context-dependent quoting)."""
    if isinstance(value, Verbatim):  # already quoted (shquote) or shell code (shell_code)
        return str(value)
    values, token = context[_MARKS]
    values.append(value)
    return f"\x00{token}{len(values) - 1}\x00"


@cache
def _shell_environment() -> Environment:
    return _catalog_environment().overlay(finalize=_mark)


@lru_cache(maxsize=4096)
def _compiled(source: str, shell: bool = False):
    return (_shell_environment() if shell else _catalog_environment()).from_string(source)


def _quote_for(value: str, state: str) -> str:
    if state == "'":
        return value.replace("'", "'\\''")
    if state == '"':
        return re.sub(r'([\\"$`])', r"\\\1", value)
    if state == "#":  # a comment runs nothing up to the end of its line
        return value.replace("\r", " ").replace("\n", " ")
    return value if SHELL_INERT.fullmatch(value) else shlex.quote(value)


def shell_quote_values(text: str, values: list[Any], token: str) -> str:
    """Replace the markers `\\0<token><i>\\0` in a rendered command by values[i], quoted for
    where each stands: outside quotes, in '…', in "…" (a $(…) inside "…" is outside again), or
    in a comment."""
    out: list[str] = []
    stack = [""]  # "" outside quotes, "'" single, '"' double, "$(" command substitution, "#" comment
    i, n = 0, len(text)
    marker = re.compile(r"\x00" + re.escape(token) + r"(\d+)\x00")
    while i < n:
        m = marker.match(text, i) if text[i] == "\x00" else None
        if m:
            out.append(_quote_for(str(values[int(m.group(1))]), stack[-1]))
            i = m.end()
            continue
        c, state = text[i], stack[-1]
        out.append(c)
        if state == "'":
            if c == "'":
                stack.pop()
        elif state == "#":
            if c == "\n":
                stack.pop()
        elif c == "\\" and i + 1 < n and text[i + 1] != "\x00":
            out.append(text[i + 1])
            i += 1
        elif state == '"':
            if c == '"':
                stack.pop()
            elif c == "$" and text.startswith("(", i + 1):
                stack.append("$(")
        else:  # outside quotes, or inside $(…)
            if c == "'":
                stack.append("'")
            elif c == '"':
                stack.append('"')
            elif c == "$" and text.startswith("(", i + 1):
                stack.append("$(")
            elif c == ")" and state == "$(":
                stack.pop()
            elif c == "#" and (i == 0 or text[i - 1] in " \t\n;|&("):
                stack.append("#")
        i += 1
    return "".join(out)


def template_name(doc: str) -> str:
    """Document name → template file (`runbook` → `runbook.md.j2`)."""
    return f"{doc}.md.j2"


def render(doc: str, model: Any) -> str:
    """Render document `doc` (e.g. "runbook") from its model."""
    return environment().get_template(template_name(doc)).render(doc=model)


def render_string(source: str, context: dict[str, Any], where: str = "catalog", shell: bool = False) -> str:
    """Render a catalog template string (a command, a default name) with StrictUndefined; with
    `shell`, every interpolated value is quoted for the shell (see the module's docstring)."""
    try:
        if not shell:
            return _compiled(source).render(**context).strip("\n")
        values: list[Any] = []
        token = uuid.uuid4().hex[:12]
        rendered = _compiled(source, True).render(**context, **{_MARKS: (values, token)})
        return shell_quote_values(rendered, values, token).strip("\n")
    except UndefinedError as exc:
        raise CatalogError(f"{where}: template {source.strip()[:60]!r} uses an unknown field ({exc.message}); fix the catalog entry.") from None
