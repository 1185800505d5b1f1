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
from opslib.catalog.secrets import secret_stores
from opslib.check.findings import Finding
from opslib.check.scan import precommit_config
from opslib.check.secrets import ITEMS
from opslib.check.secrets import check_secrets as check_secrets_doc
from opslib.core.templates import render, render_string
from opslib.core.yamlio import read_yaml
from opslib.documents.commands import RStep, command_context, steps
from opslib.documents.contract import Draft, Written, check_file, write_draft
from opslib.errors import ParamsError
from opslib.params.models import ProjectParams
from opslib.params.secrets import SecretItem, platform_problems, secret_kinds, secret_path
from opslib.params.status import StatusCheck

__all__ = [
    "DOC", "ITEMS", "SecretRow", "CalendarRow", "SecretInventory", "inventory", "rotation_calendar",
    "render_secrets", "env_example", "check_secrets_doc", "write", "check_written", "secret_path",
]

DOC = "secrets"
FILE = "secrets.md"
DUE_SOON_DAYS = 30

# after a compromise every instance restarts at once: the platform's operations.restart_now
# (opslib/data/platforms/<platform>/platform.yaml); the normal rotation uses its rolling restart


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

    @property
    def days_overdue(self) -> int | None:
        return None if self.days_left is None else -self.days_left


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

    # the procedure's numbered steps: 1 read metadata, 2 generate, then the store's rotate steps,
    # then restart, verify and watch
    @property
    def rotate_steps(self) -> list[tuple[int, RStep]]:
        return list(enumerate(self.rotate, start=3))

    @property
    def restart_step(self) -> int:
        return len(self.rotate) + 3

    @property
    def verify_step(self) -> int:
        return self.restart_step + 1

    @property
    def watch_step(self) -> int:
        return self.restart_step + 2


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
        "mount": params.secrets.vault_mount if params.secrets else "secret",
        "repo": repo,
        "org": repo.split("/")[0],
    }


def _rsteps(raw: list[dict], ctx: dict, where: str) -> list[RStep]:
    return [
        RStep(text=render_string(s["text"], ctx, where), command=render_string(s["command"], ctx, where, shell=True) if s.get("command") else None,
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
        restart += [RStep(f"**{s.name}** (scheduled job): nothing to restart; its next run reads the new value", None, None)
                    for s in params.services if s.kind == "job" and s.name in example.services and spec["restarts_workload"]]
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
        immediate += [RStep(text=f"**{s.name}** (scheduled job): nothing to restart, each run reads the value when it starts; stop a run that is "
                                 "still going (runbook: Operations → Scheduled jobs → Suspend, then Resume)", command=None, expected=None)
                      for s in sub.services if s.kind == "job"]
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
        code=code,
    )


def _load_code() -> dict:
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


def draft(params: ProjectParams, status: StatusCheck, out_dir: str | Path | None = None) -> Draft:
    """Build, render and check secrets.md, with .env.example and .pre-commit-config.yaml beside it."""
    if params.secrets is None:
        findings = [Finding(ITEMS["identified"], "fail", "the parameters have no secrets: section; add the secret inventory", area="secrets")]
        return Draft(DOC, FILE, None, findings, note="No `secrets:` section in the parameters: add the secret inventory (names and metadata, never values).")
    text = render_secrets(inventory(params, status))
    findings = check_secrets_doc(text, path=Path(out_dir) / FILE if out_dir is not None else None, params=params, strict=True)
    return Draft(DOC, FILE, text, findings, files={".env.example": env_example(params), ".pre-commit-config.yaml": precommit_config()})


def preview(params: ProjectParams, status: StatusCheck) -> Draft:
    """The notebook's preview: the same draft, nothing written."""
    return draft(params, status)


def write(params: ProjectParams, status: StatusCheck, out_dir: str | Path) -> Written:
    """Write secrets.md, .env.example and .pre-commit-config.yaml only if every check passes."""
    return write_draft(draft(params, status, out_dir), out_dir)


def check_written(out_dir: str | Path, params: ProjectParams) -> list[Finding]:
    """The checks of the secrets.md in `out_dir` (empty when there is none)."""
    return check_file("secrets", out_dir, FILE, params)
