"""Secret stores (where a value lives and the commands around it) and the token rules: which
strings are secret values (opslib/data/secret-stores.yaml, secret-rules.yaml). Detectors are
data; classify_text applies them."""

from __future__ import annotations

import re
from functools import cache

from opslib.catalog.loaders import DATA_DIR
from opslib.core.yamlio import read_yaml

__all__ = ["PLACEHOLDER_PASSWORD", "classify_text", "redact", "secret_kinds_in", "secret_rules", "secret_stores"]


def _load(name: str) -> dict:
    return read_yaml(DATA_DIR / name)


@cache
def secret_stores() -> dict[str, dict]:
    return {k: v for k, v in _load("secret-stores.yaml")["stores"].items()}


@cache
def secret_rules() -> dict:
    return _load("secret-rules.yaml")


PLACEHOLDER_PASSWORD = re.compile(r"^(\$|<|\{|\*+$|x+$|password$|pass$|passwd$|pwd$|secret$|user$|username$)", re.I)


BOUNDARY = "(?<![A-Za-z0-9])"


@cache
def _compiled_rules() -> list[tuple[str, str, re.Pattern]]:
    return [(r["id"], r["kind"], re.compile(r["regex"])) for r in secret_rules()["rules"]]


@cache
def _prefilters() -> dict[str, re.Pattern]:
    """A rule that starts with BOUNDARY, without it: a leading look-behind keeps `re` from
    jumping to the rule's literal prefix (20× slower on a large file), so the rule runs only
    when this finds a candidate."""
    return {r["id"]: re.compile(r["regex"][len(BOUNDARY):]) for r in secret_rules()["rules"] if r["regex"].startswith(BOUNDARY)}


def classify_text(text: str) -> list[tuple[str, str, int, int]]:
    """Our own rules over one string: (rule id, kind, start, end) for every token found."""
    out = []
    fast = _prefilters()
    for rule_id, kind, rx in _compiled_rules():
        if rule_id in fast and fast[rule_id].search(text) is None:
            continue
        for m in rx.finditer(text):
            if rule_id == "credentials-in-url" and _placeholder_url(m.group(0)):
                continue
            out.append((rule_id, kind, m.start(), m.end()))
    return out


def secret_kinds_in(content: str | bytes) -> list[str]:
    """The kinds of secret value in a text or a file's bytes (decoded leniently), each once, sorted;
    [] when there is none. What every write checks before it writes (never the values)."""
    text = content.decode("utf-8", "replace") if isinstance(content, bytes) else content
    return sorted({kind for _rule, kind, _start, _end in classify_text(text)})


def redact(text: str) -> str:
    """`text` with every secret value replaced by `[redacted <kind>]`: the last line of defence
    for what is printed (error messages quote file names, keys and reasons written by users)."""
    found = sorted(classify_text(text), key=lambda f: (f[2], -f[3]))
    out, pos = [], 0
    for _rule, kind, start, end in found:
        if start < pos:
            continue
        out += [text[pos:start], f"[redacted {kind}]"]
        pos = end
    return "".join(out) + text[pos:]


def _placeholder_url(url: str) -> bool:
    m = re.match(r"[^:]+://[^:]+:([^@]+)@", url)
    return bool(m and PLACEHOLDER_PASSWORD.match(m.group(1)))
