"""Manager pages: password sign-in with CSRF, manager-only access, exports, staff PINs."""

from __future__ import annotations

import csv
import io
import re

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from pos_referral.bootstrap import Store
from pos_referral.db.models import AuditEntry, PrintJob, Staff
from pos_referral.printing.escpos_renderer import RendererConfig
from pos_referral.printing.render import render
from pos_referral.services import staff
from pos_referral.services.tills import add_till
from pos_referral.services.unit_of_work import UnitOfWork
from tests.conftest import Api

PASSWORD = "correct horse battery"


def csrf_token(client: FlaskClient, path: str = "/manager/login") -> str:
    html = client.get(path).get_data(as_text=True)
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, html
    return found.group(1)


def sign_in(client: FlaskClient, name: str = "Mia", password: str = PASSWORD, next_: str = "") -> tuple[int, str]:
    token = csrf_token(client)
    r = client.post("/manager/login", data={"name": name, "password": password, "csrf_token": token, "next": next_})
    return r.status_code, r.headers.get("Location", "") or r.get_data(as_text=True)


@pytest.fixture
def manager(store: Store) -> str:
    staff.add_staff(store.ctx, "Mia", "manager", password=PASSWORD, pin="999999")
    staff.add_staff(store.ctx, "Ann", "cashier", pin="1234")
    return "Mia"


@pytest.fixture
def client(app: Flask, manager: str) -> FlaskClient:
    return app.test_client()


def audit_actions(store: Store) -> list[tuple[str, str, str]]:
    with UnitOfWork(store.db, write=False) as uow:
        entries = uow.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id))
        return [(e.actor, e.action, e.detail) for e in entries]


def test_a_manager_signs_in_sees_the_dashboard_and_signs_out(client: FlaskClient, store: Store) -> None:
    assert client.get("/manager/").status_code == 302
    status, where = sign_in(client, next_="/manager/?from=2026-06-01&to=2026-06-30")
    assert (status, where) == (302, "/manager/?from=2026-06-01&to=2026-06-30")
    cookie = client.get_cookie("session")
    assert cookie is not None and cookie.http_only and cookie.same_site == "Lax"
    page = client.get("/manager/?from=2026-06-01&to=2026-06-30")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Referral program, 2026-06-01 – 2026-06-30" in html
    assert 'data-kpi="participation_rate"' in html and "<svg" in html and "<script" not in html
    assert ("Mia", "sign_in", "manager pages") in audit_actions(store)
    r = client.post("/manager/logout", data={"csrf_token": csrf_token(client, "/manager/")})
    assert r.status_code == 302 and client.get("/manager/").status_code == 302


def test_sign_in_refuses_a_wrong_password_and_audits_it(client: FlaskClient, store: Store) -> None:
    status, body = sign_in(client, password="wrong password!")
    assert status == 401 and "Wrong name or password" in body
    assert sign_in(client)[0] == 302  # the right one at once: a mistake locks nobody out
    assert [a for _, a, _ in audit_actions(store)].count("sign_in_failed") == 1


def test_a_form_without_its_csrf_token_is_refused(client: FlaskClient) -> None:
    r = client.post("/manager/login", data={"name": "Mia", "password": PASSWORD})
    assert r.status_code == 400
    assert client.get("/manager/").status_code == 302  # not signed in


def test_an_outside_next_address_is_not_followed(client: FlaskClient) -> None:
    assert sign_in(client, next_="//evil.example/manager")[1] == "/manager/"


def test_a_cashier_is_refused_with_a_friendly_page(client: FlaskClient) -> None:
    with client.session_transaction() as s:
        s.update(till_id="T1", staff="Ann", staff_name="Ann", staff_id=2, role="cashier", sv=0)
    for path in ("/manager/", "/manager/staff/", "/manager/export/funnel.csv", "/manager/report.json"):
        r = client.get(path)
        assert r.status_code == 403, path
        assert "Managers only" in r.get_data(as_text=True)


def test_a_manager_who_used_a_till_pin_is_asked_for_the_password(client: FlaskClient) -> None:
    with client.session_transaction() as s:
        s.update(till_id="T1", staff="Mia", staff_id=1, role="manager", sv=0)
    r = client.get("/manager/export/funnel.csv")
    assert r.status_code == 302 and r.headers["Location"].startswith("/manager/login?next=")


def test_a_cashier_cannot_sign_in_on_the_manager_page(client: FlaskClient) -> None:
    assert sign_in(client, name="Ann", password="1234")[0] == 401


