"""The friend's phone in a real browser: the landing page in two languages, share links, weight."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

import pytest
from playwright.sync_api import expect

from pos_referral.services.owner_links import owner_url
from tests.e2e.conftest import Screenshots, Shop

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 1, "is_mobile": True, "has_touch": True}


def _phone(browser: Any, locale: str) -> Any:
    context = browser.new_context(locale=locale, **PHONE)
    return context, context.new_page()


def test_landing_page_follows_the_phone_language_and_switches(
    browser: Any, shop: Shop, screenshots: Screenshots
) -> None:
    context, page = _phone(browser, "nb-NO")
    try:
        page.goto(f"{shop.url}/r/{shop.referrer_code}")
        expect(page.locator("h1")).to_have_text("Kari inviterer deg til Our shop")
        expect(page.locator("html")).to_have_attribute("lang", "nb")
        expect(page.locator("#friend-offer")).to_contain_text("10 % rabatt på kjøpet ditt")
        screenshots.save(page, "landing-nb.png")
        page.click("a[hreflang=it]")
        expect(page.locator("h1")).to_have_text("Kari ti invita da Our shop")
        page.goto(f"{shop.url}/r/{shop.referrer_code}")  # the choice is remembered
        expect(page.locator("html")).to_have_attribute("lang", "it")
    finally:
        context.close()


def test_share_links_carry_the_message_and_the_public_link(browser: Any, shop: Shop, screenshots: Screenshots) -> None:
    context, page = _phone(browser, "en-GB")
    try:
        signed = owner_url(shop.store.ctx, f"{shop.url}/r/{shop.referrer_code}", shop.referrer_code, 0)
        page.goto(signed)
        expect(page.locator("#progress")).to_contain_text("0 friends joined")
        screenshots.save(page, "landing-owner.png")
        counted = page.eval_on_selector_all("#share a", "els => els.map(e => e.href)")
        assert all(h.startswith(f"{shop.url}/s/{shop.referrer_code}/") for h in counted)  # counted on the way
        hrefs = [page.request.get(h, max_redirects=0).headers["location"] for h in counted]
        assert [h.split(":")[0] for h in hrefs] == ["https", "sms", "mailto", "https", "https"]
        assert any(h.startswith("https://wa.me/?text=") for h in hrefs)
        assert any(h.startswith("https://twitter.com/intent/tweet?") for h in hrefs)
        assert any(h.startswith("https://www.facebook.com/sharer/sharer.php?u=") for h in hrefs)
        public = f"{shop.store.settings.public_base}/r/{shop.referrer_code}"  # from the configuration, not the Host
        for href in hrefs:
            text = unquote(href)
            assert public in text
            assert "?s=" not in text  # the owner's signature is never shared
        # each channel carries its own message from config/messages/en/share_<channel>.txt
        whatsapp, sms, mail, x, facebook = (unquote(h) for h in hrefs)
        assert "Hi! I shop at Our shop: with my code" in whatsapp
        assert "body=Our shop: 10% off (up to €30.00) with my code" in sms
        assert "quote=I shop at Our shop. Use my code" in facebook
        assert "subject=A gift for you from Our shop" in mail
        x_text = x.split("text=", 1)[1].split("&url=", 1)[0]
        assert "with my code" in x_text and public not in x_text  # X gets the link in its own field
        # the Web Share API button shows only where the browser has navigator.share
        has_share = page.evaluate("() => typeof navigator.share === 'function'")
        expect(page.locator("#webshare")).to_be_visible() if has_share else expect(
            page.locator("#webshare")).to_be_hidden()
    finally:
        context.close()


def test_landing_page_weighs_under_60_kb_and_loads_nothing_external(
    browser: Any, shop: Shop, screenshots: Screenshots
) -> None:
    context, page = _phone(browser, "en-GB")
    sizes: list[tuple[str, int]] = []
    page.on("requestfinished", lambda req: sizes.append((req.url, req.sizes()["responseBodySize"]
                                                         + req.sizes()["responseHeadersSize"])))
    try:
        page.goto(f"{shop.url}/r/{shop.referrer_code}", wait_until="load")
        screenshots.save(page, "landing.png")
        assert all(url.startswith(shop.url) for url, _ in sizes), sizes
        assert sum(size for _, size in sizes) <= 60 * 1024, sizes
    finally:
        context.close()


def test_unknown_code_gets_a_friendly_page(browser: Any, shop: Shop) -> None:
    context, page = _phone(browser, "pl-PL")
    try:
        response = page.goto(f"{shop.url}/r/NOT-A-CODE")
        assert response is not None and response.status == 404
        expect(page.locator("h1")).to_have_text("Ten kod zawiera literówkę")
        page.fill("#typed", shop.referrer_code.lower())
        page.keyboard.press("Enter")
        expect(page.locator("#code")).to_be_visible()
    finally:
        context.close()


def test_share_messages_follow_the_page_language(browser: Any, shop: Shop) -> None:
    context, page = _phone(browser, "pl-PL")
    try:
        page.goto(f"{shop.url}/r/{shop.referrer_code}")
        counted = page.eval_on_selector_all("#share a", "els => els.map(e => e.href)")
        hrefs = [page.request.get(h, max_redirects=0).headers["location"] for h in counted]
        assert "z moim kodem" in unquote(hrefs[3])  # config/messages/pl/share_x.txt
        expect(page.locator("main > p.muted").first).to_contain_text("Daj znajomym")  # pl/landing_headline.txt
    finally:
        context.close()
