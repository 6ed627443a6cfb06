"""Money is counted once: a points reward, its status mail, and a retried partial refund."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from pos_referral.bootstrap import Store
from pos_referral.db.models_promo import MailMessage
from pos_referral.services.mail import contacts as mail_contacts
from pos_referral.services.mail.sender import compose
from pos_referral.services.mail.status import plan_status_mails
from pos_referral.services.owner_links import owner_url
from pos_referral.services.rewards import release_due_rewards
from pos_referral.services.unit_of_work import UnitOfWork
from tests.conftest import Api, EditedShop, FakeClock

AMOUNT_REWARD = '[referrer_reward]\ntype = "amount_off"\namount = "10.00"'
POINTS_REWARD = '[referrer_reward]\ntype = "points"\npoints = 50'
MAIL = {"enabled": True, "host": "127.0.0.1", "port": 2525, "starttls": False, "sender": "Shop <shop@example.com>"}

Built = tuple[Api, Store, Flask]


@pytest.fixture
def shop(edited_shop: Callable[..., EditedShop]) -> Callable[..., Built]:
    """A store (mail on) whose default program's referrer reward the test chooses."""

    def build(referrer_reward: str = POINTS_REWARD) -> Built:
        built = edited_shop({AMOUNT_REWARD: referrer_reward},
                            overrides={"mail": MAIL, "store": {"public_base_url": "https://shop.example"}})
        return built.api, built.store, built.app

    return build


def _referral_released(api: Api, store: Store, clock: FakeClock) -> dict[str, Any]:
    """Ann (who gets mail) refers Bob; the return window passes and her reward is released."""
    ann = api.issue(phone="+4791234567", first_name="Ann")
    mail_contacts.subscribe_customer(store.ctx, ann["customer_id"], "ann@example.com", "en", source="landing")
    plan_status_mails(store.ctx)  # the planner's first run starts after the newest event
    status, _ = api.redeem(ann["code"], "S1", email="bob@example.com")
    assert status == 201
    clock.advance(days=15)
    assert release_due_rewards(store.ctx).released == 1
    plan_status_mails(store.ctx)
    return ann


def _reward_ready_mail(store: Store) -> str:
    with UnitOfWork(store.db, write=False) as uow:
        mail = uow.session.scalars(sa.select(MailMessage).where(MailMessage.kind == "reward_ready")).one()
    message = compose(store.settings, kind=mail.kind, to_addr="ann@example.com", language="en",
                      context={**mail.context, "first_name": "Ann"}, unsubscribe_url="https://shop.example/u/x")
    return str(message.get_body(("plain",)).get_content())  # type: ignore[union-attr]


def test_a_released_points_reward_is_counted_once_everywhere(shop: Callable[..., Built], clock: FakeClock) -> None:
    api, store, app = shop(POINTS_REWARD)
    ann = api.issue(phone="+4791234567", first_name="Ann")
    api.redeem(ann["code"], "S1", email="bob@example.com")
    pending = api.get(f"/api/v1/customers/{ann['customer_id']}/rewards")[1]
    assert (pending["points"], pending["points_pending"]) == (0, 50)  # promised, not yet earned
    clock.advance(days=15)
    release_due_rewards(store.ctx)
    released = api.get(f"/api/v1/customers/{ann['customer_id']}/rewards")[1]
    assert (released["points"], released["points_pending"]) == (50, 0)  # the reward once, not pending + released
    page = app.test_client().get(owner_url(store.ctx, f"/r/{ann['code']}", ann["code"], 0)).get_data(as_text=True)
    assert "Your points: 50" in page
    api.post("/api/v1/sales/S1/refund", {})  # refunded after the release: clawed back
    assert api.get(f"/api/v1/customers/{ann['customer_id']}/rewards")[1]["points"] == 0


def test_a_voided_points_reward_counts_nothing(shop: Callable[..., Built]) -> None:
    api, _, _ = shop(POINTS_REWARD)
    ann = api.issue()
    api.redeem(ann["code"], "S1", email="bob@example.com")
    api.post("/api/v1/sales/S1/refund", {})  # inside the return window: voided
    body = api.get(f"/api/v1/customers/{ann['customer_id']}/rewards")[1]
    assert (body["points"], body["points_pending"]) == (0, 0)


