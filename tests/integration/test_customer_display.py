"""The customer display's page and event stream: who may open it, what it shows after each till action.

The till here is POS software with its bearer token (the till page's own calls go the same way:
tests/e2e/test_customer_display_browser.py)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from pos_referral.bootstrap import Store
from pos_referral.display.bus import DisplayBus, Shown
from pos_referral.services.customers import CustomerInput
from pos_referral.services.referral_codes import issue_code
from pos_referral.web.display.access import display_key
from pos_referral.web.landing import qr_svg
from tests.conftest import Api, EditedShop


def _link(store: Store, till: str = "T1") -> str:
    return f"/display/{till}?k={display_key(store.ctx.secrets.session_key, till)}"


class Stream:
    """An open event stream read event by event (the test client hands the body over as it is made)."""

    def __init__(self, app: Flask, path: str) -> None:
        self.response = app.test_client().get(path, buffered=False)
        assert self.response.status_code == 200, self.response.status_code
        assert self.response.mimetype == "text/event-stream"
        self._chunks: Iterator[bytes] = iter(self.response.response)

    def next(self) -> tuple[str, dict[str, Any]]:
        for chunk in self._chunks:
            text = chunk.decode() if isinstance(chunk, bytes) else chunk
            match = re.match(r"event: (\w+)\ndata: (.*)\n\n", text)
            if match:
                return match.group(1), json.loads(match.group(2))
        raise AssertionError("stream ended")

    def shown(self) -> dict[str, Any]:
        name, data = self.next()
        while name == "ping":
            name, data = self.next()
        assert name == "show"
        return data

    def close(self) -> None:
        self.response.close()


@pytest.fixture
def referrer(store: Store) -> dict[str, str]:
    """A customer's code issued earlier (not at this till just now, so the display starts idle)."""
    issued = issue_code(store.ctx, CustomerInput.parse({"phone": "+4791234567", "first_name": "Kari"}),
                        channel="receipt", till_id="T0")
    return {"code": issued.code}


@pytest.fixture
def stream(app: Flask, store: Store, token: str) -> Iterator[Stream]:
    opened = Stream(app, _link(store).replace("?", "/events?"))
    yield opened
    opened.close()


def test_the_display_needs_its_tills_link(app: Flask, store: Store, token: str) -> None:
    client = app.test_client()
    good = display_key(store.ctx.secrets.session_key, "T1")
    assert client.get("/display/T1").status_code == 404
    assert client.get("/display/T1?k=" + "a" * 24).status_code == 404
    assert client.get("/display/T1/events?k=" + "a" * 24).status_code == 404
    assert client.get(f"/display/T2?k={good}").status_code == 404  # another till's key opens nothing
    assert client.get(f"/display/NOPE?k={display_key(store.ctx.secrets.session_key, 'NOPE')}").status_code == 404
    page = client.get(f"/display/T1?k={good}")
    assert page.status_code == 200
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "connect-src 'self'" in csp
    assert page.headers["Cache-Control"] == "no-store" and "Set-Cookie" not in page.headers
    html = page.get_data(as_text=True)
    assert re.findall(r"<script(?![^>]*\bsrc=)", html) == []  # no inline script (CSP)
    assert " style=" not in html


def test_idle_shows_the_offer_and_a_join_qr_from_the_configured_address(edited_shop: Any) -> None:
    shop: EditedShop = edited_shop(overrides={"store": {"public_base_url": "https://shop.example"}})
    html = shop.app.test_client().get(_link(shop.store), headers={"Host": "evil.example"}).get_data(as_text=True)
    assert "10%" in html and "Join here" in html
    assert str(qr_svg("https://shop.example/kiosk/join")) in html  # never the request's Host
    assert "evil.example" not in html.replace("Host", "")


def test_idle_without_the_kiosk_points_at_the_programs_public_page(edited_shop: Any) -> None:
    shop: EditedShop = edited_shop(overrides={"store": {"public_base_url": "https://shop.example"},
                                              "kiosk": {"enabled": False}})
    html = shop.app.test_client().get(_link(shop.store)).get_data(as_text=True)
    assert str(qr_svg("https://shop.example/join")) in html


