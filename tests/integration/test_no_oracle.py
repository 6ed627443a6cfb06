"""Public pages are no oracle: the kiosk answers a known contact as it answers a new one, registering
someone's number does not cost them the new-customer offer, and an invitation's note carries no links."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from pos_referral.bootstrap import Store
from pos_referral.services import messages
from pos_referral.services.mail.invite import clean_note, default_note
from tests.conftest import Api

BOB = "+4790000002"


def _join(client: FlaskClient, contact: str, first_name: str = "Eva") -> tuple[int, str]:
    form = client.get("/kiosk/join").get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert match
    response = client.post("/kiosk/join", data={"contact": contact, "first_name": first_name, "consent": "yes",
                                                "csrf_token": match.group(1)})
    return response.status_code, response.get_data(as_text=True)


def _without_token(html: str) -> str:
    return re.sub(r'name="csrf_token" value="[^"]+"', "", html)


def test_the_kiosk_answers_a_known_contact_exactly_as_a_new_one(app: Flask, api: Api) -> None:
    api.issue(phone="+4791234567", first_name="Ann")  # Ann is a customer already
    known = _join(app.test_client(), "+47 912 34 567", first_name="Eva")
    new = _join(app.test_client(), "+4791234568", first_name="Eva")
    assert known[0] == new[0] == 200
    assert _without_token(known[1]) == _without_token(new[1])
    assert "already" not in known[1].lower()


def test_a_number_registered_at_the_kiosk_still_gets_the_new_customer_offer(
        app: Flask, api: Api, store: Store) -> None:
    ann = api.issue(phone="+4790000001")
    assert _join(app.test_client(), BOB, first_name="Mallory")[0] == 200  # someone types Bob's number
    answer = api.quote(ann["code"], phone=BOB)
    assert answer["eligible"] is True and answer["discount"] == "5.00"
    status, body = api.redeem(ann["code"], "S1", phone=BOB)
    assert status == 201, body
    assert api.quote(api.issue(phone="+4790000003")["code"], phone=BOB)["reason"] in (
        "not_new_customer", "already_referred")  # after buying, Bob is no longer new


def test_registering_is_not_buying_but_a_code_on_a_receipt_is(api: Api) -> None:
    ann = api.issue(phone="+4790000001")
    api.issue(phone=BOB, channel="api")  # a POS registered Bob, no sale
    assert api.quote(ann["code"], phone=BOB)["eligible"] is True
    api.issue(phone="+4790000003", channel="receipt")  # Cleo got her code on a receipt: she bought here
    assert api.quote(ann["code"], phone="+4790000003")["reason"] == "not_new_customer"


@pytest.mark.parametrize("note", [
    "Come see evil.com today", "Short link: bit.ly/x", "www.x.co", "Go to EVIL.COM", "visit evil.shop/deal",
    "write ann@evil.example", "ｅｖｉｌ．ｃｏｍ", "evil。com", "http://evil.example/x", "HTTPS://x.y",
])
def test_the_invitation_note_drops_bare_domains_and_links(note: str) -> None:
    cleaned = clean_note(f"Hello! {note} See you.")
    assert cleaned.startswith("Hello!") and cleaned.endswith("See you.")
    assert "evil" not in cleaned.lower() and "bit.ly" not in cleaned and "x.co" not in cleaned
    assert "x.y" not in cleaned.lower()


@pytest.mark.parametrize("lang", messages.LANGUAGES)
def test_the_shops_own_invitation_note_survives_the_link_filter(store: Store, lang: str) -> None:
    note = default_note(store.ctx, store.settings.default_program, lang)
    words = note.split()
    assert clean_note(note).split() == words[: len(clean_note(note).split())] and len(words) > 3
    assert len(" ".join(clean_note(note).split())) == min(len(" ".join(words)), 500)
    assert clean_note("Price 3.50, e.g. U.S.A. Ok...then") == "Price 3.50, e.g. U.S.A. Ok...then"
