"""Catalogs: a platform is one folder of data, validated as a whole; a project adds platforms,
troubleshooting entries, prices and secret kinds in folders of its own (`catalogs:`)."""

import re
import shutil
from pathlib import Path

import pytest
from conftest import PARAMS
from ruamel.yaml import YAML

from opslib import check_status, load_params
from opslib.catalog.catalog import open_catalog, platform_names
from opslib.catalog.loaders import DATA_DIR
from opslib.catalog.platforms import FILES, load_platform_folder
from opslib.check.findings import failed
from opslib.check.runbook import check_runbook
from opslib.cli import main
from opslib.cli import main as cli
from opslib.documents import cost_plan, pipeline, runbook, secrets
from opslib.errors import CatalogError, ParamsError

SHIPPED = DATA_DIR / "platforms"


def copy_platform(catalog: Path, name: str, src: str = "vm-systemd", title: str | None = None) -> Path:
    """A shipped platform copied into a catalog folder of a project's own, under another name."""
    folder = catalog / "platforms" / name
    shutil.copytree(SHIPPED / src, folder)
    spec = folder / "platform.yaml"
    text = spec.read_text().replace(f"name: {src}\n", f"name: {name}\n", 1)
    spec.write_text(re.sub(r"(?m)^title: .*$", f"title: {title or name}", text, count=1))
    return folder


