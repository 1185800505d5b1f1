"""The CI/CD pipeline: golden files, official-schema validation, gates, rollback, cost-check,
the pipeline.md checks and the document contract."""

import json

import pytest
from conftest import EXAMPLES, FIXTURES, PARAMS, REPO, execute_notebook
from pydantic import ValidationError

from opslib.catalog.catalog import load_platform
from opslib.documents import pipeline
from opslib.documents.ci_files import load, validate
from opslib.errors import ChecksFailed
from opslib.params.ci import CiSection
from opslib.params.models import ProjectParams, load_params
from opslib.params.status import check_status


@pytest.fixture(scope="module")
def built():
    return {name: pipeline.build(load_params(PARAMS / f"{name}.yaml")) for name in EXAMPLES}


def _jobs(p, path):
    return load(p.files[path])


@pytest.mark.parametrize("name", EXAMPLES)
def test_golden_files(name, built, golden):
    p = built[name]
    expected = {"github": {".github/workflows/ci.yml", ".github/workflows/deploy.yml"}, "gitlab": {".gitlab-ci.yml"}}
    assert set(p.files) - {"canary/prod.yaml"} == set().union(*(expected[s] for s in p.systems))
    for path, text in p.files.items():
        golden(f"{name}/ci/{path}", text)
    golden(f"{name}/pipeline.md", pipeline.render_pipeline(p))


@pytest.mark.parametrize("name", EXAMPLES)
def test_every_ci_file_validates_for_every_strategy(name):
    params = load_params(PARAMS / f"{name}.yaml")
    for strategy in sorted(load_platform(params.platform).deploy):
        p = pipeline.build(params, strategy=strategy)
        for v in p.validations:
            assert v.ok, (strategy, v.path, v.errors)
            assert validate(v.path, p.files[v.path]) == []


@pytest.mark.parametrize("fixture, expected", [
    ("broken-workflow.yml", "jobs/build"),
    ("broken.gitlab-ci.yml", "build"),
])
def test_broken_files_are_rejected(fixture, expected):
    text = (FIXTURES / "ci" / fixture).read_text()
    path = ".gitlab-ci.yml" if "gitlab" in fixture else ".github/workflows/broken.yml"
    errors = validate(path, text)
    assert errors and any(e.startswith(expected) for e in errors), errors


def test_yaml_syntax_error_is_a_validation_error():
    assert validate(".gitlab-ci.yml", "stages: [build\n")[0].startswith("not valid YAML")


def test_on_key_stays_a_string(built):
    for p in (p for p in built.values() if p.github):
        for path in (".github/workflows/ci.yml", ".github/workflows/deploy.yml"):
            data = _jobs(p, path)
            assert "on" in data and True not in data


def test_github_triggers_gates_and_chain(built):
    d = _jobs(built["shop-platform"], ".github/workflows/deploy.yml")
    assert d["on"]["push"] == {"branches": ["main"], "tags": ["v*.*.*"]}
    jobs = d["jobs"]
    assert jobs["ci"]["uses"] == "./.github/workflows/ci.yml"
    assert jobs["deploy-dev"]["needs"] == ["build"] and jobs["deploy-staging"]["needs"] == ["deploy-dev"]
    assert jobs["deploy-staging"]["if"] == "github.ref == 'refs/heads/main' || startsWith(github.ref, 'refs/tags/')"
    prod = jobs["deploy-prod"]
    assert prod["needs"] == ["deploy-staging"], "production deploys only what staging deployed in the same (tag) pipeline"
    assert prod["if"] == "startsWith(github.ref, 'refs/tags/')"
    assert prod["environment"]["name"] == "prod"
    assert jobs["notify"]["if"] == "always()" and set(jobs["notify"]["needs"]) == set(jobs) - {"notify"}
    assert "VERSION" in d["env"] and "COMMIT_SHA" in d["env"]
    ci = _jobs(built["shop-platform"], ".github/workflows/ci.yml")
    assert set(ci["jobs"]) == {"validate", "test", "dependency-audit", "sast", "secret-scan", "cost-check"}


