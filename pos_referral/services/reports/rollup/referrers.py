"""Friends brought per referrer and local day, kept beside the raw rows: top referrers without a scan.

"Top referrers" ranks referrers by the friends they brought in a range (purchases not refunded in
full), with the net revenue of those purchases. ``report_referrer_days`` holds, per referrer and
local day of the store's zone, that count and revenue; ``report_referrer_totals`` the count over the
whole history. A range's exact figures for one referrer are a sum over at most a few hundred day
rows (primary key order), and the top of the list is found by walking referrers by their total,
most first, until the next total is below the tenth best count so far: nobody further down can
reach it. Referrals are very uneven (a few ambassadors, many occasional referrers), so the walk is
short; when it is not (a day or two of history), the day rows of the range are grouped instead.

Kept like ``report_visits``: the redemptions added since this table's watermark and the refunds
(``sale_refunded`` ledger entries) added since its own give the (referrer, day) pairs to recompute
from the raw rows of that day; a change of the store's zone rebuilds the tables.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from pos_referral.db.base import table
from pos_referral.db.engine import Database
from pos_referral.db.models import LedgerEntry, Redemption
from pos_referral.db.models_reports import ReportReferrerDay, ReportReferrerTotal, ReportWatermark
from pos_referral.services.reports.date_range import DateRange, breathe, local_midnight
from pos_referral.services.reports.rollup.buckets import RAW_KEY, day_number, day_of, set_marks, zone_mark
from pos_referral.services.unit_of_work import UnitOfWork

WALK = 500  # referrers per step of the walk
WALK_LIMIT = 20_000  # past this many, group the range's day rows instead
_D = table(ReportReferrerDay)
_T = table(ReportReferrerTotal)
_W = table(ReportWatermark)
_EPOCH = date(1970, 1, 1)
_NET = Redemption.basket_minor - Redemption.refunded_minor
_ROWID = {"redemptions": sa.literal_column("redemptions.rowid"), "ledger": table(LedgerEntry).c.id}


def usable(conn: sa.Connection, rng: DateRange) -> bool:
    if conn.dialect.name != "sqlite" or rng.store_no is not None or conn.info.get(RAW_KEY):
        return False
    zone = conn.execute(sa.select(_W.c.value).where(_W.c.source == "r:zone")).scalar()
    return zone == zone_mark(rng.tz)


def _sums(conn: sa.Connection, ids: list[str], first: int, last: int) -> dict[str, tuple[int, int]]:
    rows = conn.execute(sa.select(_D.c.referrer_id, sa.func.sum(_D.c.n), sa.func.sum(_D.c.net)).where(
        _D.c.referrer_id.in_(ids), _D.c.day >= first, _D.c.day <= last).group_by(_D.c.referrer_id))
    return {str(r): (int(n), int(net)) for r, n, net in rows if n}


def top(conn: sa.Connection, rng: DateRange, limit: int | None) -> list[tuple[str, int, int]]:
    """[(referrer, friends brought, net revenue)] of the range, most friends first (then by id)."""
    first, last = day_number(rng.first), day_number(rng.last)
    found: dict[str, tuple[int, int]] = {}
    if limit:
        walked = 0
        while walked < WALK_LIMIT:
            batch = conn.execute(sa.select(_T.c.referrer_id, _T.c.n).order_by(  # the index, backwards
                _T.c.n.desc(), _T.c.referrer_id.desc()).limit(WALK).offset(walked)).all()
            if not batch:
                break
            found.update(_sums(conn, [str(r) for r, _ in batch], first, last))
            walked += len(batch)
            best = sorted((n for n, _ in found.values()), reverse=True)
            if len(best) >= limit and int(batch[-1][1]) < best[limit - 1]:
                break  # everyone further down brought fewer friends in all than the last one listed
        else:
            found = {}
    if not limit or walked >= WALK_LIMIT:
        found = {}
        for i, (r, n, net) in enumerate(conn.execute(
                sa.select(_D.c.referrer_id, sa.func.sum(_D.c.n), sa.func.sum(_D.c.net))
                .where(_D.c.day >= first, _D.c.day <= last).group_by(_D.c.referrer_id))):
            breathe(i)
            if n:
                found[str(r)] = (int(n), int(net))
    ranked = sorted(((r, n, net) for r, (n, net) in found.items()), key=lambda x: (-x[1], x[0]))
    return ranked[:limit] if limit else ranked


def _pairs(conn: sa.Connection, tz: ZoneInfo, marks: dict[str, int], tops: dict[str, int]) -> set[tuple[str, int]]:
    """(referrer, local day) of the redemptions added, and of those refunded, since ``marks``."""
    new = sa.and_(_ROWID["redemptions"] > marks["redemptions"], _ROWID["redemptions"] <= tops["redemptions"])
    rows = list(conn.execute(sa.select(Redemption.referrer_id, Redemption.created_at).where(new)))
    refunded = sa.and_(_ROWID["ledger"] > marks["ledger"], _ROWID["ledger"] <= tops["ledger"],
                       LedgerEntry.entry == "sale_refunded")
    rows += conn.execute(sa.select(Redemption.referrer_id, Redemption.created_at).select_from(LedgerEntry)
                         .join(Redemption, Redemption.id == LedgerEntry.redemption_id).where(refunded))
    return {(str(r), day_number(at.astimezone(tz).date())) for r, at in rows}


def _recompute(conn: sa.Connection, tz: ZoneInfo, day: int, who: Iterable[str] | None) -> None:
    """Replace the day rows of ``day`` (of the referrers ``who``, or all) by the raw redemptions' sums."""
    local = day_of(day)
    lo, hi = local_midnight(local, tz), local_midnight(local + timedelta(days=1), tz)
    kept = _NET > 0
    stmt = (sa.select(Redemption.referrer_id, sa.func.sum(sa.case((kept, 1), else_=0)),
                      sa.func.sum(sa.case((kept, _NET), else_=0)))
            .where(Redemption.created_at >= lo, Redemption.created_at < hi).group_by(Redemption.referrer_id))
    ids = None if who is None else sorted(set(who))
    rows = [(str(r), int(n or 0), int(net or 0)) for r, n, net in conn.execute(stmt)]
    if ids is None:
        conn.execute(sa.delete(_D).where(_D.c.day == day))
    else:
        wanted = set(ids)
        rows = [r for r in rows if r[0] in wanted]
        for i in range(0, len(ids), 500):
            conn.execute(sa.delete(_D).where(_D.c.day == day, _D.c.referrer_id.in_(ids[i:i + 500])))
    rows = [r for r in rows if r[1]]
    if rows:
        conn.execute(sa.insert(_D), [dict(referrer_id=r, day=day, n=n, net=net) for r, n, net in rows])


