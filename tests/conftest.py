"""Shared fixtures: a real store (SQLite file in tmp, migrated by Alembic) and its Flask app.

Tests marked ``slow`` are skipped unless ``--run-slow`` is given or ``CI=true`` is set, so the default
``python -m pytest`` stays quick on a developer's machine while CI still runs everything.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from pos_referral import create_app
from pos_referral.bootstrap import Store, build_store
from pos_referral.config import load_settings
from pos_referral.db.base import Base
from pos_referral.db.engine import Database, open_database
from pos_referral.resources import config_dir, kiosk_ui_dir
from pos_referral.services.tills import add_till
from pos_referral.web.i18n import compile_catalogs

IN_CI = os.environ.get("CI", "").lower() == "true"
SLOW_SKIPPED = "slow test: run it with --run-slow or CI=true (pytest -m slow --run-slow runs only the slow ones)"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--run-slow", action="store_true", default=False,
                     help="also run the tests marked slow (CI=true does the same)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip the slow tests unless asked for: by --run-slow, or by CI=true."""
    if IN_CI or config.getoption("--run-slow"):
        return
    skip = pytest.mark.skip(reason=SLOW_SKIPPED)
    for item in items:
        if item.get_closest_marker("slow") is not None:
            item.add_marker(skip)


class FakeClock:
    """A clock the test moves by hand (return windows, expiry, caps)."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 6, 15, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    """A private copy of the shipped config/ that a test may edit."""
    target = tmp_path / "config"
    shutil.copytree(config_dir(), target)
    return target / "store.toml"


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    """A bare store database at ``tmp_path / "store.db"``: the models' tables, no migrations, no store."""
    database = open_database(f"sqlite:///{tmp_path / 'store.db'}")
    Base.metadata.create_all(database.write_engine)
    yield database
    database.dispose()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="session")
def compiled_translations(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The page translations compiled once per run (tests/unit/test_landing_i18n.py tests the compiling)."""
    target = tmp_path_factory.mktemp("i18n")
    compile_catalogs(kiosk_ui_dir() / "translations", target)
    return target


@pytest.fixture
def store(tmp_path: Path, config_path: Path, clock: FakeClock, compiled_translations: Path) -> Iterator[Store]:
    """A new shop whose data folder already holds the compiled translations, as after its first start, so
    an app built on it does not parse every catalog again (about half of building a store and its app)."""
    shutil.copytree(compiled_translations, tmp_path / "data" / "i18n")
    settings = load_settings(config_path, data_dir=tmp_path / "data", environ={})
    built = build_store(settings, clock=clock)
    yield built
    built.close()


@pytest.fixture
def app(store: Store) -> Flask:
    return create_app(store=store, test_config={"TESTING": True})


@pytest.fixture
def token(store: Store) -> str:
    return add_till(store.ctx, "T1")


@dataclass
class Api:
    """A till's view of the API: JSON in, (status, JSON) out, with its bearer token."""

    client: FlaskClient
    token: str

    def _headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", **(extra or {})}

    def get(self, path: str) -> tuple[int, Any]:
        r = self.client.get(path, headers=self._headers(), buffered=True)
        return r.status_code, r.get_json()

    def post(self, path: str, body: Any = None, **headers: str) -> tuple[int, Any]:
        # buffered: the answer is read and closed, as a WSGI server closes it (work after it, e.g. the
        # customer display's update, runs on close)
        r = self.client.post(path, json=body, headers=self._headers(headers), buffered=True)
        return r.status_code, r.get_json()

    def issue(self, phone: str = "+4791234567", first_name: str = "Ann", channel: str = "receipt") -> dict[str, Any]:
        status, body = self.post("/api/v1/referral-codes", {"customer": {"phone": phone, "first_name": first_name},
                                                            "channel": channel})
        assert status in (200, 201), body
        return dict(body)

    def redeem(self, code: str, sale_id: str, basket: str = "50.00", key: str | None = None,
               **customer: str) -> tuple[int, Any]:
        body = {"code": code, "sale_id": sale_id, "basket_total": basket, "customer": customer or None}
        return self.post("/api/v1/redemptions", body, **{"Idempotency-Key": key or f"key-{sale_id}"})

    def quote(self, code: str, basket: str = "50.00", **customer: str) -> dict[str, Any]:
        """The till's quote of ``code`` on a basket, for a customer given by phone, email or customer_id."""
        status, body = self.post("/api/v1/checkouts/quote", {"code": code, "basket_total": basket,
                                                              "customer": customer or None})
        assert status == 200, body
        return dict(body)


@pytest.fixture
def api(app: Flask, token: str) -> Api:
    return Api(app.test_client(), token)


def staff_session(client: FlaskClient, store: Store, name: str, role: str, till_id: str | None = None) -> FlaskClient:
    """``client`` signed in as a new staff member ``name``, as the sign-in pages leave it: at ``till_id``
    (the till page), else on the manager pages. The session carries the member's session version."""
    from pos_referral.services.staff import add_staff
    from pos_referral.services.staff_sessions import session_version

    staff_id = add_staff(store.ctx, name, role, pin="24681357", password="a long test password")
    with client.session_transaction() as session:
        session.update(staff_id=staff_id, role=role, sv=session_version(store.ctx, staff_id))
        if till_id is not None:
            session.update(till_id=till_id, staff=name)
        else:
            now = store.ctx.clock().timestamp()
            session.update(staff_name=name, manager_since=now, seen=now)
    return client


@dataclass
class EditedShop:
    """A store built from an edited copy of the shipped config, with its app and a till's API."""

    api: Api
    store: Store
    app: Flask


@pytest.fixture
def edited_shop(tmp_path: Path, config_path: Path, clock: FakeClock) -> Iterator[Any]:
    """``build(program_edits, overrides=..., clock=...)``: a new store whose default program file had each
    ``old`` replaced by ``new`` (each must be there) and whose settings take ``overrides`` by section."""
    stores: list[Store] = []

    def build(program_edits: dict[str, str] | None = None, *, overrides: dict[str, dict[str, Any]] | None = None,
              clock_: FakeClock | None = None) -> EditedShop:
        prog = config_path.parent / "programs" / "bring-a-friend.toml"
        text = prog.read_text()
        for old, new in (program_edits or {}).items():
            assert old in text, old
            text = text.replace(old, new)
        prog.write_text(text)
        settings = load_settings(config_path, data_dir=tmp_path / f"shop{len(stores)}", environ={},
                                 overrides=overrides or {})
        built = build_store(settings, clock=clock_ or clock)
        stores.append(built)
        app = create_app(store=built, test_config={"TESTING": True})
        return EditedShop(Api(app.test_client(), add_till(built.ctx, "T1")), built, app)

    yield build
    for built in stores:
        built.close()
