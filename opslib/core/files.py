"""Writing files so that a failure never leaves a half-written one behind, never outside the
output folder, and never two writers over one another.

    write_text_atomic / write_bytes_atomic   temporary file beside the target, then rename
    inside(root, *parts)                     root/parts…, refused unless it resolves inside root
    output_folder(path, what)                an output folder that is a folder (created when missing)
    folder_lock(folder)                      an exclusive lock on an output folder while a project is swapped in
    exchange(a, b)                           swap two paths atomically (Linux renameat2), False when not possible
    signals_deferred()                       Ctrl-C and SIGTERM wait until a swap is complete
"""

from __future__ import annotations

import ctypes
import ctypes.util
import fcntl
import os
import signal
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from opslib.errors import InputError, OpslibError

__all__ = ["LOCK_TIMEOUT_S", "write_text_atomic", "write_bytes_atomic", "inside", "output_folder", "folder_lock", "exchange",
           "signals_deferred"]

LOCK_TIMEOUT_S = 120.0

_UMASK = os.umask(0)
os.umask(_UMASK)


def write_text_atomic(path: str | Path, text: str) -> Path:
    """Write `text` (UTF-8, LF) to a temporary file beside `path`, then rename it into place."""
    return write_bytes_atomic(path, text.encode("utf-8"))


def write_bytes_atomic(path: str | Path, data: bytes) -> Path:
    """Write `data` to a temporary file beside `path`, then rename it into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp creates 0600; documents are ordinary files
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def inside(root: str | Path, *parts: str, what: str = "path") -> Path:
    """`root/parts…`, after checking that it resolves inside `root` (symbolic links and `..`
    followed): a name from a record or an option never writes elsewhere."""
    root = Path(root)
    path = root.joinpath(*parts)
    base = root.resolve()
    if any(not str(p) or Path(p).is_absolute() for p in parts) or not path.resolve().is_relative_to(base):
        raise InputError(f"{path}: the {what} leads outside the output folder {root}; use a plain name without / or .. in it.")
    return path


def output_folder(path: str | Path, what: str = "--out") -> Path:
    """`path` as an output folder: created when missing; InputError when it is a file."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise InputError(f"{what} {path}: is a file, not a folder; pass a folder for the output (it is created when missing).")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"{what} {path}: cannot create the folder ({exc.strerror or exc.__class__.__name__}); pass a folder you can write to.") from None
    return path


@contextmanager
def folder_lock(folder: str | Path, timeout_s: float | None = None) -> Iterator[None]:
    """Hold an exclusive lock on the folder `folder` (flock on the folder itself: no lock file
    is left behind) while a project's documents are swapped in. A second writer waits up to
    `timeout_s` (LOCK_TIMEOUT_S), then gives up with a message naming the folder."""
    limit = LOCK_TIMEOUT_S if timeout_s is None else timeout_s
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        deadline = time.monotonic() + limit
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise OpslibError(f"{folder}: another opslib run has been writing into this folder for {limit:.0f} s; "
                                      "wait for it to finish (or stop it) and run again.") from None
                time.sleep(0.02)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


@contextmanager
def signals_deferred() -> Iterator[None]:
    """Hold SIGINT and SIGTERM until the block is done (then they act as usual): a swap of
    folders is never left half done. Outside the main thread (where handlers cannot be set)
    it does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pending: list[int] = []
    old = {signum: signal.signal(signum, lambda got, _frame: pending.append(got)) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for signum, handler in old.items():
            signal.signal(signum, handler)
        for got in pending[:1]:
            signal.raise_signal(got)


_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def exchange(a: str | Path, b: str | Path) -> bool:
    """Swap `a` and `b` (files or folders) in one step, so a reader sees the old or the new one,
    never neither (renameat2 with RENAME_EXCHANGE: Linux 3.15+, glibc 2.28+). False when the
    system or file system cannot; the caller then renames twice."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    return renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0
