"""The rollup summed per local day of the store's zone: a month or three years read as days, not quarter hours.

A range of whole local days in the store's zone is a sum over ``report_rollup_days`` (30 rows per
combination of dimensions for 30 days, instead of 2,880 quarter hours). The day rows are sums of
the quarter-hour rows, rewritten by the catch-up for the days whose quarter hours it rewrote. A
catch-up told no zone (or a change of zone) drops the zone mark, so the next one with a zone
rebuilds them all, and meanwhile the reports read the quarter hours.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from pos_referral.db.base import table
from pos_referral.db.engine import Database
from pos_referral.db.models_reports import ReportRollup, ReportRollupDay, ReportWatermark
from pos_referral.services.reports.date_range import DateRange, offset_pieces
from pos_referral.services.reports.rollup.buckets import BUCKET_SECONDS, day_number, instant, zone_mark
from pos_referral.services.unit_of_work import UnitOfWork

MARK = "d:zone"
DIMS = ("store_no", "program_id", "channel", "till_id", "staff")
FIRST_FACTS = {"converted", "voucher_sales"}  # staff holds the quarter hour of a first event, not a cashier
_R = table(ReportRollup)
_D = table(ReportRollupDay)
_W = table(ReportWatermark)
_EPOCH = date(1970, 1, 1)


def usable(conn: sa.Connection, rng: DateRange) -> bool:
    return conn.execute(sa.select(_W.c.value).where(_W.c.source == MARK)).scalar() == zone_mark(rng.tz)


def _local_day(span: DateRange) -> sa.ColumnElement[int]:
    """SQL: the local day number of a rollup row's quarter hour (the zone's offset chosen per quarter hour)."""
    pieces = offset_pieces(span)
    offset: sa.ColumnElement[int] = sa.literal(pieces[-1][1] * 60)
    if len(pieces) > 1:
        offset = sa.case(*[(_R.c.bucket < int(pieces[i + 1][0].timestamp()) // BUCKET_SECONDS,
                            sa.literal(pieces[i][1] * 60)) for i in range(len(pieces) - 1)], else_=offset)
    return (_R.c.bucket * BUCKET_SECONDS + offset) // 86400


def _rewrite(conn: sa.Connection, tz: ZoneInfo, fact: str | None, first: date, last: date) -> None:
    """Day rows of ``fact`` (or every fact) for local days first..last, from the quarter hours."""
    span = DateRange(first, last, tz)
    lo, hi = int(span.start.timestamp()) // BUCKET_SECONDS, int(span.end.timestamp()) // BUCKET_SECONDS
    day = _local_day(span).label("day")
    dims = [_R.c[d] for d in DIMS]
    where = [_R.c.bucket >= lo, _R.c.bucket < hi] + ([] if fact is None else [_R.c.fact == fact])
    sums = [sa.func.sum(_R.c[k]) for k in ("n", "a", "b", "c")]
    conn.execute(sa.delete(_D).where(_D.c.day >= day_number(first), _D.c.day <= day_number(last),
                                     *([] if fact is None else [_D.c.fact == fact])))
    conn.execute(sa.insert(_D).from_select(
        ["fact", "day", *DIMS, "n", "a", "b", "c"],
        sa.select(_R.c.fact, day, *dims, *sums).where(*where).group_by(_R.c.fact, day, *dims)))
    for name in FIRST_FACTS if fact is None else {fact} & FIRST_FACTS:
        _first_as_day(conn, tz, name, first, last)


def _first_as_day(conn: sa.Connection, tz: ZoneInfo, fact: str, first: date, last: date) -> None:
    """The staff column of ``fact`` holds a quarter hour (a code's first friend...): as a local day here.

    "Before the range ended" is then "on or before its last day", and the rows of a day merge.
    """
    where = sa.and_(_D.c.fact == fact, _D.c.day >= day_number(first), _D.c.day <= day_number(last))
    merged: dict[tuple[Any, ...], list[int]] = {}
    for row in conn.execute(sa.select(_D).where(where)).mappings():
        staff = "" if row["staff"] == "" else str(day_number(_day_of(int(row["staff"]), tz)))
        key = (row["day"], row["store_no"], row["program_id"], row["channel"], row["till_id"], staff)
        total = merged.setdefault(key, [0, 0, 0, 0])
        for i, k in enumerate(("n", "a", "b", "c")):
            total[i] += int(row[k])
    conn.execute(sa.delete(_D).where(where))
    if merged:
        conn.execute(sa.insert(_D), [dict(fact=fact, day=k[0], store_no=k[1], program_id=k[2], channel=k[3],
                                          till_id=k[4], staff=k[5], n=v[0], a=v[1], b=v[2], c=v[3])
                                     for k, v in merged.items()])


def refresh(db: Database, tz: ZoneInfo | None, runs: Iterable[tuple[str, int, int]]) -> None:
    """Rewrite the days of the quarter-hour ``runs`` (fact, first, last bucket) just rewritten."""
    runs = list(runs)
    with UnitOfWork(db, write=False) as read:
        conn = read.conn
        mark = conn.execute(sa.select(_W.c.value).where(_W.c.source == MARK)).scalar()
        if not runs and (tz is None or mark == zone_mark(tz)):
            return  # nothing rewritten: the day rows (if any) still hold
        lo, hi = conn.execute(sa.select(sa.func.min(_R.c.bucket), sa.func.max(_R.c.bucket))).one()
    if tz is None or mark != zone_mark(tz):
        with UnitOfWork(db, write=True) as uow:
            uow.conn.execute(sa.delete(_W).where(_W.c.source == MARK))
            uow.commit()
        if tz is None or lo is None:
            return
        first = _day_of(int(lo), tz) - timedelta(days=1)
        last = _day_of(int(hi), tz) + timedelta(days=1)
        for start in range(0, (last - first).days + 1, 28):  # four weeks of days per transaction
            with UnitOfWork(db, write=True) as uow:
                _rewrite(uow.conn, tz, None, first + timedelta(days=start),
                         min(first + timedelta(days=start + 27), last))
                uow.commit()
        with UnitOfWork(db, write=True) as uow:
            uow.conn.execute(sa.insert(_W), {"source": MARK, "value": zone_mark(tz)})
            uow.commit()
        return
    with UnitOfWork(db, write=True) as uow:
        for fact, first_bucket, last_bucket in runs:
            _rewrite(uow.conn, tz, fact, _day_of(first_bucket, tz), _day_of(last_bucket, tz))
        uow.commit()


def _day_of(bucket: int, tz: ZoneInfo) -> date:
    return instant(bucket).astimezone(tz).date()


def day_range(rng: DateRange) -> sa.ColumnElement[bool]:
    return sa.and_(_D.c.day >= day_number(rng.first), _D.c.day <= day_number(rng.last))

