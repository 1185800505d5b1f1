"""Safety rules as data (opslib/data/safety-rules.yaml): destructive operations need a guard
written next to them, and every variable a procedure uses is set earlier in it or declared as an
input at its top.

    destructive(cmd, path, before, encryption) -> Hazard | None   one command against the rules
    safety_rules()                             -> SafetyRules     the data, compiled once
    predefined(names, context)                 -> bool            a variable the environment sets

`path` is the command path after the tool (`lambda delete-function-concurrency`), `before` the
procedure's text up to the command (its code and prose: where a guard must be written), and
`encryption` the names of the project's keys that encrypt stored data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from opslib.catalog.loaders import DATA_DIR
from opslib.check.shell import Command
from opslib.core.yamlio import read_yaml
from opslib.errors import CatalogError

__all__ = ["Guard", "Rule", "SafetyRules", "Hazard", "safety_rules", "destructive", "predefined", "has_flag"]

RULES_FILE = DATA_DIR / "safety-rules.yaml"


@dataclass(frozen=True)
class Guard:
    id: str
    what: str
    text: tuple[re.Pattern, ...]
    also: tuple[re.Pattern, ...]  # every one must be found too (`and:`)

    def found(self, before: str) -> bool:
        return any(rx.search(before) for rx in self.text) and all(rx.search(before) for rx in self.also)


@dataclass(frozen=True)
class Rule:
    id: str
    what: str
    match: dict[str, Any]
    unless: tuple[dict[str, Any], ...]
    guards: tuple[str, ...]
    fix: str


@dataclass(frozen=True)
class SafetyRules:
    guards: dict[str, Guard]
    rules: tuple[Rule, ...]
    encryption: tuple[re.Pattern, ...]
    environment: dict[str, tuple[re.Pattern, ...]]


@dataclass(frozen=True)
class Hazard:
    rule: str
    what: str
    needs: str  # what guard would make it safe


def _patterns(raw: Any, where: str) -> tuple[re.Pattern, ...]:
    try:
        return tuple(re.compile(p) for p in (raw or []))
    except re.error as exc:
        raise CatalogError(f"opslib/data/safety-rules.yaml: {where}: {exc}; fix the pattern.") from None


def _compile(cond: dict[str, Any], where: str) -> dict[str, Any]:
    out = dict(cond)
    for key in ("command", "args", "text"):
        if key in out:
            out[key] = _patterns([out[key]], f"{where}.{key}")[0]
    return out


@cache
def safety_rules() -> SafetyRules:
    raw = read_yaml(RULES_FILE, lines=False)
    guards = {gid: Guard(gid, g["what"], _patterns(g.get("text"), f"guards.{gid}"), _patterns(g.get("and"), f"guards.{gid}"))
              for gid, g in raw["guards"].items()}
    rules = []
    for r in raw["rules"]:
        for gid in r.get("guards", []):
            if gid != "none" and gid not in guards:
                raise CatalogError(f"opslib/data/safety-rules.yaml: rules.{r['id']}: unknown guard {gid!r}; use one of {', '.join(guards)} or none.")
        rules.append(Rule(r["id"], r["what"], _compile(r["match"], f"rules.{r['id']}.match"),
                          tuple(_compile(u, f"rules.{r['id']}.unless") for u in r.get("unless", [])), tuple(r.get("guards", [])), r.get("fix", "")))
    env = {k: tuple(re.compile(rf"^(?:{p})$") for p in v) for k, v in raw["environment"].items()}
    return SafetyRules(guards, tuple(rules), _patterns(raw.get("encryption_keys"), "encryption_keys"), env)


def has_flag(cmd: Command, flag: str) -> bool:
    """The option is on the command line: `--force`, `--force=…`, or a short option alone or in a
    cluster (`-rf` has -r and -f)."""
    for w in cmd.words[1:]:
        v = w.value
        if v == flag or flag.startswith("--") and v.startswith(flag + "="):
            return True
        if len(flag) == 2 and flag[0] == "-" and re.fullmatch(r"-[A-Za-z]+", v) and flag[1] in v[1:]:
            return True
    return False


def _holds(cond: dict[str, Any], cmd: Command, path: str, encryption: tuple[re.Pattern, ...]) -> bool:
    if "tool" in cond and cmd.name.rsplit("/", 1)[-1] != cond["tool"]:
        return False
    if "command" in cond and not cond["command"].search(path):
        return False
    args = [w.value for w in cmd.words[1:] if not w.value.startswith("-")]
    if "args" in cond and not any(cond["args"].search(a) for a in args):
        return False
    if "flags" in cond and not all(has_flag(cmd, f) for f in cond["flags"]):
        return False
    if "any_flag" in cond and not any(has_flag(cmd, f) for f in cond["any_flag"]):
        return False
    if "text" in cond and not cond["text"].search(cmd.text):
        return False
    return not (cond.get("target") and not any(rx.search(cmd.text) for rx in encryption))


def destructive(cmd: Command, path: str, before: str, encryption: tuple[str, ...] = ()) -> Hazard | None:
    """The first rule the command matches whose guard is not written before it, or None."""
    rules = safety_rules()
    enc = rules.encryption + tuple(re.compile(re.escape(n)) for n in encryption if n)
    for rule in rules.rules:
        if not _holds(rule.match, cmd, path, enc):
            continue
        if any(_holds(u, cmd, path, enc) for u in rule.unless):
            continue
        guards = [rules.guards[g] for g in rule.guards if g != "none"]
        if guards and any(g.found(before) for g in guards):
            continue
        needs = rule.fix or " or ".join(g.what for g in guards) or "a scoped form"
        return Hazard(rule.id, rule.what, needs)
    return None


def predefined(name: str, contexts: tuple[str, ...]) -> bool:
    """A variable the environment sets (the shell's own, and a CI system's in a CI file)."""
    env = safety_rules().environment
    return any(rx.match(name) for ctx in ("shell", *contexts) for rx in env.get(ctx, ()))
