import re

import pytest
from conftest import EXAMPLES, PARAMS, REPO
from projects import make_project, supports

from opslib import check_runbook, check_status, load_params
from opslib.catalog.catalog import load_platform, open_catalog, platform_names
from opslib.check.findings import failed
from opslib.check.truth import truth_report
from opslib.documents.runbook import build, preview, render_manual, render_runbook, with_platform
from opslib.errors import ParamsError


def generate(name, **kw):
    params = load_params(PARAMS / f"{name}.yaml")
    return params, render_runbook(build(params, check_status(params), doc_dir=REPO / "build" / name, **kw))


@pytest.mark.parametrize("name", EXAMPLES)
def test_golden_runbook(name, golden):
    params = load_params(PARAMS / f"{name}.yaml")
    model = build(params, check_status(params), doc_dir=REPO / "build" / name)
    golden(f"{name}/runbook.md", render_runbook(model))
    golden(f"{name}/procedures.md", render_manual(model))


@pytest.mark.parametrize("name", EXAMPLES)
def test_examples_pass_every_check(name):
    params, text = generate(name)
    findings = check_runbook(text, path=REPO / "build" / name / "runbook.md", environments=[e.name for e in params.environments], strict=True)
    assert not failed(findings), failed(findings)


@pytest.mark.parametrize("name", EXAMPLES)
def test_deterministic(name):
    assert generate(name)[1] == generate(name)[1]


@pytest.mark.parametrize("name", EXAMPLES)
def test_project_names_filled_in_no_template_residue(name):
    params, text = generate(name)
    assert "{{" not in text and "{%" not in text
    for env in params.environments:
        assert env.url is None or env.url in text
    for svc in params.services:
        assert svc.name in text


def test_sections_in_order():
    _, text = generate("weather-api")
    heads = re.findall(r"^## (\w+)", text, re.M)
    assert heads == ["Quick", "Deployment", "Operations", "Monitoring", "Alerts", "Troubleshooting", "Rollback"]


def test_status_and_as_of_are_stated():
    _, text = generate("weather-api")
    assert "**As of**: 2026-11-02" in text
    assert re.search(r"status\.json: active / \w+, updated 2026-", text)


def test_focus_environment_changes_operations_commands():
    params = load_params(PARAMS / "shop-platform.yaml")
    status = check_status(params)
    prod = render_runbook(build(params, status))
    dev = render_runbook(build(params, status, focus="dev"))
    assert "Troubleshooting and Rollback target **prod**" in prod and "Troubleshooting and Rollback target **dev**" in dev
    def ops(text):
        return text.split("## Operations")[1].split("## Monitoring")[0]

    assert ops(prod) != ops(dev)


def hosted(platform, tmp_path):
    """shop-platform moved to `platform` (its services have container images); where it cannot
    run (Heroku takes one web service per app, Lambda runs a job for at most 15 minutes) a
    generated project with a web service, a worker and a scheduled job stands in."""
    params = load_params(PARAMS / "shop-platform.yaml")
    try:
        return with_platform(params, platform)
    except ParamsError:  # Heroku: one web service per app; Lambda: runs of at most 15 minutes
        kinds = ("web", *(k for k in ("worker", "job") if supports(platform, k)))
        return load_params(make_project(tmp_path, platform=platform, kinds=kinds, datastores=("aws-sqs",), dependencies=1))


def test_a_platform_that_cannot_run_the_project_says_which_field():
    params = load_params(PARAMS / "shop-platform.yaml")
    with pytest.raises(ParamsError, match=r"services\[5\]\.kind: heroku takes at most 1 web service"):
        with_platform(params, "heroku")
    with pytest.raises(ParamsError, match=r"services\[4\]\.timeout_minutes: 30 is longer than a run can last on aws-lambda"):
        with_platform(params, "aws-lambda")


@pytest.mark.parametrize("platform", platform_names())
def test_every_platform_yields_a_passing_runbook(platform, tmp_path):
    params = hosted(platform, tmp_path)
    status = check_status(params)
    draft = preview(params, status)
    assert not failed(draft.findings), failed(draft.findings)
    assert load_platform(platform).title in draft.markdown


