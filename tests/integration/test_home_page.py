"""``/``: a new shop's front page names the shop, links its tills, kiosk and manager pages, and says how the
service is, in the shop's language, with the strict headers of a public page and no personal data."""

from __future__ import annotations

import re
from importlib.metadata import version

from flask import Flask

from pos_referral.bootstrap import Store
from pos_referral.services.customers import CustomerInput
from pos_referral.services.referral_codes import issue_code
from pos_referral.services.staff import add_staff
from pos_referral.services.tills import add_till


def test_the_home_page_links_every_till_the_kiosk_and_the_manager_pages(store: Store, app: Flask) -> None:
    add_till(store.ctx, "T1")
    add_till(store.ctx, "T2")
    answer = app.test_client().get("/")
    assert answer.status_code == 200
    html = answer.get_data(as_text=True)
    assert f"<h1>{store.settings.config.store.name}</h1>" in html
    links = set(re.findall(r'href="([^"?]+)"', html))
    assert {"/till/T1", "/till/T2", "/kiosk/join", "/manager/"} <= links
    assert re.search(r'id="state-printer" data-state="none">Not set up<', html)  # no print worker running
    assert re.search(r'id="state-sync" data-state="standalone">Standalone shop: nothing to sync<', html)
    assert f'<span id="state-version">{version("pos-referral")}</span>' in html


def test_the_home_page_speaks_the_shops_language(store: Store, app: Flask) -> None:
    html = app.test_client().get("/?lang=nb").get_data(as_text=True)
    assert "Ledersider" in html and "Frittstående butikk: ingenting å synkronisere" in html and 'lang="nb"' in html


def test_the_home_page_shows_no_personal_data_and_has_the_strict_headers(store: Store, app: Flask) -> None:
    add_till(store.ctx, "T1")
    add_staff(store.ctx, "Ann Cashier", "cashier", pin="1234")
    issue_code(store.ctx, CustomerInput.parse({"phone": "+4791234567", "first_name": "Kari"}), channel="receipt",
               till_id="T1")
    answer = app.test_client().get("/")
    html = answer.get_data(as_text=True)
    assert "Ann Cashier" not in html and "Kari" not in html and "91234567" not in html
    csp = answer.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert answer.headers["X-Frame-Options"] == "DENY" and answer.headers["X-Content-Type-Options"] == "nosniff"
    assert answer.headers["Referrer-Policy"] == "no-referrer"