def test_gitlab_production_gate_blocks(built):
    for p in (p for p in built.values() if p.gitlab):
        d = _jobs(p, ".gitlab-ci.yml")
        prod = d["deploy-prod"]
        assert prod["rules"] == [{"if": "$CI_COMMIT_TAG =~ /^v.+\\..+\\..+$/", "when": "manual"}]
        assert prod["allow_failure"] is False and "when" not in prod
        assert prod["environment"]["deployment_tier"] == "production"
        assert d["deploy-staging"]["rules"] == [{"if": '$CI_COMMIT_BRANCH == "main"'}, {"if": "$CI_COMMIT_TAG =~ /^v.+\\..+\\..+$/"}]
        assert {"job": "deploy-staging", "artifacts": False} in prod["needs"]
        assert d["rollback-prod"]["rules"][0]["when"] == "on_failure"
        assert d["notify-failure"]["rules"][0]["when"] == "on_failure"


@pytest.mark.parametrize("name, rollback", [
    ("weather-api", "heroku rollback"),
    ("shop-platform", "rollout undo deployment/"),
    ("agent-orchestrator", "aws lambda update-alias"),
])
def test_rollback_uses_platform_command(name, rollback, built):
    p = built[name]
    steps = _jobs(p, ".github/workflows/deploy.yml")["jobs"]["deploy-staging"]["steps"]
    smoke = next(s for s in steps if s.get("id") == "smoke")
    assert "curl" in smoke["run"] and "grep -qF" in smoke["run"]
    rb = [s for s in steps if s["name"].startswith("Roll back")]
    assert rb and all("steps.started.outcome == 'success'" in s["if"] for s in rb)
    assert all(rollback in s["run"] or "set image cronjob/" in s["run"] for s in rb) and any(rollback in s["run"] for s in rb)
    gl = _jobs(p, ".gitlab-ci.yml")
    assert any(rollback in line for line in gl["rollback-staging"]["script"])
    assert any(".deploy/started" in line for line in gl["deploy-staging"]["script"])


def test_container_scan_only_when_containerized(built):
    assert "trivy image" in built["shop-platform"].files[".github/workflows/deploy.yml"]
    assert "trivy" not in built["weather-api"].files[".github/workflows/deploy.yml"]
    assert "not containerized" in pipeline.render_pipeline(built["weather-api"])


def test_ci_secrets_come_from_the_inventory(built):
    secrets = {s.name: s for s in built["weather-api"].secrets}
    assert secrets["HEROKU_API_KEY"].in_inventory and secrets["HEROKU_API_KEY"].store == "GitHub Actions secret"
    assert not secrets["SLACK_WEBHOOK_URL"].in_inventory
    text = pipeline.render_pipeline(built["weather-api"])
    assert "secrets.md#required-secrets" in text and "Required reviewers" in text


def _with_budget(params: ProjectParams, env: str, usd: float) -> ProjectParams:
    data = params.model_dump()
    data["cost"]["budgets"][env]["monthly_usd"] = usd
    moved = ProjectParams.model_validate(data, context={"base_dir": params.base_dir})
    return moved


def test_cost_gate_fails_over_budget():
    import subprocess
    import sys

    from opslib.cli import main
    from opslib.documents.cost_plan import cost_gate

    params = load_params(PARAMS / "weather-api.yaml")
    ok, report = cost_gate(params)
    assert ok and "| prod |" in report and "FAIL" not in report
    ok, report = cost_gate(_with_budget(params, "prod", 100))
    assert not ok and "FAIL: over budget" in report
    assert main(["cost-gate", str(PARAMS / "weather-api.yaml")]) == 0
    # the generated CI files call it as a module
    done = subprocess.run([sys.executable, "-m", "opslib.costgate", str(PARAMS / "weather-api.yaml")], capture_output=True, text=True)
    assert done.returncode == 0 and "## Cost check: weather-api" in done.stdout
    assert subprocess.run([sys.executable, "-m", "opslib.costgate"], capture_output=True).returncode == 2


def test_doc_checks_pass_on_every_example(built):
    for name, p in built.items():
        findings = pipeline.check_pipeline_doc(pipeline.render_pipeline(p), environments=["dev", "staging", "prod"])
        assert [f.item for f in findings] == list(pipeline.ITEMS.values())
        assert all(f.status == "pass" for f in findings), (name, findings)


@pytest.mark.parametrize("cut, item", [
    ("## Environments", "deploy"),
    ("## Approval Gates", "approval"),
    ("## Notifications", "notify"),
])
def test_doc_checks_fail_without_their_section(cut, item, built):
    text = pipeline.render_pipeline(built["weather-api"])
    start = text.index(cut)
    end = text.index("\n## ", start + 3)
    findings = {f.item: f for f in pipeline.check_pipeline_doc(text[:start] + text[end + 1:], environments=["staging", "prod"])}
    assert findings[pipeline.ITEMS[item]].status == "fail"


