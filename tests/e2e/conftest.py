"""Fixtures for browser tests: a served store with a till, staff and a referrer's code."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from pos_referral.bootstrap import Store
from pos_referral.services.customers import CustomerInput
from pos_referral.services.referral_codes import issue_code
from pos_referral.services.staff import add_staff
from pos_referral.services.tills import add_till
from tests.browser_support import LiveServer, chromium, live_server, require_browser

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


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
    add_staff(store.ctx, "Mia", "manager", pin="9999")
    issued = issue_code(store.ctx, CustomerInput.parse({"phone": "+4791234567", "first_name": "Kari"}),
                        channel="receipt", till_id="T1")
    with live_server(app) as server:
        yield Shop(server, store, issued.code)
        store.scans.close()  # end open event streams so the server stops at once


@pytest.fixture
def page(browser: Any, shop: Shop) -> Iterator[Any]:
    """A fresh browser context, closed before the shop's server stops."""
    context = browser.new_context(viewport={"width": 1100, "height": 760}, locale="en-GB")
    pg = context.new_page()
    pg.set_default_timeout(5000)
    yield pg
    context.close()


def save_screenshot(page: Any, name: str) -> None:
    """A PNG for docs/screenshots, reduced to a palette so the repository stays small."""
    import io

    from PIL import Image

    image = Image.open(io.BytesIO(page.screenshot())).convert("RGB").quantize(colors=64)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    image.save(SCREENSHOTS / name, optimize=True)


def sign_in(page: Any, shop: Shop, name: str = "Ann", pin: str = "1234") -> None:
    """Sign in at till T1 by keyboard, as a cashier does."""
    page.goto(f"{shop.url}/till/T1")
    page.select_option("#name", name)
    page.focus("#pin")
    page.keyboard.type(pin)
    page.keyboard.press("Enter")
    page.wait_for_selector("#code")


def wedge_scan(page: Any, code: str) -> None:
    """What a keyboard-wedge scanner does: fast keystrokes, then Enter."""
    page.focus("#code")
    page.keyboard.type(code, delay=2)
    page.keyboard.press("Enter")
