"""Central's copy of each store's audit head (``services/audit_head.py``): a witness the shop cannot edit.

A store's relay sends its head whenever it moved. The head only moves forward: more entries than the
kept one (or the same head again) replaces it; fewer entries, or the same count with another MAC,
means the store's log was shortened or rewritten, so it is refused, the kept head stays, and the
refusal is noted on the row (``refused_at``, ``refused_entries``) for the chain's auditor.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from pos_referral.db.engine import Database
from pos_referral.db.models_central import CentralAuditHead
from pos_referral.services.audit_head import Head
from pos_referral.services.unit_of_work import UnitOfWork

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Received:
    accepted: bool
    kept: Head


def receive_head(db: Database, store_no: int, head: Head, now: datetime) -> Received:
    with UnitOfWork(db, write=True) as uow:
        session = uow.session
        row = session.get(CentralAuditHead, store_no, with_for_update=True)
        if row is None:
            row = CentralAuditHead(store_no=store_no, entries=head.entries, last_id=head.last_id, mac=head.mac,
                                   received_at=now)
            session.add(row)
            accepted = True
        else:
            accepted = head.entries > row.entries or (head.entries, head.last_id, head.mac) == (
                row.entries, row.last_id, row.mac)
            if accepted:
                row.entries, row.last_id, row.mac, row.received_at = head.entries, head.last_id, head.mac, now
            else:
                row.refused_at, row.refused_entries = now, head.entries
                logger.error("store %s sent an audit head of %s entries, behind or unlike the %s kept: its audit "
                             "log was shortened or rewritten", store_no, head.entries, row.entries)
        kept = Head(row.entries, row.last_id, row.mac)
        uow.commit()
    return Received(accepted, kept)


def heads(db: Database) -> dict[int, CentralAuditHead]:
    """Every store's kept head (for the chain's auditor and the tests)."""
    with UnitOfWork(db, write=False) as read:
        return {row.store_no: row for row in read.session.scalars(sa.select(CentralAuditHead))}
