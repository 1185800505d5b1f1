"""The CI/CD pipeline: from parameters to a GitHub Actions workflow set and/or a .gitlab-ci.yml
(`ci.systems`) and pipeline.md that documents exactly those.

    build(params, systems=None, strategy=None) -> Pipeline   (pure: every command resolved)
    ci_files(pipeline)         -> dict[path, text]            (ci/… relative paths)
    validate_files(files)      -> list[Validation]            (official JSON schemas, offline)
    render_pipeline(pipeline)  -> str                         (pipeline.md)
    check_pipeline_doc(text)   -> list[Finding]               (quality bar: "CI/CD Pipeline Validation")
    write(params, status, out_dir) -> Written                 (pipeline.md and ci/…, atomically)
    check_written(out_dir, params) -> list[Finding]

Stages: validate (lint, type check) → test (unit with a coverage gate, integration) → security
scan (dependency audit, SAST, secret scan; container image scan in build) → cost-check
(`opslib cost-gate`, opslib from the pinned `ci.opslib_source`) → build (version and commit
tags) → deploy per environment in promotion order: every environment needs the one before it,
non-production environments deploy from the default branch and from version tags, production
only from a version tag, behind an approval gate → smoke test → automatic rollback with the
platform's own command on any failure after the deploy started (a deploy command, a rollout
that does not stabilise, a canary gate, the smoke test, the watch) → notifications.

Production canaries are automated where the platform shifts traffic (ci.yaml `canary`): weights
in steps, a hold of deploy.observe_minutes at each and a metric gate; the duration is computed
from the steps. Every shell that pipes a command whose exit code decides a job runs with
pipefail (GitHub: `defaults.run.shell: bash`; GitLab: `set -o pipefail` first).
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from opslib.catalog.ci import ci_languages
from opslib.catalog.platforms import CiCanary
from opslib.check.findings import Finding
from opslib.check.pipeline import ITEMS
from opslib.check.pipeline import check_pipeline as check_pipeline_doc
from opslib.check.truth import ci_truth
from opslib.core.formatting import number
from opslib.core.templates import environment, render, render_string
from opslib.documents.ci_files import dump, github_files, gitlab_files, schema_for, validate
from opslib.documents.commands import RStep, resolve_targets, steps
from opslib.documents.contract import Draft, Written, write_draft
from opslib.documents.monitoring import alert_specs, ci_of, latency_threshold_ms, production_approvers
from opslib.params.ci import opslib_source_kind
from opslib.params.models import ProjectParams
from opslib.params.status import StatusCheck

__all__ = ["DOC", "FILE", "ITEMS", "Pipeline", "Validation", "build", "draft", "ci_files", "validate_files",
           "render_pipeline", "check_pipeline_doc", "preview", "write", "check_written", "STRATEGIES", "SYSTEMS", "SYSTEM_TITLES"]

DOC = "pipeline"
FILE = "pipeline.md"
SYSTEMS = ("github", "gitlab")
SYSTEM_TITLES = {"github": "GitHub Actions", "gitlab": "GitLab CI"}
STRATEGIES = ("rolling", "blue-green", "canary", "recreate")
CI_STORES = {"github-actions": "GitHub Actions secret", "gitlab-ci": "GitLab CI/CD variable"}
SYSTEM_STORES = {"github": "GitHub Actions secret", "gitlab": "GitLab CI/CD variable"}
SAST_IMAGE = "semgrep/semgrep:1.97.0"
GITLEAKS_IMAGE = "zricethezav/gitleaks:v8.21.2"
TRIVY_VERSION = "v0.57.1"
# the install script of the release itself (not of the moving main branch); it verifies the binary's checksum
TRIVY_INSTALL = (f"wget -qO- https://raw.githubusercontent.com/aquasecurity/trivy/{TRIVY_VERSION}/contrib/install.sh"
                 f" | sh -s -- -b /usr/local/bin {TRIVY_VERSION}")
CANARY_MARGIN_MINUTES = 15  # a canary's job may run this much longer than its holds before it fails
JOB_MINUTES = 30  # a deploy job's time beyond its canary holds and its watch
STARTED = ".deploy/started"


@dataclass(frozen=True)
class Lang:
    key: str
    title: str
    image: str
    setup_action: str
    setup_with: dict
    install: str
    lint: str
    typecheck: str
    unit: str
    integration: str
    audit: str
    sast_rules: str
    package: str


@dataclass(frozen=True)
class Cmd:
    service: str
    command: str


@dataclass(frozen=True)
class DStep:
    text: str
    command: str


@dataclass(frozen=True)
class Smoke:
    service: str
    url: str
    status: int
    body: str


@dataclass(frozen=True)
class CanaryRun:
    """The production canary the deploy job runs: the tool, its steps and gate, the duration."""

    tool: str
    url: str
    how: str
    requires: list[str]
    weights: list[int]
    hold_minutes: int
    minutes: int
    gate: list[str]
    manifest_title: str | None
    manifest_path: str | None
    manifest: str | None

    @property
    def promoted_step(self) -> int:
        """The step number of the promotion (100 %), after the weighted steps."""
        return len(self.weights) + 1


@dataclass(frozen=True)
class EnvDeploy:
    name: str
    url: str | None
    region: str
    tier: str
    approval: bool
    production_from_tag: bool
    after: str | None
    trigger: str
    github_if: str
    role_arn: str
    role_arn_shell: str
    setup: str | None  # the sign-in of the first CI system in use (setups: each system's)
    record: list[DStep]
    deploy: list[DStep]
    smoke: list[Smoke]
    smoke_command: str
    watch_minutes: int
    watch_command: str | None
    rollback: list[DStep]
    canary: CanaryRun | None
    canary_note: str | None
    timeout_minutes: int
    smoke_steps: list[DStep] = field(default_factory=list)
    setups: dict[str, str] = field(default_factory=dict)  # CI system → its sign-in (ci.yaml setup rendered with `system`)
    setup_blocks: list[tuple[str, str]] = field(default_factory=list)  # (comment naming its inputs, or "", command) for pipeline.md


@dataclass(frozen=True)
class CiSecret:
    name: str
    purpose: str
    store: str
    in_inventory: bool


@dataclass(frozen=True)
class Gate:
    gate: str
    requirement: str
    action: str
    job: str


@dataclass(frozen=True)
class Stage:
    name: str
    runs: str
    trigger: str
    gate: str


@dataclass(frozen=True)
class Validation:
    path: str
    schema: str
    errors: list[str]

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class Pipeline:
    project: Any
    platform: str
    platform_title: str
    systems: list[str]
    strategy: str
    languages: list[Lang]
    install: str
    coverage: int
    default_branch: str
    tag_pattern: str
    example_tag: str
    build_kind: str
    build: list[Cmd]
    image_scan: list[Cmd]
    push: list[Cmd]
    registry_login: str | None
    trivy_install: str
    sast: str
    sast_image: str
    secret_scan: str
    secret_scan_gitlab: str
    gitleaks_image: str
    cost_check: str | None
    budgets: list[tuple[str, str]]
    opslib_source: str | None
    opslib_kind: str | None
    opslib_install: str | None
    environments: list[EnvDeploy]
    approvers: list[str]
    secrets: list[CiSecret]
    ci_secrets_env: list[str]
    notify_channel: str
    notify_secret: str
    notify_command: str
    tools: str
    runner_tools: str | None
    deploy_image: str
    aws_oidc: bool
    fetch_full_history: bool
    gitlab_id_tokens: dict[str, str] = field(default_factory=dict)
    manifests: dict[str, str] = field(default_factory=dict)
    stages: list[Stage] = field(default_factory=list)
    gates: list[Gate] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)
    validations: list[Validation] = field(default_factory=list)
    alerts: list[Any] = field(default_factory=list)

    @property
    def flow(self) -> list[tuple[int, str, int, str]]:
        """The stage diagram's edges: (number, name) of each stage → the next."""
        return [(i, a.name, i + 1, b.name) for i, (a, b) in enumerate(zip(self.stages, self.stages[1:], strict=False), start=1)]

    @property
    def github(self) -> bool:
        return "github" in self.systems

    @property
    def gitlab(self) -> bool:
        return "gitlab" in self.systems

    @property
    def system_titles(self) -> str:
        return " and ".join(SYSTEM_TITLES[s] for s in self.systems)

    @property
    def secret_store(self) -> str:
        return " / ".join(SYSTEM_STORES[s] for s in self.systems)

    @property
    def production(self) -> EnvDeploy:
        return self.environments[-1]

    @property
    def promotion(self) -> str:
        """The environment a release passes before production ('' with production alone)."""
        return self.environments[-2].name if len(self.environments) > 1 else ""


