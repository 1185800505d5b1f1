"""Secret stores (where a value lives and the commands around it) and the token rules: which
strings are secret values (opslib/data/secret-stores.yaml, secret-rules.yaml). Detectors are
data; classify_text applies them."""

from __future__ import annotations

import re
from functools import cache

from opslib.catalog.loaders import DATA_DIR
from opslib.core.yamlio import read_yaml

__all__ = ["PLACEHOLDER_PASSWORD", "classify_text", "secret_rules", "secret_stores"]


def _load(name: str) -> dict:
    return read_yaml(DATA_DIR / name)


@cache
def secret_stores() -> dict[str, dict]:
    return {k: v for k, v in _load("secret-stores.yaml")["stores"].items()}


@cache
def secret_rules() -> dict:
    return _load("secret-rules.yaml")


PLACEHOLDER_PASSWORD = re.compile(r"^(\$|<|\{|\*+$|x+$|password$|pass$|passwd$|pwd$|secret$|user$|username$)", re.I)


@cache
def _compiled_rules() -> list[tuple[str, str, re.Pattern]]:
    return [(r["id"], r["kind"], re.compile(r["regex"])) for r in secret_rules()["rules"]]


def classify_text(text: str) -> list[tuple[str, str, int, int]]:
    """Our own rules over one string: (rule id, kind, start, end) for every token found."""
    out = []
    for rule_id, kind, rx in _compiled_rules():
        for m in rx.finditer(text):
            if rule_id == "credentials-in-url" and _placeholder_url(m.group(0)):
                continue
            out.append((rule_id, kind, m.start(), m.end()))
    return out


def _placeholder_url(url: str) -> bool:
    m = re.match(r"[^:]+://[^:]+:([^@]+)@", url)
    return bool(m and PLACEHOLDER_PASSWORD.match(m.group(1)))
