"""The customer display beside the till page in a real browser: the offer, "you save", the friend's own
code as a QR their phone can scan, back to the offer, and a display that reconnects by itself."""

from __future__ import annotations

import contextlib
import io
import re
import socket
import threading
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import zxingcpp
from PIL import Image
from playwright.sync_api import expect

from pos_referral.db.models import Redemption
from pos_referral.display.bus import DisplayBus
from pos_referral.services.unit_of_work import UnitOfWork
from tests.e2e.conftest import Screenshots, Shop, sign_in, wedge_scan

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TABLET = {"viewport": {"width": 800, "height": 1280}, "device_scale_factor": 1, "is_mobile": True, "has_touch": True}
SHOW_SECONDS = 2


@pytest.fixture
def config_path(config_path: Path) -> Path:
    """The shipped config with a short [display] show_seconds and heartbeat, so "back to the offer" and a
    silent stream are seen within the test."""
    text = config_path.read_text()
    assert "show_seconds = 20 " in text and "heartbeat_seconds = 15 " in text
    config_path.write_text(text.replace("show_seconds = 20 ", f"show_seconds = {SHOW_SECONDS} ")
                           .replace("heartbeat_seconds = 15 ", "heartbeat_seconds = 1 "))
    return config_path


def _qr(page: Any, selector: str) -> str:
    shot = Image.open(io.BytesIO(page.locator(selector).screenshot())).convert("L")
    found = [r.text for r in zxingcpp.read_barcodes(shot) if r.format.name == "QRCode"]
    assert len(found) == 1, found
    return str(found[0])


def _open_display(browser: Any, shop: Shop, till_page: Any, **size: Any) -> tuple[Any, Any]:
    """The display link as staff find it on the till page, opened on a tablet facing the customer."""
    href = till_page.get_attribute("#display-link", "href")
    assert href and href.startswith("/display/T1?k=")
    context = browser.new_context(locale="en-GB", **(size or TABLET))
    display = context.new_page()
    display.set_default_timeout(5000)
    display.goto(shop.url + href)
    expect(display.locator("body")).to_have_attribute("data-link", "up")
    return context, display


def test_the_display_follows_the_till_from_the_offer_to_the_friends_own_code(
    browser: Any, page: Any, shop: Shop, screenshots: Screenshots
) -> None:
    sign_in(page, shop)
    context, display = _open_display(browser, shop, page)
    try:
        expect(display.locator("body")).to_have_attribute("data-state", "idle")
        expect(display.locator("#idle h1")).to_be_visible()
        assert _qr(display, "#join-qr svg") == f"{shop.store.settings.public_base}/kiosk/join"
        screenshots.save(display, "display-idle.png")

        page.fill("#basket", "50.00")
        page.fill("#customer", "+4798765432")
        page.fill("#first-name", "Ola")
        page.fill("#sale", "S-100")
        wedge_scan(page, shop.referrer_code)
        expect(page.locator("#answer")).to_have_class(re.compile(r"\bok\b"))
        # within a second of the till's answer
        expect(display.locator("body")).to_have_attribute("data-state", "quote", timeout=1000)
        expect(display.locator("#quote-headline")).to_have_text("Your friend's code: you save €5.00")
        expect(display.locator("#quote-hello")).to_have_text("Hello, Ola!")
        assert "98765432" not in display.content()  # nothing personal beyond the first name
        screenshots.save(display, "display-quote.png")

        page.click("#confirm")
        expect(page.locator("#result")).to_contain_text("Recorded")
        expect(display.locator("body")).to_have_attribute("data-state", "code", timeout=1000)
        with UnitOfWork(shop.store.db, write=False) as uow:
            own = uow.session.scalar(sa.select(Redemption.friend_code).where(Redemption.sale_id == "S-100"))
        assert own
        shown = display.locator("#code-text").inner_text()
        assert shown.replace(" ", "").replace("-", "") == own
        # the friend's phone opens their own landing page (not the owner's signed link)
        assert _qr(display, "#code-qr svg") == f"{shop.store.settings.public_base}/r/{own}"
        screenshots.save(display, "display-code.png")

        expect(display.locator("body")).to_have_attribute("data-state", "idle", timeout=(SHOW_SECONDS + 2) * 1000)
        expect(display.locator("#code")).to_be_hidden()
        assert display.evaluate("document.documentElement.scrollHeight <= window.innerHeight")  # nothing to scroll
    finally:
        context.close()


