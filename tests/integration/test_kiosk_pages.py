"""The join kiosk: consent, a code and a referral card, CSRF and a rate limit per address."""

from __future__ import annotations

import re

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from pos_referral.bootstrap import Store
from pos_referral.db.models import Code, PrintJob
from pos_referral.services.unit_of_work import UnitOfWork


def _join(client: FlaskClient, contact: str, consent: bool = True, first_name: str = "Eva") -> tuple[int, str]:
    form = client.get("/kiosk/join").get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert match
    data = {"contact": contact, "first_name": first_name, "csrf_token": match.group(1)}
    if consent:
        data["consent"] = "yes"
    response = client.post("/kiosk/join", data=data)
    return response.status_code, response.get_data(as_text=True)


def test_customer_joins_and_gets_a_card_printed(app: Flask, store: Store) -> None:
    status, html = _join(app.test_client(), "eva@example.com", first_name="Eva\x1bp\x00")
    assert status == 200 and "your card is printing now" in html and "Thank you, Evap!" in html
    with UnitOfWork(store.db, write=False) as uow:
        code = uow.session.scalar(sa.select(Code).where(Code.channel == "kiosk"))
        job = uow.session.scalar(sa.select(PrintJob).where(PrintJob.template == "referral_card"))
    assert code is not None and code.code not in html  # the card carries the code, not the screen
    assert job is not None and job.context["first_name"] == "Evap" and job.context["code"] == code.code


def test_consent_is_required(app: Flask) -> None:
    status, html = _join(app.test_client(), "+4791111111", consent=False)
    assert status == 422 and "tick the box" in html


def test_bad_contact_gets_a_clear_message(app: Flask) -> None:
    status, html = _join(app.test_client(), "not a phone")
    assert status == 422 and "phone number (with country code) or an email" in html


def test_form_without_csrf_token_is_refused(app: Flask) -> None:
    response = app.test_client().post("/kiosk/join", data={"contact": "a@b.no", "consent": "yes"})
    assert response.status_code == 400


def test_someone_elses_number_reveals_no_code(app: Flask, store: Store) -> None:
    client = app.test_client()
    assert _join(client, "+4792222222")[0] == 200
    status, html = _join(app.test_client(), "+47 922 22 222")  # the same number, typed another way
    assert status == 200 and 'id="kiosk-code"' not in html
    with UnitOfWork(store.db, write=False) as uow:
        assert uow.session.scalar(sa.select(sa.func.count()).select_from(PrintJob)) == 1


def test_joins_are_rate_limited_per_address(app: Flask) -> None:
    client = app.test_client()
    statuses = [_join(client, f"+47933{i:05d}")[0] for i in range(4)]
    assert statuses == [200, 200, 200, 429]


def test_kiosk_speaks_the_chosen_language(app: Flask) -> None:
    html = app.test_client().get("/kiosk/join?lang=id").get_data(as_text=True)
    assert "Ajak teman, dapatkan hadiah" in html and "Teman Anda dapat: 10% untuk" not in html
