"""Reading YAML with line numbers, so errors can point at the line in the user's file.

ruamel.yaml implements YAML 1.2: `on`, `yes` and `no` stay strings, and every mapping
and sequence remembers where each key or item starts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from opslib.errors import InputError

__all__ = ["read_yaml", "line_of", "key_path", "error_message"]


def read_yaml(path: Path, lines: bool = True) -> Any:
    """Parse a YAML file; a syntax error becomes one InputError naming file and line.

    With `lines` (parameters files) the result remembers line numbers for error messages
    (ruamel.yaml, YAML 1.2). Without (our own catalogs) it is plain dicts and lists parsed by
    PyYAML's C loader, about 15× faster; tests/test_catalog.py checks that both parsers read
    every catalog identically, so YAML 1.1 quirks (`on`, `yes`) cannot slip in."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{path}: file not found; check the path and try again.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot be read ({exc.__class__.__name__}); save it as UTF-8 text and try again.") from None
    try:
        if not lines:
            return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        return YAML(typ="rt").load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f":{mark.line + 1}" if mark is not None else ""
        raise InputError(f"{path}{where}: invalid YAML ({exc.problem}); fix the syntax at that line.") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f":{mark.line + 1}" if mark is not None else ""
        raise InputError(f"{path}{where}: invalid YAML ({exc.problem}); fix the syntax at that line.") from None
    except (YAMLError, yaml.YAMLError) as exc:
        raise InputError(f"{path}: invalid YAML ({exc}); fix the syntax and try again.") from None


def line_of(data: Any, loc: tuple) -> int | None:
    """1-based line of the deepest node of `loc` that exists in the parsed document."""
    line = None
    node = data
    for key in loc:
        lc = getattr(node, "lc", None)
        try:
            if isinstance(key, int) and isinstance(node, list):
                if lc is not None and key < len(node):
                    line = lc.item(key)[0] + 1
                node = node[key]
            elif isinstance(node, dict) and key in node:
                if lc is not None:
                    line = lc.key(key)[0] + 1
                node = node[key]
            else:
                break
        except (KeyError, IndexError, TypeError, AttributeError):
            break
    return line


HINTS = {
    "missing": "missing; add it",
    "extra_forbidden": "unknown key; remove it or fix its spelling",
}


def key_path(loc: tuple) -> str:
    """('deploy', 'rolling', 2, 'command') → deploy.rolling[2].command"""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else ("." if out else "") + str(part)
    return out or "(top level)"


def error_message(err: Any) -> str:
    """A pydantic validation error (ErrorDetails) as the rest of a one-line message: what is
    wrong and, for the common cases, what to do."""
    if err["type"] in HINTS:
        return HINTS[err["type"]]
    if err["type"] == "value_error" and "ctx" in err:
        return str(err["ctx"]["error"])
    return err["msg"][:1].lower() + err["msg"][1:]
