"""What a project's documents depend on, as one content hash: the skip test of `opslib batch`.

    input_files(params)                    -> [Path]   the parameters file and every local file it reads
    source_hash()                          -> str      opslib's own files (code, templates, data)
    project_fingerprint(params, notebooks) -> str      all of the above, the notebooks, versions, flags

A project whose fingerprint equals `inputs_sha256` in its last successful `run.json` (and whose
documents are still there, unmodified) has nothing to rebuild. Editing the parameters, a
linked spec, status.json, a file in the project folder (the secret scan reads them), a file of
the project's own catalogs (`catalogs:`), a notebook, opslib's source or upgrading a package
changes the fingerprint.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from functools import cache
from pathlib import Path

from opslib.check.scan import list_files
from opslib.params.models import is_url, params_hash

__all__ = ["input_files", "source_hash", "project_fingerprint", "is_unchanged"]

_SKIP_DIRS = {"__pycache__", ".git", ".ipynb_checkpoints", "node_modules", ".venv"}


def _local(base: Path, value: str | None) -> Path | None:
    if not value or is_url(value):
        return None
    path = Path(value)
    return path if path.is_absolute() else base / path


def _walk(root: Path) -> list[Path]:
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS)
        out += [Path(dirpath) / f for f in sorted(filenames) if not f.endswith(".pyc")]
    return out


def input_files(params, exclude: Path | None = None) -> list[Path]:
    """The parameters file, its linked architecture/plan/spec, status.json, the cost catalog,
    every file of the project's catalog folders (`catalogs:`), the billing exports (`actuals.billing`) and every file the secret scan reads in the project folder (the folder of status.json:
    git-tracked and untracked-not-ignored files, scan.list_files), minus anything under
    `exclude` (the output folder, when it lies inside the project folder)."""
    base = params.base_dir
    links = params.project.links
    named = [params.path, *(_local(base, v) for v in (links.architecture, links.plan, links.spec)),
             _local(base, params.project.status_file), _local(base, getattr(params.cost, "catalog", None) if params.cost else None)]
    files = {Path(p).resolve() for p in named if p is not None and Path(p).is_file()}
    for raw in getattr(params, "catalogs", []):  # the project's own platforms, prices, kinds, entries
        folder = _local(base, raw)
        if folder is not None and folder.is_dir():
            files |= {p.resolve() for p in _walk(folder)}
    actuals = getattr(params, "actuals", None)
    if actuals is not None:  # the billing exports behind cost-report.md (folders expand to their files)
        for raw in actuals.billing:
            path = _local(base, str(raw))
            if path is not None and path.is_dir():
                files |= {p.resolve() for p in _walk(path)}
            elif path is not None and path.is_file():
                files.add(path.resolve())
    status = _local(base, params.project.status_file)
    if status is not None and status.parent.is_dir():
        files |= {p.resolve() for p in list_files(status.resolve().parent)}
    if exclude is not None:
        skip = Path(exclude).resolve()
        files = {p for p in files if not p.is_relative_to(skip)}
    return sorted(files)


@cache
def source_hash() -> str:
    """SHA-256 over opslib's package files (so editing opslib invalidates every project)."""
    root = Path(__file__).resolve().parent.parent
    h = hashlib.sha256()
    for path in _walk(root):
        h.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def project_fingerprint(params, notebooks: Sequence[str | Path], force: bool, versions: dict[str, str], out_root: Path | None = None) -> str:
    """SHA-256 of everything the project's documents depend on."""
    h = hashlib.sha256()
    parts = {"params": params_hash(params), "opslib_source": source_hash(), "versions": versions, "force": bool(force),
             "notebooks": [Path(nb).name for nb in notebooks]}
    h.update(json.dumps(parts, sort_keys=True).encode())
    for nb in map(Path, notebooks):
        h.update(b"\0notebook " + nb.name.encode() + b"\0" + nb.read_bytes())
    base = params.base_dir.resolve()
    for path in input_files(params, exclude=out_root):  # by path relative to the parameters: moving the checkout changes nothing
        h.update(b"\0" + os.path.relpath(path, base).encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def is_unchanged(out_dir: Path, fingerprint: str) -> bool:
    """True when `out_dir/run.json` is a successful batch run with this fingerprint and every
    document it lists is still there with the hash it recorded."""
    try:
        record = json.loads((Path(out_dir) / "run.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if record.get("mode") != "batch" or record.get("inputs_sha256") != fingerprint:
        return False
    for rel, digest in (record.get("documents") or {}).items():
        path = Path(out_dir) / rel
        if not path.is_file() or hashlib.sha256(path.read_bytes()).hexdigest() != digest:
            return False
    return bool(record.get("documents"))
