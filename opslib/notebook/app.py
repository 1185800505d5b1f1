"""The notebooks as apps: `opslib app cost` (Voilà) serves the cost explorer to budget owners,
no code shown.

Voilà has no papermill parameters: the app passes the parameters file to the notebook in the
environment variable OPSLIB_PARAMS (the session's default, notebook/session.py) and marks the
kernel as the app's with OPSLIB_APP: the session then shows no developer text and the explorer
saves only scenarios, by name, into scenarios/<project>/ — a web user never chooses a path.

The CLI starts Voilà as a child in a session of its own and stays its parent: SIGTERM, SIGINT
and SIGHUP stop Voilà and every process under it (kernels included), then the app exits; none
is left listening. Importing this module imports neither Voilà nor Jupyter.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

__all__ = ["APPS", "PARAMS_ENV", "APP_ENV", "voila_command", "descendants", "stop_tree", "serve_until_stopped"]

PARAMS_ENV = "OPSLIB_PARAMS"
APP_ENV = "OPSLIB_APP"
APPS = {"cost": "10-cost-plan.ipynb"}
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


def voila_command(notebook: Path, port: int, ip: str = "127.0.0.1") -> list[str]:
    """The voila command line: no browser, no sources, the lab template, one notebook."""
    return [sys.executable, "-m", "voila", str(notebook), "--no-browser", f"--port={port}", f"--Voila.ip={ip}",
            "--strip_sources=True", "--template=lab", "--theme=light", "--show_tracebacks=False",
            "--VoilaConfiguration.file_allowlist=['.*\\.png']"]


def descendants(pid: int) -> list[int]:
    """Every process under `pid` (Linux /proc; none elsewhere), children first."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").glob("[0-9]*/stat"):
        try:
            stat = entry.read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2:].split()
        parents.setdefault(int(fields[1]), []).append(int(entry.parent.name))
    out, todo = [], [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (exited, not yet reaped by its parent) is gone for our purpose
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][:1] != "Z"
    except (OSError, IndexError):
        return True


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def stop_tree(proc: subprocess.Popen, grace: float = 10.0) -> None:
    """SIGTERM to the child (Voilà shuts its kernels down), then to whatever is left under it,
    then SIGKILL; returns when none of them runs."""
    tree = descendants(proc.pid)
    if proc.poll() is None:
        _signal(proc.pid, signal.SIGTERM)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            pass
    left = [p for p in tree if _alive(p)]
    for p in left:
        _signal(p, signal.SIGTERM)
    deadline = time.monotonic() + 3
    while left and time.monotonic() < deadline:
        time.sleep(0.1)
        left = [p for p in left if _alive(p)]
    for p in [*left, proc.pid]:
        _signal(p, signal.SIGKILL)
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # its session's group: anything it started and we did not see
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()


class _Stop(Exception):
    pass


def serve_until_stopped(cmd: list[str], env: dict[str, str]) -> int:
    """Run `cmd` (Voilà) until it exits or this process gets SIGTERM, SIGINT or SIGHUP; then stop
    it and everything under it. Returns the child's exit code, or 0 after a stop signal."""
    def stop(signum, frame):
        raise _Stop(signum)

    previous = {s: signal.signal(s, stop) for s in STOP_SIGNALS}
    proc = None
    try:
        proc = subprocess.Popen(cmd, env=env, start_new_session=True)
        return proc.wait()
    except (_Stop, KeyboardInterrupt):
        return 0
    finally:
        for s in STOP_SIGNALS:  # a second signal must not interrupt the cleanup
            signal.signal(s, signal.SIG_IGN)
        if proc is not None:
            stop_tree(proc)
        for s, handler in previous.items():
            signal.signal(s, handler)
