"""The sales-feed figures, each against a computation from the raw rows, from the summaries and raw.

A month of a small shop through the API: sales from the POS with and without a contact, referred
friends (whose redemptions record their own sales), a voucher sale, card prompts, a refused code,
share clicks. Every figure is computed again here in Python from the rows, and the dashboard must give
the same from its kept summaries (``rollup/sales_days.py``) and from the raw rows (``raw=True``).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from pos_referral.bootstrap import Store
from pos_referral.db.models import Code, Redemption, ReportEvent, Sale
from pos_referral.db.models_promo import CardOffer
from pos_referral.services.reports.dashboard import Report, build_report
from pos_referral.services.reports.date_range import in_range, parse_range
from pos_referral.services.reports.sales_figures import NO_FEED
from pos_referral.services.rewards import release_due_rewards
from pos_referral.services.unit_of_work import UnitOfWork
from tests.conftest import Api, FakeClock

PARTS = ["sales", "shares", "cashier_activity", "invite"]


def report(store: Store, *, raw: bool = False, first: str = "2026-06-01", last: str = "2026-06-30") -> Report:
    rng = parse_range(first, last, store.ctx.tz, store.ctx.clock())
    return build_report(store.ctx, rng, parts=PARTS, limit=None, raw=raw)


def sale(api: Api, sale_id: str, total: str, phone: str | None = None, cashier: str = "Ola") -> None:
    body: dict[str, Any] = {"sale_id": sale_id, "total": total, "cashier": cashier}
    if phone:
        body["customer"] = {"phone": phone, "first_name": f"P{phone[-2:]}"}
    assert api.post("/api/v1/sales", body)[0] == 201


@pytest.fixture
def june(api: Api, app: Flask, clock: FakeClock, store: Store) -> dict[str, Any]:
    clock.now = datetime(2026, 6, 2, 10, tzinfo=clock.now.tzinfo)
    a = api.issue("+4791111111", "Ann")
    b = api.issue("+4792222222", "Bob", "card")
    client = app.test_client()
    for path in (f"/s/{a['code']}/whatsapp", f"/s/{a['code']}/whatsapp", f"/s/{a['code']}/sms"):
        assert client.get(path).status_code == 302
    assert client.post(f"/s/{b['code']}/copy").status_code == 204
    assert client.get("/s/00000000000000/sms").status_code == 404  # not a code: nothing counted
    for day in range(3):  # a regular with no code, three days; another on two days; anonymous sales
        sale(api, f"R{day}", "20.00", "+4793000001", cashier="Ola")
        sale(api, f"Q{day}", "35.50", "+4793000002" if day < 2 else None, cashier="Mia")
        sale(api, f"N{day}", "9.99")
        clock.advance(days=1)
    status, _ = api.post("/api/v1/redemptions", {"code": a["code"], "sale_id": "F1", "basket_total": "50.00",
                                                 "customer": {"phone": "+4794000001"}, "cashier": "Mia"},
                         **{"Idempotency-Key": "kF1"})
    assert status == 201
    status, _ = api.post("/api/v1/redemptions", {"code": a["code"], "sale_id": "F0", "basket_total": "50.00",
                                                 "customer": {"phone": "+4791111111"}, "cashier": "Ola"},
                         **{"Idempotency-Key": "kF0"})
    assert status == 409  # self-referral, refused at Ola's sale
    assert api.post("/api/v1/sales", {"sale_id": "F1", "total": "45.00"})[0] == 200  # the POS sends it too
    clock.advance(days=2)
    sale(api, "F1-later", "60.00", "+4794000001", cashier="Ola")  # the friend comes back
    for sale_id, accepted in (("N0", True), ("N1", False)):
        assert api.post("/api/v1/prompts/card-offer", {"sale_id": sale_id, "accepted": accepted})[0] == 201
    assert api.post("/api/v1/prompts/card-offer", {"sale_id": "N2", "accepted": False, "offered": False})[0] == 201
    clock.advance(days=15)
    assert release_due_rewards(store.ctx).released == 1
    status, rewards = api.get(f"/api/v1/customers/{a['customer_id']}/rewards")
    voucher = next(r["voucher_code"] for r in rewards["rewards"] if r["voucher_code"])
    status, _ = api.post(f"/api/v1/vouchers/{voucher}/redeem", {"sale_id": "V1", "basket_total": "80.00"},
                         **{"Idempotency-Key": "kV1"})
    assert status == 201
    clock.advance(days=5)  # 27 June
    return {"a": a, "b": b}


def _raw_figures(store: Store, rng: Any) -> dict[str, Any]:
    """The figures computed in Python from the rows, by their definitions."""
    with UnitOfWork(store.db, write=False) as read:
        c = read.conn
        sales = c.execute(sa.select(Sale.sale_id, Sale.at, Sale.total_minor, Sale.customer_id, Sale.source)
                          .where(in_range(Sale.at, rng))).all()
        redeemed = {r.sale_id: r for r in c.execute(sa.select(Redemption.sale_id, Redemption.friend_id,
                                                              Redemption.created_at))}
        voucher_sales = set(c.execute(sa.select(ReportEvent.sale_id).where(ReportEvent.kind == "voucher_sale"))
                            .scalars())
        offered = c.execute(sa.select(sa.func.count()).select_from(CardOffer)
                            .where(CardOffer.offered.is_(True), in_range(CardOffer.at, rng))).scalar_one()
    friends = {r.friend_id: r.created_at for r in redeemed.values()}
    coded = [s for s in sales if s.source in ("referral", "voucher") or s.sale_id in redeemed
             or s.sale_id in voucher_sales]
    referred = [s for s in sales if s.customer_id in friends and friends[s.customer_id] <= s.at]
    other = [s for s in sales if s not in referred]
    days: dict[int, dict[str, set[Any]]] = {0: defaultdict(set), 1: defaultdict(set)}
    for s in sales:
        if s.customer_id:
            flag = int(s in referred)
            days[flag][s.customer_id].add(s.at.astimezone(rng.tz).date())

    def avg(rows: list[Any]) -> int | None:
        return (sum(r.total_minor for r in rows) + len(rows) // 2) // len(rows) if rows else None

    def visits(flag: int) -> float | None:
        people = days[flag]
        return round(sum(len(d) for d in people.values()) / len(people), 2) if people else None

    return {"all_sales_count": len(sales), "all_sales_total_minor": sum(s.total_minor for s in sales),
            "coded_sales_count": len(coded), "participation_of_sales": len(coded) / len(sales),
            "cards_offered": offered, "offered_share_of_sales": offered / (len(sales) - len(coded)),
            "avg_basket_referred_all_minor": avg(referred), "avg_basket_other_all_minor": avg(other),
            "visits_per_customer_referred": visits(1), "visits_per_customer_other": visits(0)}


def test_sales_figures_equal_the_raw_rows_from_summaries_and_raw(june: dict[str, Any], store: Store) -> None:
    kept, raw = report(store), report(store, raw=True)
    expected = _raw_figures(store, kept.range)
    assert {k: kept.kpis[k] for k in expected} == expected
    assert {k: raw.kpis[k] for k in expected} == expected
    # the story's own numbers: 9 POS sales + F1 (once) + F1-later + V1
    assert expected["all_sales_count"] == 12 and expected["coded_sales_count"] == 2
    assert expected["avg_basket_referred_all_minor"] == 5500 and expected["cards_offered"] == 2
    rows = {r["key"]: r for r in kept.tables["sales"]}
    assert rows["participation_of_sales"]["value"] == f"{2 / 12:.4f}" and rows["all_sales_total_minor"]["value"]
    assert all(r["definition"] for r in kept.tables["sales"])


def test_the_summaries_follow_new_sales_and_stay_equal_to_raw(june: dict[str, Any], api: Api, store: Store,
                                                              clock: FakeClock) -> None:
    report(store)  # summaries built
    sale(api, "LATE-1", "12.00", "+4793000001")
    clock.advance(hours=30)
    sale(api, "LATE-2", "13.00", "+4795000009")
    kept, raw = report(store), report(store, raw=True)
    assert kept.kpis["all_sales_count"] == 14
    for key in ("all_sales_count", "all_sales_total_minor", "visits_per_customer_other", "participation_of_sales"):
        assert kept.kpis[key] == raw.kpis[key]
    assert kept.tables["invite"] == raw.tables["invite"]


def test_a_shop_without_a_sales_feed_says_not_known(api: Api, store: Store, app: Flask) -> None:
    code = api.issue()["code"]
    assert api.redeem(code, "ONLY-1", phone="+4796000001")[0] == 201  # a redemption records its sale, no feed
    rep = report(store)
    assert rep.kpis["sales_feed"] is False and rep.kpis["sales_unknown_reason"] == NO_FEED
    assert rep.kpis["participation_of_sales"] is None and rep.kpis["all_sales_count"] is None
    assert {r["value"] for r in rep.tables["sales"]} == {None}
    assert {r["reason"] for r in rep.tables["sales"]} == {"not known: no sales feed"}


def test_share_rate_counts_codes_shared_over_codes_issued(june: dict[str, Any], store: Store) -> None:
    rep = report(store)
    with UnitOfWork(store.db, write=False) as read:
        issued = read.conn.execute(sa.select(sa.func.count()).select_from(Code).where(
            Code.kind == "referral", in_range(Code.created_at, rep.range))).scalar_one()
    assert issued == 3  # Ann, Bob and the friend's own code from F1
    assert rep.kpis["codes_shared"] == 2 and rep.kpis["share_rate"] == 2 / issued
    assert rep.tables["shares"] == [{"channel": "whatsapp", "codes_shared": 1, "shares": 2},
                                    {"channel": "sms", "codes_shared": 1, "shares": 1},
                                    {"channel": "copy", "codes_shared": 1, "shares": 1}]


def test_who_to_invite_ranks_frequent_customers_without_a_code(june: dict[str, Any], store: Store) -> None:
    rows = report(store).tables["invite"]
    assert [(r["first_name"], r["visit_days"], r["spent_minor"]) for r in rows] == [("P01", 3, 6000),
                                                                                 ("P02", 2, 7100)]
    assert all("***" in r["contact"] or r["contact"] for r in rows)
    assert rows == report(store, raw=True).tables["invite"]


def test_per_cashier_counts_offers_sales_redemptions_refusals(june: dict[str, Any], store: Store) -> None:
    rows = {r["staff"]: r for r in report(store).tables["cashier_activity"]}
    assert rows["Ola"]["sales"] == 7 and rows["Mia"]["sales"] == 4  # R0-2, N0-2, F1-later; Q0-2, F1
    assert rows["Mia"]["redemptions"] == 1 and rows["Ola"]["refusals"] == 1
    assert rows["Ola"]["refusals_by_reason"] == "self_referral 1"
    assert rows[""]["cards_offered"] == 2 and rows[""]["cards_accepted"] == 1  # an API token names nobody


def test_who_to_invite_over_long_ranges_equals_the_raw_rows_at_every_cut(api: Api, clock: FakeClock,
                                                                        store: Store) -> None:
    # over 92 days the list is read customer by customer from their all-time totals and stops early: every
    # range below cuts some customers' histories (first, last or both ends outside) and must still agree
    import random

    rnd = random.Random(7)
    clock.now = datetime(2026, 1, 5, 12, tzinfo=clock.now.tzinfo)
    api.issue("+4795000003", "Holder")  # a frequent customer who holds a code is never listed
    for day in range(200):
        for n in rnd.sample(range(12), 3):
            sale(api, f"L{day}-{n}", f"{rnd.randint(5, 90)}.{rnd.randint(0, 99):02d}", f"+47950000{n:02d}")
        clock.advance(days=1)
    ranges = [("2026-01-01", "2026-07-31"), ("2026-02-10", "2026-07-31"), ("2026-01-01", "2026-05-20"),
              ("2026-02-10", "2026-06-01"), ("2026-03-01", "2026-06-15")]
    for first, last in ranges:
        rng = parse_range(first, last, store.ctx.tz, store.ctx.clock())
        for limit in (1, 3, 10):
            kept = build_report(store.ctx, rng, parts=["invite"], limit=limit).tables["invite"]
            raw = build_report(store.ctx, rng, parts=["invite"], limit=limit, raw=True).tables["invite"]
            assert kept == raw, (first, last, limit)
            assert len(kept) == min(limit, 11) and "P03" not in {r["first_name"] for r in kept}
