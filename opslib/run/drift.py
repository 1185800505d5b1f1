"""Drift: do the committed documents still match what the parameters produce?

    compare_documents(committed, fresh, label) -> [str]   unified-diff lines; [] when identical
    limit(lines, max_lines)                    -> [str]   the first max_lines, then a count of the rest

Only documents are compared (`document_files`: not run.json, executed notebooks or
HTML reviews, which hold run-specific data).
"""

from __future__ import annotations

import difflib
from pathlib import Path

__all__ = ["compare_documents", "document_files", "limit", "MAX_LINES_PER_FILE", "MAX_LINES"]

MAX_LINES_PER_FILE = 60
MAX_LINES = 400


def document_files(out_dir: Path) -> list[Path]:
    """The generated documents in `out_dir` (figures and .env.example included; not the
    executed notebooks, the review copies or run.json, which hold run-specific data)."""
    skip = {"notebooks", "review"}
    return sorted(
        p for p in Path(out_dir).rglob("*")
        if p.is_file() and p.name != "run.json" and p.relative_to(out_dir).parts[0] not in skip
    )


def _text(path: Path) -> list[str] | None:
    try:
        return path.read_text(encoding="utf-8").splitlines(keepends=True)
    except UnicodeDecodeError:
        return None


def compare_documents(committed: Path, fresh: Path, label: str = "") -> list[str]:
    """Unified diff (committed → fresh) of every document in the two folders."""
    committed, fresh = Path(committed), Path(fresh)
    old = {p.relative_to(committed).as_posix(): p for p in document_files(committed)} if committed.is_dir() else {}
    new = {p.relative_to(fresh).as_posix(): p for p in document_files(fresh)} if fresh.is_dir() else {}
    prefix = f"{label}/" if label else ""
    out: list[str] = []
    for rel in sorted(old.keys() | new.keys()):
        a, b = old.get(rel), new.get(rel)
        if a is not None and b is not None and a.read_bytes() == b.read_bytes():
            continue
        name_a, name_b = f"a/{prefix}{rel}", f"b/{prefix}{rel}"
        if a is None:
            out.append(f"Only in the parameters' output: {prefix}{rel} (not committed)\n")
            continue
        if b is None:
            out.append(f"Only in the committed documents: {prefix}{rel} (the parameters no longer produce it)\n")
            continue
        ta, tb = _text(a), _text(b)
        if ta is None or tb is None:
            out.append(f"Binary files {name_a} and {name_b} differ\n")
            continue
        diff = list(difflib.unified_diff(ta, tb, name_a, name_b))
        diff = [ln if ln.endswith("\n") else ln + "\n" for ln in diff]
        out += limit(diff, MAX_LINES_PER_FILE)
    return out


def limit(lines: list[str], max_lines: int = MAX_LINES) -> list[str]:
    if len(lines) <= max_lines:
        return lines
    return lines[:max_lines] + [f"… {len(lines) - max_lines} more line(s) not shown\n"]
