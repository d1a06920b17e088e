"""One writer per run directory, and what every writer may assume about it.

* A training process holds an exclusive OS lock (``flock``) on ``<run>/.infogan.lock`` for its
  whole life (rank 0 under DDP). The kernel drops the lock with the process, so a killed run
  never leaves its directory locked; the PID and host it leaves in the file are only a note,
  taken over by the next writer. A second writer ends with one ``Error:`` line naming the
  holder's PID and host.
* Merges into ``metrics.json`` (training, ``evaluate``, ``compare``) take a short lock of their
  own (``flock`` on the run directory itself, so no file is left) and re-read the file under it, so concurrent merges
  never lose each other's entries; they may run while a training holds the directory.
* The lock holder removes temporary files left by a killed writer (``.*.tmp``).
* A shipped model (a directory holding :data:`SHIPPED_MARKER`) is never written: training
  it is refused, its scores are printed but not stored.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import socket
import sys
import time
from pathlib import Path
from typing import Any, Iterator

from .errors import CheckpointError, InfoganError, MetricError

LOCK_NAME = ".infogan.lock"
SHIPPED_MARKER = "SHIPPED"
"""A file whose presence marks a run directory as shipped with infogan-kit (read-only)."""

TRAINING_TEMPORARIES = (".checkpoint-*.pt.*.tmp", ".config.json.*.tmp", ".stats.jsonl.*.tmp")
METRICS_TEMPORARIES = (".metrics.json.*.tmp",)
METRICS_LOCK_TIMEOUT_S = 60.0


class RunDirectoryBusy(CheckpointError):
    """Another process is writing (training) this run directory."""


def is_shipped(run_dir: str | Path) -> bool:
    """Whether ``run_dir`` is a model shipped with infogan-kit (never modified)."""
    return (Path(run_dir) / SHIPPED_MARKER).is_file()


def _holder(fd: int) -> dict[str, Any]:
    try:
        data = json.loads(os.pread(fd, 4096, 0) or b"{}")
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _me() -> dict[str, Any]:
    return {"pid": os.getpid(), "host": socket.gethostname(), "since": time.strftime("%Y-%m-%dT%H:%M:%S")}


def remove_temporaries(run_dir: Path, patterns: tuple[str, ...]) -> list[Path]:
    """Delete leftover temporary files of a killed writer (call only under the matching lock)."""
    removed = []
    for pattern in patterns:
        for path in Path(run_dir).glob(pattern):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
                removed.append(path)
    return removed


class RunLock:
    """The exclusive writer lock of a run directory (see the module docstring)."""

    def __init__(self, run_dir: str | Path) -> None:
        self.run_dir = Path(run_dir)
        self.path = self.run_dir / LOCK_NAME
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> "RunLock":
        """Take the lock without waiting.

        Raises:
            RunDirectoryBusy: another live process holds it.
            CheckpointError: the directory is a shipped model or cannot be written.
        """
        if is_shipped(self.run_dir):
            raise CheckpointError(
                f"{self.run_dir} is a model shipped with infogan-kit and is never modified; "
                f"copy it (cp -r {self.run_dir} my-run) and train the copy"
            )
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
        except OSError as error:
            raise CheckpointError(f"cannot write into run directory {self.run_dir}: {error.strerror or error}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            holder = _holder(fd)
            os.close(fd)
            if error.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise CheckpointError(f"cannot lock run directory {self.run_dir}: {error.strerror or error}") from None
            raise RunDirectoryBusy(
                f"run directory {self.run_dir} is being written by another process (PID {holder.get('pid', '?')} on host "
                f"{holder.get('host', '?')}, since {holder.get('since', '?')}); wait for it to finish or stop it first"
            ) from None
        previous = _holder(fd)
        if previous.get("pid") and (previous.get("pid"), previous.get("host")) != (os.getpid(), socket.gethostname()):
            print(f"note: taking over the stale lock of {self.run_dir} left by PID {previous.get('pid')} on host "
                  f"{previous.get('host', '?')} (that process is gone)", file=sys.stderr, flush=True)
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps(_me()).encode(), 0)
        except OSError as error:
            os.close(fd)
            raise CheckpointError(f"cannot write into run directory {self.run_dir}: {error.strerror or error}") from None
        self._fd = fd
        return self

    def release(self) -> None:
        """Drop the lock (and its note: a clean exit leaves nothing to take over)."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
        os.close(fd)  # closing the last descriptor releases the flock

    def __enter__(self) -> "RunLock":
        return self.acquire()

    def __exit__(self, *exc: Any) -> None:
        self.release()

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.release()


def lock_for_training(path: str | Path, context: Any = None) -> RunLock:
    """Rank 0 takes the writer lock of the run directory ``path`` (or of a checkpoint file's
    folder) and removes a killed writer's temporary files; every rank learns whether it worked.

    Raises:
        CheckpointError: (on every rank) the directory is busy, shipped or not writable.
    """
    run_dir = Path(path) if not Path(path).is_file() else Path(path).parent
    lock, error = RunLock(run_dir), None
    if not run_dir.is_dir():
        return lock  # nothing to lock: loading the checkpoint reports the missing path
    if context is None or context.is_main:
        try:
            lock.acquire()
            remove_temporaries(run_dir, TRAINING_TEMPORARIES)
        except InfoganError as problem:
            error = problem
    if context is not None and context.enabled:
        from .training.distributed import broadcast_object

        message = broadcast_object(None if error is None else str(error), context)
        if message is not None and error is None:
            error = CheckpointError(message)
    if error is not None:
        raise error
    return lock


class NotWritable(Exception):
    """Internal: a run directory's metrics file cannot be stored (shipped or read-only)."""


@contextlib.contextmanager
def metrics_lock(metrics_path: str | Path, timeout_s: float = METRICS_LOCK_TIMEOUT_S) -> Iterator[None]:
    """Hold the short lock of a ``metrics.json`` while reading, merging and writing it.

    Raises:
        NotWritable: the folder is a shipped model or cannot be written.
        InfoganError: another merge held it for longer than ``timeout_s``.
    """
    folder = Path(metrics_path).parent
    if is_shipped(folder):
        raise NotWritable(f"{folder} is a model shipped with infogan-kit (never modified)")
    if folder.is_dir() and not os.access(folder, os.W_OK):
        raise NotWritable(f"{folder} is not writable")
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)  # the folder itself: no lock file is left behind
    except OSError as error:
        raise MetricError(f"cannot write {metrics_path}: folder {folder}: {error.strerror or error}") from None
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise InfoganError(f"{metrics_path} stayed locked by another process for {timeout_s:.0f} s") from None
                time.sleep(0.02)
        remove_temporaries(folder, METRICS_TEMPORARIES)
        yield
    finally:
        os.close(fd)