def test_the_customer_switches_language_and_the_next_customer_gets_the_shops_again(
    browser: Any, page: Any, shop: Shop, screenshots: Screenshots
) -> None:
    sign_in(page, shop)
    landscape = {"viewport": {"width": 1280, "height": 800}, "device_scale_factor": 1, "has_touch": True}
    context, display = _open_display(browser, shop, page, **landscape)
    try:
        display.tap("a[hreflang=pl]")
        expect(display.locator("html")).to_have_attribute("lang", "pl")
        expect(display.locator("body")).to_have_attribute("data-link", "up")
        page.fill("#basket", "50.00")
        page.fill("#customer", "+4798765433")
        wedge_scan(page, shop.referrer_code)
        expect(display.locator("#quote-headline")).to_have_text(re.compile(r"^Kod od znajomego: oszczędzasz 5,00"))
        page.click("#confirm")
        expect(display.locator("body")).to_have_attribute("data-state", "code")
        expect(display.locator("#code h1")).to_have_text("Twój własny kod")
        screenshots.save(display, "display-code-pl-landscape.png")
        expect(display.locator("html")).to_have_attribute("lang", "en", timeout=(SHOW_SECONDS + 3) * 1000)
        expect(display.locator("body")).to_have_attribute("data-state", "idle")
        screenshots.save(display, "display-idle-landscape.png")
    finally:
        context.close()


def test_the_display_reconnects_when_its_stream_ends_or_the_service_restarts(
    browser: Any, page: Any, shop: Shop
) -> None:
    sign_in(page, shop)
    context, display = _open_display(browser, shop, page)
    try:
        expect(display.locator("body")).to_have_attribute("data-opened", "1")
        assert shop.store.display.end_streams("T1") == 1  # the stream is cut (a proxy, a Wi-Fi drop)
        expect(display.locator("body")).to_have_attribute("data-opened", "2")
        page.fill("#basket", "50.00")
        wedge_scan(page, shop.referrer_code)
        expect(display.locator("body")).to_have_attribute("data-state", "quote", timeout=1000)

        # the service stops (Store.close ends the streams and takes no new ones: 503) and comes back as a new
        # process with a new bus: the display keeps trying and shows the new service's picture
        shop.store.display.close()
        expect(display.locator("body")).to_have_attribute("data-link", "down")
        shop.store.display = DisplayBus(max_streams=4)
        expect(display.locator("body")).to_have_attribute("data-link", "up", timeout=10_000)
        expect(display.locator("body")).to_have_attribute("data-state", "idle")

        page.fill("#basket", "60.00")
        wedge_scan(page, shop.referrer_code)
        expect(display.locator("#quote-headline")).to_have_text("Your friend's code: you save €6.00", timeout=1000)
    finally:
        context.close()


class Relay:
    """A loopback TCP relay that can fall silent without closing, as a Wi-Fi link that died does: bytes
    sent while it is silent are lost, and nobody is told."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream = ("127.0.0.1", upstream_port)
        self.silent = threading.Event()
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self._open: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            up = socket.create_connection(self.upstream)
            self._open += [client, up]
            for src, dst in ((client, up), (up, client)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                if not self.silent.is_set():
                    dst.sendall(data)
        except OSError:
            pass
        for end in (src, dst):
            self._end(end)

    @staticmethod
    def _end(end: socket.socket) -> None:
        with contextlib.suppress(OSError):
            end.shutdown(socket.SHUT_RDWR)  # wakes the pump blocked in recv (close alone would not)
        end.close()

    def close(self) -> None:
        self.sock.close()
        for end in self._open:
            self._end(end)


def test_a_display_whose_link_fell_silent_reopens_its_stream(browser: Any, page: Any, shop: Shop) -> None:
    sign_in(page, shop)
    href = page.get_attribute("#display-link", "href")
    relay = Relay(shop.server.port)
    context = browser.new_context(locale="en-GB", **TABLET)
    try:
        display = context.new_page()
        display.goto(relay.url + str(href))
        expect(display.locator("body")).to_have_attribute("data-link", "up")
        relay.silent.set()  # no ping arrives any more, and the stream is not closed either
        expect(display.locator("body")).to_have_attribute("data-link", "down", timeout=6000)
        relay.silent.clear()
        expect(display.locator("body")).to_have_attribute("data-link", "up", timeout=6000)
        page.fill("#basket", "50.00")
        wedge_scan(page, shop.referrer_code)
        expect(display.locator("#quote-headline")).to_have_text("Your friend's code: you save €5.00", timeout=1000)
    finally:
        context.close()
        relay.close()
