"""The till's hint "Frequent customer without a card: offer one", for the customer the cashier named.

The report's "who to invite" lists customers with sales on ``MIN_VISIT_DAYS`` or more local days and no
referral code; at the till the same rule is asked of one customer over the last ``WINDOW_DAYS``: one
look-up of the customer by keyed hash, one of their referral code, and their few recent sales by the
``sales.customer_id`` index. Nothing is written and no summary is needed, so the hint is exact and cheap.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa

from pos_referral.db.models import Code, Customer, Sale
from pos_referral.services.context import StoreContext
from pos_referral.services.customers import CustomerInput
from pos_referral.services.unit_of_work import UnitOfWork

MIN_VISIT_DAYS = 2  # the same threshold as the report's "who to invite"
WINDOW_DAYS = 30

_BY_HASH = sa.select(Customer.id).where(Customer.identity_hash == sa.bindparam("value"))
_HAS_CODE = sa.select(Code.code).where(Code.customer_id == sa.bindparam("customer_id"), Code.kind == "referral")
_RECENT = (sa.select(Sale.at).where(Sale.customer_id == sa.bindparam("customer_id"),
                                    Sale.at >= sa.bindparam("since", type_=Sale.at.type))
           .limit(500))


@dataclass(frozen=True)
class InviteHint:
    customer_id: str
    visit_days: int


def frequent_without_card(ctx: StoreContext, given: CustomerInput) -> InviteHint | None:
    """The hint for this customer, or None (unknown here, holds a code, or fewer visit days)."""
    now = ctx.clock()
    tz = ctx.tz
    with UnitOfWork(ctx.db, write=False) as uow:
        conn = uow.conn
        customer_id = given.customer_id
        if customer_id is None and given.identity is not None:
            for pepper in (ctx.secrets.pepper, *ctx.secrets.old_peppers):
                customer_id = conn.execute(_BY_HASH, {"value": given.identity.hashed(pepper)}).scalar()
                if customer_id is not None:
                    break
        if customer_id is None or conn.execute(_HAS_CODE, {"customer_id": customer_id}).first() is not None:
            return None
        ats = conn.execute(_RECENT, {"customer_id": customer_id, "since": now - timedelta(days=WINDOW_DAYS)}).scalars()
        days = len({at.astimezone(tz).date() for at in ats})
    return InviteHint(customer_id, days) if days >= MIN_VISIT_DAYS else None
