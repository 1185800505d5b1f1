"""Secrets: the inventory schema, rotation calendar, secrets.md (golden + quality bar), .env.example."""

from datetime import date, timedelta

import pytest
from conftest import EXAMPLES, PARAMS, REPO, execute_notebook, notebook_outputs
from ruamel.yaml import YAML

from opslib import check_status, load_params
from opslib.documents.secrets import ITEMS, check_secrets_doc, env_example, inventory, render_secrets, rotation_calendar, write
from opslib.errors import ChecksFailed, ParamsError
from opslib.params.secrets import secret_kinds, value_problems

SEED_BAD = """## Secret Management

Use a secret management tool like AWS Secrets Manager or HashiCorp Vault. Store secrets securely and rotate them regularly. Never commit secrets to git.
"""


def _params(name):
    return load_params(PARAMS / f"{name}.yaml")


def _doc(name):
    params = _params(name)
    return params, render_secrets(inventory(params, check_status(params, force=True)))


@pytest.mark.parametrize("name", EXAMPLES)
def test_golden_secrets(name, golden):
    params, text = _doc(name)
    golden(f"{name}/secrets.md", text)
    golden(f"{name}/.env.example", env_example(params))


@pytest.mark.parametrize("name", EXAMPLES)
def test_examples_pass_every_secret_check(name):
    params, text = _doc(name)
    findings = check_secrets_doc(text, params=params)
    assert {f.item for f in findings} == set(ITEMS.values())
    assert [f for f in findings if f.status != "pass"] == []


@pytest.mark.parametrize("name", EXAMPLES)
def test_examples_have_an_overdue_secret_and_no_values(name):
    params, text = _doc(name)
    assert "⚠ OVERDUE" in text
    assert any(r.status == "overdue" for r in rotation_calendar(params))
    for item in params.secrets.items:
        assert item.env_var in text and item.env_var in env_example(params)


def test_vague_secret_section_fails_the_checklist():
    findings = check_secrets_doc(SEED_BAD)
    failing = {f.item for f in findings if f.status == "fail"}
    assert len(failing) >= 6, failing
    assert ITEMS["warnings"] not in failing  # it does say "never commit"


def test_a_secret_value_in_the_document_fails():
    params, text = _doc("weather-api")
    fake = "AK" + "IA" + "Q" * 4 + "Z7Z7Z7Z7Z7Z7"
    findings = check_secrets_doc(text + f"\nkey: {fake}\n", params=params)
    bad = [f for f in findings if f.item == ITEMS["no_values"] and f.status == "fail"]
    assert bad and all(fake not in f.message for f in bad)


def test_missing_secret_in_document_is_reported():
    params, text = _doc("shop-platform")
    text = text.replace("prod/shop-platform/redis-auth-token", "prod/shop-platform/redis")
    f = next(f for f in check_secrets_doc(text, params=params) if f.item == ITEMS["identified"])
    assert f.status == "fail" and "prod/shop-platform/redis-auth-token" in f.message


# --- rotation calendar around the as-of date ------------------------------------------------

def _with_item(params, **changes):
    item = params.secrets.items[0].model_copy(update=changes)
    secrets = params.secrets.model_copy(update={"items": [item]})
    return params.model_copy(update={"secrets": secrets})


@pytest.mark.parametrize(
    "offset, status, days_left",
    [(0, "due soon", 0), (-1, "overdue", -1), (-30, "overdue", -30), (30, "due soon", 30), (31, "ok", 31)],
)
def test_calendar_status_around_as_of(offset, status, days_left):
    params = _params("weather-api")
    as_of = params.project.as_of
    p = _with_item(params, rotation_days=90, last_rotated=as_of - timedelta(days=90) + timedelta(days=offset))
    (row,) = rotation_calendar(p)
    assert (row.status, row.days_left, row.next_due) == (status, days_left, as_of + timedelta(days=offset))


def test_calendar_uses_kind_default_and_source():
    params = _params("weather-api")
    p = _with_item(params, kind="cloud-access-key", rotation_days=None, last_rotated=date(2026, 8, 1))
    (row,) = rotation_calendar(p)
    assert row.rotation_days == 90 and row.next_due == date(2026, 10, 30) and row.status == "overdue"
    assert "CIS" in secret_kinds()["cloud-access-key"]["source"]