def _languages(params: ProjectParams) -> list[str]:
    ci = ci_of(params)
    if ci.languages:
        return list(ci.languages)
    known = ci_languages()
    from_secrets: list[str] = [lang for lang in (params.secrets.languages if params.secrets and getattr(params.secrets, "languages", None) else []) if lang in known]
    return from_secrets or ["python"]


def _job_steps(rendered: list[RStep]) -> list[DStep]:
    """A CI job's steps: every deploy and rollback step of ci.yaml has a command (its validator)."""
    out = []
    for s in rendered:
        if s.command is None:
            raise ValueError(f"CI job step without a command: {s.text}")
        out.append(DStep(s.text.replace("**", ""), s.command))
    return out


def _smoke_command(env, checks: list[Smoke], kind_steps: list[DStep] | None = None) -> str:
    """HTTP checks of the web services (URLs and bodies quoted: they come from the parameters and
    may hold any character), then the workers' and jobs' smoke steps (ci.yaml `smoke`), each
    failing the script with its reason."""
    lines = ["mkdir -p .deploy"]
    for k in kind_steps or []:
        lines.append(f"( set -e\n{k.command.strip()}\n) || {{ echo {shlex.quote('smoke test failed: ' + k.text)}; exit 1; }}")
    for s in checks:
        body = f".deploy/smoke-{s.service}.body"
        url = shlex.quote(s.url)
        lines += [
            f"code=$(curl -sS --retry 5 --retry-delay 10 --retry-all-errors -o {body} -w '%{{http_code}}' {url})",
            f'test "$code" = "{s.status}" || {{ echo {shlex.quote(f"{s.service}: expected HTTP {s.status} from {s.url}, got")} "$code"; exit 1; }}',
            f'grep -qF {shlex.quote(s.body)} {body} || {{ echo "{s.service}: response lacks the expected body"; exit 1; }}',
        ]
    return "\n".join(lines)


