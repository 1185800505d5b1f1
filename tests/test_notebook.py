"""The notebooks themselves: thin, output-free in git, and executable with papermill."""

import json

import papermill as pm
import pytest
from conftest import PARAMS, REPO

from opslib.notebook import common as notebook

NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_without_outputs_and_thin(nb):
    data = json.loads(nb.read_text())
    code = [c for c in data["cells"] if c["cell_type"] == "code"]
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in code)
    for c in code:
        src = "".join(c["source"])
        assert not any(line.lstrip().startswith(("def ", "class ")) for line in src.splitlines()), src
        assert len(src.splitlines()) <= 8, src
    tagged = [c for c in code if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1


@pytest.mark.kernel
def test_runbook_notebook_interactive(tmp_path):
    """Executed as a person would open it (interactive explorer on), previewing shop-platform."""
    out = tmp_path / "30-runbook.ipynb"
    pm.execute_notebook(
        str(REPO / "notebooks" / "30-runbook.ipynb"), str(out),
        parameters={"params_path": str(PARAMS / "shop-platform.yaml"), "out_dir": "", "interactive": True},
        kernel_name="python3", progress_bar=False, cwd=str(REPO / "notebooks"),
    )
    nb = json.loads(out.read_text())
    outputs = [o for c in nb["cells"] if c["cell_type"] == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o["output_type"] == "error"]
    mimes = {m for o in outputs for m in o.get("data", {})}
    assert "application/vnd.jupyter.widget-view+json" in mimes
    text = json.dumps(outputs)
    assert "Runbook: shop-platform" in text and "Preview only" in text


def test_explorer_updates_on_dropdown_change():
    """The explorer's drop-downs drive the preview: the callbacks run in-process here."""
    from opslib.notebook.common import runbook_explorer

    box = runbook_explorer(PARAMS / "shop-platform.yaml")
    (project, env, platform), _message, checks, preview = box.children[0].children, *box.children[1:]
    assert "Runbook: shop-platform" in preview.value and "0 fail" not in checks.value
    assert "target the <strong>prod</strong> environment" in preview.value
    env.value = "staging"
    assert "target the <strong>staging</strong> environment" in preview.value
    platform.value = "vm-systemd"
    assert "systemctl" in preview.value and "fail</td>" not in checks.value
    project.value = str(PARAMS / "weather-api.yaml")
    assert "Runbook: weather-api" in preview.value and env.value == "prod"


@pytest.mark.parametrize("text, expected", [
    ("from $120 to $80 a month", r"from \$120 to \$80 a month"),
    ("run `echo $HOME` for $5", r"run `echo $HOME` for \$5"),
    ("```bash\nexport A=$B\n```\n$1", "```bash\nexport A=$B\n```\n\\$1"),
    ("~~~\n$x\n~~~", "~~~\n$x\n~~~"),
    ("no money here", "no money here"),
])
def test_money_is_not_typeset_as_latex(text, expected):
    assert notebook.escape_dollars(text) == expected