def edit(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text()
    assert old in text, (path, old)
    path.write_text(text.replace(old, new, count))


def yaml_edit(path: Path, change) -> None:
    yaml = YAML()
    data = yaml.load(path.read_text())
    change(data)
    with path.open("w") as fh:
        yaml.dump(data, fh)


def project(tmp_path: Path, base: str = "agent-orchestrator", **top) -> Path:
    """A copy of an example's parameters under tmp_path (its links made absolute), with the
    top-level keys in `top` replaced and the platform-specific target names dropped."""
    yaml = YAML()
    raw = yaml.load((PARAMS / f"{base}.yaml").read_text())
    links = raw["project"]["links"]
    for key in ("architecture", "plan", "spec"):
        links[key] = str((PARAMS / links[key]).resolve())
    raw["project"]["status_file"] = str((PARAMS / raw["project"]["status_file"]).resolve())
    if "actuals" in raw:
        raw["actuals"]["billing"] = [str((PARAMS / b).resolve()) for b in raw["actuals"]["billing"]]
    if raw.get("readiness", {}).get("evidence"):
        raw["readiness"]["evidence"] = str((PARAMS / raw["readiness"]["evidence"]).resolve())
    for env in raw["environments"]:
        env.pop("target", None)
    for key, value in top.items():
        if key == "deploy":
            raw["deploy"].update(value)
        else:
            raw[key] = value
    path = tmp_path / "parameters" / f"{base}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as fh:
        yaml.dump(raw, fh)
    return path


@pytest.fixture
def acme(tmp_path):
    """A platform outside the package: vm-systemd copied as acme-pool, with marks in each file
    so every document shows it is the one in use."""
    catalog = tmp_path / "catalogs" / "acme"
    folder = copy_platform(catalog, "acme-pool", title="Acme VM pool")
    edit(folder / "platform.yaml", 'default: "{{ project.name }}-"', 'default: "acmepool-{{ project.name }}-"')  # unit_prefix
    edit(folder / "alerts.yaml", "node_cpu_seconds_total", "acmepool_node_cpu_seconds_total")
    edit(folder / "cost.yaml", "name: Cloud provider cost console", "name: Acme pool cost console")
    return catalog


def test_a_platform_in_a_folder_of_its_own_renders_every_document(tmp_path, acme, capsys):
    """No code change: the project names the folder under `catalogs:` and the platform by name."""
    path = project(tmp_path, platform="acme-pool", catalogs=["../catalogs/acme"], deploy={"strategy": "rolling"})
    params = load_params(path)
    assert params.platform == "acme-pool" and "acme-pool" in params.catalog.platform_names()
    assert "acme-pool" not in platform_names()  # the shipped catalog is untouched

    out = tmp_path / "build"
    assert cli(["render", str(path), "--out", str(out)]) == 0, capsys.readouterr().err
    docs = out / params.project.name
    unit = "acmepool-agent-orchestrator-api"
    text = {name: (docs / name).read_text() for name in ("runbook.md", "cost-plan.md", "secrets.md", "pipeline.md", "alerts.yml")}
    assert "Acme VM pool" in text["runbook.md"] and f"sudo systemctl restart {unit}" in text["runbook.md"]
    assert "Acme pool cost console" in text["cost-plan.md"] and "aws autoscaling update-auto-scaling-group" in text["cost-plan.md"]
    assert f'sudo systemctl restart {unit}" &' in text["secrets.md"]  # the emergency restart of the folder's restart_now
    assert "Acme VM pool" in text["pipeline.md"] and unit in text["pipeline.md"]
    assert unit in (docs / "ci" / ".gitlab-ci.yml").read_text()
    assert any(unit in p.read_text() for p in (docs / "ci" / ".github" / "workflows").glob("*.yml"))
    assert "acmepool_node_cpu_seconds_total" in text["alerts.yml"]

    assert main(["plan", str(path), "--env", "prod", "--version", "0.9.0", "--out", str(out), "--force"]) == 0
    plan = (docs / "deployments" / "0.9.0-prod" / "deployment-plan.md").read_text()
    assert "Acme VM pool" in plan and f"systemctl restart {unit}" in plan


def test_previews_pass_their_checks_on_a_platform_of_its_own(tmp_path, acme):
    params = load_params(project(tmp_path, platform="acme-pool", catalogs=["../catalogs/acme"], deploy={"strategy": "blue-green"}))
    status = check_status(params, force=True)
    assert not failed(runbook.preview(params, status).findings)
    assert not failed(cost_plan.preview(params).findings)
    assert not failed(pipeline.preview(params).findings)
    assert "Acme VM pool" in secrets.render_secrets(secrets.inventory(params, status))


def test_the_runbook_notebook_can_switch_to_a_project_platform(tmp_path, acme):
    params = load_params(project(tmp_path, catalogs=["../catalogs/acme"]))
    assert params.platform == "aws-lambda"
    draft = runbook.preview(params, check_status(params, force=True), platform="acme-pool")
    assert "Acme VM pool" in draft.markdown


def test_a_project_folder_replaces_a_shipped_platform(tmp_path):
    catalog = tmp_path / "catalogs" / "mine"
    copy_platform(catalog, "aws-lambda", src="aws-lambda", title="AWS Lambda (our account)")
    params = load_params(project(tmp_path, catalogs=["../catalogs/mine"]))
    assert "AWS Lambda (our account)" in runbook.preview(params, check_status(params, force=True)).markdown
    assert open_catalog().platform("aws-lambda").title == "AWS Lambda (AWS CLI)"


def test_a_malformed_platform_folder_reports_every_problem_at_once(tmp_path):
    catalog = tmp_path / "catalogs" / "broken"
    folder = copy_platform(catalog, "broken")
    yaml_edit(folder / "platform.yaml", lambda d: d["operations"].pop("restart_now"))
    yaml_edit(folder / "platform.yaml", lambda d: d["deploy"].__setitem__("yolo", []))
    yaml_edit(folder / "ci.yaml", lambda d: d.__setitem__("imagee", "debian"))
    yaml_edit(folder / "alerts.yaml", lambda d: d["alerts"].pop("HighCpuUtilisation"))
    edit(folder / "cost.yaml", "{{ target.asg }} --min-size", "{{ target.asgg }} --min-size")
    yaml_edit(folder / "troubleshooting.yaml", lambda d: d["entries"][0].__setitem__("category", "nope"))
    (folder / "alert.yaml").write_text("alerts: {}\n")
    with pytest.raises(CatalogError) as err:
        open_catalog((catalog,)).platform("broken")
    message = str(err.value)
    expected = [
        r"platforms/broken: 7 problems",
        r"platform\.yaml line \d+: operations\.restart_now: missing; add it",
        r"platform\.yaml line \d+: deploy\.yolo\.\[key\]: input should be 'rolling'",
        r"ci\.yaml line \d+: imagee: unknown key",
        r"alerts\.yaml line \d+: alerts\.HighCpuUtilisation: missing; give expr and source",
        r"troubleshooting\.yaml line \d+: entries\[0\]\.category: unknown category 'nope'",
        r"alert\.yaml: unknown file",
        r"cost\.yaml line \d+: scaling_caps\.steps\[0\]\.command: uses target\.asgg, which platform\.yaml's target does not define",
    ]
    for pattern in expected:
        assert re.search(pattern, message), (pattern, message)


def test_a_folder_missing_files_names_each_file(tmp_path):
    folder = tmp_path / "catalogs" / "bare" / "platforms" / "bare"
    folder.mkdir(parents=True)
    (folder / "platform.yaml").write_text("name: bare\ntitle: Bare\n")
    with pytest.raises(CatalogError) as err:
        open_catalog((tmp_path / "catalogs" / "bare",)).platform("bare")
    message = str(err.value)
    for name in FILES:
        if name != "platform.yaml":
            assert f"{name}: missing; add the file" in message
    for key in ("docs_url", "tools", "target", "deploy", "operations", "rollback"):
        assert re.search(rf"platform\.yaml( line \d+)?: {key}: missing", message), key


@pytest.mark.parametrize("change, where", [
    (lambda f: yaml_edit(f / "alerts.yaml", lambda d: d["alerts"].pop("InstanceRestarts")), r"alerts\.yaml line \d+: alerts\.InstanceRestarts: missing"),
    (lambda f: yaml_edit(f / "cost.yaml", lambda d: d.pop("budgets")), r"cost\.yaml( line \d+)?: budgets: missing"),
    (lambda f: yaml_edit(f / "cost.yaml", lambda d: d.__setitem__("quota", {"title": "x"})), r"cost\.yaml line \d+: quota: give title and manifest, or unsupported"),
    (lambda f: yaml_edit(f / "cost.yaml", lambda d: d.__setitem__("scaling_caps", {"unsupported": ""})), r"cost\.yaml line \d+: scaling_caps\.unsupported: string should have at least 1 character"),
    (lambda f: yaml_edit(f / "ci.yaml", lambda d: d.pop("rollback")), r"ci\.yaml( line \d+)?: rollback: missing"),
    (lambda f: yaml_edit(f / "ci.yaml", lambda d: d["deploy"][0].pop("command")), r"ci\.yaml line \d+: deploy: step 1 \(.*\) has no command"),
    (lambda f: (f / "cost.yaml").unlink(), r"cost\.yaml: missing; add the file"),
])
def test_a_capability_left_out_without_saying_so_is_refused(tmp_path, change, where):
    catalog = tmp_path / "catalogs" / "lax"
    change(copy_platform(catalog, "lax"))
    with pytest.raises(CatalogError, match=where):
        open_catalog((catalog,)).platform("lax")


def test_a_declared_unsupported_capability_prints_its_reason(tmp_path, acme):
    reason = "Acme pool hosts are leased per quarter; the pool size is fixed by contract"
    yaml_edit(acme / "platforms" / "acme-pool" / "cost.yaml", lambda d: d.__setitem__("scaling_caps", {"unsupported": reason}))
    params = load_params(project(tmp_path, platform="acme-pool", catalogs=["../catalogs/acme"], deploy={"strategy": "rolling"}))
    draft = cost_plan.preview(params)
    assert f"No command caps the scale on this platform: {reason}" in draft.markdown
    assert not failed(draft.findings)


def test_validation_refuses_a_project_on_a_malformed_platform_naming_file_and_key(tmp_path):
    catalog = tmp_path / "catalogs" / "acme"
    yaml_edit(copy_platform(catalog, "acme-pool") / "ci.yaml", lambda d: d.pop("deploy"))
    with pytest.raises(CatalogError, match=r"acme-pool: 1 problem in the catalog.*\n  ci\.yaml( line \d+)?: deploy: missing"):
        load_params(project(tmp_path, platform="acme-pool", catalogs=["../catalogs/acme"], deploy={"strategy": "rolling"}))


def test_catalog_folders_are_checked_in_the_parameters(tmp_path):
    with pytest.raises(ParamsError) as err:
        load_params(project(tmp_path, platform="acme-pool", catalogs=["../catalogs/nowhere"]))
    text = str(err.value)
    assert re.search(r"line \d+: catalogs\[0\]: folder '../catalogs/nowhere' does not exist", text)
    assert "unknown platform 'acme-pool'" in text


def test_a_catalog_folder_holds_only_what_is_read(tmp_path):
    catalog = tmp_path / "catalogs" / "acme"
    copy_platform(catalog, "acme-pool")
    (catalog / "platforms" / "old-style.yaml").write_text("name: old-style\n")
    (catalog / "prices.csv").write_text("id\n")
    (catalog / "README.md").write_text("ours\n")
    with pytest.raises(CatalogError) as err:
        load_params(project(tmp_path, platform="acme-pool", catalogs=["../catalogs/acme"]))
    text = str(err.value)
    assert "prices.csv: unknown entry (nothing reads it)" in text
    assert "platforms/old-style.yaml: a platform is a folder: move it to platforms/old-style/platform.yaml" in text
    assert "README.md: unknown" not in text


def test_troubleshooting_prices_and_secret_kinds_of_a_project(tmp_path):
    catalog = tmp_path / "catalogs" / "acme"
    catalog.mkdir(parents=True)
    shared = YAML(typ="safe").load((DATA_DIR / "troubleshooting.yaml").read_text())["entries"]
    replaced = dict(shared[0], title="Our database runbook entry")
    added = dict(shared[0], id="acme-vpn-down", title="The Acme VPN is down", requires_engine=None, requires_kind=None)
    with (catalog / "troubleshooting.yaml").open("w") as fh:
        YAML().dump({"entries": [replaced, added]}, fh)
    header = (DATA_DIR / "pricing.csv").read_text().splitlines()[0]
    (catalog / "pricing.csv").write_text(header + "\nacme.vpn.gateway.global,acme,VPN,gateway,global,month,99,contract 2026,2026-01-01,2026\n")
    (catalog / "secret-kinds.yaml").write_text(
        "kinds:\n  vpn-psk:\n    title: VPN pre-shared key\n    rotation_days: 30\n    source: Acme security policy 4.2\n    generate: openssl rand\n")
    params = load_params(project(tmp_path, catalogs=["../catalogs/acme"]))
    entries = params.catalog.troubleshooting(params.platform)
    titles = [e.title for e in entries]
    assert "Our database runbook entry" in titles and shared[0]["title"] not in titles and titles[-1] == "The Acme VPN is down"
    assert params.catalog.prices["acme.vpn.gateway.global"].price_usd == 99
    assert params.catalog.secret_kinds["vpn-psk"]["rotation_days"] == 30
    assert "The Acme VPN is down" in runbook.preview(params, check_status(params, force=True)).markdown
    assert "vpn-psk" not in open_catalog().secret_kinds


def test_a_project_secret_kind_validates_in_the_parameters(tmp_path):
    catalog = tmp_path / "catalogs" / "acme"
    catalog.mkdir(parents=True)
    (catalog / "secret-kinds.yaml").write_text(
        "kinds:\n  vpn-psk:\n    title: VPN pre-shared key\n    rotation_days: 30\n    source: Acme security policy 4.2\n    generate: openssl rand\n")
    raw = YAML(typ="safe").load((PARAMS / "agent-orchestrator.yaml").read_text())
    item = {k: v for k, v in raw["secrets"]["items"][0].items() if k != "rotation_days"} | {"kind": "vpn-psk"}
    secrets_section = dict(raw["secrets"], items=[item])
    with pytest.raises(ParamsError, match="unknown secret kind 'vpn-psk'"):
        load_params(project(tmp_path, secrets=secrets_section, dependencies=[]))
    params = load_params(project(tmp_path, secrets=secrets_section, dependencies=[], catalogs=["../catalogs/acme"]))
    assert params.secrets.items[0].kind == "vpn-psk"
    row = secrets.rotation_calendar(params)[0]
    assert row.rotation_days == 30
    doc = secrets.render_secrets(secrets.inventory(params, check_status(params, force=True)))
    assert "VPN pre-shared key" in doc and "Acme security policy 4.2" in doc
    from opslib.notebook.secrets import inventory_table

    assert set(inventory_table(params)["kind"]) == {"VPN pre-shared key"}


@pytest.mark.parametrize("name", platform_names())
def test_shipped_platforms_pass_the_template_checks(name):
    """The checks a project's own platform gets at every load (skipped at run time for speed)."""
    load_platform_folder.cache_clear()
    try:
        assert load_platform_folder(SHIPPED / name, check_templates=True).name == name
    finally:
        load_platform_folder.cache_clear()


def test_every_troubleshooting_category_is_in_the_decision_tree():
    catalog = open_catalog()
    categories = {n.category for n in catalog.decision_tree()}
    for name in catalog.platform_names():
        assert {e.category for e in catalog.troubleshooting(name)} <= categories, name


def test_a_platform_is_a_folder_and_nothing_else():
    assert sorted(p.name for p in SHIPPED.iterdir() if p.is_file()) == ["README.md"]
    for folder in (p for p in SHIPPED.iterdir() if p.is_dir()):
        assert sorted(p.name for p in folder.iterdir()) == sorted(FILES), folder


@pytest.mark.parametrize("path", sorted(DATA_DIR.rglob("*.yaml")), ids=lambda p: p.relative_to(DATA_DIR).as_posix())
def test_catalogs_read_the_same_in_yaml_1_1_and_1_2(path):
    """Catalogs are parsed with PyYAML's fast C loader (YAML 1.1); they must mean the same
    as under YAML 1.2 (ruamel), e.g. no bare `on`/`yes`/`no` that would turn into booleans."""
    import yaml as pyyaml

    assert pyyaml.load(path.read_text(), Loader=pyyaml.SafeLoader) == YAML(typ="safe").load(path.read_text())


def test_the_batch_fingerprint_covers_the_project_catalogs(tmp_path, acme):
    """Editing a platform of the project's own rebuilds its documents in `opslib batch`."""
    from opslib.run.fingerprint import input_files

    params = load_params(project(tmp_path, platform="acme-pool", catalogs=["../catalogs/acme"], deploy={"strategy": "rolling"}))
    assert (acme / "platforms" / "acme-pool" / "ci.yaml").resolve() in input_files(params)


@pytest.mark.parametrize("src, base, strategy", [
    ("heroku", "weather-api", None), ("kubernetes", "shop-platform", None),
    ("aws-lambda", "agent-orchestrator", None), ("vm-systemd", "agent-orchestrator", "rolling"),
])
def test_every_shipped_platform_works_copied_under_another_name(tmp_path, capsys, src, base, strategy):
    """Copy and rename is all it takes: every document is written and passes its checks."""
    copy_platform(tmp_path / "catalogs" / "ours", f"our-{src}", src=src, title=f"Our {src}")
    top = {"platform": f"our-{src}", "catalogs": ["../catalogs/ours"]}
    path = project(tmp_path, base, **top, **({"deploy": {"strategy": strategy}} if strategy else {}))
    assert cli(["render", str(path), "--out", str(tmp_path / "build")]) == 0, capsys.readouterr().err
    assert f"Our {src}" in (tmp_path / "build" / base / "runbook.md").read_text()


def test_a_project_platform_may_use_a_cli_no_shipped_platform_uses(tmp_path):
    """A platform of the project's own whose commands go through Teleport (`tsh ssh …`): the
    checks count its `tools:` as commands, so its runbook is not refused for having none."""
    catalog = tmp_path / "catalogs" / "tele"
    folder = copy_platform(catalog, "tele-pool", title="Teleport VM pool")
    edit(folder / "platform.yaml", "tools: [ssh, rsync, systemctl, journalctl, curl, aws]", "tools: [tsh, rsync, systemctl, journalctl, curl, aws]")
    for name in ("platform.yaml", "troubleshooting.yaml"):
        text = (folder / name).read_text()
        (folder / name).write_text(re.sub(r"(?m)^(\s*(?:command: |- )?)ssh ", r"\1tsh ssh ", text).replace("\n  ssh ", "\n  tsh ssh "))
    assert "tsh ssh" in (folder / "platform.yaml").read_text()
    params = load_params(project(tmp_path, platform="tele-pool", catalogs=["../catalogs/tele"], deploy={"strategy": "rolling"}))
    draft = runbook.preview(params, check_status(params, force=True))
    assert "tsh ssh" in draft.markdown and not failed(draft.findings), [f.message for f in failed(draft.findings)]
    # without the project's platform the same text has procedures "without a known CLI" — the case this fixes
    shipped_only = check_runbook(draft.markdown, environments=[e.name for e in params.environments])
    assert any("no command block with a known CLI" in f.message for f in failed(shipped_only))
