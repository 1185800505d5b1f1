"""The CI/CD pipeline: from parameters to a GitHub Actions workflow set, a .gitlab-ci.yml and
pipeline.md that documents both.

    build(params, systems=None, strategy=None) -> Pipeline   (pure: every command resolved)
    ci_files(pipeline)         -> dict[path, text]            (ci/… relative paths)
    validate_files(files)      -> list[Validation]            (official JSON schemas, offline)
    render_pipeline(pipeline)  -> str                         (pipeline.md)
    check_pipeline_doc(text)   -> list[Finding]               (quality bar: "CI/CD Pipeline Validation")
    write(params, status, out_dir) -> Written                 (pipeline.md and ci/…, atomically)
    check_written(out_dir, params) -> list[Finding]

Stages: validate (lint, type check) → test (unit with a coverage gate, integration) → security
scan (dependency audit, SAST, secret scan; container image scan in build) → cost-check
(opslib's estimate against each environment's budget) → build (version and commit tags) →
deploy per environment (non-production from the default branch; production from a version
tag behind an approval gate) → smoke test → automatic rollback with the platform's own
command when the smoke test fails → notifications.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from opslib.catalog.ci import ci_languages
from opslib.check.findings import Finding
from opslib.check.pipeline import ITEMS
from opslib.check.pipeline import check_pipeline as check_pipeline_doc
from opslib.core.templates import render, render_string
from opslib.documents.ci_files import dump, github_files, gitlab_files, schema_for, validate
from opslib.documents.commands import RStep, resolve_targets, steps
from opslib.documents.contract import Draft, Written, write_draft
from opslib.documents.monitoring import alert_specs, ci_of, production_approvers
from opslib.params.models import ProjectParams
from opslib.params.status import StatusCheck

__all__ = ["DOC", "FILE", "ITEMS", "Pipeline", "Validation", "build", "draft", "ci_files", "validate_files",
           "render_pipeline", "check_pipeline_doc", "preview", "write", "check_written", "STRATEGIES", "SYSTEMS"]

DOC = "pipeline"
FILE = "pipeline.md"
SYSTEMS = ("github", "gitlab")
STRATEGIES = ("rolling", "blue-green", "canary", "recreate")
CI_STORES = {"github-actions": "GitHub Actions secret", "gitlab-ci": "GitLab CI/CD variable"}
SAST_IMAGE = "semgrep/semgrep:1.97.0"
GITLEAKS_IMAGE = "zricethezav/gitleaks:v8.21.2"
TRIVY_VERSION = "v0.57.1"
TRIVY_INSTALL = ("wget -qO- https://raw.githubusercontent.com/aquasecurity/trivy/main/contrib/install.sh"
                 f" | sh -s -- -b /usr/local/bin {TRIVY_VERSION}")

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
    setup: str | None
    deploy: list[DStep]
    smoke: list[Smoke]
    smoke_command: str
    watch_minutes: int
    watch_command: str | None
    rollback: list[DStep]
    smoke_steps: list[DStep] = field(default_factory=list)


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
    opslib_requirement: str
    environments: list[EnvDeploy]
    approvers: list[str]
    secrets: list[CiSecret]
    ci_secrets_env: list[str]
    notify_channel: str
    notify_secret: str
    notify_command: str
    tools: str
    deploy_image: str
    aws_oidc: bool
    fetch_full_history: bool
    stages: list[Stage] = field(default_factory=list)
    gates: list[Gate] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)
    validations: list[Validation] = field(default_factory=list)
    alerts: list[Any] = field(default_factory=list)

    @property
    def flow(self) -> list[tuple[int, str, int, str]]:
        """The stage diagram's edges: (number, name) of each stage → the next."""
        return [(i, a.name, i + 1, b.name) for i, (a, b) in enumerate(zip(self.stages, self.stages[1:], strict=False), start=1)]


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
    """HTTP checks of the web services, then the workers' and jobs' smoke steps (ci.yaml `smoke`),
    each failing the script with its reason."""
    lines = ["mkdir -p .deploy"]
    for k in kind_steps or []:
        lines.append(f"( set -e\n{k.command.strip()}\n) || {{ echo {shlex.quote('smoke test failed: ' + k.text)}; exit 1; }}")
    for s in checks:
        body = f".deploy/smoke-{s.service}.body"
        lines += [
            f"code=$(curl -sS --retry 5 --retry-delay 10 --retry-all-errors -o {body} -w '%{{http_code}}' {s.url})",
            f'test "$code" = "{s.status}" || {{ echo "{s.service}: expected HTTP {s.status} from {s.url}, got $code"; exit 1; }}',
            f'grep -qF {shlex.quote(s.body)} {body} || {{ echo "{s.service}: response lacks the expected body"; exit 1; }}',
        ]
    return "\n".join(lines)


