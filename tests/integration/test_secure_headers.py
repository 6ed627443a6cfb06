"""No page can be framed by another site, nothing is sniffed, and what staff see is not cached."""

from __future__ import annotations

from flask import Flask

from pos_referral.bootstrap import Store
from tests.conftest import Api, staff_session


def test_staff_pages_cannot_be_framed_and_are_not_cached(app: Flask, store: Store) -> None:
    manager = staff_session(app.test_client(), store, "Mia", "manager")
    for path in ("/manager", "/manager/export/funnel.csv"):
        resp = manager.get(path)
        assert resp.status_code == 200, path
        assert resp.headers["X-Frame-Options"] == "DENY" and resp.headers["X-Content-Type-Options"] == "nosniff"
        assert resp.headers["Cache-Control"] == "no-store", path
    page = manager.get("/manager")
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    till = staff_session(app.test_client(), store, "Tom", "cashier", till_id="T1")
    resp = till.get("/till/T1")
    assert resp.headers["X-Frame-Options"] == "DENY" and resp.headers["Cache-Control"] == "no-store"


def test_public_pages_keep_their_own_strict_policy_and_api_answers_are_not_sniffed(app: Flask, api: Api) -> None:
    code = api.issue()["code"]
    landing = app.test_client().get(f"/r/{code}")
    assert "default-src 'none'" in landing.headers["Content-Security-Policy"]
    assert landing.headers["Referrer-Policy"] == "no-referrer" and landing.headers["X-Frame-Options"] == "DENY"
    resp = api.client.get(f"/api/v1/referral-codes/{code}", headers={"Authorization": f"Bearer {api.token}"})
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
