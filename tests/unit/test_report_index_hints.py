"""``unindexed``: which index drives a summary's per-row look-ups, on SQLite and PostgreSQL.

Folding three million sales into the sales summaries once ran the "was a voucher sold on this sale?"
look-up by the (kind, at) index: every voucher sale of the shop's history per sale folded in, so the
first fold on a big shop never finished. The look-up must go by ``sale_id``.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from pos_referral.db.base import Base
from pos_referral.db.models import ReportEvent, Sale
from pos_referral.services.reports.rollup import sales_days
from pos_referral.services.reports.rollup.buckets import unindexed


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
