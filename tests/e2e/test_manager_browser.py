"""The manager's story in a real browser: sign in, read the numbers and charts, download CSV; cashiers kept out."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from pos_referral.services.staff import add_staff
from pos_referral.services.tills import add_till
from tests.e2e.conftest import Screenshots, Shop, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]
PASSWORD = "manager password 1"


@pytest.fixture
def referred_sale(shop: Shop) -> None:
    """A friend spends 50.00 with Kari's code (10 % off), through the API as a POS would."""
    add_staff(shop.store.ctx, "Mia", "manager", password=PASSWORD)
    token = add_till(shop.store.ctx, "T9")
    body = {"code": shop.referrer_code, "sale_id": "S1", "basket_total": "50.00",
            "customer": {"phone": "+4794444441", "first_name": "Ola"}}
    request = urllib.request.Request(f"{shop.url}/api/v1/redemptions", data=json.dumps(body).encode(), method="POST",
                                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json",
                                              "Idempotency-Key": "e2e-1"})
    with urllib.request.urlopen(request, timeout=10) as r:
        assert r.status == 201


def manager_sign_in(page: Any, shop: Shop, password: str = PASSWORD) -> None:
    page.goto(f"{shop.url}/manager/")
    expect(page).to_have_url(f"{shop.url}/manager/login?next=/manager/")
    page.fill("#name", "Mia")
    page.fill("#password", password)
    page.press("#password", "Enter")


def test_manager_signs_in_and_reads_the_numbers_and_charts(
    page: Any, shop: Shop, referred_sale: None, screenshots: Screenshots
) -> None:
    manager_sign_in(page, shop)
    expect(page.locator("h1")).to_contain_text("Referral program, 2026-05-17 – 2026-06-15")
    expect(page.locator('[data-kpi="referred_revenue_minor"] .value')).to_have_text("€50.00")
    expect(page.locator('[data-kpi="reward_cost_minor"] .value')).to_have_text("€5.00")
    expect(page.locator('[data-kpi="acquired_customers"] .value')).to_have_text("1")
    expect(page.locator('[data-kpi="liability_minor"] .value')).to_have_text("€10.00")
    expect(page.locator("#t-activity tbody tr").nth(3)).to_contain_text("Redemptions")
    expect(page.locator("#t-activity tbody tr").nth(3).locator("td.int")).to_have_text("1")
    expect(page.locator("#t-top_referrers tbody tr").first).to_contain_text("Kari")
    for chart in ("#chart-funnel svg", "#chart-trend svg"):
        expect(page.locator(chart)).to_be_visible()
        assert page.locator(chart).bounding_box()["height"] > 100
    screenshots.save(page, "manager_dashboard.png")
    page.click("text=Sign out")
    expect(page).to_have_url(f"{shop.url}/manager/login")


def test_manager_downloads_a_table_as_csv(page: Any, shop: Shop, referred_sale: None, tmp_path: Path) -> None:
    manager_sign_in(page, shop)
    with page.expect_download() as info:
        page.locator("#t-top_referrers a.csv").click()
    download = info.value
    assert download.suggested_filename == "top_referrers_2026-05-17_2026-06-15.csv"
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    lines = target.read_text().splitlines()
    assert lines[0].startswith("Name,Contact,Friends brought,Referred revenue")
    assert lines[1].startswith("Kari,") and ",1,50.00," in lines[1]


def test_a_wrong_password_is_refused(page: Any, shop: Shop, referred_sale: None) -> None:
    manager_sign_in(page, shop, password="not the password")
    expect(page.locator("#error")).to_have_text("Wrong name or password.")


def test_a_signed_in_cashier_is_refused_the_manager_pages(page: Any, shop: Shop) -> None:
    sign_in(page, shop)  # Ann, a cashier, at till T1
    for path in ("/manager/", "/manager/staff/", "/manager/export/funnel.csv"):
        response = page.goto(f"{shop.url}{path}")
        assert response is not None and response.status == 403
        expect(page.locator("#forbidden h1")).to_have_text("Managers only")
