"""What the reports count is written by the till's own calls: each answer arrives with its fact already on disk.

Read here with a connection of the test's own, straight after the answer: nothing is flushed, nobody
waits. Each call leaves exactly the row it should (kind, till, cashier, code, customer), a re-scan
within ten minutes is one quote, and a replayed redemption adds nothing.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from pos_referral.bootstrap import Store
from pos_referral.domain.codes import CodeKind, mint
from pos_referral.services.rewards import release_due_rewards
from pos_referral.services.staff import add_staff
from pos_referral.services.tills import add_till
from tests.conftest import Api, FakeClock
from tests.integration.test_till_pages import sign_in, till_token

COLUMNS = ("kind", "till_id", "staff", "code", "reason", "sale_id", "customer_id", "basket_minor")


def facts(store: Store) -> list[dict[str, Any]]:
    """Every report fact on disk, oldest first, read by a connection that is not the app's."""
    assert store.db.path is not None
    with sqlite3.connect(store.db.path) as other:
        rows = other.execute(f"SELECT {', '.join(COLUMNS)} FROM report_events ORDER BY id").fetchall()
    return [dict(zip(COLUMNS, row, strict=True)) for row in rows]


def fact(kind: str, code: str, **fields: Any) -> dict[str, Any]:
    """The row a till's call should leave (till T1, an API token: no cashier)."""
    return {"kind": kind, "till_id": "T1", "staff": "", "code": code, "reason": "", "sale_id": "", "customer_id": None,
            "basket_minor": 0, **fields}



def test_a_quote_is_counted_by_the_time_its_answer_arrives(api: Api, store: Store) -> None:
    ann = api.issue()
    assert facts(store) == []  # a code given with a till's token names no cashier: nothing to count
    assert api.quote(ann["code"], email="bob@example.com")["eligible"]
    assert facts(store) == [fact("quote", ann["code"], basket_minor=5000)]


def test_a_quote_of_a_mistyped_code_is_counted_with_its_reason(api: Api, store: Store) -> None:
    code = api.issue()["code"]
    typo = code[:5] + ("A" if code[5] != "A" else "B") + code[6:]
    assert api.quote(typo, basket="20.00")["reason"] == "mistyped_code"
    assert facts(store) == [fact("quote", typo, reason="mistyped_code", basket_minor=2000)]


def test_a_refused_redemption_is_counted_with_its_reason_and_sale(api: Api, store: Store) -> None:
    ann = api.issue(phone="+4791234567")
    status, body = api.redeem(ann["code"], "S1", basket="45.00", phone="+4791234567")  # her own code
    assert status == 409 and body["code"] == "self_referral"
    assert facts(store) == [fact("refused", ann["code"], reason="self_referral", sale_id="S1", basket_minor=4500)]


def test_a_referral_code_brought_to_the_voucher_till_is_counted_as_refused_like_any_refusal(api: Api,
                                                                                            store: Store) -> None:
    ann = api.issue()
    status, body = api.post(f"/api/v1/vouchers/{ann['code']}/redeem", {"sale_id": "S1", "basket_total": "30.00"},
                            **{"Idempotency-Key": "k1"})
    assert status == 422 and body["code"] == "wrong_kind"
    assert facts(store) == [fact("refused", ann["code"], reason="wrong_kind", sale_id="S1", basket_minor=3000)]


def test_a_voucher_sale_is_counted_once_for_the_customer_who_earned_it(api: Api, store: Store,
                                                                       clock: FakeClock) -> None:
    ann = api.issue()
    assert api.redeem(ann["code"], "S1", email="bob@example.com")[0] == 201
    clock.advance(days=15)
    assert release_due_rewards(store.ctx).released == 1
    voucher = api.get(f"/api/v1/customers/{ann['customer_id']}/rewards")[1]["rewards"][0]["voucher_code"]
    body = {"sale_id": "S2", "basket_total": "30.00"}
    status, used = api.post(f"/api/v1/vouchers/{voucher}/redeem", body, **{"Idempotency-Key": "v1"})
    assert status == 201, used
    sale = fact("voucher_sale", voucher, sale_id="S2", customer_id=ann["customer_id"], basket_minor=3000)
    assert facts(store) == [sale]
    r = api.client.post(f"/api/v1/vouchers/{voucher}/redeem", json=body,
                        headers={"Authorization": f"Bearer {api.token}", "Idempotency-Key": "v1"})
    assert r.status_code == 201 and r.headers["Idempotent-Replayed"] == "true"
    assert facts(store) == [sale]  # the retry of the same sale is not a second sale


@pytest.fixture
def cashier(app: Flask, store: Store, token: str) -> FlaskClient:
    """The till page of T1 with cashier Kim signed in (cookie session; writes carry the page's CSRF token)."""
    add_staff(store.ctx, "Kim", "cashier", pin="1234")
    client = app.test_client()
    assert sign_in(client, name="Kim").status_code == 302
    client.environ_base["HTTP_X_CSRFTOKEN"] = till_token(client)
    return client


