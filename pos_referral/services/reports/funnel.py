"""The funnel, the daily trend and the share/scan rate by channel, for one date range.

Every step counts events that happened inside the range (a period view, not a cohort that
follows the codes issued in it): codes issued, landing visits, friends quoted, redemptions,
referrer rewards released, vouchers redeemed. Conversion at a step is that step's count over
the previous step's, ``None`` when the previous step is zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from pos_referral.db.models import Code, LandingVisit, Redemption, ReportEvent, Reward
from pos_referral.services.reports.date_range import (
    DateRange,
    at_store,
    in_range,
    issued_here,
    local_day,
    sold_at_store,
    storeless,
)
from pos_referral.services.reports.rollup import holdings
from pos_referral.services.reports.rollup import read as rollup

CHANNELS = ("receipt", "card", "kiosk", "api")


@dataclass(frozen=True)
class Step:
    name: str
    count: int
    conversion: float | None  # from the previous step, 0..1


def ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def codes_by_channel(conn: sa.Connection, rng: DateRange) -> dict[str, int]:
    if rollup.usable(conn, rng):
        found = {str(ch): int(n) for ch, n, *_ in rollup.sums(conn, "issued", rng, "channel") if n}
        return {channel: found.get(channel, 0) for channel in (*CHANNELS, *sorted(set(found) - set(CHANNELS)))}
    rows = conn.execute(sa.select(Code.channel, sa.func.count()).where(
        Code.kind == "referral", issued_here(), in_range(Code.created_at, rng), at_store(Code.store_no, rng)
    ).group_by(Code.channel)
    ).all()
    found = {str(channel): int(n) for channel, n in rows}
    return {channel: found.get(channel, 0) for channel in (*CHANNELS, *sorted(set(found) - set(CHANNELS)))}


def _count(conn: sa.Connection, stmt: sa.Select[Any]) -> int:
    return int(conn.execute(stmt).scalar() or 0)


def _visits(rng: DateRange, stmt: sa.Select[Any]) -> sa.Select[Any]:
    """Landing visits in the range; for one store, visits to codes issued there."""
    stmt = stmt.where(in_range(LandingVisit.at, rng))
    if rng.store_no is None:
        return stmt
    return stmt.where(LandingVisit.code.in_(sa.select(Code.code).where(Code.store_no == rng.store_no)))


def _released(rng: DateRange) -> sa.Select[Any]:
    """Referrer rewards released in the range; for one store, those for its referred sales."""
    stmt = sa.select(sa.func.count()).select_from(Reward).where(
        Reward.source == "referral", in_range(Reward.released_at, rng))
    if rng.store_no is None:
        return stmt
    return stmt.join(Redemption, Redemption.id == Reward.redemption_id).where(Redemption.store_no == rng.store_no)


def funnel(conn: sa.Connection, rng: DateRange) -> tuple[list[Step], dict[str, int]]:
    """(steps, codes issued by channel)."""
    by_channel = codes_by_channel(conn, rng)
    if rollup.usable(conn, rng):
        visits, quotes, redemptions = (rollup.total(conn, fact, rng)[0] for fact in ("visits", "quotes", "redemptions"))
    else:
        visits = _count(conn, _visits(rng, sa.select(sa.func.count()).select_from(LandingVisit)))
        quotes = _count(conn, sa.select(sa.func.count()).select_from(ReportEvent)
                        .where(ReportEvent.kind == "quote", in_range(ReportEvent.at, rng), storeless(rng)))
        redemptions = _count(conn, sa.select(sa.func.count()).select_from(Redemption)
                             .where(in_range(Redemption.created_at, rng), at_store(Redemption.store_no, rng)))
    # central's changes can release a store's reward without a trace the rollup follows (reports_holdings)
    if rollup.usable(conn, rng) and not holdings.fed_by_central(conn):
        released = rollup.total(conn, "released", rng)[0]
    else:
        released = _count(conn, _released(rng))
    if rollup.usable(conn, rng):
        used = rollup.total(conn, "vouchers_redeemed", rng)[0]
    else:
        used = _count(conn, sa.select(sa.func.count()).select_from(Code).where(
            Code.kind == "voucher", in_range(Code.redeemed_at, rng), sold_at_store(Code.redeemed_sale_id, rng)))
    counts = [
        ("Codes issued", sum(by_channel.values())),
        ("Landing page visits", visits),
        ("Friends quoted", quotes),
        ("Redemptions", redemptions),
        ("Rewards released", released),
        ("Rewards redeemed", used),
    ]
    steps = [Step(name, n, ratio(n, counts[i - 1][1]) if i else None) for i, (name, n) in enumerate(counts)]
    return steps, by_channel


def scan_rate_by_channel(conn: sa.Connection, rng: DateRange, issued: dict[str, int]) -> list[dict[str, Any]]:
    """Landing visits in the range to codes of each channel, per code of that channel issued in the range."""
    if rollup.usable(conn, rng):  # '' = visits to a code not (yet) known here, as the join below leaves out
        rows = [(ch, n) for ch, n, *_ in rollup.sums(conn, "visits", rng, "channel") if ch]
    else:
        rows = list(conn.execute(
            sa.select(Code.channel, sa.func.count()).select_from(LandingVisit)
            .join(Code, Code.code == LandingVisit.code)
            .where(in_range(LandingVisit.at, rng), at_store(Code.store_no, rng)).group_by(Code.channel)
        ).all())
    visits = {str(channel): int(n) for channel, n in rows}
    return [{"channel": channel, "codes_issued": n, "landing_visits": visits.get(channel, 0),
             "scan_rate": ratio(visits.get(channel, 0), n)}
            for channel, n in issued.items()]


def trend(conn: sa.Connection, rng: DateRange) -> list[dict[str, Any]]:
    """Per local day: codes issued, landing visits, friends quoted, redemptions."""
    dialect = conn.dialect.name
    series: dict[str, dict[str, int]] = {}
    if rollup.usable(conn, rng):
        for name, fact in (("codes_issued", "issued"), ("landing_visits", "visits"), ("friends_quoted", "quotes"),
                           ("redemptions", "redemptions")):
            series[name] = rollup.per_day(conn, fact, rng)
        return [{"day": d.isoformat(), **{name: counts.get(d.isoformat(), 0) for name, counts in series.items()}}
                for d in rng.days]
    here = sa.true() if rng.store_no is None else LandingVisit.code.in_(
        sa.select(Code.code).where(Code.store_no == rng.store_no))
    sources: list[tuple[str, Any, Any]] = [
        ("codes_issued", Code.created_at,
         sa.and_(Code.kind == "referral", issued_here(), at_store(Code.store_no, rng))),
        ("landing_visits", LandingVisit.at, here),
        ("friends_quoted", ReportEvent.at, sa.and_(ReportEvent.kind == "quote", storeless(rng))),
        ("redemptions", Redemption.created_at, at_store(Redemption.store_no, rng)),
    ]
    for name, column, condition in sources:
        day = local_day(column, rng, dialect).label("day")
        stmt = sa.select(day, sa.func.count()).where(condition, in_range(column, rng)).group_by(day)
        series[name] = {str(d): int(n) for d, n in conn.execute(stmt).all()}
    return [{"day": d.isoformat(), **{name: counts.get(d.isoformat(), 0) for name, counts in series.items()}}
            for d in rng.days]


def referral_conversion(conn: sa.Connection, rng: DateRange) -> tuple[int, int]:
    """(codes issued in the range that brought a friend before it ended, codes issued in the range)."""
    if rollup.usable(conn, rng):
        issued_n = rollup.total(conn, "issued", rng)[0]
        return rollup.by_first(conn, "converted", rng)[True][0], issued_n
    used = sa.exists().where(Redemption.code == Code.code, Redemption.created_at < rng.end)
    issued, converted = conn.execute(sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(
        sa.case((used, 1), else_=0)), 0)).where(Code.kind == "referral", issued_here(), in_range(Code.created_at, rng),
                                                at_store(Code.store_no, rng))).one()
    return int(converted), int(issued)
