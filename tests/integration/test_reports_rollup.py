"""The rolled-up report equals the report computed from raw rows, after a mixed history caught up in steps."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from pos_referral.bootstrap import Store
from pos_referral.db.models_reports import ReportRollup
from pos_referral.resources import config_dir
from pos_referral.services.reports.dashboard import build_report
from pos_referral.services.reports.date_range import DateRange, parse_range
from pos_referral.services.rewards import release_due_rewards
from tests.conftest import Api, FakeClock
from tests.integration.test_reports_numbers import quote, redeem


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    """The shipped config with the shop in Adelaide: a half-hour offset and a clock change on 5 April 2026."""
    target = tmp_path / "config"
    shutil.copytree(config_dir(), target)
    store_toml = target / "store.toml"
    store_toml.write_text(store_toml.read_text().replace('timezone = "UTC"', 'timezone = "Australia/Adelaide"'))
    return store_toml


def both_ways(app: Flask, store: Store, first: str, last: str) -> tuple[dict[str, Any], dict[str, Any]]:
    rng = parse_range(first, last, store.ctx.tz, store.ctx.clock())
    rolled, raw = (build_report(store.ctx, rng, limit=None, raw=r) for r in (False, True))
    return ({"kpis": rolled.kpis, "tables": rolled.tables}, {"kpis": raw.kpis, "tables": raw.tables})


def assert_same(app: Flask, store: Store, first: str, last: str) -> dict[str, Any]:
    rolled, raw = both_ways(app, store, first, last)
    for name in raw["tables"]:
        assert rolled["tables"][name] == raw["tables"][name], name
    assert rolled["kpis"] == raw["kpis"]
    return rolled


RANGES = [("2026-03-01", "2026-05-31"), ("2026-04-04", "2026-04-04"), ("2026-04-05", "2026-04-05"),
          ("2026-04-06", "2026-04-06"), ("2026-04-01", "2026-04-30"), ("2026-04-20", "2026-04-21")]


@pytest.mark.slow
def test_rollup_answers_equal_the_raw_rows_after_a_mixed_history(api: Api, app: Flask, clock: FakeClock,
                                                                  store: Store) -> None:
    client = app.test_client()
    # 4 April, 23:50 in Adelaide (UTC+10:30): codes issued just before local midnight
    clock.now = datetime(2026, 4, 4, 13, 20, tzinfo=UTC)
    a = api.issue("+4791111111", "Ann", "receipt")
    b = api.issue("+4792222222", "Bob", "card")
    assert client.get(f"/r/{a['code']}").status_code == 200
    assert_same(app, store, *RANGES[0])  # the first catch-up builds the rollup from scratch
    clock.advance(minutes=20)  # 00:10 on 5 April: a friend, a quote, a repeated quote
    quote(api, a["code"], "+4794444441")
    redeem(api, a["code"], "S1", "+4794444441", "50.00")
    assert client.get(f"/r/{b['code']}").status_code == 200
    assert_same(app, store, *RANGES[1])  # caught up in steps from here on
    # 5 April 2026, 03:00 in Adelaide the clocks go back to 02:00 (UTC+9:30)
    clock.now = datetime(2026, 4, 5, 14, 0, tzinfo=UTC)  # 23:30 on 5 April, winter time
    redeem(api, b["code"], "S2", "+4794444442", "200.00")
    redeem(api, a["code"], "S3", "+4794444443", "80.00")
    clock.now = datetime(2026, 4, 5, 14, 45, tzinfo=UTC)  # 00:15 on 6 April
    redeem(api, a["code"], "S4", "+4794444444", "60.00")
    c = api.issue("+4793333333", "Cai", "kiosk")
    assert_same(app, store, *RANGES[2])
    assert api.post("/api/v1/sales/S2/refund", {})[0] == 200  # in full, on the next day: S2's day changes
    assert api.post("/api/v1/sales/S3/refund", {"amount": "30.00"}, **{"Idempotency-Key": "r3"})[0] == 200  # in part
    assert_same(app, store, *RANGES[1])
    clock.advance(days=15)  # 21 April: rewards past the hold are released, one voucher spent
    assert release_due_rewards(store.ctx).released >= 1
    status, rewards = api.get(f"/api/v1/customers/{a['customer_id']}/rewards")
    voucher = next(r["voucher_code"] for r in rewards["rewards"] if r["voucher_code"])
    status, body = api.post(f"/api/v1/vouchers/{voucher}/redeem", {"sale_id": "V1", "basket_total": "90.00",
                                                                   "customer": {"phone": "+4791111111"}},
                            **{"Idempotency-Key": "k-V1"})
    assert status == 201, body
    redeem(api, c["code"], "S5", "+4794444445", "45.00")
    assert api.post("/api/v1/sales/S4/refund", {})[0] == 200  # refund after the release: a clawback
    for first, last in RANGES:
        assert_same(app, store, first, last)
    whole = assert_same(app, store, *RANGES[0])
    steps = {row["step"]: row["count"] for row in whole["tables"]["activity"]}
    assert (steps["Codes issued"], steps["Landing page visits"], steps["Redemptions"]) == (3 + 5, 2, 5)
    day5 = assert_same(app, store, "2026-04-05", "2026-04-05")
    assert [r["redemptions"] for r in day5["tables"]["trend"]] == [3]  # 00:10, 23:30 (after the change)


def test_a_range_not_on_quarter_hours_is_read_raw(store: Store) -> None:
    """Monrovia kept UTC-0:44:30 until 1972: its midnights are not on quarter hours, so no rollup is used."""
    from zoneinfo import ZoneInfo

    from pos_referral.services.reports.rollup.read import usable

    with store.db.read_engine.connect() as conn:
        old = DateRange(datetime(1970, 3, 1).date(), datetime(1970, 3, 2).date(), ZoneInfo("Africa/Monrovia"))
        now = DateRange(datetime(2026, 3, 1).date(), datetime(2026, 3, 2).date(), ZoneInfo("Asia/Kathmandu"))
        assert (usable(conn, old), usable(conn, now)) == (False, True)


def test_the_rollup_is_kept_in_the_database(api: Api, app: Flask, store: Store) -> None:
    redeem(api, api.issue("+4791111111")["code"], "S1", "+4794444441", "50.00")
    assert_same(app, store, "2026-06-01", "2026-06-30")
    with store.db.read_engine.connect() as conn:
        facts = dict(conn.execute(sa.select(ReportRollup.fact, sa.func.sum(ReportRollup.n))
                                  .group_by(ReportRollup.fact)).all())
    assert facts == {"issued": 2, "redemptions": 1, "converted": 1}
