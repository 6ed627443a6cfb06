"""Every sale seen, in a real browser: the till reports "Sale done" and hints at frequent customers
without a card; the landing page's share buttons are counted on their way to the channel."""

from __future__ import annotations

import time
from typing import Any

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from pos_referral.db.models import Sale
from pos_referral.db.models_sales import ShareCount
from pos_referral.services import sales
from pos_referral.services.customers import CustomerInput
from pos_referral.services.unit_of_work import UnitOfWork
from tests.conftest import FakeClock
from tests.e2e.conftest import Screenshots, Shop, sign_in
from tests.e2e.test_manager_browser import manager_sign_in, referred_sale  # noqa: F401  (a fixture)

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _shares(shop: Shop) -> dict[str, int]:
    with UnitOfWork(shop.store.db, write=False) as uow:
        return {c: n for c, n in uow.conn.execute(sa.select(ShareCount.channel, ShareCount.n)
                                                   .where(ShareCount.code == shop.referrer_code))}


def test_sale_done_reports_the_sale_with_its_total_and_cashier(page: Any, shop: Shop) -> None:
    sign_in(page, shop)
    page.fill("#basket", "23.40")
    page.fill("#customer", "+4740000077")
    page.fill("#sale", "R-900")
    page.keyboard.press("F9")
    expect(page.locator("#offer-dialog")).to_be_visible()
    page.click("#offer-no")
    expect(page.locator("#result")).to_have_text("Noted: no card for this sale.")
    with UnitOfWork(shop.store.db, write=False) as uow:
        row = uow.conn.execute(sa.select(Sale.total_minor, Sale.source, Sale.cashier, Sale.till_id,
                                         Sale.customer_id).where(Sale.sale_id == "R-900")).one()
    assert row[:4] == (2340, "till", "Ann", "T1") and row[4] is not None


def test_the_till_hints_a_frequent_customer_without_a_card(page: Any, shop: Shop, clock: FakeClock) -> None:
    regular = CustomerInput.parse({"phone": "+4740000088", "first_name": "Per"})
    clock.advance(days=-5)
    sales.record_sale(shop.store.ctx, sales.SaleSeen("OLD-1", 1500, "api", customer=regular))
    clock.advance(days=4)  # another day with a sale, within the last 30
    sales.record_sale(shop.store.ctx, sales.SaleSeen("OLD-2", 900, "api", customer=regular))
    clock.advance(days=1)
    sign_in(page, shop)
    page.fill("#customer", "+47 400 00 088")
    page.keyboard.press("Enter")
    expect(page.locator("#invite-hint")).to_have_text("Frequent customer without a card: offer one (F6 prints it).")
    page.fill("#customer", "+4740000099")  # a stranger: no hint
    page.keyboard.press("Enter")
    expect(page.locator("#invite-hint")).to_be_hidden()
    page.fill("#customer", shop.referrer_phone)  # holds a code already: no hint
    page.keyboard.press("Enter")
    expect(page.locator("#invite-hint")).to_be_hidden()


def test_share_buttons_are_counted_on_the_way_to_the_channel(browser: Any, shop: Shop) -> None:
    context = browser.new_context(locale="en-GB", viewport={"width": 390, "height": 844})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=shop.url)
    page = context.new_page()
    try:
        page.goto(f"{shop.url}/r/{shop.referrer_code}")
        whatsapp = page.locator("#share a", has_text="WhatsApp").get_attribute("href")
        assert whatsapp == f"/s/{shop.referrer_code}/whatsapp?lang=en"
        answer = page.request.get(f"{shop.url}{whatsapp}", max_redirects=0)
        assert answer.status == 302 and answer.headers["location"].startswith("https://wa.me/?text=")
        page.click("#copylink")
        expect(page.locator("#copylink")).to_have_text("Link copied")
        deadline = time.monotonic() + 5
        while _shares(shop).get("copy") != 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _shares(shop) == {"whatsapp": 1, "copy": 1}
    finally:
        context.close()


@pytest.mark.usefixtures("referred_sale")
def test_the_dashboard_says_not_known_until_a_sales_feed_arrives(page: Any, shop: Shop,
                                                                 screenshots: Screenshots) -> None:
    manager_sign_in(page, shop)
    figure = page.locator('#t-sales tr[data-figure="participation_of_sales"]')
    expect(figure.locator(".value")).to_have_text("not known: no sales feed")  # a redemption alone is no feed
    expect(figure).to_contain_text("Sales with a code over sales recorded.")  # its definition beside it
    for i in range(3):
        sales.record_sale(shop.store.ctx, sales.SaleSeen(f"POS-{i}", 2000, "api", cashier="Ola"))
    page.reload()
    expect(figure.locator(".value")).to_have_text("25.0 %")  # the referred sale S1 and three others
    expect(page.locator('#t-cashier_activity tbody tr', has_text="Ola")).to_contain_text("3")
    screenshots.save(page, "manager_dashboard_sales.png")
