"""The sales feed over the API: each sale once, a clear conflict, bad input refused, and what follows
from a recorded sale (a returning customer, the redemption's own sale, the cashier, the till's hint)."""

from __future__ import annotations

import sqlalchemy as sa

from pos_referral.bootstrap import Store
from pos_referral.db.base import new_id
from pos_referral.db.models import ReportEvent, Sale
from pos_referral.services.unit_of_work import UnitOfWork
from tests.conftest import Api, FakeClock


def _sales(store: Store) -> list[tuple[str, int, str, str]]:
    with UnitOfWork(store.db, write=False) as read:
        return [tuple(r) for r in read.conn.execute(
            sa.select(Sale.sale_id, Sale.total_minor, Sale.source, Sale.cashier).order_by(Sale.id))]


def test_a_pos_reports_a_sale_once_and_a_replay_is_answered_the_same(api: Api, store: Store) -> None:
    body = {"sale_id": "POS-1", "total": "42.50", "customer": {"phone": "+4791200001", "first_name": "Eva"},
            "cashier": "Ola"}
    status, first = api.post("/api/v1/sales", body)
    assert status == 201 and first["recorded"] is True and first["total"] == "42.50" and first["customer_id"]
    status, again = api.post("/api/v1/sales", body)
    assert status == 200 and again["recorded"] is False and again["customer_id"] == first["customer_id"]
    assert _sales(store) == [("POS-1", 4250, "api", "Ola")]


def test_another_total_under_the_same_sale_id_is_a_409_with_the_recorded_total(api: Api, store: Store) -> None:
    assert api.post("/api/v1/sales", {"sale_id": "POS-2", "total": "10.00"})[0] == 201
    status, problem = api.post("/api/v1/sales", {"sale_id": "POS-2", "total": "12.00"})
    assert status == 409 and problem["code"] == "sale_conflict" and problem["recorded_total"] == "10.00"
    assert _sales(store) == [("POS-2", 1000, "api", "")]


def test_bad_sales_are_refused_with_the_field_named(api: Api) -> None:
    for body, field in [({"total": "1.00"}, "sale_id"), ({"sale_id": "has space", "total": "1.00"}, "sale_id"),
                        ({"sale_id": "S"}, "total"), ({"sale_id": "S", "total": 12.5}, "total"),
                        ({"sale_id": "S", "total": "-1.00"}, "total"),
                        ({"sale_id": "S", "total": "1.00", "cashier": 7}, "cashier"),
                        ({"sale_id": "S", "total": "1.00", "cashier": "x" * 41}, "cashier"),
                        ({"sale_id": "S", "total": "1.00", "customer": {"phone": "abc"}}, "customer")]:
        status, problem = api.post("/api/v1/sales", body)
        assert status == 422 and problem["field"] == field, (body, problem)
    assert api.post("/api/v1/sales", [1])[0] == 400
    assert api.client.post("/api/v1/sales", json={"sale_id": "S", "total": "1.00"}).status_code == 401


def test_a_redemption_records_its_sale_and_a_feed_of_the_same_sale_counts_it_once(api: Api, store: Store) -> None:
    code = api.issue()["code"]
    status, _ = api.post("/api/v1/redemptions", {"code": code, "sale_id": "S-10", "basket_total": "50.00",
                                                 "customer": {"phone": "+4791200010"}, "cashier": "Ola"},
                         **{"Idempotency-Key": "k10"})
    assert status == 201
    status, answer = api.post("/api/v1/sales", {"sale_id": "S-10", "total": "45.00"})  # the paid total, after 10 %
    assert status == 200 and answer["recorded_by"] == "referral" and answer["total"] == "50.00"
    assert _sales(store) == [("S-10", 5000, "referral", "Ola")]
    with UnitOfWork(store.db, write=False) as read:
        staff = read.conn.execute(sa.select(ReportEvent.staff).where(ReportEvent.kind == "redeemed")).scalar()
    assert staff == "Ola"  # the API's cashier reaches the per-cashier report


def test_a_customer_with_a_recorded_sale_is_no_longer_new(api: Api) -> None:
    code = api.issue()["code"]
    assert api.quote(code, phone="+4791200020")["eligible"] is True
    assert api.post("/api/v1/sales", {"sale_id": "POS-20", "total": "30.00",
                                      "customer": {"phone": "+4791200020"}})[0] == 201
    answer = api.quote(code, phone="+4791200020")
    assert answer["eligible"] is False and answer["reason"] == "not_new_customer"
    assert api.quote(code, phone="+4791200021")["eligible"] is True  # a sale without them changes nothing


def test_the_till_hint_names_a_frequent_customer_without_a_card(api: Api, clock: FakeClock) -> None:
    regular = {"phone": "+4791200030", "first_name": "Per"}
    assert api.post("/api/v1/sales", {"sale_id": "H-1", "total": "20.00", "customer": regular})[0] == 201
    assert api.post("/api/v1/prompts/invite-hint", {"customer": regular})[1]["invite"] is False  # one day only
    clock.advance(days=1)
    assert api.post("/api/v1/sales", {"sale_id": "H-2", "total": "20.00", "customer": regular})[0] == 201
    status, hint = api.post("/api/v1/prompts/invite-hint", {"customer": regular})
    assert status == 200 and hint == {"invite": True, "visit_days": 2, "window_days": 30}
    clock.advance(days=30)  # the visits are older than the window
    assert api.post("/api/v1/prompts/invite-hint", {"customer": regular})[1]["invite"] is False
    assert api.post("/api/v1/prompts/invite-hint", {"customer": {"phone": "+4791200031"}})[1]["invite"] is False
    assert api.post("/api/v1/prompts/invite-hint", {})[0] == 422


def test_a_sale_naming_a_customer_id_this_store_does_not_know_is_a_404_and_records_nothing(api: Api) -> None:
    status, body = api.post("/api/v1/sales", {"sale_id": "R-404", "total": "12.00",
                                              "customer": {"customer_id": new_id()}})
    assert (status, body["code"]) == (404, "unknown_customer")
    assert api.post("/api/v1/sales", {"sale_id": "R-404", "total": "12.00"})[0] == 201
