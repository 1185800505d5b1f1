"""Kernels forked from a pre-imported process: the batch's answer to "every notebook starts a kernel".

A fresh ``python -m ipykernel_launcher`` spends about 1.2 s of CPU before the first cell of an
opslib notebook does any work: the interpreter, IPython, ipykernel, zmq, then pandas,
matplotlib, pydantic and opslib. A batch starts six kernels per project, so on two cores that
start-up is a quarter of the whole run. The zygote pays it once per worker process:

- ``start(modules)`` launches ``python -m opslib.run.zygote SOCKET MODULE…``, which imports the
  kernel machinery and the modules the notebooks import, then waits on a UNIX socket.
- ``ZygoteKernelManager`` (the batch passes it to papermill) replaces the kernel command
  ``python -m ipykernel_launcher -f CONN`` by ``python -I -S zygote_launch.py SOCKET -f CONN``.
  The launcher sends its working directory, environment and standard streams (as file
  descriptors) to the zygote, which forks; the child takes them over and runs the ordinary
  ``IPKernelApp`` with the same arguments. The launcher stands in for the kernel: signals are
  forwarded, its exit code is the kernel's.
- Nothing is shared after the fork except memory pages that were never written: each kernel
  starts from the same freshly imported state a new process would reach, with the environment
  the kernel manager chose. No zmq context, event loop or thread exists in the zygote before
  it forks (it only imports), and random generators are re-seeded in the child.
- Clean-up: a kernel whose launcher dies is killed by the zygote; the zygote exits (killing its
  kernels) when its parent closes the pipe to it, i.e. when the worker exits for any reason.

``OPSLIB_ZYGOTE=0`` turns it off (plain kernels); a zygote that fails to start is reported once
on stderr and the batch goes on with plain kernels.
"""

from __future__ import annotations

import atexit
import importlib
import json
import logging
import os
import selectors
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import uuid
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

LAUNCHER = Path(__file__).with_name("zygote_launch.py")
READY_TIMEOUT_S = 120.0
SOCKET_NAME = "kernels.sock"
# Always worth having in the zygote: the kernel itself, and what opslib's notebooks import while
# they run (opslib imports these lazily, so the notebooks' import lines alone miss them): the
# heaviest packages in sys.modules after each notebook has run, compared with its first cell.
# Not matplotlib_inline.backend_inline: it hooks into the IPython shell when imported, and the
# shell only exists in the forked kernel.
BASE_MODULES = ("ipykernel.kernelapp", "ipykernel.ipkernel", "opslib", "pandas", "matplotlib.pyplot",
                "matplotlib.backends.backend_agg", "PIL.PngImagePlugin", "ipywidgets", "IPython.display",
                "duckdb", "detect_secrets.core.scan", "markdown_it", "jinja2", "nbformat")
# …and calls that warm a cache the kernels use: jsonschema's validator, compiled the cheap way
# the kernels compile it
PRELOAD_CALLS = (("opslib.documents.ci_files", "draft7_validator"),)
LOG = logging.getLogger(__name__)


# --- the zygote process -----------------------------------------------------------------


def _preload(modules: list[str]) -> None:
    # What IPKernelApp.init_gui_pylab does before any user code runs; matplotlib reads it at import.
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    for name in [*BASE_MODULES, *modules]:
        try:
            importlib.import_module(name)
        except Exception:  # the kernel will import it again and report the error in its cell
            pass
    for module, function in PRELOAD_CALLS:
        try:
            getattr(importlib.import_module(module), function)()
        except Exception:  # as above: the kernel reports it
            pass


def _recv_request(conn: socket.socket) -> tuple[dict, list[int]]:
    data, fds, _flags, _addr = socket.recv_fds(conn, 65536, 3)
    if len(data) < 4:
        raise ValueError("short request")
    size = struct.unpack("!I", data[:4])[0]
    body = data[4:]
    while len(body) < size:
        chunk = conn.recv(size - len(body))
        if not chunk:
            raise ValueError("truncated request")
        body += chunk
    return json.loads(body), list(fds)


