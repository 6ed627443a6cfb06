"""A bearer referral code: printed by the proxy for a customer nobody knows yet.

The code belongs to a placeholder customer (a row with no identity) so every rule that follows a
code to its owner (one referral per friend, self-referral by identity, rewards, reports, sync) works
unchanged; the customer names themselves later on the claim page (``claims``). Until then the
referrer's rewards wait (``services/rewards.release_due_rewards`` skips them).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from pos_referral.db.models import Code
from pos_referral.domain.codes import CodeKind
from pos_referral.domain.rules import Program
from pos_referral.services.context import StoreContext
from pos_referral.services.customers import CustomerInput, insert_customer
from pos_referral.services.referral_codes import Holder, IssuedCode, issue_in_session

CHANNEL = "proxy"


def issue_bearer(conn: sa.Connection, ctx: StoreContext, program: Program, now: datetime) -> IssuedCode:
    """A new placeholder customer and their bearer code, in the caller's write transaction."""
    customer_id, _ = insert_customer(conn, CustomerInput(), ctx.secrets.pepper, store_no=ctx.store_no, now=now)
    return issue_in_session(conn, ctx, Holder(customer_id), program, channel=CHANNEL, till_id="", now=now,
                            known_new=True, bearer=True)


def unclaimed_customers() -> Any:
    """Customers holding an unclaimed bearer code: their rewards wait (a subquery for ``NOT IN``)."""
    return sa.select(Code.customer_id).where(Code.bearer.is_(True), Code.claimed_at.is_(None),
                                             Code.kind == CodeKind.REFERRAL.value)


def bearer_counts(db: so.Session | sa.Connection, start: datetime, end: datetime,
                  store_no: int | None = None) -> dict[str, int]:
    """Bearer codes printed in ``[start, end)`` (at ``store_no``, or all): how many, how many claimed
    since, how many not yet. ``bearer = 1`` is the predicate of ``ix_codes_bearer``, so only the bearer codes'
    index entries are read (not every code of the range: 390,000 of them in a busy month took 90 ms)."""
    query = sa.select(sa.func.count(), sa.func.count(Code.claimed_at)).where(
        Code.created_at >= start, Code.created_at < end, Code.kind == CodeKind.REFERRAL.value,
        Code.channel == CHANNEL, Code.bearer == sa.true())
    if store_no is not None:
        query = query.where(Code.store_no == store_no)
    printed, claimed = db.execute(query).one()
    return {"printed": int(printed), "claimed": int(claimed), "unclaimed": int(printed) - int(claimed)}
