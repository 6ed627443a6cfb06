"""Online backups of the store's SQLite database, each checked before it counts.

The copy is made with SQLite's backup API in one step: that is one read transaction on the live
database, which in WAL mode never blocks a writer (the tills keep selling; the WAL grows a little until the
copy ends). A file copy of a live WAL database is never made: it may miss commits still in the -wal or catch
a page half written. The copy is written as ``<name>.partial`` (0600 from its first byte), switched to a
single-file journal, checked (``PRAGMA integrity_check``, the Alembic revision is one this version knows,
row counts), synced to disk and only then renamed to its final name, so every ``*.db`` in the folder is a
verified backup. The shop's ``secrets.json`` is kept beside them (the database is useless without it).
Retention keeps the newest of each of the last N days, weeks and months.
"""

from __future__ import annotations

import logging
import os
import re
import sqlite3
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pos_referral.config import Settings
from pos_referral.db import migrate
from pos_referral.db.engine import database_path
from pos_referral.keystore import FILE_NAME as SECRETS_FILE
from pos_referral.private_files import private_dir, private_file, replace_private

logger = logging.getLogger(__name__)

BEFORE_UPGRADE = "before-upgrade"
_NAME = re.compile(r"^pos-referral-S(?P<store>\d{3,4})-(?P<stamp>\d{8}T\d{6}Z)(?:-(?P<label>[a-z-]+))?\.db$")
COUNTED = ("customers", "codes", "redemptions", "rewards", "ledger", "sales", "outbox")


class BackupError(Exception):
    """A backup could not be made or did not pass its checks; the message says why."""


@dataclass(frozen=True)
class Verified:
    """What the checks of a backup found: the schema revision and how many rows the main tables hold."""

    revision: str
    rows: dict[str, int] = field(default_factory=dict)

    def line(self) -> str:
        counts = ", ".join(f"{n} {table}" for table, n in self.rows.items())
        return f"integrity ok, schema {self.revision}, {counts}"


@dataclass(frozen=True)
class Backup:
    """One verified backup file."""

    path: Path
    size: int
    taken_at: datetime
    seconds: float
    verified: Verified

    def as_dict(self) -> dict[str, Any]:
        return {"file": str(self.path), "size": self.size, "taken_at": self.taken_at.isoformat(),
                "seconds": round(self.seconds, 3), "revision": self.verified.revision, "rows": self.verified.rows}


def backup_folder(settings: Settings) -> Path:
    """``[backup] folder``: absolute, or inside the data folder (default ``<data_dir>/backups``)."""
    folder = Path(settings.config.backup.folder or "backups")
    return folder if folder.is_absolute() else settings.data_dir / folder


def stamp(at: datetime) -> str:
    """``at`` in UTC as file names here carry it: ``20261207T024050Z`` (backups, files set aside)."""
    return at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def backup_name(store_no: int, at: datetime, label: str = "") -> str:
    return f"pos-referral-S{store_no:03d}-{stamp(at)}{'-' + label if label else ''}.db"


def backup_name_of(name: str, store_no: int) -> bool:
    """Whether ``name`` is a backup file name of store ``store_no`` (no path, nothing else)."""
    match = _NAME.match(name)
    return match is not None and int(match["store"]) == store_no


def taken_at(path: Path) -> datetime | None:
    """When a backup file was taken (from its name), or None for any other file."""
    match = _NAME.match(path.name)
    if match is None:
        return None
    return datetime.strptime(match["stamp"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)


def list_backups(folder: Path, *, label: str = "") -> list[Path]:
    """The backups in ``folder`` with ``label`` ("" = the scheduled ones), newest first."""
    if not folder.is_dir():
        return []
    found = [(at, p) for p in folder.iterdir()
             if (m := _NAME.match(p.name)) and (m["label"] or "") == label and (at := taken_at(p))]
    return [p for _, p in sorted(found, reverse=True)]


def verify(path: Path, *, known_schema: bool = True) -> Verified:
    """Open ``path`` read-only and check it: integrity, a schema revision this version knows (unless
    ``known_schema`` is False: central keeps a store's backup made by a newer version), row counts."""
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=5)
    except sqlite3.Error as exc:
        raise BackupError(f"{path}: cannot open ({exc})") from None
    try:
        problems = [row[0] for row in conn.execute("PRAGMA integrity_check(20)")]
        if problems != ["ok"]:
            raise BackupError(f"{path}: integrity check failed: {'; '.join(problems[:5])}")
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "alembic_version" not in tables:
            raise BackupError(f"{path}: not a pos-referral database (no schema revision)")
        revision = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        if revision is None or (known_schema and not migrate.known_revision(revision[0])):
            raise BackupError(f"{path}: schema revision {revision and revision[0]!r} is unknown to this version")
        rows = {t: int(conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]) for t in COUNTED if t in tables}
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path}: not a readable SQLite database ({exc})") from None
    finally:
        conn.close()
    return Verified(revision=str(revision[0]), rows=rows)


