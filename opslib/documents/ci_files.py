"""CI files as data: the GitHub Actions workflow set and the .gitlab-ci.yml of a `Pipeline`,
dumped with ruamel.yaml and validated against the official JSON schemas that
check-jsonschema ships (GitHub workflow schema, GitLab CI schema), offline.

    github_files(pipeline) -> dict[path, data]     .github/workflows/ci.yml and deploy.yml
    gitlab_files(pipeline) -> dict[path, data]     .gitlab-ci.yml
    dump(data)             -> str                  deterministic YAML (block style, literal scripts)
    load(text)             -> Any                  YAML 1.2: the key `on` stays a string
    validate(path, text)   -> list[str]            schema errors ("" path means the document root)

Both systems run the same jobs: a deploy job per environment that needs the environment before
it (promotion order), records the rollback target, marks `.deploy/started` and then deploys;
the rollback runs on any failure after that mark (GitHub: steps of the job, `if` failure or
cancel; GitLab: a `rollback-<env>` job `when: on_failure` that reads the job's `.deploy/`).
Every shell runs with pipefail: GitHub `defaults.run.shell: bash` (bash -eo pipefail), GitLab
`set -o pipefail` first in the default before_script (bash or busybox sh in every image used).
Other YAML files (manifests under `canary/`) are checked for YAML syntax.
"""

from __future__ import annotations

import importlib.util
import io
import json
import re
import sys
from functools import cache
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.scalarstring import LiteralScalarString

__all__ = ["github_files", "gitlab_files", "dump", "load", "validate", "schema_for", "SCHEMAS"]

SCHEMAS = {"github": "github-workflows.json", "gitlab": "gitlab-ci.json"}
PIPEFAIL = "set -o pipefail"


def _lit(text: str) -> str:
    return LiteralScalarString(text.rstrip("\n") + "\n") if "\n" in text else text