def test_platform_switch_that_cannot_work_says_why():
    params = load_params(PARAMS / "weather-api.yaml")
    assert not any(s.image for s in params.services)  # a Heroku slug, no container image
    with pytest.raises(ParamsError, match="set image on every service"):
        with_platform(params, "kubernetes")


@pytest.mark.parametrize("platform", platform_names())
def test_troubleshooting_library_per_platform(platform):
    always = [e for e in open_catalog().troubleshooting(platform) if e.requires_engine is None and e.requires_kind is None]
    assert len(always) >= 8
    assert len({e.category for e in always}) >= 5


def _shell_blocks(text):
    import textwrap

    blocks = re.findall(r"^( *)```bash\n(.*?)^\1```", text, re.M | re.S)
    return [textwrap.dedent(body) for _, body in blocks]


@pytest.mark.parametrize("platform", platform_names())
def test_every_command_block_is_valid_shell(platform, tmp_path):
    """bash -n over every command the runbook prints, on every platform (catches lost newlines,
    unbalanced quotes and loops in the catalogs)."""
    import subprocess

    params = hosted(platform, tmp_path / "project")
    d = preview(params, check_status(params))
    blocks = _shell_blocks(d.markdown) + _shell_blocks(d.files["procedures.md"])
    assert len(blocks) > 30 and sum(b.count("\n") for b in blocks) > 400  # the runbook and its manual, every procedure
    bad = []
    for i, block in enumerate(blocks):
        script = tmp_path / f"{i}.sh"
        script.write_text(block)
        res = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
        if res.returncode:
            bad.append(f"{res.stderr.strip()}\n{block}")
    assert not bad, "\n---\n".join(bad[:3])


@pytest.mark.parametrize("platform", platform_names())
def test_alerts_a_platform_cannot_have_are_named_with_the_reason(platform, tmp_path):
    """A shared alert the platform declares `unsupported` (Lambda has no CPU metric) is listed
    under the alert table with the platform's reason, not dropped without a word."""
    params = hosted(platform, tmp_path)
    declared = {n: a.unsupported for n, a in load_platform(platform).alerts.alerts.items() if a.unsupported}
    text = preview(params, check_status(params, force=True)).markdown
    monitoring = text.split("### Key metrics and alert thresholds")[1].split("### Service level objectives")[0]
    for name, reason in declared.items():
        assert f"(`{name}`): {' '.join(reason.split())}" in monitoring
        assert f"| `{name}` |" not in monitoring
    assert ("cannot have, and why" in monitoring) == bool(declared)
    assert platform != "aws-lambda" or {"HighCpuUtilisation", "InstanceRestarts"} <= set(declared)


@pytest.mark.parametrize("name", EXAMPLES)
def test_links_between_runbook_and_procedures_resolve(name):
    """Every in-document link of runbook.md and procedures.md (and every link from one to the
    other) opens a heading or an explicit anchor that exists: alerts and the decision tree send
    the on-call engineer to entries that may live in either file."""
    from opslib.check.facts import anchor_slug
    from opslib.documents.runbook import MANUAL

    params = load_params(PARAMS / f"{name}.yaml")
    model = build(params, check_status(params), doc_dir=REPO / "build" / name)
    docs = {"runbook.md": render_runbook(model), MANUAL: render_manual(model)}
    anchors = {n: {anchor_slug(h) for h in re.findall(r"^#+ (.*)$", t, re.M)} | set(re.findall(r'<a id="([^"]+)"', t)) for n, t in docs.items()}
    broken = [f"{n} → {f or n}#{a}" for n, t in docs.items() for f, a in re.findall(r"\]\(([\w.-]*\.md)?#([^)]+)\)", t)
              if (f or n) in docs and a not in anchors[f or n]]
    assert not broken, broken
    assert f"]({MANUAL}#" in docs["runbook.md"] or not model.manual_issues  # failures written out only in the manual are linked