def _watch_command(checks: list[Smoke], minutes: int) -> str:
    inner = "; ".join(
        f"curl -fsS -o /dev/null -w '{s.service} %{{http_code}}\\n' {shlex.quote(s.url)}" for s in checks
    )
    return f"for i in $(seq 1 {minutes}); do sleep 60; {inner} || exit 1; done"


def _example_tag(pattern: str) -> str:
    """A tag that matches the release tag glob, for the examples: v*.*.* → v1.4.2."""
    digits = iter(["1", "4", "2"] + ["0"] * 8)
    return re.sub(r"\*", lambda _m: next(digits), pattern).replace("?", "1")


def _canary_context(params: ProjectParams) -> dict[str, Any]:
    """What the ci.yaml canary templates read: the steps below 100 %, the hold, the gate."""
    ci = ci_of(params)
    weights = [w for w in params.deploy.canary_steps if w < 100]
    hold = params.deploy.observe_minutes
    latency = latency_threshold_ms(params)
    return {
        "weights": weights, "hold_minutes": hold, "hold_seconds": hold * 60, "minutes": hold * len(weights),
        "timeout_minutes": hold * len(weights) + CANARY_MARGIN_MINUTES,
        "max_error_pct": number(ci.error_rate_pct), "max_error_ratio": number(ci.error_rate_pct / 100),
        "latency_ms": latency, "latency_s": number(latency / 1000) if latency else None,
        "metrics_url": ci.canary_metrics_url,
    }


