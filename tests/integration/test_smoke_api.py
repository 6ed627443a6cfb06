"""The main path through the API: issue, quote, redeem once, refund."""

from __future__ import annotations

from tests.conftest import Api


def test_friend_gets_discount_once_and_refund_voids_referrer_reward(api: Api) -> None:
    ann = api.issue()
    status, quote = api.post("/api/v1/checkouts/quote", {"code": ann["display_code"].lower(), "basket_total": "50.00",
                                                          "customer": {"email": "bob@example.com"}})
    assert status == 200 and quote["eligible"] and quote["discount"] == "5.00"
    status, first = api.redeem(ann["code"], "S1", email="bob@example.com", first_name="Bob")
    assert status == 201 and first["discount"] == "5.00" and first["referrer_reward"]["status"] == "pending"
    status, again = api.redeem(ann["code"], "S1", email="bob@example.com", first_name="Bob")
    assert status == 201 and again == first
    status, refused = api.redeem(ann["code"], "S2", email="bob@example.com")
    assert status == 409 and refused["code"] == "already_referred"
    status, refund = api.post("/api/v1/sales/S1/refund", {})
    assert status == 200 and refund["referrer_reward"]["status"] == "voided"
