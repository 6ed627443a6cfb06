"""A database held by another process past the busy timeout: 503 database_busy with Retry-After, then
the same request again succeeds, recorded once. The till page says "try again" in its language."""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from pos_referral import create_app
from pos_referral.bootstrap import Store, build_store
from pos_referral.config import load_settings
from pos_referral.db.models import Redemption
from pos_referral.services.tills import add_till
from pos_referral.services.unit_of_work import DatabaseBusyError, UnitOfWork
from pos_referral.web.till.strings import js_strings
from tests.conftest import Api, FakeClock


@pytest.fixture
def busy_store(tmp_path: Path, config_path: Path, clock: FakeClock) -> Iterator[Store]:
    """A store that gives up waiting for the database after a fifth of a second."""
    text = config_path.read_text()
    assert "busy_timeout_seconds = 30" in text
    config_path.write_text(text.replace("busy_timeout_seconds = 30", "busy_timeout_seconds = 0.2"))
    built = build_store(load_settings(config_path, data_dir=tmp_path / "data", environ={}), clock=clock)
    yield built
    built.close()


@pytest.fixture
def busy_api(busy_store: Store) -> Api:
    app = create_app(store=busy_store, test_config={"TESTING": True})
    return Api(app.test_client(), add_till(busy_store.ctx, "T1"))


def _hold_database(store: Store) -> sqlite3.Connection:
    """Another process's writer (a backup, the CLI): BEGIN IMMEDIATE on the file, not released."""
    path = store.db.path
    assert path is not None
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    return other


def _redemptions(store: Store) -> int:
    with UnitOfWork(store.db, write=False) as uow:
        return int(uow.session.scalar(sa.select(sa.func.count()).select_from(Redemption)) or 0)


def test_a_redemption_while_another_process_holds_the_database_is_503_then_the_retry_records_once(
    busy_api: Api, busy_store: Store
) -> None:
    code = busy_api.issue()["code"]
    other = _hold_database(busy_store)
    try:
        r = busy_api.client.post("/api/v1/redemptions", json={"code": code, "sale_id": "S1", "basket_total": "50.00",
                                                              "customer": {"email": "friend@example.com"}},
                                 headers={"Authorization": f"Bearer {busy_api.token}", "Idempotency-Key": "k1"})
        assert r.status_code == 503 and r.mimetype == "application/problem+json"
        assert r.json is not None and r.json["code"] == "database_busy" and "try again" in r.json["detail"].lower()
        assert int(r.headers["Retry-After"]) > 0
        assert "Traceback" not in r.get_data(as_text=True) and "sqlite" not in r.get_data(as_text=True).lower()
    finally:
        other.rollback()
        other.close()
    status, body = busy_api.redeem(code, "S1", key="k1", email="friend@example.com")
    assert status == 201, body
    again, _ = busy_api.redeem(code, "S1", key="k1", email="friend@example.com")
    assert again == 201 and _redemptions(busy_store) == 1


def test_a_page_and_an_api_call_while_the_database_is_held_say_busy_with_retry_after(
    busy_api: Api, busy_store: Store
) -> None:
    client = busy_api.client
    form = client.get("/kiosk/join").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert token
    other = _hold_database(busy_store)
    try:
        assert client.get("/kiosk/join").status_code == 200  # reading is never blocked (WAL)
        page = client.post("/kiosk/join", data={"contact": "+4791234567", "first_name": "Eva", "consent": "yes",
                                                "csrf_token": token.group(1)})
        assert page.status_code == 503 and page.mimetype == "text/html" and int(page.headers["Retry-After"]) > 0
        assert "try again" in page.get_data(as_text=True)
        r = client.post("/api/v1/referral-codes", json={"customer": {"phone": "+4791234567"}},
                        headers={"Authorization": f"Bearer {busy_api.token}"})
        assert r.status_code == 503 and r.json is not None and r.json["code"] == "database_busy"
    finally:
        other.rollback()
        other.close()


def test_a_writer_of_this_process_that_holds_the_lock_too_long_makes_the_next_one_busy(busy_store: Store) -> None:
    held, release = threading.Event(), threading.Event()

    def long_writer() -> None:
        with UnitOfWork(busy_store.db, write=True):
            held.set()
            release.wait(10)

    thread = threading.Thread(target=long_writer)
    thread.start()
    try:
        assert held.wait(10)
        with pytest.raises(DatabaseBusyError), UnitOfWork(busy_store.db, write=True):
            pass
    finally:
        release.set()
        thread.join()
    with UnitOfWork(busy_store.db, write=True) as uow:  # and the lock is free again afterwards
        uow.commit()


@pytest.mark.parametrize(("lang", "says"), [("en", "try again"), ("nb", "prøv igjen"), ("pl", "spróbuj ponownie")])
def test_the_till_page_says_try_again_in_its_language(store: Store, lang: str, says: str) -> None:
    app: Flask = create_app(store=store, test_config={"TESTING": True})
    with app.test_request_context("/till/T1", headers={"Cookie": f"lang={lang}", "Accept-Language": lang}):
        reasons = js_strings()["reasons"]
        assert isinstance(reasons, dict) and says in reasons["database_busy"].lower()