def _canary(params: ProjectParams, spec: CiCanary | None, strategy: str, ctx: dict[str, Any], where: str,
            env_name: str) -> tuple[CanaryRun | None, list[DStep] | None, list[DStep] | None, str | None]:
    """(the automated canary, its deploy steps, its rollback steps, a note) for the production
    deploy job; (None, None, None, note) when the job deploys at once."""
    if spec is not None and spec.unsupported:
        return None, None, None, f"no automated canary: {spec.unsupported}"
    if strategy != "canary":
        return None, None, None, None
    if spec is None:
        return None, None, None, ("the platform's ci.yaml automates no canary: the job deploys to the whole environment at once; "
                                  "the runbook's Deployment section has the manual canary procedure")
    c = ctx["canary"]
    if not c["weights"] or not c["hold_minutes"]:
        why = "deploy.canary_steps has no step below 100%" if not c["weights"] else "deploy.observe_minutes is 0 (no hold, so no gate)"
        return None, None, None, f"no automated canary: {why}; the job deploys to the whole environment at once"
    assert spec.tool and spec.how and spec.steps  # capability_or_reason
    gate = [text for text in (" ".join(render_string(g, ctx, where).split()) for g in spec.gate) if text]
    manifest = environment().from_string(spec.manifest).render(**ctx).strip() + "\n" if spec.manifest else None
    run = CanaryRun(
        tool=spec.tool, url=spec.url or "", how=" ".join(render_string(spec.how, ctx, where).split()),
        requires=[render_string(r, ctx, where) for r in spec.requires],
        weights=c["weights"], hold_minutes=c["hold_minutes"], minutes=c["minutes"], gate=gate,
        manifest_title=spec.manifest_title, manifest_path=f"canary/{env_name}.yaml" if manifest else None, manifest=manifest,
    )
    deploy = _job_steps(steps(spec.steps, params, ctx, where))
    rollback = _job_steps(steps(spec.rollback, params, ctx, where)) if spec.rollback else None
    return run, deploy, rollback, None


def _opslib_install(source: str | None) -> tuple[str | None, str | None]:
    """(kind, install command) of the cost-check job's opslib; (None, None) without a source."""
    if source is None:
        return None, None
    kind = opslib_source_kind(source)
    return kind, (f"pip install {shlex.quote(source)}" if kind == "pip" else None)


