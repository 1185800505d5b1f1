"""Quality-bar checks of a secrets document: every item of the quality bar's "Secret Management
Validation" list, plus "no secret values in the document" from its Secret Management Mistakes,
on a generated or a hand-written document. With `params`, every secret of the project's
inventory must be in it. Our generated secrets.md is held to the same rules (`strict` adds
nothing). Item texts: opslib/data/quality-bar.yaml, genre secrets.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from opslib.catalog.secrets import classify_text
from opslib.check.commands import has_command, project_clis
from opslib.check.findings import Finding
from opslib.check.items import item_texts
from opslib.check.markdown import Document, Fence, Section, parse
from opslib.check.truth import generated_truth
from opslib.params.models import ProjectParams
from opslib.params.secrets import secret_path

__all__ = ["GENRE", "ITEMS", "STORE_WORDS", "check_secrets"]

GENRE = "secrets"
ITEMS = item_texts(GENRE)
STORE_WORDS = re.compile(r"AWS Secrets Manager|HashiCorp Vault|\bVault\b|Kubernetes Secrets?|External Secrets|Secret Manager|Key Vault|GitHub Actions secrets|GitLab CI|Heroku config vars|Doppler|1Password", re.I)
SECRET_CLIS = ("vault", "glab", "gh", "openssl", "certbot", "ssh-keygen")


def _has_cmd(text: str, clis: frozenset[str]) -> bool:
    return has_command(Fence("bash", text, 0), clis) or any(re.search(rf"(^|\n)\s*{c}\s", text) for c in SECRET_CLIS)


def _section(doc: Document, *words: str) -> Section | None:
    return next((s for s in doc.sections if all(w in s.title.lower() for w in words)), None)


def _f(item: str, ok: bool, good: str, bad: str, line: int | None = None) -> Finding:
    return Finding(ITEMS[item], "pass" if ok else "fail", good if ok else bad, line, area="secrets")


def _rows(body: str) -> list[list[str]]:
    rows = [r for r in body.splitlines() if r.strip().startswith("|")]
    out = [[c.strip() for c in re.split(r"(?<!\\)\|", r.strip())[1:-1]] for r in rows]
    return [r for r in out if not all(re.fullmatch(r":?-+:?", c) for c in r if c)]


def check_secrets(text: str, *, path: Path | None = None, environments: Sequence[str] | None = None,
                  params: ProjectParams | None = None, strict: bool = False, doc: Document | None = None) -> list[Finding]:
    """Every "Secret Management Validation" item of the quality bar over a secrets document
    (generated or hand-written); with `params`, every inventory secret must be in it."""
    clis = project_clis(params)
    doc = doc if doc is not None and doc.text == text else parse(text, Path(path) if path else None)
    out: list[Finding] = []

    req = _section(doc, "required secrets")
    rows = _rows(doc.body(req))[1:] if req else []
    missing = []
    if params is not None and params.secrets is not None:
        missing = [secret_path(i, e.name) for e in params.environments for i in params.secrets.items
                   if (i.environments is None or e.name in i.environments) and secret_path(i, e.name) not in text]
    out.append(_f("identified", bool(rows) and not missing, f"{len(rows)} secret(s) listed under Required Secrets",
                  "no Required Secrets table with the secrets' names, env vars and users; list every secret"
                  + (f" (missing: {', '.join(missing[:5])})" if missing else ""), req.line if req else None))

    tool = _section(doc, "tool") or _section(doc, "store")
    out.append(_f("tool", bool(tool and STORE_WORDS.search(doc.body(tool))), "secret store named",
                  "no 'Tool' section naming the secret store (AWS Secrets Manager, Vault, …); say where the values live", tool.line if tool else None))

    proc = next((s for s in doc.sections if "rotation procedure" in s.title.lower() or s.title.lower().startswith("rotation (normal")), None)
    ok = bool(proc is not None and any(_has_cmd(f.content, clis) for f in doc.fences_in(proc)) and re.search(r"restart", doc.body(proc), re.I)
              and re.search(r"verif", doc.body(proc), re.I))
    out.append(_f("procedures", bool(ok), "step-by-step rotation with store commands, restart and verification",
                  "no Rotation Procedure with commands, a restart and a verification step; document how to rotate", proc.line if proc else None))

    freq = _section(doc, "rotation frequenc") or _section(doc, "rotation")
    body = doc.body(freq) if freq else ""
    ok = bool(freq is not None and re.search(r"\b\d+\s*days\b|quarterly|annually|monthly|on compromise", body, re.I))
    out.append(_f("frequencies", bool(ok), "rotation period per secret type", "no rotation frequency per secret type; add a table of periods", freq.line if freq else None))

    em = _section(doc, "emergency")
    body = doc.body(em) if em else ""
    need = {"revoke": r"revok", "restart": r"restart|delete pods", "audit": r"audit|access log|cloudtrail", "post-mortem": r"post-?mortem"}
    lack = [k for k, rx in need.items() if not re.search(rx, body, re.I)]
    out.append(_f("emergency", em is not None and not lack and any(_has_cmd(f.content, clis) for f in doc.fences_in(em)),
                  "emergency rotation: revoke, immediate restart, audit, post-mortem",
                  f"no complete Emergency Rotation procedure (missing: {', '.join(lack) or 'commands'}); add it", em.line if em else None))

    code = _section(doc, "referenc") or _section(doc, "code")
    langs = {"python", "javascript", "typescript", "go", "java", "ruby", "js", "ts", "node"}
    fences = [f for f in doc.fences_in(code)] if code else []
    ok = any(f.info.split(" ")[0] in langs and re.search(r"environ|getenv|process\.env|Getenv|ENV\[|get_secret_value|GetSecretValue", f.content) for f in fences)
    out.append(_f("code", ok, "code examples read secrets from the environment or the store SDK",
                  "no code example showing how code reads a secret (os.environ, process.env, SDK); add one per language", code.line if code else None))

    acc = _section(doc, "access")
    body = doc.body(acc) if acc else ""
    ok = bool(acc is not None and len(_rows(body)) > 1 and any(f.info.split(" ")[0] in ("json", "hcl", "yaml", "bash") for f in doc.fences_in(acc))
              and re.search(r"least.privilege", body, re.I))
    out.append(_f("access", bool(ok), "access matrix and least-privilege policies",
                  "no Access Control section with who reads which secret and least-privilege policy snippets; add both", acc.line if acc else None))

    warn = re.search(r"(never|do not|don't)\s+commit", text, re.I)
    out.append(_f("warnings", bool(warn), "warning against committing secrets", "no warning against committing secrets to version control; add one",
                  text[: warn.start()].count("\n") + 1 if warn else None))

    leaks = []
    for n, line in enumerate(doc.lines, 1):
        for _rule, kind, _s, _e in classify_text(line):
            leaks.append(Finding(ITEMS["no_values"], "fail", f"line {n} looks like a {kind}; remove the value and name the secret instead", n, area="secrets"))
    out += leaks or [Finding(ITEMS["no_values"], "pass", "no value that looks like a secret", area="secrets")]
    if strict and params is not None:
        out += generated_truth(text, path=Path(path) if path else None, params=params, doc=doc)
    return out
