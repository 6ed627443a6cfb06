"""Report days are the store's local days: 23:30 on the last day is in, 00:30 the next day is not."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask

from pos_referral.bootstrap import Store
from pos_referral.resources import config_dir
from tests.conftest import Api, FakeClock
from tests.integration.test_reports_numbers import report


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    """The shipped config, with the shop in Oslo (UTC+2 in summer)."""
    target = tmp_path / "config"
    shutil.copytree(config_dir(), target)
    store_toml = target / "store.toml"
    store_toml.write_text(store_toml.read_text().replace('timezone = "UTC"', 'timezone = "Europe/Oslo"'))
    return store_toml


def test_sales_near_local_midnight_fall_on_the_local_day(api: Api, app: Flask, clock: FakeClock,
                                                          store: Store) -> None:
    assert store.ctx.tz.key == "Europe/Oslo"
    clock.now = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
    code = api.issue("+4791111111")["code"]
    clock.now = datetime(2026, 6, 30, 21, 30, tzinfo=UTC)  # 23:30 in Oslo on 30 June
    assert api.redeem(code, "late", "40.00", phone="+4794444441")[0] == 201
    clock.now = datetime(2026, 6, 30, 22, 30, tzinfo=UTC)  # 00:30 in Oslo on 1 July
    assert api.redeem(code, "early", "60.00", phone="+4794444442")[0] == 201

    june = report(app, store, "2026-06-01", "2026-06-30")
    assert june.range.end == datetime(2026, 6, 30, 22, 0, tzinfo=UTC)
    assert (june.kpis["referred_revenue_minor"], june.kpis["acquired_customers"]) == (4000, 1)
    assert {row["day"]: row["redemptions"] for row in june.tables["trend"] if row["redemptions"]} == {"2026-06-30": 1}
    july = report(app, store, "2026-07-01", "2026-07-01")
    assert (july.kpis["referred_revenue_minor"], july.tables["trend"]) == (6000, [
        {"day": "2026-07-01", "codes_issued": 1, "landing_visits": 0, "friends_quoted": 0, "redemptions": 1}])


def test_a_day_with_a_clock_change_is_counted_in_local_days(api: Api, app: Flask, clock: FakeClock,
                                                             store: Store) -> None:
    clock.now = datetime(2026, 10, 24, 22, 30, tzinfo=UTC)  # 00:30 on 25 October, summer time (UTC+2)
    code = api.issue("+4791111111")["code"]
    clock.now = datetime(2026, 10, 25, 22, 59, tzinfo=UTC)  # 23:59 on 25 October, winter time (UTC+1)
    assert api.redeem(code, "s1", "40.00", phone="+4794444441")[0] == 201
    clock.now = datetime(2026, 10, 25, 23, 0, tzinfo=UTC)  # 00:00 on 26 October
    assert api.redeem(code, "s2", "40.00", phone="+4794444442")[0] == 201
    rep = report(app, store, "2026-10-25", "2026-10-25")
    assert rep.tables["trend"] == [
        {"day": "2026-10-25", "codes_issued": 2, "landing_visits": 0, "friends_quoted": 0, "redemptions": 1}]
