"""One run at a time per warehouse: an exclusive `fcntl` lock on `<warehouse>.lock`.

DuckDB takes one writer process, and dbt opens and closes the file many times during a build,
so two runs interleaving would fight over it. The kernel drops the lock when the holder dies
(SIGKILL included), so a crashed run never leaves a stale lock behind.

The lock is re-entrant within a process: `salespipe run` takes it before Dagster starts, and the
warehouse resource takes it again for runs the Dagster daemon launches in their own process.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class RunLocked(RuntimeError):
    """Another run holds the warehouse; the message names it and what to do."""


class LockPathError(RuntimeError):
    """The lock file cannot be created: the warehouse folder is not writable."""


_held: dict[Path, list] = {}  # lock path -> [open file, depth]
_guard = threading.Lock()


def lock_path(warehouse: Path) -> Path:
    return warehouse.with_name(warehouse.name + ".lock")


def _open(path: Path):
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return open(path, "a+")
    except OSError as exc:
        raise LockPathError(
            f"cannot write next to the warehouse ({path}): {exc.strerror or exc}. "
            "SALESPIPE_WAREHOUSE must point to a writable folder with free space."
        ) from None


def _holder(handle) -> str:
    handle.seek(0)
    return handle.read().strip() or "unknown process"


def acquire(warehouse: Path, wait: bool = False) -> None:
    path = lock_path(Path(warehouse).resolve())
    with _guard:
        if path in _held:
            _held[path][1] += 1
            return
        handle = _open(path)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            holder = _holder(handle)
            handle.close()
            raise RunLocked(
                f"another salespipe run ({holder}) is building {warehouse}; this run did not "
                "start. Wait for it to finish (the Dagster UI or `ps` shows it), then run again."
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}, started {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M:%S} UTC")
        handle.flush()
        _held[path] = [handle, 1]


def release(warehouse: Path) -> None:
    path = lock_path(Path(warehouse).resolve())
    with _guard:
        entry = _held.get(path)
        if entry is None:
            return
        entry[1] -= 1
        if entry[1] == 0:
            del _held[path]
            entry[0].truncate(0)
            entry[0].close()  # closing the file drops the flock


@contextmanager
def run_lock(warehouse: Path, wait: bool = False) -> Iterator[None]:
    acquire(warehouse, wait)
    try:
        yield
    finally:
        release(warehouse)


def is_locked(warehouse: Path) -> bool:
    """True while some run (in any process) holds the warehouse."""
    path = lock_path(Path(warehouse).resolve())
    if path in _held:
        return True
    if not path.exists():
        return False
    with open(path) as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
        return False
