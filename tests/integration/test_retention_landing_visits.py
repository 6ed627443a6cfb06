"""Landing visits are purged after ``[retention] landing_visit_days``; the reports keep counting them."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from pos_referral.bootstrap import Store
from pos_referral.db.models import LandingVisit
from pos_referral.db.models_reports import ReportWatermark
from pos_referral.services import retention
from pos_referral.services.landing_page import count_visit
from pos_referral.services.reports.dashboard import build_report
from pos_referral.services.reports.date_range import parse_range
from pos_referral.services.unit_of_work import UnitOfWork
from tests.conftest import Api, FakeClock


def visit_figures(store: Store, clock: FakeClock) -> dict[str, object]:
    today = clock().astimezone(store.ctx.tz).date()
    rng = parse_range((today - timedelta(days=700)).isoformat(), today.isoformat(), store.ctx.tz, clock())
    rep = build_report(store.ctx, rng, parts=["activity", "trend"])
    funnel = {row["step"]: row["count"] for row in rep.tables["activity"]}  # events in the period
    return {"funnel": funnel["Landing page visits"],
            "channels": {r["channel"]: r["landing_visits"] for r in rep.tables["channels"]},
            "trend": {r["day"]: r["landing_visits"] for r in rep.tables["trend"] if r["landing_visits"]}}


def raw_visits(store: Store) -> int:
    with UnitOfWork(store.db, write=False) as read:
        return int(read.session.scalar(sa.select(sa.func.count()).select_from(LandingVisit)) or 0)


def test_old_visits_go_and_the_reports_still_count_them(store: Store, api: Api, clock: FakeClock) -> None:
    now = clock()
    clock.now = now - timedelta(days=600)
    old = api.issue("+4791230001")["code"]
    for _ in range(3):
        count_visit(store.ctx, old, "en")
    clock.now = now - timedelta(days=450)
    count_visit(store.ctx, old, "de")
    clock.now = now - timedelta(days=5)
    new = api.issue("+4791230002", channel="card")["code"]
    count_visit(store.ctx, new, "en")
    count_visit(store.ctx, old, "en")
    clock.now = now
    before = visit_figures(store, clock)
    assert before["funnel"] == 6 and len(before["trend"]) == 3

    summary = retention.purge(store.ctx)  # default: 400 days
    assert summary.landing_visits == 4 and "4 landing page visits" in summary.line()
    assert raw_visits(store) == 2
    assert visit_figures(store, clock) == before

    # a rebuild of the whole rollup (a newer report version) keeps the counts of the purged days
    with UnitOfWork(store.db, write=True) as uow:
        uow.conn.execute(sa.update(ReportWatermark).where(ReportWatermark.source == "rollup_version").values(value=0))
        uow.commit()
    assert visit_figures(store, clock) == before
    assert retention.purge(store.ctx).landing_visits == 0  # nothing more to do
    clock.advance(days=10)  # the newest visits are still young; the old code's latest too
    count_visit(store.ctx, old, "en")
    after = visit_figures(store, clock)
    assert after["funnel"] == 7
