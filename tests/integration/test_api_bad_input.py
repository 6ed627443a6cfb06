"""Bad input gets a clear 4xx problem+json naming the field, never a 500 or a Python error text."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask

from pos_referral.bootstrap import Store
from pos_referral.domain.money import MoneyError, parse_money
from tests.conftest import Api, EditedShop

QUOTE = "/api/v1/checkouts/quote"
NOT_PLAIN_MONEY = ["1e3", "1E3", "1.234", "NaN", "Infinity", "-Infinity", "1_000", "１２３", "٣", "+5", " 5", "5 ",
                   "5.", ".5", "0x10", "1,50", "", "-1.00", "123456789012"]
POST_ROUTES = ["/api/v1/referral-codes", QUOTE, "/api/v1/redemptions", "/api/v1/vouchers/0000-0000-0000-00/redeem",
               "/api/v1/sales/S1/refund", "/api/v1/prompts/card-offer"]


def _post_raw(api: Api, path: str, data: bytes) -> tuple[int, dict[str, object], str]:
    r = api.client.post(path, data=data, headers={"Authorization": f"Bearer {api.token}", "Idempotency-Key": "k",
                                                  "Content-Type": "application/json"})
    text = r.get_data(as_text=True)
    assert r.mimetype == "application/problem+json", (path, r.status_code, text)
    return r.status_code, r.get_json(), text


@pytest.mark.parametrize("text", NOT_PLAIN_MONEY)
def test_money_has_one_plain_form(text: str) -> None:
    with pytest.raises(MoneyError, match="basket_total"):
        parse_money(text, field="basket_total")
    assert parse_money("1234.50") == 123450 and parse_money("0.05") == 5 and parse_money(12) == 1200


@pytest.mark.parametrize("text", NOT_PLAIN_MONEY)
def test_a_basket_total_not_in_the_plain_form_is_422_naming_the_field_everywhere(api: Api, text: str) -> None:
    code = api.issue()["code"]
    for path, name in ((QUOTE, "basket_total"), ("/api/v1/redemptions", "basket_total"),
                       ("/api/v1/sales/S1/refund", "amount")):
        status, body = api.post(path, {"code": code, "sale_id": "S1", name: text}, **{"Idempotency-Key": "k"})
        assert status == 422, (path, body)
        assert body["code"] == "invalid_request" and body["field"] == name and name in body["detail"]


def test_a_basket_above_the_shops_maximum_is_422_and_the_maximum_itself_is_fine(api: Api) -> None:
    status, body = api.post(QUOTE, {"code": api.issue()["code"], "basket_total": "1000000.01"})
    assert status == 422 and body["field"] == "basket_total" and "max_amount_accepted" in body["detail"]
    status, body = api.post(QUOTE, {"code": api.issue()["code"], "basket_total": "1000000.00"})
    assert status == 200, body


@pytest.mark.parametrize("path", POST_ROUTES)
def test_json_nested_thousands_deep_is_a_readable_400(api: Api, path: str) -> None:
    for deep in (b'{"a":' * 5000 + b"1" + b"}" * 5000, b"[" * 30000 + b"]" * 30000,
                 b'{"code": ' + b"[" * 100 + b"]" * 100 + b"}"):
        status, body, text = _post_raw(api, path, deep)
        assert status == 400 and "nested too deeply" in str(body["detail"]), text


@pytest.mark.parametrize("path", POST_ROUTES)
def test_invalid_unicode_is_a_readable_400_naming_the_field(api: Api, path: str) -> None:
    status, body, _ = _post_raw(api, path, b'{"code": "0000", "customer": {"first_name": "\\ud800"}}')
    assert status == 400 and body["field"] == "customer.first_name" and "Unicode" in str(body["detail"])
    status, body, _ = _post_raw(api, path, b'{"sale_id": "S\\u0000"}')
    assert status == 400 and body["field"] == "sale_id"
    status, body, text = _post_raw(api, path, b'{"code": "\xff\xfe"}')
    assert status == 400 and "UTF-8" in str(body["detail"]) and "codec" not in text
    status, body, _ = _post_raw(api, path, b'{"basket_total": NaN}')
    assert status == 400 and "NaN" in str(body["detail"])


@pytest.mark.parametrize("path", POST_ROUTES)
def test_a_body_that_is_not_an_object_is_400(api: Api, path: str) -> None:
    for raw in (b"[]", b'"x"', b"1", b"null", b"{", b"1" * 5000):
        status, body, _ = _post_raw(api, path, raw)
        assert status == 400 and body["detail"], raw


def test_a_surrogate_in_a_new_customers_name_is_not_an_unknown_customer_with_python_text(api: Api) -> None:
    status, body, text = _post_raw(api, "/api/v1/referral-codes",
                                   b'{"customer": {"phone": "+4799999999", "first_name": "\\ud800"}}')
    assert status == 400 and body["code"] == "invalid_request" and "codec" not in text
    status, body = api.post("/api/v1/referral-codes", {"customer": {"customer_id": "C0FFEE"}})
    assert status == 404 and body["code"] == "unknown_customer"  # the one typed error that means it


def test_the_practice_quote_of_the_till_page_reads_json_the_same_way(app: Flask, store: Store) -> None:
    r = app.test_client().post("/till/practice/quote", data=b"[" * 5000, content_type="application/json")
    assert r.status_code in (400, 401, 403) and "Traceback" not in r.get_data(as_text=True)


def test_a_shop_in_rupiah_takes_an_ordinary_basket_of_millions(edited_shop: Callable[..., EditedShop]) -> None:
    """The maximum follows the currency when the shop has not set one: Rp 1,500,000 is a weekly shop."""
    api = edited_shop(overrides={"store": {"currency": "IDR"}}).api
    for total, status in (("1500000.00", 200), ("10000000000.00", 200), ("10000000000.01", 422)):
        got, body = api.post(QUOTE, {"code": api.issue()["code"], "basket_total": total})
        assert got == status, (total, body)
