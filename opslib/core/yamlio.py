"""Reading YAML with line numbers, so errors can point at the line in the user's file.

ruamel.yaml implements YAML 1.2: `on`, `yes` and `no` stay strings, and every mapping
and sequence remembers where each key or item starts.

Limits (hostile input is ordinary input): a YAML file is a regular file of at most
MAX_BYTES, nested at most MAX_DEPTH levels, and expands (aliases counted every time they are
used) to at most MAX_NODES values; an impossible date (2026-02-30) or a file nested too deeply
for the parser is one InputError naming the file, like a syntax error. Messages never quote
a value from the file (a duplicate key's value may be a secret).
"""

from __future__ import annotations

import re
import stat
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from opslib.errors import InputError

__all__ = ["MAX_BYTES", "MAX_DEPTH", "MAX_NODES", "read_yaml", "read_input_text", "check_shape", "line_of", "key_path", "error_message"]

MAX_BYTES = 2_000_000
MAX_DEPTH = 64
MAX_NODES = 200_000
_DATE = re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b")


def read_input_text(path: str | Path, what: str = "file", max_bytes: int = MAX_BYTES) -> str:
    """The UTF-8 text of a regular file of at most `max_bytes`; InputError naming the file
    otherwise (not found, a folder, a FIFO or device, too large, not UTF-8)."""
    path = Path(path)
    try:
        info = path.stat()
    except FileNotFoundError:
        raise InputError(f"{path}: {what} not found; check the path and try again.") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.__class__.__name__}); check the path and its permissions.") from None
    if stat.S_ISDIR(info.st_mode):
        raise InputError(f"{path}: is a folder, not a {what}; pass the file itself.")
    if not stat.S_ISREG(info.st_mode):
        raise InputError(f"{path}: not a regular file (a pipe, socket or device); pass a {what} saved on disk.")
    if info.st_size > max_bytes:
        raise InputError(f"{path}: {info.st_size:,} bytes, more than the limit of {max_bytes:,}; pass a smaller {what}.")
    try:
        with path.open("rb") as fh:
            data = fh.read(max_bytes + 1)
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.__class__.__name__}); check the path and its permissions.") from None
    if len(data) > max_bytes:
        raise InputError(f"{path}: more than the limit of {max_bytes:,} bytes; pass a smaller {what}.")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{path}: cannot be read (UnicodeDecodeError); save it as UTF-8 text and try again.") from None


def _bad_date_line(text: str) -> int | None:
    for n, line in enumerate(text.splitlines(), 1):
        for m in _DATE.finditer(line.split("#", 1)[0]):
            try:
                date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            except ValueError:
                return n
    return None


def check_shape(data: Any, where: str) -> None:
    """Refuse data nested deeper than MAX_DEPTH (or a recursive alias) or expanding to more than
    MAX_NODES values; linear in the size of the file, whatever its aliases expand to."""
    sizes: dict[int, int] = {}

    def size(node: Any, depth: int) -> int:
        if not isinstance(node, dict | list):
            return 1
        if depth > MAX_DEPTH:
            raise InputError(f"{where}: nested deeper than {MAX_DEPTH} levels (or an alias that contains itself); flatten the structure.")
        known = sizes.get(id(node))
        if known is not None:
            return known
        children = list(node.keys()) + list(node.values()) if isinstance(node, dict) else node
        total = 1
        for child in children:
            total += size(child, depth + 1)
            if total > MAX_NODES:
                raise InputError(f"{where}: expands to more than {MAX_NODES:,} values (YAML aliases repeat what they point to); "
                                 "write the values out or use fewer aliases.")
        sizes[id(node)] = total
        return total

    size(data, 0)


def read_yaml(path: Path, lines: bool = True, max_bytes: int = MAX_BYTES) -> Any:
    """Parse a YAML file; a syntax error becomes one InputError naming file and line.

    With `lines` (parameters files) the result remembers line numbers for error messages
    (ruamel.yaml, YAML 1.2). Without (our own catalogs) it is plain dicts and lists parsed by
    PyYAML's C loader, about 15× faster; tests/test_catalog.py checks that both parsers read
    every catalog identically, so YAML 1.1 quirks (`on`, `yes`) cannot slip in."""
    text = read_input_text(path, max_bytes=max_bytes)
    try:
        if not lines:
            data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        else:
            data = YAML(typ="rt").load(text)
    except MarkedYAMLError as exc:
        raise InputError(_syntax_message(path, exc.problem_mark, exc.problem)) from None
    except yaml.MarkedYAMLError as exc:
        raise InputError(_syntax_message(path, exc.problem_mark, exc.problem)) from None
    except (YAMLError, yaml.YAMLError):
        raise InputError(f"{path}: invalid YAML; fix the syntax and try again.") from None
    except RecursionError:
        raise InputError(f"{path}: nested too deeply to read (more than {MAX_DEPTH} levels); flatten the structure.") from None
    except (ValueError, TypeError, OverflowError):  # a constructor: 2026-02-30, a timestamp out of range
        line = _bad_date_line(text)
        where = f"{path}:{line}" if line else str(path)
        raise InputError(f"{where}: not a real date or time; write dates as YYYY-MM-DD with a day that exists in that month.") from None
    check_shape(data, str(path))
    return data


def _syntax_message(path: Path, mark: Any, problem: str | None) -> str:
    where = f":{mark.line + 1}" if mark is not None else ""
    text = str(problem or "syntax error")
    if "duplicate key" in text:  # ruamel quotes the key and both values: they may be secrets
        text = "a key appears twice in the same mapping"
    return f"{path}{where}: invalid YAML ({text}); fix the syntax at that line."


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