def test_human_passwords_are_not_rotated_periodically():
    params = _params("weather-api")
    (row,) = rotation_calendar(_with_item(params, kind="password", rotation_days=None))
    assert row.status == "on compromise" and row.next_due is None
    assert "800-63B" in secret_kinds()["password"]["source"]


def test_calendar_as_of_override_and_order():
    params = _params("shop-platform")
    later = rotation_calendar(params, as_of=date(2027, 6, 1))
    assert all(r.status == "overdue" for r in later)
    dues = [r.next_due for r in rotation_calendar(params)]
    assert dues == sorted(dues)


def test_every_kind_has_a_source():
    for name, kind in secret_kinds().items():
        assert kind["source"] and kind["title"], name
        assert kind["rotation_days"] is None or kind["rotation_days"] > 0


# --- parameters ----------------------------------------------------------------------------

def _yaml_with(tmp_path, edit):
    yaml = YAML(typ="rt")
    data = yaml.load((PARAMS / "shop-platform.yaml").read_text())
    edit(data)
    path = tmp_path / "params" / "shop-platform.yaml"
    path.parent.mkdir()
    with path.open("w") as fh:
        yaml.dump(data, fh)
    text = path.read_text().replace("../examples", str(REPO / "examples"))
    path.write_text(text)
    return path


def test_secret_looking_value_is_rejected_without_echo(tmp_path):
    fake_aws = "AK" + "IA" + "ABCDEFGH" + "23456789"
    fake_pw = "Zq8" + "vN2x" + "Lp4wR7tY"

    def edit(data):
        data["services"][0]["image"] = fake_aws
        data["project"]["links"]["db_password"] = fake_pw

    path = _yaml_with(tmp_path, edit)
    with pytest.raises(ParamsError) as exc:
        load_params(path)
    text = str(exc.value)
    assert fake_aws not in text and fake_pw not in text
    assert "services[0].image: looks like an AWS access key" in text
    assert "project.links.db_password" in text
    assert any(p.startswith("line ") for p in exc.value.problems)


@pytest.mark.parametrize("name", EXAMPLES)
def test_no_false_positive_on_examples(name):
    raw = YAML(typ="rt").load((PARAMS / f"{name}.yaml").read_text())
    assert value_problems(raw) == []


def test_placeholder_connection_string_is_not_a_secret():
    assert value_problems({"description": "format postgresql://username:password@host:5432/db"}) == []
    assert value_problems({"description": "postgresql://app:" + "s3cr3t" + "Pw9@db.internal:5432/db"}) != []


def test_cross_problems(tmp_path):
    def edit(data):
        items = data["secrets"]["items"]
        items[0]["services"] = ["nope-api"]
        items[1]["environments"] = ["qa"]
        items[3]["name"] = "shared/jwt-signing-key"

    with pytest.raises(ParamsError) as exc:
        load_params(_yaml_with(tmp_path, edit))
    text = str(exc.value)
    assert "secrets.items[0].services: unknown service(s) nope-api" in text
    assert "secrets.items[1].environments: unknown environment(s) qa" in text
    assert "secrets.items[3].name: one secret shared by 3 environments" in text


def test_unknown_kind_and_store_name_the_choices(tmp_path):
    def edit(data):
        data["secrets"]["items"][0]["kind"] = "pasword"
        data["secrets"]["items"][0]["store"] = "vaultt"

    with pytest.raises(ParamsError) as exc:
        load_params(_yaml_with(tmp_path, edit))
    assert "unknown secret kind 'pasword'" in str(exc.value) and "database-credential" in str(exc.value)
    assert "unknown secret store 'vaultt'" in str(exc.value)


# --- writing -------------------------------------------------------------------------------

def test_write_secrets_env_example_and_precommit(tmp_path):
    params = _params("agent-orchestrator")
    written = write(params, check_status(params, force=True), tmp_path)
    assert written.path == tmp_path / "secrets.md"
    env = (tmp_path / ".env.example").read_text()
    assert [ln for ln in env.splitlines() if ln and not ln.startswith("#") and not ln.endswith("=")] == []
    pre = YAML(typ="safe").load((tmp_path / ".pre-commit-config.yaml").read_text())
    hooks = [h["id"] for r in pre["repos"] for h in r["hooks"]]
    assert hooks == ["detect-secrets", "opslib-scan-secrets"]
    from opslib.documents.secrets import check_written

    assert all(f.status == "pass" for f in check_written(tmp_path, params) if f.area != "truth")


