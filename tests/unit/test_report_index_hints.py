"""``unindexed``: which index drives a summary's per-row look-ups, on SQLite and PostgreSQL.

Folding three million sales into the sales summaries once ran the "was a voucher sold on this sale?"
look-up by the (kind, at) index: every voucher sale of the shop's history per sale folded in, so the
first fold on a big shop never finished. The look-up must go by ``sale_id``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from pos_referral.db.base import Base
from pos_referral.db.models import ReportEvent, Sale
from pos_referral.db.models_milestones import ReportReferrerReward
from pos_referral.db.models_reports import ReportWatermark
from pos_referral.domain.rules import load_program
from pos_referral.services.proxy_offers.bearer import bearer_counts
from pos_referral.services.reports import ambassadors, invite, shares
from pos_referral.services.reports.date_range import DateRange
from pos_referral.services.reports.rollup import sales_days
from pos_referral.services.reports.rollup.buckets import unindexed, zone_mark


def test_a_sale_is_looked_up_among_voucher_sales_by_its_sale_id_not_by_kind() -> None:
    engine = sa.create_engine("sqlite://")
    Base.metadata.create_all(engine)
    coded, _referred, _known = sales_days.raw_flags()
    with engine.connect() as conn:
        sql = str(sa.select(coded).where(Sale.id > 0).compile(conn, compile_kwargs={"literal_binds": True}))
        plan = " | ".join(row[3] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql))
    assert "report_events USING INDEX ix_report_events_sale_id (sale_id=?)" in plan, plan
    assert "ix_report_events_kind_at" not in plan, plan


def test_unindexed_is_a_unary_plus_on_sqlite_and_the_plain_column_on_postgresql() -> None:
    expr = unindexed(ReportEvent.kind) == "voucher_sale"
    assert str(expr.compile(dialect=sa.create_engine("sqlite://").dialect)).startswith("+report_events.kind")
    assert str(expr.compile(dialect=postgresql.dialect())).startswith("report_events.kind")


def _plans(engine: sa.Engine, run: Callable[[sa.Connection], object]) -> str:
    """The query plans of every statement ``run`` executes (SQLite's EXPLAIN QUERY PLAN, joined)."""
    seen: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, parameters))

    with engine.connect() as conn:
        sa.event.listen(engine, "before_cursor_execute", capture)
        try:
            run(conn)
        finally:
            sa.event.remove(engine, "before_cursor_execute", capture)
        return " | ".join(row[3] for statement, params in seen
                          for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params))


@pytest.fixture
def engine() -> sa.Engine:
    engine = sa.create_engine("sqlite://")
    Base.metadata.create_all(engine)
    return engine


def _range() -> DateRange:
    return DateRange(date(2026, 6, 1), date(2026, 6, 30), ZoneInfo("Europe/Oslo"))


def test_bearer_code_counts_read_only_the_bearer_codes_index(engine: sa.Engine) -> None:
    rng = _range()
    plan = _plans(engine, lambda conn: bearer_counts(conn, rng.start, rng.end))
    assert "USING INDEX ix_codes_bearer" in plan, plan  # not every code of the range by ix_codes_created


def test_the_share_rate_reads_shares_by_issue_time_not_every_code_issued(engine: sa.Engine) -> None:
    plan = _plans(engine, lambda conn: (shares.share_rate(conn, _range()), shares.by_channel(conn, _range())))
    assert "share_counts USING COVERING INDEX ix_share_counts_issued" in plan, plan


def test_friends_brought_per_referrer_come_from_the_referrer_index_alone(engine: sa.Engine) -> None:
    program = load_program({"id": "p1", "name": "P", "friend_reward": {"type": "percent_off", "percent": "10"},
                            "referrer_reward": {"type": "amount_off", "amount": "10.00"},
                            "milestones": [{"referrals": 1, "status": "Ambassador"}]})
    with engine.begin() as conn:  # one ambassador, so the friends brought are read
        conn.execute(sa.insert(ReportReferrerReward), [{"program_id": "p1", "customer_id": "c1", "n": 3, "value": 3000,
                                                         "last_at": datetime(2026, 6, 2, tzinfo=UTC)}])
        conn.execute(sa.insert(ReportWatermark), [{"source": "a:latest", "value": 1_780_000_000}])
    plan = _plans(engine, lambda conn: ambassadors.ambassadors(conn, _range(), (program,)))
    assert "redemptions USING COVERING INDEX ix_redemptions_referrer_id" in plan, plan


def test_who_to_invite_asks_whether_a_customer_holds_a_code_of_the_index_alone(engine: sa.Engine) -> None:
    rng = DateRange(date(2026, 1, 1), date(2026, 6, 30), ZoneInfo("Europe/Oslo"))  # a long range: the totals
    with engine.begin() as conn:
        conn.execute(sa.insert(ReportWatermark), [{"source": "s:zone", "value": zone_mark(rng.tz)}])
    plan = _plans(engine, lambda conn: invite.to_invite(conn, rng, 10))
    assert "codes_1 USING COVERING INDEX ix_codes_customer_id" in plan, plan
