"""A/B cost per local day, program and variant: friends acquired, their discounts, reward vouchers spent.

``reports/ab.py`` sums, over a period, the purchases with a code of each variant (not refunded in full)
and the reward vouchers redeemed, by the program and variant of the purchase that earned them: a walk
over every redemption and ledger entry of the period (three years: millions of rows).
``report_variant_days`` keeps those sums per local day of the store's zone, so a period of whole days
sums a few rows per day; one that is not (or a single store's) reads the raw rows.

Kept like ``report_referrer_days``: the redemptions, ``sale_refunded`` entries (their purchase's day)
and ``voucher_redeemed`` entries added since the watermarks name the days to recompute from the raw
rows; a change of the store's zone rebuilds the table.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from pos_referral.db.base import table
from pos_referral.db.engine import Database
from pos_referral.db.models import LedgerEntry, Redemption, Reward
from pos_referral.db.models_milestones import ReportVariantDay
from pos_referral.db.models_reports import ReportWatermark
from pos_referral.services.reports.date_range import DateRange, local_midnight
from pos_referral.services.reports.rollup.buckets import RAW_KEY, day_number, day_of, set_marks, supported, zone_mark
from pos_referral.services.unit_of_work import UnitOfWork

_V = table(ReportVariantDay)
_W = table(ReportWatermark)
_ROWID = {"redemptions": sa.literal_column("redemptions.rowid"), "ledger": table(LedgerEntry).c.id}
_NET = Redemption.basket_minor - Redemption.refunded_minor


def _marks(conn: sa.Connection) -> dict[str, int]:
    return {str(k).removeprefix("ab:"): int(v) for k, v in conn.execute(
        sa.select(_W.c.source, _W.c.value).where(_W.c.source.startswith("ab:")))}


def _recompute(conn: sa.Connection, tz: ZoneInfo, day: int) -> None:
    """Replace the rows of local ``day`` by the raw rows' sums (as ``ab._acquired`` and ``ab._vouchers``)."""
    local = day_of(day)
    lo, hi = local_midnight(local, tz), local_midnight(local + timedelta(days=1), tz)
    sums: dict[tuple[str, str], list[int]] = {}
    for p, v, n, d in conn.execute(sa.select(Redemption.program_id, Redemption.variant, sa.func.count(),
                                             sa.func.coalesce(sa.func.sum(Redemption.discount_minor), 0))
                                   .where(Redemption.created_at >= lo, Redemption.created_at < hi, _NET > 0)
                                   .group_by(Redemption.program_id, Redemption.variant)):
        row = sums.setdefault((str(p), str(v or "")), [0, 0, 0])
        row[0] += int(n)
        row[1] += int(d)
    for p, v, amount in conn.execute(
            sa.select(Reward.program_id, Redemption.variant, sa.func.sum(LedgerEntry.amount_minor))
            .select_from(LedgerEntry).join(Reward, Reward.id == LedgerEntry.reward_id)
            .outerjoin(Redemption, Redemption.id == Reward.redemption_id)
            .where(LedgerEntry.entry == "voucher_redeemed", LedgerEntry.at >= lo, LedgerEntry.at < hi)
            .group_by(Reward.program_id, Redemption.variant)):
        sums.setdefault((str(p), str(v or "")), [0, 0, 0])[2] += int(amount or 0)
    conn.execute(sa.delete(_V).where(_V.c.day == day))
    if sums:
        conn.execute(sa.insert(_V), [dict(day=day, program_id=p, variant=v, acquired=n, discount=d, vouchers=c)
                                     for (p, v), (n, d, c) in sums.items()])


def _days(conn: sa.Connection, tz: ZoneInfo, marks: dict[str, int], tops: dict[str, int]) -> set[int]:
    def new(source: str) -> sa.ColumnElement[bool]:
        return sa.and_(_ROWID[source] > marks.get(source, 0), _ROWID[source] <= tops[source])

    moments = list(conn.execute(sa.select(Redemption.created_at).where(new("redemptions"))).scalars())
    moments += conn.execute(sa.select(Redemption.created_at).select_from(LedgerEntry).join(
        Redemption, Redemption.id == LedgerEntry.redemption_id).where(
        new("ledger"), LedgerEntry.entry == "sale_refunded")).scalars()
    moments += conn.execute(sa.select(LedgerEntry.at).where(
        new("ledger"), LedgerEntry.entry == "voucher_redeemed")).scalars()
    return {day_number(at.astimezone(tz).date()) for at in moments}


def refresh(db: Database, tz: ZoneInfo, tops: dict[str, int]) -> None:
    """Bring the table up to the redemptions and ledger entries up to ``tops`` (row ids read by the caller)."""
    with UnitOfWork(db, write=False) as read:
        conn = read.conn
        marks = _marks(conn)
        rebuild = marks.get("zone") != zone_mark(tz)
        if not rebuild and all(marks.get(s, 0) >= tops[s] for s in _ROWID):
            return
        if rebuild:
            lo, hi = conn.execute(sa.select(sa.func.min(Redemption.created_at),
                                            sa.func.max(Redemption.created_at))).one()
            v_lo, v_hi = conn.execute(sa.select(sa.func.min(LedgerEntry.at), sa.func.max(LedgerEntry.at)).where(
                LedgerEntry.entry == "voucher_redeemed")).one()
            ends = [at for at in (lo, hi, v_lo, v_hi) if at is not None]
            days = set(range(day_number(min(ends).astimezone(tz).date()),
                             day_number(max(ends).astimezone(tz).date()) + 1)) if ends else set()
        else:
            days = _days(conn, tz, marks, tops)
    if rebuild:
        with UnitOfWork(db, write=True) as uow:
            uow.conn.execute(sa.delete(_V))
            uow.commit()
    ordered = sorted(days)
    for i in range(0, len(ordered), 7):  # a week of days per transaction
        with UnitOfWork(db, write=True) as uow:
            for day in ordered[i:i + 7]:
                _recompute(uow.conn, tz, day)
            uow.commit()
    with UnitOfWork(db, write=True) as uow:
        set_marks(uow.conn, {"ab:zone": zone_mark(tz), **{f"ab:{s}": tops[s] for s in _ROWID}})
        uow.commit()


def usable(conn: sa.Connection, rng: DateRange) -> bool:
    """Whole local days of the store's zone, the whole store (else ``ab`` reads the raw rows)."""
    if not supported(conn) or rng.store_no is not None or conn.info.get(RAW_KEY):
        return False
    whole = (rng.start == local_midnight(rng.first, rng.tz)
             and rng.end == local_midnight(rng.last + timedelta(days=1), rng.tz))
    return whole and _marks(conn).get("zone") == zone_mark(rng.tz)


def sums(conn: sa.Connection, rng: DateRange) -> dict[tuple[str, str], tuple[int, int, int]]:
    """{(program, variant): (friends acquired, their discounts, reward vouchers spent)} of the range."""
    rows: Any = conn.execute(sa.select(_V.c.program_id, _V.c.variant, sa.func.sum(_V.c.acquired),
                                       sa.func.sum(_V.c.discount), sa.func.sum(_V.c.vouchers))
                             .where(_V.c.day >= day_number(rng.first), _V.c.day <= day_number(rng.last))
                             .group_by(_V.c.program_id, _V.c.variant))
    return {(str(p), str(v)): (int(n), int(d), int(c)) for p, v, n, d, c in rows}
