"""The `ci:` section of the parameters: how the CI/CD pipeline builds, tests and gates the
project (pipeline.md, ci/…) and the service-alert thresholds of alerts.yml.

    CiSection                            the pydantic type of the section (every field optional)
    cross_problems(params) -> list[str]  languages without CI commands
    opslib_source_kind(source) -> str    "pip" or "image": how the cost-check job gets opslib

The cost-check stage runs opslib inside the project's pipeline, so where that opslib comes from
is part of the supply chain: `ci.opslib_source` must be pinned to something immutable — a VCS
requirement pinned to a full commit SHA, or a container image by digest. A bare name is refused
(PyPI's `opslib` is an unrelated package), and so is a branch, a tag or a short SHA (they move).
There is no default: opslib has no published home every team can trust, so the team names the
one it controls; without it the pipeline has no cost-check stage and pipeline.md says how to add
it. The legacy key `opslib_requirement` is read as `opslib_source` under the same rule.

Language commands (lint, type check, tests, dependency audit, SAST) come from
opslib/data/ci-languages.yaml; a platform's deploy and rollback commands from its folder's
ci.yaml (opslib/data/platforms/<name>/ci.yaml).
"""

from __future__ import annotations

import re
from typing import Literal
from urllib.parse import urlsplit

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator

from opslib.catalog.ci import ci_languages

__all__ = ["CiSection", "cross_problems", "DEFAULT", "opslib_source_kind"]

# pip: `opslib @ git+https://host/owner/opslib@<40 hex>` (or git+ssh); every character safe in a shell word
_PIP = re.compile(r"^opslib @ git\+(?P<url>(?:https|ssh)://[A-Za-z0-9._~/:@+-]+)@(?P<sha>[0-9a-fA-F]{40})$")
# a container image by digest: registry[:port]/path[:tag]@sha256:<64 hex>
_IMAGE = re.compile(
    r"^[a-z0-9]+(?:[.-][a-z0-9]+)*(?::[0-9]+)?(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)+(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?@sha256:[0-9a-f]{64}$"
)
_UNPINNED = (
    "not pinned to an immutable source; give `opslib @ git+https://<host>/<owner>/opslib@<full 40-character commit SHA>` "
    "or a container image by digest `<registry>/<name>@sha256:<64 hex digits>` (a bare name, a branch, a tag or a short SHA "
    "installs whatever they point at on the day; PyPI's `opslib` is an unrelated package)"
)
# a chat channel as the notification's JSON and shell carry it
_CHANNEL = re.compile(r"^[#@]?[A-Za-z0-9._-]+$")
# GitHub evaluates `${{ … }}` anywhere in a workflow, inside shell quotes too
_EXPRESSION = "${{"
# the secret stores that are a CI system's own: a secret kept there reaches only that system's jobs
CI_SECRET_STORES = {"github-actions": "github", "gitlab-ci": "gitlab"}
_METRICS_URL = re.compile(r"^https?://[A-Za-z0-9.-]+(?::[0-9]+)?(?:/[A-Za-z0-9._~/-]*)?$")


def opslib_source_kind(source: str) -> Literal["pip", "image"]:
    """How the cost-check job gets opslib from a validated `ci.opslib_source`."""
    return "pip" if source.startswith("opslib @ ") else "image"