def _watch_command(checks: list[Smoke], minutes: int) -> str:
    inner = "; ".join(
        f"curl -fsS -o /dev/null -w '{s.service} %{{http_code}}\\n' {s.url}" for s in checks
    )
    return f"for i in $(seq 1 {minutes}); do sleep 60; {inner} || exit 1; done"


def build(params: ProjectParams, systems: list[str] | None = None, strategy: str | None = None) -> Pipeline:
    """Resolve every stage, command and gate of the pipeline (nothing rendered)."""
    ci = ci_of(params)
    platform = params.catalog.platform(params.platform)
    pdata = platform.ci
    strategy = strategy or params.deploy.strategy
    langs = []
    for key in _languages(params):
        raw = dict(ci_languages()[key])
        ctx = {"coverage": ci.coverage_min_pct}
        for k in ("install", "lint", "typecheck", "unit", "integration", "audit", "package"):
            raw[k] = render_string(raw[k], ctx, "opslib/data/ci-languages.yaml")
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

    envs: list[EnvDeploy] = []
    for env in params.environments:
        target = resolve_targets(params, env, platform)
        ctx = {"project": params.project, "env": env, "target": target, "deploy": params.deploy, "aws_account_id": account}
        role = render_string(pdata.role or "", ctx, where) if pdata.aws_oidc else ""
        role_arn = f"arn:aws:iam::{account}:role/{role}" if account else "${{ vars.AWS_DEPLOY_ROLE_ARN }}"
        deploy = _job_steps(steps(pdata.deploy, params, ctx, where))
        rollback = _job_steps(steps(pdata.rollback, params, ctx, where))
        checks = [Smoke(s.name, f"{env.url}{s.health.path}", s.health.expected_status, s.health.expected_body)
                  for s in params.services if s.kind == "web" and s.health and env.url]
        kind_smoke = _job_steps(steps(pdata.smoke, params, ctx, where))
        is_prod = env is prod
        from_tag = is_prod
        watch = params.deploy.observe_minutes if is_prod and strategy != "recreate" and checks else 0
        envs.append(EnvDeploy(
            name=env.name, url=env.url, region=env.region,
            tier="production" if is_prod else ("staging" if "stag" in env.name else "development"),
            approval=env.approval_required or is_prod,
            production_from_tag=from_tag,
            after=next((f"deploy-{e.name}" for e in reversed(envs) if e.production_from_tag == from_tag), None),
            trigger=(f"push of a version tag `{ci.release_tag_pattern}`" if from_tag else f"push to `{ci.default_branch}` (automatic)"),
            github_if="startsWith(github.ref, 'refs/tags/')" if from_tag else f"github.ref == 'refs/heads/{ci.default_branch}'",
            role_arn=role_arn,
            setup=render_string(pdata.setup, ctx, where) if pdata.setup else None,
            deploy=deploy, smoke=checks, smoke_steps=kind_smoke, smoke_command=_smoke_command(env, checks, kind_smoke),
            watch_minutes=watch, watch_command=_watch_command(checks, watch) if watch else None,
            rollback=rollback,
        ))

    inventory = {i.env_var: i for i in (params.secrets.items if params.secrets else []) if i.store in CI_STORES}
    needed = {name: f"{platform.title} deploy credential" for name in pdata.credentials}
    needed[ci.notify_secret] = "chat incoming-webhook URL for pipeline notifications"
    secrets = [CiSecret(i.env_var, i.description, CI_STORES[i.store], True) for i in inventory.values()]
    secrets += [CiSecret(n, purpose, "GitHub Actions secret / GitLab CI/CD variable", False)
                for n, purpose in needed.items() if n not in inventory]
    secrets.sort(key=lambda s: s.name)
    channel = ci.notify_channel or next((c.name for c in params.contacts.channels if "deploy" in c.purpose.lower()),
                                        params.contacts.channels[0].name)
    notify = (f"curl -fsS -X POST -H 'Content-Type: application/json' "
              f"--data \"{{\\\"text\\\": \\\"{params.project.name} ${{VERSION}}: pipeline ${{STATUS}} (${{RUN_URL}})\\\", "
              f"\\\"channel\\\": \\\"{channel}\\\"}}\" \"${ci.notify_secret}\"")
    cost_cmd = None
    budgets: list[tuple[str, str]] = []
    if params.cost is not None:
        pfile = ci.parameters_file or f"parameters/{params.project.name}.yaml"
        cost_cmd = f"python -m opslib.costgate {pfile}"
        budgets = [(e.name, f"${params.cost.budgets[e.name].monthly_usd:,.0f}") for e in params.environments if e.name in params.cost.budgets]
    approvers, _source = production_approvers(params)
    gl_scan = "gitleaks detect --source . --redact --no-banner --verbose"
    p = Pipeline(
        project=params.project, platform=params.platform, platform_title=platform.title,
        systems=list(systems or ci.systems), strategy=strategy, languages=langs,
        install="\n".join(dict.fromkeys(lang.install for lang in langs)),
        coverage=ci.coverage_min_pct, default_branch=ci.default_branch, tag_pattern=ci.release_tag_pattern,
        build_kind=kind, build=build_cmds, image_scan=scans, push=pushes, registry_login=registry_login,
        trivy_install=TRIVY_INSTALL,
        sast=" ".join(["semgrep scan --error"] + [f"--config {lang.sast_rules}" for lang in langs] + ["--config p/secrets", "."]),
        sast_image=SAST_IMAGE,
        secret_scan=f'docker run --rm -v "$PWD:/repo" {GITLEAKS_IMAGE} detect --source /repo --redact --no-banner --verbose',
        secret_scan_gitlab=gl_scan, gitleaks_image=GITLEAKS_IMAGE,
        cost_check=cost_cmd, budgets=budgets, opslib_requirement=ci.opslib_requirement,
        environments=envs, approvers=approvers, secrets=secrets,
        ci_secrets_env=sorted(n for n in pdata.credentials),
        notify_channel=channel, notify_secret=ci.notify_secret, notify_command=notify,
        tools=pdata.tools, deploy_image=pdata.image, aws_oidc=pdata.aws_oidc,
        fetch_full_history=pdata.fetch_full_history,
    )
    p.stages = _stages(p)
    p.gates = _gates(p)
    p.files = ci_files(p)
    p.validations = validate_files(p.files)
    p.alerts = alert_specs(params)
    return p


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
        out.append(Stage(f"deploy-{e.name}", f"deploy to {e.name}, smoke test, automatic rollback on failure"
                         + (f", {e.watch_minutes}-minute watch" if e.watch_minutes else ""),
                         e.trigger + (" + approval" if e.approval else ""), "Health Check, Smoke Test" + (", Approval" if e.approval else "")))
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
    gates += [
        Gate("Build", "Success", "Block pipeline", "build"),
        Gate("Approval", "production deploy approved by: " + ", ".join(p.approvers), "Wait (deploy does not start)", "deploy-" + p.environments[-1].name),
        Gate("Health Check", "health endpoint returns the expected status and body", "Rollback", "deploy-*"),
        Gate("Smoke Test", "Pass", "Rollback", "deploy-*"),
    ]
    return gates


