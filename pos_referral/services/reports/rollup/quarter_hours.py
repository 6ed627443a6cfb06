"""Report rollups: additive facts per UTC quarter hour, recomputed from raw rows, caught up on demand.

Why this shape: a report over a million referrals cannot scan them per request, and the tables it
reads change in many places (the till's redemption path, refunds, reward release, chain sync,
``pos-referral demo``). Rather than adding a write to each of those (and to the till's hot path),
the rollup is a pure function of the raw rows of each quarter hour, and a *catch-up* step finds
which quarter hours changed since it last ran and recomputes just those, from the raw rows.

Which quarter hours changed is read from append-only sources by row id (SQLite row ids only grow:
nothing here deletes rows): new codes, redemptions, landing visits, report events and ledger
entries. Changes to existing rows always come with one of those: a refund adds a ``sale_refunded``
ledger entry (its redemption's quarter hour is recomputed), the cashier of a code or sale arrives
as a report event, a landing visit's channel is known once its code row exists. Facts that depend
on rows that change without such a trace (reward status, voucher use, liability) are not rolled
up; the reports read them live through covering indexes.

The catch-up reads the sources' highest row ids first, recomputes in short write transactions
(a week of quarter hours at a time, so the till never waits long), and only then moves the
watermarks: rows written meanwhile are past the old top and are caught up next time. Reports call
``catch_up`` before they read, so every rolled-up figure equals the raw computation as of then.

PostgreSQL (central) has no growing row ids to follow; there the reports read the raw rows.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.sql.elements import SQLCoreOperations

from pos_referral.db.base import table
from pos_referral.db.engine import Database
from pos_referral.db.models import Code, LandingVisit, LedgerEntry, Redemption, ReportEvent, Reward
from pos_referral.db.models_reports import ReportRollup, ReportVisit, ReportWatermark
from pos_referral.services.reports.date_range import issued_here
from pos_referral.services.reports.rollup import (
    ambassadors,
    days,
    flags,
    holdings,
    milestones,
    referrers,
    sales_days,
    variants,
    velocity,
    visits,
)
from pos_referral.services.reports.rollup.buckets import BUCKET_SECONDS, instant, supported
from pos_referral.services.unit_of_work import UnitOfWork

logger = logging.getLogger(__name__)

CHUNK_BUCKETS = 7 * 96  # one week of quarter hours per write transaction
CATCH_UP_SECONDS = 60  # ``serve`` catches up in the background this often when quiet (reports catch up first)
FACTS = ("issued", "visits", "quotes", "redemptions", "voucher_value", "converted", "voucher_sales",
         "self_referrals", "released", "vouchers_redeemed")
_ROLLUP = table(ReportRollup)
_WATERMARKS = table(ReportWatermark)
VERSION = 3  # bump when FACTS or a fact's definition changes: the next catch-up rebuilds
# (released and vouchers_redeemed came with the rewards source: its watermark starts at 0, so the first
# catch-up after them reads every reward as new and builds both facts without rebuilding the others)
VISITS_KEPT_FROM = "visits_kept_from"  # a report_watermarks row, not a source (see visits_kept_from)
_lock = threading.Lock()  # one catch-up at a time in this process (others would only repeat the work)

# source -> (table, row id column)
_SOURCES: dict[str, tuple[sa.Table, sa.ColumnElement[int]]] = {
    "codes": (table(Code), sa.literal_column("codes.rowid")),
    "redemptions": (table(Redemption), sa.literal_column("redemptions.rowid")),
    "landing_visits": (table(LandingVisit), table(LandingVisit).c.id),
    "report_events": (table(ReportEvent), table(ReportEvent).c.id),
    "ledger": (table(LedgerEntry), table(LedgerEntry).c.id),
    "rewards": (table(Reward), sa.literal_column("rewards.rowid")),
}


def bucket_of(column: SQLCoreOperations[datetime] | SQLCoreOperations[datetime | None],
              dialect: str) -> sa.ColumnElement[int]:
    """SQL: the quarter hour (unix seconds // 900) of a UTC timestamp column."""
    if dialect == "sqlite":
        return sa.cast(sa.func.strftime("%s", column), sa.BigInteger) // BUCKET_SECONDS
    return sa.cast(sa.func.floor(sa.extract("epoch", column) / BUCKET_SECONDS), sa.BigInteger)


def _staff_of_code() -> sa.ColumnElement[str]:
    ev = sa.alias(table(ReportEvent))
    return sa.func.coalesce(sa.select(sa.func.max(ev.c.staff)).where(
        ev.c.code == Code.code, ev.c.kind.in_(("issued", "redeemed"))).scalar_subquery(), "")


def _staff_of_sale() -> sa.ColumnElement[str]:
    ev = sa.alias(table(ReportEvent))
    return sa.func.coalesce(sa.select(sa.func.max(ev.c.staff)).where(  # kind + '': look up by sale, not by kind
        ev.c.sale_id == Redemption.sale_id, ev.c.kind + "" == "redeemed").scalar_subquery(), "")


def _recompute(fact: str, lo: datetime, hi: datetime, dialect: str) -> Any:
    """The rollup rows of ``fact`` for raw rows timed in [lo, hi), straight from the raw tables.

    Columns: bucket, store_no, program_id, channel, till_id, staff, n, a, b, c.
    """
    zero = sa.literal(0, sa.BigInteger)
    empty = sa.literal("", sa.String)
    stmt: Any
    if fact == "issued":
        stmt = sa.select(bucket_of(Code.created_at, dialect), Code.store_no, Code.program_id, Code.channel,
                         Code.till_id, _staff_of_code(), sa.func.count(), zero, zero, zero).where(
            Code.kind == "referral", issued_here(), Code.created_at >= lo, Code.created_at < hi)
    elif fact == "visits":  # channel of the code visited ('' while the code is unknown here)
        stmt = sa.select(bucket_of(LandingVisit.at, dialect), sa.func.coalesce(Code.store_no, 0), empty,
                         sa.func.coalesce(Code.channel, ""), empty, empty, sa.func.count(), zero, zero, zero
                         ).select_from(LandingVisit).outerjoin(Code, Code.code == LandingVisit.code).where(
            LandingVisit.at >= lo, LandingVisit.at < hi)
    elif fact == "quotes":
        stmt = sa.select(bucket_of(ReportEvent.at, dialect), zero, empty, empty, empty, empty, sa.func.count(),
                         zero, zero, zero).where(ReportEvent.kind == "quote", ReportEvent.at >= lo,
                                                 ReportEvent.at < hi)
    elif fact == "redemptions":  # n all; a/b/c: count, net revenue, friend discount of those not refunded in full
        net = Redemption.basket_minor - Redemption.refunded_minor
        kept = net > 0
        stmt = sa.select(bucket_of(Redemption.created_at, dialect), Redemption.store_no, Redemption.program_id,
                         empty, Redemption.till_id, _staff_of_sale(), sa.func.count(),
                         sa.func.sum(sa.case((kept, 1), else_=0)), sa.func.sum(sa.case((kept, net), else_=0)),
                         sa.func.sum(sa.case((kept, Redemption.discount_minor), else_=0))).where(
            Redemption.created_at >= lo, Redemption.created_at < hi)
    elif fact == "voucher_value":  # value of reward vouchers spent at the till, by the reward's program
        stmt = sa.select(bucket_of(LedgerEntry.at, dialect), zero, sa.func.coalesce(Reward.program_id, ""), empty,
                         empty, empty, sa.func.count(), sa.func.sum(LedgerEntry.amount_minor), zero, zero
                         ).select_from(LedgerEntry).outerjoin(Reward, Reward.id == LedgerEntry.reward_id).where(
            LedgerEntry.entry == "voucher_redeemed", LedgerEntry.at >= lo, LedgerEntry.at < hi)
    elif fact == "converted":  # codes by the quarter hour of their first friend (staff column: that bucket)
        first_use = sa.select(sa.func.min(Redemption.created_at)).where(
            Redemption.code == Code.code).scalar_subquery()
        stmt = sa.select(bucket_of(Code.created_at, dialect), Code.store_no, empty, empty, empty,
                         sa.cast(bucket_of(first_use, dialect), sa.String), sa.func.count(), zero, zero, zero).where(
            Code.kind == "referral", issued_here(), Code.created_at >= lo, Code.created_at < hi,
            first_use.is_not(None))
    elif fact == "voucher_sales":  # by the quarter hour the customer was first referred ('' never; staff column)
        first_referred = sa.select(sa.func.min(Redemption.created_at)).where(
            Redemption.friend_id == ReportEvent.customer_id).scalar_subquery()
        stmt = sa.select(bucket_of(ReportEvent.at, dialect), zero, empty, empty, empty,
                         sa.func.coalesce(sa.cast(bucket_of(first_referred, dialect), sa.String), ""),
                         sa.func.count(), sa.func.sum(ReportEvent.basket_minor), zero, zero).where(
            ReportEvent.kind == "voucher_sale", ReportEvent.at >= lo, ReportEvent.at < hi)
    elif fact == "self_referrals":  # only to find the few quarter hours the fraud list must read
        stmt = sa.select(bucket_of(ReportEvent.at, dialect), zero, empty, empty, empty, empty, sa.func.count(),
                         zero, zero, zero).where(ReportEvent.reason == "self_referral",
                                                 ReportEvent.kind.in_(("quote", "refused")),
                                                 ReportEvent.at >= lo, ReportEvent.at < hi)
    elif fact == "released":  # referrer rewards released (the funnel's step; milestone rewards are not)
        stmt = sa.select(bucket_of(Reward.released_at, dialect), zero, empty, empty, empty, empty, sa.func.count(),
                         zero, zero, zero).where(Reward.source == "referral", Reward.released_at >= lo,
                                                 Reward.released_at < hi)
    elif fact == "vouchers_redeemed":  # reward vouchers used at the till
        stmt = sa.select(bucket_of(Code.redeemed_at, dialect), zero, empty, empty, empty, empty, sa.func.count(),
                         zero, zero, zero).where(Code.kind == "voucher", Code.redeemed_at >= lo,
                                                 Code.redeemed_at < hi)
    else:
        raise ValueError(fact)
    return stmt.group_by(*(sa.literal_column(str(i)) for i in range(1, 7)))


def _dirty(conn: sa.Connection, marks: dict[str, int], tops: dict[str, int]) -> dict[str, set[int]]:
    """Quarter hours whose facts may differ from the rollup, read from the rows added since ``marks``."""
    d = conn.dialect.name
    found: dict[str, set[int]] = {fact: set() for fact in FACTS}
    kind = ReportEvent.kind + ""  # not indexable: SQLite walks the row-id range, not every quote ever

    def add(fact: str, stmt: sa.Select[Any]) -> None:
        found[fact].update(int(b) for b in conn.execute(stmt.distinct()).scalars() if b is not None)

    def new(source: str) -> sa.ColumnElement[bool]:
        rowid = _SOURCES[source][1]
        return sa.and_(rowid > marks.get(source, 0), rowid <= tops[source])

    add("issued", sa.select(bucket_of(Code.created_at, d)).where(new("codes"), Code.kind == "referral"))
    found["converted"] |= found["issued"]
    add("converted", sa.select(bucket_of(Code.created_at, d)).select_from(Redemption).join(
        Code, Code.code == Redemption.code).where(new("redemptions")))  # a code's first (or an earlier) friend
    add("voucher_sales", sa.select(bucket_of(ReportEvent.at, d)).where(
        new("report_events"), kind == "voucher_sale"))
    add("self_referrals", sa.select(bucket_of(ReportEvent.at, d)).where(
        new("report_events"), ReportEvent.reason == "self_referral"))
    # a friend's earlier voucher sales change side (now referred): their visit days, a day either side in UTC
    days = conn.execute(sa.select(ReportVisit.day).distinct().where(ReportVisit.customer_id.in_(
        sa.select(Redemption.friend_id).where(new("redemptions"))))).scalars().all()
    for day in days:
        found["voucher_sales"].update(range((day - 1) * 96, (day + 2) * 96))
    add("visits", sa.select(bucket_of(LandingVisit.at, d)).select_from(LandingVisit).join(
        Code, Code.code == LandingVisit.code).where(new("codes")))  # visits now matched to a code
    add("redemptions", sa.select(bucket_of(Redemption.created_at, d)).where(new("redemptions")))
    add("visits", sa.select(bucket_of(LandingVisit.at, d)).where(new("landing_visits")))
    add("quotes", sa.select(bucket_of(ReportEvent.at, d)).where(new("report_events"), kind == "quote"))
    add("issued", sa.select(bucket_of(Code.created_at, d)).select_from(ReportEvent).join(
        Code, Code.code == ReportEvent.code).where(new("report_events"), kind.in_(("issued", "redeemed"))))
    add("redemptions", sa.select(bucket_of(Redemption.created_at, d)).select_from(ReportEvent).join(
        Redemption, Redemption.sale_id == ReportEvent.sale_id).where(
        new("report_events"), kind == "redeemed", ReportEvent.sale_id != ""))
    add("redemptions", sa.select(bucket_of(Redemption.created_at, d)).select_from(LedgerEntry).join(
        Redemption, Redemption.id == LedgerEntry.redemption_id).where(
        new("ledger"), LedgerEntry.entry == "sale_refunded"))
    add("voucher_value", sa.select(bucket_of(LedgerEntry.at, d)).where(
        new("ledger"), LedgerEntry.entry == "voucher_redeemed"))
    # a reward is released, or its voucher used, with a ledger entry naming it (or it arrives so, as a new row)
    add("released", sa.select(bucket_of(Reward.released_at, d)).where(new("rewards"), Reward.released_at.is_not(None)))
    add("released", sa.select(bucket_of(Reward.released_at, d)).select_from(LedgerEntry).join(
        Reward, Reward.id == LedgerEntry.reward_id).where(new("ledger"), Reward.released_at.is_not(None)))
    used = sa.and_(Code.kind == "voucher", Code.redeemed_at.is_not(None))
    add("vouchers_redeemed", sa.select(bucket_of(Code.redeemed_at, d)).where(new("codes"), used))
    add("vouchers_redeemed", sa.select(bucket_of(Code.redeemed_at, d)).select_from(Reward).join(
        Code, Code.reward_id == Reward.id).where(new("rewards"), used))
    add("vouchers_redeemed", sa.select(bucket_of(Code.redeemed_at, d)).select_from(LedgerEntry).join(
        Code, Code.reward_id == LedgerEntry.reward_id).where(new("ledger"), LedgerEntry.entry == "voucher_redeemed",
                                                             used))
    return found


def _runs(buckets: Iterable[int]) -> list[tuple[int, int]]:
    """Sorted buckets as [first, last] runs of at most CHUNK_BUCKETS (gaps of a day or less bridged)."""
    runs: list[tuple[int, int]] = []
    for b in sorted(set(buckets)):
        if runs and b - runs[-1][0] < CHUNK_BUCKETS and b - runs[-1][1] <= 96:
            runs[-1] = (runs[-1][0], b)
        else:
            runs.append((b, b))
    return runs


def visits_kept_from(conn: sa.Connection) -> int:
    """The first quarter hour whose landing visits are still raw rows: older ones were purged after their
    counts were rolled up (services/retention.py), so the rollup keeps those counts and never recomputes them."""
    return int(conn.execute(sa.select(_WATERMARKS.c.value).where(_WATERMARKS.c.source == VISITS_KEPT_FROM))
               .scalar() or 0)


def _rewrite(db: Database, fact: str, first: int, last: int) -> None:
    """Replace the rollup rows of ``fact`` for buckets first..last by a fresh computation (one transaction)."""
    with UnitOfWork(db, write=True) as uow:
        conn = uow.conn
        if fact == "visits":
            first = max(first, visits_kept_from(conn))
            if first > last:
                return
        conn.execute(sa.delete(_ROLLUP).where(_ROLLUP.c.fact == fact, _ROLLUP.c.bucket >= first,
                                              _ROLLUP.c.bucket <= last))
        rows = conn.execute(_recompute(fact, instant(first), instant(last + 1), conn.dialect.name)).all()
        if rows:
            conn.execute(sa.insert(_ROLLUP), [
                dict(fact=fact, bucket=int(r[0]), store_no=int(r[1]), program_id=r[2], channel=r[3], till_id=r[4],
                     staff=r[5], n=int(r[6]), a=int(r[7] or 0), b=int(r[8] or 0), c=int(r[9] or 0)) for r in rows])
        uow.commit()


def _read_marks(conn: sa.Connection) -> tuple[dict[str, int], dict[str, int]]:
    """(the rollup's watermarks, or {} when it must be built afresh; the sources' highest row ids now)."""
    marks = {str(k): int(v) for k, v in conn.execute(sa.select(_WATERMARKS.c.source, _WATERMARKS.c.value))
             if str(k) in _SOURCES or k == "rollup_version"}
    if marks.pop("rollup_version", None) != VERSION:
        marks = {}  # built by code that computed other facts: start again
    tops = {name: int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(rowid), 0)).select_from(tbl)).scalar()
                      or 0) for name, (tbl, rowid) in _SOURCES.items()}
    return marks, tops