class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class CiSection(_Model):
    systems: list[Literal["github", "gitlab"]] = Field(
        default=["github", "gitlab"], min_length=1, description="CI systems to generate files for: github (GitHub Actions) and/or gitlab (.gitlab-ci.yml)"
    )
    languages: list[str] | None = Field(
        default=None, description="languages whose lint, test and audit commands run (opslib/data/ci-languages.yaml); default: secrets.languages, else python"
    )
    default_branch: str = Field(
        default="main", pattern=r"^[A-Za-z0-9][A-Za-z0-9._/-]*$", max_length=200,
        description="branch whose pushes deploy to the environments before production automatically (letters, digits, . _ / -)",
    )
    release_tag_pattern: str = Field(
        default="v*.*.*", pattern=r"^[A-Za-z0-9._/*?-]+$", max_length=100,
        description="glob of the version tags that run the whole chain up to production, e.g. v*.*.* (letters, digits, . _ / - * ?)",
    )
    coverage_min_pct: int = Field(default=80, ge=0, le=100, description="coverage gate: unit-test line coverage below this fails the pipeline (seed 003: ≥80%)")
    production_approvers: list[str] | None = Field(
        default=None, description="who must approve a production deploy (GitHub required reviewers / GitLab protected-environment approvers); default: the team's engineering manager"
    )
    notify_secret: str = Field(
        default="SLACK_WEBHOOK_URL", pattern=r"^[A-Z][A-Z0-9_]*$", description="CI secret holding the chat incoming-webhook URL that success/failure notifications are posted to"
    )
    notify_channel: str | None = Field(
        default=None, pattern=_CHANNEL.pattern,
        description="chat channel notified of deploys, e.g. #shop-deploys; default: the contacts channel whose purpose mentions deploys",
    )
    opslib_source: str | None = Field(
        default=None, validation_alias=AliasChoices("opslib_source", "opslib_requirement"),
        description="where the cost-check job gets opslib, pinned: `opslib @ git+https://<host>/<owner>/opslib@<40-hex commit SHA>` (pip) "
                    "or `<registry>/<name>@sha256:<digest>` (an image with opslib installed); unpinned sources are refused; "
                    "default: none, and the pipeline has no cost-check stage (legacy key: opslib_requirement)",
    )
    canary_metrics_url: str = Field(
        default="http://prometheus-operated.monitoring.svc:9090", pattern=_METRICS_URL.pattern,
        description="Prometheus HTTP API the canary metric gate queries from inside the production cluster (Kubernetes: the Argo Rollouts "
                    "AnalysisTemplate); default: kube-prometheus-stack's prometheus-operated service in namespace monitoring",
    )
    parameters_file: str | None = Field(
        default=None, pattern=r"^[A-Za-z0-9._/-]+$", description="path of this parameters file inside the project repository; default: parameters/<project>.yaml"
    )
    alert_selector: str | None = Field(
        default=None, description="PromQL label matchers that select the production service's series, e.g. job=\"shop-platform\"; default: job=\"<project>\""
    )
    error_rate_pct: float = Field(default=5.0, gt=0, lt=100, description="service alert: 5xx share of requests above this percentage over 5 min pages (seeds 003/004: 5%)")
    latency_baseline_ms: int | None = Field(
        default=None, gt=0, description="normal p95 latency in ms; the p95 alert fires above 2× this; default: the p95 latency SLO's threshold"
    )
    cpu_pct: int = Field(default=80, ge=1, le=100, description="service alert: CPU utilisation above this percentage for 10 min (seed 004: 80%)")
    memory_pct: int = Field(default=85, ge=1, le=100, description="service alert: memory utilisation above this percentage for 5 min (seed 004: 85%)")
    restarts_max: int = Field(default=3, ge=1, description="service alert: more restarts than this in 15 min means a crash loop")


    @field_validator("opslib_source")
    @classmethod
    def _pinned(cls, value: str | None) -> str | None:
        if value is None:
            return value
        pip = _PIP.match(value)
        if pip:
            url = urlsplit(pip["url"])
            if url.password is not None or (url.scheme == "https" and url.username is not None):
                raise ValueError("the URL carries credentials; remove them (the CI job reads the repository with its own token)")
            if not url.hostname or url.path.strip("/") == "":
                raise ValueError(_UNPINNED)
            return value
        if _IMAGE.match(value):
            return value
        raise ValueError(_UNPINNED)


DEFAULT = CiSection()


def cross_problems(params) -> list[str]:
    """Checks of the ci: section against the rest of the parameters (empty when absent)."""
    ci = getattr(params, "ci", None)
    if ci is None:
        return []
    problems = []
    known = ci_languages()
    for lang in ci.languages or []:
        if lang not in known:
            problems.append(f"ci.languages: no CI commands for {lang!r}; use one of {', '.join(sorted(known))}")
    if ci.notify_channel is None and getattr(params, "contacts", None) is not None:
        channels = list(params.contacts.channels)
        used = next((i for i, c in enumerate(channels) if "deploy" in c.purpose.lower()), 0)
        if channels and not _CHANNEL.match(channels[used].name):
            problems.append(f"contacts.channels[{used}].name: the pipeline posts its notifications there, but it is not a chat channel name "
                            "(letters, digits, . _ -, after # or @); set ci.notify_channel")
    for i, env in enumerate(getattr(params, "environments", [])):
        if env.url and _EXPRESSION in env.url:
            problems.append(f"environments[{i}].url: contains ${{{{, which GitHub Actions would evaluate in the workflow; remove it")
    for i, svc in enumerate(getattr(params, "services", [])):
        for key in ("path", "expected_body"):
            if svc.health is not None and _EXPRESSION in getattr(svc.health, key):
                problems.append(f"services[{i}].health.{key}: contains ${{{{, which GitHub Actions would evaluate in the workflow; remove it")
    items = params.secrets.items if getattr(params, "secrets", None) else []
    for i, item in enumerate(items):
        system = CI_SECRET_STORES.get(item.store)
        if system and system not in ci.systems:
            problems.append(f"secrets.items[{i}].store: {item.store}, but ci.systems is {', '.join(ci.systems)}: no generated job can read it; "
                            f"store it in {' or '.join(f'{s}-ci' if s == 'gitlab' else 'github-actions' for s in ci.systems)}, or add {system} to ci.systems")
    return problems
