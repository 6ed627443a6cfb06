"""In a real browser: the cashier's "Give card on the receipt" (F7) and the customer claiming the printed code."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from pos_referral.db.models import Code
from pos_referral.printing.escpos_renderer import RendererConfig
from pos_referral.proxy.footer import ReceiptSeen
from pos_referral.services.proxy_offers import arming
from pos_referral.services.proxy_offers.footer import ProxyFooter, claim_url
from pos_referral.services.unit_of_work import UnitOfWork
from tests.e2e.conftest import Screenshots, Shop, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 1, "is_mobile": True, "has_touch": True}


@pytest.fixture
def config_path(config_path: Path) -> Path:
    """The shop runs the print proxy (on a loopback port nobody uses here) with the default "armed" offer."""
    text = config_path.read_text()
    proxy_on = 'enabled = true\nlisten = "127.0.0.1:0"'
    config_path.write_text(text.replace('enabled = false\nlisten = "0.0.0.0:9100"', proxy_on))
    return config_path


def proxy_receipt(shop: Shop) -> bytes | None:
    footer = ProxyFooter(shop.store.ctx, RendererConfig())
    return footer.footer_for(ReceiptSeen("SHOP\nReceipt No: B-1\nTOTAL 30.00\n", "127.0.0.1:9"))


def test_f7_arms_the_proxy_for_the_next_receipt(page: Any, shop: Shop) -> None:
    sign_in(page, shop)
    expect(page.locator("#arm-proxy")).to_be_visible()
    assert proxy_receipt(shop) is None  # not armed yet
    page.keyboard.press("F7")
    expect(page.locator("#arm-result")).to_contain_text("The next receipt printed within 120 seconds")
    assert arming.armed_until(shop.store.ctx) is not None
    assert proxy_receipt(shop) is not None


def test_the_customer_claims_the_printed_code_once(browser: Any, shop: Shop, screenshots: Screenshots) -> None:
    arming.arm(shop.store.ctx)
    assert proxy_receipt(shop) is not None
    with UnitOfWork(shop.store.ctx.db, write=False) as read:
        code = read.session.scalar(sa.select(Code.code).where(Code.bearer.is_(True)))
    assert code is not None
    printed = urlsplit(claim_url(shop.store.ctx, code))
    context = browser.new_context(locale="en-GB", **PHONE)
    try:
        page = context.new_page()
        page.set_default_timeout(5000)
        page.goto(f"{shop.url}{printed.path}?{printed.query}")
        expect(page.locator("#why")).to_contain_text("we need to know who you are")
        screenshots.save(page, "claim-page.png")
        page.fill("#contact", "+47 912 00 111")
        page.fill("#first_name", "Siri")
        page.click("button.go")
        expect(page.locator("#claimed")).to_contain_text("This code is yours now")
        expect(page.locator("#progress")).to_be_visible()
        page.goto(f"{shop.url}{printed.path}?{printed.query}")  # the receipt scanned again, by anyone
        expect(page.locator("#claim-refused")).to_contain_text("already been claimed")
        expect(page.locator("form[method=post]")).to_have_count(0)
    finally:
        context.close()
