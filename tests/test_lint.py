"""The lint gate: ruff, mypy (configured in pyproject.toml) and vulture pass over the code base.

Each tool runs as a subprocess of this Python (the test venv's), from the repository root.
vulture reads tests/vulture_allowlist.py: the names it reports that are used (say why there).
scripts/test runs ruff and mypy before pytest as well, so a lint failure shows in seconds.
"""

import subprocess
import sys

import pytest
from conftest import REPO

COMMANDS = {
    "ruff": ["ruff", "check", "opslib", "tests", "benchmarks", "deploy"],
    "mypy": ["mypy"],
    "vulture": ["vulture", "opslib", "tests/vulture_allowlist.py", "--min-confidence", "80"],
}


@pytest.mark.slow
@pytest.mark.parametrize("tool", sorted(COMMANDS))
def test_lint_passes(tool):
    cmd = [sys.executable, "-m", *COMMANDS[tool]]
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{' '.join(COMMANDS[tool])} exited {done.returncode}:\n{done.stdout}{done.stderr}"
