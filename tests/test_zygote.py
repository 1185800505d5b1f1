"""Kernels forked from a pre-imported zygote (opslib/zygote.py): same results as a plain kernel,
really forked, and no kernel outlives its launcher or its zygote."""

import json
import os
import signal
import subprocess
import sys
import time

import nbformat
import psutil
import pytest
from conftest import execute_notebook

from opslib.run import zygote

pytestmark = [pytest.mark.kernel, pytest.mark.timeout(420)]  # a notebook run may take two tries (conftest.execute_notebook)

PROBE = [
    "import os, sys, json, signal",
    "%matplotlib inline",
    "import matplotlib.pyplot as plt\nfig, ax = plt.subplots()\nax.plot([1, 2, 3])\nplt.show()",
    "print(json.dumps({'pid': os.getpid(), 'ppid': os.getppid(), 'cwd': os.getcwd(), "
    "'argv0': os.path.basename(sys.argv[0]), 'probe': os.environ.get('OPSLIB_PROBE'), "
    "'jpy_parent': os.environ.get('JPY_PARENT_PID'), 'path0': sys.path[0], "
    "'signals': [str(signal.getsignal(s)) for s in (signal.SIGPIPE, signal.SIGTERM, signal.SIGCHLD, signal.SIGINT)]}))",
]


def _notebook(path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in PROBE]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return str(path)


def _run(src, out, cwd, **options):
    nb = execute_notebook(src, str(out), kernel_name="python3", progress_bar=False, cwd=str(cwd),
                             log_output=False, **options)
    return nb, json.loads(nb.cells[-1].outputs[0]["text"])


@pytest.fixture
def fresh_zygote(monkeypatch):
    monkeypatch.setenv("OPSLIB_ZYGOTE", "1")
    if zygote._current is not None:
        zygote._current.close()
        zygote._current = None
    z = zygote.start(["opslib.documents.cost_plan"])
    assert z is not None, "the zygote did not start"
    yield z
    z.close()
    zygote._current = None


def test_forked_kernel_runs_a_notebook_like_a_plain_kernel(tmp_path, fresh_zygote, monkeypatch):
    src = _notebook(tmp_path / "probe.ipynb")
    monkeypatch.setenv("OPSLIB_PROBE", "from-the-manager")
    plain_nb, plain = _run(src, tmp_path / "plain.ipynb", tmp_path)
    forked_nb, forked = _run(src, tmp_path / "forked.ipynb", tmp_path,
                             kernel_manager_class=zygote.kernel_manager_class())

    assert forked["ppid"] == fresh_zygote.process.pid  # really a fork of the zygote
    assert plain["ppid"] != fresh_zygote.process.pid
    for key in ("cwd", "argv0", "probe", "path0", "jpy_parent", "signals"):  # same process context
        assert forked[key] == plain[key], key
    assert forked["probe"] == "from-the-manager"
    assert forked["jpy_parent"] == str(os.getpid())
    # the inline figure is captured (the backend's hook is installed in the forked shell)
    kinds = [[o.get("output_type") for o in c.outputs] for c in forked_nb.cells]
    assert kinds == [[o.get("output_type") for o in c.outputs] for c in plain_nb.cells]
    assert "image/png" in forked_nb.cells[2].outputs[0]["data"]


def test_a_killed_launcher_takes_its_kernel_with_it(tmp_path, fresh_zygote):
    km = zygote.kernel_manager_class(asynchronous=False)(kernel_name="python3")
    km.start_kernel(cwd=str(tmp_path))
    try:
        kc = km.client()
        kc.start_channels()
        kc.wait_for_ready(timeout=60)
        kernel = [p for p in psutil.Process(fresh_zygote.process.pid).children()]
        assert len(kernel) == 1
        launcher = km.provisioner.process
        # UNIX sockets in the zygote's private folder, not localhost TCP ports
        assert km.transport == "ipc" and km.ip.startswith(fresh_zygote.folder + os.sep)
        assert "zygote_launch.py" in " ".join(psutil.Process(launcher.pid).cmdline())
        kc.stop_channels()
        os.kill(launcher.pid, signal.SIGKILL)
        launcher.wait(timeout=20)
        kernel[0].wait(timeout=20)  # raises psutil.TimeoutExpired if the kernel stays
        assert not kernel[0].is_running()
    finally:
        km.cleanup_resources()


def test_closing_the_zygote_kills_its_kernels_and_removes_its_socket(tmp_path, fresh_zygote):
    km = zygote.kernel_manager_class(asynchronous=False)(kernel_name="python3")
    km.start_kernel(cwd=str(tmp_path))
    kc = km.client()
    kc.start_channels()
    kc.wait_for_ready(timeout=60)
    kernel = psutil.Process(fresh_zygote.process.pid).children()[0]
    kc.stop_channels()
    fresh_zygote.close()
    kernel.wait(timeout=20)
    assert not os.path.exists(fresh_zygote.folder)
    assert km.provisioner.process.wait(timeout=20) != 0  # the launcher saw its kernel go
    km.cleanup_resources()


def test_a_worker_that_dies_takes_its_zygote_with_it(tmp_path):
    script = ("import sys, os\nos.environ['OPSLIB_ZYGOTE'] = '1'\nfrom opslib.run import zygote\n"
              "z = zygote.start([])\nprint(z.process.pid, z.folder, flush=True)\nos._exit(0)\n")
    worker = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    pid = int(worker.stdout.split()[0])
    folder = worker.stdout.split()[1]
    deadline = time.monotonic() + 20
    while psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
        assert time.monotonic() < deadline, "the zygote outlived its worker"
        time.sleep(0.1)
    assert not os.path.exists(folder)  # the zygote removed its socket folder on the way out


def test_turned_off_or_failing_zygote_means_plain_kernels(monkeypatch, caplog):
    monkeypatch.setattr(zygote, "_current", None)
    monkeypatch.setenv("OPSLIB_ZYGOTE", "0")
    assert zygote.start([]) is None
    manager = zygote.kernel_manager_class()(kernel_name="python3")
    assert manager.format_kernel_cmd()[1:3] == ["-m", "ipykernel_launcher"]
    assert manager.transport == "ipc" and os.path.basename(os.path.dirname(manager.ip)).startswith("opslib-kernels-")

    monkeypatch.setenv("OPSLIB_ZYGOTE", "1")
    monkeypatch.setattr(zygote, "_warned", False)
    monkeypatch.setattr(zygote, "_wait_ready", lambda process: False)
    assert zygote.start([]) is None
    assert "the kernel zygote did not start; running plain kernels" in caplog.text
    assert zygote.current() is None


def test_launcher_without_a_zygote_says_what_to_do(tmp_path):
    done = subprocess.run([sys.executable, "-I", "-S", str(zygote.LAUNCHER), str(tmp_path / "none.sock"), "-f", "x.json"],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 1
    assert "cannot reach the kernel zygote" in done.stderr and "OPSLIB_ZYGOTE=0" in done.stderr


def test_notebook_modules_reads_the_import_lines(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("%matplotlib inline\nimport os, json as j\nfrom opslib import cost, notebook\n"),
                nbformat.v4.new_markdown_cell("import not_this"),
                nbformat.v4.new_code_cell("def f(:\n  pass"),  # a syntax error is skipped, not fatal
                nbformat.v4.new_code_cell("from . import relative\nif True:\n    import nested")]
    path = tmp_path / "n.ipynb"
    nbformat.write(nb, path)
    assert zygote.notebook_modules([str(path)]) == ["os", "json", "opslib", "opslib.cost", "opslib.notebook"]
