"""The summary tables (velocity, referrers, open rewards, fraud copies, visit cells) equal the raw rows.

A generated history (refunds, released and spent vouchers, bursts of friends on one code, an
ambassador with many visits) is reported both ways over ranges of one day to a whole history; then a
second history lands in the past (caught up late, out of time order), the clock passes voucher
expiries, and the till adds refunds and a burst through the API.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask

from pos_referral.bootstrap import Store
from pos_referral.services.demo import DemoPlan, generate
from pos_referral.services.reports.dashboard import build_report
from pos_referral.services.reports.date_range import parse_range
from pos_referral.services.reports.rollup import flags, holdings
from pos_referral.services.reports.rollup import referrers as reports_referrers
from pos_referral.services.reports.rollup import velocity as reports_velocity
from pos_referral.services.reports.rollup import visits as reports_visits
from tests.conftest import Api, FakeClock
from tests.integration.test_reports_numbers import quote, redeem


def same_both_ways(app: Flask, store: Store, first: str, last: str, limit: int | None) -> dict[str, Any]:
    rng = parse_range(first, last, store.ctx.tz, store.ctx.clock())
    rolled, raw = (build_report(store.ctx, rng, limit=limit, raw=r) for r in (False, True))
    for name in raw.tables:
        assert rolled.tables[name] == raw.tables[name], (name, first, last, limit)
    assert rolled.kpis == raw.kpis, (first, last)
    return {"kpis": rolled.kpis, "tables": rolled.tables}


def ranges(store: Store) -> list[tuple[str, str]]:
    today = store.ctx.clock().astimezone(store.ctx.tz).date()
    days = [today - timedelta(days=n) for n in (0, 1, 13, 29, 60, 119, 3 * 366 - 1)]
    return [(d.isoformat(), today.isoformat()) for d in days] + [(days[3].isoformat(), days[2].isoformat())]


def check_all(app: Flask, store: Store) -> dict[str, Any]:
    """Every range both ways; returns the whole history's report (no limit)."""
    found = {(first, last, limit): same_both_ways(app, store, first, last, limit)
             for first, last in ranges(store) for limit in (10, None)}
    first, last = ranges(store)[6]
    return found[(first, last, None)]


@pytest.mark.slow
def test_summaries_equal_the_raw_rows_through_late_history_expiry_and_refunds(
        api: Api, app: Flask, clock: FakeClock, store: Store) -> None:
    generate(store.ctx, DemoPlan(customers=60, referrals=1500, days=120, chunk=400))
    whole = check_all(app, store)
    kinds = {f["kind"] for f in whole["tables"]["fraud"]}
    assert {"velocity", "refund_after_referral"} <= kinds  # the history has what the summaries hold
    assert whole["tables"]["unredeemed"] and whole["kpis"]["liability_minor"] > 0
    generate(store.ctx, DemoPlan(customers=20, referrals=400, days=90, chunk=150, seed=3))  # lands in the past
    check_all(app, store)
    clock.advance(days=40)  # vouchers expire between catch-ups
    check_all(app, store)
    a = api.issue("+4791111111", "Ann", "receipt")
    assert quote(api, a["code"], "+4791111111")["reason"] == "self_referral"
    for i in range(4):  # a burst of friends on one code within the hour
        redeem(api, a["code"], f"B{i}", f"+479555000{i}", "80.00")
        clock.advance(minutes=7)
    assert api.post("/api/v1/sales/B1/refund", {})[0] == 200
    assert api.post("/api/v1/sales/B2/refund", {"amount": "10.00"}, **{"Idempotency-Key": "rb2"})[0] == 200
    whole = check_all(app, store)
    assert any(f["kind"] == "velocity" and f["code"] == a["code"] for f in whole["tables"]["fraud"])
    assert any(f["kind"] == "self_referral" for f in whole["tables"]["fraud"])
    rng = parse_range(*ranges(store)[0], store.ctx.tz, store.ctx.clock())
    with store.db.read_engine.connect() as conn:  # the rolled-up side above did read the summaries
        assert holdings.usable(conn, store.ctx.clock(), None) and flags.usable(conn)
        assert reports_referrers.usable(conn, rng) and reports_visits.usable(conn, rng)
        assert reports_velocity.in_range(conn, rng, 500) is not None


def test_the_background_catch_up_waits_for_a_quiet_round(api: Api, store: Store, monkeypatch: Any) -> None:
    """``serve`` folds new rows in every minute, but not right after a busy one (the till needs the CPU)."""
    from pos_referral.services.reports.rollup.quarter_hours import QuietCatchUp

    monkeypatch.setattr(QuietCatchUp, "BUSY_ROWS", 1)
    background = QuietCatchUp(store.db, store.ctx.tz, store.ctx.clock)
    background()
    code = api.issue("+4791111111")["code"]
    redeem(api, code, "Q1", "+4795550001", "80.00")
    redeem(api, code, "Q2", "+4795550002", "80.00")
    assert background() == 0  # two redemptions since the last round: busy, left for later
    assert background() > 0  # nothing new since: quiet, caught up
