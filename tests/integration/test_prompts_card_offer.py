"""The after-sale prompt: offered once per sale without a referral, counted for the manager funnel."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask

from pos_referral.bootstrap import Store
from pos_referral.services import staff
from pos_referral.services.promo.prompts import offer_stats
from pos_referral.services.reports.dashboard import build_report, to_json
from pos_referral.services.reports.date_range import DateRange
from pos_referral.services.unit_of_work import UnitOfWork
from pos_referral.web.api.openapi import document
from tests.conftest import Api, FakeClock


def test_till_offers_a_card_once_after_a_sale_without_referral(api: Api) -> None:
    status, body = api.get("/api/v1/prompts/card-offer/S100")
    assert status == 200 and body["offer"] is True
    status, body = api.post("/api/v1/prompts/card-offer", {"sale_id": "S100", "accepted": True})
    assert status == 201 and body["accepted"] is True
    status, body = api.post("/api/v1/prompts/card-offer", {"sale_id": "S100", "accepted": False})
    assert status == 200 and body["accepted"] is True and body["recorded"] is False  # the first answer stands
    status, body = api.get("/api/v1/prompts/card-offer/S100")
    assert body == {"sale_id": "S100", "offer": False, "reason": "already_offered"}


def test_no_prompt_after_a_referral_sale(api: Api) -> None:
    issued = api.issue()
    assert api.redeem(issued["code"], "S1", "50.00", phone="+4799999999")[0] == 201
    status, body = api.get("/api/v1/prompts/card-offer/S1")
    assert status == 200 and body["offer"] is False and body["reason"] == "referral_sale"


def test_offer_and_acceptance_rates_for_the_funnel(api: Api, store: Store, clock: FakeClock) -> None:
    start = clock.now
    for sale, accepted in (("A", True), ("B", False), ("C", True), ("D", False)):
        assert api.post("/api/v1/prompts/card-offer", {"sale_id": sale, "accepted": accepted})[0] == 201
    assert api.post("/api/v1/prompts/card-offer", {"sale_id": "E", "accepted": False, "offered": False})[0] == 201
    clock.advance(days=2)
    api.post("/api/v1/prompts/card-offer", {"sale_id": "later", "accepted": True})
    with UnitOfWork(store.db, write=False) as read:
        session = read.session
        stats = offer_stats(session, start, start + timedelta(days=1))
    assert stats == {"prompts": 5, "offered": 4, "accepted": 2, "declined": 2, "skipped": 1, "offer_rate": 0.8,
                     "acceptance_rate": 0.5}
    with UnitOfWork(store.db, write=False) as read:
        session = read.session
        empty = offer_stats(session, start - timedelta(days=9), start - timedelta(days=8))
    assert empty["offer_rate"] is None and empty["acceptance_rate"] is None


def test_card_offer_input_is_checked(api: Api) -> None:
    assert api.post("/api/v1/prompts/card-offer", {"sale_id": "S1"})[0] == 422
    assert api.post("/api/v1/prompts/card-offer", {"sale_id": "S1", "accepted": "yes"})[0] == 422
    assert api.post("/api/v1/prompts/card-offer", {"sale_id": "has space", "accepted": True})[0] == 422
    assert api.post("/api/v1/prompts/card-offer", ["not", "an", "object"])[0] == 400
    unauthorised = api.client.post("/api/v1/prompts/card-offer", json={"sale_id": "S", "accepted": True})
    assert unauthorised.status_code == 401


def test_card_offer_paths_are_in_the_openapi_document() -> None:
    paths = document()["paths"]
    assert "get" in paths["/api/v1/prompts/card-offer/{sale_id}"]
    assert "post" in paths["/api/v1/prompts/card-offer"]


def test_manager_report_shows_the_offer_and_acceptance_rates(api: Api, store: Store, clock: FakeClock,
                                                             app: Flask) -> None:
    from tests.integration.test_manager_pages import PASSWORD, sign_in

    for sale, accepted, offered in (("A", True, True), ("B", False, True), ("C", False, False), ("D", True, True)):
        assert api.post("/api/v1/prompts/card-offer", {"sale_id": sale, "accepted": accepted, "offered": offered})[0] \
            == 201
    day = clock.now.astimezone(store.ctx.tz).date()
    report = build_report(store.ctx, DateRange(day, day, store.ctx.tz), parts=["card_offers"])
    assert to_json(report)["tables"]["card_offers"] == [
        {"step": "Prompts shown after a sale without a referral", "count": 4, "rate": None},
        {"step": "Cards offered (offer rate)", "count": 3, "rate": 0.75},
        {"step": "Cards accepted (acceptance rate)", "count": 2, "rate": round(2 / 3, 6)},
    ]
    staff.add_staff(store.ctx, "Mia", "manager", password=PASSWORD, pin="999999")
    client = app.test_client()
    sign_in(client)
    page = client.get(f"/manager/?from={day.isoformat()}&to={day.isoformat()}").get_data(as_text=True)
    section = page.split('id="t-card_offers"', 1)[1].split("</section>", 1)[0]
    assert "After-sale card offers" in section and "75.0 %" in section and "66.7 %" in section