def test_status_mail_for_points_has_no_empty_voucher_line(shop: Callable[..., Built], clock: FakeClock) -> None:
    api, store, _ = shop(POINTS_REWARD)
    _referral_released(api, store, clock)
    text = _reward_ready_mail(store)
    assert "50 bonus points" in text
    assert "voucher" not in text.lower() and "QR" not in text


def test_status_mail_for_a_voucher_names_its_code(shop: Callable[..., Built], clock: FakeClock) -> None:
    api, store, _ = shop(AMOUNT_REWARD)
    ann = _referral_released(api, store, clock)
    voucher = api.get(f"/api/v1/customers/{ann['customer_id']}/rewards")[1]["rewards"][0]["voucher_display_code"]
    assert f"Your voucher code: {voucher}" in _reward_ready_mail(store)


def _ledger(store: Store, entry: str) -> list[tuple[str, int]]:
    with sqlite3.connect(store.settings.data_dir / "pos-referral.db") as conn:
        return conn.execute("SELECT sale_id, amount_minor FROM ledger WHERE entry = ? ORDER BY id", (entry,)).fetchall()


def test_a_retried_partial_refund_is_recorded_once_and_answered_the_same(api: Api, store: Store) -> None:
    ann = api.issue()
    api.redeem(ann["code"], "S1", basket="100.00", email="bob@example.com")
    first = api.client.post("/api/v1/sales/S1/refund", json={"amount": "10.00"},
                            headers={"Authorization": f"Bearer {api.token}", "Idempotency-Key": "r1"})
    again = api.client.post("/api/v1/sales/S1/refund", json={"amount": "10.00"},
                            headers={"Authorization": f"Bearer {api.token}", "Idempotency-Key": "r1"})
    assert first.status_code == again.status_code == 200
    assert first.get_json() == again.get_json() and first.get_json()["refunded_total"] == "10.00"
    assert again.headers["Idempotent-Replayed"] == "true"
    assert _ledger(store, "sale_refunded") == [("S1", -1000)]
    status, other = api.post("/api/v1/sales/S1/refund", {"amount": "20.00"}, **{"Idempotency-Key": "r1"})
    assert status == 422 and other["code"] == "idempotency_key_reused"
    status, second = api.post("/api/v1/sales/S1/refund", {"amount": "10.00"}, **{"Idempotency-Key": "r2"})
    assert status == 200 and second["refunded_total"] == "20.00"  # a new key is a new refund


def test_a_partial_refund_without_a_key_is_refused_and_a_full_refund_still_works(api: Api, store: Store) -> None:
    ann = api.issue()
    api.redeem(ann["code"], "S1", basket="100.00", email="bob@example.com")
    status, body = api.post("/api/v1/sales/S1/refund", {"amount": "10.00"})
    assert status == 400 and body["code"] == "idempotency_key_required"
    assert _ledger(store, "sale_refunded") == []
    status, body = api.post("/api/v1/sales/S1/refund", {})
    assert status == 200 and body["referrer_reward"]["status"] == "voided"


def test_the_same_partial_refund_sent_by_two_threads_at_once_is_recorded_once(app: Flask, api: Api,
                                                                               store: Store) -> None:
    ann = api.issue()
    api.redeem(ann["code"], "S1", basket="100.00", email="bob@example.com")
    start = threading.Barrier(4)
    answers: list[tuple[int, Any]] = []

    def refund() -> None:
        client = app.test_client()
        start.wait()
        r = client.post("/api/v1/sales/S1/refund", json={"amount": "30.00"},
                        headers={"Authorization": f"Bearer {api.token}", "Idempotency-Key": "same"})
        answers.append((r.status_code, r.get_json()))

    threads = [threading.Thread(target=refund) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [s for s, _ in answers] == [200] * 4
    assert all(body == answers[0][1] for _, body in answers) and answers[0][1]["refunded_total"] == "30.00"
    assert _ledger(store, "sale_refunded") == [("S1", -3000)]