def _totals(conn: sa.Connection, who: list[str] | None) -> None:
    if who is None:
        conn.execute(sa.delete(_T))
        conn.execute(sa.insert(_T).from_select(["referrer_id", "n"], sa.select(
            _D.c.referrer_id, sa.func.sum(_D.c.n)).group_by(_D.c.referrer_id)))
        return
    for i in range(0, len(who), 500):
        some = who[i:i + 500]
        conn.execute(sa.delete(_T).where(_T.c.referrer_id.in_(some)))
        conn.execute(sa.insert(_T).from_select(["referrer_id", "n"], sa.select(
            _D.c.referrer_id, sa.func.sum(_D.c.n)).where(_D.c.referrer_id.in_(some)).group_by(_D.c.referrer_id)))


def refresh(db: Database, tz: ZoneInfo, tops: dict[str, int]) -> None:
    """Bring the tables up to the redemptions and ledger entries up to ``tops`` (row ids read by the caller)."""
    with UnitOfWork(db, write=False) as read:
        conn = read.conn
        marks: dict[str, Any] = {str(k)[2:]: int(v) for k, v in conn.execute(
            sa.select(_W.c.source, _W.c.value).where(_W.c.source.startswith("r:")))}
        rebuild = marks.get("zone") != zone_mark(tz)
        if not rebuild and all(marks.get(s, 0) >= tops[s] for s in _ROWID):
            return
        if rebuild:
            lo, hi = conn.execute(sa.select(sa.func.min(Redemption.created_at),
                                            sa.func.max(Redemption.created_at))).one()
            every = range(day_number(lo.astimezone(tz).date()) if lo else 0,
                          day_number(hi.astimezone(tz).date()) + 1 if hi else 0)
            days: dict[int, set[str] | None] = dict.fromkeys(every)
        else:
            days = {}
            for referrer, day in _pairs(conn, tz, {s: marks.get(s, 0) for s in _ROWID}, tops):
                days.setdefault(day, set()).add(referrer)  # type: ignore[union-attr]
    if rebuild:
        with UnitOfWork(db, write=True) as uow:
            uow.conn.execute(sa.delete(_D))
            uow.conn.execute(sa.delete(_W).where(_W.c.source.startswith("r:")))
            uow.commit()
    ordered = sorted(days)
    for i in range(0, len(ordered), 7):  # a week of days per transaction
        with UnitOfWork(db, write=True) as uow:
            for day in ordered[i:i + 7]:
                _recompute(uow.conn, tz, day, days[day])
            uow.commit()
    with UnitOfWork(db, write=True) as uow:
        touched = None if rebuild else sorted({r for who in days.values() for r in who or ()})
        _totals(uow.conn, touched)
        set_marks(uow.conn, {"r:zone": zone_mark(tz), **{f"r:{s}": tops[s] for s in _ROWID}})
        uow.commit()
