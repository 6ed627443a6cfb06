"""Per referral code, the first moment of each funnel step: the honest funnel and A/B without a scan.

The cohort funnel (``reports/cohort.py``) asks, per code issued in a period, whether its landing page
was visited, a friend quoted, a friend bought, the reward released and its voucher used before the
period's end: five look-ups per code, 1.7 million codes on a big store. ``report_code_milestones``
keeps, per referral code, the first moment of each step (the minimum over the same raw rows the
funnel reads), so "reached before the end" is ``step_at < end`` on one covering index; and
``report_code_days`` counts those codes per local issue day, program and variant assuming an end after
every step ever recorded: a range that ends after ``m:latest`` (the latest moment seen, kept as a
watermark) and on local midnights sums a few rows per day.

A step can be reached or undone by an UPDATE of an existing row (a reward released or voided, a
voucher used); each of those writes a ledger entry naming the reward (``referrer_reward_released``,
``referrer_reward_voided``, ``clawback``, ``voucher_redeemed``), and a refund a ``sale_refunded``
entry naming the redemption. So the catch-up reads, by row id since its watermarks: new codes,
landing visits, quotes, redemptions, rewards (synced in already released) and ledger entries, maps
each to its referral code, and recomputes those codes from the raw rows, then their issue days.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
import sqlalchemy.orm as so

from pos_referral.db.base import table
from pos_referral.db.engine import Database
from pos_referral.db.models import Code, LandingVisit, LedgerEntry, Redemption, ReportEvent, Reward
from pos_referral.db.models_milestones import ReportCodeDay, ReportCodeMilestone
from pos_referral.db.models_reports import ReportWatermark
from pos_referral.services.reports.date_range import DateRange, issued_here, local_midnight
from pos_referral.services.reports.rollup.buckets import RAW_KEY, day_number, day_of, set_marks, supported, zone_mark
from pos_referral.services.unit_of_work import UnitOfWork

_M = table(ReportCodeMilestone)
_D = table(ReportCodeDay)
_W = table(ReportWatermark)
STEPS = ("visited_at", "quoted_at", "bought_at", "released_at", "used_at")
CODES_PER_WRITE = 5000  # codes recomputed per write transaction (the till waits at most that long)
_ROWID = {"codes": sa.literal_column("codes.rowid"), "redemptions": sa.literal_column("redemptions.rowid"),
          "rewards": sa.literal_column("rewards.rowid"), "landing_visits": table(LandingVisit).c.id,
          "report_events": table(ReportEvent).c.id, "ledger": table(LedgerEntry).c.id}


def _firsts() -> list[sa.ScalarSelect[Any]]:
    """Per ``Code`` row: the first moment of each step, from the rows ``cohort.flags`` reads."""
    red, rew, voucher = so.aliased(Redemption), so.aliased(Reward), so.aliased(Code)
    red2, rew2 = so.aliased(Redemption), so.aliased(Reward)
    return [
        sa.select(sa.func.min(LandingVisit.at)).where(LandingVisit.code == Code.code).scalar_subquery(),
        sa.select(sa.func.min(ReportEvent.at)).where(
            ReportEvent.code == Code.code, ReportEvent.kind.concat("") == "quote",
            ReportEvent.reason != "self_referral").scalar_subquery(),
        sa.select(sa.func.min(Redemption.created_at)).where(Redemption.code == Code.code).scalar_subquery(),
        sa.select(sa.func.min(rew.released_at)).select_from(red).join(rew, rew.redemption_id == red.id).where(
            red.code == Code.code, rew.source == "referral").scalar_subquery(),
        sa.select(sa.func.min(voucher.redeemed_at)).select_from(red2).join(rew2, rew2.redemption_id == red2.id)
        .join(voucher, voucher.reward_id == rew2.id).where(
            red2.code == Code.code, rew2.source == "referral", voucher.kind == "voucher").scalar_subquery(),
    ]


def _rows(where: sa.ColumnElement[bool]) -> sa.Select[Any]:
    return sa.select(Code.code, Code.program_id, sa.func.coalesce(Code.variant, ""), Code.store_no,
                     sa.case((issued_here(), True), else_=False), Code.created_at, *_firsts()).where(
        Code.kind == "referral", where)


_COLUMNS = ["code", "program_id", "variant", "store_no", "here", "created_at", *STEPS]


def _rewrite_codes(conn: sa.Connection, codes: list[str]) -> None:
    conn.execute(sa.delete(_M).where(_M.c.code.in_(codes)))
    conn.execute(sa.insert(_M).from_select(_COLUMNS, _rows(Code.code.in_(codes))))


def _latest(conn: sa.Connection, where: sa.ColumnElement[bool]) -> int:
    """The latest moment (unix seconds) among the summary rows ``where`` selects."""
    row = conn.execute(sa.select(sa.func.max(_M.c.created_at), *(sa.func.max(_M.c[s]) for s in STEPS)).where(
        where)).one()
    return max((int(at.timestamp()) for at in row if at is not None), default=0)


def _nested(k: int) -> sa.ColumnElement[bool]:
    return sa.and_(*(_M.c[s].is_not(None) for s in STEPS[:k]))


def _rewrite_days(conn: sa.Connection, tz: ZoneInfo, days: Iterable[int]) -> None:
    """Replace the ``report_code_days`` rows of local ``days`` by counts of the per-code rows."""
    def count(cond: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
        return sa.func.coalesce(sa.func.sum(sa.case((cond, 1), else_=0)), 0)

    for day in sorted(set(days)):
        local = day_of(day)
        lo, hi = local_midnight(local, tz), local_midnight(local + timedelta(days=1), tz)
        conn.execute(sa.delete(_D).where(_D.c.day == day))
        conn.execute(sa.insert(_D).from_select(
            ["day", "program_id", "variant", "n", "s1", "s2", "s3", "s4", "s5", "r1", "r2", "r3", "r4", "r5"],
            sa.select(sa.literal(day), _M.c.program_id, _M.c.variant, sa.func.count(),
                      *(count(_nested(k)) for k in range(1, 6)), *(count(_M.c[s].is_not(None)) for s in STEPS))
            .where(_M.c.created_at >= lo, _M.c.created_at < hi, _M.c.here.is_(True))
            .group_by(_M.c.program_id, _M.c.variant)))


def _dirty(conn: sa.Connection, marks: dict[str, int], tops: dict[str, int]) -> set[str]:
    """Referral codes whose steps may have changed: named by the rows added since ``marks``."""
    def new(source: str) -> sa.ColumnElement[bool]:
        return sa.and_(_ROWID[source] > marks.get(source, 0), _ROWID[source] <= tops[source])

    voucher = sa.alias(table(Code), name="vc")
    of_reward = sa.select(Redemption.code).join(Reward, Reward.redemption_id == Redemption.id)
    stmts = [
        sa.select(Code.code).where(new("codes"), Code.kind == "referral"),
        sa.select(LandingVisit.code).where(new("landing_visits")),
        sa.select(ReportEvent.code).where(new("report_events"), ReportEvent.kind.concat("") == "quote"),
        sa.select(Redemption.code).where(new("redemptions")),
        of_reward.where(new("rewards")),
        sa.select(Redemption.code).join(LedgerEntry, LedgerEntry.redemption_id == Redemption.id).where(
            new("ledger")),
        of_reward.join(LedgerEntry, LedgerEntry.reward_id == Reward.id).where(new("ledger")),
        of_reward.join(voucher, voucher.c.reward_id == Reward.id).where(  # vouchers synced in already used
            sa.literal_column("vc.rowid") > marks.get("codes", 0), sa.literal_column("vc.rowid") <= tops["codes"]),
    ]
    found: set[str] = set()
    for stmt in stmts:
        found.update(str(c) for c in conn.execute(stmt.distinct()).scalars() if c)
    return found


def _marks(conn: sa.Connection) -> dict[str, int]:
    return {str(k)[2:]: int(v) for k, v in conn.execute(
        sa.select(_W.c.source, _W.c.value).where(_W.c.source.startswith("m:")))}


def refresh(db: Database, tz: ZoneInfo, tops: dict[str, int]) -> None:
    """Bring both tables up to the source rows up to ``tops`` (row ids read by the caller)."""
    with UnitOfWork(db, write=False) as read:
        conn = read.conn
        marks = _marks(conn)
        built = "latest" in marks
        if built and marks.get("zone") == zone_mark(tz) and all(marks.get(s, 0) >= tops[s] for s in _ROWID):
            return
        codes = sorted(_dirty(conn, marks, tops)) if built else []
    latest = marks.get("latest", 0)
    if not built:  # first run: every referral code, a slice of row ids per transaction
        with UnitOfWork(db, write=True) as uow:
            uow.conn.execute(sa.delete(_M))
            uow.commit()
        lo = 0
        while lo < tops["codes"]:
            hi = min(lo + CODES_PER_WRITE * 4, tops["codes"])
            with UnitOfWork(db, write=True) as uow:
                uow.conn.execute(sa.insert(_M).from_select(_COLUMNS, _rows(sa.and_(
                    _ROWID["codes"] > lo, _ROWID["codes"] <= hi))))
                uow.commit()
            lo = hi
    days: set[int] = set()
    for i in range(0, len(codes), CODES_PER_WRITE):
        some = codes[i:i + CODES_PER_WRITE]
        with UnitOfWork(db, write=True) as uow:
            _rewrite_codes(uow.conn, some)
            latest = max(latest, _latest(uow.conn, _M.c.code.in_(some)))
            days.update(day_number(at.astimezone(tz).date()) for at in uow.conn.execute(
                sa.select(_M.c.created_at).where(_M.c.code.in_(some))).scalars())
            uow.commit()
    rebuild_days = not built or marks.get("zone") != zone_mark(tz)
    if rebuild_days:
        with UnitOfWork(db, write=False) as read:
            lo_at, hi_at = read.conn.execute(sa.select(sa.func.min(_M.c.created_at),
                                                       sa.func.max(_M.c.created_at))).one()
            latest = max(latest, _latest(read.conn, sa.true()))
        days = set(range(day_number(lo_at.astimezone(tz).date()), day_number(hi_at.astimezone(tz).date()) + 1)
                   ) if lo_at else set()
        with UnitOfWork(db, write=True) as uow:
            uow.conn.execute(sa.delete(_D))
            uow.commit()
    ordered = sorted(days)
    for i in range(0, len(ordered), 30):  # a month of days per transaction
        with UnitOfWork(db, write=True) as uow:
            _rewrite_days(uow.conn, tz, ordered[i:i + 30])
            uow.commit()
    with UnitOfWork(db, write=True) as uow:
        set_marks(uow.conn, {"m:zone": zone_mark(tz), "m:latest": latest, **{f"m:{s}": tops[s] for s in _ROWID}})
        uow.commit()


def usable(conn: sa.Connection, rng: DateRange) -> bool:
    if not supported(conn) or rng.store_no is not None or conn.info.get(RAW_KEY):
        return False
    marks = _marks(conn)
    return "latest" in marks


def _by_days(conn: sa.Connection, rng: DateRange) -> bool:
    """Whether the day counts answer ``rng``: whole local days of the summary's zone, ending after every step."""
    marks = _marks(conn)
    whole = (rng.start == local_midnight(rng.first, rng.tz)
             and rng.end == local_midnight(rng.last + timedelta(days=1), rng.tz))
    return (whole and marks.get("zone") == zone_mark(rng.tz)
            and rng.end > datetime.fromtimestamp(marks.get("latest", 0), UTC))


