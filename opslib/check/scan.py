"""Scanning a repository for secrets: detect-secrets (the library) plus our own token rules.

    list_files(root)                      -> list[Path]      git-tracked files (every file outside git)
    scan_text(text, filename)             -> list[ScanFinding]
    scan_paths(root, files=None, skipped=None) -> list[ScanFinding]   (skipped: filled with (file, reason) not scanned)
    env_reads(root, files=None)           -> dict[var, list[(file, line)]]  variables the code reads
    cross_check(root, params, findings)   -> CrossCheck      the scan against the secret inventory
    precommit_config(params_path=None)    -> str             a .pre-commit-config.yaml that scans every commit

Notebooks are scanned through their cell sources and text outputs (nbformat), not as raw
JSON. A finding holds file, line, kind, provider and the SHA-1 of the value (as detect-secrets
stores it), never the value itself.

Nothing is skipped silently: UTF-16 and UTF-32 files (with or without a byte-order mark) are
decoded and scanned like any text; files over MAX_BYTES (logs, dumps) are read in blocks of
lines, and binary files (a NUL byte) as Latin-1, both with our token rules only (detect-secrets'
keyword and entropy plugins cost minutes on a large file and fire on any compressed data). A
file that cannot be read at all is returned in `skipped` with the reason.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path

from opslib.catalog.secrets import PLACEHOLDER_PASSWORD, classify_text, secret_rules

__all__ = [
    "ScanFinding", "CrossCheck", "list_files", "scan_text", "scan_paths", "notebook_lines", "env_reads",
    "cross_check", "precommit_config", "SECRET_NAME",
]

SKIP_DIRS = {".git", ".venv", "venv", "node_modules", "__pycache__", ".mypy_cache", ".pytest_cache", ".ipynb_checkpoints", ".tox"}
MAX_BYTES = 2_000_000
SECRET_NAME = re.compile(r"(KEY|TOKEN|SECRET|PASSWORD|PASSWD|PWD|CREDENTIALS?|DSN|PRIVATE|AUTH|DATABASE_URL|REDIS_URL|_URI)(_|$)")
FILE_DIGEST = re.compile(r"""["'][^"'\s]+\.(md|ya?ml|json|ipynb|html|png|svg|txt|csv|py|j2|example|tar\.gz|zip|whl)["']\s*:\s*["'][0-9a-f]{32,128}["']""")
HASH_CONTEXT = re.compile(r"(sha\d*|hash|digest|checksum|commit|etag|integrity|revision|rev)\W", re.I)


@dataclass(frozen=True)
class ScanFinding:
    file: str
    line: int
    kind: str
    provider: str
    hash: str
    source: str  # detect-secrets or opslib
    rotate_url: str
    where: str = ""  # notebooks: "cell 3" / "cell 3 output"

    def as_dict(self) -> dict:
        return asdict(self)

    def describe(self) -> str:
        at = f"{self.file}:{self.line}" + (f" ({self.where})" if self.where else "")
        return f"{at}: {self.kind} [{self.provider}] sha1:{self.hash[:12]} — rotate: {self.rotate_url}"


@dataclass
class CrossCheck:
    undeclared_in_code: list[ScanFinding] = field(default_factory=list)
    undeclared_env_vars: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    unreferenced_secrets: list[str] = field(default_factory=list)
    declared_hardcoded: list[tuple[str, ScanFinding]] = field(default_factory=list)

    def problems(self) -> list[str]:
        out = [f"{f.file}:{f.line}: {f.kind} in code; the inventory holds no values: move it to the store and add it to secrets:" for f in self.undeclared_in_code]
        out += [f"{f.file}:{f.line}: a value of the declared {var} is hard-coded; rotate it and read {var} from the environment" for var, f in self.declared_hardcoded]
        out += [f"{var}: read by the code ({uses[0][0]}:{uses[0][1]}) but not declared in secrets:; add it" for var, uses in sorted(self.undeclared_env_vars.items())]
        out += [f"{var}: declared in secrets: but no scanned file references it; remove it or check the scanned path" for var in self.unreferenced_secrets]
        return out


# --- files -------------------------------------------------------------------------------

def list_files(root: str | Path) -> list[Path]:
    """The git-tracked files under `root` (all files, minus tool folders, when it is not in git)."""
    root = Path(root)
    if root.is_file():
        return [root]
    try:
        res = subprocess.run(["git", "-C", str(root), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                             capture_output=True, check=True, timeout=60)
        names = [n for n in res.stdout.decode("utf-8", "replace").split("\0") if n]
        return sorted(root / n for n in names if (root / n).is_file())
    except (subprocess.CalledProcessError, FileNotFoundError, subprocess.TimeoutExpired):
        pass
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
        out += [Path(dirpath) / f for f in sorted(filenames)]
    return out


def notebook_lines(path: str | Path) -> list[tuple[int, str, str]]:
    """(virtual line, where, text) for every line of a notebook's cell sources and text outputs."""
    import nbformat

    nb = nbformat.read(str(path), as_version=4)
    out: list[tuple[int, str, str]] = []
    for i, cell in enumerate(nb.cells, 1):
        chunks = [(f"cell {i}", cell.get("source", ""))]
        for o in cell.get("outputs", []) or []:
            if o.get("output_type") == "stream":
                chunks.append((f"cell {i} output", o.get("text", "")))
            elif o.get("output_type") in ("execute_result", "display_data"):
                data = o.get("data", {})
                for mime in ("text/plain", "text/markdown", "text/html", "application/json"):
                    if mime in data:
                        value = data[mime]
                        chunks.append((f"cell {i} output", value if isinstance(value, str) else json.dumps(value)))
            elif o.get("output_type") == "error":
                chunks.append((f"cell {i} output", "\n".join(o.get("traceback", [])) + "\n" + str(o.get("evalue", ""))))
        for where, text in chunks:
            text = "".join(text) if isinstance(text, list) else str(text)
            for line in text.splitlines():
                out.append((len(out) + 1, where, line))
    return out


_BOMS = ((b"\xff\xfe\x00\x00", "utf-32-le"), (b"\x00\x00\xfe\xff", "utf-32-be"), (b"\xef\xbb\xbf", "utf-8-sig"),
         (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))
BLOCK_LINES = 20_000


def _encoding(head: bytes) -> str:
    """utf-8, a UTF-16/32 variant (by its byte-order mark, or by the NUL bytes of ASCII text in
    UTF-16), or "binary" (NUL bytes in anything else)."""
    for bom, name in _BOMS:
        if head.startswith(bom):
            return name
    if b"\0" not in head:
        return "utf-8"
    even, odd = head[0::2], head[1::2]
    if odd and odd.count(0) > 0.8 * len(odd) and even.count(0) < 0.2 * len(even):
        return "utf-16-le"
    if even and even.count(0) > 0.8 * len(even) and odd.count(0) < 0.2 * len(odd):
        return "utf-16-be"
    return "binary"


def _read_text(path: Path) -> str | None:
    """A small UTF-8 file as text (what detect-secrets reads itself); None for anything else."""
    try:
        if path.stat().st_size > MAX_BYTES:
            return None
        data = path.read_bytes()
    except OSError:
        return None
    if _encoding(data[:8192]) != "utf-8":
        return None
    return data.decode("utf-8", "replace")


def _blocks(path: Path, encoding: str) -> Iterator[list[tuple[int, str, str]]]:
    """The lines of any file, BLOCK_LINES at a time, numbered from 1 (memory stays flat)."""
    import codecs

    decoder = codecs.getincrementaldecoder("latin-1" if encoding == "binary" else encoding)("replace")
    n, rest, block = 0, "", []
    with path.open("rb") as fh:
        while True:
            chunk = fh.read(1 << 20)
            text = rest + decoder.decode(chunk, final=not chunk)
            lines = text.split("\n")
            rest = lines.pop() if chunk else ""
            for line in lines + ([rest] if not chunk and rest else []):
                n += 1
                block.append((n, "", line.rstrip("\r")))
                if len(block) >= BLOCK_LINES:
                    yield block
                    block = []
            if not chunk:
                break
    if block:
        yield block


# --- detect-secrets ----------------------------------------------------------------------

@contextmanager
def _detect_settings() -> Iterator[None]:
    from detect_secrets.settings import default_settings

    with default_settings():
        yield


@cache
def _providers() -> dict:
    return secret_rules()["providers"]


def _finding(file: str, line: int, kind: str, provider: str, value_hash: str, source: str, where: str = "") -> ScanFinding:
    return ScanFinding(file, line, kind, provider, value_hash, source, _providers()[provider]["rotate_url"], where)


def _sha1(value: str) -> str:
    return hashlib.sha1(value.encode("utf-8")).hexdigest()


def is_credible_value(value: str) -> bool:
    """Could a keyword/entropy hit be a credential (not an identifier, template, path or prose)?
    The value is only inspected in memory, never stored or printed."""
    v = value.strip().strip("'\"\\")
    return not (
        len(v) < 8
        or re.search(r"\s", v)
        or re.fullmatch(r"[a-z][a-z0-9]*([-_.][a-z0-9]+)*", v)  # kebab/snake/dotted identifiers
        or re.fullmatch(r"[A-Za-z]+", v)  # words, CamelCase API names
        or re.search(r"\{\{|\$\{|^\$|^<|^%|^\{", v)  # templates and variable references
        or re.match(r"^(https?://|/|\./|\.\./)", v)
    )


def _is_false_positive(secret, line_text: str) -> bool:
    """detect-secrets filters of our own (detect-secrets' filters are pure predicates too)."""
    if secret.type in ("Secret Keyword", "Base64 High Entropy String") and not is_credible_value(secret.secret_value or ""):
        return True
    if secret.type == "Base64 High Entropy String" and (
        re.match(r"sha(1|256|384|512)-", secret.secret_value or "") or re.search(r"sha(1|256|384|512)-" + re.escape(secret.secret_value or "-"), line_text)
    ):
        return True  # a subresource-integrity hash in a lock file
    if secret.type == "Hex High Entropy String":
        # a content hash (sha256, commit id, revision), not a credential
        return (
            HASH_CONTEXT.search(line_text + " ") is not None
            or len(secret.secret_value or "") < 16
            or FILE_DIGEST.search(line_text) is not None  # {"runbook.md": "<sha256 of the file>"}
        )
    if secret.type == "Basic Auth Credentials" and PLACEHOLDER_PASSWORD.match(secret.secret_value or ""):
        return True  # postgresql://username:password@host: a format description
    if secret.type == "Telegram Bot Token" and "arn:" in line_text:
        return True  # an AWS ARN: account id followed by a resource name
    return False


def _from_detect(secret, file: str, where: str = "", line_text: str = "") -> ScanFinding | None:
    provider = secret_rules()["detect_secrets_types"].get(secret.type, "generic")
    if _is_false_positive(secret, line_text):
        return None
    return _finding(file, secret.line_number, secret.type, provider, secret.secret_hash, "detect-secrets", where)


def _own(lines: list[tuple[int, str, str]], file: str) -> list[ScanFinding]:
    rules = {r["id"]: r for r in secret_rules()["rules"]}
    out = []
    for n, where, text in lines:
        for rule_id, kind, start, end in classify_text(text):
            out.append(_finding(file, n, kind, rules[rule_id]["provider"], _sha1(text[start:end]), "opslib", where))
    return out


def _merge(findings: list[ScanFinding]) -> list[ScanFinding]:
    """One finding per (file, line, provider); a named provider beats a generic entropy/keyword hit."""
    named = {(f.file, f.line) for f in findings if f.provider != "generic"}
    seen, out = set(), []
    for f in sorted(findings, key=lambda f: (f.file, f.line, f.source != "opslib", f.kind)):
        if f.provider == "generic" and (f.file, f.line) in named:
            continue
        key = (f.file, f.line, f.provider)
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out


def _scan_lines(lines: list[tuple[int, str, str]], file: str) -> list[ScanFinding]:
    from detect_secrets.core.scan import _process_line_based_plugins

    by_line = {n: (where, text) for n, where, text in lines}
    found = []
    for secret in _process_line_based_plugins([(n, text) for n, _w, text in lines], filename=file):
        where, text = by_line.get(secret.line_number, ("", ""))
        f = _from_detect(secret, file, where, text)
        if f:
            found.append(f)
    return found + _own(lines, file)


def scan_text(text: str, filename: str = "<text>") -> list[ScanFinding]:
    """Scan one text (a document, a log) with detect-secrets and our rules."""
    lines = [(n, "", t) for n, t in enumerate(text.splitlines(), 1)]
    with _detect_settings():
        return _merge(_scan_lines(lines, filename))


def _scan_file(path: Path, rel: str) -> list[ScanFinding]:
    from detect_secrets.core.scan import scan_file

    if path.suffix == ".ipynb":
        try:
            lines = notebook_lines(path)
        except Exception:  # not a valid notebook: scan it as text
            lines = None
        if lines is not None:
            return _scan_lines(lines, rel)
    text = _read_text(path)
    if text is None:  # large, UTF-16/32 or binary: our own reading, block by block
        with path.open("rb") as fh:
            encoding = _encoding(fh.read(8192))
        full = encoding != "binary" and path.stat().st_size <= MAX_BYTES
        found = []
        for block in _blocks(path, encoding):
            found += _scan_lines(block, rel) if full else _own(block, rel)
        return found
    raw = text.splitlines()
    found = []
    for secret in scan_file(str(path)):
        line_text = raw[secret.line_number - 1] if 0 < secret.line_number <= len(raw) else ""
        f = _from_detect(secret, rel, "", line_text)
        if f:
            found.append(ScanFinding(**{**f.as_dict(), "file": rel}))
    return found + _own([(n, "", t) for n, t in enumerate(raw, 1)], rel)


def _scan_chunk(root: Path, files: list[Path]) -> tuple[list[ScanFinding], list[tuple[str, str]]]:
    out: list[ScanFinding] = []
    skipped: list[tuple[str, str]] = []
    with _detect_settings():
        for path in files:
            rel = path.relative_to(root).as_posix() if root.is_dir() and path.is_relative_to(root) else path.name
            try:
                out += _scan_file(path, rel)
            except OSError as exc:  # unreadable (permissions, a file gone meanwhile): reported, never "clean"
                skipped.append((rel, exc.strerror or exc.__class__.__name__))
    return out, skipped


def scan_paths(root: str | Path, files: list[Path] | None = None, workers: int | None = None,
               skipped: list[tuple[str, str]] | None = None) -> list[ScanFinding]:
    """Scan `files` (default: the git-tracked files under `root`); paths in findings are relative to root.
    More than 40 files are split over `workers` processes (default: one per CPU, at most 8).
    Files that could not be read are appended to `skipped` as (file, reason)."""
    root = Path(root)
    files = list_files(root) if files is None else files
    if workers is None:
        workers = min(os.cpu_count() or 1, 8) if len(files) > 40 else 1
    parts: list[tuple[list[ScanFinding], list[tuple[str, str]]]]
    if workers <= 1:
        parts = [_scan_chunk(root, files)]
    else:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        chunks = [files[i::workers] for i in range(workers)]
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            parts = list(pool.map(_scan_chunk, [root] * len(chunks), chunks))
    if skipped is not None:
        skipped += sorted(s for _f, part in parts for s in part)
    return _merge([f for found, _s in parts for f in found])


# --- environment variables the code reads ------------------------------------------------

ENV_READ = re.compile(
    r"""os\.environ(?:\.get)?\s*[\[(]\s*['"]([A-Z][A-Z0-9_]+)['"]"""
    r"""|os\.getenv\(\s*['"]([A-Z][A-Z0-9_]+)['"]"""
    r"""|process\.env(?:\.([A-Z][A-Z0-9_]+)|\[\s*['"]([A-Z][A-Z0-9_]+)['"]\s*\])"""
    r"""|os\.(?:Getenv|LookupEnv)\(\s*"([A-Z][A-Z0-9_]+)"\)"""
    r"""|System\.getenv\(\s*"([A-Z][A-Z0-9_]+)"\)"""
    r"""|ENV(?:\.fetch\(\s*|\[\s*)['"]([A-Z][A-Z0-9_]+)['"]"""
)
CODE_SUFFIXES = {".py", ".js", ".mjs", ".cjs", ".ts", ".tsx", ".jsx", ".go", ".java", ".kt", ".rb", ".ipynb"}


def _code_lines(path: Path) -> list[tuple[int, str]]:
    if path.suffix == ".ipynb":
        try:
            return [(n, t) for n, w, t in notebook_lines(path) if "output" not in w]
        except Exception:
            return []
    text = _read_text(path)
    return list(enumerate(text.splitlines(), 1)) if text is not None else []


def env_reads(root: str | Path, files: list[Path] | None = None) -> dict[str, list[tuple[str, int]]]:
    """Environment variables read by code under `root`: name → [(file, line)]."""
    root = Path(root)
    out: dict[str, list[tuple[str, int]]] = {}
    for path in list_files(root) if files is None else files:
        if path.suffix not in CODE_SUFFIXES:
            continue
        rel = path.relative_to(root).as_posix() if root.is_dir() else path.name
        for n, line in _code_lines(path):
            for m in ENV_READ.finditer(line):
                out.setdefault(next(g for g in m.groups() if g), []).append((rel, n))
    return out


def cross_check(root: str | Path, params, findings: list[ScanFinding], files: list[Path] | None = None) -> CrossCheck:
    """The scan against the inventory: secrets in code, undeclared variables, unreferenced secrets."""
    root = Path(root)
    files = list_files(root) if files is None else files
    declared = {i.env_var for i in (params.secrets.items if params.secrets else [])}
    texts = {}
    own = {Path(params.path).resolve()} if getattr(params, "path", None) else set()
    for path in files:
        if path.resolve() in own or path.name in ("secrets.md", ".env.example"):
            continue  # the inventory and what opslib writes from it do not count as references
        if path.suffix in CODE_SUFFIXES or path.name.startswith(".env") or path.suffix in (".yaml", ".yml", ".toml", ".json", ".sh", ".tf"):
            texts[path] = "\n".join(t for _n, t in _code_lines(path))
    result = CrossCheck()
    for f in findings:
        path = root / f.file if root.is_dir() else root
        line = ""
        if path in texts:
            lines = texts[path].splitlines()
            line = lines[f.line - 1] if 0 < f.line <= len(lines) else ""
        var = next((v for v in sorted(declared) if v in line), None)
        if var:
            result.declared_hardcoded.append((var, f))
        else:
            result.undeclared_in_code.append(f)
    reads = env_reads(root, files)
    result.undeclared_env_vars = {v: uses for v, uses in reads.items() if v not in declared and SECRET_NAME.search(v)}
    blob = "\n".join(texts.values())
    result.unreferenced_secrets = sorted(v for v in declared if not re.search(rf"\b{v}\b", blob))
    return result


def precommit_config(params_path: str | None = None) -> str:
    """A .pre-commit-config.yaml running detect-secrets and opslib scan-secrets on every commit."""
    params_arg = f', "--params", "{params_path}"' if params_path else ""
    return f"""# Secret scanning before every commit (generated by opslib; see secrets.md → Never Commit Secrets).
# Install once per clone:  pip install pre-commit detect-secrets && pre-commit install
# Create the baseline once: detect-secrets scan > .secrets.baseline   (commit it; it holds hashes only)
repos:
  - repo: https://github.com/Yelp/detect-secrets
    rev: v1.5.0
    hooks:
      - id: detect-secrets
        args: ["--baseline", ".secrets.baseline"]
        exclude: (package-lock\\.json|\\.secrets\\.baseline)$
  - repo: local
    hooks:
      - id: opslib-scan-secrets
        name: opslib scan-secrets (token rules detect-secrets lacks, notebook outputs, inventory cross-check)
        entry: opslib scan-secrets
        args: ["."{params_arg}]
        language: system
        pass_filenames: false
        always_run: true
"""