def test_doc_checks_on_a_hand_written_document():
    text = "# Pipeline\n\n## Build\n\nNothing yet.\n"
    findings = pipeline.check_pipeline_doc(text)
    assert all(f.status == "fail" for f in findings)


def test_write_is_atomic_deterministic_and_checked(tmp_path, monkeypatch):
    params = load_params(PARAMS / "agent-orchestrator.yaml")
    status = check_status(params)
    w = pipeline.write(params, status, tmp_path / "a")
    pipeline.write(params, status, tmp_path / "b")
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    assert [str(f) for f in files] == ["ci/.github/workflows/ci.yml", "ci/.github/workflows/deploy.yml", "ci/.gitlab-ci.yml", "pipeline.md"]
    assert all((tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes() for f in files)
    assert w.path == tmp_path / "a" / "pipeline.md"
    rechecked = [f for f in pipeline.check_written(tmp_path / "a", params) if f.area != "truth"]  # truth: tests/test_truth.py
    assert len(rechecked) == 11 and all(f.status == "pass" for f in rechecked)
    (tmp_path / "a" / "ci" / ".gitlab-ci.yml").write_text("stages: [x]\njob:\n  when: sometimes\n")
    assert [f.status for f in pipeline.check_written(tmp_path / "a", params) if f.area != "truth"].count("fail") == 1
    monkeypatch.setattr(pipeline, "validate_files", lambda files: [pipeline.Validation(p, "github", ["broken"]) for p in files])
    with pytest.raises(ChecksFailed):
        pipeline.write(params, status, tmp_path / "c")
    assert not (tmp_path / "c").exists()


def test_ci_section_schema_and_overrides():
    schema = CiSection.model_json_schema()
    assert all(prop.get("description") for prop in schema["properties"].values())
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        CiSection(unknown=1)
    ci = CiSection(systems=["gitlab"], coverage_min_pct=90, languages=["go"], production_approvers=["Release managers"])
    base = load_params(PARAMS / "weather-api.yaml")
    params = base.model_copy(update={"ci": ci})  # the project with this ci: section
    params._path = base.path
    p = pipeline.build(params)
    assert list(p.files) == [".gitlab-ci.yml"] and "go test" in p.files[".gitlab-ci.yml"]
    assert "if ($3 < 90)" in p.files[".gitlab-ci.yml"] and "Release managers" in pipeline.render_pipeline(p)


def test_explorer_dropdowns():
    from opslib.notebook.pipeline import pipeline_explorer

    box = pipeline_explorer(PARAMS / "shop-platform.yaml")
    (system, strategy, file), out = box.children[0].children, box.children[1]
    assert "deploy-prod" in out.value and "<li>fail:" not in out.value
    system.value = "GitLab CI"
    assert list(file.options) == [".gitlab-ci.yml", "canary/prod.yaml"] and "allow_failure: false" in out.value
    strategy.value = "recreate"
    assert "smoke" in out.value and "<li>fail:" not in out.value


@pytest.mark.kernel
def test_notebook_batch(tmp_path):

    out = tmp_path / "40.ipynb"
    execute_notebook(
        str(REPO / "notebooks" / "40-cicd-pipeline.ipynb"), str(out),
        parameters={"params_path": str(PARAMS / "weather-api.yaml"), "out_dir": str(tmp_path / "build"), "interactive": False},
        kernel_name="python3", progress_bar=False, cwd=str(REPO / "notebooks"),
    )
    nb = json.loads(out.read_text())
    outputs = [o for c in nb["cells"] if c["cell_type"] == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o["output_type"] == "error"]
    for rel in ("pipeline.md", "ci/.gitlab-ci.yml", "ci/.github/workflows/deploy.yml", "alerts.yml", "alerts-test.yml"):
        assert (tmp_path / "build" / rel).is_file(), rel


def test_a_job_only_canary_project_on_kubernetes_has_no_empty_rollout_wait(tmp_path):
    """A project of scheduled jobs only has no Rollout to wait for: the canary wait step is left out
    (it rendered `for s in ; do`, which does not parse, and failed the pipeline's checks)."""
    from projects import make_project, outcome

    path = make_project(tmp_path, platform="kubernetes", kinds=("job",), ci=("github", "gitlab"), strategy="canary")
    result = outcome(path, tmp_path / "build")
    assert not result.refused and not result.problems, result.problems
    assert "for s in ;" not in (tmp_path / "build" / "gen-project" / "pipeline.md").read_text()
