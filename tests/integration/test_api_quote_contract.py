"""The till's quote and redemption calls: contract fields, problem+json, malformed bodies, rate limits, report facts."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from flask import Flask

from pos_referral import create_app
from pos_referral.bootstrap import Store, build_store
from pos_referral.config import load_settings
from pos_referral.db.models import ReportEvent
from pos_referral.services.tills import add_till
from pos_referral.services.unit_of_work import UnitOfWork
from tests.conftest import Api

QUOTE = "/api/v1/checkouts/quote"


def test_quote_and_redemption_answers_are_json_with_the_contract_fields(api: Api) -> None:
    code = api.issue()["code"]
    r = api.client.post(QUOTE, json={"code": code, "basket_total": "40.00", "customer": {"email": "f@example.com"}},
                        headers={"Authorization": f"Bearer {api.token}"})
    assert r.status_code == 200 and r.mimetype == "application/json"
    assert r.json is not None and r.json["eligible"] is True and r.json["discount"] == "4.00"
    status, body = api.redeem(code, "S1", "40.00", email="f@example.com")
    assert status == 201 and body["discount"] == "4.00" and body["friend_code"]["landing_url"].startswith(
        "http://127.0.0.1:8000/r/")  # the listen address: links come from the configuration


def test_refusals_and_bad_tokens_are_problem_json(api: Api) -> None:
    code = api.issue(phone="+4790000001")["code"]
    r = api.client.post(QUOTE, json={"code": code, "basket_total": "1"}, headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401 and r.mimetype == "application/problem+json" and r.json is not None
    assert r.json["code"] == "unauthorized" and r.json["instance"] == QUOTE
    status, body = api.redeem(code, "S1", phone="+4790000001")
    assert status == 409 and body["code"] == "self_referral" and body["reason"] == "self_referral"
    status, body = api.post("/api/v1/redemptions", {"code": code, "sale_id": "S2", "basket_total": "5.00"})
    assert status == 400 and body["code"] == "idempotency_key_required"


def test_malformed_bodies_get_flasks_own_answers(api: Api) -> None:
    headers = {"Authorization": f"Bearer {api.token}"}
    r = api.client.post(QUOTE, data=b"{not json", headers=headers, content_type="application/json")
    assert r.status_code == 400 and r.json is not None and r.json["code"] == "invalid_request"
    r = api.client.post(QUOTE, data=b"[1, 2]", headers=headers, content_type="application/json")
    assert r.status_code == 400 and r.json is not None and r.json["code"] == "invalid_request"
    r = api.client.post(QUOTE, data=b"x" * (70 * 1024), headers=headers, content_type="application/json")
    assert r.status_code == 413 and r.mimetype == "application/problem+json"
    r = api.client.post(QUOTE, json={"code": "", "basket_total": "1"}, headers=headers)
    assert r.status_code == 422 and r.json is not None and r.json["field"] == "code"


def test_unknown_codes_are_rate_limited_with_retry_after(tmp_path: Path, config_path: Path) -> None:
    config_path.write_text(config_path.read_text().replace("failed_lookups_per_minute = 20",
                                                           "failed_lookups_per_minute = 2"))
    store = build_store(load_settings(config_path, data_dir=tmp_path / "data", environ={}))
    try:
        client = create_app(store=store, test_config={"TESTING": True}).test_client()
        headers = {"Authorization": f"Bearer {add_till(store.ctx, 'T1')}"}
        answers = [client.post(QUOTE, json={"code": "0000-0000-0000-00", "basket_total": "1"}, headers=headers)
                   for _ in range(3)]
        assert [r.status_code for r in answers] == [200, 200, 429]
        assert answers[0].json is not None and answers[0].json["reason"] in ("mistyped_code", "unknown_code")
        assert int(answers[2].headers["Retry-After"]) > 0 and answers[2].json is not None
        assert answers[2].json["code"] == "rate_limited"
    finally:
        store.close()


def test_quotes_and_refusals_still_reach_the_reports(app: Flask, api: Api, store: Store) -> None:
    code = api.issue(phone="+4790000001")["code"]
    api.post(QUOTE, {"code": code, "basket_total": "40.00"})
    api.redeem(code, "S1", phone="+4790000001")  # self referral: a refusal the reports count
    with UnitOfWork(store.db, write=False) as uow:  # written by the calls themselves: nothing waits in memory
        kinds = sorted(uow.session.scalars(sa.select(ReportEvent.kind)))
    assert kinds == ["quote", "refused"]