def build(params: ProjectParams, systems: list[str] | None = None, strategy: str | None = None) -> Pipeline:
    """Resolve every stage, command and gate of the pipeline (nothing rendered)."""
    ci = ci_of(params)
    platform = params.catalog.platform(params.platform)
    pdata = platform.ci
    strategy = strategy or params.deploy.strategy
    langs = []
    for key in _languages(params):
        raw = dict(ci_languages()[key])
        lctx = {"coverage": ci.coverage_min_pct}
        for k in ("install", "lint", "typecheck", "unit", "integration", "audit", "package"):
            raw[k] = render_string(raw[k], lctx, "opslib/data/ci-languages.yaml")
        langs.append(Lang(key=key, **raw))
    account = getattr(params.secrets, "aws_account_id", None) if params.secrets else None
    prod = params.production
    where = f"{platform.label}/ci.yaml"

    build_cmds, scans, pushes = [], [], []
    registry_login = None
    kind = pdata.build
    if kind == "container":
        images = sorted({s.image for s in params.services if s.image})
        registry = images[0].split("/")[0] if images else ""
        registry_login = render_string(pdata.registry_login or "", {"env": prod, "registry": registry}, where)
        multi = len(params.services) > 1
        for s in params.services:
            ctxdir = f"./{s.name}" if multi else "."
            build_cmds.append(Cmd(s.name, f'docker build -t {s.image}:"${{VERSION}}" -t {s.image}:"sha-${{COMMIT_SHA}}" '
                                          f'--label org.opencontainers.image.revision="${{COMMIT_SHA}}" {ctxdir}'))
            scans.append(Cmd(s.name, f'trivy image --exit-code 1 --severity CRITICAL,HIGH --ignore-unfixed {s.image}:"${{VERSION}}"'))
            pushes.append(Cmd(s.name, f"docker push --all-tags {s.image}"))
    elif kind == "artifact":
        for s in params.services:
            src = f"./{s.name}" if len(params.services) > 1 else "."
            if s.artifact and s.artifact.endswith(".zip"):
                deps = f" && pip install -r {src}/requirements.txt -t build/{s.name}" if langs[0].key == "python" else ""
                base = s.artifact[: -len(".zip")]
                build_cmds.append(Cmd(s.name, f"mkdir -p dist build/{s.name} && cp -r {src}/. build/{s.name}/{deps} && "
                                              f"python -c \"import shutil; shutil.make_archive('{base}', 'zip', 'build/{s.name}')\""))
            else:
                build_cmds.append(Cmd(s.name, langs[0].package))
    else:
        build_cmds.append(Cmd(params.project.name, langs[0].package))
    # Heroku builds the slug from the pushed commit; the build stage proves the package builds.

    canary_ctx = _canary_context(params)
    envs: list[EnvDeploy] = []
    manifests: dict[str, str] = {}
    for env in params.environments:
        target = resolve_targets(params, env, platform)
        ctx = {"project": params.project, "env": env, "target": target, "deploy": params.deploy, "aws_account_id": account,
               "services": list(params.services), "canary": canary_ctx}
        role = render_string(pdata.role or "", ctx, where) if pdata.aws_oidc else ""
        is_prod = env is prod
        record = _job_steps(steps(pdata.record, params, ctx, where))
        deploy = _job_steps(steps(pdata.deploy, params, ctx, where))
        rollback = _job_steps(steps(pdata.rollback, params, ctx, where))
        canary, note = None, None
        if is_prod:
            canary, c_deploy, c_rollback, note = _canary(params, pdata.canary, strategy, ctx, where, env.name)
            deploy = c_deploy or deploy
            rollback = c_rollback or rollback
            if canary and canary.manifest_path and canary.manifest:
                manifests[canary.manifest_path] = canary.manifest
        checks = [Smoke(s.name, f"{url}{s.health.path}", s.health.expected_status, s.health.expected_body)
                  for s in params.services if s.kind == "web" and s.health and (url := s.url_in(env))]
        kind_smoke = _job_steps(steps(pdata.smoke, params, ctx, where))
        watch = params.deploy.observe_minutes if is_prod and strategy != "recreate" and checks else 0
        after = envs[-1].name if envs else None
        setups = {s: render_string(pdata.setup, ctx | {"system": s}, where, shell=True) for s in ci.systems} if pdata.setup else {}
        envs.append(EnvDeploy(
            name=env.name, url=env.url, region=env.region,
            tier="production" if is_prod else ("staging" if "stag" in env.name else "development"),
            approval=env.approval_required or is_prod,
            production_from_tag=is_prod,
            after=f"deploy-{after}" if after else None,
            trigger=(f"push of a version tag `{ci.release_tag_pattern}`" if is_prod
                     else f"push to `{ci.default_branch}` or of a version tag `{ci.release_tag_pattern}` (automatic)"),
            github_if=("startsWith(github.ref, 'refs/tags/')" if is_prod
                       else f"github.ref == 'refs/heads/{ci.default_branch}' || startsWith(github.ref, 'refs/tags/')"),
            role_arn=f"arn:aws:iam::{account}:role/{role}" if account else "${{ vars.AWS_DEPLOY_ROLE_ARN }}",
            role_arn_shell=f"arn:aws:iam::{account}:role/{role}" if account else '"${AWS_DEPLOY_ROLE_ARN}"',
            setup=next(iter(setups.values()), None), setups=setups, setup_blocks=_setup_blocks(setups),
            record=record, deploy=deploy, smoke=checks, smoke_steps=kind_smoke, smoke_command=_smoke_command(env, checks, kind_smoke),
            watch_minutes=watch, watch_command=_watch_command(checks, watch) if watch else None,
            rollback=rollback, canary=canary, canary_note=note,
            timeout_minutes=JOB_MINUTES + (canary.minutes + CANARY_MARGIN_MINUTES if canary else 0) + watch,
        ))

    inventory = {i.env_var: i for i in (params.secrets.items if params.secrets else []) if i.store in CI_STORES}
    needed = {name: f"{platform.title} deploy credential" for name in pdata.credentials}
    if pdata.aws_oidc and not account:
        needed["AWS_DEPLOY_ROLE_ARN"] = "ARN of the AWS role the deploy jobs assume through OIDC (a variable, not a secret; set secrets.aws_account_id to write it into the files)"
    needed[ci.notify_secret] = "chat incoming-webhook URL for pipeline notifications"
    system_list = list(systems or ci.systems)
    store = " / ".join(SYSTEM_STORES[s] for s in system_list)
    secrets = [CiSecret(i.env_var, i.description, CI_STORES[i.store], True) for i in inventory.values()]
    secrets += [CiSecret(n, purpose, store, False) for n, purpose in needed.items() if n not in inventory]
    secrets.sort(key=lambda s: s.name)
    channel = ci.notify_channel or next((c.name for c in params.contacts.channels if "deploy" in c.purpose.lower()),
                                        params.contacts.channels[0].name)
    notify = (f"curl -fsS -X POST -H 'Content-Type: application/json' "
              f"--data \"{{\\\"text\\\": \\\"{params.project.name} ${{VERSION}}: pipeline ${{STATUS}} (${{RUN_URL}})\\\", "
              f"\\\"channel\\\": \\\"{channel}\\\"}}\" \"${ci.notify_secret}\"")
    cost_cmd = None
    budgets: list[tuple[str, str]] = []
    opslib_kind, opslib_install = _opslib_install(ci.opslib_source)
    if params.cost is not None:
        budgets = [(e.name, f"${params.cost.budgets[e.name].monthly_usd:,.0f}") for e in params.environments if e.name in params.cost.budgets]
        if ci.opslib_source is not None:
            pfile = ci.parameters_file or f"parameters/{params.project.name}.yaml"
            cost_cmd = f"opslib cost-gate {shlex.quote(pfile)}"
    approvers, _source = production_approvers(params)
    gl_scan = "gitleaks detect --source . --redact --no-banner --verbose"
    p = Pipeline(
        project=params.project, platform=params.platform, platform_title=platform.title,
        systems=system_list, strategy=strategy, languages=langs,
        install="\n".join(dict.fromkeys(lang.install for lang in langs)),
        coverage=ci.coverage_min_pct, default_branch=ci.default_branch, tag_pattern=ci.release_tag_pattern,
        example_tag=_example_tag(ci.release_tag_pattern),
        build_kind=kind, build=build_cmds, image_scan=scans, push=pushes, registry_login=registry_login,
        trivy_install=TRIVY_INSTALL,
        sast=" ".join(["semgrep scan --error"] + [f"--config {lang.sast_rules}" for lang in langs] + ["--config p/secrets", "."]),
        sast_image=SAST_IMAGE,
        secret_scan=f'docker run --rm -v "$PWD:/repo" {GITLEAKS_IMAGE} detect --source /repo --redact --no-banner --verbose',
        secret_scan_gitlab=gl_scan, gitleaks_image=GITLEAKS_IMAGE,
        cost_check=cost_cmd, budgets=budgets, opslib_source=ci.opslib_source, opslib_kind=opslib_kind, opslib_install=opslib_install,
        environments=envs, approvers=approvers, secrets=secrets,
        ci_secrets_env=sorted(n for n in pdata.credentials),
        notify_channel=channel, notify_secret=ci.notify_secret, notify_command=notify,
        tools=pdata.tools, runner_tools=pdata.runner_tools, deploy_image=pdata.image, aws_oidc=pdata.aws_oidc,
        fetch_full_history=pdata.fetch_full_history, gitlab_id_tokens=dict(pdata.gitlab_id_tokens), manifests=manifests,
    )
    p.stages = _stages(p)
    p.gates = _gates(p)
    p.files = ci_files(p)
    p.validations = validate_files(p.files)
    p.alerts = alert_specs(params)
    return p


