"""What ``/healthz`` reports about the database: reachable, the print queue by status, the sync backlog,
and whether a chain store's sync is late."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from pos_referral.db.engine import Database
from pos_referral.db.models import OutboxEvent, PrintJob
from pos_referral.services.context import StoreContext
from pos_referral.services.unit_of_work import UnitOfWork

LATE_AFTER_INTERVALS = 2  # a chain store's sync is late when its oldest unsent event is older than this
LATE_AFTER_AT_LEAST = 60.0  # ... many sync intervals, and never sooner than a minute (a round may back off)


def database_health(db: Database) -> dict[str, Any]:
    """``database: ok`` with the queue figures, or ``database: unavailable`` (never raises)."""
    try:
        with UnitOfWork(db, write=False) as read:
            queue = {status: count for status, count in read.session.execute(
                sa.select(PrintJob.status, sa.func.count()).group_by(PrintJob.status)).all()}
            backlog = read.session.scalar(
                sa.select(sa.func.count()).select_from(OutboxEvent).where(OutboxEvent.sent_at.is_(None)))
    except sa.exc.SQLAlchemyError:
        return {"database": "unavailable"}
    return {"database": "ok", "print_queue": queue, "sync_backlog": backlog}


def late_after_seconds(sync_interval: float) -> float:
    return max(LATE_AFTER_INTERVALS * sync_interval, LATE_AFTER_AT_LEAST)


def sync_health(ctx: StoreContext) -> dict[str, Any]:
    """``mode: standalone`` (nothing to sync, so nothing to show), or a chain store's sync state: how many
    events wait for central, how old the oldest is, and whether that is late (never raises)."""
    central = ctx.settings.config.central
    if not central.url:
        return {"mode": "standalone"}
    late_after = late_after_seconds(central.sync_interval_seconds)
    try:
        with UnitOfWork(ctx.db, write=False) as read:
            waiting, oldest = read.session.execute(
                sa.select(sa.func.count(), sa.func.min(OutboxEvent.created_at))
                .where(OutboxEvent.sent_at.is_(None))).one()
    except sa.exc.SQLAlchemyError:
        return {"mode": "chain", "state": "unknown", "late_after_seconds": late_after}
    age = max(0.0, (ctx.clock() - oldest).total_seconds()) if waiting and oldest is not None else 0.0
    return {"mode": "chain", "state": "late" if age > late_after else "ok", "waiting": int(waiting),
            "oldest_waiting_seconds": round(age), "late_after_seconds": late_after}