@pytest.mark.parametrize("platform, datastores, expected", [
    ("kubernetes", (), False), ("kubernetes", ("aws-sqs",), False), ("kubernetes", ("aws-rds-postgresql",), True),
    ("aws-lambda", (), False), ("aws-lambda", ("aws-rds-postgresql",), True),
    ("google-cloud-run", (), False), ("google-cloud-run", ("self-hosted-postgresql",), True),
])
def test_database_failures_only_for_projects_with_a_database(platform, datastores, expected, tmp_path):
    """An entry about the database's connection slots (`requires_datastore_kind: database`) is
    neither a section nor a row of the runbook or its procedures for a project without a database."""
    params = load_params(make_project(tmp_path, platform=platform, datastores=datastores))
    entries = [e for e in open_catalog().troubleshooting(platform) if e.requires_datastore_kind == "database"]
    assert entries, f"{platform} has no entry that needs a database"
    d = preview(params, check_status(params, force=True))
    for e in entries:
        assert (e.title in d.markdown or e.title in d.files["procedures.md"]) == expected, e.title


@pytest.mark.parametrize("platform", ["heroku", "kubernetes", "vm-systemd"])
def test_scaling_notes_about_workers_only_for_projects_with_workers(platform, tmp_path):
    web = load_params(make_project(tmp_path / "web", platform=platform, kinds=("web",)))
    both = load_params(make_project(tmp_path / "both", platform=platform, kinds=("web", "worker")))
    notes = {k: build(p, check_status(p, force=True)).scale_notes for k, p in (("web", web), ("both", both))}
    about_workers = [n for n in notes["both"] if re.match(r"(\w+ )?workers?\b", n, re.I)]
    assert about_workers and not [n for n in notes["web"] if n in about_workers]
    assert len(notes["web"]) == len(notes["both"]) - len(about_workers)  # nothing else is dropped


def test_environment_names_are_translated_as_whole_names():
    """The differences between environments compare each step with production's, renamed: a
    retention of 90 days becomes 14, but not the 90 inside an account id (which made every ECS
    step that names an ECR image differ), and an instance count in prose follows the table."""
    from opslib.documents.runbook import RStep, _translate

    tr = _translate({"target.days": "90", "target.cluster": "shop-prod"}, {"target.days": "14", "target.cluster": "shop-dev"}, {"3": "1"})
    text, command = tr(RStep("Keep logs 90 days; start beside the 3 stable tasks.",
                             "aws logs put-retention-policy --retention-in-days 90 --log-group-name /ecs/shop-prod-api "
                             "--image 123456789012.dkr.ecr.us-east-1.amazonaws.com/shop:v1 --desired-count 3", None))
    assert text == "Keep logs 14 days; start beside the 1 stable tasks."
    assert "--retention-in-days 14" in command and "/ecs/shop-dev-api" in command and "--desired-count 1" in command
    assert "123456789012.dkr.ecr" in command


@pytest.mark.parametrize("platform", platform_names())
def test_one_service_steps_are_written_once_and_nothing_that_never_returns_is_looped(platform, tmp_path):
    """A step that acts on the service the reader is looking at (follow its logs, scale it, a
    troubleshooting fix) is written once with the service in SERVICE and the others named, not as
    a loop over every service (`logs -f` in a loop follows the first service forever; raising every
    service's memory limit is not what the OOM entry asks). Checked on a project with several services."""
    params = hosted(platform, tmp_path / "project")
    names = [s.name for s in params.services]
    assert len(names) >= 2
    d = preview(params, check_status(params, force=True))
    for text, name in ((d.markdown, "runbook.md"), (d.files["procedures.md"], "procedures.md")):
        looped = [c for c in truth_report(text, path=name, run_shellcheck=False).commands if "never reaches the second item" in c.message]
        assert not looped, [c.text for c in looped[:3]]
    chosen = [ln for ln in d.markdown.splitlines() if re.match(r"# \d+\. .*(Set SERVICE to |Shown for |The line of the one you are looking at)", ln)]
    assert chosen, "no step acts on one service"
    for ln in chosen:  # the reader is told every service it may be
        listed = re.split(r"Set SERVICE to |Shown for |The line of the one", ln, maxsplit=1)[1]
        assert sum(n in listed for n in names) >= 2, ln


