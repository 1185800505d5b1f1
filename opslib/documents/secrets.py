"""Secrets: from the `secrets:` inventory to secrets.md, .env.example and a pre-commit config.

    inventory(params, status)      -> SecretInventory  (pure: rows per environment, calendar, procedures)
    rotation_calendar(params)      -> list[CalendarRow] (next due date per secret as of project.as_of)
    render_secrets(inventory)      -> str               (Jinja, StrictUndefined)
    env_example(params)            -> str               (.env.example: names, never values)
    check_secrets_doc(text, path)  -> list[Finding]     (the quality bar's "Secret Management Validation")
    write(params, status, out_dir) -> Written           (secrets.md, .env.example, .pre-commit-config.yaml)
    check_written(out_dir, params) -> list[Finding]

Parameters and documents hold secret names and metadata only; nothing here ever reads a value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from opslib.catalog.loaders import DATA_DIR
from opslib.catalog.platforms import Platform
from opslib.check.findings import Finding, failed
from opslib.check.commands import has_command
from opslib.check.markdown import parse
from opslib.errors import ChecksFailed, ParamsError
from opslib.core.files import write_text_atomic
from opslib.params.models import ProjectParams
from opslib.core.templates import render, render_string
from opslib.documents.contract import Written
from opslib.documents.commands import RStep, command_context, steps
from opslib.params.secrets import SecretItem, classify_text, platform_problems, secret_kinds, secret_rules, secret_stores
from opslib.params.status import StatusCheck

__all__ = [
    "DOC", "ITEMS", "SecretRow", "CalendarRow", "SecretInventory", "inventory", "rotation_calendar",
    "render_secrets", "env_example", "check_secrets_doc", "write", "check_written", "secret_path",
]

DOC = "secrets"
DUE_SOON_DAYS = 30

ITEMS = {
    "identified": "All required secrets identified and documented",
    "tool": "Secret management tool specified (AWS Secrets Manager, Vault, etc.)",
    "procedures": "Secret rotation procedures documented",
    "frequencies": "Rotation frequencies specified per secret type",
    "emergency": "Emergency rotation procedure documented",
    "code": "Examples of referencing secrets in code provided",
    "access": "Access control and least-privilege documented",
    "warnings": "Warnings against committing secrets included",
    "no_values": "No secret values exposed in the document (Secret Management Mistakes)",
}

# after a compromise every instance restarts at once: the platform's operations.restart_now
# (opslib/data/platforms/<platform>/platform.yaml); the normal rotation uses its rolling restart


def secret_path(item: SecretItem, env: str) -> str:
    return item.name.replace("{env}", env)


def rotation_days(item: SecretItem, kinds: dict[str, dict] | None = None) -> int | None:
    """The item's period, else its kind's default (`kinds`: the project's, params.catalog.secret_kinds)."""
    return item.rotation_days if item.rotation_days is not None else (kinds or secret_kinds())[item.kind]["rotation_days"]


@dataclass(frozen=True)
class SecretRow:
    path: str
    env: str
    env_var: str
    kind: str
    kind_title: str
    store: str
    store_title: str
    description: str
    services: list[str]
    owner: str
    rotation: str
    rotation_days: int | None
    rotation_text: str


@dataclass(frozen=True)
class CalendarRow:
    name: str
    env_var: str
    environments: list[str]
    kind: str
    rotation: str
    last_rotated: date
    rotation_days: int | None
    next_due: date | None
    days_left: int | None
    status: str  # overdue, due soon, ok, on compromise


@dataclass(frozen=True)
class KindRow:
    kind: str
    title: str
    default_days: int | None
    source: str
    used_by: list[str]


@dataclass(frozen=True)
class StoreProcedure:
    store: str
    title: str
    docs_url: str
    delivery: str
    example: str
    applies_to: list[tuple[str, str, str]]  # (path in prod, env var, services)
    generate: str
    generate_command: str | None
    metadata: RStep
    rotate: list[RStep]
    restart: list[RStep]
    verify: list[RStep]
    restarts_workload: bool


@dataclass(frozen=True)
class Emergency:
    store: str
    title: str
    example: str
    providers: list[tuple[str, str]]
    rotate: list[RStep]
    restart: list[RStep]
    audit: RStep


@dataclass(frozen=True)
class Policy:
    secret: str
    services: list[str]
    language: str
    text: str


@dataclass(frozen=True)
class CodeExample:
    title: str
    fence: str
    env: str
    sdk: str | None
    never: str


@dataclass(frozen=True)
class SecretInventory:
    project: Any
    platform: Platform
    status: StatusCheck
    as_of: date
    security_contact: str
    stores: list[tuple[str, str]]  # (title, docs url)
    environments: list[tuple[str, list[SecretRow]]]
    kinds: list[KindRow]
    calendar: list[CalendarRow]
    overdue: int
    procedures: list[StoreProcedure]
    emergencies: list[Emergency]
    services: list[str]
    matrix: list[tuple[str, str, list[str]]]  # (secret name, env var, "read"/"" per service)
    policies: list[Policy]
    code: list[CodeExample]
    env_file: str


def _rotation_text(days: int | None, rotation: str) -> str:
    if days is None:
        return "on compromise only (no periodic change)"
    return f"every {days} days ({rotation})"


def rotation_calendar(params: ProjectParams, as_of: date | None = None) -> list[CalendarRow]:
    """Next due date per secret, as of `as_of` (default: the parameters' as_of date), soonest first."""
    as_of = as_of or params.project.as_of
    envs = [e.name for e in params.environments]
    rows = []
    for item in params.secrets.items if params.secrets else []:
        days = rotation_days(item, params.catalog.secret_kinds)
        due = item.last_rotated + timedelta(days=days) if days is not None else None
        left = (due - as_of).days if due is not None else None
        if left is None:
            status = "on compromise"
        elif left < 0:
            status = "overdue"
        elif left <= DUE_SOON_DAYS:
            status = "due soon"
        else:
            status = "ok"
        rows.append(CalendarRow(item.name, item.env_var, item.environments or envs, item.kind, item.rotation,
                                item.last_rotated, days, due, left, status))
    return sorted(rows, key=lambda r: (r.next_due or date.max, r.name))


def _secret_ctx(item: SecretItem, env: str, params: ProjectParams) -> dict[str, str]:
    path = secret_path(item, env)
    repo = re.sub(r"^https?://[^/]+/", "", params.project.repository).rstrip("/")
    return {
        "path": path,
        "name": item.name,
        "env_var": item.env_var,
        "kind": item.kind,
        "external_secret": item.external_secret or f"{item.services[0]}-secrets",
        "k8s_secret": item.external_secret or f"{item.services[0]}-secrets",
        "sid": re.sub(r"[^A-Za-z0-9]", "", path.title()),
        "gcp_name": path.replace("/", "_"),
        "azure_name": path.replace("/", "-").replace("_", "-"),
        "repo": repo,
        "org": repo.split("/")[0],
    }


def _rsteps(raw: list[dict], ctx: dict, where: str) -> list[RStep]:
    return [
        RStep(text=render_string(s["text"], ctx, where), command=render_string(s["command"], ctx, where) if s.get("command") else None,
              expected=render_string(s["expected"], ctx, where) if s.get("expected") else None)
        for s in raw
    ]


def _consumers(params: ProjectParams, names: list[str]) -> ProjectParams:
    return params.model_copy(update={"services": [s for s in params.services if s.name in names]})


def inventory(params: ProjectParams, status: StatusCheck) -> SecretInventory:
    """Resolve everything secrets.md shows (no rendering)."""
    if params.secrets is None:
        raise ParamsError(str(params.path), ["secrets: missing; add the secret inventory (names and metadata, never values)"])
    mismatch = platform_problems(params)
    if mismatch:
        raise ParamsError(str(params.path), mismatch)
    platform = params.catalog.platform(params.platform)
    kinds, stores = params.catalog.secret_kinds, secret_stores()
    items = list(params.secrets.items)
    prod = params.production
    account = params.secrets.aws_account_id or "${AWS_ACCOUNT_ID}"
    where_p = f"{platform.label}/platform.yaml"

    envs = []
    for env in params.environments:
        rows = [
            SecretRow(
                path=secret_path(i, env.name), env=env.name, env_var=i.env_var, kind=i.kind, kind_title=kinds[i.kind]["title"],
                store=i.store, store_title=stores[i.store]["title"], description=i.description, services=list(i.services),
                owner=i.owner, rotation=i.rotation, rotation_days=rotation_days(i, kinds),
                rotation_text=_rotation_text(rotation_days(i, kinds), i.rotation),
            )
            for i in items
            if i.environments is None or env.name in i.environments
        ]
        envs.append((env.name, sorted(rows, key=lambda r: r.path)))

    used_kinds = sorted({i.kind for i in items})
    kind_rows = [
        KindRow(k, kinds[k]["title"], kinds[k]["rotation_days"], kinds[k]["source"], sorted({i.env_var for i in items if i.kind == k}))
        for k in used_kinds
    ]

    procedures, emergencies = [], []
    for store in sorted({i.store for i in items}):
        spec = stores[store]
        mine = [i for i in items if i.store == store]
        example = next((i for i in mine if i.environments is None or prod.name in i.environments), mine[0])
        env = prod if example.environments is None or prod.name in example.environments else params.environment(example.environments[-1])
        ctx = dict(command_context(params, env, platform), secret=_secret_ctx(example, env.name, params), account=account)
        where = f"opslib/data/secret-stores.yaml {store}"
        consumers = sorted({s for i in mine for s in i.services}, key=[s.name for s in params.services].index)
        restart = steps(platform.operations.restart, _consumers(params, example.services), ctx, where_p) if spec["restarts_workload"] else []
        procedures.append(StoreProcedure(
            store=store, title=spec["title"], docs_url=spec["docs_url"],
            delivery=render_string(spec["delivery"], ctx, where).replace("\n", " "),
            example=secret_path(example, env.name),
            applies_to=[(secret_path(i, env.name), i.env_var, ", ".join(i.services)) for i in mine],
            generate=kinds[example.kind]["generate"],
            generate_command=kinds[example.kind].get("generate_command"),
            metadata=_rsteps([dict(spec["metadata"], text="metadata")], ctx, where)[0],
            rotate=_rsteps(spec["rotate"], ctx, where),
            restart=restart,
            verify=_rsteps(spec["verify"], ctx, where),
            restarts_workload=bool(spec["restarts_workload"]),
        ))
        sub = _consumers(params, consumers if spec["restarts_workload"] else [])
        immediate = [
            RStep(text=f"**{s.name}**: {r.text[:1].lower()}{r.text[1:]}" if len(sub.services) > 1 else r.text, command=r.command, expected=r.expected)
            for s in sub.services
            for r in steps(platform.operations.restart_now, _consumers(params, [s.name]), dict(ctx, service=s), f"{where_p} operations.restart_now")
        ]
        emergencies.append(Emergency(
            store=store, title=spec["title"], example=secret_path(example, env.name),
            providers=[(i.env_var, i.provider or "generated by the team: storing a new value revokes the old one (tokens or sessions signed with it stop validating)") for i in mine],
            rotate=_rsteps(spec["rotate"], ctx, where), restart=immediate,
            audit=_rsteps([dict(spec["audit"], text="audit")], ctx, where)[0],
        ))

    service_names = [s.name for s in params.services]
    matrix = [(i.name, i.env_var, ["read" if s in i.services else "" for s in service_names]) for i in items]
    policies = []
    for i in items:
        env = prod if i.environments is None or prod.name in i.environments else params.environment(i.environments[-1])
        spec = stores[i.store]["policy"]
        ctx = dict(command_context(params, env, platform), secret=_secret_ctx(i, env.name, params), account=account)
        policies.append(Policy(secret_path(i, env.name), list(i.services), spec["language"],
                               render_string(spec["template"], ctx, f"opslib/data/secret-stores.yaml {i.store}.policy")))

    code_data = _load_code()
    sdk_stores = {"aws-secrets-manager"}
    example_vars = sorted({i.env_var for i in items})[:3]
    vars_ctx = {"secrets": [{"env_var": v, "var": v.lower(), "camel": _camel(v)} for v in example_vars]}
    code = [
        CodeExample(
            title=code_data[lang]["title"], fence=code_data[lang]["fence"],
            env=render_string(code_data[lang]["env"], vars_ctx, "opslib/data/secret-stores.yaml code"),
            sdk=render_string(code_data[lang]["sdk"], vars_ctx, "opslib/data/secret-stores.yaml code") if any(i.store in sdk_stores for i in items) else None,
            never=render_string(code_data[lang]["never"], vars_ctx, "opslib/data/secret-stores.yaml code"),
        )
        for lang in params.secrets.languages
    ]
    calendar = rotation_calendar(params)
    return SecretInventory(
        project=params.project, platform=platform, status=status, as_of=params.project.as_of,
        security_contact=params.secrets.security_contact,
        stores=[(stores[s]["title"], stores[s]["docs_url"]) for s in sorted({i.store for i in items})],
        environments=envs, kinds=kind_rows, calendar=calendar, overdue=sum(r.status == "overdue" for r in calendar),
        procedures=procedures, emergencies=emergencies, services=service_names, matrix=matrix, policies=policies,
        code=code, env_file=env_example(params),
    )


def _load_code() -> dict:
    from opslib.core.yamlio import read_yaml

    return read_yaml(DATA_DIR / "secret-stores.yaml")["code"]


def _camel(name: str) -> str:
    head, *rest = name.lower().split("_")
    return head + "".join(p.title() for p in rest)


def env_example(params: ProjectParams) -> str:
    """.env.example: every variable the code reads, with a comment, and no value."""
    lines = [
        f"# {params.project.name}: environment variables the services read (names only).",
        "# Copy to .env for local development and fill in development values from the secret store;",
        "# .env is in .gitignore. Never commit real values. Production values live in the secret store.",
    ]
    seen = set()
    for item in sorted(params.secrets.items if params.secrets else [], key=lambda i: (i.env_var, i.name)):
        if item.env_var in seen:
            continue
        seen.add(item.env_var)
        lines += ["", f"# {item.description} — {secret_stores()[item.store]['title']}: {item.name}; read by {', '.join(item.services)}", f"{item.env_var}="]
    return "\n".join(lines) + "\n"


def render_secrets(inv: SecretInventory) -> str:
    return render(DOC, inv)


# --- checks ------------------------------------------------------------------------------

STORE_WORDS = re.compile(r"AWS Secrets Manager|HashiCorp Vault|\bVault\b|Kubernetes Secrets?|External Secrets|Secret Manager|Key Vault|GitHub Actions secrets|GitLab CI|Heroku config vars|Doppler|1Password", re.I)
SECRET_CLIS = ("vault", "glab", "gh", "openssl", "certbot", "ssh-keygen")


def _has_cmd(text: str) -> bool:
    from opslib.check.markdown import Fence

    return has_command(Fence("bash", text, 0)) or any(re.search(rf"(^|\n)\s*{c}\s", text) for c in SECRET_CLIS)


def _section(doc, *words: str):
    return next((s for s in doc.sections if all(w in s.title.lower() for w in words)), None)


def _f(item: str, ok: bool, good: str, bad: str, line: int | None = None) -> Finding:
    return Finding(ITEMS[item], "pass" if ok else "fail", good if ok else bad, line, area="secrets")


def _rows(body: str) -> list[list[str]]:
    rows = [r for r in body.splitlines() if r.strip().startswith("|")]
    out = [[c.strip() for c in re.split(r"(?<!\\)\|", r.strip())[1:-1]] for r in rows]
    return [r for r in out if not all(re.fullmatch(r":?-+:?", c) for c in r if c)]


def check_secrets_doc(text: str, path: Path | None = None, params: ProjectParams | None = None) -> list[Finding]:
    """Every "Secret Management Validation" item of the quality bar over a secrets document
    (generated or hand-written); with `params`, every inventory secret must be in it."""
    doc = parse(text, Path(path) if path else None)
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
    ok = proc is not None and any(_has_cmd(f.content) for f in doc.fences_in(proc)) and re.search(r"restart", doc.body(proc), re.I) \
        and re.search(r"verif", doc.body(proc), re.I)
    out.append(_f("procedures", bool(ok), "step-by-step rotation with store commands, restart and verification",
                  "no Rotation Procedure with commands, a restart and a verification step; document how to rotate", proc.line if proc else None))

    freq = _section(doc, "rotation frequenc") or _section(doc, "rotation")
    body = doc.body(freq) if freq else ""
    ok = freq is not None and re.search(r"\b\d+\s*days\b|quarterly|annually|monthly|on compromise", body, re.I)
    out.append(_f("frequencies", bool(ok), "rotation period per secret type", "no rotation frequency per secret type; add a table of periods", freq.line if freq else None))

    em = _section(doc, "emergency")
    body = doc.body(em) if em else ""
    need = {"revoke": r"revok", "restart": r"restart|delete pods", "audit": r"audit|access log|cloudtrail", "post-mortem": r"post-?mortem"}
    lack = [k for k, rx in need.items() if not re.search(rx, body, re.I)]
    out.append(_f("emergency", em is not None and not lack and any(_has_cmd(f.content) for f in doc.fences_in(em)),
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
    ok = acc is not None and len(_rows(body)) > 1 and any(f.info.split(" ")[0] in ("json", "hcl", "yaml", "bash") for f in doc.fences_in(acc)) \
        and re.search(r"least.privilege", body, re.I)
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
    return out


def write(params: ProjectParams, status: StatusCheck, out_dir: str | Path) -> Written:
    """Build, render and check secrets.md; write it with .env.example and .pre-commit-config.yaml
    into `out_dir` only if every check passes."""
    from opslib.check.scan import precommit_config

    out_dir = Path(out_dir)
    path = out_dir / "secrets.md"
    if params.secrets is None:
        findings = [Finding(ITEMS["identified"], "fail", "the parameters have no secrets: section; add the secret inventory", area="secrets")]
        raise ChecksFailed(str(path), findings)
    text = render_secrets(inventory(params, status))
    findings = check_secrets_doc(text, path, params)
    if failed(findings):
        raise ChecksFailed(str(path), findings)
    write_text_atomic(out_dir / ".env.example", env_example(params))
    write_text_atomic(out_dir / ".pre-commit-config.yaml", precommit_config())
    write_text_atomic(path, text)
    return Written(path=path, findings=findings)


def check_written(out_dir: str | Path, params: ProjectParams) -> list[Finding]:
    """The checks of the secrets.md in `out_dir` (empty when there is none)."""
    path = Path(out_dir) / "secrets.md"
    if not path.is_file():
        return []
    return check_secrets_doc(path.read_text(encoding="utf-8"), path, params)


def provider_links() -> dict[str, dict]:
    return {k: dict(v) for k, v in secret_rules()["providers"].items()}
