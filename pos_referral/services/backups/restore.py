"""Put a backup back as the store's database, keeping the database it replaces.

Only with the service stopped (``run_lock``), and only a backup that passes the same checks as a new one.
The backup is copied in beside the database first (``<name>.restoring``) and checked again, so a full disk
or a bad copy never leaves the shop without a database. The current database is then made whole on its own
— its WAL checkpointed into it and the journal switched off WAL, which SQLite allows only when no other
connection has it open — and renamed ``<name>.replaced-<time>``; a database too damaged to open is moved
aside with its ``-wal``/``-shm`` under the same new name, so it stays readable as it was. Nothing of the old
database's WAL state is left beside the restored file: a stale ``-wal`` would be replayed into it. On a new
machine (no ``secrets.json`` in the data folder) the copy kept beside the backups is taken too. The code
counters and the outbox written after the backup are carried over from the replaced database
(``carry_forward``): no code already printed is minted again, no event number central has seen is reused.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from pos_referral.config import Settings
from pos_referral.db.engine import database_path
from pos_referral.keystore import FILE_NAME as SECRETS_FILE
from pos_referral.private_files import private_dir, replace_private
from pos_referral.run_lock import serve_running
from pos_referral.services.backups.backup import BackupError, Verified, copy_database, stamp, sync_folder, verify
from pos_referral.services.mail.status import CURSOR as MAIL_CURSOR

logger = logging.getLogger(__name__)

SIDE_FILES = ("-wal", "-shm", "-journal")


class RestoreError(Exception):
    """The restore was refused or could not be done; the database is as it was. The message says why."""


@dataclass(frozen=True)
class Restored:
    database: Path
    replaced: Path | None  # the database that was there before (None: there was none)
    verified: Verified


def _close_cleanly(live: Path) -> bool:
    """Fold the WAL into ``live`` and leave it without -wal/-shm; False when another connection holds it
    open or the file cannot be opened as a database."""
    try:
        conn = sqlite3.connect(f"{live.resolve().as_uri()}?mode=rw", uri=True, timeout=2, isolation_level=None)
    except sqlite3.Error:
        return False
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        mode = conn.execute("PRAGMA journal_mode=DELETE").fetchone()[0]  # refused while others have it open
        return str(mode).lower() == "delete"
    except sqlite3.Error:
        return False
    finally:
        conn.close()


def set_aside(live: Path, label: str, now: datetime) -> Path:
    """Rename ``live`` to ``<name>.<label>-<time>`` as one whole database (see the module's docstring)."""
    aside = live.with_name(f"{live.name}.{label}-{stamp(now)}")
    whole = _close_cleanly(live)
    os.replace(live, aside)
    for suffix in SIDE_FILES:
        side = live.with_name(live.name + suffix)
        if side.exists():
            if whole:  # nothing left in it (a -shm index rebuilds itself)
                side.unlink()
            else:  # the damaged database's WAL goes with it, under the name SQLite looks for
                os.replace(side, aside.with_name(aside.name + suffix))
    return aside


def restore_file(settings: Settings, source: Path, *, now: datetime, label: str = "replaced",
                 check_serve: bool = True) -> Restored:
    """Make ``source`` the store's database; the one it replaces is kept as ``<name>.<label>-<time>``."""
    data_dir = settings.data_dir
    live = database_path(data_dir)
    try:
        verified = verify(source)
    except BackupError as exc:
        raise RestoreError(f"not restored: {exc}") from None
    if check_serve and serve_running(data_dir):
        raise RestoreError(f"not restored: pos-referral serve is running on {data_dir}; stop the service first "
                           "(e.g. sudo systemctl stop pos-referral), then restore")
    private_dir(data_dir)  # a new machine: the data folder may not be there yet
    incoming = live.with_name(live.name + ".restoring")
    try:
        for path in (incoming, *(incoming.with_name(incoming.name + s) for s in SIDE_FILES)):
            path.unlink(missing_ok=True)
        copy_database(source, incoming, busy_timeout=settings.config.server.busy_timeout_seconds)
        verify(incoming)
    except (OSError, sqlite3.Error, BackupError) as exc:
        incoming.unlink(missing_ok=True)
        raise RestoreError(f"not restored: copying {source} failed ({exc}); the database is unchanged") from None
    if live.exists() and check_serve and not _close_cleanly(live) and _opened_elsewhere(live):
        incoming.unlink(missing_ok=True)
        raise RestoreError(f"not restored: another program has {live} open (a pos-referral command?); "
                           "stop it first")
    if live.exists():
        carry_forward(live, incoming)
    replaced = set_aside(live, label, now) if live.exists() else None
    for suffix in SIDE_FILES:  # never a stale -wal or -shm beside the restored file
        live.with_name(live.name + suffix).unlink(missing_ok=True)
    os.replace(incoming, live)
    sync_folder(live.parent)
    secrets = source.parent / SECRETS_FILE
    if not (data_dir / SECRETS_FILE).exists() and secrets.exists():  # a new machine: the keys from beside the backup
        replace_private(data_dir / SECRETS_FILE, secrets.read_bytes())
    logger.warning("database restored from %s (%s); the one it replaced is %s", source, verified.line(), replaced)
    return Restored(live, replaced, verified)


def _opened_elsewhere(live: Path) -> bool:
    """A database that opens but refuses to leave WAL mode is held open by another connection."""
    try:
        conn = sqlite3.connect(f"{live.resolve().as_uri()}?mode=rw", uri=True, timeout=0.5)
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        finally:
            conn.close()
    except sqlite3.Error:
        return False  # cannot be read at all: damaged, not held; it is set aside as it is
    return True


def carry_forward(old: Path, new: Path) -> None:
    """What must never go back when an older backup replaces ``old`` (written into ``new`` before the swap):

    - the code counters (``referral:<key id>``, ``voucher:<key id>``): codes minted after the backup are on
      customers' receipts, and minting their numbers again would give two people one code;
    - the outbox after the backup's last event: central may already hold those seqs (it keeps nothing at or
      below a store's cursor, central/ingest.py), so the store's next events must be numbered after them;
      they go to central as they were (sent or not), and the mail planner's cursor moves past them.
    """
    try:
        src = sqlite3.connect(f"{old.resolve().as_uri()}?mode=ro", uri=True, timeout=2)
        try:
            counters = src.execute("SELECT name, value FROM counters WHERE name LIKE 'referral:%' "
                                   "OR name LIKE 'voucher:%' OR name = ?", (MAIL_CURSOR,)).fetchall()
            columns = [row[1] for row in src.execute("PRAGMA table_info(outbox)")]
        finally:
            src.close()
    except sqlite3.Error:
        logger.warning("%s is unreadable: codes minted and events written after the backup cannot be carried "
                       "over", old)
        return
    dst = sqlite3.connect(new.resolve().as_uri(), uri=True, isolation_level=None)  # uri: ATTACH reads ?mode=ro
    try:
        keep = [c for c in (row[1] for row in dst.execute("PRAGMA table_info(outbox)")) if c in columns]
        listed = ", ".join(f'"{c}"' for c in keep)
        dst.execute("ATTACH DATABASE ? AS old", (f"{old.resolve().as_uri()}?mode=ro",))
        dst.execute("BEGIN IMMEDIATE")
        for name, value in counters:
            dst.execute("INSERT INTO counters (name, value) VALUES (?, ?) "
                        "ON CONFLICT (name) DO UPDATE SET value = max(value, excluded.value)", (name, value))
        tail = dst.execute(f"INSERT INTO main.outbox ({listed}) SELECT {listed} FROM old.outbox "
                           "WHERE seq > (SELECT coalesce(max(seq), 0) FROM main.outbox) "
                           "AND event_id NOT IN (SELECT event_id FROM main.outbox) ORDER BY seq").rowcount
        dst.execute("COMMIT")
        dst.execute("DETACH DATABASE old")
    except sqlite3.Error as exc:
        logger.warning("codes and events after the backup could not be carried over from %s: %s", old, exc)
        return
    finally:
        dst.close()
    if tail:
        logger.warning("%s outbox events written after the backup are kept (central may hold them already)", tail)