def _setup_blocks(setups: dict[str, str]) -> list[tuple[str, str]]:
    """pipeline.md's sign-in commands: one block when every CI system signs in alike, else one per
    system; each opens with the variables the CI system provides (the commands read them, never set them)."""
    texts = list(dict.fromkeys(setups.values()))
    out = []
    for system, text in setups.items() if len(texts) > 1 else list(setups.items())[:1]:
        inputs = sorted(set(re.findall(r"\$\{?([A-Z][A-Z0-9_]*)", text)) - set(re.findall(r"\b([A-Z][A-Z0-9_]*)=", text)))
        where = f" on {SYSTEM_TITLES[system]}" if len(texts) > 1 else ""
        comment = f"# sign-in{where}; inputs the CI system provides: {', '.join(inputs)}" if inputs else (f"# sign-in{where}" if where else "")
        out.append((comment, text))
    return out


def _stages(p: Pipeline) -> list[Stage]:
    langs = ", ".join(lang.title for lang in p.languages)
    out = [
        Stage("validate", f"lint and type check ({langs}): " + "; ".join(f"`{lang.lint}`, `{lang.typecheck}`" for lang in p.languages), "every push and merge request", "Lint, Type Check"),
        Stage("test", f"unit tests with coverage ≥ {p.coverage}% and integration tests: " + "; ".join(f"`{lang.unit}`" for lang in p.languages), "every push and merge request", "Unit Tests, Coverage"),
        Stage("security", "dependency audit (" + "; ".join(f"`{lang.audit}`" for lang in p.languages) + f"), SAST (`{p.sast}`), secret scan (gitleaks)"
              + (", container image scan (Trivy) in build" if p.image_scan else ""), "every push and merge request", "Security Scan"),
    ]
    if p.cost_check:
        out.append(Stage("cost-check", f"`{p.cost_check}`: estimated monthly cost of every environment against its budget", "every push and merge request", "Cost"))
    what = {"container": "container image per service, tagged `${VERSION}` and `sha-${COMMIT_SHA}`, scanned, pushed",
            "artifact": "deployment artifact per service (zip), kept as a pipeline artifact, uploaded keyed by `${VERSION}`",
            "containerless": f"package build (`{p.languages[0].package}`); {p.platform_title} builds the release from the pushed commit"}[p.build_kind]
    out.append(Stage("build", what, f"push to `{p.default_branch}` or a version tag", "Build"))
    for e in p.environments:
        runs = f"deploy to {e.name}" + (f" after {e.after} succeeded" if e.after else "")
        if e.canary:
            runs += f", canary {' → '.join(f'{w}%' for w in e.canary.weights)} → 100% ({e.canary.tool}, {e.canary.minutes} min)"
        runs += ", smoke test" + (f", {e.watch_minutes}-minute watch" if e.watch_minutes else "") + ", automatic rollback on any failure after the deploy started"
        gate = "Rollout, Health Check, Smoke Test" + (", Canary Gate" if e.canary else "") + (", Approval" if e.approval else "")
        out.append(Stage(f"deploy-{e.name}", runs, e.trigger + (" + approval" if e.approval else ""), gate))
    out.append(Stage("notify", f"post success or failure to {p.notify_channel}", "always, after the other stages", "—"))
    return out


