import re
import tomllib

from conftest import REPO
from ruamel.yaml import YAML


def _name(req: str) -> str:
    return re.split(r"[<>=!~ \[]", req, maxsplit=1)[0].lower()


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    wanted = {_name(r): r for r in project["dependencies"] + project["optional-dependencies"]["test"]}
    env = YAML(typ="safe").load((REPO / "environment.yml").read_text())
    conda = {_name(d): d for d in env["dependencies"] if isinstance(d, str)}
    conda.pop("python"), conda.pop("pip")
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    conda.update({_name(d): d for d in pip if not d.startswith("-")})
    assert set(conda) == set(wanted)
    for name, req in wanted.items():
        assert conda[name].replace(" ", "") == req.replace(" ", ""), name


def test_console_script():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert project["scripts"]["opslib"] == "opslib.cli:main"


def test_ci_runs_the_readme_test_command():
    readme = (REPO / "README.md").read_text()
    assert "bash scripts/test" in readme and "bash scripts/build" in readme
    assert "bash scripts/test" in (REPO / ".ci" / "run").read_text()


def test_readme_excerpt_is_generated_output():
    readme = (REPO / "README.md").read_text()
    excerpt = readme.split("````markdown\n", 1)[1].split("\n````", 1)[0]
    assert len(excerpt.splitlines()) > 20
    assert excerpt in (REPO / "tests" / "golden" / "weather-api" / "runbook.md").read_text()
    assert (REPO / "docs" / "review-weather-api.png").stat().st_size > 10_000


def test_every_data_file_is_package_data():
    """The wheel carries every file of opslib/data (the genre model and the captured CLIs are JSON)."""
    from fnmatch import fnmatch

    globs = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["opslib"]
    files = [p.relative_to(REPO / "opslib").as_posix() for p in (REPO / "opslib" / "data").rglob("*") if p.is_file()]
    # fnmatch's * crosses folders, so data/**/*.json also matches data/x.json, as setuptools' glob does
    missing = [f for f in files if not any(fnmatch(f, g.replace("**/", "*")) or fnmatch(f, g) for g in globs)]
    assert files and missing == []
