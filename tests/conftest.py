import difflib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PARAMS = REPO / "parameters"
EXAMPLES = sorted(p.stem for p in PARAMS.glob("*.yaml"))
GOLDEN = Path(__file__).parent / "golden"
FIXTURES = Path(__file__).parent / "fixtures"


def file_variant(tmp_path, name: str, edit) -> str:
    """A copy of an example's parameters file (its linked documents reachable) after `edit`
    (comments and order kept: ruamel)."""
    import shutil

    from ruamel.yaml import YAML

    yaml = YAML()
    data = yaml.load((PARAMS / f"{name}.yaml").read_text())
    edit(data)
    (tmp_path / "parameters").mkdir(exist_ok=True)
    shutil.copytree(REPO / "examples", tmp_path / "examples", dirs_exist_ok=True)
    path = tmp_path / "parameters" / f"{name}.yaml"
    with path.open("w") as fh:
        yaml.dump(data, fh)
    return str(path)


def notebook_outputs(path) -> list[dict]:
    """Every output of an executed notebook: its cells' and, for an interactive run, those the
    session's views put into Output widgets (nbclient keeps them in the widget state)."""
    import json

    nb = json.loads(Path(path).read_text())
    outputs = [o for c in nb["cells"] if c["cell_type"] == "code" for o in c.get("outputs", [])]
    state = nb["metadata"].get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {}).get("state", {})
    return outputs + [o for m in state.values() if m["model_name"] == "OutputModel" for o in m["state"].get("outputs", [])]


def pytest_addoption(parser):
    parser.addoption("--update-golden", action="store_true", help="rewrite tests/golden/ from the current output")


@pytest.fixture
def golden(request):
    """Compare text with tests/golden/<name>; --update-golden rewrites it."""

    def compare(name: str, text: str) -> None:
        path = GOLDEN / name
        if request.config.getoption("--update-golden"):
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            return
        assert path.exists(), f"{path} missing; run pytest --update-golden to create it"
        expected = path.read_text(encoding="utf-8")
        if text != expected:
            diff = "".join(difflib.unified_diff(expected.splitlines(True), text.splitlines(True), str(path), "generated", n=2))
            pytest.fail(f"{name} differs from the golden file (pytest --update-golden rewrites it):\n{diff[:6000]}")

    return compare


@pytest.fixture
def promtool_installed():
    """promtool validates the alert rules for real; scripts/setup installs it (Debian's prometheus)."""
    import shutil

    if shutil.which("promtool") is None:
        pytest.fail("promtool is missing: run scripts/setup (it installs Debian's prometheus package)")


@pytest.fixture(autouse=True, scope="session")
def _truth_cache(tmp_path_factory):
    """The truth rules cache shellcheck results on disk: under the session's tmp folder in tests."""
    mp = pytest.MonkeyPatch()
    mp.setenv("OPSLIB_CACHE_DIR", str(tmp_path_factory.mktemp("opslib-cache")))
    yield
    mp.undo()


CELL_TIMEOUT_S = 120


def execute_notebook(*args, attempts: int = 2, **kwargs):
    """papermill.execute_notebook with a timeout per cell, run once more when a cell's reply never
    comes. nbclient sometimes never receives the reply of a cell that displays widgets
    (jupyter/nbclient#312, nteract/papermill#711): the kernel sits idle and the run would wait
    forever. A second timeout fails the test."""
    import sys

    import papermill as pm
    from nbclient.exceptions import CellTimeoutError

    kwargs.setdefault("execution_timeout", CELL_TIMEOUT_S)
    for attempt in range(1, attempts + 1):
        try:
            return pm.execute_notebook(*args, **kwargs)
        except CellTimeoutError:
            if attempt == attempts:
                raise
            print(f"{args[0]}: a cell's reply never came (nbclient#312); running the notebook again", file=sys.stderr)
