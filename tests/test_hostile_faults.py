"""Faults: concurrent writers and signals (issue 22). Nothing is lost, nothing is left.

- Two writers of one project, many times over, with a reader watching: build/<project>/ is
  never missing a document once it exists, and no staging folder is left.
- SIGTERM (to the batch, to its whole process group) and Ctrl-C (SIGINT to the group) stop
  workers, zygotes and kernels, remove temporary folders and exit 143 / 130 without a
  traceback; the previous build/<project>/ is intact. "Left behind" is checked by listing:
  processes whose command line names the test's TMPDIR (zygotes, launchers, kernels and their
  connection files all live there), files in TMPDIR, hidden folders in --out.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import REPO

from opslib.run.batch import ProjectOutcome, ProjectResult, store_outcome

OPSLIB = str(Path(sys.executable).with_name("opslib"))
FILES = [f"doc-{i}.md" for i in range(24)] + ["figures/a.png", "figures/b.png", "ci/.gitlab-ci.yml", "run.json"]


# --- concurrent writers -------------------------------------------------------------------


def _files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def _writer(out: str, tag: str, rounds: int, problems) -> None:
    from opslib.core import files

    for i in range(rounds):
        data = {rel: f"{tag} {i} {rel}\n".encode() for rel in FILES}
        result = store_outcome(ProjectOutcome(ProjectResult("proj", "p.yaml", ok=True), data), Path(out))
        if not result.ok:
            problems.put(f"write {tag} {i} failed: {result.error}")
        # right after a write reported success, build/proj/ holds every document (listed under
        # the folder's lock, as the writers take it, so the listing itself is consistent)
        with files.folder_lock(out) if hasattr(files, "folder_lock") else open(os.devnull):
            found = _files(Path(out) / "proj")
        if found != sorted(FILES):
            problems.put(f"after write {tag} {i}: {len(found)} of {len(FILES)} files")


def _reader(out: str, stop, problems) -> None:
    """Without any lock, like a person opening the runbook: the folder and a document are always there."""
    final = Path(out) / "proj"
    while not stop.is_set():
        try:
            (final / "doc-0.md").read_bytes()
        except FileNotFoundError:
            problems.put("build/proj/doc-0.md missing for a reader")


@pytest.mark.timeout(180)
def test_two_writers_of_one_project_never_lose_a_document(tmp_path):
    ctx = multiprocessing.get_context("spawn")
    out = tmp_path / "out"
    out.mkdir()
    first = {rel: f"first 0 {rel}\n".encode() for rel in FILES}
    assert store_outcome(ProjectOutcome(ProjectResult("proj", "p.yaml", ok=True), first), out).ok
    stop, problems = ctx.Event(), ctx.Queue()
    reader = ctx.Process(target=_reader, args=(str(out), stop, problems))
    writers = [ctx.Process(target=_writer, args=(str(out), tag, 40, problems)) for tag in ("a", "b")]
    reader.start()
    for w in writers:
        w.start()
    for w in writers:
        w.join(150)
    stop.set()
    reader.join(30)
    assert [w.exitcode for w in writers] == [0, 0]
    found = []
    while not problems.empty():
        found.append(problems.get())
    assert not found, found[:5]
    assert _files(out / "proj") == sorted(FILES)
    assert sorted(p.name for p in out.iterdir()) == ["proj"]  # no staging or .old folder left
    texts = {(out / "proj" / rel).read_text().split()[0] for rel in FILES}
    assert len(texts) == 1  # one writer's complete set, not a mix


def _render(params: str, out: str, rounds: int) -> None:
    from opslib.run.render import render_project

    for _ in range(rounds):
        render_project(params, out)


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_two_concurrent_renders(tmp_path):
    for name in ("parameters", "examples"):
        shutil.copytree(REPO / name, tmp_path / name)
    params, out = str(tmp_path / "parameters" / "weather-api.yaml"), str(tmp_path / "out")
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_render, args=(params, out, 3)) for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(500)
    assert [p.exitcode for p in procs] == [0, 0]
    final = tmp_path / "out" / "weather-api"
    for doc in ("runbook.md", "cost-plan.md", "secrets.md", "pipeline.md", "alerts.yml", "readiness.md", "run.json"):
        assert (final / doc).is_file()
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["weather-api"]


# --- signals --------------------------------------------------------------------------------


def _alive_naming(text: str) -> list[str]:
    """Processes (not zombies) whose command line contains `text`."""
    found = subprocess.run(["pgrep", "-af", text], capture_output=True, text=True).stdout.splitlines()
    out = []
    for line in found:
        pid = line.split()[0]
        state = subprocess.run(["ps", "-o", "stat=", "-p", pid], capture_output=True, text=True).stdout.strip()
        if state and not state.startswith("Z") and "pgrep" not in line:
            out.append(line)
    return out


@pytest.fixture
def signal_sandbox(tmp_path):
    for name in ("parameters", "examples"):
        shutil.copytree(REPO / name, tmp_path / name)
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    previous = tmp_path / "out" / "weather-api"
    previous.mkdir(parents=True)
    (previous / "runbook.md").write_text("the previous runbook\n")
    return tmp_path


def _start(sandbox: Path, *argv: str) -> subprocess.Popen:
    env = {**os.environ, "TMPDIR": str(sandbox / "tmp")}
    return subprocess.Popen([OPSLIB, *argv], cwd=sandbox, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


def _wait_for(condition, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError("the run never reached the state to interrupt it in")


def _assert_nothing_left(sandbox: Path) -> None:
    time.sleep(1)
    assert not _alive_naming(str(sandbox / "tmp")), _alive_naming(str(sandbox / "tmp"))
    assert not list((sandbox / "tmp").rglob("*")), list((sandbox / "tmp").rglob("*"))[:5]
    assert not [p.name for p in (sandbox / "out").iterdir() if p.name.startswith(".")]
    assert (sandbox / "out" / "weather-api" / "runbook.md").read_text() == "the previous runbook\n"


@pytest.mark.kernel
@pytest.mark.timeout(400)
@pytest.mark.parametrize("sig, target, code", [(signal.SIGTERM, "process", 143), (signal.SIGTERM, "group", 143),
                                               (signal.SIGINT, "group", 130)])
def test_batch_stops_cleanly_on_a_signal(signal_sandbox, sig, target, code):
    sandbox = signal_sandbox
    proc = _start(sandbox, "batch", "parameters/weather-api.yaml", "parameters/shop-platform.yaml", "--jobs", "2", "--quiet",
                  "--out", "out", "--notebooks", str(REPO / "notebooks"))
    # a kernel is running (its launcher names the private folder under TMPDIR)
    _wait_for(lambda: any("zygote_launch" in line or "ipykernel" in line for line in _alive_naming(str(sandbox / "tmp"))), 300)
    (os.killpg if target == "group" else os.kill)(proc.pid, sig)
    _out, err = proc.communicate(timeout=90)
    assert proc.returncode == code, err
    assert "Traceback" not in err and "ERROR" not in err, err
    assert err.strip().splitlines()[-1].startswith("opslib: "), err
    _assert_nothing_left(sandbox)


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_render_stops_cleanly_on_sigterm(signal_sandbox):
    sandbox = signal_sandbox
    proc = _start(sandbox, "render", "parameters/weather-api.yaml", "--out", "out")
    _wait_for(lambda: any(p.name.startswith(".weather-api.") for p in (sandbox / "out").iterdir()), 240)
    proc.send_signal(signal.SIGTERM)
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 143 and "Traceback" not in err, err
    _assert_nothing_left(sandbox)


@pytest.mark.kernel
@pytest.mark.timeout(400)
def test_a_good_batch_prints_no_kernel_errors(signal_sandbox):
    sandbox = signal_sandbox
    proc = _start(sandbox, "batch", "parameters/weather-api.yaml", "--jobs", "1", "--quiet", "--out", "out",
                  "--notebooks", str(REPO / "notebooks"))
    out, err = proc.communicate(timeout=380)
    assert proc.returncode == 0, err
    assert "ERROR" not in err and "KeyboardInterrupt" not in err and "Traceback" not in err, err
    assert not list((sandbox / "tmp").rglob("*"))
    assert not _alive_naming(str(sandbox / "tmp"))
