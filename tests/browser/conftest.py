"""Browser tests: real JupyterLab and Voilà servers on localhost, driven by Debian's Chromium.

Every server runs in its own process group with its Jupyter/IPython dirs under tmp_path
(nothing touches the user's home configuration), and is shut down politely, then killed by
its own process-group id. No test leaves the machine: Chromium is launched with networking
extras off and pages route every request through a recorder that aborts non-local ones.

OPSLIB_SCREENSHOTS=docs (a folder, relative to the repository) also writes the README pictures
docs/jupyterlab-cost.png, docs/voila-cost.png and docs/review-export.png.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
LOCAL = re.compile(r"^(file:|data:|blob:|about:|https?://(127\.0\.0\.1|localhost)(:\d+)?/)")


def chromium_path() -> str:
    path = os.environ.get("OPSLIB_CHROMIUM", CHROMIUM)
    if not (Path(path).is_file() and os.access(path, os.X_OK)):
        pytest.fail(f"{path}: Chromium is missing; run scripts/setup (it installs Debian's chromium) — the browser tests never download a browser.")
    return path


@pytest.fixture(scope="module")
def browser():
    """One Chromium per module. Playwright's sync API keeps an asyncio loop running in the main
    thread while it is started, and nbclient (papermill) then takes its task-runner path, which
    can hang a notebook run: the browser lives only as long as the module that uses it, and a
    notebook run beside it runs in a process of its own."""
    path = chromium_path()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("playwright is not installed; run scripts/setup (it installs opslib's test extras).")
    pw = sync_playwright().start()
    # launch() gives every run a fresh temporary profile (its own --user-data-dir)
    b = pw.chromium.launch(executable_path=path, args=CHROMIUM_ARGS, headless=True, timeout=30_000)
    yield b
    b.close()
    pw.stop()


class Requests:
    """Every request a page makes; anything that would leave localhost is aborted and kept."""

    def __init__(self):
        self.all: list[str] = []
        self.external: list[str] = []
        self.failed: list[str] = []  # local requests that failed too (a missing file)

    def handle(self, route):
        url = route.request.url
        self.all.append(url)
        if LOCAL.match(url):
            route.continue_()
        else:
            self.external.append(url)
            route.abort()


@pytest.fixture
def page(browser):
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    ctx.set_default_timeout(30_000)
    p = ctx.new_page()
    p.requests = Requests()
    p.route("**/*", p.requests.handle)
    p.on("requestfailed", lambda r: p.requests.failed.append(r.url) if r.url not in p.requests.external else None)
    yield p
    ctx.close()


@pytest.fixture
def screenshot(request, tmp_path):
    """save(page, name, locator=None): under tmp_path, and under $OPSLIB_SCREENSHOTS/<name>.png when set."""

    def save(page, name: str, locator=None) -> Path:
        target = tmp_path / f"{name}.png"
        (locator or page).screenshot(path=str(target))
        folder = os.environ.get("OPSLIB_SCREENSHOTS")
        if folder:
            out = Path(folder) if Path(folder).is_absolute() else REPO / folder
            out.mkdir(parents=True, exist_ok=True)
            shutil.copy(target, out / f"{name}.png")
        return target

    return save


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def jupyter_env(tmp_path):
    """Environment for a Jupyter server whose config, data, runtime and IPython dirs are temporary."""
    return _jupyter_env(tmp_path)


@pytest.fixture(scope="module")
def jupyter_env_module(tmp_path_factory):
    """jupyter_env for a server that several tests of a module share."""
    return _jupyter_env(tmp_path_factory.mktemp("jupyter-env"))


def _jupyter_env(tmp_path: Path) -> dict:
    env = dict(os.environ)
    for var, sub in (("JUPYTER_CONFIG_DIR", "config"), ("JUPYTER_DATA_DIR", "data"), ("JUPYTER_RUNTIME_DIR", "runtime"),
                     ("IPYTHONDIR", "ipython"), ("MPLCONFIGDIR", "mpl")):
        env[var] = str(tmp_path / "jupyter" / sub)
        Path(env[var]).mkdir(parents=True, exist_ok=True)
    env.pop("JUPYTER_PATH", None)
    env.pop("OPSLIB_PARAMS", None)
    env["JUPYTER_PLATFORM_DIRS"] = "1"
    env["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"
    # no "get Jupyter news?" toast over the screenshots
    labconfig = Path(env["JUPYTER_CONFIG_DIR"]) / "labconfig"
    labconfig.mkdir()
    (labconfig / "page_config.json").write_text('{"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": true}}')
    return env


class Server:
    def __init__(self, cmd: list[str], env: dict, log: Path, cwd: Path | None = None):
        self.log_path = log
        self.log = open(log, "wb")
        self.proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)

    def wait_ready(self, url: str, timeout: float = 40) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"server exited with {self.proc.returncode}:\n{self.log_path.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(url, timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.25)
        pytest.fail(f"server not ready at {url} after {timeout:.0f} s:\n{self.log_path.read_text()[-3000:]}")

    def stop(self, polite=None, grace: float = 8) -> None:
        """polite() (an API call) or SIGINT first; SIGKILL to the process group after `grace` seconds."""
        if self.proc.poll() is None:
            try:
                polite() if polite else os.killpg(self.proc.pid, signal.SIGINT)
            except Exception:
                pass
            try:
                self.proc.wait(grace)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)  # the kernels too, whatever the server did
        except ProcessLookupError:
            pass
        self.proc.wait(5)
        self.log.close()


@pytest.fixture
def server():
    started: list[tuple[Server, object]] = []

    def start(cmd, env, log, cwd=None, polite=None) -> Server:
        s = Server(cmd, env, log, cwd)
        started.append((s, polite))
        return s

    yield start
    for s, polite in started:
        s.stop(polite)

