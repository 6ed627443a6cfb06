"""Referrers' released referral rewards per program, kept: the ambassadors without grouping every reward.

``reports/ambassadors.py`` counts, per referrer, the referral rewards released (and still so) before
the period's end, and keeps those at or above the lowest named status. ``report_referrer_rewards``
holds that count and value per program and referrer with the latest release time; a period ending
after every release ever seen (``a:latest``, the usual dashboard) reads the few rows at or above the
threshold from its index, an older end reads the raw rows.

A reward's status changes by an UPDATE, but every change writes a ledger entry naming the reward
(released, voided, clawed back, capped) and a synced-in reward is a new row: the catch-up reads the
ledger entries and rewards added since its watermarks and recomputes those referrers from the raw rows.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from pos_referral.db.base import table
from pos_referral.db.engine import Database
from pos_referral.db.models import LedgerEntry, Reward
from pos_referral.db.models_milestones import ReportReferrerReward
from pos_referral.db.models_reports import ReportWatermark
from pos_referral.services.reports.date_range import DateRange
from pos_referral.services.reports.rollup.buckets import RAW_KEY, set_marks, supported
from pos_referral.services.unit_of_work import UnitOfWork

_A = table(ReportReferrerReward)
_W = table(ReportWatermark)
PER_WRITE = 2000  # referrers recomputed per write transaction
_ROWID = {"rewards": sa.literal_column("rewards.rowid"), "ledger": table(LedgerEntry).c.id}
_KEPT = sa.and_(Reward.source == "referral", Reward.status == "released")


def _select(where: sa.ColumnElement[bool]) -> Any:
    return (sa.select(Reward.program_id, Reward.customer_id, sa.func.count(),
                      sa.func.coalesce(sa.func.sum(Reward.amount_minor), 0), sa.func.max(Reward.released_at))
            .where(_KEPT, Reward.released_at.is_not(None), where).group_by(Reward.program_id, Reward.customer_id))


_COLUMNS = ["program_id", "customer_id", "n", "value", "last_at"]


def _marks(conn: sa.Connection) -> dict[str, int]:
    return {str(k)[2:]: int(v) for k, v in conn.execute(
        sa.select(_W.c.source, _W.c.value).where(_W.c.source.startswith("a:")))}


def _latest(conn: sa.Connection) -> int:
    at = conn.execute(sa.select(sa.func.max(_A.c.last_at))).scalar()
    return int(at.timestamp()) + 1 if at is not None else 0


def refresh(db: Database, tops: dict[str, int]) -> None:
    """Bring the table up to the rewards and ledger entries up to ``tops`` (row ids read by the caller)."""
    with UnitOfWork(db, write=False) as read:
        conn = read.conn
        marks = _marks(conn)
        built = "latest" in marks
        if built and all(marks.get(s, 0) >= tops[s] for s in _ROWID):
            return
        who: list[str] = []
        if built:
            new_rewards = sa.and_(_ROWID["rewards"] > marks.get("rewards", 0), _ROWID["rewards"] <= tops["rewards"])
            new_ledger = sa.and_(_ROWID["ledger"] > marks.get("ledger", 0), _ROWID["ledger"] <= tops["ledger"])
            found = set(conn.execute(sa.select(Reward.customer_id).distinct().where(new_rewards)).scalars())
            found |= set(conn.execute(sa.select(Reward.customer_id).distinct().join(
                LedgerEntry, LedgerEntry.reward_id == Reward.id).where(new_ledger)).scalars())
            who = sorted(str(c) for c in found)
    latest = marks.get("latest", 0)
    with UnitOfWork(db, write=True) as uow:
        if not built:
            uow.conn.execute(sa.delete(_A))
            uow.conn.execute(sa.insert(_A).from_select(_COLUMNS, _select(sa.true())))
            latest = _latest(uow.conn)
        uow.commit()
    for i in range(0, len(who), PER_WRITE):
        some = who[i:i + PER_WRITE]
        with UnitOfWork(db, write=True) as uow:
            uow.conn.execute(sa.delete(_A).where(_A.c.customer_id.in_(some)))
            uow.conn.execute(sa.insert(_A).from_select(_COLUMNS, _select(Reward.customer_id.in_(some))))
            uow.commit()
    with UnitOfWork(db, write=True) as uow:
        latest = max(latest, _latest(uow.conn))  # only grows: an end after it is after every release seen
        set_marks(uow.conn, {"a:latest": latest, **{f"a:{s}": tops[s] for s in _ROWID}})
        uow.commit()


def usable(conn: sa.Connection, rng: DateRange) -> bool:
    """On the store's SQLite, for a period ending after every release seen (else the raw rows are read)."""
    if not supported(conn) or conn.info.get(RAW_KEY):
        return False
    latest = _marks(conn).get("latest")
    return latest is not None and rng.end >= datetime.fromtimestamp(latest, UTC)


def at_least(conn: sa.Connection, program_id: str, n: int, limit: int | None = None) -> list[tuple[str, int, int]]:
    """[(referrer, released referral rewards, their value)] of the program with at least ``n`` of them.

    With ``limit``: only those with at least the ``limit``-th highest count (ties kept): a status only
    grows with the count, so nobody below can be among the first ``limit`` of the list.
    """
    where = sa.and_(_A.c.program_id == program_id, _A.c.n >= n)
    if limit:
        nth = conn.execute(sa.select(_A.c.n).where(where).order_by(_A.c.n.desc()).limit(1).offset(limit - 1)).scalar()
        if nth is not None:
            where = sa.and_(_A.c.program_id == program_id, _A.c.n >= max(n, int(nth)))
    return [(str(c), int(k), int(v)) for c, k, v in conn.execute(
        sa.select(_A.c.customer_id, _A.c.n, _A.c.value).where(where))]
