"""Commands checked against the tool's own definition.

    validate_command(cmd)  -> Verdict   verified / invalid / unverifiable, with the tool and why
    cli_spec(tool)         -> CliSpec | None
    spec_tools()           -> frozenset[str]   the tools with a definition

`aws` is checked against botocore's service models (service, operation, parameter names,
required parameters) plus the AWS CLI's own commands and renamed parameters, captured from the
CLI (opslib/data/clis/aws.json). Every other tool is checked against its command tree and flags,
captured once from the real CLI where a package registry we reach has it, else from its
documentation (opslib/data/clis/<tool>.json names the version and how; scripts/capture-clis
writes them). No tool is ever run here.

A definition is a tree of commands; each command has flags (name → arity: 0 a switch, 1 a value,
"?" a value only as `--flag=value`, "+" one or more values), whether it needs a subcommand
(`group`), how many arguments it takes (`max_args`, absent: any) and its required flags.
Flags may come anywhere on the line (as in cobra, oclif and argparse CLIs).
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Literal

from botocore import xform_name
from botocore.exceptions import DataNotFoundError, UnknownServiceError
from botocore.loaders import create_loader
from botocore.model import OperationModel, ServiceModel

from opslib.catalog.loaders import DATA_DIR
from opslib.check.shell import Command, Word

__all__ = ["CLI_DIR", "CliSpec", "CommandSpec", "Verdict", "VerdictStatus", "cli_spec", "spec_tools", "validate_command", "tool_of",
           "aws_operation_flags", "remote_command"]

CLI_DIR = DATA_DIR / "clis"
VerdictStatus = Literal["verified", "invalid", "unverifiable"]
Arity = int | str
# commands that run another command: the wrapped one is checked too (value-taking options first)
WRAPPERS: dict[str, dict[str, Arity]] = {
    "sudo": {"-u": 1, "-g": 1, "-E": 0, "-H": 0, "-i": 0, "-n": 0, "-s": 0, "--preserve-env": "?"},
    "env": {"-i": 0, "-u": 1, "--unset": 1, "-C": 1, "--chdir": 1},
    "timeout": {"-s": 1, "--signal": 1, "-k": 1, "--kill-after": 1, "--preserve-status": 0, "--foreground": 0, "-v": 0, "--verbose": 0},
    "nohup": {}, "time": {"-p": 0}, "exec": {"-a": 1, "-c": 0, "-l": 0}, "command": {"-p": 0, "-v": 0, "-V": 0}, "nice": {"-n": 1},
    "xargs": {"-0": 0, "--null": 0, "-a": 1, "--arg-file": 1, "-d": 1, "--delimiter": 1, "-E": 1, "-I": 1, "-i": "?", "-L": 1, "-l": "?",
              "-n": 1, "--max-args": 1, "-P": 1, "--max-procs": 1, "-p": 0, "--interactive": 0, "-r": 0, "--no-run-if-empty": 0, "-s": 1,
              "--max-chars": 1, "-t": 0, "--verbose": 0, "-x": 0, "--exit": 0, "--process-slot-var": 1, "-o": 0, "--open-tty": 0},
}
WRAPPER_ARGS = {"timeout": 1, "nice": 0}  # positional arguments before the wrapped command


@dataclass(frozen=True)
class CommandSpec:
    flags: dict[str, Arity] = field(default_factory=dict)
    group: bool = False  # needs a subcommand
    max_args: int | None = None  # None: any number of arguments
    required: tuple[str, ...] = ()  # each: a flag, or alternatives joined by "|"
    free: bool = False  # arguments are not options (echo, test): nothing is checked after the name
    posix: bool = False  # options end at the first argument (docker run IMAGE CMD…, heroku run CMD…)
    wrong_arg_from: dict[str, str] = field(default_factory=dict)  # command whose output is the wrong kind of argument → why


@dataclass(frozen=True)
class CliSpec:
    tool: str
    version: str
    source: str  # "cli" (captured from the real CLI) or "docs" (from its documentation)
    how: str
    flags: dict[str, Arity]  # global flags, valid on every command
    commands: dict[str, CommandSpec]  # "" is the tool itself; "rollout restart", "ps:restart", …
    builtin: bool = False  # the commands are invoked by their own name (bash builtins)
    plugins: str = ""  # an unknown top-level command may be a plugin: the executable's prefix (kubectl-)
    unverified: tuple[str, ...] = ()  # command groups left out of the definition (gcloud alpha, beta)
    open_flags: bool = False  # any option is accepted (npm takes every config key as --key=value): options are not checked
    all_flags: dict[str, Arity] = field(default_factory=dict)  # every flag of the tool (to skip values before the command is known)
    negatable: bool = False  # a boolean --x also takes the form --no-x (gcloud's --[no-]x)

    def sub(self, commands: dict[str, CommandSpec]) -> CliSpec:
        """The same tool with another command tree (aws: one operation derived from botocore)."""
        all_flags = dict(self.flags)
        for c in commands.values():
            for k, v in c.flags.items():
                all_flags.setdefault(k, v)
        return CliSpec(self.tool, self.version, self.source, self.how, self.flags, commands, open_flags=self.open_flags, all_flags=all_flags)


@dataclass(frozen=True)
class Verdict:
    tool: str
    status: VerdictStatus
    message: str
    command: str = ""  # the command path that was identified (aws secretsmanager put-secret-value)


def _spec_from_json(raw: dict[str, Any]) -> CliSpec:
    commands = {path: CommandSpec(flags=c.get("flags", {}), group=c.get("group", False), max_args=c.get("max_args"),
                                  required=tuple(c.get("required", ())), free=c.get("free", False), posix=c.get("posix", False),
                                  wrong_arg_from=c.get("wrong_arg_from", {}))
                for path, c in raw.get("commands", {}).items()}
    commands.setdefault("", CommandSpec(group=False))
    all_flags: dict[str, Arity] = dict(raw.get("flags", {}))
    for c in commands.values():
        for k, v in c.flags.items():
            all_flags.setdefault(k, v)
    return CliSpec(raw["tool"], str(raw.get("version", "")), raw.get("source", "cli"), raw.get("how", ""), raw.get("flags", {}), commands,
                   raw.get("builtin", False), raw.get("plugins", ""), tuple(raw.get("unverified", ())), raw.get("open_flags", False), all_flags,
                   raw.get("negatable_booleans", False))


@cache
def _files() -> dict[str, str]:
    """tool name → file stem; a file may define several names (aliases)."""
    out: dict[str, str] = {}
    for p in sorted(CLI_DIR.glob("*.json")):
        out[p.stem] = p.stem
        for alias in _raw(p.stem).get("aliases", ()):
            out[alias] = p.stem
    return out


@cache
def _raw(stem: str) -> dict[str, Any]:
    return json.loads((CLI_DIR / f"{stem}.json").read_text(encoding="utf-8"))


@cache
def _builtins() -> dict[str, str]:
    """command name → the builtin-style spec that defines it (bash builtins)."""
    out = {}
    for stem in sorted(set(_files().values())):
        raw = _raw(stem)
        if raw.get("builtin"):
            for name in raw.get("commands", {}):
                if name:
                    out[name] = stem
    return out


@cache
def cli_spec(tool: str) -> CliSpec | None:
    stem = _files().get(tool)
    if stem is None or _raw(stem).get("builtin"):
        return None
    return _spec_from_json(_raw(stem))


@cache
def _builtin_spec(stem: str) -> CliSpec:
    return _spec_from_json(_raw(stem))


@cache
def spec_tools() -> frozenset[str]:
    return frozenset(t for t, stem in _files().items() if not _raw(stem).get("builtin")) | frozenset(_builtins())


def tool_of(cmd: Command) -> str:
    """The tool a command runs, for reports: its name, `(variable)` for a name only known at run
    time, a path as written."""
    if not cmd.words:
        return ""
    first = cmd.words[0]
    return "(variable)" if first.dynamic else first.value


# --- the generic validator ------------------------------------------------------------------------

_NUMBER = re.compile(r"-\d+(\.\d+)?$")


def _lookup(flag: str, *tables: dict[str, Arity]) -> Arity | None:
    for t in tables:
        if flag in t:
            return t[flag]
    return None


def _skip(ar: Arity | None, words: list[Word], i: int) -> tuple[int, bool]:
    """The index of the last word a flag at `i` consumes (its value is separate), and whether the
    rest of the line are arguments (`python -m module …`)."""
    if ar == "*":
        return len(words), True
    if isinstance(ar, int) and ar >= 1:
        return i + ar, False
    if ar == "+":
        i += 1
        while i + 1 < len(words) and not words[i + 1].value.startswith("-"):
            i += 1
        return i, False
    return i, False


def _split(spec: CliSpec, words: list[Word]) -> tuple[str, list[tuple[str, int]], list[Word], str | None]:
    """Pass 1: the command path, the flags used (with their position) and the arguments."""
    path, flags, args = "", [], []
    node = spec.commands[""]
    i, n = 0, len(words)
    rest = False
    while i < n:
        w = words[i]
        v = w.value
        if rest or w.dynamic and not v.startswith("-"):
            args.append(w)
        elif v == "--":
            rest = True
        elif v.startswith("--") and len(v) > 2:
            name, eq, _ = v.partition("=")
            flags.append((name, i))
            ar = _lookup(name, node.flags, spec.flags, spec.all_flags)
            if ar == "*" or not eq:
                i, rest = _skip(ar, words, i)
        elif v.startswith("-") and len(v) > 1 and not _NUMBER.match(v):
            ar = _lookup(v.partition("=")[0], node.flags, spec.flags, spec.all_flags)
            if ar is not None:  # a single-dash long flag (-auto-approve) or one short flag
                flags.append((v.partition("=")[0], i))
                if ar == "*" or "=" not in v:
                    i, rest = _skip(ar, words, i)
            else:
                for j, ch in enumerate(v[1:]):
                    f = "-" + ch
                    flags.append((f, i))
                    ar = _lookup(f, node.flags, spec.flags, spec.all_flags)
                    if ar not in (0, None, "?"):
                        if j == len(v) - 2 or ar == "*":
                            i, rest = _skip(ar, words, i)
                        break
        else:
            child = f"{path} {v}".strip()
            if not args and child in spec.commands:
                path, node = child, spec.commands[child]
            elif not args and node.group:
                return path, flags, args, v
            else:
                args.append(w)
                rest = rest or node.posix
        i += 1
    return path, flags, args, None


def _check(spec: CliSpec, tool: str, words: list[Word], mention: bool = False) -> Verdict:
    path, flags, args, unknown = _split(spec, words)
    label = f"{tool} {path}".strip()
    node = spec.commands[path]
    if unknown is not None and (path in spec.unverified or any(path.startswith(u + " ") for u in spec.unverified) or not path and unknown in spec.unverified):
        return Verdict(tool, "unverifiable", f"`{label}` is outside the captured definition of {tool}", label)
    if path and (path in spec.unverified or path.split(" ")[0] in spec.unverified):
        return Verdict(tool, "unverifiable", f"`{label}`: the {path.split(' ')[0]} commands of {tool} are not in its captured definition", label)
    top = [p for p in spec.commands if p and " " not in p]
    if unknown is not None and not path and spec.plugins and not difflib.get_close_matches(unknown, top, n=1, cutoff=0.8):
        return Verdict(tool, "unverifiable", f"`{tool} {unknown}` is not a command of {tool} {spec.version}: it needs a plugin "
                                             f"({spec.plugins.format(name=unknown)}); say how to install it", f"{tool} {unknown}")
    if unknown is not None and mention and not re.fullmatch(r"[a-z][\w:.-]*", unknown):
        return Verdict(tool, "unverifiable", f"`{label} {unknown}` reads as output quoted in prose, not as a command", label)
    if unknown is not None:
        subs = sorted(p.rsplit(" ", 1)[-1] for p in spec.commands if p and (p.rsplit(" ", 1)[0] if " " in p else "") == path)
        close = difflib.get_close_matches(unknown, subs, n=1, cutoff=0.8)
        hint = f" (did you mean '{close[0]}'?)" if close else f" (known: {', '.join(subs[:12])}{', …' if len(subs) > 12 else ''})" if subs else ""
        return Verdict(tool, "invalid", f"`{label} {unknown}`: {tool} has no command '{unknown}'{hint}", label)
    if node.free:
        return Verdict(tool, "verified", "", label)
    if node.group and not args and not flags and not mention:  # prose may name a group of commands (`glab ci cancel`)
        return Verdict(tool, "invalid", f"`{label}` needs a subcommand", label)
    for f, _ in () if spec.open_flags else flags:
        if _lookup(f, node.flags, spec.flags) is None and not (spec.negatable and f.startswith("--no-") and _lookup("--" + f[5:], node.flags, spec.flags) == 0):
            return Verdict(tool, "invalid", f"`{label}` has no option {f}", label)
    if node.max_args is not None and len(args) > node.max_args:
        extra = " ".join(w.value for w in args[node.max_args:])
        return Verdict(tool, "invalid", f"`{label}` takes {node.max_args or 'no'} argument{'s' if node.max_args != 1 else ''}; "
                                        f"'{extra}' is one too many", label)
    for w in args:
        for source, why in node.wrong_arg_from.items():
            if w.dynamic and re.search(r"\$\(\s*" + re.escape(source) + r"\b", w.value):
                return Verdict(tool, "invalid", f"`{label}` is given the output of `{source}`: {why}", label)
    used = {f for f, _ in flags}
    for req in () if mention else node.required:
        if not used & set(req.split("|")):
            return Verdict(tool, "invalid", f"`{label}` needs {req.split('|')[0]}", label)
    return Verdict(tool, "verified", "", label)


# --- aws: botocore's service models ---------------------------------------------------------------

_LOADER = create_loader()


@cache
def _service_model(name: str) -> ServiceModel | None:
    try:
        return ServiceModel(_LOADER.load_service_model(name, "service-2"), service_name=name)
    except (DataNotFoundError, UnknownServiceError):
        return None


@cache
def _paginators(name: str) -> frozenset[str]:
    try:
        return frozenset(_LOADER.load_service_model(name, "paginators-1").get("pagination", {}))
    except (DataNotFoundError, UnknownServiceError):
        return frozenset()


@cache
def _operations(name: str) -> dict[str, str]:
    model = _service_model(name)
    return {xform_name(op, "-"): op for op in model.operation_names} if model is not None else {}


def aws_operation_flags(service: str, operation: OperationModel) -> tuple[dict[str, Arity], tuple[str, ...]]:
    """The AWS CLI's options of an operation as the CLI derives them from the model: one per
    input member (`--secret-id`), `--no-x` for booleans, the pagination options; required
    members (not idempotency tokens) are required options."""
    flags: dict[str, Arity] = {"--cli-input-json": 1, "--cli-input-yaml": 1, "--generate-cli-skeleton": "?"}
    required: list[str] = []
    shape = operation.input_shape
    if shape is not None:
        req = set(shape.required_members)
        for member, sub in shape.members.items():
            name = "--" + xform_name(member, "-")
            if sub.type_name == "boolean":
                flags[name] = 0
                flags["--no-" + name[2:]] = 0
            else:
                flags[name] = "+" if sub.type_name in ("list", "map") else 1
            if member in req and not sub.metadata.get("idempotencyToken") and not (sub.serialization or {}).get("idempotencyToken"):
                required.append(name)
    if operation.name in _paginators(service):
        flags.update({"--starting-token": 1, "--page-size": 1, "--max-items": 1})
    return flags, tuple(required)


@cache
def _aws_node(cli_service: str, cli_op: str) -> CommandSpec | None:
    spec = cli_spec("aws")
    if spec is None:
        return None
    raw = _raw("aws")
    service = raw.get("services", {}).get(cli_service)
    if service is None:
        return None
    over = raw.get("overrides", {}).get(f"{cli_service} {cli_op}", {})
    op = over.get("operation") or _operations(service).get(cli_op)
    model = _service_model(service)
    if op is None or model is None:
        return None
    flags, required = aws_operation_flags(service, model.operation_model(op))
    for name in over.get("remove", ()):
        flags.pop(name, None)
        required = tuple(r for r in required if r != name)
    for name, (req, ar) in over.get("flags", {}).items():
        flags[name] = ar
        required = tuple(r for r in required if r != name) + ((name,) if req else ())
    if "--cli-input-json" in flags:  # the whole input may come from a file: nothing is required on the line
        required = tuple(f"{r}|--cli-input-json|--cli-input-yaml" for r in required)
    return CommandSpec(flags=flags, required=required, max_args=over["max_args"] if "max_args" in over else 0)


def _aws_positionals(spec: CliSpec, words: list[Word]) -> list[str]:
    """The first words that are not options (the service and the operation)."""
    out: list[str] = []
    i = 0
    while i < len(words) and len(out) < 3:
        v = words[i].value
        if v.startswith("--"):
            ar = spec.flags.get(v.partition("=")[0])
            if ar in (1, "+") and "=" not in v:
                i += 1
        else:
            out.append(v)
        i += 1
    return out


def _check_aws(spec: CliSpec, words: list[Word], mention: bool = False) -> Verdict:
    positional = _aws_positionals(spec, words)
    if not positional:
        return _check(spec, "aws", words)
    service, raw = positional[0], _raw("aws")
    if service in ("help", "configure", "history") or f"{service}" in spec.commands and service not in raw.get("services", {}):
        return _check(spec, "aws", words)
    if service not in raw.get("services", {}):
        return Verdict("aws", "invalid", f"`aws {service}`: the AWS CLI has no service '{service}'", f"aws {service}")
    if len(positional) < 2:
        return Verdict("aws", "invalid", f"`aws {service}` needs an operation", f"aws {service}")
    op = positional[1]
    label = f"aws {service} {op}"
    if op == "help":
        return Verdict("aws", "verified", "", label)
    prefix = f"{service} {op}"
    if prefix in spec.commands:  # a command of the CLI itself (s3 cp, ecr get-login-password, logs tail, waiters)
        tree = {p: c for p, c in spec.commands.items() if p == prefix or p.startswith(prefix + " ")}
        return _check(spec.sub({"": CommandSpec(group=True), service: CommandSpec(group=True), **tree}), "aws", words, mention)
    node = _aws_node(service, op)
    if node is None:
        return Verdict("aws", "invalid", f"`{label}`: {service} has no operation '{op}' (botocore service model {raw.get('services', {})[service]})", label)
    return _check(spec.sub({"": CommandSpec(group=True), service: CommandSpec(group=True), prefix: node}), "aws", words, mention)


# --- entry point ------------------------------------------------------------------------------------

def _unwrap(words: list[Word]) -> list[Word]:
    """The command a wrapper (sudo, env, timeout, …) runs."""
    name = words[0].value
    opts = WRAPPERS[name]
    i, positional = 1, WRAPPER_ARGS.get(name, 0)
    while i < len(words):
        v = words[i].value
        if name in ("env", "sudo") and re.match(r"[A-Za-z_]\w*=", v):
            i += 1
        elif v.startswith("-") and len(v) > 1:
            known = opts.get(v) if v in opts else opts.get(v[:2])
            i += 2 if known == 1 and (v in opts or len(v) == 2) else 1
        elif positional:
            positional -= 1
            i += 1
        else:
            break
    return words[i:]


def remote_command(cmd: Command) -> str | None:
    """The command line `ssh [options] destination command…` runs on the remote host (None when
    there is none): shell code of its own, checked like any other."""
    spec = cli_spec("ssh")
    if cmd.name != "ssh" or spec is None:
        return None
    words = cmd.words[1:]
    i = 0
    while i < len(words):
        v = words[i].value
        if v == "--":
            i += 1
            break
        if not v.startswith("-") or len(v) < 2:
            break
        ar = spec.flags.get(v[:2])
        i += 2 if ar == 1 and len(v) == 2 else 1
    rest = words[i + 1:]
    return " ".join(w.value for w in rest) if rest else None


def validate_command(cmd: Command, mention: bool = False) -> Verdict:
    """Check one simple command against its tool's definition; a `mention` (a command named in
    prose) need not carry its required options."""
    words = list(cmd.words)
    while words and not words[0].dynamic and words[0].value in WRAPPERS and len(words) > 1:
        inner = _unwrap(words)
        if not inner:
            break
        words = inner
    if not words:
        return Verdict("", "unverifiable", "empty command")
    first = words[0]
    if first.dynamic:
        return Verdict("(variable)", "unverifiable", f"the command name {first.value} is known only at run time")
    name = first.value
    tool = name.rsplit("/", 1)[-1] if name.startswith("/") else name
    if name.startswith(("./", "../", "~/")) or "/" in name and not name.startswith("/"):
        return Verdict(name, "unverifiable", f"{name} is a script of the project, not a tool with a published definition")
    if tool in _builtins():
        verdict = _check(_builtin_spec(_builtins()[tool]), "", words)
        return Verdict(tool, verdict.status, verdict.message, verdict.command)
    spec = cli_spec(tool)
    if spec is None:
        return Verdict(tool, "unverifiable", f"no definition of {tool} is captured (opslib/data/clis/)")
    if tool == "aws":
        return _check_aws(spec, words[1:], mention)
    return _check(spec, tool, words[1:], mention)
