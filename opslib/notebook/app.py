"""The notebooks as apps: `opslib app cost` (Voilà) serves the cost explorer, no code shown.

Voilà has no papermill parameters: the app passes the parameters file to the notebook in the
environment variable OPSLIB_PARAMS, which the notebook's parameters cell defaults to (a
papermill run still overrides the cell). Importing this module imports neither Voilà nor
Jupyter; the CLI starts Voilà as a child process.
"""

from __future__ import annotations

import sys
from pathlib import Path

__all__ = ["APPS", "PARAMS_ENV", "voila_command"]

PARAMS_ENV = "OPSLIB_PARAMS"
APPS = {"cost": "10-cost-plan.ipynb"}


def voila_command(notebook: Path, port: int, ip: str = "127.0.0.1") -> list[str]:
    """The voila command line: no browser, no sources, the lab template, one notebook."""
    return [sys.executable, "-m", "voila", str(notebook), "--no-browser", f"--port={port}", f"--Voila.ip={ip}",
            "--strip_sources=True", "--template=lab", "--theme=light", "--show_tracebacks=False",
            "--VoilaConfiguration.file_allowlist=['.*\\.png']"]
