"""What ``/healthz`` reports about the database: reachable, the print queue by status, the sync backlog."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from pos_referral.db.engine import Database
from pos_referral.db.models import OutboxEvent, PrintJob
from pos_referral.services.unit_of_work import UnitOfWork


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