def copy_database(source: Path, target: Path, *, busy_timeout: float = 30.0) -> None:
    """A consistent copy of ``source`` (live, WAL) into the new file ``target`` (0600), in one read snapshot."""
    private_file(target)
    # read-write mode (never creating): a read-only connection cannot open a WAL database's -shm index
    src = sqlite3.connect(f"{source.resolve().as_uri()}?mode=rw", uri=True, timeout=busy_timeout)
    try:
        dst = sqlite3.connect(target, timeout=busy_timeout)
        try:
            src.backup(dst, pages=-1)  # one step = one snapshot; several steps restart whenever a till commits
            dst.execute("PRAGMA journal_mode=DELETE")  # the copy is one self-contained file, no -wal beside it
        finally:
            dst.close()
    finally:
        src.close()


def _sync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def sync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable (POSIX; Windows cannot open a folder and needs no such step)."""
    if os.name == "posix":
        _sync(folder)


def _drop_stale_partials(folder: Path) -> None:
    """A ``.partial`` a day old was left by a backup that died (power cut, kill): never a backup, only space."""
    for path in folder.glob("pos-referral-*.db.partial"):
        if time.time() - path.stat().st_mtime > 86_400:
            path.unlink(missing_ok=True)


def take_backup(settings: Settings, *, now: datetime, label: str = "", folder: Path | None = None) -> Backup:
    """Back the store's database up into the backup folder, verify the copy, and keep it (or raise)."""
    source = database_path(settings.data_dir)
    if not source.exists():
        raise BackupError(f"{source}: no database to back up")
    if folder is None:
        folder = backup_folder(settings)
        if not folder.exists() and not folder.resolve().is_relative_to(settings.data_dir.resolve()):
            # under an unmounted drive's mount point a created folder would fill the system disk, unseen
            raise BackupError(f"the backup folder {folder} is not there: is its drive connected? pos-referral "
                              "creates a backup folder only inside its data folder; connect the drive or create "
                              "the folder")
    try:
        private_dir(folder)
    except OSError as exc:
        raise BackupError(f"cannot use the backup folder {folder}: {exc}") from None
    final = folder / backup_name(settings.config.store.number, now, label)
    partial = final.with_name(final.name + ".partial")
    started = time.perf_counter()
    try:
        _drop_stale_partials(folder)
        partial.unlink(missing_ok=True)
        copy_database(source, partial, busy_timeout=settings.config.server.busy_timeout_seconds)
        verified = verify(partial)
        _sync(partial)
        os.replace(partial, final)
        sync_folder(folder)
    except (OSError, sqlite3.Error) as exc:
        partial.unlink(missing_ok=True)
        raise BackupError(f"backup into {folder} failed: {exc}") from None
    except BackupError:
        partial.unlink(missing_ok=True)
        raise
    keep_secrets_copy(settings.data_dir, folder)
    backup = Backup(final, final.stat().st_size, now, time.perf_counter() - started, verified)
    logger.info("backup %s: %s bytes in %.1f s (%s)", final.name, backup.size, backup.seconds, verified.line())
    return backup


def keep_secrets_copy(data_dir: Path, folder: Path) -> None:
    """``secrets.json`` beside the backups (0600), rewritten when it changed: a database restored on a new
    machine is no use without its code keys and identity pepper, which are never inside the database."""
    source = data_dir / SECRETS_FILE
    if not source.exists():
        return
    data = source.read_bytes()
    target = folder / SECRETS_FILE
    if not target.exists() or target.read_bytes() != data:
        replace_private(target, data)


def to_keep(backups: Iterable[Path], *, daily: int, weekly: int, monthly: int) -> set[Path]:
    """The newest backup of each of the last ``daily`` days, ``weekly`` ISO weeks and ``monthly`` months
    that have one (the newest backup of all is always kept)."""
    dated = sorted(((at, p) for p in backups if (at := taken_at(p))), reverse=True)
    keep = {dated[0][1]} if dated else set()
    for count, period in ((daily, lambda d: d.date()), (weekly, lambda d: d.isocalendar()[:2]),
                          (monthly, lambda d: (d.year, d.month))):
        seen: list[object] = []
        for at, path in dated:
            key = period(at)
            if key in seen:
                continue
            if len(seen) >= count:
                break
            seen.append(key)
            keep.add(path)
    return keep


def prune(settings: Settings, folder: Path | None = None) -> list[Path]:
    """Delete the scheduled backups retention no longer keeps; the files deleted."""
    section = settings.config.backup
    backups = list_backups(folder or backup_folder(settings))
    keep = to_keep(backups, daily=section.keep_daily, weekly=section.keep_weekly, monthly=section.keep_monthly)
    gone = [p for p in backups if p not in keep]
    for path in gone:
        path.unlink(missing_ok=True)
    if gone:
        logger.info("backup retention: deleted %s", ", ".join(p.name for p in gone))
    return gone
