"""Fixtures for browser tests: a served store with a till, staff and a referrer's code.

Screenshots go to a temporary folder; ``POS_REFERRAL_SCREENSHOTS=docs/screenshots`` (relative to the
repository, or an absolute path) writes them where the README shows them, to refresh those on purpose.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from PIL import Image

from pos_referral.bootstrap import Store
from pos_referral.services.customers import CustomerInput
from pos_referral.services.referral_codes import issue_code
from pos_referral.services.staff import add_staff
from pos_referral.services.tills import add_till
from tests.browser_support import LiveServer, chromium, live_server, require_browser


@dataclass
class Shop:
    server: LiveServer
    store: Store
    referrer_code: str
    referrer_phone: str = "+4791234567"

    @property
    def url(self) -> str:
        return self.server.url


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    require_browser()
    with chromium() as b:
        yield b


@pytest.fixture
def shop(store: Store, app: Flask) -> Iterator[Shop]:
    add_till(store.ctx, "T1")
    add_staff(store.ctx, "Ann", "cashier", pin="1234")
    add_staff(store.ctx, "Mia", "manager", pin="999999")
    issued = issue_code(store.ctx, CustomerInput.parse({"phone": "+4791234567", "first_name": "Kari"}),
                        channel="receipt", till_id="T1")
    with live_server(app) as server:
        yield Shop(server, store, issued.code)
        store.scans.close()  # end open event streams so the server stops at once
        store.display.close()


@pytest.fixture
def page(browser: Any, shop: Shop) -> Iterator[Any]:
    """A fresh browser context, closed before the shop's server stops."""
    context = browser.new_context(viewport={"width": 1100, "height": 760}, locale="en-GB")
    pg = context.new_page()
    pg.set_default_timeout(5000)
    yield pg
    context.close()


@dataclass(frozen=True)
class Screenshots:
    """Where the browser tests save what the page looked like."""

    folder: Path

    def save(self, page: Any, name: str) -> Path:
        """A PNG reduced to a palette, so the copies kept in docs/screenshots stay small."""
        image = Image.open(io.BytesIO(page.screenshot())).convert("RGB").quantize(colors=64)
        self.folder.mkdir(parents=True, exist_ok=True)
        image.save(self.folder / name, optimize=True)
        return self.folder / name


@pytest.fixture(scope="session")
def screenshots(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Screenshots:
    """A temporary folder, so a test run leaves the checkout clean, unless POS_REFERRAL_SCREENSHOTS names one."""
    wanted = os.environ.get("POS_REFERRAL_SCREENSHOTS", "")
    if wanted:
        return Screenshots(request.config.rootpath / wanted)
    return Screenshots(tmp_path_factory.mktemp("screenshots"))


def sign_in(page: Any, shop: Shop, name: str = "Ann", pin: str = "1234") -> None:
    """Sign in at till T1 by keyboard, as a cashier does: type the name, then the PIN."""
    page.goto(f"{shop.url}/till/T1")
    page.fill("#name", name)
    page.focus("#pin")
    page.keyboard.type(pin)
    page.keyboard.press("Enter")
    page.wait_for_selector("body[data-till-ready]")  # till.js is deferred: #code exists before its listeners do


def wedge_scan(page: Any, code: str) -> None:
    """What a keyboard-wedge scanner does: fast keystrokes, then Enter."""
    page.focus("#code")
    page.keyboard.type(code, delay=2)
    page.keyboard.press("Enter")


def friend_at_the_till(page: Any, code: str, *, basket: str, customer: str, sale: str) -> None:
    """A friend's sale typed in and their code scanned: the quote is answered eligible (ready for F2)."""
    from playwright.sync_api import expect  # only when a browser test runs

    page.fill("#basket", basket)
    page.fill("#customer", customer)
    page.fill("#sale", sale)
    wedge_scan(page, code)
    expect(page.locator("#answer")).to_have_class(re.compile(r"\bok\b"))