def ci_files(p: Pipeline) -> dict[str, str]:
    out: dict[str, str] = {}
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
        Finding(f"{v.path} validates against the official {v.schema} schema", "pass" if v.ok else "fail",
                "valid" if v.ok else "; ".join(v.errors[:5]), area="pipeline")
        for v in p.validations
    ]


# ---------------------------------------------------------------- document contract



def draft(params: ProjectParams, status: StatusCheck | None = None, out_dir: str | Path | None = None, *,
          systems: list[str] | None = None, strategy: str | None = None) -> Draft:
    """Build, validate, render and check pipeline.md and the CI files (ci/…); `systems` and
    `strategy` are the notebook's drop-downs (default: the parameters')."""
    p = build(params, systems=systems, strategy=strategy)
    text = render_pipeline(p)
    findings = check_pipeline_doc(text, environments=[e.name for e in params.environments], strict=True) + _validation_findings(p)
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
    findings = check_pipeline_doc(path.read_text(encoding="utf-8"), path=path, environments=[e.name for e in params.environments], strict=True)
    ci = out_dir / "ci"
    files = sorted([*ci.glob(".github/workflows/*.yml"), *ci.glob(".gitlab-ci.yml")]) if ci.is_dir() else []
    for f in files:
        rel = f.relative_to(ci).as_posix()
        errors = validate(rel, f.read_text(encoding="utf-8"))
        findings.append(Finding(f"{rel} validates against the official {schema_for(rel)} schema",
                                "fail" if errors else "pass", "; ".join(errors[:5]) or "valid", area="pipeline"))
    return findings