def catch_up(db: Database, tz: ZoneInfo | None = None, now: datetime | None = None) -> int:
    """Bring the rollup (and, given the store's zone, ``report_visits`` and the per-referrer days; given
    the time, the open rewards) up to the raw rows.

    Returns how many quarter-hour runs were recomputed.
    """
    with _lock:
        with UnitOfWork(db, write=False) as read:
            conn = read.conn
            if not supported(conn):
                return 0
            marks, tops = _read_marks(conn)
            dirty: dict[str, set[int]] = {}
            if any(marks.get(name, 0) < top for name, top in tops.items()):
                if not marks:  # first run: everything there is
                    dirty = {fact: {b for b in _full_span(conn, fact) if b is not None} for fact in FACTS}
                else:
                    dirty = _dirty(conn, marks, tops)
        done: list[tuple[str, int, int]] = []
        for fact, buckets in dirty.items():
            for first, last in _runs(buckets) if marks else _spans(buckets):
                _rewrite(db, fact, first, last)
                done.append((fact, first, last))
        days.refresh(db, tz, done)
        if dirty:
            with UnitOfWork(db, write=True) as uow:
                for name, top in {**tops, "rollup_version": VERSION}.items():
                    value = top if name == "rollup_version" else sa.func.max(_WATERMARKS.c.value, top)
                    moved = uow.conn.execute(sa.update(_WATERMARKS).where(_WATERMARKS.c.source == name)
                                             .values(value=value))
                    if moved.rowcount == 0:
                        uow.conn.execute(sa.insert(_WATERMARKS), {"source": name, "value": top})
                uow.commit()
        velocity.refresh(db, tops["redemptions"])
        flags.refresh(db, tops)
        ambassadors.refresh(db, tops)
        if now is not None:
            holdings.refresh(db, now)
        if tz is not None:
            sales_days.refresh(db, tz)
            visits.refresh(db, tz, tops)
            referrers.refresh(db, tz, tops)
            milestones.refresh(db, tz, tops)
            variants.refresh(db, tz, tops)
        if len(done) > 50:
            logger.info("report rollup caught up: %d runs of quarter hours recomputed", len(done))
        return len(done)


