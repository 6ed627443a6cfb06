"""Sales per local day and per named customer and day, kept beside ``sales`` by a row-id watermark.

Over three million sales a report cannot group the raw rows for each figure, so two summaries hold
them: ``report_sale_days`` (count and sum per local day, source, coded, referred, known customer) and
``report_sale_customers`` (count and sum per named customer and local day). ``sales`` only grows (a
sale is recorded once and never changed or deleted), so new rows are those past the watermark
``s:sales``; each window of ``WINDOW`` row ids is folded in by one short write unit that adds its
groups to the kept rows. A change of the store's zone rebuilds both.

A sale's flags are read when it is folded in, from the rows as they are then (``raw_flags``; the raw
report uses the same expressions): *coded*, a referral code or reward voucher was redeemed on it (it was
recorded by the redemption, or a redemption or voucher sale names its sale_id); *referred*, its customer
had come as a referred friend by the sale's time. A redemption recorded after the POS had already sent
its sale is therefore not seen as coded by the summary: the POS redeems before the sale is paid.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite

from pos_referral.db.base import table
from pos_referral.db.models import Redemption, ReportEvent, Sale
from pos_referral.db.models_reports import ReportWatermark
from pos_referral.db.models_sales import ReportSaleCustomer, ReportSaleDay
from pos_referral.services.reports.date_range import DateRange, local_day
from pos_referral.services.reports.rollup.buckets import RAW_KEY, supported, zone_mark
from pos_referral.services.unit_of_work import UnitOfWork

WINDOW = 200_000  # sales rows per transaction
_DAYS = table(ReportSaleDay)
_CUST = table(ReportSaleCustomer)
_W = table(ReportWatermark)
_MARK, _ZONE = "s:sales", "s:zone"


def raw_flags(sale: Any = Sale) -> tuple[sa.ColumnElement[int], sa.ColumnElement[int], sa.ColumnElement[int]]:
    """(coded, referred, known) of a ``sales`` row as 0/1 expressions (indexed look-ups per row)."""
    by_redemption = sa.exists().where(Redemption.sale_id == sale.sale_id)
    by_voucher = sa.exists().where(ReportEvent.sale_id == sale.sale_id, ReportEvent.kind == "voucher_sale")
    coded = sa.case((sale.source.in_(("referral", "voucher")), 1), (by_redemption, 1), (by_voucher, 1), else_=0)
    came_referred = sa.exists().where(Redemption.friend_id == sale.customer_id, Redemption.created_at <= sale.at)
    referred = sa.case((sa.and_(sale.customer_id.is_not(None), came_referred), 1), else_=0)
    known = sa.case((sale.customer_id.is_not(None), 1), else_=0)
    return coded, referred, known


def _day(column: Any, span: DateRange) -> sa.ColumnElement[int]:
    """The local day number (days since 1970-01-01, SQLite) of a UTC timestamp column within ``span``."""
    return sa.cast(sa.func.julianday(local_day(column, span, "sqlite")) - 2440587.5, sa.Integer)


def _span(conn: sa.Connection, tz: ZoneInfo, lo: int, hi: int) -> DateRange:
    first_at, last_at = conn.execute(sa.select(sa.func.min(Sale.at), sa.func.max(Sale.at))
                                     .where(Sale.id > lo, Sale.id <= hi)).one()
    first = first_at.astimezone(tz).date() - timedelta(days=1) if first_at else date(2000, 1, 1)
    last = last_at.astimezone(tz).date() + timedelta(days=1) if last_at else first
    return DateRange(first, last, tz)


def _fold(conn: sa.Connection, tz: ZoneInfo, lo: int, hi: int) -> None:
    span = _span(conn, tz, lo, hi)
    coded, referred, known = raw_flags()
    rows = (sa.select(_day(Sale.at, span).label("day"), Sale.source, coded.label("coded"),
                      referred.label("referred"), known.label("known"), Sale.customer_id, Sale.total_minor)
            .where(Sale.id > lo, Sale.id <= hi).subquery("rows"))
    per_day = sa.select(rows.c.day, rows.c.source, rows.c.coded, rows.c.referred, rows.c.known,
                        sa.func.count(), sa.func.sum(rows.c.total_minor)).where(sa.true()).group_by(
        rows.c.day, rows.c.source, rows.c.coded, rows.c.referred, rows.c.known)
    ins = sqlite.insert(_DAYS).from_select(["day", "source", "coded", "referred", "known", "n", "total_minor"],
                                           per_day)
    conn.execute(ins.on_conflict_do_update(
        index_elements=["day", "source", "coded", "referred", "known"],
        set_={"n": _DAYS.c.n + ins.excluded.n, "total_minor": _DAYS.c.total_minor + ins.excluded.total_minor}))
    per_customer = (sa.select(rows.c.customer_id, rows.c.day, sa.func.max(rows.c.referred), sa.func.count(),
                              sa.func.sum(rows.c.total_minor))
                    .where(rows.c.customer_id.is_not(None)).group_by(rows.c.customer_id, rows.c.day))
    ins_c = sqlite.insert(_CUST).from_select(["customer_id", "day", "referred", "n", "total_minor"], per_customer)
    conn.execute(ins_c.on_conflict_do_update(
        index_elements=["customer_id", "day"],
        set_={"n": _CUST.c.n + ins_c.excluded.n, "total_minor": _CUST.c.total_minor + ins_c.excluded.total_minor,
              "referred": sa.func.max(_CUST.c.referred, ins_c.excluded.referred)}))


def _set_mark(conn: sa.Connection, source: str, value: int) -> None:
    if conn.execute(sa.update(_W).where(_W.c.source == source).values(value=value)).rowcount == 0:
        conn.execute(sa.insert(_W), {"source": source, "value": value})


def refresh(db: Any, tz: ZoneInfo) -> int:
    """Fold the sales past the watermark into the summaries; returns how many sales were folded in."""
    with UnitOfWork(db, write=False) as read:
        conn = read.conn
        if not supported(conn):
            return 0
        marks = dict(conn.execute(sa.select(_W.c.source, _W.c.value).where(_W.c.source.in_((_MARK, _ZONE)))).all())
        top = int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(Sale.id), 0))).scalar_one())
    start = int(marks.get(_MARK, 0))
    if marks.get(_ZONE) != zone_mark(tz):
        start = 0
        with UnitOfWork(db, write=True) as uow:
            uow.conn.execute(sa.delete(_DAYS))
            uow.conn.execute(sa.delete(_CUST))
            _set_mark(uow.conn, _ZONE, zone_mark(tz))
            _set_mark(uow.conn, _MARK, 0)
            uow.commit()
    folded = 0
    while start < top:
        hi = min(start + WINDOW, top)
        with UnitOfWork(db, write=True) as uow:
            _fold(uow.conn, tz, start, hi)
            _set_mark(uow.conn, _MARK, hi)
            uow.commit()
        folded += hi - start
        start = hi
    return folded


def usable(conn: sa.Connection, rng: DateRange) -> bool:
    """The summaries serve this range: kept (SQLite), in the range's zone, for no store filter, not told raw."""
    if not supported(conn) or rng.store_no is not None or conn.info.get(RAW_KEY):
        return False
    return conn.execute(sa.select(_W.c.value).where(_W.c.source == _ZONE)).scalar() == zone_mark(rng.tz)
