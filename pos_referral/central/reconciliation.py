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


def open_conflicts(db: Database, *, limit: int = 500) -> list[Conflict]:
    query = (sa.select(Reconciliation).where(Reconciliation.resolved_at.is_(None)).order_by(Reconciliation.id)
             .limit(limit))
    with UnitOfWork(db, write=False) as read:
        session = read.session
        return [Conflict(r.id, r.kind, r.store_no, r.subject, dict(r.detail), r.created_at)
                for r in session.scalars(query)]

