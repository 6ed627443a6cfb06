"""Sales per local day and per named customer and day, kept beside ``sales`` by row-id watermarks.

Over three million sales a report cannot group the raw rows for each figure, so two summaries hold
them: ``report_sale_days`` (count and sum per local day, source, coded, referred, named, cashier) and
``report_sale_customers`` (count and sum per named customer and local day, with the customer's previous
day with a sale and the day they first came as a referred friend), and per customer over all days
``report_sale_customer_totals`` (recomputed for the customers each window touches). ``sales`` only grows (a sale is
recorded once, never changed or deleted), so new rows are those past the watermark ``s:sales``; each
window of ``WINDOW`` row ids is folded in by one short write unit. New redemptions (``s:redemptions``)
set their friends' ``referred_day``. A change of the store's zone rebuilds both.

A sale's row flags are read when it is folded in, from the rows as they are then (``raw_flags``; the raw
report uses the same expressions): *coded*, a referral code or reward voucher was redeemed on it (it was
recorded by the redemption, or a redemption or voucher sale names its sale_id); *referred*, its customer
had come as a referred friend by the sale's time. A redemption recorded after the POS had already sent
its sale is therefore not seen as coded by the summary: the POS redeems before the sale is paid.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite

from pos_referral.db.base import table
from pos_referral.db.models import Redemption, ReportEvent, Sale
from pos_referral.db.models_reports import ReportWatermark
from pos_referral.db.models_sales import ReportSaleCustomer, ReportSaleCustomerTotal, ReportSaleDay
from pos_referral.services.reports.date_range import DateRange, local_day
from pos_referral.services.reports.rollup.buckets import RAW_KEY, set_marks, supported, unindexed, zone_mark
from pos_referral.services.unit_of_work import UnitOfWork

WINDOW = 20_000  # sales rows per write unit (about half a second of the write lock on a small machine)
_DAYS = table(ReportSaleDay)
_CUST = table(ReportSaleCustomer)
_TOT = table(ReportSaleCustomerTotal)
_W = table(ReportWatermark)
_MARK, _RED_MARK, _ZONE = "s:sales", "s:redemptions", "s:zone"
_RED_ROWID: sa.ColumnElement[int] = sa.literal_column("redemptions.rowid", sa.Integer)


def raw_flags(sale: Any = Sale) -> tuple[sa.ColumnElement[int], sa.ColumnElement[int], sa.ColumnElement[int]]:
    """(coded, referred, known) of a ``sales`` row as 0/1 expressions (indexed look-ups per row)."""
    by_redemption = sa.exists().where(Redemption.sale_id == sale.sale_id)
    # +kind: by the sale_id index (one row), never by the (kind, at) index (every voucher sale, per sale)
    by_voucher = sa.exists().where(ReportEvent.sale_id == sale.sale_id, unindexed(ReportEvent.kind) == "voucher_sale")
    coded = sa.case((sale.source.in_(("referral", "voucher")), 1), (by_redemption, 1), (by_voucher, 1), else_=0)
    came_referred = sa.exists().where(Redemption.friend_id == sale.customer_id, Redemption.created_at <= sale.at)
    referred = sa.case((sa.and_(sale.customer_id.is_not(None), came_referred), 1), else_=0)
    known = sa.case((sale.customer_id.is_not(None), 1), else_=0)
    return coded, referred, known


def _day(column: Any, span: DateRange) -> sa.ColumnElement[int]:
    """The local day number (days since 1970-01-01, SQLite) of a UTC timestamp column within ``span``."""
    return sa.cast(sa.func.julianday(local_day(column, span, "sqlite")) - 2440587.5, sa.Integer)


def _span(conn: sa.Connection, tz: ZoneInfo) -> DateRange:
    """All of history (sales and redemptions; the ends by index), so local days are right for any row."""
    moments: list[datetime] = []
    for column in (Sale.at, Redemption.created_at):
        for fn in (sa.func.min, sa.func.max):
            found = conn.execute(sa.select(fn(column))).scalar()
            moments += [found] if found is not None else []
    if not moments:
        return DateRange(date(2000, 1, 1), date(2000, 1, 2), tz)
    return DateRange(min(moments).astimezone(tz).date() - timedelta(days=1),
                     max(moments).astimezone(tz).date() + timedelta(days=1), tz)


def _fold(conn: sa.Connection, span: DateRange, lo: int, hi: int) -> None:
    coded, referred, known = raw_flags()
    rows = (sa.select(_day(Sale.at, span).label("day"), Sale.source, coded.label("coded"),
                      referred.label("referred"), known.label("known"), Sale.cashier, Sale.customer_id,
                      Sale.total_minor).where(Sale.id > lo, Sale.id <= hi).subquery("rows"))
    keys = ["day", "source", "coded", "referred", "known", "cashier"]
    per_day = (sa.select(*(rows.c[k] for k in keys), sa.func.count(), sa.func.sum(rows.c.total_minor))
               .where(sa.true()).group_by(*(rows.c[k] for k in keys)))
    ins = sqlite.insert(_DAYS).from_select([*keys, "n", "total_minor"], per_day)
    conn.execute(ins.on_conflict_do_update(
        index_elements=keys,
        set_={"n": _DAYS.c.n + ins.excluded.n, "total_minor": _DAYS.c.total_minor + ins.excluded.total_minor}))
    named = (sa.select(Sale.customer_id, _day(Sale.at, span).label("day"), sa.func.count(),
                       sa.func.sum(Sale.total_minor))
             .where(Sale.id > lo, Sale.id <= hi, Sale.customer_id.is_not(None)).group_by(sa.text("1"), sa.text("2")))
    ins_c = sqlite.insert(_CUST).from_select(["customer_id", "day", "n", "total_minor"], named)
    conn.execute(ins_c.on_conflict_do_update(
        index_elements=["customer_id", "day"],
        set_={"n": _CUST.c.n + ins_c.excluded.n, "total_minor": _CUST.c.total_minor + ins_c.excluded.total_minor}))
    touched = sa.select(Sale.customer_id).where(Sale.id > lo, Sale.id <= hi, Sale.customer_id.is_not(None))
    order = {"partition_by": _CUST.c.customer_id, "order_by": _CUST.c.day}
    chain = (sa.select(_CUST.c.customer_id.label("cid"), _CUST.c.day.label("day"),
                       sa.func.lag(_CUST.c.day, 1).over(**order).label("prev"))  # type: ignore[arg-type]
             .where(_CUST.c.customer_id.in_(touched)).subquery())
    conn.execute(sa.update(_CUST).where(_CUST.c.customer_id == chain.c.cid, _CUST.c.day == chain.c.day,
                                        _CUST.c.prev_day.is_distinct_from(chain.c.prev))
                 .values(prev_day=chain.c.prev))
    _set_referred(conn, span, touched)
    totals = (sa.select(_CUST.c.customer_id, sa.func.count(), sa.func.sum(_CUST.c.total_minor),
                        sa.func.min(_CUST.c.day), sa.func.max(_CUST.c.day))
              .where(_CUST.c.customer_id.in_(touched)).group_by(_CUST.c.customer_id))
    ins_t = sqlite.insert(_TOT).from_select(["customer_id", "days", "spent_minor", "first_day", "last_day"], totals)
    conn.execute(ins_t.on_conflict_do_update(index_elements=["customer_id"], set_={
        name: ins_t.excluded[name] for name in ("days", "spent_minor", "first_day", "last_day")}))


def _set_referred(conn: sa.Connection, span: DateRange, who: Any) -> None:
    """``referred_day`` of the customers ``who``: the local day of their first redemption as a friend."""
    first = (sa.select(Redemption.friend_id.label("cid"),
                       _day(sa.func.min(unindexed(Redemption.created_at)), span).label("day"))
             .where(Redemption.friend_id.in_(who)).group_by(Redemption.friend_id).subquery())
    conn.execute(sa.update(_CUST).where(_CUST.c.customer_id == first.c.cid,
                                        _CUST.c.referred_day.is_distinct_from(first.c.day))
                 .values(referred_day=first.c.day))


def refresh(db: Any, tz: ZoneInfo) -> int:
    """Fold the sales and redemptions past the watermarks into the summaries; returns sales folded in."""
    with UnitOfWork(db, write=False) as read:
        conn = read.conn
        if not supported(conn):
            return 0
        marks = dict(conn.execute(sa.select(_W.c.source, _W.c.value)
                                  .where(_W.c.source.in_((_MARK, _RED_MARK, _ZONE)))).all())
        top = int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(Sale.id), 0))).scalar_one())
        red_top = int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(_RED_ROWID), 0))
                                   .select_from(Redemption)).scalar_one())
    start, red_start = int(marks.get(_MARK, 0)), int(marks.get(_RED_MARK, 0))
    if marks.get(_ZONE) != zone_mark(tz):
        start = red_start = 0
        with UnitOfWork(db, write=True) as uow:
            uow.conn.execute(sa.delete(_DAYS))
            uow.conn.execute(sa.delete(_CUST))
            uow.conn.execute(sa.delete(_TOT))
            for source, value in ((_ZONE, zone_mark(tz)), (_MARK, 0), (_RED_MARK, 0)):
                set_marks(uow.conn, {source: value})
            uow.commit()
    if start >= top and red_start >= red_top:
        return 0  # nothing new: the common case
    folded = 0
    with UnitOfWork(db, write=False) as read:
        span = _span(read.conn, tz)
    while start < top:
        hi = min(start + WINDOW, top)
        with UnitOfWork(db, write=True) as uow:
            _fold(uow.conn, span, start, hi)
            set_marks(uow.conn, {_MARK: hi})
            uow.commit()
        folded += hi - start
        start = hi
    if red_start < red_top:
        with UnitOfWork(db, write=True) as uow:
            friends = sa.select(Redemption.friend_id).where(red_start < _RED_ROWID, red_top >= _RED_ROWID)
            _set_referred(uow.conn, span, friends)
            set_marks(uow.conn, {_RED_MARK: red_top})
            uow.commit()
    return folded


def usable(conn: sa.Connection, rng: DateRange) -> bool:
    """The summaries serve this range: kept (SQLite), in the range's zone, for no store filter, not told raw."""
    if not supported(conn) or rng.store_no is not None or conn.info.get(RAW_KEY):
        return False
    return conn.execute(sa.select(_W.c.value).where(_W.c.source == _ZONE)).scalar() == zone_mark(rng.tz)