def _plain(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _plain(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_plain(v) for v in data]
    if isinstance(data, str):
        return _lit(data)
    return data


def dump(data: Any) -> str:
    yaml = YAML(typ="rt")
    yaml.default_flow_style = False
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    buf = io.StringIO()
    yaml.dump(_plain(data), buf)
    return buf.getvalue()


def load(text: str) -> Any:
    """Parse YAML 1.2 into plain Python data (ruamel: `on` stays a string)."""
    data = YAML(typ="safe", pure=True).load(text)
    return json.loads(json.dumps(data, default=str))


@cache
def _schema(name: str) -> dict:
    # find check-jsonschema's vendored schemas without importing the package: its __init__
    # imports its CLI and jsonschema (seconds, in every kernel that previews a pipeline)
    spec = importlib.util.find_spec("check_jsonschema")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("check-jsonschema is not installed; pip install check-jsonschema (it ships the CI schemas)")
    base = Path(list(spec.submodule_search_locations)[0]) / "builtin_schemas" / "vendor"
    return json.loads((base / name).read_text(encoding="utf-8"))


def draft7_validator():
    """jsonschema's Draft7Validator, imported without compiling rfc3987_syntax's grammars.

    `jsonschema/_format.py` imports rfc3987_syntax when it is installed (jupyter-events pulls it
    in), which compiles 38 lark grammars: 1.5–4.5 s per process. It only serves the "iri"
    format checkers; validate() uses no format checker, so hiding the module during the
    import changes no result. If jsonschema is already imported, nothing is hidden."""
    if "jsonschema" not in sys.modules and "rfc3987_syntax" not in sys.modules:
        # import then raises ImportError, which jsonschema tolerates; typeshed types sys.modules as
        # dict[str, ModuleType], without the None entry the import system documents for this
        sys.modules["rfc3987_syntax"] = None  # type: ignore[assignment]
        try:
            from jsonschema import Draft7Validator
        finally:
            if sys.modules.get("rfc3987_syntax", 0) is None:
                del sys.modules["rfc3987_syntax"]
        return Draft7Validator
    from jsonschema import Draft7Validator

    return Draft7Validator


def schema_for(path: str) -> str:
    """Which schema checks a generated CI file: github (workflows), gitlab, or yaml (syntax only)."""
    if path.endswith(".gitlab-ci.yml"):
        return "gitlab"
    return "github" if path.startswith(".github/workflows/") else "yaml"


def validate(path: str, text: str) -> list[str]:
    """Validate one CI file against its official schema; one message per error."""
    kind = schema_for(path)
    if kind == "yaml":
        try:
            list(YAML(typ="safe", pure=True).load_all(text))
        except Exception as exc:  # a YAML syntax error is a validation failure, not a crash
            return [f"not valid YAML: {exc.__class__.__name__}: {str(exc).splitlines()[0]}"]
        return []
    Draft7Validator = draft7_validator()
    try:
        data = load(text)
    except Exception as exc:  # a YAML syntax error is a validation failure, not a crash
        return [f"not valid YAML: {exc.__class__.__name__}: {str(exc).splitlines()[0]}"]
    validator = Draft7Validator(_schema(SCHEMAS[kind]))
    errors = sorted(validator.iter_errors(data), key=lambda e: (list(map(str, e.absolute_path)), e.message))
    out = []
    for err in errors:
        where = "/".join(map(str, err.absolute_path)) or "(root)"
        msg = err.message if len(err.message) < 300 else err.message[:300] + "…"
        out.append(f"{where}: {msg}")
    return out


# ---------------------------------------------------------------- GitHub Actions

def _gh_setup(p) -> list[dict]:
    return [{"name": f"Set up {lang.title}", "uses": lang.setup_action, "with": dict(lang.setup_with)} for lang in p.languages]


def _checkout(full: bool = False) -> dict:
    step: dict[str, Any] = {"name": "Check out the commit", "uses": "actions/checkout@v4"}
    if full:
        step["with"] = {"fetch-depth": 0}
    return step


def _aws_step(p, env) -> dict:
    return {
        "name": "Assume the deploy role (OIDC, no stored AWS keys)",
        "uses": "aws-actions/configure-aws-credentials@v4",
        "with": {"role-to-assume": env.role_arn, "aws-region": env.region},
    }


def _run(name: str, command: str, **extra) -> dict:
    step = {"name": name}
    step.update(extra)
    step["run"] = command
    return step


def _started() -> str:
    return "mkdir -p .deploy && date -u +%Y-%m-%dT%H:%M:%SZ > .deploy/started"


def _cost_job_github(p) -> dict:
    steps: list[dict] = [_checkout()]
    job: dict[str, Any] = {"name": "cost-check (estimate vs budget per environment)", "runs-on": "ubuntu-latest"}
    if p.opslib_kind == "image":
        job["container"] = {"image": p.opslib_source}
    else:
        steps += [{"name": "Set up Python", "uses": "actions/setup-python@v5", "with": {"python-version": "3.12"}},
                  _run("Install opslib (pinned to a commit: ci.opslib_source)", p.opslib_install)]
    steps.append(_run("Compare the estimated monthly cost with each budget", f'{p.cost_check} | tee -a "$GITHUB_STEP_SUMMARY"'))
    job["steps"] = steps
    return job


def github_files(p) -> dict[str, dict]:
    ci_jobs: dict[str, Any] = {}
    ci_jobs["validate"] = {
        "name": "validate (lint, type check)",
        "runs-on": "ubuntu-latest",
        "steps": [_checkout(), *_gh_setup(p), _run("Install dependencies", p.install)]
        + [_run(f"Lint ({lang.title})", lang.lint) for lang in p.languages]
        + [_run(f"Type check ({lang.title})", lang.typecheck) for lang in p.languages],
    }
    ci_jobs["test"] = {
        "name": f"test (unit with coverage ≥ {p.coverage}%, integration)",
        "needs": ["validate"],
        "runs-on": "ubuntu-latest",
        "steps": [_checkout(), *_gh_setup(p), _run("Install dependencies", p.install)]
        + [_run(f"Unit tests and coverage gate ({lang.title})", lang.unit) for lang in p.languages]
        + [_run(f"Integration tests ({lang.title})", lang.integration) for lang in p.languages],
    }
    ci_jobs["dependency-audit"] = {
        "name": "security: dependency audit",
        "runs-on": "ubuntu-latest",
        "steps": [_checkout(), *_gh_setup(p)] + [_run(f"Audit dependencies ({lang.title})", lang.audit) for lang in p.languages],
    }
    ci_jobs["sast"] = {
        "name": "security: SAST (Semgrep)",
        "runs-on": "ubuntu-latest",
        "container": {"image": p.sast_image},
        "defaults": {"run": {"shell": "sh"}},  # the Semgrep image has no bash; its step has no pipe
        "steps": [_checkout(), _run("Static analysis", p.sast)],
    }
    ci_jobs["secret-scan"] = {
        "name": "security: secret scan (gitleaks)",
        "runs-on": "ubuntu-latest",
        "steps": [_checkout(full=True), _run("Scan the history for committed secrets", p.secret_scan)],
    }
    if p.cost_check:
        ci_jobs["cost-check"] = _cost_job_github(p)
    ci = {
        "name": "ci",
        "on": {"pull_request": {"branches": [p.default_branch]}, "workflow_call": {}},
        "permissions": {"contents": "read"},
        "concurrency": {"group": "ci-${{ github.ref }}", "cancel-in-progress": True},
        "defaults": {"run": {"shell": "bash"}},
        "jobs": ci_jobs,
    }

    jobs: dict[str, Any] = {
        "ci": {"name": "ci (validate, test, security scan" + (", cost-check" if p.cost_check else "") + ")",
               "uses": "./.github/workflows/ci.yml", "secrets": "inherit"},
    }
    build_steps = [_checkout()]
    if p.build_kind == "container":
        build_steps += [_aws_step(p, p.environments[-1]), _run("Log in to the image registry", p.registry_login)]
        for b in p.build:
            build_steps.append(_run(f"Build {b.service}", b.command))
        if p.image_scan:
            build_steps.append(_run("Install Trivy", p.trivy_install.replace("| sh", "| sudo sh")))
        for b in p.image_scan:
            build_steps.append(_run(f"Scan the {b.service} image (Trivy; fail on CRITICAL/HIGH)", b.command))
        for b in p.push:
            build_steps.append(_run(f"Push {b.service} (version and commit tags)", b.command))
    else:
        build_steps += _gh_setup(p)
        for b in p.build:
            build_steps.append(_run(f"Package {b.service}", b.command))
        build_steps.append({"name": "Keep the build output for the deploy jobs", "uses": "actions/upload-artifact@v4",
                            "with": {"name": "build-${{ github.sha }}", "path": "dist/", "if-no-files-found": "error"}})
    jobs["build"] = {
        "name": "build (tagged with version and commit)",
        "needs": ["ci"],
        "runs-on": "ubuntu-latest",
        "permissions": {"contents": "read", "id-token": "write"},
        "steps": build_steps,
    }
    rollback_if = "(failure() || cancelled()) && steps.started.outcome == 'success'"
    for env in p.environments:
        steps = [_checkout(full=p.fetch_full_history)]
        if p.build_kind == "artifact":
            steps.append({"name": "Fetch the build output", "uses": "actions/download-artifact@v4",
                          "with": {"name": "build-${{ github.sha }}", "path": "dist/"}})
        if p.aws_oidc:
            steps.append(_aws_step(p, env))
        if p.runner_tools:
            steps.append(_run("Install the deploy tools", p.runner_tools))
        if env.setups.get("github"):
            steps.append(_run("Connect to the environment", env.setups["github"]))
        for s in env.record:
            steps.append(_run(s.text, s.command))
        steps.append(_run("Mark the deploy as started (from here on, any failure rolls back)", _started(), id="started"))
        for i, s in enumerate(env.deploy):
            steps.append(_run(s.text, s.command, id=f"deploy-{i + 1}" if len(env.deploy) > 1 else "deploy"))
        steps.append(_run("Smoke test: " + ("health endpoints return the expected response" if env.smoke else "workers and scheduled jobs pass their checks"),
                          env.smoke_command, id="smoke"))
        if env.watch_command:
            steps.append(_run(f"Watch for {env.watch_minutes} min (smoke test every minute)", env.watch_command, id="watch"))
        for s in env.rollback:
            steps.append(_run(f"Roll back: {s.text}", s.command, **{"if": rollback_if}))
        job: dict[str, Any] = {
            "name": f"deploy {env.name}" + (" (approval required)" if env.approval else ""),
            "needs": [env.after or "build"],
            "if": env.github_if,
            "runs-on": "ubuntu-latest",
            "timeout-minutes": env.timeout_minutes,
            "permissions": {"contents": "read", "id-token": "write"},
            "environment": {"name": env.name, **({"url": env.url} if env.url else {})},
            "concurrency": {"group": f"deploy-{env.name}", "cancel-in-progress": False},
        }
        if p.ci_secrets_env:
            job["env"] = {name: f"${{{{ secrets.{name} }}}}" for name in p.ci_secrets_env}
        job["steps"] = steps
        jobs[f"deploy-{env.name}"] = job
    jobs["notify"] = {
        "name": "notify",
        "needs": list(jobs),
        "if": "always()",
        "runs-on": "ubuntu-latest",
        "steps": [_run(
            f"Post the result to {p.notify_channel}",
            p.notify_command.replace("${STATUS}", "${{ contains(needs.*.result, 'failure') && 'FAILED' || 'succeeded' }}")
            .replace("${RUN_URL}", "${{ github.server_url }}/${{ github.repository }}/actions/runs/${{ github.run_id }}"),
            env={p.notify_secret: f"${{{{ secrets.{p.notify_secret} }}}}"},
        )],
    }
    jobs["notify"]["needs"] = [j for j in jobs if j != "notify"]
    deploy = {
        "name": "deploy",
        "on": {"push": {"branches": [p.default_branch], "tags": [p.tag_pattern]}, "workflow_dispatch": {}},
        "permissions": {"contents": "read", "id-token": "write"},
        "defaults": {"run": {"shell": "bash"}},
        "env": {
            "VERSION": "${{ github.ref_type == 'tag' && github.ref_name || format('sha-{0}', github.sha) }}",
            "COMMIT_SHA": "${{ github.sha }}",
        },
        "jobs": jobs,
    }
    return {".github/workflows/ci.yml": ci, ".github/workflows/deploy.yml": deploy}


# ---------------------------------------------------------------- GitLab CI

def _glob_regex(glob: str) -> str:
    return "/^" + "".join(".+" if c == "*" else re.escape(c).replace("/", "\\/") for c in glob) + "$/"


def _aws_gitlab(env) -> list[str]:
    """AWS credentials from the job's OIDC token, the way the AWS CLI and SDKs read them itself
    (AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE): nothing parsed in the shell, refreshed by the CLI."""
    return [
        'printf \'%s\' "${AWS_ID_TOKEN}" > "${CI_BUILDS_DIR}/.aws-web-identity-token"',
        f'export AWS_ROLE_ARN={env.role_arn_shell} AWS_WEB_IDENTITY_TOKEN_FILE="${{CI_BUILDS_DIR}}/.aws-web-identity-token" '
        'AWS_ROLE_SESSION_NAME="gitlab-${CI_PIPELINE_ID}"',
    ]


def _cost_job_gitlab(p) -> dict:
    if p.opslib_kind == "image":
        return {"stage": "cost-check", "image": {"name": p.opslib_source, "entrypoint": [""]},
                "script": [f"{p.cost_check} | tee cost-report.md"],
                "artifacts": {"when": "always", "paths": ["cost-report.md"], "expire_in": "30 days"}}
    return {"stage": "cost-check", "image": "python:3.12-slim",
            "script": ["apt-get update -qq && apt-get install -y -qq git >/dev/null", p.opslib_install, f"{p.cost_check} | tee cost-report.md"],
            "artifacts": {"when": "always", "paths": ["cost-report.md"], "expire_in": "30 days"}}


def gitlab_files(p) -> dict[str, dict]:
    main = f'$CI_COMMIT_BRANCH == "{p.default_branch}"'
    tag = f"$CI_COMMIT_TAG =~ {_glob_regex(p.tag_pattern)}"
    stages = ["validate", "test", "security"] + (["cost-check"] if p.cost_check else []) + ["build"]
    for env in p.environments:
        stages += [f"deploy-{env.name}", f"rollback-{env.name}"]
    doc: dict[str, Any] = {
        "workflow": {"rules": [
            {"if": '$CI_PIPELINE_SOURCE == "merge_request_event"'},
            {"if": main},
            {"if": tag},
        ]},
        "stages": stages,
        "variables": {"COMMIT_SHA": "$CI_COMMIT_SHA"},
        "default": {
            "image": p.languages[0].image,
            "before_script": [PIPEFAIL, 'export VERSION="${CI_COMMIT_TAG:-sha-$CI_COMMIT_SHA}"'],
            "interruptible": True,
        },
    }
    for lang in p.languages:
        suffix = f"-{lang.key}" if len(p.languages) > 1 else ""
        doc[f"validate{suffix}"] = {
            "stage": "validate", "image": lang.image,
            "script": [lang.install, lang.lint, lang.typecheck],
        }
        doc[f"test{suffix}"] = {
            "stage": "test", "image": lang.image,
            "script": [lang.install, lang.unit, lang.integration],
            "coverage": r"/TOTAL.*\s+(\d+%)$/" if lang.key == "python" else r"/All files[^|]*\|[^|]*\s+([\d\.]+)/",
        }
        doc[f"dependency-audit{suffix}"] = {"stage": "security", "image": lang.image, "script": [lang.install, lang.audit]}
    doc["sast"] = {"stage": "security", "image": p.sast_image, "script": [p.sast]}
    doc["secret-scan"] = {
        "stage": "security",
        "image": {"name": p.gitleaks_image, "entrypoint": [""]},
        "variables": {"GIT_DEPTH": "0"},
        "before_script": [],
        "script": [p.secret_scan_gitlab],
    }
    if p.cost_check:
        doc["cost-check"] = _cost_job_gitlab(p)
    build: dict[str, Any] = {"stage": "build", "rules": [{"if": main}, {"if": tag}]}
    if p.build_kind == "container":
        env = p.environments[-1]
        build.update({
            "image": "docker:27",
            "services": ["docker:27-dind"],
            "variables": {"DOCKER_TLS_CERTDIR": "/certs", "AWS_DEFAULT_REGION": env.region},
            "id_tokens": {"AWS_ID_TOKEN": {"aud": "sts.amazonaws.com"}},
            "script": ["apk add --no-cache aws-cli", *_aws_gitlab(env), p.registry_login]
            + [b.command for b in p.build] + [p.trivy_install] + [b.command for b in p.image_scan] + [b.command for b in p.push],
        })
    else:
        build.update({
            "image": p.languages[0].image,
            "script": [p.languages[0].install] + [b.command for b in p.build],
            "artifacts": {"paths": ["dist/"], "expire_in": "30 days"},
        })
    doc["build"] = build
    for env in p.environments:
        rules: list[dict[str, Any]] = [{"if": tag}] if env.production_from_tag else [{"if": main}, {"if": tag}]
        variables: dict[str, str] = {}
        if p.aws_oidc:
            variables["AWS_DEFAULT_REGION"] = env.region
        if p.fetch_full_history:
            variables["GIT_DEPTH"] = "0"
        job: dict[str, Any] = {
            "stage": f"deploy-{env.name}",
            "image": {"name": p.deploy_image, "entrypoint": [""]},
            "environment": {"name": env.name, **({"url": env.url} if env.url else {}), "deployment_tier": env.tier},
            "resource_group": f"deploy-{env.name}",
            "interruptible": False,
            "timeout": f"{env.timeout_minutes} minutes",
            "rules": [dict(r, when="manual") for r in rules] if env.approval else rules,
            "needs": [{"job": "build", "artifacts": p.build_kind == "artifact"}]
            + ([{"job": env.after, "artifacts": False}] if env.after else []),
        }
        if env.approval:
            job["allow_failure"] = False
        if variables:
            job["variables"] = variables
        if p.aws_oidc:
            job["id_tokens"] = {"AWS_ID_TOKEN": {"aud": "sts.amazonaws.com"}}
        elif p.gitlab_id_tokens:
            job["id_tokens"] = {name: {"aud": aud} for name, aud in sorted(p.gitlab_id_tokens.items())}
        setup = env.setups.get("gitlab")
        script = [p.tools] + (_aws_gitlab(env) if p.aws_oidc else []) + ([setup] if setup else [])
        script += [s.command for s in env.record] + [_started()]
        script += [s.command for s in env.deploy] + [env.smoke_command]
        if env.watch_command:
            script.append(env.watch_command)
        job["script"] = script
        job["artifacts"] = {"when": "always", "paths": [".deploy/"], "expire_in": "7 days"}
        doc[f"deploy-{env.name}"] = job
        rb: dict[str, Any] = {
            "stage": f"rollback-{env.name}",
            "image": {"name": p.deploy_image, "entrypoint": [""]},
            "environment": {"name": env.name, "action": "access"},
            "resource_group": f"deploy-{env.name}",
            "interruptible": False,
            "rules": [dict(r, when="on_failure") for r in rules],
            "needs": [{"job": f"deploy-{env.name}", "artifacts": True}],
        }
        if variables:
            rb["variables"] = variables
        if p.aws_oidc:
            rb["id_tokens"] = {"AWS_ID_TOKEN": {"aud": "sts.amazonaws.com"}}
        elif p.gitlab_id_tokens:
            rb["id_tokens"] = {name: {"aud": aud} for name, aud in sorted(p.gitlab_id_tokens.items())}
        rb["script"] = [
            'if [ ! -f .deploy/started ]; then echo "deploy-' + env.name + ' failed before it changed anything: nothing to roll back"; exit 0; fi',
            p.tools, *(_aws_gitlab(env) if p.aws_oidc else []), *([setup] if setup else []),
        ] + [s.command for s in env.rollback]
        doc[f"rollback-{env.name}"] = rb
    for outcome, when in (("succeeded", "on_success"), ("FAILED", "on_failure")):
        doc[f"notify-{'success' if when == 'on_success' else 'failure'}"] = {
            "stage": ".post",
            "image": "curlimages/curl:8.11.0",
            "rules": [{"if": main, "when": when}, {"if": tag, "when": when}],
            "script": [p.notify_command.replace("${STATUS}", outcome).replace("${RUN_URL}", "${CI_PIPELINE_URL}")],
        }
    return {".gitlab-ci.yml": doc}
