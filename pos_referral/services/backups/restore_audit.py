"""A restore written into the audit log: the log goes back with the database, and says so.

A backup holds the audit log as it was when the backup was taken, while the head kept outside the
database (``audit_head.py``) is newer: ``audit verify`` would report the restored log as shortened, which
it was, by the restore, and every later write would leave the head where it was. ``db restore`` therefore
keeps the old head beside it (``audit-head.json.replaced-<time>``: how long the log was, as evidence) and
appends an entry ``db_restore`` naming the backup and the entries the log had before and has now; the new
head follows that entry. Central keeps the last head it was sent, so it sees the log go back as well.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa

from pos_referral.db.models import AuditEntry
from pos_referral.services import audit
from pos_referral.services.audit_head import Head, HeadError, head_path, read_head
from pos_referral.services.backups.backup import stamp
from pos_referral.services.context import StoreContext
from pos_referral.services.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class HeadAside:
    path: Path | None  # where the old head file now is (None: there was none)
    head: Head | None  # what it said (None: none, or unreadable)


def set_head_aside(data_dir: Path, now: datetime) -> HeadAside:
    """Move the audit head file to ``audit-head.json.replaced-<time>`` (before the restored log is written to)."""
    path = head_path(data_dir)
    if not path.exists():
        return HeadAside(None, None)
    try:
        head = read_head(path)
    except HeadError:
        head = None
    aside = path.with_name(f"{path.name}.replaced-{stamp(now)}")
    os.replace(path, aside)
    return HeadAside(aside, head)


def record_restore(ctx: StoreContext, source: Path, aside: HeadAside, actor: str = "cli") -> int:
    """Append the ``db_restore`` entry to the restored log; returns how many entries it holds now."""
    with UnitOfWork(ctx.db, write=True) as uow:
        entries = int(uow.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) or 0)
        before = (f"{aside.head.entries} entries (last id {aside.head.last_id})" if aside.head
                  else "no readable head" if aside.path else "no head file")
        kept = f"; that head is kept as {aside.path.name}" if aside.path else ""
        audit.record(ctx, uow.session, actor, "db_restore",
                     f"database restored from {source.name}: the log had {before}, the backup holds {entries}{kept}",
                     ctx.clock())
        uow.commit()
    return entries + 1