def test_the_display_speaks_the_shops_language_and_the_customer_may_switch(edited_shop: Any) -> None:
    shop: EditedShop = edited_shop(overrides={"store": {"language": "nb", "currency": "NOK"}})
    client = shop.app.test_client()
    html = client.get(_link(shop.store), headers={"Accept-Language": "th"}).get_data(as_text=True)
    assert '<html lang="nb">' in html and "Kundeskjerm" in html
    chosen = client.get(_link(shop.store) + "&lang=pl")
    assert '<html lang="pl">' in chosen.get_data(as_text=True) and "Set-Cookie" not in chosen.headers
    assert '<html lang="nb">' in client.get(_link(shop.store)).get_data(as_text=True)  # the next customer: nb


def test_an_eligible_friends_code_shows_what_the_customer_saves(api: Api, referrer: dict[str, str],
                                                                stream: Stream) -> None:
    assert stream.shown()["state"] == "idle"
    quote = api.quote(referrer["code"], "50.00", phone="+4790000001", first_name="Ola")
    assert quote["eligible"]
    shown = stream.shown()
    assert shown["state"] == "quote"
    assert shown["headline"] == "Your friend's code: you save €5.00" and shown["hello"] == "Hello, Ola!"
    assert "+4790000001" not in json.dumps(shown) and "0001" not in json.dumps(shown)  # the first name, no more


def test_a_refused_quote_takes_the_display_back_to_the_offer(api: Api, referrer: dict[str, str],
                                                             stream: Stream) -> None:
    stream.shown()
    api.quote(referrer["code"], "50.00", phone="+4790000001")
    assert stream.shown()["state"] == "quote"
    assert not api.quote(referrer["code"], "5.00", phone="+4790000001")["eligible"]  # below the minimum
    assert stream.shown()["state"] == "idle"


def test_after_the_sale_the_friend_sees_their_own_code_and_its_qr(app: Flask, api: Api, store: Store,
                                                                 referrer: dict[str, str], stream: Stream) -> None:
    stream.shown()
    api.quote(referrer["code"], "50.00", phone="+4790000001", first_name="Ola")
    stream.shown()
    status, sale = api.redeem(referrer["code"], "S-1", "50.00", phone="+4790000001", first_name="Ola")
    assert status == 201
    shown = stream.shown()
    own = sale["friend_code"]
    assert shown["state"] == "code" and shown["code"] == own["display_code"] and shown["hello"] == "Hello, Ola!"
    assert shown["qr"] == str(qr_svg(own["landing_url"]))  # the landing page, not the owner's signed link
    assert "?s=" not in own["landing_url"]
    assert 0 < shown["seconds"] <= store.settings.config.display.show_seconds
    # a display that (re)connects now shows the same code
    again = Stream(app, _link(store).replace("?", "/events?"))
    assert again.shown()["code"] == own["display_code"]
    again.close()


def test_a_card_given_at_the_till_shows_the_customers_code(api: Api, stream: Stream) -> None:
    stream.shown()
    issued = api.issue(phone="+4790000002", first_name="Kari")
    shown = stream.shown()
    assert shown["state"] == "code" and shown["code"] == issued["display_code"]


def test_the_code_goes_back_to_the_offer_after_show_seconds(app: Flask, store: Store, token: str) -> None:
    now = [1000.0]
    store.display = DisplayBus(max_streams=2, clock=lambda: now[0])
    store.display.publish(Shown("code", "T1", code="R" * 14, landing_url="https://x.example/r/1"))
    now[0] += store.settings.config.display.show_seconds + 0.1
    stream = Stream(app, _link(store).replace("?", "/events?"))
    assert stream.shown()["state"] == "idle"  # a display that connects late does not show an old code
    stream.close()


