""""Give card": the cashier arms the proxy, and the next receipt printed within ``armed_seconds`` gets a code.

Kept in the store's ``counters`` table (the arm's expiry as epoch milliseconds), not in memory, so the
till page in ``serve`` and a proxy run alone (``pos-referral proxy``) share it, and taking it is one
conditional update: two receipts printed at once cannot both take one arm.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so

from pos_referral.db.models import Counter
from pos_referral.services.context import StoreContext
from pos_referral.services.unit_of_work import UnitOfWork

ARM = "proxy:armed_until"


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def arm(ctx: StoreContext) -> datetime:
    """Arm for ``[proxy] armed_seconds`` from now (pressing again restarts the window); returns its end."""
    now = ctx.clock()
    until = now + timedelta(seconds=ctx.settings.config.proxy.armed_seconds)
    with UnitOfWork(ctx.db, write=True) as uow:
        done = uow.conn.execute(sa.update(Counter).where(Counter.name == ARM).values(value=_ms(until)))
        if done.rowcount == 0:
            uow.conn.execute(sa.insert(Counter).values(name=ARM, value=_ms(until)))
        uow.commit()
    return until


def disarm(ctx: StoreContext) -> None:
    with UnitOfWork(ctx.db, write=True) as uow:
        uow.conn.execute(sa.update(Counter).where(Counter.name == ARM).values(value=0))
        uow.commit()


def armed_until(ctx: StoreContext) -> datetime | None:
    """When the current arm ends, or None when not armed (for the till page)."""
    with UnitOfWork(ctx.db, write=False) as read:
        value = read.conn.execute(sa.select(Counter.value).where(Counter.name == ARM)).scalar()
    now = ctx.clock()
    if not value or value < _ms(now):
        return None
    return now + timedelta(milliseconds=int(value) - _ms(now))


def take(db: so.Session | sa.Connection, now: datetime) -> bool:
    """Use the arm for this receipt, inside the caller's write transaction; False when not armed."""
    done = db.execute(sa.update(Counter).where(Counter.name == ARM, Counter.value >= _ms(now)).values(value=0))
    return bool(done.rowcount == 1)  # type: ignore[attr-defined]
