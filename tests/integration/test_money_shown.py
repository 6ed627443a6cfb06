"""Money on the manager's pages, CSV exports and mails reads as the shop's people read it (issue 19)."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from urllib.parse import unquote

import pytest
from flask import Flask
from flask.testing import FlaskClient

from pos_referral.bootstrap import Store
from pos_referral.printing.escpos_renderer import RendererConfig
from pos_referral.printing.render import render
from pos_referral.services import messages, print_jobs, staff
from pos_referral.services.mail.sender import compose
from tests.conftest import Api

PASSWORD = "correct horse battery"
CODE = "R7KQ2M9XW4HT3P"
NBSP = "\xa0"
# (language, currency, basket, how the referred revenue reads on the dashboard)
SHOPS = [
    ("en", "EUR", "51569.28", "€51,569.28"),
    ("nb", "NOK", "51569.28", f"51{NBSP}569,28{NBSP}kr"),
    ("it", "EUR", "51569.28", f"51.569,28{NBSP}€"),
    ("pl", "PLN", "51569.28", f"51{NBSP}569,28{NBSP}zł"),
    ("th", "THB", "51569.28", "฿51,569.28"),
    ("id", "IDR", "1500000.00", "Rp1.500.000"),
]


@pytest.fixture(params=SHOPS, ids=[f"{lang}-{cur}" for lang, cur, _, _ in SHOPS])
def shop(request: pytest.FixtureRequest) -> tuple[str, str, str, str]:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def config_path(config_path: Path, shop: tuple[str, str, str, str]) -> Path:
    """The shipped config with this shop's language and currency."""
    lang, currency, _, _ = shop
    text = config_path.read_text()
    text = text.replace('language = "en"', f'language = "{lang}"', 1).replace('currency = "EUR"',
                                                                              f'currency = "{currency}"', 1)
    config_path.write_text(text)
    return config_path


def signed_in(app: Flask, store: Store) -> FlaskClient:
    staff.add_staff(store.ctx, "Mia", "manager", password=PASSWORD, pin="999999")
    client = app.test_client()
    html = client.get("/manager/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert token
    r = client.post("/manager/login", data={"name": "Mia", "password": PASSWORD, "csrf_token": token.group(1)})
    assert r.status_code == 302
    return client


def kpi_tile(html: str, key: str) -> str:
    found = re.search(rf'data-kpi="{key}">\s*<div class="label">[^<]*</div>\s*<div class="value">([^<]*)</div>', html)
    assert found, key
    return found.group(1)


def test_the_dashboard_shows_money_with_currency_and_the_shops_separators(
        app: Flask, store: Store, api: Api, shop: tuple[str, str, str, str]) -> None:
    _, _, basket, shown = shop
    code = api.issue("+4791111111", "Kari")["code"]
    assert api.redeem(code, "S1", basket, phone="+4794444441")[0] == 201
    client = signed_in(app, store)
    html = client.get("/manager/?from=2026-06-01&to=2026-06-30").get_data(as_text=True)
    assert kpi_tile(html, "referred_revenue_minor") == shown
    assert kpi_tile(html, "sales_minor") == shown
    top = html[html.index('id="t-top_referrers"'):]
    assert f'<td class="money">{shown}</td>' in top[:top.index("</section>")]
    assert basket not in html  # no bare machine number left on the page


def test_csv_keeps_plain_numbers_and_names_the_currency_in_the_header(
        app: Flask, store: Store, api: Api, shop: tuple[str, str, str, str]) -> None:
    _, currency, basket, _ = shop
    code = api.issue("+4791111111", "Kari")["code"]
    assert api.redeem(code, "S1", basket, phone="+4794444441")[0] == 201
    client = signed_in(app, store)
    rows = list(csv.reader(io.StringIO(client.get("/manager/export/top_referrers.csv").get_data(as_text=True))))
    assert rows[0][:4] == ["Name", "Contact", "Friends brought", f"Referred revenue ({currency})"]
    assert rows[1][3] == basket
    kpis = {row[2]: row for row in csv.reader(io.StringIO(
        client.get("/manager/export/kpis.csv").get_data(as_text=True)))}
    assert kpis["liability_minor"][0] == f"Outstanding reward liability ({currency})"
    assert kpis["referred_revenue_minor"][1] == basket
    assert kpis["customers_served"][0] == "Customers served"  # a count names no currency
    body = client.get("/manager/report.json").get_json()  # JSON keeps the machine form, under a key saying so
    assert {r["key"]: r["value"] for r in body["tables"]["kpis"]}["referred_revenue"] == basket
    assert body["figures"]["referred_revenue"] == basket and body["figures"]["customers_served"] == 2


def test_a_reward_mail_names_the_voucher_in_the_shops_currency(store: Store, shop: tuple[str, str, str, str]) -> None:
    lang, currency, _, _ = shop
    program = store.settings.default_program
    reward = messages.reward_text({"type": "amount_off", "amount": 1000}, currency, lang)
    context = messages.program_context(store.settings, program, lang, first_name="Kari", reward=reward,
                                       voucher_display_code="", expires="", referrals=1, status="", perk="")
    mail = compose(store.settings, kind="reward_ready", to_addr="kari@example.com", language=lang, context=context,
                   unsubscribe_url="https://shop.example/unsubscribe/x")
    body = mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    ten = {"en": "€10.00", "nb": f"10,00{NBSP}kr", "it": f"10,00{NBSP}€", "pl": f"10,00{NBSP}zł", "th": "฿10.00",
           "id": "Rp10"}[lang]
    assert ten in body


TEN = {"en": "€10.00", "nb": f"10,00{NBSP}kr", "it": f"10,00{NBSP}€", "pl": f"10,00{NBSP}zł", "th": "฿10.00",
       "id": "Rp10"}
TWENTY = {"en": "€20.00", "nb": f"20,00{NBSP}kr", "it": f"20,00{NBSP}€", "pl": f"20,00{NBSP}zł", "th": "฿20.00",
          "id": "Rp20"}


def test_the_printed_card_headline_names_the_reward_with_its_currency(
        store: Store, shop: tuple[str, str, str, str]) -> None:
    lang = shop[0]
    context = print_jobs.footer_context(store.ctx, first_name="Kari", code=CODE, discount_minor=0,
                                        program=store.settings.default_program, owner_url=f"https://shop.example/r/{CODE}")
    assert context["headline"] == f"Give 10%, get {TEN[lang]}"  # the shop's own prose, its amount as money
    text = render("referral_card", context, RendererConfig("TM-T88V", 80), "text").decode()
    assert f"get {TEN[lang]}" in text and "10.00" not in text.replace(TEN[lang], "")


def test_the_landing_page_writes_the_programs_amounts_as_money(
        app: Flask, api: Api, shop: tuple[str, str, str, str]) -> None:
    lang = shop[0]
    code = api.issue("+4791111111", "Kari")["code"]
    html = unquote(app.test_client().get(f"/r/{code}").get_data(as_text=True))  # share links too
    assert TWENTY[lang] in html and "20.00" not in html.replace(TWENTY[lang], "") and "{minimum}" not in html
    assert "{cap_amount}" not in html and "{referrer_amount}" not in html
