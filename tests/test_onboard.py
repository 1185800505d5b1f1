"""From an existing repository (or an empty folder) to a first plan: `opslib init`, the
readable schema, `opslib check` on the document's own environments, the kept failing draft.

The contract of `opslib init`: the file it writes starts with the yaml-language-server line,
describes each field, marks each guess with a QUESTION, validates and renders with every
check passing; with --from every detected value names the file and line it came from, and no
secret value of the repository reaches the file or the output.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
from pathlib import Path

import pytest

from opslib.cli import main
from opslib.params.models import load_params
from opslib.params.reference import field_doc, fields, markdown, schema_text
from opslib.run.init import SCHEMA_LINE, Choices, ask_choices

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "repos"
GITHUB = "ghp_" + "aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789"  # built here: no token in the repository
SOURCE = re.compile(r"  # from (?P<file>[^:\s]+):(?P<line>\d+)$")


def cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def init_and_render(tmp_path: Path, name: str, *flags: str) -> tuple[Path, str]:
    code, out, err = cli("init", name, "--no-input", "--dir", str(tmp_path), *flags)
    assert code == 0, err
    path = tmp_path / "parameters" / f"{name}.yaml"
    code, vout, err = cli("validate", str(path))
    assert code == 0, err
    code, rout, err = cli("render", str(path), "--out", str(tmp_path / "build"))
    assert code == 0, err
    assert re.search(r"\(\d+ checks passed\)", rout), rout
    assert (tmp_path / "build" / name / "runbook.md").is_file() and (tmp_path / "build" / name / "readiness.md").is_file()
    return path, out + vout + rout


# --- opslib init NAME ------------------------------------------------------------------------

@pytest.mark.parametrize("flags", [
    (),
    ("--platform", "heroku", "--kind", "web,worker,job", "--datastore", "heroku-postgres"),
    ("--platform", "aws-lambda", "--kind", "web", "--kind", "job", "--ci", "gitlab"),
    ("--platform", "aws-ecs-fargate", "--kind", "web,worker", "--datastore", "aws-rds-postgresql", "--datastore", "aws-sqs"),
    ("--platform", "google-cloud-run", "--environments", "qa,live"),
    ("--platform", "vm-systemd", "--kind", "worker", "--store", "vault", "--ci", "github,gitlab"),
], ids=["defaults", "heroku", "lambda", "ecs", "cloud-run", "vm-worker"])
def test_init_from_an_empty_folder_validates_and_renders(tmp_path, flags):
    path, _ = init_and_render(tmp_path, "shop-api", *flags)
    params = load_params(path)
    if "--platform" in flags:
        assert params.platform == flags[flags.index("--platform") + 1]
    if "--environments" in flags:
        assert [e.name for e in params.environments] == ["qa", "live"]
    # what it created beside the parameters: status.json, the spec skeletons, the schema
    for rel in ("docs/status.json", "docs/architecture.md", "docs/plan.md", "docs/spec.md", "schema/parameters.schema.json"):
        assert (tmp_path / rel).is_file(), rel
    assert (tmp_path / "schema" / "parameters.schema.json").read_text() == schema_text()


def test_the_file_is_commented_field_by_field(tmp_path):
    cli("init", "shop-api", "--no-input", "--dir", str(tmp_path), "--platform", "kubernetes")
    text = (tmp_path / "parameters" / "shop-api.yaml").read_text()
    lines = text.splitlines()
    assert lines[0] == SCHEMA_LINE
    # each top-level key is preceded by its description from the models
    for key in ("project", "platform", "environments", "services", "monitoring", "contacts", "deploy", "secrets", "ci"):
        at = lines.index(next(ln for ln in lines if ln.startswith(f"{key}:")))
        above = [ln for ln in lines[max(0, at - 6):at] if ln.startswith("# ")]
        assert any(field_doc(key).description.split()[0] in ln for ln in above), key  # type: ignore[union-attr]
    assert "# choices: aws-ecs-fargate, aws-lambda, azure-container-apps, google-cloud-run, heroku, kubernetes, vm-systemd" in text
    assert "# choices: rolling, blue-green, canary, recreate" in text
    questions = [ln for ln in lines[6:] if "# QUESTION" in ln]  # below the header
    assert len(questions) >= 10 and f"({len(questions)} of them)" in text
    assert "  # QUESTION (as above)" in text  # a guess repeated in a later item is marked on its line
    # the flags the user gave carry no question; the guesses do
    assert re.search(r"# QUESTION: where it runs\nplatform:", text) is None
    assert re.search(r"# QUESTION: the port the service listens on\n\s+port: 8080", text)


def test_init_refuses_to_overwrite(tmp_path):
    target = tmp_path / "parameters" / "shop-api.yaml"
    target.parent.mkdir()
    target.write_text("mine\n")
    code, out, err = cli("init", "shop-api", "--no-input", "--dir", str(tmp_path))
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "already exists" in err and str(target) in err and "Traceback" not in err
    assert target.read_text() == "mine\n"
    assert not (tmp_path / "docs").exists()  # nothing else written either


@pytest.mark.parametrize("flags, named", [
    (("--platform", "openshift"), "--platform openshift"),
    (("--kind", "daemon"), "--kind daemon"),
    (("--platform", "google-cloud-run", "--kind", "cronjob"), "--kind cronjob"),
    (("--platform", "aws-lambda", "--store", "heroku-config-vars"), "--store heroku-config-vars"),
    (("--datastore", "oracle"), "--datastore oracle"),
    (("--ci", "jenkins"), "--ci jenkins"),
])
def test_init_refuses_a_choice_the_catalogs_do_not_know(tmp_path, flags, named):
    code, _out, err = cli("init", "shop-api", "--no-input", "--dir", str(tmp_path), *flags)
    assert code == 2 and named in err and "Traceback" not in err
    assert not (tmp_path / "parameters").exists()


def test_init_asks_in_a_terminal(tmp_path, monkeypatch):
    answers = iter(["Sells tea online.", "Tea Team", "heroku", "web, worker", "", "", "heroku-postgres"])
    asked: list[tuple[str, object]] = []

    def fake_input(prompt: str) -> str:
        asked.append((prompt, None))
        return next(answers)

    monkeypatch.setattr("builtins.input", fake_input)
    monkeypatch.setattr("sys.stdin", type("Tty", (io.StringIO,), {"isatty": lambda self: True})())
    code, out, err = cli("init", "tea-shop", "--dir", str(tmp_path), "--ci", "gitlab")
    assert code == 0, err
    assert len(asked) == 7  # every question but the one --ci answered
    assert "choices: aws-ecs-fargate, aws-lambda" in err  # the choices are shown
    params = load_params(tmp_path / "parameters" / "tea-shop.yaml")
    assert params.platform == "heroku" and [s.kind for s in params.services] == ["web", "worker"]
    assert params.project.description == "Sells tea online." and params.project.team == "Tea Team"
    assert [d.service for d in params.datastores] == ["heroku-postgres"] and params.ci is not None and params.ci.systems == ["gitlab"]


def test_a_wrong_answer_is_asked_again():
    replies = iter(["", "", "openshift", "kubernetes", "", "", "", "", ""])
    choices = ask_choices(Choices(name="x"), lambda q, options, default: next(replies))
    assert choices.platform == "kubernetes"


# --- opslib init --from PATH -------------------------------------------------------------------

EXPECTED = {  # fixture: (platform, {service: kind}, secret names, datastores, expected "value  # from file:line" fragments)
    "heroku-app": ("heroku", {"web": "web", "worker": "worker"}, {"DATABASE_URL", "REDIS_URL", "SESSION_SECRET_KEY", "MAILGUN_API_KEY", "SENTRY_DSN"},
                   {"heroku-postgres", "heroku-redis"},
                   ["platform: heroku  # from Procfile:1", "path: /healthz  # from app/main.py:10", "path: /ready  # from app/main.py:15",
                    "description: Stores and syncs personal notes for the Acme notes apps.  # from app.json:3",
                    'systems: ["github"]  # from .github/workflows/ci.yml:1']),
    "k8s-helm": ("kubernetes", {"orders": "web", "orders-reconcile": "job"}, {"DATABASE_URL", "STRIPE_API_KEY"}, set(),
                 ["port: 8080  # from charts/orders/values.yaml:7", "path: /healthz  # from charts/orders/values.yaml:10",
                  "path: /readyz  # from charts/orders/values.yaml:14", "image: ghcr.io/acme/orders  # from charts/orders/values.yaml:3",
                  "schedule: 15 3 * * *  # from deploy/k8s/cronjob.yaml:7", "repository: https://github.com/acme/orders  # from go.mod:1",
                  "url: https://orders.acme-shop.com  # from charts/orders/values.yaml:19", 'systems: ["gitlab"]  # from .gitlab-ci.yml:1']),
    "ecs-service": ("aws-ecs-fargate", {"billing-api": "web"}, {"DATABASE_URL", "SENDGRID_API_KEY"}, {"aws-rds-postgresql"},
                    ["port: 3000  # from infra/task-definition.json:11", "path: /health  # from infra/task-definition.json:13",
                     "region: eu-west-1  # from infra/task-definition.json:23",
                     "image: 123456789012.dkr.ecr.eu-west-1.amazonaws.com/billing/api  # from infra/task-definition.json:10",
                     "repository: https://github.com/acme/billing-api  # from package.json:5"]),
    "cloud-run-service": ("google-cloud-run", {"geo-lookup": "web"}, {"MAPS_API_KEY"}, set(),
                          ["region: europe-west1  # from service.yaml:6", "port: 8080  # from service.yaml:13", "path: /healthz  # from service.yaml:21",
                           "image: europe-docker.pkg.dev/acme-geo/geo/geo-lookup  # from service.yaml:11",
                           "architecture: ../docs/architecture.md  # from docs/architecture.md"]),
    "serverless-lambda": ("aws-lambda", {"api": "web", "cleanup": "job"}, {"CDN_SIGNING_KEY"}, set(),
                          ["region: us-west-2  # from serverless.yml:6", "path: /healthz  # from serverless.yml:18",
                           "schedule: 30 4 * * *  # from serverless.yml:23", "command: src/cleanup.handler  # from serverless.yml:21"]),
    "sam-lambda": ("aws-lambda", {"orders-api": "web", "nightly": "job"}, {"PAYMENT_API_KEY"}, {"aws-dynamodb"},
                   ["platform: aws-lambda  # from template.yaml:2", "path: /health  # from template.yaml:19",
                    "schedule: 0 3 * * *  # from template.yaml:29", "command: nightly.handler  # from template.yaml:24",
                    "service: aws-dynamodb  # from template.yaml:31"]),
}


def _copy(src: Path, dest: Path) -> Path:
    import shutil

    shutil.copytree(src, dest)
    return dest


@pytest.mark.parametrize("fixture", sorted(EXPECTED))
def test_a_repository_becomes_parameters_that_validate_and_render(tmp_path, fixture):
    repo = _copy(FIXTURES / fixture, tmp_path / fixture)
    name = fixture.replace("-service", "").replace("-app", "")
    path, out = init_and_render(repo, name, "--from", str(repo))
    platform, services, secrets, datastores, fragments = EXPECTED[fixture]
    params = load_params(path)
    assert params.platform == platform
    assert {s.name: s.kind for s in params.services} == services
    assert params.secrets is not None and {i.env_var for i in params.secrets.items} == secrets
    assert {d.service for d in params.datastores} == datastores
    text = path.read_text()
    for fragment in fragments:
        assert fragment in text, fragment
    # every detected value names a file of the repository and a line it has, which states the value
    traced = 0
    for line in text.splitlines():
        m = SOURCE.search(line)
        if not m:
            continue
        source = repo / m["file"]
        assert source.is_file() and source.resolve().is_relative_to(repo.resolve()), line
        source_lines = source.read_text().splitlines()
        assert 1 <= int(m["line"]) <= len(source_lines), line
        key, value = (part.strip().strip("'\"[]") for part in line[: m.start()].split(":", 1))
        said = source_lines[int(m["line"]) - 1]
        if key.lstrip("- ") in ("port", "path", "image", "region", "env_var", "description"):  # stated on that very line
            assert value in said, (line, said)
        traced += 1
    assert traced >= 8
    assert "value(s) found in" in out and "QUESTION(s) to check" in out


def test_without_a_repository_detection_says_nothing_was_found(tmp_path):
    code, out, err = cli("init", "empty", "--no-input", "--dir", str(tmp_path), "--from", str(tmp_path))
    assert code == 0, err
    assert "0 value(s) found" in out and "QUESTION(s) to check" in out
    assert "# from " not in (tmp_path / "parameters" / "empty.yaml").read_text().split("\n", 6)[-1]


def test_from_a_path_that_is_not_a_folder(tmp_path):
    code, _out, err = cli("init", "x", "--no-input", "--dir", str(tmp_path), "--from", str(tmp_path / "nope"))
    assert code == 2 and "--from" in err and "not a folder" in err and err.count("\n") == 1


def test_hostile_repository(tmp_path):
    """Symbolic links are not followed (nothing outside PATH is read), secret values never reach
    the file or the output, huge and malformed files are skipped by name."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "Procfile").write_text("web: gunicorn app:app\nclock: python clock.py\n")
    (outside / "deployment.yaml").write_text("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: stolen}\n"
                                             "spec: {template: {spec: {containers: [{name: x, image: ghcr.io/evil/stolen}]}}}\n")
    repo = tmp_path / "repo"
    (repo / "app").mkdir(parents=True)
    os.symlink(outside / "Procfile", repo / "Procfile")
    os.symlink(outside, repo / "linked")
    (repo / ".env").write_text(f"GITHUB_TOKEN={GITHUB}\n")  # real values live here: never opened
    (repo / ".env.example").write_text(f"GITHUB_TOKEN={GITHUB}\nAPI_TOKEN=\n")
    (repo / "app" / "main.py").write_text(f'import os\nTOKEN = os.environ["GITHUB_TOKEN"]  # {GITHUB}\n')
    (repo / "service.yaml").write_text(
        "apiVersion: serving.knative.dev/v1\nkind: Service\nmetadata: {name: api}\nspec:\n  template:\n    spec:\n      containers:\n"
        f"        - image: user:{GITHUB}@ghcr.io/acme/api:1.0\n          ports: [{{containerPort: 8080}}]\n"
        f"          env:\n            - name: LOG_TOKEN\n              value: {GITHUB}\n")
    (repo / "bad.yaml").write_text("a: [unclosed\n")
    os.symlink(outside / "Procfile", repo / f"{GITHUB}.yaml")  # a token in a file name: redacted where the name is printed
    (repo / "bomb.yaml").write_text("a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
        f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n" for i in range(8)))
    (repo / "huge.py").write_text("x = 1\n" * 200_000)
    (repo / "bin.json").write_bytes(b"\xff\xfe" * 100)
    code, out, err = cli("init", "api", "--no-input", "--dir", str(repo), "--from", str(repo))
    assert code == 0, err
    text = (repo / "parameters" / "api.yaml").read_text()
    for where in (text, out, err):
        assert GITHUB not in where and "Traceback" not in where
    assert "stolen" not in text and "gunicorn" not in text and "evil" not in text  # the links were not followed
    assert "Procfile: a symbolic link" in out and "linked: a symbolic link" in out
    assert "bad.yaml: not valid YAML" in out and "bomb.yaml: not valid YAML" in out
    params = load_params(repo / "parameters" / "api.yaml")
    assert params.platform == "google-cloud-run"
    assert params.services[0].image != "" and "ghcr.io/acme/api" not in (params.services[0].image or "")  # credentials in it: dropped
    assert params.secrets is not None and {i.env_var for i in params.secrets.items} == {"GITHUB_TOKEN", "API_TOKEN", "LOG_TOKEN"}


def test_parameters_directory_links_are_relative_to_the_file(tmp_path):
    repo = _copy(FIXTURES / "cloud-run-service", tmp_path / "geo")
    out_dir = tmp_path / "elsewhere"
    code, _out, err = cli("init", "geo", "--no-input", "--dir", str(out_dir), "--from", str(repo))
    assert code == 0, err
    params = load_params(out_dir / "parameters" / "geo.yaml")
    assert (params.base_dir / params.project.links.architecture).resolve() == (repo / "docs" / "architecture.md").resolve()


# --- the readable schema ---------------------------------------------------------------------

def test_the_committed_schema_is_what_opslib_schema_prints():
    code, out, _ = cli("schema")
    assert code == 0
    assert (REPO / "schema" / "parameters.schema.json").read_text(encoding="utf-8") == out, \
        "schema/parameters.schema.json is stale: run `opslib schema > schema/parameters.schema.json`"


def test_docs_parameters_md_is_in_step_with_the_models():
    code, out, _ = cli("schema", "--markdown")
    assert code == 0 and out == markdown()
    assert (REPO / "docs" / "parameters.md").read_text(encoding="utf-8") == out, \
        "docs/parameters.md is stale: run `opslib schema --markdown > docs/parameters.md`"


def test_the_reference_lists_every_field_with_its_description():
    text = markdown()
    paths = [f.path for f in fields()]
    assert {"project.name", "services.[].health.path", "secrets.items.[].store", "cost.components.[].quantity.count", "ci.systems"} <= set(paths)
    for f in fields():
        assert f"| `{f.path}` |" in text, f.path
        assert f.description, f"{f.path} has no description in the models"
    assert field_doc("platform") is not None and "heroku" in field_doc("platform").choices  # type: ignore[union-attr]
    assert field_doc("project.name").required and field_doc("ci.default_branch").default == '"main"'  # type: ignore[union-attr]


def test_every_parameters_file_names_the_schema():
    for path in sorted((REPO / "parameters").glob("*.yaml")):
        assert path.read_text(encoding="utf-8").splitlines()[0] == SCHEMA_LINE, path.name


# --- opslib check reads the document's environments ---------------------------------------------

def test_check_judges_a_runbook_for_its_own_environments(tmp_path):
    path, _ = init_and_render(tmp_path, "tea", "--environments", "qa,preprod,live")
    runbook = tmp_path / "build" / "tea" / "runbook.md"
    code, out, err = cli("check", str(runbook))
    assert code == 0, out + err
    assert "deployment procedure for qa, preprod, live" in out
    code, out, _ = cli("check", str(runbook), "--env", "dev,qa")  # --env still wins
    assert code == 1 and "no deployment procedure for dev" in out


def test_check_still_wants_dev_staging_prod_from_a_runbook_that_names_none(tmp_path):
    doc = tmp_path / "runbook.md"
    doc.write_text("# Runbook\n\n## Deployment\n\nRun the script.\n\n## Operations\n")
    code, out, _ = cli("check", str(doc))
    assert code == 1 and "no deployment procedure for dev, staging, prod" in out


# --- the kept failing draft -----------------------------------------------------------------------

def test_a_failing_draft_is_not_kept_when_it_would_hold_a_secret(tmp_path):
    from opslib.check.findings import Finding
    from opslib.documents.contract import Draft, keep_failed

    bad = [Finding("an item", "fail", "made to fail", 3)]
    kept = keep_failed(Draft("runbook", "runbook.md", "# Runbook\n\nok\n", bad), tmp_path / "x.failed")
    assert kept is not None and kept.read_text().startswith("> **FAILING DRAFT — runbook.md failed 1 quality-bar check(s)")
    assert "> - [an item] made to fail (line 7)" in kept.read_text()  # line 3 of the draft, below the 4-line banner
    assert kept.read_text().splitlines()[6] == "ok"
    assert keep_failed(Draft("runbook", "runbook.md", f"# Runbook\n\ntoken {GITHUB}\n", bad), tmp_path / "y.failed") is None
    assert not (tmp_path / "y.failed").exists()
    yml = keep_failed(Draft("alerts", "alerts.yml", "groups: []\n", bad), tmp_path / "z.failed")
    assert yml is not None and yml.read_text().startswith("# FAILING DRAFT") and yml.read_text().splitlines()[2] == "groups: []"


# --- status.json is optional ------------------------------------------------------------------------

def test_without_status_json_the_documents_say_it_was_not_checked(tmp_path):
    code, _out, err = cli("init", "tea", "--no-input", "--dir", str(tmp_path))
    assert code == 0, err
    path = tmp_path / "parameters" / "tea.yaml"
    path.write_text("".join(ln for ln in path.read_text().splitlines(keepends=True) if not ln.startswith("  status_file:")))
    (tmp_path / "docs" / "status.json").unlink()
    code, out, err = cli("validate", str(path))
    assert code == 0 and "status.json: not linked (project.status_file), so the project's status was not checked" in out, err
    code, out, err = cli("render", str(path), "--out", str(tmp_path / "build"))
    assert code == 0, err
    for doc in ("runbook.md", "secrets.md", "readiness.md"):
        assert "status.json: not linked (project.status_file), so the project's status was not checked" in (tmp_path / "build" / "tea" / doc).read_text()
    readiness = (tmp_path / "build" / "tea" / "readiness.md").read_text()
    assert re.search(r"\| status\.json was checked before starting work \| DoD \| (yes|no) \| not measured \|", readiness)
    # a release is planned behind the status.json gate: plan refuses, in one sentence
    code, _out, err = cli("plan", str(path), "--env", "prod", "--version", "1.0.0", "--out", str(tmp_path / "build"))
    assert code == 2 and "project.status_file is not set" in err and err.count("\n") == 1


def test_what_a_repository_tests_or_shows_is_not_what_it_deploys(tmp_path):
    """Fixtures and examples inside a repository describe other projects: detection skips them,
    and spec documents count only at the top or in docs/."""
    repo = tmp_path / "repo"
    for folder in ("tests/fixtures/app", "examples/demo", "src/deep/docs"):
        (repo / folder).mkdir(parents=True)
        (repo / folder / "architecture.md").write_text("# someone else's\n")
        if not folder.startswith("src"):
            (repo / folder / "Procfile").write_text("web: gunicorn demo:app\n")
    (repo / "service.yaml").write_text("apiVersion: serving.knative.dev/v1\nkind: Service\nmetadata: {name: api}\n"
                                       "spec: {template: {spec: {containers: [{image: ghcr.io/acme/api, ports: [{containerPort: 9000}]}]}}}\n")
    code, _out, err = cli("init", "api", "--no-input", "--dir", str(repo), "--from", str(repo))
    assert code == 0, err
    params = load_params(repo / "parameters" / "api.yaml")
    assert params.platform == "google-cloud-run" and [(s.name, s.port) for s in params.services] == [("api", 9000)]
    assert params.project.links.architecture == "../docs/architecture.md"  # the skeleton, not a fixture's
    assert "Procfile" not in (repo / "parameters" / "api.yaml").read_text()


def _plain(node):
    import datetime

    if isinstance(node, dict):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    return node.isoformat() if isinstance(node, datetime.date | datetime.datetime) else node


def test_what_an_editor_validates_against_the_schema_is_what_load_params_accepts(tmp_path):
    """The yaml-language-server line makes editors validate with schema/parameters.schema.json:
    the examples and init's output pass it (shorthands like `count: 1` included), and a mistake
    load_params refuses is flagged there too."""
    import json

    import yaml
    from jsonschema import Draft202012Validator

    validator = Draft202012Validator(json.loads((REPO / "schema" / "parameters.schema.json").read_text()))
    cli("init", "tea", "--no-input", "--dir", str(tmp_path), "--platform", "heroku", "--kind", "web,worker,job", "--datastore", "heroku-postgres")
    files = [*sorted((REPO / "parameters").glob("*.yaml")), tmp_path / "parameters" / "tea.yaml"]
    for path in files:
        data = _plain(yaml.safe_load(path.read_text()))
        assert [list(e.absolute_path) for e in validator.iter_errors(data)] == [], path.name
    data["services"][0]["kind"] = "daemon"
    data["deploy"]["expected_minutes"] = "ten"
    assert {tuple(e.absolute_path)[:2] for e in validator.iter_errors(data)} == {("services", 0), ("deploy", "expected_minutes")}


def test_every_web_service_of_a_kubernetes_repository(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    for name, port in (("api", 8080), ("admin", 9090)):
        (repo / f"{name}.yaml").write_text(
            f"apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {name}}}\nspec:\n  template:\n    spec:\n      containers:\n"
            f"        - name: {name}\n          image: ghcr.io/acme/{name}:1.0\n          ports: [{{containerPort: {port}}}]\n"
            f"          readinessProbe: {{httpGet: {{path: /readyz, port: {port}}}}}\n")
    path, _ = init_and_render(repo, "shop", "--from", str(repo))
    params = load_params(path)
    assert {(s.name, s.port, s.readiness.path if s.readiness else None) for s in params.services} == {("admin", 9090, "/readyz"), ("api", 8080, "/readyz")}
    text = path.read_text()
    assert "port: 9090  # from admin.yaml:10" in text and re.search(r"# QUESTION: the health endpoint's path.*\n\s+path: /healthz\n", text)
    # one web service at the environment's URL, the other at its own endpoint (validation refuses two at one URL)
    assert [s.route.path for s in params.services if s.route] == [f"/{params.services[1].name}"] and params.services[0].route is None
    assert "# QUESTION: where the service is reachable" in text