def test_every_table_exports_as_csv(client: FlaskClient, api: Api) -> None:
    code = api.issue("+4791111111", "Kari")["code"]
    assert api.redeem(code, "S1", "50.00", phone="+4794444441")[0] == 201
    sign_in(client)
    for name in ("funnel", "activity", "ab", "ab_verdicts", "budget", "ambassadors", "kpis",
                 "channels", "goals", "trend", "top_referrers", "invite", "cashiers",
                 "unredeemed", "fraud", "reconciliation"):
        r = client.get(f"/manager/export/{name}.csv?from=2026-06-01&to=2026-06-30")
        assert r.status_code == 200 and r.mimetype == "text/csv", name
        assert f'filename="{name}_2026-06-01_2026-06-30.csv"' in r.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(client.get("/manager/export/top_referrers.csv").get_data(as_text=True))))
    assert rows[0][:4] == ["Name", "Contact", "Friends brought", "Referred revenue (EUR)"]  # cells stay numbers
    assert rows[1][0] == "Kari" and rows[1][2:4] == ["1", "50.00"]
    activity = list(csv.reader(io.StringIO(client.get("/manager/export/activity.csv").get_data(as_text=True))))
    assert activity[1] == ["Codes issued", "2", ""] and activity[4] == ["Redemptions", "1", ""]
    funnel = list(csv.reader(io.StringIO(client.get("/manager/export/funnel.csv").get_data(as_text=True))))
    assert funnel[1] == ["Codes issued", "2", "", "1.0000", "2"] and funnel[4][:2] == ["Friend bought", "0"]
    assert client.get("/manager/export/nothing.csv").status_code == 404
    assert client.get("/manager/export/funnel.csv?from=2026-13-01").status_code == 400


def test_the_json_report_has_money_as_decimal_strings(client: FlaskClient, api: Api) -> None:
    code = api.issue("+4791111111")["code"]
    assert api.redeem(code, "S1", "50.00", phone="+4794444441")[0] == 201
    sign_in(client)
    body = client.get("/manager/report.json").get_json()
    kpis = {row["key"]: row["value"] for row in body["tables"]["kpis"]}
    assert (kpis["referred_revenue"], kpis["reward_cost"], kpis["liability"]) == ("50.00", "5.00", "10.00")
    assert kpis["customers_served"] == 2 and kpis["code_holder_share"] == 1.0  # a count and a rate are numbers
    assert not any(key.endswith("_minor") for key in kpis)
    assert body["timezone"] == "UTC" and body["currency"] == "EUR"


def test_the_daily_summary_is_queued_for_the_receipt_printer(client: FlaskClient, store: Store) -> None:
    sign_in(client)
    r = client.post("/manager/summary/print", data={"day": "2026-06-15",
                                                     "csrf_token": csrf_token(client, "/manager/")})
    assert r.status_code == 302
    with UnitOfWork(store.db, write=False) as uow:
        job = uow.session.scalars(sa.select(PrintJob)).one()
    assert job.template == "daily_summary" and job.context["day"] == "2026-06-15"
    assert job.context["funnel"][0] == {"step": "Codes issued", "count": "0"}
    text = render(job.template, job.context, RendererConfig(), "text").decode()
    assert "2026-06-15" in text and "Codes issued" in text and "Referred revenue" in text and "€0.00" in text


def test_a_manager_adds_a_cashier_resets_a_pin_and_deactivates(client: FlaskClient, store: Store) -> None:
    sign_in(client)
    token = csrf_token(client, "/manager/staff/")
    assert client.post("/manager/staff/add", data={"name": "Bo", "pin": "4321", "csrf_token": token}).status_code == 302
    assert isinstance(staff.sign_in(store.ctx, secret="4321", name="Bo"), staff.SignedIn)
    with UnitOfWork(store.db, write=False) as uow:
        bo = uow.session.scalar(sa.select(Staff.id).where(Staff.name == "Bo"))
    client.post(f"/manager/staff/{bo}/pin", data={"pin": "5678", "csrf_token": token})
    assert isinstance(staff.sign_in(store.ctx, secret="5678", name="Bo"), staff.SignedIn)
    client.post(f"/manager/staff/{bo}/deactivate", data={"csrf_token": token})
    assert isinstance(staff.sign_in(store.ctx, secret="5678", name="Bo"), staff.SignInRefused)
    actions = [(actor, action) for actor, action, _ in audit_actions(store)]
    assert ("Mia", "pin_reset") in actions and ("Mia", "staff_deactivated") in actions
    assert ("Mia", "staff_saved") in actions
    page = client.get("/manager/staff/").get_data(as_text=True)
    assert "deactivated" in page
    r = client.post("/manager/staff/add", data={"name": "Bo", "pin": "12", "csrf_token": token}, follow_redirects=True)
    assert "Not added" in r.get_data(as_text=True)


def test_codes_issued_on_the_till_page_are_credited_to_the_cashier(client: FlaskClient, store: Store,
                                                                    app: Flask) -> None:
    add_till(store.ctx, "T2")
    token = csrf_token(client)
    with client.session_transaction() as s:
        s.update(till_id="T2", staff="Ann", staff_id=2, role="cashier", sv=0)
    r = client.post("/till/issue", json={"customer": {"phone": "+4791111111"}, "print": False},
                    headers={"X-CSRFToken": token})
    assert r.status_code == 201, r.get_data(as_text=True)
    with client.session_transaction() as s:
        s.clear()
    sign_in(client)
    rows = list(csv.reader(io.StringIO(client.get("/manager/export/cashiers.csv").get_data(as_text=True))))
    assert rows == [["Till", "Cashier", "Codes issued", "Redemptions"], ["T2", "Ann", "1", "0"]]


def test_a_single_shop_has_no_store_filter_or_sync_lag(client: FlaskClient) -> None:
    """The store filter and the sync lag are the chain's (central's); a shop's own dashboard has neither."""
    sign_in(client)
    html = client.get("/manager/?from=2026-06-01&to=2026-06-30&store=S001").get_data(as_text=True)
    assert 'name="store"' not in html and "Sync lag per store" not in html
    assert "store=S001" not in html  # links keep the range only
