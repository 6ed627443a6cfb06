"""The store's privacy use cases: export what is held about a customer, and forget them.

Both are audited (``customer_export`` / ``customer_forget``); the audit entry names the customer id
(random, it names nobody once they are forgotten) and row counts, never a name, phone or email.
A forget is sent to central as a ``customer_forgotten`` event; central erases its copy and the person's
other rows (central/forget.py) and tells every store through the changes feed (sync/inbound.py).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from pos_referral.db.models import Customer
from pos_referral.services import audit
from pos_referral.services.context import StoreContext
from pos_referral.services.outbox import add_event
from pos_referral.services.privacy.erase import Erased, erase
from pos_referral.services.privacy.export import gather
from pos_referral.services.privacy.lookup import find_ids
from pos_referral.services.unit_of_work import UnitOfWork

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ForgetResult:
    customer_ids: list[str]
    newly_forgotten: int  # 0: every row was forgotten before (the request was repeated)
    erased: Erased

    @property
    def found(self) -> bool:
        return bool(self.customer_ids)


@dataclass(frozen=True)
class Found:
    """What the manager page shows of a match before export or forget: no contact data beyond the hint."""

    customer_id: str
    first_name: str
    identity_hint: str
    store_no: int
    created_at: str
    forgotten: bool


def find_customers(ctx: StoreContext, subject: str) -> list[Found]:
    """The customer rows ``subject`` (id, phone or email) names, for the manager to choose from."""
    with UnitOfWork(ctx.db, write=False) as read:
        session = read.session
        ids = find_ids(session, subject, ctx.secrets.peppers)
        rows = session.scalars(sa.select(Customer).where(Customer.id.in_(ids)).order_by(Customer.created_at))
        return [Found(c.id, c.first_name, c.identity_hint, c.store_no, c.created_at.isoformat(),
                      c.forgotten_at is not None) for c in rows]


def export_customer(ctx: StoreContext, subject: str, actor: str) -> dict[str, Any] | None:
    """The export document of the customer ``subject`` names, or None when nobody matches (not audited)."""
    with UnitOfWork(ctx.db, write=True) as uow:
        session = uow.session
        ids = find_ids(session, subject, ctx.secrets.peppers)
        if not ids:
            return None
        now = ctx.clock()
        doc = gather(session, ids, currency=ctx.settings.config.store.currency, store_no=ctx.store_no, now=now)
        rows = sum(len(v) for v in doc.values() if isinstance(v, list))
        audit.record(ctx, session, actor, "customer_export", f"customer {', '.join(ids)}: {rows} rows", now)
        uow.commit()
    logger.info("exported what is held about %d customer row(s)", len(ids))
    return doc


def forget_customer(ctx: StoreContext, subject: str, actor: str) -> ForgetResult:
    """Erase the customer ``subject`` names here and queue the forget for the chain; idempotent."""
    with UnitOfWork(ctx.db, write=True) as uow:
        session = uow.session
        ids = find_ids(session, subject, ctx.secrets.peppers)
        if not ids:
            return ForgetResult([], 0, Erased())
        now = ctx.clock()
        fresh = int(session.scalar(sa.select(sa.func.count()).select_from(Customer).where(
            Customer.id.in_(ids), Customer.forgotten_at.is_(None))) or 0)
        erased = erase(session.connection(), ids, now)
        if fresh:  # a repeated request erases again (cheap, idempotent) but tells the chain once
            add_event(session, "customer_forgotten", {"customer_ids": ids, "at": now.isoformat()}, now)
        audit.record(ctx, session, actor, "customer_forget",
                     f"customer {', '.join(ids)}: {erased.line()}" + ("" if fresh else " (already forgotten)"), now)
        uow.commit()
    logger.info("forgot %d customer row(s) (%d newly)", len(ids), fresh)
    return ForgetResult(ids, fresh, erased)
