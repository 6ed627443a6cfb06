"""The public landing page ``/r/<code>``: offer, languages, owner-only progress, friendly 404s, counting."""

from __future__ import annotations

import re

import sqlalchemy as sa
from flask import Flask

from pos_referral.bootstrap import Store
from pos_referral.db.models import LandingVisit
from pos_referral.services.owner_links import owner_url
from pos_referral.services.unit_of_work import UnitOfWork
from tests.conftest import Api


def _h1(html: str) -> str:
    match = re.search(r"<h1>(.*?)</h1>", html, re.S)
    assert match, html
    return match.group(1).strip()


def test_friend_sees_the_offer_and_at_most_the_first_name(app: Flask, api: Api) -> None:
    code = api.issue(phone="+4791234567", first_name="Kari")["code"]
    response = app.test_client().get(f"/r/{code}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert _h1(html) == "Kari invites you to Our shop"
    assert "10% off your purchase (up to €30.00)" in html and "On a purchase of €20.00 or more." in html
    assert "Show this code at the till" in html and "<svg" in html
    assert "912" not in html and "+47" not in html  # no phone, not even masked
    assert 'id="progress"' not in html
    assert "January 1, 2026" in html  # start date, formatted for the locale
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert len(response.data) < 60 * 1024


def test_owner_sees_progress_only_with_the_signed_link(app: Flask, api: Api, store: Store) -> None:
    code = api.issue()["code"]
    status, _ = api.redeem(code, "S-1", phone="+4798765432")
    assert status == 201
    client = app.test_client()
    signed = owner_url(store.ctx, f"/r/{code}", code, 0)
    html = client.get(signed).get_data(as_text=True)
    assert "1 friend joined" in html and "1 reward waiting" in html
    assert "5 more friends until Ambassador" in html  # a referral counts once its reward is released
    assert 'id="progress"' not in client.get(f"/r/{code}?s=aaaaaaaaaaaaaaaa").get_data(as_text=True)


def test_language_follows_the_phone_then_the_switcher_cookie(app: Flask, api: Api) -> None:
    code = api.issue(first_name="Kari")["code"]
    client = app.test_client()
    assert _h1(client.get(f"/r/{code}", headers={"Accept-Language": "nb-NO,no;q=0.9"}).get_data(as_text=True)) \
        == "Kari inviterer deg til Our shop"
    assert "Kari zaprasza" in _h1(client.get(f"/r/{code}?lang=pl").get_data(as_text=True))
    again = client.get(f"/r/{code}", headers={"Accept-Language": "th"}).get_data(as_text=True)
    assert 'lang="pl"' in again  # the switcher's choice wins over the phone's language
    thai = app.test_client().get(f"/r/{code}", headers={"Accept-Language": "th-TH"}).get_data(as_text=True)
    assert "Kari ชวนคุณมาที่" in thai


def test_unknown_and_mistyped_codes_get_a_friendly_404(app: Flask, api: Api) -> None:
    code = api.issue()["code"]
    client = app.test_client()
    typo = code[:-1] + ("0" if code[-1] != "0" else "1")
    mistyped = client.get(f"/r/{typo}")
    assert mistyped.status_code == 404 and "This code has a typo" in mistyped.get_data(as_text=True)
    unknown = client.get("/r/whatever<script>")
    assert unknown.status_code == 404 and "<script>" not in unknown.get_data(as_text=True)
    assert client.get("/r/?code=" + code.lower()).headers["Location"].endswith(f"/r/{code.lower()}")


def test_a_typed_code_redirects_to_its_canonical_address(app: Flask, api: Api) -> None:
    code = api.issue()["code"]
    sloppy = "-".join(code[i:i + 4] for i in range(0, 14, 4)).lower()
    response = app.test_client().get(f"/r/{sloppy}?lang=it")
    assert response.status_code == 301 and response.headers["Location"].endswith(f"/r/{code}?lang=it")


def test_every_visit_is_counted_with_its_language(app: Flask, api: Api, store: Store) -> None:
    code = api.issue()["code"]
    client = app.test_client()
    client.get(f"/r/{code}")
    client.get(f"/r/{code}?lang=id")
    client.get("/r/00000000000000")
    with UnitOfWork(store.db, write=False) as uow:
        visits = uow.session.execute(sa.select(LandingVisit.code, LandingVisit.language)).all()
    assert sorted(v.language for v in visits) == ["en", "id"] and {v.code for v in visits} == {code}


def test_guessing_codes_is_rate_limited(app: Flask, store: Store) -> None:
    client = app.test_client()
    statuses = [client.get(f"/r/0{i:013d}").status_code for i in range(25)]
    assert statuses[-1] == 429 and set(statuses) <= {404, 429}


def test_share_links_hold_the_public_link_not_the_signature(app: Flask, api: Api, store: Store) -> None:
    code = api.issue()["code"]
    client = app.test_client()
    html = client.get(owner_url(store.ctx, f"/r/{code}", code, 0)).get_data(as_text=True)
    # each share button is counted on its way, with the page's language for the message
    counted = re.findall(rf'href="(/s/{code}/[a-z]+\?lang=en)"', html)
    links = [client.get(path).headers["Location"] for path in counted]
    assert [re.split(r"[:/]", link)[0] for link in links] == ["https", "sms", "mailto", "https", "https"]
    assert len(links) == 5 and all(f"r/{code}" in link and "%3Fs%3D" not in link and "?s=" not in link
                                   for link in links)
