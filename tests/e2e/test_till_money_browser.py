"""A Rupiah shop's till writes money as its receipt does (the server's Babel form, not the browser's own)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import Shop, sign_in, wedge_scan

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def config_path(config_path: Path) -> Path:
    """An Indonesian shop selling in Rupiah."""
    text = config_path.read_text().replace('language = "en"', 'language = "id"', 1)
    config_path.write_text(text.replace('currency = "EUR"', 'currency = "IDR"', 1))
    return config_path


def test_a_rupiah_till_writes_the_discount_exactly_as_the_receipt_does(page: Any, shop: Shop) -> None:
    sign_in(page, shop)
    page.fill("#basket", "1500000.00")
    wedge_scan(page, shop.referrer_code)
    expect(page.locator("#answer")).to_have_class(re.compile(r"\bok\b"))
    # the 150.00 price tier: Rp15 off, as money_text and the receipt write it (Chromium's Intl: "Rp 15")
    expect(page.locator("#answer-big")).to_have_text(re.compile(r"Rp15(?![,\d])"))
