"""Staff sessions end on the server: a version per staff member, checked on every request.

A session (Flask's signed cookie) carries the member's ``staff.session_version`` from sign-in.
Sign-out, deactivation and a new PIN, password or role add one to it, so every copy of an older
cookie (another tab, another till, a copied cookie) stops working on its next request. One primary
key read per request, no write, nothing to purge; signing out ends that person's sessions everywhere.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from pos_referral.db.base import table
from pos_referral.db.models import Staff, TillSignIn
from pos_referral.services import audit
from pos_referral.services.context import StoreContext
from pos_referral.services.unit_of_work import UnitOfWork

_STAFF = table(Staff)
_VERSION = sa.select(_STAFF.c.session_version).where(_STAFF.c.id == sa.bindparam("staff_id"),
                                                     _STAFF.c.active.is_(True))


def session_version(ctx: StoreContext, staff_id: int) -> int | None:
    """The version a live session of this member must carry; None when they are gone or deactivated."""
    with UnitOfWork(ctx.db, write=False) as read:
        found = read.conn.execute(_VERSION, {"staff_id": staff_id}).scalar()
    return None if found is None else int(found)


def end_sessions(ctx: StoreContext, staff_id: int, *, actor: str, why: str) -> None:
    """Every session of this member ends at its next request (sign-out: ``why`` says where)."""
    with UnitOfWork(ctx.db, write=True) as uow:
        name = uow.conn.execute(
            sa.update(_STAFF).where(_STAFF.c.id == staff_id).values(session_version=_STAFF.c.session_version + 1)
            .returning(_STAFF.c.name)).scalar()
        if name is not None:
            audit.record(ctx, uow.session, actor, "sessions_ended", f"{name}: {why}", ctx.clock())
        uow.commit()


def note_till_sign_in(uow: UnitOfWork, till_id: str, staff_id: int, now: datetime) -> None:
    """Remember that this member signed in at this till (inside the sign-in's own write unit)."""
    row = uow.session.get(TillSignIn, (till_id, staff_id))
    if row is None:
        uow.session.add(TillSignIn(till_id=till_id, staff_id=staff_id, at=now))
    else:
        row.at = now


def recent_names(ctx: StoreContext, till_id: str, days: int) -> list[str]:
    """Active staff with a PIN who signed in at this till within ``days``: all its sign-in page shows."""
    if days <= 0:
        return []
    since = ctx.clock() - timedelta(days=days)
    with UnitOfWork(ctx.db, write=False) as read:
        return list(read.session.scalars(
            sa.select(Staff.name).join(TillSignIn, TillSignIn.staff_id == Staff.id)
            .where(TillSignIn.till_id == till_id, TillSignIn.at >= since, Staff.active.is_(True),
                   Staff.pin_hash.is_not(None))
            .order_by(Staff.name)))
