"""The `secrets:` section of the parameters: the secret inventory (names and metadata, never values).

    SecretsSection                       the pydantic type of the section
    cross_problems(params) -> list[str]  unknown environments/services, store/platform mismatches, …
    value_problems(raw)    -> list[str]  values anywhere in the raw YAML that look like real secrets

Kinds (with their rotation defaults) come from the project's catalog (opslib/data/secret-kinds.yaml
and the project's own secret-kinds.yaml), stores from opslib/data/secret-stores.yaml, token rules
from opslib/data/secret-rules.yaml. A platform-bound store (heroku-config-vars, …) reaches only
platforms that list it in their platform.yaml `secret_stores`.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from opslib.catalog.catalog import open_catalog
from opslib.catalog.secrets import classify_text, secret_stores
from opslib.core.yamlio import key_path, line_of

__all__ = ["SecretItem", "SecretsSection", "cross_problems", "platform_problems", "value_problems", "secret_kinds", "secret_path"]


# stores whose secrets are already separate per environment (app / environment scope)
ENV_SCOPED_STORES = {"heroku-config-vars", "github-actions", "gitlab-ci"}


def secret_kinds() -> dict[str, dict]:
    """The shipped secret kinds (a project's own: params.catalog.secret_kinds)."""
    return open_catalog().secret_kinds


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class SecretItem(_Model):
    name: str = Field(
        pattern=r"^[A-Za-z0-9_./{}-]+$",
        description="path of the secret in its store; '{env}' is replaced by the environment name, e.g. {env}/shop-platform/orders-api/database-url",
    )
    kind: str = Field(description="what the secret is, a kind from opslib/data/secret-kinds.yaml or the project's catalogs (database-credential, api-key, …)")
    store: str = Field(description="where the value lives, a store from opslib/data/secret-stores.yaml (aws-secrets-manager, vault, heroku-config-vars, …)")
    env_var: str = Field(pattern=r"^[A-Z][A-Z0-9_]*$", description="environment variable the code reads, e.g. DATABASE_URL")
    description: str = Field(min_length=1, description="one line: what the secret is for and its format (never the value)")
    environments: list[str] | None = Field(default=None, description="environments that need the secret; default: all")
    services: list[str] = Field(min_length=1, description="services that read the secret (least privilege: only these)")
    owner: str = Field(min_length=1, description="team or person responsible for rotating it")
    provider: str | None = Field(default=None, description="who issues the credential and where it is revoked, e.g. 'Stripe Dashboard → Developers → API keys'")
    rotation: Literal["automatic", "manual"] = Field(default="manual", description="automatic: the store rotates it (e.g. a rotation Lambda); manual: a person follows the procedure")
    rotation_days: int | None = Field(default=None, ge=1, le=3650, description="rotation period in days; default: the kind's period from opslib/data/secret-kinds.yaml")
    last_rotated: date = Field(description="date the current value was created (YYYY-MM-DD)")
    external_secret: str | None = Field(default=None, description="name of the ExternalSecret object (kubernetes-external-secrets store); default <first service>-secrets")

    @field_validator("kind")
    @classmethod
    def _kind(cls, value: str, info: ValidationInfo) -> str:
        context = info.context if isinstance(info.context, dict) else {}
        kinds = (context.get("catalog") or open_catalog()).secret_kinds
        if value not in kinds:
            raise ValueError(f"unknown secret kind {value!r}; use one of: {', '.join(sorted(kinds))} (or add it to a catalog's secret-kinds.yaml)")
        return value

    @field_validator("store")
    @classmethod
    def _store(cls, value: str) -> str:
        if value not in secret_stores():
            raise ValueError(f"unknown secret store {value!r}; use one of: {', '.join(sorted(secret_stores()))}")
        return value


def secret_path(item: SecretItem, env: str) -> str:
    """The secret's name in the store for one environment ({env} in the name replaced)."""
    return item.name.replace("{env}", env)


class SecretsSection(_Model):
    security_contact: str = Field(min_length=1, description="who to call when a secret is compromised, e.g. '#security-oncall (Slack), security@example.com'")
    languages: list[Literal["python", "node", "go"]] = Field(default=["python"], min_length=1, description="languages of the services, for the code examples in secrets.md")
    aws_account_id: str | None = Field(default=None, pattern=r"^\d{12}$", description="AWS account id used in the least-privilege policy ARNs (AWS stores)")
    vault_mount: str = Field(
        default="secret",
        pattern=r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$",
        description="vault store: the path of the KV v2 secrets engine (vault secrets list); item names are paths inside it, written without the mount",
    )
    items: list[SecretItem] = Field(min_length=1, description="every secret the project needs: names and metadata, never values")


def cross_problems(params: Any) -> list[str]:
    """Checks of the inventory against the rest of the parameters (one 'field: problem; fix' line each)."""
    section = getattr(params, "secrets", None)
    if section is None:
        return []
    envs = [e.name for e in params.environments]
    services = {s.name for s in params.services}
    out: list[str] = []
    seen: dict[tuple[str, str, str], int] = {}
    for i, item in enumerate(section.items):
        where = f"secrets.items[{i}]"
        unknown_env = [e for e in item.environments or [] if e not in envs]
        if unknown_env:
            out.append(f"{where}.environments: unknown environment(s) {', '.join(unknown_env)}; use {', '.join(envs)}")
        unknown_svc = [s for s in item.services if s not in services]
        if unknown_svc:
            out.append(f"{where}.services: unknown service(s) {', '.join(unknown_svc)}; use {', '.join(sorted(services))}")
        n_envs = len(item.environments or envs)
        if n_envs > 1 and "{env}" not in item.name and item.store not in ENV_SCOPED_STORES:
            out.append(f"{where}.name: one secret shared by {n_envs} environments; put {{env}} in the name so each environment has its own value")
        if item.store == "vault" and (item.name + "/").startswith((section.vault_mount + "/", "data/")):
            out.append(f"{where}.name: starts with the KV mount {section.vault_mount!r} (or data/); names are paths inside the mount "
                       "(secrets.vault_mount), remove it from the name")
        if item.last_rotated > params.project.as_of:
            out.append(f"{where}.last_rotated: {item.last_rotated} is after the as_of date {params.project.as_of}; fix the date")
        clash = sorted({(env, svc) for env in item.environments or envs for svc in item.services if (env, item.env_var, svc) in seen})
        if clash:
            env, svc = clash[0]
            out.append(f"{where}.env_var: {svc} reads {item.env_var} in {env} from two secrets (also secrets.items[{seen[(env, item.env_var, svc)]}]); give each secret its own variable")
        for env in item.environments or envs:
            for svc in item.services:
                seen.setdefault((env, item.env_var, svc), i)
    return out


def platform_problems(params: Any, catalog: Any = None) -> list[str]:
    """Platform-bound stores the project's platform does not deliver (its platform.yaml
    `secret_stores`). Validation refuses them, except when the runbook notebook previews a project
    on another platform (context `preview`); secrets.md refuses them too. `catalog`: the
    project's (default params.catalog)."""
    out = []
    catalog = catalog or params.catalog
    delivered = set(catalog.platform(params.platform).secret_stores)
    for i, item in enumerate(params.secrets.items if getattr(params, "secrets", None) else []):
        if secret_stores()[item.store].get("platform_bound") and item.store not in delivered:
            serves = [n for n in catalog.platform_names() if item.store in catalog.platform(n).secret_stores]
            out.append(f"secrets.items[{i}].store: {item.store} serves {' or '.join(serves) or 'no platform'} workloads but the platform is "
                       f"{params.platform}; pick a store for {params.platform}")
    return out


# --- values that look like secrets -------------------------------------------------------

SECRET_KEY = re.compile(r"(pass(word|wd)?|secret|token|api_?key|apikey|private_?key|access_?key|client_secret|credential|auth)$", re.I)
def _looks_random(value: str) -> bool:
    return (
        len(value) >= 12
        and not re.search(r"\s", value)
        and re.search(r"[A-Za-z]", value) is not None
        and re.search(r"\d", value) is not None
        and not re.match(r"^(https?://|/|\.\.?/|[A-Z][A-Z0-9_]*$|\{env\}/|[a-z0-9-]+(/[a-z0-9{}._-]+)+$)", value)
    )


def _walk(node: Any, loc: tuple, seen: set[int] | None = None) -> Any:
    """(location, text, is_key) for every key and scalar; a container reached again through a
    YAML alias is visited once (an alias bomb costs its size on disk, not its expansion);
    `!!binary` values are read as their decoded bytes."""
    seen = set() if seen is None else seen
    if isinstance(node, dict | list):
        if id(node) in seen:
            return
        seen.add(id(node))
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(key, str | bytes):
                yield loc + (key,), key.decode("utf-8", "replace") if isinstance(key, bytes) else key, True
            yield from _walk(value, loc + (key,), seen)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _walk(value, loc + (i,), seen)
    elif isinstance(node, str):
        yield loc, node, False
    elif isinstance(node, bytes):
        yield loc, node.decode("utf-8", "replace"), False


def _where(raw: Any, loc: tuple, is_key: bool) -> str:
    """`line N: a.b[2]` for a value; for a key, the path of the mapping holding it (the key
    itself may be the secret, so it is never part of the message)."""
    line = line_of(raw, loc)
    prefix = f"line {line}: " if line else ""
    if not is_key:
        return prefix + key_path(loc)
    return prefix + (f"{key_path(loc[:-1])} (a key)" if loc[:-1] else "a top-level key")


def value_problems(raw: Any) -> list[str]:
    """One line per key or value in the raw parameters that looks like a real secret (never echoing it)."""
    out = []
    for loc, value, is_key in _walk(raw, ()):
        found = classify_text(value)
        what = None
        if found:
            kind = found[0][1]
            what = f"looks like {'an' if kind[0].lower() in 'aeiou' else 'a'} {kind}"
        elif not is_key and loc and isinstance(loc[-1], str) and SECRET_KEY.search(loc[-1]) and _looks_random(value):
            what = f"the key {loc[-1]!r} holds a value that looks like a secret"
        if what:
            out.append(f"{_where(raw, loc, is_key)}: {what}; remove the value and reference the secret by name in secrets: (store path and env_var)")
    return out
