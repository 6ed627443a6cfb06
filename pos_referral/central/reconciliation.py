"""The reconciliation list: conflicts between stores for the chain's reports (a sale is never reversed)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from pos_referral.db.engine import Database
from pos_referral.db.models_central import Reconciliation
from pos_referral.domain.text import sanitize_text
from pos_referral.services import audit
from pos_referral.services.context import StoreContext
from pos_referral.services.unit_of_work import UnitOfWork

logger = logging.getLogger(__name__)


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
             .limit(limit))  # the event id is the handle ``resolve`` also takes
    with UnitOfWork(db, write=False) as read:
        session = read.session
        return [Conflict(r.id, r.kind, r.store_no, r.subject, dict(r.detail), r.created_at)
                for r in session.scalars(query)]



class ResolveError(ValueError):
    """The item cannot be resolved: unknown, already resolved, or no note given (the message says which)."""


def resolve(ctx: StoreContext, handle: str, note: str, actor: str) -> Conflict:
    """Mark one open item resolved with the manager's note: who, when and why, audited in the same commit.

    ``handle`` is the item's number or its event id (the list shows both). A conditional update on
    ``resolved_at IS NULL`` makes two managers resolving at once end with one resolution, not two.
    """
    note = sanitize_text(note).strip()
    if not note:
        raise ResolveError("say in a note what was done about it (e.g. 'voucher paid back by S002')")
    if len(note) > 1000:
        raise ResolveError("the note is longer than 1000 characters")
    by_id = Reconciliation.id == int(handle) if handle.isdigit() else sa.false()
    now = ctx.clock()
    with UnitOfWork(ctx.db, write=True) as uow:
        session = uow.session
        row = session.scalars(sa.select(Reconciliation).where(
            sa.or_(by_id, Reconciliation.event_id == handle))).first()
        if row is None:
            raise ResolveError(f"no reconciliation item {handle!r}")
        done = session.execute(sa.update(Reconciliation).where(
            Reconciliation.id == row.id, Reconciliation.resolved_at.is_(None)).values(
            resolved_at=now, resolved_by=actor[:64], resolution_note=note))
        if done.rowcount != 1:  # type: ignore[attr-defined]
            raise ResolveError(f"item {row.id} was already resolved")
        conflict = Conflict(row.id, row.kind, row.store_no, row.subject, dict(row.detail), row.created_at)
        audit.record(ctx, session, actor, "reconciliation_resolved",
                     f"item {row.id} ({row.kind}, S{row.store_no:03d}, {row.subject}): {note}", now)
        uow.commit()
    logger.info("reconciliation item %s resolved by %s", conflict.id, actor)
    return conflict


def resolved(db: Database, *, limit: int = 100) -> list[dict[str, Any]]:
    """The latest resolved items with who resolved them and the note (newest first)."""
    query = (sa.select(Reconciliation).where(Reconciliation.resolved_at.is_not(None))
             .order_by(Reconciliation.resolved_at.desc(), Reconciliation.id.desc()).limit(limit))
    with UnitOfWork(db, write=False) as read:
        return [{"id": r.id, "kind": r.kind, "store": f"S{r.store_no:03d}", "subject": r.subject,
                 "resolved_at": r.resolved_at, "resolved_by": r.resolved_by, "note": r.resolution_note}
                for r in read.session.scalars(query)]
