"""Self-referral attempts and refunded referred sales kept apart: the fraud list without searching for them.

Both are rare among the rows they hide in (a self-referral among every quote, a refund among every
referred sale), and both have an append-only trace: the refusal is a report event (never changed),
a refund is a ``sale_refunded`` ledger entry naming the redemption. The catch-up copies what the
events and ledger entries added since its watermarks point at, from the raw rows (a redemption's
refunded amount is read again at each of its refunds). The reward's status beside a refund is read
live when the list is shown: it changes without a trace.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite

from pos_referral.db.base import table
from pos_referral.db.engine import Database
from pos_referral.db.models import LedgerEntry, Redemption, ReportEvent, Reward
from pos_referral.db.models_reports import ReportRefund, ReportSelfReferral, ReportWatermark
from pos_referral.services.reports.date_range import DateRange
from pos_referral.services.reports.rollup.buckets import set_marks
from pos_referral.services.unit_of_work import UnitOfWork

_SR = table(ReportSelfReferral)
_RF = table(ReportRefund)
_W = table(ReportWatermark)
# kind + '': walk the row-id window, not the index of every quote ever
REFUSED = sa.and_(ReportEvent.reason == "self_referral", (ReportEvent.kind + "").in_(("quote", "refused")))


def usable(conn: sa.Connection) -> bool:
    return conn.execute(sa.select(_W.c.value).where(_W.c.source == "f:ledger")).scalar() is not None


def self_referrals(conn: sa.Connection, rng: DateRange, limit: int) -> list[Any]:
    """[(at, code, till, kind)] of the range, newest first (as ``reports/fraud.py`` reads them)."""
    return list(conn.execute(sa.select(_SR.c.at, _SR.c.code, _SR.c.till_id, _SR.c.kind)
                             .where(_SR.c.at >= rng.start, _SR.c.at < rng.end)
                             .order_by(_SR.c.at.desc(), _SR.c.event_id.desc()).limit(limit)).all())


def refunds(conn: sa.Connection, rng: DateRange, limit: int) -> list[Any]:
    """[(at, code, till, sale, basket, refunded, reward status)] of the range, newest first."""
    return list(conn.execute(
        sa.select(_RF.c.created_at, _RF.c.code, _RF.c.till_id, _RF.c.sale_id, _RF.c.basket_minor,
                  _RF.c.refunded_minor, Reward.status)
        .outerjoin(Reward, Reward.redemption_id == _RF.c.redemption_id)
        .where(_RF.c.created_at >= rng.start, _RF.c.created_at < rng.end)
        .order_by(_RF.c.created_at.desc(), _RF.c.redemption_id.desc()).limit(limit)).all())


def refresh(db: Database, tops: dict[str, int]) -> None:
    """Copy the self-referral events and refunded sales added up to ``tops`` (report events, ledger row ids)."""
    with UnitOfWork(db, write=False) as read:
        conn = read.conn
        marks = {str(k): int(v) for k, v in conn.execute(
            sa.select(_W.c.source, _W.c.value).where(_W.c.source.in_(("f:events", "f:ledger"))))}
    lo_e, lo_l = marks.get("f:events", 0), marks.get("f:ledger", 0)
    if lo_e >= tops["report_events"] and lo_l >= tops["ledger"] and len(marks) == 2:
        return
    step = 500_000  # source rows per transaction (the first run reads the whole history)
    while lo_e < tops["report_events"] or lo_l < tops["ledger"] or len(marks) < 2:
        hi_e, hi_l = min(lo_e + step, tops["report_events"]), min(lo_l + step, tops["ledger"])
        with UnitOfWork(db, write=True) as uow:
            _copy(uow.conn, lo_e, hi_e, lo_l, hi_l)
            set_marks(uow.conn, {"f:events": hi_e, "f:ledger": hi_l})
            uow.commit()
        lo_e, lo_l, marks = hi_e, hi_l, {"f:events": hi_e, "f:ledger": hi_l}


def _copy(c: sa.Connection, lo_e: int, hi_e: int, lo_l: int, hi_l: int) -> None:
    c.execute(sqlite.insert(_SR).from_select(
        ["event_id", "at", "code", "till_id", "kind"],
        sa.select(ReportEvent.id, ReportEvent.at, ReportEvent.code, ReportEvent.till_id, ReportEvent.kind)
        .where(ReportEvent.id > lo_e, ReportEvent.id <= hi_e, REFUSED)).on_conflict_do_nothing())
    refunded = sa.select(LedgerEntry.redemption_id).where(
        LedgerEntry.id > lo_l, LedgerEntry.id <= hi_l, LedgerEntry.entry == "sale_refunded")
    rows = sa.select(Redemption.id, Redemption.created_at, Redemption.code, Redemption.till_id,
                     Redemption.sale_id, Redemption.basket_minor, Redemption.refunded_minor).where(
        Redemption.id.in_(refunded), Redemption.refunded_minor > 0)
    stmt = sqlite.insert(_RF).from_select(
        ["redemption_id", "created_at", "code", "till_id", "sale_id", "basket_minor", "refunded_minor"], rows)
    c.execute(stmt.on_conflict_do_update(index_elements=["redemption_id"],
                                         set_={"refunded_minor": stmt.excluded.refunded_minor}))
