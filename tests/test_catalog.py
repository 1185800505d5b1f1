import shutil

import pytest
from ruamel.yaml import YAML

from conftest import PARAMS
from opslib.catalog import loaders as catalog
from opslib.check import commands as check
from opslib import check_status, load_params
from opslib.check.findings import failed
from opslib.errors import CatalogError
from opslib.documents.runbook import preview


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    """A private copy of opslib/data that a test may extend."""
    target = tmp_path / "data"
    shutil.copytree(catalog.DATA_DIR, target)
    monkeypatch.setattr(catalog, "DATA_DIR", target)
    monkeypatch.setattr(check, "DATA_DIR", target)
    catalog.clear_caches()
    check.known_clis.cache_clear()
    yield target
    catalog.clear_caches()
    check.known_clis.cache_clear()


def test_a_new_platform_is_one_data_file(data_dir, tmp_path):
    """ecs-fargate, docker-compose, static-site: adding a platform needs no code."""
    yaml = YAML()
    spec = yaml.load((data_dir / "platforms" / "vm-systemd.yaml").read_text())
    spec["name"], spec["title"] = "static-site", "Static site (S3 + CloudFront)"
    with (data_dir / "platforms" / "static-site.yaml").open("w") as fh:
        yaml.dump(spec, fh)
    shutil.copy(data_dir / "troubleshooting" / "vm-systemd.yaml", data_dir / "troubleshooting" / "static-site.yaml")
    ids = (data_dir / "troubleshooting" / "static-site.yaml").read_text().replace("id: vm-", "id: site-")
    (data_dir / "troubleshooting" / "static-site.yaml").write_text(ids)
    assert "static-site" in catalog.platform_names()
    params = load_params(PARAMS / "shop-platform.yaml")
    draft = preview(params, check_status(params), platform="static-site")
    assert "Static site (S3 + CloudFront)" in draft.markdown and not failed(draft.findings)


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda d: d.pop("rollback"), r"platforms/heroku\.yaml: rollback: Field required"),
        (lambda d: d.__setitem__("name", "heroku2"), r"says 'heroku2' but the file is named 'heroku'"),
        (lambda d: d["deploy"].__setitem__("yolo", []), r"platforms/heroku\.yaml: deploy\.yolo\.\[key\]"),
    ],
)
def test_malformed_platform_names_file_and_field(data_dir, mutate, message):
    yaml = YAML()
    path = data_dir / "platforms" / "heroku.yaml"
    spec = yaml.load(path.read_text())
    mutate(spec)
    with path.open("w") as fh:
        yaml.dump(spec, fh)
    with pytest.raises(CatalogError, match=message):
        catalog.load_platform("heroku")


def test_duplicate_troubleshooting_ids_are_refused(data_dir):
    common = (data_dir / "troubleshooting" / "common.yaml").read_text()
    shared_id = next(line.split("id:")[1].strip() for line in common.splitlines() if "- id:" in line)
    plat = data_dir / "troubleshooting" / "heroku.yaml"
    heroku_id = next(line.split("id:")[1].strip() for line in plat.read_text().splitlines() if "- id:" in line)
    plat.write_text(plat.read_text().replace(f"- id: {heroku_id}\n", f"- id: {shared_id}\n", 1))
    with pytest.raises(CatalogError, match=f"repeat id\\(s\\) {shared_id}"):
        catalog.load_troubleshooting("heroku")


def test_every_troubleshooting_category_is_in_the_decision_tree():
    categories = {n.category for n in catalog.load_decision_tree()}
    for name in catalog.platform_names():
        assert {e.category for e in catalog.load_troubleshooting(name)} <= categories, name


@pytest.mark.parametrize("path", sorted(catalog.DATA_DIR.rglob("*.yaml")), ids=lambda p: p.name)
def test_catalogs_read_the_same_in_yaml_1_1_and_1_2(path):
    """Catalogs are parsed with PyYAML's fast C loader (YAML 1.1); they must mean the same
    as under YAML 1.2 (ruamel), e.g. no bare `on`/`yes`/`no` that would turn into booleans."""
    import yaml as pyyaml

    assert pyyaml.load(path.read_text(), Loader=pyyaml.SafeLoader) == YAML(typ="safe").load(path.read_text())
