"""What the landing page behind the receipt QR reads and counts."""

from __future__ import annotations

import logging

import sqlalchemy as sa

from pos_referral.db.models import Customer, LandingVisit, Redemption
from pos_referral.domain.text import short_code
from pos_referral.services.context import StoreContext
from pos_referral.services.unit_of_work import UnitOfWork

logger = logging.getLogger(__name__)


def count_visit(ctx: StoreContext, code: str, language: str) -> None:
    """One row per landing visit (the funnel's scan rate); a failure here never breaks the page."""
    try:
        with UnitOfWork(ctx.db, write=True) as uow:
            uow.session.add(LandingVisit(code=code, at=ctx.clock(), language=language[:8]))
            uow.commit()
    except sa.exc.SQLAlchemyError:
        logger.warning("landing visit for %s not counted", short_code(code), exc_info=True)


def friends_joined(ctx: StoreContext, code: str) -> int:
    with UnitOfWork(ctx.db, write=False) as read:
        return int(read.session.scalar(sa.select(sa.func.count()).where(Redemption.code == code)) or 0)


def referrer_first_name(ctx: StoreContext, customer_id: str) -> str:
    with UnitOfWork(ctx.db, write=False) as read:
        customer = read.session.get(Customer, customer_id)
        return customer.first_name if customer is not None else ""