def test_the_till_page_names_the_cashier_who_gave_a_code_and_who_served_the_sale(cashier: FlaskClient,
                                                                                 store: Store) -> None:
    r = cashier.post("/api/v1/referral-codes", json={"customer": {"phone": "+4791234567"}, "channel": "receipt"})
    assert r.status_code == 201, r.get_json()
    code = r.get_json()["code"]
    assert facts(store) == [fact("issued", code, staff="Kim")]
    again = cashier.post("/api/v1/referral-codes", json={"customer": {"phone": "+4791234567"}, "channel": "receipt"})
    assert again.status_code == 200 and len(facts(store)) == 1  # her code already existed: nothing new given

    sale = {"code": code, "sale_id": "S1", "basket_total": "50.00", "customer": {"email": "bob@example.com"}}
    r = cashier.post("/api/v1/redemptions", json=sale, headers={"Idempotency-Key": "k1"})
    assert r.status_code == 201, r.get_json()
    friend_code = r.get_json()["friend_code"]["code"]  # the code Bob was given on his receipt, by Kim
    served = fact("redeemed", friend_code, staff="Kim", sale_id="S1")
    assert facts(store)[1:] == [served]

    replay = cashier.post("/api/v1/redemptions", json=sale, headers={"Idempotency-Key": "k1"})
    assert replay.status_code == 201 and replay.headers["Idempotent-Replayed"] == "true"
    assert facts(store)[1:] == [served]  # a replayed redemption adds no second fact

    assert cashier.post("/api/v1/checkouts/quote", json={"code": code, "basket_total": "10.00"}).status_code == 200
    assert facts(store)[2:] == [fact("quote", code, staff="Kim", reason="below_minimum", basket_minor=1000)]


def _quotes(store: Store) -> list[tuple[str, str | None]]:
    return [(row["till_id"], row["customer_id"]) for row in facts(store) if row["kind"] == "quote"]


def test_a_rescan_within_ten_minutes_counts_once_and_again_after_eleven(app: Flask, api: Api, store: Store,
                                                                       clock: FakeClock) -> None:
    ann = api.issue()
    bob = api.issue(phone="+4790000002", first_name="Bob")["customer_id"]
    api.quote(ann["code"], phone="+4790000002")
    clock.advance(minutes=9)
    api.quote(ann["code"], phone="+47 900 00 002")  # the same friend, typed differently
    api.quote(ann["code"], customer_id=bob)  # the same friend, by id
    assert _quotes(store) == [("T1", bob)]
    api.quote(ann["code"], email="cy@example.com")  # another friend at the same till
    other_till = Api(app.test_client(), add_till(store.ctx, "T2"))
    other_till.quote(ann["code"], phone="+4790000002")  # the same friend at another till
    assert _quotes(store) == [("T1", bob), ("T1", None), ("T2", bob)]
    clock.advance(minutes=11)
    api.quote(ann["code"], phone="+4790000002")
    assert _quotes(store) == [("T1", bob), ("T1", None), ("T2", bob), ("T1", bob)]


def test_each_quote_is_counted_against_the_right_customer(app: Flask, api: Api, store: Store) -> None:
    kari = api.issue(phone="+4791234567", first_name="Kari")
    status, ola = api.post("/api/v1/referral-codes", {"customer": {"email": "Ola@Example.com"}})
    assert status == 201, ola
    for till, customer in (("by-phone", {"phone": "+47 912 34 567"}), ("by-email", {"email": "ola@EXAMPLE.com"}),
                           ("by-id", {"customer_id": ola["customer_id"]}), ("stranger", {"email": "new@example.com"}),
                           ("no-customer", {}), ("unknown-id", {"customer_id": "f" * 32})):
        Api(app.test_client(), add_till(store.ctx, till)).quote(kari["code"], **customer)
    assert dict(_quotes(store)) == {"by-phone": kari["customer_id"], "by-email": ola["customer_id"],
                                    "by-id": ola["customer_id"], "stranger": None, "no-customer": None,
                                    "unknown-id": None}


def test_a_known_customers_quote_names_them_whatever_code_they_show(api: Api, store: Store,
                                                                     clock: FakeClock) -> None:
    """The reports count the days a customer was seen at the till: a voucher, a typo or a code we never
    gave out is still a visit by the customer the till named."""
    ann = api.issue(phone="+4791234567")
    assert api.redeem(ann["code"], "S1", email="bob@example.com")[0] == 201
    clock.advance(days=15)
    assert release_due_rewards(store.ctx).released == 1
    voucher = api.get(f"/api/v1/customers/{ann['customer_id']}/rewards")[1]["rewards"][0]["voucher_code"]
    typo = ann["code"][:5] + ("A" if ann["code"][5] != "A" else "B") + ann["code"][6:]
    never_given = mint(CodeKind.REFERRAL, store.ctx.store_no, 4242, store.ctx.secrets.keyring.current())
    for code, reason in ((voucher, None), (typo, "mistyped_code"), (never_given, "unknown_code")):
        assert api.quote(code, basket="30.00", phone="+47 912 34 567")["reason"] == reason
    api.quote(voucher, basket="30.00")  # nobody named
    seen = [(row["kind"], row["code"], row["customer_id"]) for row in facts(store)]
    assert seen == [("voucher_quote", voucher, ann["customer_id"]), ("quote", typo, ann["customer_id"]),
                    ("quote", never_given, ann["customer_id"]), ("voucher_quote", voucher, None)]
