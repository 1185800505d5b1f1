"""The `ci:` section of the parameters: how the CI/CD pipeline builds, tests and gates the
project (pipeline.md, ci/…) and the service-alert thresholds of alerts.yml.

    CiSection                            the pydantic type of the section (every field optional)
    cross_problems(params) -> list[str]  languages without CI commands

Language commands (lint, type check, tests, dependency audit, SAST) come from
opslib/data/ci-languages.yaml; a platform's deploy and rollback commands from its folder's
ci.yaml (opslib/data/platforms/<name>/ci.yaml).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from opslib.catalog.ci import ci_languages

__all__ = ["CiSection", "cross_problems", "DEFAULT"]



class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class CiSection(_Model):
    systems: list[Literal["github", "gitlab"]] = Field(
        default=["github", "gitlab"], min_length=1, description="CI systems to generate files for: github (GitHub Actions) and/or gitlab (.gitlab-ci.yml)"
    )
    languages: list[str] | None = Field(
        default=None, description="languages whose lint, test and audit commands run (opslib/data/ci-languages.yaml); default: secrets.languages, else python"
    )
    default_branch: str = Field(default="main", min_length=1, description="branch whose pushes deploy to staging automatically")
    release_tag_pattern: str = Field(default="v*.*.*", min_length=1, description="glob of the version tags that deploy to production, e.g. v*.*.*")
    coverage_min_pct: int = Field(default=80, ge=0, le=100, description="coverage gate: unit-test line coverage below this fails the pipeline (seed 003: ≥80%)")
    production_approvers: list[str] | None = Field(
        default=None, description="who must approve a production deploy (GitHub required reviewers / GitLab protected-environment approvers); default: the team's engineering manager"
    )
    notify_secret: str = Field(
        default="SLACK_WEBHOOK_URL", pattern=r"^[A-Z][A-Z0-9_]*$", description="CI secret holding the chat incoming-webhook URL that success/failure notifications are posted to"
    )
    notify_channel: str | None = Field(default=None, description="channel notified of deploys; default: the contacts channel whose purpose mentions deploys")
    opslib_requirement: str = Field(default="opslib", min_length=1, description="pip requirement that installs opslib for the cost-check stage")
    parameters_file: str | None = Field(default=None, description="path of this parameters file inside the project repository; default: parameters/<project>.yaml")
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
    return problems
