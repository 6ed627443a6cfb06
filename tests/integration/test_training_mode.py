"""Practice at the till: every outcome from demo codes, and nothing practised touches the database."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from pos_referral.bootstrap import Store
from pos_referral.db.models import PrintJob
from pos_referral.domain.errors import REASONS
from pos_referral.printing.escpos_renderer import RendererConfig
from pos_referral.printing.render import render
from pos_referral.services.promo import training
from pos_referral.services.unit_of_work import UnitOfWork
from tests.conftest import Api, staff_session


@pytest.fixture
def cashier(app: Flask, store: Store, token: str) -> FlaskClient:
    return staff_session(app.test_client(), store, "Kim", "cashier", till_id="T1")


def csrf_headers(client: FlaskClient) -> dict[str, str]:
    page = client.get("/till/practice").get_data(as_text=True)
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    return {"X-CSRFToken": token}


@contextmanager
def no_sql(store: Store) -> Iterator[list[str]]:
    """Record every SQL statement sent on either engine while the block runs."""
    seen: list[str] = []

    def note(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    engines = {store.db.write_engine, store.db.read_engine}
    for engine in engines:
        sa.event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        for engine in engines:
            sa.event.remove(engine, "before_cursor_execute", note)


def test_demo_codes_show_every_outcome(store: Store) -> None:
    program = store.settings.default_program
    outcomes = {training.practice_quote(program, d.code, 5000).reason or d.outcome for d in training.DEMOS}
    till_reasons = {"unknown_code", "mistyped_code", "expired", "self_referral", "already_referred",
                    "not_new_customer", "below_minimum", "cap_reached", "velocity_limit", "program_inactive",
                    "customer_required", "already_redeemed", "voucher_revoked", "store_not_allowed"}
    assert outcomes == till_reasons | {"discount", "voucher"}
    good = training.practice_quote(program, "demo good", 5000)  # scanned or typed, any case and spacing
    assert good.eligible and good.discount == "5.00" and "5.00" in good.say
    assert training.practice_quote(program, "DEMO-GOOD", 20000).discount == "15.00"  # the 150.00 price tier
    small = training.practice_quote(program, "DEMO-GOOD", 1000)
    assert small.reason == "below_minimum" and "20.00" in small.say
    voucher = training.practice_quote(program, "DEMO-VOUCHER", 5000)
    assert voucher.eligible and voucher.kind == "voucher" and voucher.discount == "10.00"
    expired = training.practice_quote(program, "DEMO-EXPIRED", 5000)
    assert not expired.eligible and expired.message == REASONS["expired"].message and expired.say
    assert training.practice_quote(program, "0K3M7QW2XC9P4T", 5000).reason == "not_a_demo_code"


def test_practising_records_prints_counts_and_syncs_nothing(cashier: FlaskClient, store: Store) -> None:
    headers = csrf_headers(cashier)
    with no_sql(store) as statements:
        for demo in training.DEMOS:
            r = cashier.post("/till/practice/quote", json={"code": demo.code, "basket_total": "50.00"},
                             headers=headers)
            assert r.status_code == 200 and r.get_json()["practice"] is True
        page = cashier.post("/till/practice", data={"code": "DEMO-SELF-REFERRAL", "basket": "50.00",
                                                     "csrf_token": headers["X-CSRFToken"]})
        assert cashier.get("/till/practice/codes").status_code == 200
    # not one query but the session check (web/auth.py): nothing recorded, queued, reported or put in the outbox
    assert [s for s in statements if not s.startswith("SELECT staff.session_version")] == []
    html = page.get_data(as_text=True)
    assert "PRACTICE MODE" in html and "This is your own code" in html


def test_demo_codes_give_nothing_on_the_real_till(api: Api) -> None:
    for demo in training.DEMOS[:3]:
        status, body = api.post("/api/v1/checkouts/quote", {"code": demo.code, "basket_total": "50.00"})
        assert (status == 200 and body["eligible"] is False) or status in (404, 422), body


def test_practice_needs_a_signed_in_till(app: Flask) -> None:
    client = app.test_client()
    assert client.get("/till/practice").status_code == 302
    assert client.post("/till/practice/quote", json={"code": "DEMO-GOOD"}).status_code in (400, 401)


def test_staff_guide_prints_from_the_till(cashier: FlaskClient, store: Store) -> None:
    page = cashier.post("/till/practice/staff-guide", data={"csrf_token": csrf_headers(cashier)["X-CSRFToken"]})
    assert page.status_code == 200 and "staff guide is in the print queue" in page.get_data(as_text=True)
    with UnitOfWork(store.db, write=False) as read:
        session = read.session
        job = session.scalars(sa.select(PrintJob)).one()
    assert job.template == "staff_guide" and job.context["demos"][0]["code"] == "DEMO-GOOD"


def test_practice_answers_speak_the_tills_language(cashier: FlaskClient) -> None:
    headers = csrf_headers(cashier)
    r = cashier.post("/till/practice/quote?lang=pl", json={"code": "DEMO-BELOW-MINIMUM", "basket_total": "10.00"},
                     headers=headers)
    answer = r.get_json()
    assert answer["reason"] == "below_minimum" and answer["practice"] is True
    assert answer["say"].startswith("Oferta obowiązuje od 20,00") and "€" in answer["say"]
    good = cashier.post("/till/practice/quote?lang=nb", json={"code": "DEMO-GOOD", "basket_total": "50.00"},
                        headers=headers).get_json()
    assert good["eligible"] and good["say"].startswith("Vennens kode gir deg") and "5,00" in good["say"]
    codes = cashier.get("/till/practice/codes?lang=it").get_json()
    assert codes[0] == {"code": "DEMO-GOOD", "outcome": "discount", "what": "il codice di un amico che dà lo sconto"}


def test_staff_guide_button_on_the_till_gets_json(cashier: FlaskClient, store: Store) -> None:
    headers = {**csrf_headers(cashier), "Accept": "application/json"}
    r = cashier.post("/till/practice/staff-guide?lang=it", json={}, headers=headers)
    assert r.status_code == 201 and isinstance(r.get_json()["print_job_id"], int)
    with UnitOfWork(store.db, write=False) as read:
        session = read.session
        job = session.get(PrintJob, r.get_json()["print_job_id"])
    assert job is not None and job.context["lang"] == "it"
    assert job.context["demos"][0] == {"code": "DEMO-GOOD", "what": "il codice di un amico che dà lo sconto"}
    signed_out = cashier.application.test_client().post("/till/practice/staff-guide", json={},
                                                         headers={"Accept": "application/json"})
    assert signed_out.status_code in (400, 401)  # no session (and no form token): nothing printed


def test_the_practice_page_and_the_printed_staff_guide_show_money_with_its_currency(
        cashier: FlaskClient, store: Store) -> None:
    token = csrf_headers(cashier)["X-CSRFToken"]
    page = cashier.post("/till/practice?lang=it", data={"code": "DEMO-GOOD", "basket": "50.00", "csrf_token": token})
    html = page.get_data(as_text=True)
    assert "<div>Sconto: 5,00\xa0€</div>" in html
    cashier.post("/till/practice/staff-guide?lang=en", data={"csrf_token": token})
    with UnitOfWork(store.db, write=False) as read:
        job = read.session.scalars(sa.select(PrintJob)).one()
    text = render(job.template, job.context, RendererConfig(), "text").decode()
    assert "(from €20.00)" in text  # the guide's minimum basket, as the cashier reads money
