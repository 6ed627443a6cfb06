"""Owner links (``?s=`` on receipts, cards and status mails) end when the customer's card is printed
again, and after ``[store] owner_link_days``; until then they show the owner's progress."""

from __future__ import annotations

from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import Flask

from pos_referral.bootstrap import Store
from pos_referral.db.models import PrintJob
from pos_referral.domain.identity import normalise_phone
from pos_referral.services import cards
from pos_referral.services.customers import CustomerInput
from pos_referral.services.unit_of_work import UnitOfWork
from tests.conftest import Api, FakeClock

PHONE = "+4791234567"


def _print_card(api: Api, store: Store) -> str:
    """The till prints Ann's card (her first, or again); the owner link on the paper, as a path."""
    status, body = api.post("/api/v1/referral-codes", {"customer": {"phone": PHONE, "first_name": "Ann"},
                                                       "print": "card"})
    assert status in (200, 201), body
    with UnitOfWork(store.db, write=False) as uow:
        job = uow.session.get(PrintJob, body["print_job_id"])
        assert job is not None
        url = urlsplit(str(job.context["landing_url"]))
    return f"{url.path}?{url.query}"


def _owner_sees_progress(app: Flask, link: str) -> bool:
    return 'id="progress"' in app.test_client().get(link).get_data(as_text=True)


def test_printing_the_card_again_ends_the_old_cards_link(app: Flask, api: Api, store: Store) -> None:
    first = _print_card(api, store)
    assert "?s=" in first and _owner_sees_progress(app, first)
    second = _print_card(api, store)  # the card was lost: the cashier prints it again
    assert second != first
    assert not _owner_sees_progress(app, first)  # whoever found the old card sees the public page
    assert _owner_sees_progress(app, second)


def test_the_till_pages_card_reprint_ends_older_links_too(app: Flask, api: Api, store: Store) -> None:
    first = _print_card(api, store)
    ann = CustomerInput(identity=normalise_phone(PHONE), first_name="Ann")
    card = cards.issue_with_card(store.ctx, ann, channel="card", till_id="T1", language="en", reprint_owner=True)
    with UnitOfWork(store.db, write=False) as uow:
        job = uow.session.get(PrintJob, card.print_job_id)
        assert job is not None
        new = urlsplit(str(job.context["landing_url"]))
    assert not _owner_sees_progress(app, first) and _owner_sees_progress(app, f"{new.path}?{new.query}")


def test_a_stranger_typing_the_number_at_the_kiosk_does_not_end_the_owners_link(
        app: Flask, api: Api, store: Store) -> None:
    link = _print_card(api, store)
    app.config["WTF_CSRF_ENABLED"] = False
    joined = app.test_client().post("/kiosk/join", data={"contact": PHONE, "first_name": "X", "consent": "yes"})
    assert joined.status_code < 300
    assert _owner_sees_progress(app, link)


def test_owner_links_expire_after_the_stated_days(app: Flask, api: Api, store: Store, clock: FakeClock) -> None:
    assert store.settings.config.store.owner_link_days == 180
    link = _print_card(api, store)
    clock.advance(days=179)
    assert _owner_sees_progress(app, link)
    clock.advance(days=2)
    assert not _owner_sees_progress(app, link)  # an old receipt in a bin no longer opens the owner's page
    assert _owner_sees_progress(app, _print_card(api, store))  # a fresh card's link works


def test_status_mail_and_receipt_links_carry_the_current_generation(app: Flask, api: Api, store: Store) -> None:
    code = api.issue(phone="+4790000001")["code"]
    _print_card(api, store)  # another customer's reprint changes nothing for this one
    assert api.redeem(code, "S1", phone="+4790000002")[0] == 201
    with UnitOfWork(store.db, write=False) as uow:
        footer = uow.session.scalar(sa.select(PrintJob).where(PrintJob.template == "referral_footer"))
        assert footer is not None
        url = urlsplit(str(footer.context["landing_url"]))
    assert _owner_sees_progress(app, f"{url.path}?{url.query}")


def test_a_forged_or_garbled_signature_shows_the_public_page(app: Flask, api: Api, store: Store) -> None:
    link = _print_card(api, store)
    path, _, signature = link.partition("?s=")
    for wrong in ("", "aaaaaaaaaaaaaaaa", signature[:-1], signature[:-2] + "zz", "!" * 30, signature * 3):
        assert not _owner_sees_progress(app, f"{path}?s={wrong}"), wrong


def test_a_reprinted_card_job_carries_a_link_that_still_works(app: Flask, api: Api, store: Store,
                                                                clock: FakeClock) -> None:
    status, body = api.post("/api/v1/referral-codes", {"customer": {"phone": PHONE}, "print": "card"})
    assert status == 201
    _print_card(api, store)  # a new card since: the first card's link is revoked
    clock.advance(days=200)  # and it would have expired by now anyway
    status, again = api.post(f"/api/v1/print-jobs/{body['print_job_id']}/reprint")
    assert status == 201, again
    with UnitOfWork(store.db, write=False) as uow:
        job = uow.session.get(PrintJob, again["id"])
        assert job is not None and job.context["reprint"] is True
        url = urlsplit(str(job.context["landing_url"]))
    assert _owner_sees_progress(app, f"{url.path}?{url.query}")
