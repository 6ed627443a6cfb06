"""Every report figure, checked against activity built through the API with a hand-moved clock."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from pos_referral.bootstrap import Store
from pos_referral.services.reports.dashboard import Report, build_report
from pos_referral.services.reports.date_range import parse_range
from pos_referral.services.rewards import release_due_rewards
from pos_referral.services.unit_of_work import UnitOfWork
from tests.conftest import Api, FakeClock

A, B, C = "+4791111111", "+4792222222", "+4793333333"
F1, F2, F3 = "+4794444441", "+4794444442", "+4794444443"


def report(app: Flask, store: Store, first: str | None = None, last: str | None = None) -> Report:
    rng = parse_range(first, last, store.ctx.tz, store.ctx.clock())
    return build_report(store.ctx, rng, limit=None)


def quote(api: Api, code: str, phone: str, basket: str = "50.00") -> dict[str, Any]:
    status, body = api.post("/api/v1/checkouts/quote", {"code": code, "basket_total": basket,
                                                         "customer": {"phone": phone}})
    assert status == 200, body
    return dict(body)


def redeem(api: Api, code: str, sale: str, phone: str, basket: str) -> dict[str, Any]:
    status, body = api.redeem(code, sale, basket, phone=phone)
    assert status == 201, body
    return dict(body)


@pytest.fixture
def june(api: Api, app: Flask, clock: FakeClock, store: Store) -> dict[str, Any]:
    """Three customers get codes on 15 June; three friends shop; one refund; a voucher is spent on 30 June."""
    a = api.issue(A, "Ann", "receipt")
    b = api.issue(B, "Bob", "card")
    api.issue(C, "Cai", "kiosk")
    client = app.test_client()
    for code in (a["code"], a["code"], b["code"]):
        assert client.get(f"/r/{code}").status_code == 200
    quote(api, a["code"], F1)
    clock.advance(minutes=1)
    quote(api, a["code"], F1)  # the cashier scans again: still one friend quoted
    assert quote(api, a["code"], A)["reason"] == "self_referral"
    status, body = api.redeem(a["code"], "S0", "50.00", phone=A)
    assert status == 409 and body["code"] == "self_referral"
    redeem(api, a["code"], "S1", F1, "50.00")  # 10 % off: 5.00
    redeem(api, a["code"], "S2", F2, "200.00")  # price tier: 15.00 off
    status, body = api.post("/api/v1/sales/S2/refund", {})
    assert status == 200 and body["referrer_reward"]["status"] == "voided"
    clock.advance(days=14)  # 29 June
    redeem(api, b["code"], "S3", F3, "30.00")  # 3.00 off; Bob's reward stays pending
    clock.advance(days=1, minutes=5)  # 30 June: Ann's hold has passed
    assert release_due_rewards(store.ctx).released == 1
    status, rewards = api.get(f"/api/v1/customers/{a['customer_id']}/rewards")
    voucher = next(r["voucher_code"] for r in rewards["rewards"] if r["voucher_code"])
    status, body = api.post(f"/api/v1/vouchers/{voucher}/redeem", {"sale_id": "S4", "basket_total": "80.00",
                                                                   "customer": {"phone": A}},
                            **{"Idempotency-Key": "k-S4"})
    assert status == 201 and body["discount"] == "10.00", body
    return {"a": a, "b": b}


def test_funnel_follows_the_codes_issued_in_the_period(june: dict[str, Any], app: Flask, store: Store) -> None:
    """Six codes (Ann, Bob, Cai and the three friends' own); Ann's and Bob's pages were opened; only Ann's was
    quoted (her own scan is no friend), bought with, rewarded and the reward used. Bob's friend bought without a
    quote: counted as reached, not in the nested step."""
    rep = report(app, store)
    rows = {row["step"]: (row["count"], row["conversion"], row["reached"]) for row in rep.tables["funnel"]}
    assert rows == {
        "Codes issued": (6, None, 6),
        "Landing page visited": (2, 2 / 6, 2),
        "Friend quoted": (1, 1 / 2, 1),
        "Friend bought": (1, 1.0, 2),
        "Reward released": (1, 1.0, 1),
        "Reward used": (1, 1.0, 1),
    }


def test_activity_counts_each_event_in_the_period(june: dict[str, Any], app: Flask, store: Store) -> None:
    rep = report(app, store)
    assert (rep.range.first.isoformat(), rep.range.last.isoformat()) == ("2026-06-01", "2026-06-30")
    steps = {row["step"]: (row["count"], row["conversion"]) for row in rep.tables["activity"]}
    assert steps == {
        "Codes issued": (6, None),
        "Landing page visits": (3, 3 / 6),
        "Friends quoted": (2, 2 / 3),
        "Redemptions": (3, 3 / 2),
        "Rewards released": (1, 1 / 3),
        "Rewards redeemed": (1, 1.0),
    }
    assert rep.kpis["codes_by_channel"] == {"receipt": 4, "card": 1, "kiosk": 1, "api": 0}
    rates = {row["channel"]: (row["codes_issued"], row["landing_visits"], row["scan_rate"])
             for row in rep.tables["channels"]}
    assert rates == {"receipt": (4, 2, 0.5), "card": (1, 1, 1.0), "kiosk": (1, 0, 0.0), "api": (0, 0, None)}


def test_key_figures_are_exact(june: dict[str, Any], app: Flask, store: Store) -> None:
    k = report(app, store).kpis
    assert (k["customers_served"], k["customers_with_code"], k["code_holder_share"]) == (6, 6, 1.0)
    assert k["participation_rate"] is None and k["sales_feed"] is False  # the old 100 %: no sales feed here
    assert (k["codes_converted"], k["referral_conversion"]) == (2, 2 / 6)
    assert (k["sales_count"], k["sales_minor"], k["referred_revenue_minor"]) == (3, 16000, 8000)
    assert k["referred_share"] == 0.5
    assert (k["avg_basket_referred_minor"], k["avg_basket_other_minor"]) == (4000, 8000)
    assert (k["referred_customers_served"], k["repeat_rate_referred"]) == (3, 0.0)
    assert (k["other_customers_served"], k["repeat_rate_other"]) == (3, 1 / 3)  # Ann came back to spend her voucher
    assert (k["friend_discounts_minor"], k["vouchers_redeemed_minor"], k["reward_cost_minor"]) == (800, 1000, 1800)
    assert (k["acquired_customers"], k["cost_per_acquired_minor"]) == (2, 900)
    assert (k["pending_rewards"], k["pending_minor"], k["open_vouchers"], k["liability_minor"]) == (1, 1000, 0, 1000)


def test_goals_tables_and_flags(june: dict[str, Any], app: Flask, store: Store) -> None:
    rep = report(app, store)
    (goal,) = rep.tables["goals"]
    assert (goal["month"], goal["new_referred_customers"], goal["target"], goal["target_progress"]) == (
        "2026-06", 2, 50, 0.04)
    assert (goal["spent_minor"], goal["budget_minor"], goal["budget_used"]) == (1800, 50000, 0.036)
    top = {(r["first_name"], r["friends_brought"], r["referred_revenue_minor"]) for r in rep.tables["top_referrers"]}
    assert top == {("Ann", 1, 5000), ("Bob", 1, 3000)}  # Ann's refunded friend does not count
    assert rep.tables["invite"] == []
    assert rep.tables["cashiers"] == [{"till_id": "T1", "staff": "", "codes_issued": 6, "redemptions": 3}]
    (owed,) = rep.tables["unredeemed"]
    assert (owed["first_name"], owed["pending"], owed["pending_minor"], owed["vouchers"]) == ("Bob", 1, 1000, 0)
    kinds = sorted(f["kind"] for f in rep.tables["fraud"])
    assert kinds == ["refund_after_referral", "self_referral", "self_referral"]
    assert rep.tables["reconciliation"] == []


def test_participation_is_the_share_of_every_reported_sale_once_the_pos_sends_sales(
        june: dict[str, Any], api: Api, app: Flask, store: Store) -> None:
    assert report(app, store).kpis["sales_feed"] is False
    for n in range(5):  # five sales without a code, reported by the POS on a day in June
        assert api.post("/api/v1/sales", {"sale_id": f"POS-{n}", "total": "20.00"})[0] == 201
    k = report(app, store).kpis
    with UnitOfWork(store.ctx.db, write=False) as read:
        all_sales, coded = read.conn.execute(sa.text(
            "SELECT count(*), sum(source IN ('referral', 'voucher')) FROM sales")).one()  # with a code or voucher
    assert k["sales_feed"] is True
    assert k["participation_rate"] == k["participation_of_sales"] == coded / all_sales
    assert 0 < k["participation_rate"] < 1
    with UnitOfWork(store.ctx.db, write=False) as read:
        total = read.conn.execute(sa.text("SELECT sum(total_minor) FROM sales")).scalar_one()
    assert k["sales_minor"] == total  # with a feed, "Sales recorded" and the referred share are over every sale
    assert k["referred_share"] == k["referred_revenue_minor"] / total


def test_an_empty_period_has_zeros_and_no_ratios(june: dict[str, Any], app: Flask, store: Store) -> None:
    rep = report(app, store, "2026-05-01", "2026-05-31")
    assert [row["count"] for row in rep.tables["funnel"]] == [0, 0, 0, 0, 0, 0]
    assert all(row["conversion"] is None for row in rep.tables["funnel"])
    assert [row["count"] for row in rep.tables["activity"]] == [0, 0, 0, 0, 0, 0]
    assert all(row["conversion"] is None for row in rep.tables["activity"])
    k = rep.kpis
    assert (k["customers_served"], k["participation_rate"], k["referral_conversion"], k["sales_minor"]) == (
        0, None, None, 0)
    assert (k["referred_share"], k["avg_basket_referred_minor"], k["cost_per_acquired_minor"]) == (None, None, None)
    assert k["liability_minor"] == 1000  # liability is as of now, whatever the period
    assert rep.tables["top_referrers"] == rep.tables["fraud"] == []
    assert [row["day"] for row in rep.tables["trend"]][:2] == ["2026-05-01", "2026-05-02"]


def test_a_partial_refund_reduces_referred_revenue(api: Api, app: Flask, store: Store) -> None:
    a = api.issue(A)
    redeem(api, a["code"], "S1", F1, "50.00")
    assert api.post("/api/v1/sales/S1/refund", {"amount": "20.00"}, **{"Idempotency-Key": "r1"})[0] == 200
    rep = report(app, store)
    k = rep.kpis
    assert (k["referred_revenue_minor"], k["acquired_customers"], k["reward_cost_minor"]) == (3000, 1, 500)
    (flag,) = [f for f in rep.tables["fraud"] if f["kind"] == "refund_after_referral"]
    assert flag["detail"].startswith("sale S1: €20.00 of €50.00 refunded")  # money with its currency


def test_velocity_flags_many_friends_on_one_code_within_an_hour(api: Api, app: Flask, clock: FakeClock,
                                                                 store: Store) -> None:
    a = api.issue(A)
    for i in range(3):
        redeem(api, a["code"], f"S{i}", f"+47955555{i:02d}", "50.00")
        clock.advance(minutes=20)
    clock.advance(hours=5)
    redeem(api, a["code"], "S9", "+4795555599", "50.00")  # hours later: not part of the burst
    flags = [f for f in report(app, store).tables["fraud"] if f["kind"] == "velocity"]
    assert [(f["code"], f["detail"]) for f in flags] == [(a["code"], "3 friends within 60 minutes")]
