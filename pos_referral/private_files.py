"""Files only the service's own user may read: the data folder 0700, what is in it 0600.

The data folder holds the customers' contacts, staff PIN hashes, the secrets and the receipts, so
it is created owner-only, and every file the service creates in it is created 0600 from the start
(``os.open`` with the mode, never "write, then chmod", which leaves a moment when others can read).
A store installed before this was enforced gets its folder and files tightened at start. SQLite
creates its ``-wal`` and ``-shm`` files with the database file's own mode, so creating the database
0600 covers them; they are tightened too if an older version left them readable. On Windows
``chmod`` only knows read-only, so this is the Unix half; Windows relies on the folder's ACL.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600


def _tighten(path: Path, mode: int) -> None:
    try:
        if path.stat().st_uid == os.getuid():  # never fight over a folder someone else owns (e.g. /tmp)
            path.chmod(mode)
    except (FileNotFoundError, AttributeError):  # AttributeError: no os.getuid (Windows)
        pass


def private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) owner-only, or make an existing one owner-only."""
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    _tighten(path, DIR_MODE)
    return path


def private_file(path: Path) -> Path:
    """Create ``path`` empty and 0600 when missing; make an existing one 0600."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE)
    os.close(fd)
    _tighten(path, FILE_MODE)
    return path


def restrict(path: Path) -> None:
    """Make ``path`` 0600 if it exists."""
    _tighten(path, FILE_MODE)


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to a file that is 0600 from its first byte."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    _tighten(path, FILE_MODE)


def replace_private(path: Path, data: bytes) -> None:
    """Write ``data`` atomically (temp file, fsync, rename) as a 0600 file.

    The temp file has a name of its own (``mkstemp``, created 0600), so two writers of the same file
    (``serve``'s scheduled backup and a ``db backup`` run beside it, say) never rename each other's
    temp file away: the last rename wins and each reader sees one whole file.
    """
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        _tighten(tmp, FILE_MODE)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def private_database(path: Path) -> None:
    """The SQLite database 0600 before SQLite first opens it (its -wal and -shm inherit the mode)."""
    private_dir(path.parent)
    private_file(path)
    for suffix in ("-wal", "-shm", "-journal"):
        restrict(path.with_name(path.name + suffix))