def _run_kernel(request: dict, fds: list[int], keep_closed: list[int]) -> None:
    """In the forked child: become the kernel the launcher asked for; never returns."""
    code = 1
    try:
        for fd in keep_closed:
            try:
                os.close(fd)
            except OSError:
                pass
        signal.set_wakeup_fd(-1)
        for signum in (signal.SIGCHLD, signal.SIGTERM):  # back to what a new Python process has
            signal.signal(signum, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        os.setsid()
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
            os.close(fd)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        import importlib.util
        import random

        launcher = importlib.util.find_spec("ipykernel_launcher")
        if launcher is None or launcher.origin is None:
            raise ModuleNotFoundError("ipykernel_launcher: install ipykernel to run kernels")
        sys.argv = [launcher.origin, *request["args"]]
        random.seed()
        if "numpy" in sys.modules:
            sys.modules["numpy"].random.seed()
        from ipykernel import kernelapp

        # ipykernel reads these two trait defaults from the environment at import time, which
        # happened in the zygote: give the kernel the values its own environment holds.
        extra = [f"--IPKernelApp.parent_handle={int(os.environ.get('JPY_PARENT_PID') or 0)}",
                 f"--IPKernelApp.interrupt={int(os.environ.get('JPY_INTERRUPT_EVENT') or 0)}"]
        kernelapp.launch_new_instance(argv=[*sys.argv[1:], *extra])
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:
        import traceback

        traceback.print_exc()
    finally:
        try:
            atexit._run_exitfuncs()  # what the interpreter would do at the end of a kernel process
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def serve(path: str, modules: list[str]) -> int:
    """Import, listen on `path`, fork one kernel per request until stdin closes; then kill the
    kernels left and remove `path`'s folder (a private one, made by start() for this zygote)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the batch; the zygote ends with its worker
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # through `finally`: kill the kernels first
    if sys.path and sys.path[0] in ("", os.getcwd()):
        del sys.path[0]  # like ipykernel_launcher: the kernel adds its working directory itself
    _preload(modules)
    if threading.active_count() > 1:  # forking a process with Python threads is unsafe
        LOG.warning("opslib zygote: an imported module started a thread; not forking kernels.")
        return 1
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(16)
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    selector = selectors.DefaultSelector()
    selector.register(server, selectors.EVENT_READ, "accept")
    selector.register(sys.stdin, selectors.EVENT_READ, "parent")
    selector.register(wake_r, selectors.EVENT_READ, "child-exit")
    kernels: dict[int, socket.socket | None] = {}  # kernel pid -> its launcher's connection
    sys.stdout.write("ready\n")
    sys.stdout.flush()

    def reap() -> None:
        while kernels:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            conn = kernels.pop(pid, None)
            if conn is not None:
                try:
                    conn.sendall(f"exit {os.waitstatus_to_exitcode(status)}\n".encode())
                except OSError:
                    pass
                selector.unregister(conn)
                conn.close()

    try:
        while True:
            for key, _ in selector.select():
                if key.data == "parent":
                    if not os.read(sys.stdin.fileno(), 4096):
                        return 0
                elif key.data == "child-exit":
                    os.read(wake_r, 4096)
                    reap()
                elif key.data == "accept":
                    conn, _ = server.accept()
                    try:
                        request, fds = _recv_request(conn)
                    except (OSError, ValueError):
                        conn.close()
                        continue
                    sys.stdout.flush()
                    sys.stderr.flush()
                    others = [server.fileno(), selector.fileno(), wake_r, wake_w, sys.stdin.fileno(), conn.fileno(),
                              *(c.fileno() for c in kernels.values() if c is not None)]
                    pid = os.fork()
                    if pid == 0:
                        _run_kernel(request, fds, others)
                    for fd in fds:
                        os.close(fd)
                    kernels[pid] = conn
                    selector.register(conn, selectors.EVENT_READ, pid)
                    conn.sendall(f"pid {pid}\n".encode())
                else:  # a launcher's connection: it never writes, so readable means it is gone
                    pid = key.data
                    gone = kernels.get(pid)
                    if gone is None or gone is not key.fileobj:  # reap(), earlier in this round, told it and closed it
                        continue
                    selector.unregister(gone)
                    gone.close()
                    kernels[pid] = None  # reaped later; nobody to tell
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
    finally:
        for pid in list(kernels):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        shutil.rmtree(os.path.dirname(path), ignore_errors=True)  # the folder start() made for this zygote


# --- the worker side --------------------------------------------------------------------


class Zygote:
    def __init__(self, process: subprocess.Popen, folder: str):
        self.process = process
        self.folder = folder
        self.socket_path = os.path.join(folder, SOCKET_NAME)

    def alive(self) -> bool:
        return self.process.poll() is None

    def close(self) -> None:
        if self.process.poll() is None:
            try:
                if self.process.stdin is not None:
                    self.process.stdin.close()  # the zygote ends when its stdin closes
                self.process.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                self.process.kill()
                self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None and not stream.closed:
                stream.close()
        shutil.rmtree(self.folder, ignore_errors=True)


_current: Zygote | None = None
_lock = threading.Lock()
_warned = False


def enabled() -> bool:
    return os.environ.get("OPSLIB_ZYGOTE", "1").strip().lower() not in ("0", "false", "no", "off")


def start(modules: Sequence[str] = (), notebooks: Sequence[str] = ()) -> Zygote | None:
    """The zygote of this process, started on first use with `modules` and what `notebooks`
    import preloaded (read only then); None when turned off or when it could not start (then
    plain kernels are used)."""
    global _current, _warned
    if not enabled():
        return None
    with _lock:
        if _current is not None and _current.alive():
            return _current
        folder = tempfile.mkdtemp(prefix="opslib-zygote-")
        env = {**os.environ, "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
        process = subprocess.Popen(
            [sys.executable, "-m", "opslib.run.zygote", os.path.join(folder, SOCKET_NAME), *modules,
             *notebook_modules(notebooks)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, cwd=folder)
        zygote = Zygote(process, folder)
        if _wait_ready(process):
            _current = zygote
            atexit.register(zygote.close)
            return zygote
        zygote.close()
        if not _warned:
            LOG.warning("opslib: the kernel zygote did not start; running plain kernels (slower). "
                        "Set OPSLIB_ZYGOTE=0 to silence this.")
            _warned = True
        return None


def _wait_ready(process: subprocess.Popen) -> bool:
    if process.stdout is None:  # start() opens it (stdout=PIPE)
        return False
    stdout = process.stdout
    selector = selectors.DefaultSelector()
    selector.register(stdout, selectors.EVENT_READ)
    ready = bool(selector.select(READY_TIMEOUT_S)) and stdout.readline() == b"ready\n"
    selector.close()
    return ready


def current() -> Zygote | None:
    return _current if _current is not None and _current.alive() else None


def notebook_modules(notebooks: Sequence[str]) -> list[str]:
    """The modules the notebooks' code cells import at top level (what the zygote preloads)."""
    import ast

    import nbformat

    found: dict[str, None] = {}
    for path in notebooks:
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            source = "\n".join(ln for ln in cell.source.splitlines() if not ln.lstrip().startswith(("%", "!")))
            try:
                tree = ast.parse(source)
            except SyntaxError:
                continue
            for node in tree.body:
                if isinstance(node, ast.Import):
                    found.update((alias.name, None) for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    found[node.module] = None
                    found.update((f"{node.module}.{alias.name}", None) for alias in node.names)
    return list(found)


def kernel_command(cmd: list[str]) -> list[str]:
    """The command that starts kernel `cmd` through this process's zygote; `cmd` unchanged when
    there is no zygote or `cmd` is not an ipykernel of this interpreter."""
    zygote = current()
    if (zygote is None or len(cmd) < 3 or cmd[1:3] != ["-m", "ipykernel_launcher"]
            or os.path.realpath(cmd[0]) != os.path.realpath(sys.executable)):
        return cmd
    return [sys.executable, "-I", "-S", str(LAUNCHER), zygote.socket_path, *cmd[3:]]


@lru_cache(maxsize=1)
def _ipc_folder() -> str:
    folder = tempfile.mkdtemp(prefix="opslib-kernels-")  # 0700: only this user reaches the sockets
    atexit.register(shutil.rmtree, folder, True)
    return folder


@lru_cache(maxsize=2)
def kernel_manager_class(asynchronous: bool = True):
    """A jupyter_client kernel manager (async, as nbclient and papermill use, or blocking) that
    starts python3 kernels through this process's zygote when there is one, and talks to them
    over UNIX sockets in a private folder (IPC transport) instead of localhost TCP ports: no
    port races between workers, and no "running over TCP without encryption" warning per kernel."""
    from jupyter_client import AsyncKernelManager, KernelManager
    from traitlets import default

    # mypy cannot type a base class chosen at run time (both are KernelManager subclasses)
    class ZygoteKernelManager(AsyncKernelManager if asynchronous else KernelManager):  # type: ignore[misc]
        @default("transport")
        def _opslib_transport(self):
            return "ipc"

        @default("ip")
        def _opslib_ip(self):
            if self.transport == "ipc":  # the zygote's folder goes with the zygote, however its worker ends
                zygote = current()
                return os.path.join(zygote.folder if zygote else _ipc_folder(), uuid.uuid4().hex[:12])
            return super()._ip_default()

        def format_kernel_cmd(self, extra_arguments=None):
            return kernel_command(super().format_kernel_cmd(extra_arguments))

        async def _async_interrupt_kernel(self):
            # jupyter_client interrupts every kernel it shuts down; nbclient shuts one down after
            # its last cell, when nothing runs, and a SIGINT that lands in a message handler makes
            # ipykernel log "ERROR | KeyboardInterrupt caught in kernel." on a good run. The
            # shutdown request (and the kill after it, if need be) still follows.
            if self.shutting_down:
                return
            await super()._async_interrupt_kernel()

    return ZygoteKernelManager


if __name__ == "__main__":
    sys.exit(serve(sys.argv[1], sys.argv[2:]))
