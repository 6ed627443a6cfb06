"""Till routes through the Flask test client: sign-in, session API use, override, cards, events.

Slowed-down wrong PINs: test_sign_in_throttle.py; sessions ending: test_staff_sessions.py."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from pos_referral.bootstrap import Store
from pos_referral.db.models import AuditEntry, PrintJob
from pos_referral.scanner.events import Scan
from pos_referral.services import audit
from pos_referral.services.staff import add_staff
from pos_referral.services.unit_of_work import UnitOfWork
from tests.conftest import Api


@pytest.fixture
def staffed(store: Store, token: str) -> Store:
    add_staff(store.ctx, "Ann", "cashier", pin="1234")
    add_staff(store.ctx, "Mia", "manager", pin="999999")
    return store


def _form_token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, html
    return match.group(1)


def sign_in(client: FlaskClient, pin: str = "1234", name: str = "Ann") -> Any:
    token = _form_token(client.get("/till/T1").get_data(as_text=True))
    return client.post("/till/T1/sign-in", data={"name": name, "pin": pin, "csrf_token": token})


def till_token(client: FlaskClient) -> str:
    html = client.get("/till/T1").get_data(as_text=True)
    match = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert match, html
    return match.group(1)


def test_cashier_signs_in_with_pin_and_the_page_has_no_api_token(app: Flask, staffed: Store, token: str) -> None:
    client = app.test_client()
    assert sign_in(client).status_code == 302
    html = client.get("/till/T1").get_data(as_text=True)
    assert 'id="code"' in html and "Ann" in html
    assert token not in html and "till_" not in html.replace("till.js", "").replace("till.css", "")
    assert "http://" not in html and "https://" not in html  # no external assets: works offline


def test_unknown_till_is_a_friendly_404(app: Flask, staffed: Store) -> None:
    response = app.test_client().get("/till/NOPE")
    assert response.status_code == 404 and "no till called NOPE" in response.get_data(as_text=True)


def test_choose_page_lists_tills_and_remembers_the_till(app: Flask, staffed: Store) -> None:
    client = app.test_client()
    assert 'href="/till/T1"' in client.get("/till/").get_data(as_text=True)
    sign_in(client)
    assert client.get("/till/").headers["Location"].endswith("/till/T1")


def test_sign_in_form_needs_its_csrf_token(app: Flask, staffed: Store) -> None:
    response = app.test_client().post("/till/T1/sign-in", data={"name": "Ann", "pin": "1234"})
    assert response.status_code == 400


def test_session_quote_needs_the_csrf_header(app: Flask, staffed: Store, api: Api) -> None:
    code = api.issue()["code"]
    client = app.test_client()
    sign_in(client)
    body = {"code": code, "basket_total": "50.00"}
    assert client.post("/api/v1/checkouts/quote", json=body).status_code == 403
    ok = client.post("/api/v1/checkouts/quote", json=body, headers={"X-CSRFToken": till_token(client)})
    assert ok.status_code == 200 and ok.get_json()["discount"] == "5.00"


def _override(client: FlaskClient, code: str, pin: str = "999999", key: str = "ov-1", **extra: Any) -> Any:
    body = {"code": code, "sale_id": "S-9", "basket_total": "10.00", "manager": "Mia", "pin": pin,
            "note": "Loyal customer", **extra}
    return client.post("/till/override", json=body, headers={"X-CSRFToken": till_token(client), "Idempotency-Key": key})


def test_manager_override_is_audited_once_and_replays(app: Flask, staffed: Store, api: Api) -> None:
    code = api.issue()["code"]
    client = app.test_client()
    sign_in(client)
    assert _override(client, code, pin="1234").status_code == 403  # a cashier's PIN is not a manager's
    first = _override(client, code)
    assert first.status_code == 201, first.get_json()
    assert first.get_json()["refused"] == "below_minimum" and first.get_json()["discount"] == "1.00"
    again = _override(client, code)
    assert again.status_code == 200 and again.get_json() == first.get_json()
    assert _override(client, code, note="Another reason").status_code == 422  # same key, other body
    with UnitOfWork(staffed.db, write=False) as uow:
        entries = list(uow.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "override")))
        assert len(entries) == 1 and '"cashier": "Ann"' in entries[0].detail
    assert audit.verify(staffed.ctx).ok


def test_override_refuses_eligible_and_unknown_codes(app: Flask, staffed: Store, api: Api) -> None:
    code = api.issue()["code"]
    client = app.test_client()
    sign_in(client)
    assert _override(client, code, key="k2", basket_total="50.00").status_code == 409
    bad = _override(client, "0000-0000-0000-00", key="k3")
    assert bad.status_code == 422 and bad.get_json()["code"] in ("mistyped_code", "unknown_code")
    assert _override(client, code, key="k4", note="").status_code == 422


def test_issue_prints_a_referral_card_with_a_clean_name(app: Flask, staffed: Store) -> None:
    client = app.test_client()
    sign_in(client)
    body = {"customer": {"phone": "+4740000001", "first_name": "No\x1bpra"}}
    response = client.post("/till/issue", json=body, headers={"X-CSRFToken": till_token(client)})
    assert response.status_code == 201
    job_id = response.get_json()["print_job_id"]
    with UnitOfWork(staffed.db, write=False) as uow:
        job = uow.session.get(PrintJob, job_id)
        assert job is not None and job.template == "referral_card"
        assert job.context["first_name"] == "Nopra" and "?s=" in str(job.context["landing_url"])


def test_pages_refuse_api_calls_after_sign_out(app: Flask, staffed: Store) -> None:
    client = app.test_client()
    sign_in(client)
    csrf = till_token(client)
    client.post("/till/sign-out", data={"csrf_token": csrf})
    assert client.post("/till/issue", json={}, headers={"X-CSRFToken": csrf}).status_code in (400, 401)
    assert 'id="pin"' in client.get("/till/T1").get_data(as_text=True)


def test_event_stream_delivers_a_serial_scan(app: Flask, staffed: Store) -> None:
    client = app.test_client()
    sign_in(client)
    response = client.get("/till/events", buffered=False)
    chunks: Iterator[bytes] = iter(response.response)  # type: ignore[arg-type]
    assert next(chunks).startswith(b"retry:")
    assert b"hello" in next(chunks)
    staffed.scans.publish(Scan("0ABC-DEF", till_id="T2"))  # another till's scanner: not for us
    staffed.scans.publish(Scan("0XYZ"))
    assert b'"code": "0XYZ"' in next(chunks)
    response.close()


def test_event_stream_needs_a_signed_in_till(app: Flask, staffed: Store) -> None:
    assert app.test_client().get("/till/events").status_code == 401
