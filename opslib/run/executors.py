"""Where `opslib batch` runs its projects: one task per project, results as they complete.

    SerialExecutor()              in this process, one project after another (--jobs 1)
    ProcessExecutor(jobs)         a pool of long-lived worker processes on this machine; each
                                  imports papermill, nbconvert and opslib once (warm_imports)
    DaskExecutor(address)         the workers of an existing Dask cluster (distributed.Client)

Each is a context manager with `run(fn, tasks)`, which yields `(task, result)` pairs in
completion order; `result` is what `fn(task)` returned or the exception that stopped it (a
worker that died). Tasks and results travel by pickle: they hold text and bytes, never
paths on a worker's disk.

Signals: a worker process stops on SIGTERM or SIGINT — inside a task by raising (Terminated or
KeyboardInterrupt: the task's clean-up runs, its kernels are shut down), between tasks (or
while exiting) by stopping its zygote and leaving quietly. When the batch is interrupted, ProcessExecutor
sends SIGTERM to its workers and waits for them (then kills what is left), so no worker,
zygote or kernel outlives the batch.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from opslib.documents.contract import document_modules
from opslib.errors import InputError, Terminated
from opslib.run import zygote

if TYPE_CHECKING:  # imported when an executor starts (distributed takes seconds)
    from concurrent.futures import ProcessPoolExecutor

    from distributed import Client

__all__ = ["SerialExecutor", "ProcessExecutor", "DaskExecutor", "make_executor", "warm_imports"]

STOP_WAIT_S = 30.0
_busy = False  # a worker process is running a task


def _ignore(_signum: int, _frame: Any) -> None:
    return None


def _stop_worker(signum: int, _frame: Any) -> None:
    # once: a second signal (the group's and then the batch's own) must not cut the clean-up short
    # (a handler that does nothing, not SIG_IGN: Python raises OSError for a signal pending on SIG_IGN)
    signal.signal(signal.SIGTERM, _ignore)
    signal.signal(signal.SIGINT, _ignore)
    if _busy:
        raise Terminated() if signum == signal.SIGTERM else KeyboardInterrupt()
    # idle, or already exiting (in atexit, where an exception only prints a traceback): clean up here and leave
    zygote.shutdown()
    os._exit(128 + signum)


def _run_task(fn: Callable, task: Any) -> Any:
    global _busy
    _busy = True
    try:
        return fn(task)
    finally:
        _busy = False


def warm_imports() -> None:
    """Set the worker's signal handlers, then import what every project needs, once per worker
    process (papermill alone costs seconds)."""
    signal.signal(signal.SIGTERM, _stop_worker)
    signal.signal(signal.SIGINT, _stop_worker)
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    import nbconvert  # noqa: F401
    import papermill  # noqa: F401
    from nbconvert import HTMLExporter  # noqa: F401

    document_modules()


class SerialExecutor:
    def __enter__(self) -> SerialExecutor:
        return self

    def __exit__(self, *exc) -> None:
        return None

    def run(self, fn: Callable, tasks: Iterable) -> Iterator[tuple[Any, Any]]:
        for task in tasks:
            try:
                yield task, fn(task)
            except Exception as exc:  # noqa: BLE001 — reported per project by the caller
                yield task, exc


class ProcessExecutor:
    def __init__(self, jobs: int):
        self.jobs = jobs
        self.pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> ProcessExecutor:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        # spawn, not fork: the parent has threads (the progress bar's monitor), and forking a
        # threaded process is unsafe (a DeprecationWarning from Python 3.12 on)
        self.pool = ProcessPoolExecutor(max_workers=self.jobs, initializer=warm_imports,
                                        mp_context=multiprocessing.get_context("spawn"))
        return self

    def __exit__(self, exc_type, *exc) -> None:
        if self.pool is None:
            return
        if exc_type is None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            return
        # interrupted (Ctrl-C, SIGTERM, an error here): stop the workers, wait for their clean-up
        processes = list(getattr(self.pool, "_processes", {}).values())
        for proc in processes:
            if proc.is_alive() and proc.pid is not None:
                try:
                    os.kill(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        # the workers return from their task and take the pool's "stop" like after a normal run
        # (closing the queues under them made each print an EOFError traceback)
        stopper = threading.Thread(target=self.pool.shutdown, kwargs={"wait": True, "cancel_futures": True}, daemon=True)
        stopper.start()
        stopper.join(STOP_WAIT_S)
        if stopper.is_alive():
            for proc in processes:
                if proc.is_alive():
                    proc.kill()  # its zygote sees the pipe close and kills its kernels
            stopper.join(5)

    def run(self, fn: Callable, tasks: Iterable) -> Iterator[tuple[Any, Any]]:
        from concurrent.futures import as_completed

        if self.pool is None:
            raise RuntimeError("ProcessExecutor.run: start the executor with `with` first")
        pool = self.pool
        futures = {pool.submit(_run_task, fn, t): t for t in tasks}
        for fut in as_completed(futures):
            try:
                yield futures[fut], fut.result()
            except Exception as exc:  # noqa: BLE001 — a worker that died (BrokenProcessPool)
                yield futures[fut], exc


class DaskExecutor:
    """Projects as tasks on an existing Dask cluster. The workers need opslib installed and the
    parameters, their linked files and the notebooks at the same paths as here (the same
    checkout or image); they return documents as bytes and this process writes them."""

    def __init__(self, address: str, timeout_s: float = 20):
        self.address = address
        self.timeout_s = timeout_s
        self.client: Client | None = None

    def __enter__(self) -> DaskExecutor:
        try:
            from distributed import Client
        except ImportError:
            raise InputError("--executor dask needs the distributed package; pip install distributed (or dask[distributed]).") from None
        try:
            self.client = Client(self.address, timeout=self.timeout_s, set_as_default=False)
        except (OSError, TimeoutError) as exc:
            raise InputError(f"--scheduler {self.address}: cannot connect to the Dask scheduler ({exc.__class__.__name__}); "
                             "check the address or start one with `dask scheduler`.") from None
        return self

    def __exit__(self, *exc) -> None:
        if self.client is not None:
            self.client.close()

    def run(self, fn: Callable, tasks: Iterable) -> Iterator[tuple[Any, Any]]:
        import uuid

        from distributed import as_completed

        if self.client is None:
            raise RuntimeError("DaskExecutor.run: start the executor with `with` first")
        client = self.client
        futures = {}
        for t in tasks:
            key = f"opslib-batch-{getattr(t, 'project', 'project')}-{uuid.uuid4().hex[:8]}"
            futures[client.submit(fn, t, key=key, pure=False)] = t
        with client.as_current():  # as_completed looks the client up; ours is not the default
            completed = as_completed(list(futures))
        for fut in completed:
            try:
                yield futures[fut], fut.result()
            except Exception as exc:  # noqa: BLE001 — a worker that died or lost the task
                yield futures[fut], exc


def make_executor(kind: str, jobs: int, n_tasks: int, scheduler: str | None = None):
    if kind == "dask":
        if not scheduler:
            raise InputError("--executor dask needs --scheduler ADDRESS (e.g. tcp://scheduler:8786).")
        return DaskExecutor(scheduler)
    if kind != "local":
        raise InputError(f"--executor {kind}: unknown executor; use local or dask.")
    if jobs <= 1 or n_tasks <= 1:
        return SerialExecutor()
    return ProcessExecutor(min(jobs, n_tasks))