def _gates(p: Pipeline) -> list[Gate]:
    gates = [
        Gate("Lint", "0 errors", "Block pipeline", "validate"),
        Gate("Type Check", "0 errors", "Block pipeline", "validate"),
        Gate("Unit Tests", "100% pass", "Block pipeline", "test"),
        Gate("Integration Tests", "100% pass", "Block pipeline", "test"),
        Gate("Coverage", f"≥{p.coverage}% lines (ci.coverage_min_pct)", "Block pipeline", "test"),
        Gate("Security Scan", "0 critical/high (dependencies, SAST" + (", container image" if p.image_scan else "") + ")", "Block pipeline", "security"),
        Gate("Secret Scan", "0 findings", "Block pipeline", "security"),
    ]
    if p.cost_check:
        gates.append(Gate("Cost", "estimated monthly cost ≤ budget in every environment", "Block pipeline", "cost-check"))
    prod = p.production
    gates += [
        Gate("Build", "Success", "Block pipeline", "build"),
    ]
    if prod.after:
        gates.append(Gate("Promotion", f"the release deployed and passed its smoke test in {p.promotion} in the same pipeline",
                          "Block production (deploy does not start)", f"deploy-{prod.name}"))
    gates += [
        Gate("Approval", "production deploy approved by: " + ", ".join(p.approvers), "Wait (deploy does not start)", f"deploy-{prod.name}"),
        Gate("Rollout", "every deploy command succeeds and the release stabilises within its timeout", "Rollback", "deploy-*"),
    ]
    if prod.canary:
        gates.append(Gate("Canary Gate", "; ".join(prod.canary.gate) + f", at each step after a {prod.canary.hold_minutes}-minute hold",
                          "Rollback", f"deploy-{prod.name}"))
    gates += [
        Gate("Health Check", "health endpoint returns the expected status and body", "Rollback", "deploy-*"),
        Gate("Smoke Test", "Pass", "Rollback", "deploy-*"),
    ]
    return gates