def test_write_without_inventory_fails_and_writes_nothing(tmp_path):
    params = _params("weather-api").model_copy(update={"secrets": None})
    with pytest.raises(ChecksFailed):
        write(params, check_status(params, force=True), tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_rotation_commands_per_store_are_real(tmp_path):
    texts = {n: _doc(n)[1] for n in EXAMPLES}
    assert "heroku config:set OWM_API_KEY=\"$NEW_SECRET_VALUE\" -a weather-api-prod" in texts["weather-api"]
    assert "gh secret set HEROKU_API_KEY --env prod --repo acme/weather-api" in texts["weather-api"]
    assert "kubectl --context shop-platform-prod -n shop-platform-prod annotate externalsecret orders-api-secrets force-sync=" in texts["shop-platform"]
    assert "rollout restart deployment/orders-api" in texts["shop-platform"]
    assert "aws secretsmanager put-secret-value --region us-east-1" in texts["agent-orchestrator"]
    assert "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/agent-orchestrator/llm-provider-api-key-*" in texts["agent-orchestrator"]


def test_every_command_block_is_valid_shell():
    import re
    import subprocess
    import textwrap

    for name in EXAMPLES:
        text = _doc(name)[1]
        for _indent, body in re.findall(r"^( *)```bash\n(.*?)^\1```", text, re.M | re.S):
            res = subprocess.run(["bash", "-n"], input=textwrap.dedent(body), capture_output=True, text=True)
            assert res.returncode == 0, (name, body, res.stderr)


def test_store_of_another_platform_is_refused_by_secrets_only():
    from opslib.documents.runbook import with_platform

    params = _params("shop-platform")
    moved = with_platform(params, "vm-systemd")  # the runbook preview on another platform still works
    with pytest.raises(ParamsError, match="kubernetes-external-secrets serves kubernetes workloads"):
        inventory(moved, check_status(params, force=True))


@pytest.mark.kernel
def test_secret_notebook_interactive(tmp_path):
    """The inventory notebook as a person opens it: widgets on, preview only (nothing written)."""
    import json


    out = tmp_path / "20.ipynb"
    execute_notebook(
        str(REPO / "notebooks" / "20-secret-inventory.ipynb"), str(out),
        parameters={"params_path": str(PARAMS / "shop-platform.yaml"), "out_dir": "", "interactive": True},
        kernel_name="python3", progress_bar=False, cwd=str(REPO / "notebooks"),
    )
    outputs = notebook_outputs(out)
    assert not [o for o in outputs if o["output_type"] == "error"]
    mimes = {m for o in outputs for m in o.get("data", {})}
    assert {"application/vnd.jupyter.widget-view+json", "image/png"} <= mimes
    text = json.dumps(outputs)
    assert "Secret Management: shop-platform" in text and "overdue" in text and "opslib render" in text  # what to do next


def test_inventory_filters():
    from opslib.notebook.secrets import inventory_explorer, inventory_table

    params = _params("weather-api")
    assert set(inventory_table(params, env="prod")["environment"]) == {"prod"}
    assert set(inventory_table(params, store="github-actions")["env var"]) == {"HEROKU_API_KEY"}
    box = inventory_explorer(params)
    env, store = box.children[0].children
    env.value = "dev"
    store.value = "heroku-config-vars"
    assert len(inventory_table(params, env=env.value, store=store.value)) == 2


def test_emergency_restart_on_vms_restarts_the_unit_on_every_host():
    """The immediate restart comes from the platform folder (operations.restart_now). On VMs it
    used to be a bare `sudo systemctl restart <project>-<service>`: run on the operator's machine,
    not on the hosts, and blind to the platform's unit_prefix."""
    from opslib.documents.runbook import with_platform

    params = with_platform(_params("agent-orchestrator"), "vm-systemd")
    inv = inventory(params, check_status(params, force=True))
    restarts = [r for e in inv.emergencies for r in e.restart]
    assert restarts
    for r in restarts:
        assert r.command.startswith("for host in agent-orchestrator-prod-1.internal agent-orchestrator-prod-2.internal; do")
        assert 'ssh "deploy@${host}" "sudo systemctl restart agent-orchestrator-' in r.command and r.command.rstrip().endswith("wait")
