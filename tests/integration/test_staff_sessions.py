"""Staff sessions end when they should: sign-out, deactivation, a new PIN or password, idle manager pages.

A session is Flask's signed cookie; a copy of it (another tab, or a cookie lifted off the till) must
stop working on its next request once the server has ended the session.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from pos_referral import create_app
from pos_referral.bootstrap import Store
from pos_referral.services import staff, staff_admin, staff_sessions
from pos_referral.web.till import pages
from tests.conftest import FakeClock
from tests.postgres_support import fresh_database, start_central

PASSWORD = "correct horse battery"


@pytest.fixture
def shop(store: Store, token: str) -> Store:
    staff.add_staff(store.ctx, "Mia", "manager", password=PASSWORD, pin="246810")
    staff.add_staff(store.ctx, "Ann", "cashier", pin="1234")
    return store


def _form_token(client: FlaskClient, path: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True))
    assert found
    return found.group(1)


def _page_token(client: FlaskClient) -> str:
    found = re.search(r'name="csrf-token" content="([^"]+)"', client.get("/till/T1").get_data(as_text=True))
    assert found
    return found.group(1)


def manager_signs_in(client: FlaskClient, password: str = PASSWORD) -> None:
    data = {"name": "Mia", "password": password, "csrf_token": _form_token(client, "/manager/login")}
    assert client.post("/manager/login", data=data).status_code == 302


def cashier_signs_in(client: FlaskClient, name: str = "Ann", pin: str = "1234") -> None:
    data = {"name": name, "pin": pin, "csrf_token": _form_token(client, "/till/T1")}
    assert client.post("/till/T1/sign-in", data=data).status_code == 302


def copy_of_cookie(app: Flask, client: FlaskClient) -> FlaskClient:
    """Another browser holding a copy of this browser's session cookie."""
    cookie = client.get_cookie("session")
    assert cookie is not None
    thief = app.test_client()
    thief.set_cookie("session", cookie.value)
    return thief


def issue_card(client: FlaskClient, csrf: str) -> int:
    body = {"customer": {"phone": "+4740000001", "first_name": "Eva"}, "print": False}
    return client.post("/till/issue", json=body, headers={"X-CSRFToken": csrf}).status_code


def test_a_copied_manager_cookie_stops_working_once_the_manager_signs_out(app: Flask, shop: Store) -> None:
    manager = app.test_client()
    manager_signs_in(manager)
    thief = copy_of_cookie(app, manager)
    assert thief.get("/manager/").status_code == 200  # a copy works while the session lives ...
    manager.post("/manager/logout", data={"csrf_token": _form_token(manager, "/manager/")})
    replay = thief.get("/manager/export/funnel.csv")
    assert replay.status_code == 302 and replay.headers["Location"].startswith("/manager/login")  # ... not after


def test_a_copied_till_cookie_stops_working_once_the_cashier_signs_out(app: Flask, shop: Store) -> None:
    cashier = app.test_client()
    cashier_signs_in(cashier)
    csrf = _page_token(cashier)
    thief = copy_of_cookie(app, cashier)
    cashier.post("/till/sign-out", data={"csrf_token": csrf})
    assert issue_card(thief, csrf) == 401
    assert 'id="pin"' in thief.get("/till/T1").get_data(as_text=True)  # the sign-in, not the till


def test_deactivating_a_cashier_ends_her_till_session_on_the_next_request(app: Flask, shop: Store) -> None:
    cashier = app.test_client()
    cashier_signs_in(cashier)
    csrf = _page_token(cashier)
    ann = next(s.id for s in staff_admin.list_staff(shop.ctx) if s.name == "Ann")
    staff_admin.deactivate(shop.ctx, ann, actor="Mia")
    assert issue_card(cashier, csrf) == 401
    assert 'id="code"' not in cashier.get("/till/T1").get_data(as_text=True)


def test_the_scanner_event_stream_ends_with_the_session(app: Flask, shop: Store,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pages, "SSE_KEEPALIVE", 0.05)
    cashier = app.test_client()
    cashier_signs_in(cashier)
    response = cashier.get("/till/events", buffered=False)
    chunks: Iterator[bytes] = iter(response.response)  # type: ignore[arg-type]
    assert b"hello" in next(chunks) + next(chunks)
    assert next(chunks).startswith(b": keep-alive")
    ann = next(s.id for s in staff_admin.list_staff(shop.ctx) if s.name == "Ann")
    staff_sessions.end_sessions(shop.ctx, ann, actor="Ann", why="signed out at T2")
    assert list(chunks) == []  # the stream has ended
    response.close()


