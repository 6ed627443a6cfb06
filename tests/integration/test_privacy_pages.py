"""The manager's privacy page (find, download, forget with confirmation) and the books download."""

from __future__ import annotations

import csv
import io
import re

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from pos_referral.bootstrap import Store
from pos_referral.db.models import AuditEntry, Customer
from pos_referral.services.unit_of_work import UnitOfWork
from tests.conftest import Api, staff_session

PHONE = "+4791110101"


def token_of(client: FlaskClient, path: str = "/manager/customers") -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True))
    assert found
    return found.group(1)


def first_names(store: Store) -> list[str]:
    with UnitOfWork(store.db, write=False) as read:
        return list(read.session.scalars(sa.select(Customer.first_name).order_by(Customer.created_at)))


def test_a_manager_finds_downloads_and_forgets_a_customer(app: Flask, store: Store, api: Api) -> None:
    api.issue(PHONE, first_name="Kari")
    mgr = staff_session(app.test_client(), store, "Mia", "manager")
    token = token_of(mgr)
    page = mgr.post("/manager/customers/find", data={"subject": PHONE, "csrf_token": token})
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Kari" in html and "*** *** 101" in html
    match = re.search(r'data-customer="([0-9a-f]{32})"', html)
    assert match, html
    customer_id = match.group(1)
    assert PHONE not in mgr.get("/manager/customers").get_data(as_text=True)  # the phone went in a POST body

    download = mgr.post("/manager/customers/export", data={"subject": PHONE, "csrf_token": token})
    assert download.status_code == 200 and download.mimetype == "application/json"
    assert "attachment" in download.headers["Content-Disposition"]
    assert download.get_json()["customer_ids"] == [customer_id]

    unconfirmed = mgr.post("/manager/customers/forget", data={"subject": customer_id, "csrf_token": token},
                           follow_redirects=True)
    assert "Nothing was erased" in unconfirmed.get_data(as_text=True)
    assert first_names(store) == ["Kari"]
    done = mgr.post("/manager/customers/forget", data={"subject": customer_id, "confirm": "yes",
                                                       "csrf_token": token}, follow_redirects=True)
    assert "Forgotten" in done.get_data(as_text=True)
    assert first_names(store) == [""]
    not_found = mgr.post("/manager/customers/find", data={"subject": PHONE, "csrf_token": token})
    assert "No customer found" in not_found.get_data(as_text=True)
    bad = mgr.post("/manager/customers/find", data={"subject": "hello", "csrf_token": token}, follow_redirects=True)
    assert bad.status_code == 200 and "not a customer id" in bad.get_data(as_text=True)

    with UnitOfWork(store.db, write=False) as read:
        entries = read.session.execute(sa.select(AuditEntry.actor, AuditEntry.action).where(
            AuditEntry.action.like("customer_%"))).all()
    assert [tuple(e) for e in entries] == [("Mia", "customer_export"), ("Mia", "customer_forget")]


def test_privacy_and_books_are_for_managers_only(app: Flask, store: Store) -> None:
    anon = app.test_client()
    assert anon.get("/manager/customers").status_code == 302
    assert anon.get("/manager/books/ledger.csv").status_code == 302
    cashier = staff_session(app.test_client(), store, "Bo", "cashier", till_id="T1")
    assert cashier.get("/manager/customers").status_code in (302, 403)


def test_the_books_download_from_the_dashboard(app: Flask, store: Store, api: Api) -> None:
    code = api.issue(PHONE)["code"]
    assert api.redeem(code, "S-1", phone="+4791110102")[0] == 201
    mgr = staff_session(app.test_client(), store, "Mia", "manager")
    dashboard = mgr.get("/manager/?from=2026-06-01&to=2026-06-15").get_data(as_text=True)
    link = re.search(r'href="(/manager/books/ledger\.csv\?[^"]*period=day[^"]*)"', dashboard)
    assert link, dashboard
    r = mgr.get(link.group(1).replace("&amp;", "&"))
    assert r.status_code == 200 and r.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(r.get_data(as_text=True))))
    assert rows[0][:4] == ["Period", "From", "Until", "Currency"] and rows[-1][0] == "total"
    assert len(rows) == 1 + 15 + 1
    earned = rows[0].index("Earned (EUR)")
    assert rows[-1][earned] != "0.00"
    assert mgr.get("/manager/books/ledger.csv?period=week").status_code == 400
    assert mgr.get("/manager/books/ledger.csv?from=2026-13-01").status_code == 400