def test_other_tills_displays_cannot_take_every_stream(app: Flask, store: Store, token: str) -> None:
    from pos_referral.services.tills import add_till

    for till in ("T2", "T3"):
        add_till(store.ctx, till)
    store.display = DisplayBus(max_streams=2)
    first, second = (Stream(app, _link(store, t).replace("?", "/events?")) for t in ("T1", "T2"))
    refused = app.test_client().get(_link(store, "T3").replace("?", "/events?"))
    assert refused.status_code == 503 and refused.headers["Retry-After"]
    first.close()
    second.close()


def test_the_stream_phrases_the_saving_in_the_displays_language(edited_shop: Any) -> None:
    shop: EditedShop = edited_shop(overrides={"store": {"language": "nb", "currency": "NOK"}})
    referrer = shop.api.issue()
    events = _link(shop.store).replace("?", "/events?")
    norsk, polski = Stream(shop.app, events), Stream(shop.app, events + "&lang=pl")
    norsk.shown(), polski.shown()
    shop.api.quote(referrer["code"], "500.00", phone="+4790000001")
    assert norsk.shown()["headline"] == "Vennens kode: du sparer 15,00\xa0kr"
    assert polski.shown()["headline"].startswith("Kod od znajomego: oszczędzasz 15,00")
    polski.close()
    norsk.close()


def test_the_till_page_links_its_display_and_clearing_the_till_clears_you_save(
    app: Flask, api: Api, store: Store, referrer: dict[str, str], stream: Stream
) -> None:
    from tests.conftest import staff_session

    client = staff_session(app.test_client(), store, "Ann", "cashier", till_id="T1")
    html = client.get("/till/T1").get_data(as_text=True)
    assert f'href="{_link(store)}"' in html
    stream.shown()
    token = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert token
    api.quote(referrer["code"], "50.00", phone="+4790000001")
    assert stream.shown()["state"] == "quote"
    assert client.post("/till/display/clear", json={}, headers={"X-CSRFToken": token.group(1)}).status_code == 204
    assert stream.shown()["state"] == "idle"
    # after the sale, clearing the till for the next customer leaves the friend's own code on screen
    api.quote(referrer["code"], "50.00", phone="+4790000001")
    stream.shown()
    api.redeem(referrer["code"], "S-2", "50.00", phone="+4790000001")
    assert stream.shown()["state"] == "code"
    assert client.post("/till/display/clear", json={}, headers={"X-CSRFToken": token.group(1)}).status_code == 204
    assert store.display.current("T1").state == "code"


def test_open_displays_leave_the_tills_a_thread_and_end_when_the_service_stops(
    app: Flask, api: Api, store: Store, referrer: dict[str, str]
) -> None:
    """Under waitress as ``serve`` runs it, with 4 threads: two displays stream, a third till's is refused
    (503, its page retries), the till's quote is still answered at once, and shutdown ends the streams."""
    import http.client
    import time

    from pos_referral.services.tills import add_till
    from tests.browser_support import LiveServer

    tokens = {"T1": api.token} | {t: add_till(store.ctx, t) for t in ("T2", "T3")}
    store.display = DisplayBus(max_streams=2)
    server = LiveServer(app, threads=4).start()
    streams = []
    try:
        for till in ("T1", "T2"):
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
            conn.request("GET", _link(store, till).replace("?", "/events?"))
            resp = conn.getresponse()
            assert resp.status == 200
            assert b"event: show" in resp.read1() + resp.read1()  # retry line, then the current picture
            streams.append((conn, resp))
        third = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
        third.request("GET", _link(store, "T3").replace("?", "/events?"))
        assert third.getresponse().status == 503
        third.close()
        till = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
        till.request("POST", "/api/v1/checkouts/quote", body=json.dumps(
            {"code": referrer["code"], "basket_total": "50.00"}),
            headers={"Authorization": f"Bearer {tokens['T1']}", "Content-Type": "application/json"})
        assert json.loads(till.getresponse().read())["eligible"]
        till.close()
        started = time.monotonic()
        store.display.close()  # what Store.close does when the service stops
        for _conn, resp in streams:
            while resp.read1():  # the rest of the stream, then its end
                pass
        assert time.monotonic() - started < 3  # not at the next heartbeat (15 s)
    finally:
        for conn, _resp in streams:
            conn.close()
        server.stop()