def ci_files(p: Pipeline) -> dict[str, str]:
    """The CI files of the systems in use, and the manifests the production canary needs."""
    out: dict[str, str] = dict(p.manifests)
    if "github" in p.systems:
        out.update({path: dump(data) for path, data in github_files(p).items()})
    if "gitlab" in p.systems:
        out.update({path: dump(data) for path, data in gitlab_files(p).items()})
    return dict(sorted(out.items()))


def validate_files(files: dict[str, str]) -> list[Validation]:
    return [Validation(path, schema_for(path), validate(path, text)) for path, text in sorted(files.items())]


def render_pipeline(p: Pipeline) -> str:
    return render(DOC, p)


# ---------------------------------------------------------------- checks

def _validation_findings(p: Pipeline) -> list[Finding]:
    return [
        Finding(f"{v.path} " + ("is valid YAML" if v.schema == "yaml" else f"validates against the official {v.schema} schema"),
                "pass" if v.ok else "fail", "valid" if v.ok else "; ".join(v.errors[:5]), area="pipeline")
        for v in p.validations
    ]


# ---------------------------------------------------------------- document contract



def draft(params: ProjectParams, status: StatusCheck | None = None, out_dir: str | Path | None = None, *,
          systems: list[str] | None = None, strategy: str | None = None) -> Draft:
    """Build, validate, render and check pipeline.md and the CI files (ci/…); `systems` and
    `strategy` are the notebook's drop-downs (default: the parameters')."""
    p = build(params, systems=systems, strategy=strategy)
    text = render_pipeline(p)
    findings = check_pipeline_doc(text, environments=[e.name for e in params.environments], params=params, strict=True) + _validation_findings(p)
    findings += ci_truth(p.files, params)
    return Draft(DOC, FILE, text, findings, files={f"ci/{rel}": body for rel, body in p.files.items()}, model=p)


def preview(params: ProjectParams, status: StatusCheck | None = None, systems: list[str] | None = None,
            strategy: str | None = None) -> Draft:
    """The notebook's preview: the same draft, nothing written."""
    return draft(params, status, systems=systems, strategy=strategy)


def write(params: ProjectParams, status: StatusCheck | None, out_dir: str | Path) -> Written:
    """Write pipeline.md and ci/… only if every check and schema validation passes."""
    return write_draft(draft(params, status, out_dir), out_dir)


def check_written(out_dir: str | Path, params: ProjectParams) -> list[Finding]:
    """Re-check pipeline.md and re-validate every CI file under ci/ (empty when none)."""
    out_dir = Path(out_dir)
    path = out_dir / FILE
    if not path.is_file():
        return []
    findings = check_pipeline_doc(path.read_text(encoding="utf-8"), path=path, environments=[e.name for e in params.environments], params=params, strict=True)
    ci = out_dir / "ci"
    files = sorted([*ci.glob(".github/workflows/*.yml"), *ci.glob(".gitlab-ci.yml"), *ci.glob("canary/*.yaml")]) if ci.is_dir() else []
    for f in files:
        rel = f.relative_to(ci).as_posix()
        findings += ci_truth({rel: f.read_text(encoding="utf-8")}, params)
        errors = validate(rel, f.read_text(encoding="utf-8"))
        what = "is valid YAML" if schema_for(rel) == "yaml" else f"validates against the official {schema_for(rel)} schema"
        findings.append(Finding(f"{rel} {what}", "fail" if errors else "pass", "; ".join(errors[:5]) or "valid", area="pipeline"))
    return findings