def test_a_new_pin_ends_the_cashiers_open_sessions_and_the_new_pin_works(app: Flask, shop: Store) -> None:
    at_till, other_tab = app.test_client(), app.test_client()
    cashier_signs_in(at_till)
    cashier_signs_in(other_tab)
    csrf = _page_token(at_till)
    ann = next(s.id for s in staff_admin.list_staff(shop.ctx) if s.name == "Ann")
    staff_admin.reset_pin(shop.ctx, ann, "8642", actor="Mia")
    assert issue_card(at_till, csrf) == 401
    assert 'id="pin"' in other_tab.get("/till/T1").get_data(as_text=True)
    cashier_signs_in(at_till, pin="8642")
    assert issue_card(at_till, _page_token(at_till)) == 201


def test_a_new_password_or_deactivation_ends_a_managers_dashboard_session(app: Flask, shop: Store) -> None:
    manager = app.test_client()
    manager_signs_in(manager)
    staff.add_staff(shop.ctx, "Mia", "manager", password="a brand new password")
    assert manager.get("/manager/").status_code == 302
    manager_signs_in(manager, "a brand new password")
    assert manager.get("/manager/").status_code == 200
    mia = next(s.id for s in staff_admin.list_staff(shop.ctx) if s.name == "Mia")
    staff_admin.deactivate(shop.ctx, mia, actor="Ola")
    assert manager.get("/manager/staff/").status_code == 302


def test_manager_pages_sign_out_after_idle_minutes_but_not_while_used(app: Flask, shop: Store,
                                                                     clock: FakeClock) -> None:
    manager = app.test_client()
    manager_signs_in(manager)
    for _ in range(4):  # two hours of work, a page every 20 minutes
        clock.advance(minutes=20)
        assert manager.get("/manager/staff/").status_code == 200
    clock.advance(minutes=31)  # [manager] idle_minutes = 30
    away = manager.get("/manager/staff/")
    assert away.status_code == 302 and away.headers["Location"].startswith("/manager/login")
    assert "signed out after a while without use" in manager.get("/manager/login").get_data(as_text=True)
    clock.advance(minutes=1)
    assert manager.get("/manager/").status_code == 302  # the session is gone, not only hidden


def test_a_session_from_before_session_versions_is_signed_out(app: Flask, shop: Store) -> None:
    client = app.test_client()
    with client.session_transaction() as s:  # what a cookie signed before this upgrade holds
        s.update(till_id="T1", staff="Ann", staff_id=2, role="cashier")
    assert 'id="pin"' in client.get("/till/T1").get_data(as_text=True)


@pytest.mark.postgres
def test_centrals_dashboard_ends_a_copied_session_at_sign_out_and_when_idle(tmp_path: Path,
                                                                           clock: FakeClock) -> None:
    with fresh_database() as url:
        central = start_central(url, tmp_path, clock)
        try:
            staff.add_staff(central.ctx, "chief", "manager", password=PASSWORD)
            app = create_app(central=central, test_config={"TESTING": True})
            chief = app.test_client()
            data = {"name": "chief", "password": PASSWORD, "csrf_token": _form_token(chief, "/manager/login")}
            assert chief.post("/manager/login", data=data).status_code == 302
            thief = copy_of_cookie(app, chief)
            clock.advance(minutes=31)
            assert chief.get("/manager/").status_code == 302  # idle: signed out
            chief.post("/manager/login", data={**data, "csrf_token": _form_token(chief, "/manager/login")})
            assert chief.get("/manager/").status_code == 200
            chief.post("/manager/logout", data={"csrf_token": _form_token(chief, "/manager/")})
            assert thief.get("/manager/").status_code == 302
        finally:
            central.close()


def test_a_manager_who_sets_her_own_pin_stays_signed_in_here_but_not_at_the_till(app: Flask, shop: Store) -> None:
    office, till = app.test_client(), app.test_client()
    manager_signs_in(office)
    cashier_signs_in(till, "Mia", "246810")
    token = _form_token(office, "/manager/staff/")
    mia = next(s.id for s in staff_admin.list_staff(shop.ctx) if s.name == "Mia")
    short = office.post(f"/manager/staff/{mia}/pin", data={"pin": "1234", "csrf_token": token}, follow_redirects=True)
    assert "PIN not changed: a manager&#39;s PIN is 6 to 8 digits" in short.get_data(as_text=True)
    assert 'id="code"' in till.get("/till/T1").get_data(as_text=True)  # nothing changed, nobody signed out
    office.post(f"/manager/staff/{mia}/pin", data={"pin": "135791", "csrf_token": token})
    assert office.get("/manager/staff/").status_code == 200
    assert 'id="pin"' in till.get("/till/T1").get_data(as_text=True)