class QuietCatchUp:
    """``serve``'s background catch-up, one round per ``CATCH_UP_SECONDS``, skipped while the shop is busy.

    A round after a busy minute has thousands of rows to fold in: CPU the till's requests need on a
    small machine. When more than ``BUSY_ROWS`` quotes and redemptions arrived since the last round,
    this round is left out; a quiet minute (or the next dashboard, which always catches up) does it.
    """

    BUSY_ROWS = 300

    def __init__(self, db: Database, tz: ZoneInfo, clock: Any) -> None:
        self.db, self.tz, self.clock = db, tz, clock
        self._seen: int | None = None

    def _activity(self) -> int:
        with UnitOfWork(self.db, write=False) as read:
            conn = read.conn
            if not supported(conn):
                return 0
            return sum(int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(rowid), 0)).select_from(tbl))
                           .scalar() or 0) for name, (tbl, rowid) in _SOURCES.items()
                       if name in ("redemptions", "report_events"))

    def __call__(self) -> int:
        now = self._activity()
        busy = self._seen is not None and now - self._seen > self.BUSY_ROWS
        self._seen = now
        if busy:
            return 0
        return catch_up(self.db, self.tz, self.clock())


def _full_span(conn: sa.Connection, fact: str) -> tuple[int | None, int | None]:
    column = {"issued": Code.created_at, "visits": LandingVisit.at, "quotes": ReportEvent.at,
              "redemptions": Redemption.created_at, "voucher_value": LedgerEntry.at, "converted": Code.created_at,
              "voucher_sales": ReportEvent.at, "self_referrals": ReportEvent.at, "released": Reward.released_at,
              "vouchers_redeemed": Code.redeemed_at}[fact]
    lo, hi = conn.execute(sa.select(sa.func.min(column), sa.func.max(column))).one()
    if lo is None:
        return None, None
    as_dt = [v if isinstance(v, datetime) else datetime.fromisoformat(str(v)) for v in (lo, hi)]
    return tuple(int(v.replace(tzinfo=UTC).timestamp()) // BUCKET_SECONDS for v in as_dt)  # type: ignore[return-value]


def _spans(marks: set[int]) -> list[tuple[int, int]]:
    """First run: contiguous chunks covering min..max of ``marks`` (every CHUNK_BUCKETS, plus the last)."""
    points = sorted(marks)
    if not points:
        return []
    out = []
    for start in range(points[0], points[-1] + 1, CHUNK_BUCKETS):
        out.append((start, min(start + CHUNK_BUCKETS - 1, points[-1])))
    return out