def funnel(conn: sa.Connection, rng: DateRange) -> tuple[list[int], list[int]]:
    """([issued, nested step counts...], [issued, step counts by any path...]) of the codes issued in ``rng``."""
    if _by_days(conn, rng):
        row = conn.execute(sa.select(*(sa.func.coalesce(sa.func.sum(_D.c[c]), 0) for c in (
            "n", "s1", "s2", "s3", "s4", "s5", "r1", "r2", "r3", "r4", "r5"))).where(
            _D.c.day >= day_number(rng.first), _D.c.day <= day_number(rng.last))).one()
    else:
        def before(cond: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
            return sa.func.coalesce(sa.func.sum(sa.case((cond, 1), else_=0)), 0)

        reached = [_M.c[s] < rng.end for s in STEPS]
        row = conn.execute(sa.select(sa.func.count(), *(before(sa.and_(*reached[:k])) for k in range(1, 6)),
                                     *(before(r) for r in reached)).where(
            _M.c.created_at >= rng.start, _M.c.created_at < rng.end, _M.c.here.is_(True))).one()
    values = [int(v) for v in row]
    return values[:6], [values[0], *values[6:]]


def by_variant(conn: sa.Connection, rng: DateRange) -> dict[tuple[str, str], tuple[int, int]]:
    """{(program, variant): (codes issued in ``rng``, those with a friend's purchase before its end)}."""
    if _by_days(conn, rng):
        stmt = sa.select(_D.c.program_id, _D.c.variant, sa.func.sum(_D.c.n), sa.func.sum(_D.c.r3)).where(
            _D.c.day >= day_number(rng.first), _D.c.day <= day_number(rng.last))
        rows = conn.execute(stmt.group_by(_D.c.program_id, _D.c.variant)).all()
    else:
        bought = sa.func.coalesce(sa.func.sum(sa.case((_M.c.bought_at < rng.end, 1), else_=0)), 0)
        rows = conn.execute(sa.select(_M.c.program_id, _M.c.variant, sa.func.count(), bought).where(
            _M.c.created_at >= rng.start, _M.c.created_at < rng.end, _M.c.here.is_(True))
            .group_by(_M.c.program_id, _M.c.variant)).all()
    return {(str(p), str(v or "")): (int(n), int(c)) for p, v, n, c in rows if n}
