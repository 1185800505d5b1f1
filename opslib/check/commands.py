"""What counts as a command in a document: a line that starts with a known CLI or a path."""

from __future__ import annotations

import re
from functools import cache

from opslib.catalog.catalog import open_catalog
from opslib.catalog.loaders import DATA_DIR
from opslib.check.markdown import Fence
from opslib.core.yamlio import read_yaml
from opslib.params.models import ProjectParams

__all__ = ["declared_platform_tools", "known_clis", "project_clis", "all_clis", "has_command", "is_command", "inline_commands", "QUERY"]

QUERY = re.compile(r"\b(sum|rate|irate|increase|histogram_quantile|avg|max|count)\s*(by\s*\([^)]*\)\s*)?\(|\w+\{[^}]*=~?\"|\bSELECT\b.+\bFROM\b|\|\s*(json|logfmt|line_format)\b", re.I)


@cache
def declared_platform_tools() -> dict[str, frozenset[str]]:
    """The tools each shipped platform declares, read from its platform.yaml's `tools:` alone
    (loading and validating every platform folder cost `opslib check` 0.3 s each time)."""
    out = {}
    for name, folder in sorted(open_catalog().platform_dirs.items()):
        tools = read_yaml(folder / "platform.yaml", lines=False).get("tools") or []
        out[name] = frozenset(t for t in tools if isinstance(t, str))
    return out


@cache
def known_clis() -> frozenset[str]:
    """known-clis.yaml and the tools the shipped platforms declare."""
    return frozenset(read_yaml(DATA_DIR / "known-clis.yaml", lines=False)["clis"]).union(*declared_platform_tools().values())


def project_clis(params: ProjectParams | None) -> frozenset[str]:
    """The known CLIs plus the tools of the project's own platform (a platform from a project's
    catalog folder may use a CLI no shipped platform uses)."""
    if params is None:
        return known_clis()
    return known_clis() | frozenset(params.catalog.platform(params.platform).tools)


def has_command(fence: Fence, clis: frozenset[str] | None = None) -> bool:
    """A line of the block starts with a known CLI (`clis`, default: known_clis()) or a path."""
    clis = known_clis() if clis is None else clis
    for raw in fence.content.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        line = re.sub(r"^(export \w+=\S+\s*(#.*)?$|for .*; do|do|done|then|fi|if .*; then)", "", line).strip()
        words = [w for w in re.split(r"[\s;|&(]+", line) if w and "=" not in w]
        if words and (words[0] in clis or words[0].startswith(("./", "/"))):
            return True
    return False


@cache
def all_clis() -> frozenset[str]:
    return known_clis() | frozenset(read_yaml(DATA_DIR / "check-clis.yaml", lines=False)["clis"])


def is_command(text: str) -> bool:
    """A real command: a known CLI, an executable path, a URL or a query (PromQL, SQL, LogQL)."""
    for raw in text.splitlines():
        line = re.sub(r"^\s*(\$|#|>)\s+", "", raw).strip()
        words = [w for w in re.split(r"[\s;|&(]+", line) if w and "=" not in w]
        if words and (words[0] in all_clis() or words[0].startswith(("./", "/"))) and not raw.lstrip().startswith("# "):
            return True
    return bool(re.search(r"https?://\S+", text)) or bool(QUERY.search(text))


def inline_commands(body: str) -> list[str]:
    clis = all_clis()
    return [c for c in re.findall(r"`([^`\n]+)`", body) if c.split(" ")[0] in clis and " " in c]
