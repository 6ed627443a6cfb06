"""The reconciliation list: conflicts between stores for the chain's reports (a sale is never reversed)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from pos_referral.db.engine import Database
from pos_referral.db.models_central import Reconciliation
from pos_referral.services.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class Conflict:
    id: int
    kind: str
    store_no: int
    subject: str
    detail: dict[str, Any]
    created_at: datetime
    resolved_at: datetime | None


def open_conflicts(db: Database, *, include_resolved: bool = False, limit: int = 500) -> list[Conflict]:
    query = sa.select(Reconciliation).order_by(Reconciliation.resolved_at.is_not(None), Reconciliation.id).limit(limit)
    if not include_resolved:
        query = query.where(Reconciliation.resolved_at.is_(None))
    with UnitOfWork(db, write=False) as read:
        session = read.session
        return [Conflict(r.id, r.kind, r.store_no, r.subject, dict(r.detail), r.created_at, r.resolved_at)
                for r in session.scalars(query)]


def resolve(db: Database, conflict_id: int, now: datetime) -> bool:
    with UnitOfWork(db, write=True) as uow:
        session = uow.session
        done = session.execute(sa.update(Reconciliation).where(Reconciliation.id == conflict_id,
                                                               Reconciliation.resolved_at.is_(None))
                               .values(resolved_at=now))
        uow.commit()
        return bool(done.rowcount)  # type: ignore[attr-defined]
