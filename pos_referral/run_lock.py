"""``<data_dir>/serve.lock``: held by a running ``serve`` so that ``db restore`` can tell it is running.

An operating-system lock on an open file, not a pid written into it: the lock ends with the process,
however it ends (kill -9, a power cut), so a stale file never blocks a restore, and a pid that the
machine reused after a reboot is never taken for a running service. The file stays; only the lock counts.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import IO

from pos_referral.private_files import FILE_MODE, private_dir

FILE_NAME = "serve.lock"


class AlreadyRunning(Exception):
    """Another process holds the lock: ``serve`` runs on this data folder."""


def _try_lock(fh: IO[bytes]) -> bool:
    try:
        if sys.platform == "win32":  # pragma: no cover - Windows: a lock on the file's first byte
            import msvcrt

            msvcrt.locking(fh.fileno(), msvcrt.LK_NBLCK, 1)
        else:
            import fcntl

            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def _open(data_dir: Path) -> IO[bytes]:
    private_dir(data_dir)
    fd = os.open(data_dir / FILE_NAME, os.O_RDWR | os.O_CREAT, FILE_MODE)
    return os.fdopen(fd, "r+b")


class ServeLock:
    """The lock a running ``serve`` holds until ``release()`` (or its end)."""

    def __init__(self, data_dir: Path) -> None:
        self._fh = _open(data_dir)
        if not _try_lock(self._fh):
            self._fh.close()
            raise AlreadyRunning(f"pos-referral serve is already running on {data_dir}")
        self._fh.seek(0)
        self._fh.truncate()
        self._fh.write(f"{os.getpid()}\n".encode())  # for a person looking; the lock is what counts
        self._fh.flush()

    def release(self) -> None:
        self._fh.close()  # closing the file ends the lock


def serve_running(data_dir: Path) -> bool:
    """Whether a ``serve`` holds the lock on ``data_dir`` now."""
    if not (data_dir / FILE_NAME).exists():
        return False
    fh = _open(data_dir)
    try:
        return not _try_lock(fh)
    finally:
        fh.close()
