"""Schema upgrades that cannot lose the shop's database: a verified backup first, the old database back on failure.

SQLite runs much of a migration outside any transaction (Alembic's batch mode copies a table, drops the old
one, renames the new), so a migration that fails half way can leave a database no version can use. Every
path that migrates a store (``serve``, any command that opens the store, ``db upgrade``) comes through here:
when a migration is pending it backs the database up (``*-before-upgrade.db``, outside the daily retention),
migrates, and when that fails puts the backup back and keeps what the failed attempt left as
``<name>.failed-upgrade-<time>``, then stops with one message saying which file is which and how to go back.
A new, empty database has nothing to lose and is created without a backup.
"""

from __future__ import annotations

import logging
from datetime import datetime

from pos_referral.config import Settings
from pos_referral.db import migrate
from pos_referral.db.engine import Database
from pos_referral.services.backups.backup import BEFORE_UPGRADE, Backup, BackupError, take_backup
from pos_referral.services.backups.restore import RestoreError, restore_file

logger = logging.getLogger(__name__)


class UpgradeError(Exception):
    """The schema was not upgraded; the message says where the database is and how to go back."""


def safe_upgrade(db: Database, settings: Settings, *, now: datetime, revision: str = "head") -> Backup | None:
    """Migrate to ``revision``; the backup taken before it (None when nothing was pending or not SQLite)."""
    if not db.is_sqlite or db.path is None or not migrate.pending(db, revision):
        migrate.upgrade(db, revision)
        return None
    before = migrate.current_revision(db)
    target = migrate.head_revision() if revision == "head" else revision
    try:
        backup = take_backup(settings, now=now, label=BEFORE_UPGRADE)
    except BackupError as exc:
        raise UpgradeError(f"the database was not upgraded (schema {before} -> {target}) because the backup "
                           f"before the upgrade failed: {exc}. Free disk space or correct [backup] folder, "
                           "then start again; the database is unchanged") from None
    logger.warning("upgrading the schema %s -> %s; the database before it is backed up as %s",
                   before, target, backup.path)
    try:
        migrate.upgrade(db, revision)
    except Exception as exc:  # any failure of a migration script: re-raised below as the one clear message
        db.dispose()  # the pool's connections must not outlive the file they were opened on
        logger.exception("schema upgrade %s -> %s failed", before, target)
        try:
            restored = restore_file(settings, backup.path, now=now, label="failed-upgrade", check_serve=False)
        except RestoreError as again:
            raise UpgradeError(
                f"the schema upgrade {before} -> {target} failed ({exc}), and putting the backup back failed too "
                f"({again}). Do not start the service; restore by hand with "
                f"`pos-referral db restore {backup.path}`") from exc
        raise UpgradeError(
            f"the schema upgrade {before} -> {target} failed: {exc}. Nothing was lost: the database is back as "
            f"it was before the upgrade (from {backup.path}); what the failed upgrade left is kept as "
            f"{restored.replaced}. To go back, reinstall the pos-referral version you ran before (schema "
            f"{before}) and start it as usual; report the error to get a fixed version") from exc
    return backup