def test_a_one_step_sets_its_variable_once_per_block():
    """Steps of one block that act on the same service set SERVICE once; a loop in between resets it."""
    from opslib.documents.commands import RStep
    from opslib.documents.runbook import Runbook

    one = RStep("Follow the logs. Set SERVICE to api or worker.", "SERVICE=api\nkubectl logs -l app=\"${SERVICE}\" -f", None)
    loop = RStep("Restart each.", "for SERVICE in api worker; do\n  kubectl rollout restart deployment/\"${SERVICE}\"\ndone", None)
    text = Runbook.block(None, [one, one])  # type: ignore[arg-type]
    assert text.count("SERVICE=api") == 1 and text.count("kubectl logs") == 2
    text = Runbook.block(None, [one, loop, one])  # type: ignore[arg-type]
    assert text.count("SERVICE=api") == 2


# ids of one running thing: a task or execution id, a Cloud Run revision (…-00042-zuf), a pod (…-7d9c8b6f5d-2xkqp)
_EXAMPLE_ID = re.compile(r"\b(?=[0-9a-f]*[a-f])(?=[0-9a-f]*[0-9])[0-9a-f]{12,}\b|[\w-]+-\d{5}-[a-z]{3}\b|[\w-]+-[0-9a-f]{8,10}-[a-z0-9]{5}\b"
                         r"|\bip-\d+-\d+-\d+-\d+\b")


@pytest.mark.parametrize("platform", platform_names())
def test_no_command_holds_an_id_that_only_an_example_output_shows(platform, tmp_path):
    """A task id, revision or version number taken from an expected output is an example: a
    command that names it (`--log-stream-name-prefix ecs/api/0a1b2c…`, `--to-revision=42`,
    `[42]`, a revision `api-00042-zuf`, a pod `api-7d9c8b6f5d-2xkqp`, a node `ip-10-0-12-34`) acts on
    nothing or on the wrong thing at 3 am, unless the line marks it as an input to replace (`# input:`). Commands read such values from the
    platform, or name them as inputs."""
    params = hosted(platform, tmp_path / "project")
    d = preview(params, check_status(params, force=True))
    known = set(_EXAMPLE_ID.findall(params.model_dump_json()))  # ids the project itself gives (none in these projects)
    bad = []
    for block in _shell_blocks(d.markdown) + _shell_blocks(d.files["procedures.md"]):
        for line in (ln for ln in block.splitlines() if not ln.lstrip().startswith("#") and "# input:" not in ln):  # an input: an example to replace
            if (set(_EXAMPLE_ID.findall(line)) - known or re.search(r"--(to-)?revision=\d+\b", line)
                    or re.search(r"/\[\d+\]", line)):
                bad.append(line.strip())
    assert not bad, bad[:3]


@pytest.mark.parametrize("platform, store", [("heroku", "heroku-postgres"), ("kubernetes", "aws-rds-postgresql")])
def test_migrations_the_platform_runs_are_not_run_by_hand(platform, store, tmp_path):
    """Heroku's release phase runs the migrations when the tag is pushed: the runbook says so and
    shows the database's revision from a one-off dyno (where DATABASE_URL is), instead of asking the
    reader to run `alembic upgrade head` from a laptop too. A platform without one keeps the steps."""
    params = load_params(make_project(tmp_path / "p", platform=platform, kinds=("web",), datastores=(store,)))
    assert any(d.migration_tool for d in params.datastores)
    section = build(params, check_status(params, force=True)).procedure.migrations
    commands = "\n".join(s.command or "" for s in section)
    if platform == "heroku":
        assert "upgrade" not in commands and commands.startswith("heroku run --exit-code -a ") and "alembic current" in commands
    else:
        assert "alembic upgrade head" in commands
