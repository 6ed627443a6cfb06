"""The till's story through the JSON API: every typed refusal, exactly-once, vouchers, refunds."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from pos_referral.services.rewards import release_due_rewards
from tests.conftest import Api, EditedShop, FakeClock

MakeApi = Callable[..., tuple[Api, FakeClock]]


@pytest.fixture
def make_api(edited_shop: Callable[..., EditedShop], clock: FakeClock) -> MakeApi:
    """A store whose default program file the test edits (``old`` -> ``new``), and its clock."""

    def build(replace: dict[str, str] | None = None) -> tuple[Api, FakeClock]:
        return edited_shop(replace).api, clock

    return build



def test_api_refuses_requests_without_a_valid_till_token(app: object, api: Api) -> None:
    r = api.client.post("/api/v1/checkouts/quote", json={"code": "x", "basket_total": "1.00"})
    assert r.status_code == 401 and r.mimetype == "application/problem+json" and r.json["code"] == "unauthorized"
    r = api.client.get("/api/v1/reasons", headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401
    assert api.client.get("/healthz").status_code == 200  # public


def test_one_code_per_customer_per_program(api: Api) -> None:
    status, first = api.post("/api/v1/referral-codes", {"customer": {"phone": "+47 912 34 567"}, "channel": "card"})
    assert status == 201 and first["landing_url"].endswith("/r/" + first["code"])
    status, again = api.post("/api/v1/referral-codes", {"customer": {"phone": "+4791234567"}, "channel": "receipt"})
    assert status == 200 and again["code"] == first["code"]
    status, by_id = api.post("/api/v1/referral-codes", {"customer": {"customer_id": first["customer_id"]}})
    assert status == 200 and by_id["code"] == first["code"]
    assert len(first["code"]) <= 14 and first["display_code"].count("-") == 3


def test_lookup_tells_kind_status_and_offer(api: Api) -> None:
    ann = api.issue()
    status, body = api.get(f"/api/v1/referral-codes/{ann['display_code'].lower()}")
    assert status == 200 and body["kind"] == "referral" and body["status"] == "active"
    assert body["offer"]["minimum_basket"] == "20.00"
    wrong = ann["code"][:5] + ("1" if ann["code"][5] != "1" else "2") + ann["code"][6:]
    assert api.get(f"/api/v1/referral-codes/{wrong}")[1]["code"] == "mistyped_code"
    assert api.get(f"/api/v1/referral-codes/{wrong}")[0] == 422


def test_scanned_landing_url_is_the_same_code(api: Api) -> None:
    ann = api.issue()
    assert api.quote(f"https://shop.example/r/{ann['code'].lower()}?s=abc\r\n")["eligible"] is True


def test_friend_cannot_use_own_code(api: Api) -> None:
    ann = api.issue(phone="+4790000001")
    answer = api.quote(ann["code"], phone="+47 900 00 001")
    assert answer["eligible"] is False and answer["reason"] == "self_referral" and answer["message"]
    status, body = api.redeem(ann["code"], "S1", phone="+4790000001")
    assert status == 409 and body["code"] == "self_referral"


def test_existing_customer_is_not_new(api: Api) -> None:
    ann = api.issue(phone="+4790000001")
    api.issue(phone="+4790000002")
    assert api.quote(ann["code"], phone="+4790000002")["reason"] == "not_new_customer"


def test_below_minimum_basket_is_refused(api: Api) -> None:
    ann = api.issue()
    assert api.quote(ann["code"], basket="19.99", email="new@example.com")["reason"] == "below_minimum"
    assert api.quote(ann["code"], basket="20.00", email="new@example.com")["discount"] == "2.00"


def test_price_tier_applies_to_large_baskets(api: Api) -> None:
    ann = api.issue()
    assert api.quote(ann["code"], basket="150.00", email="new@example.com")["discount"] == "15.00"


def test_expired_code_is_refused(make_api: MakeApi) -> None:
    api, clock = make_api()
    ann = api.issue()
    clock.advance(days=366)
    assert api.quote(ann["code"], email="new@example.com")["reason"] == "expired"


def test_program_outside_its_dates_is_inactive(make_api: MakeApi) -> None:
    api, clock = make_api({"starts = 2026-01-01": "starts = 2026-01-01\nends = 2026-06-30"})
    ann = api.issue()
    clock.advance(days=20)
    assert api.quote(ann["code"], email="new@example.com")["reason"] == "program_inactive"


def test_unknown_and_mistyped_codes_are_typed(api: Api, store: object) -> None:
    from pos_referral.domain.codes import CodeKey, CodeKind, mint

    forged = mint(CodeKind.REFERRAL, 1, 5, CodeKey(0, b"another-chain-secret-key"))
    assert api.quote(forged)["reason"] == "unknown_code"
    assert api.quote("0000-0000-0000-00")["reason"] in ("mistyped_code", "unknown_code")
    assert api.quote("hello")["reason"] == "mistyped_code"


def test_redemption_needs_a_customer_identity(api: Api) -> None:
    ann = api.issue()
    answer = api.quote(ann["code"])
    assert answer["eligible"] is True and answer["notes"]
    status, body = api.redeem(ann["code"], "S1")
    assert status == 422 and body["code"] == "customer_required"


def test_same_key_with_another_body_is_422(api: Api) -> None:
    ann = api.issue()
    assert api.redeem(ann["code"], "S1", key="K", email="bob@example.com")[0] == 201
    status, body = api.redeem(ann["code"], "S1", basket="60.00", key="K", email="bob@example.com")
    assert status == 422 and body["code"] == "idempotency_key_reused"


def test_one_sale_gets_one_referral_discount(api: Api) -> None:
    ann = api.issue()
    assert api.redeem(ann["code"], "S1", email="bob@example.com")[0] == 201
    status, body = api.redeem(ann["code"], "S1", key="other", email="carol@example.com")
    assert status == 409 and body["code"] == "sale_already_used"


def test_missing_idempotency_key_and_bad_fields_are_clear_4xx(api: Api) -> None:
    ann = api.issue()
    status, body = api.post("/api/v1/redemptions", {"code": ann["code"], "sale_id": "S", "basket_total": "1.00"})
    assert status == 400 and body["code"] == "idempotency_key_required"
    for bad in ({"code": ann["code"], "basket_total": 12.5}, {"code": 5, "basket_total": "1.00"},
                {"basket_total": "1.00"}, {"code": "x", "basket_total": "1.00", "customer": {"phone": "12"}}):
        status, body = api.post("/api/v1/checkouts/quote", bad)
        assert status == 422 and body["code"] == "invalid_request" and body["detail"]
    r = api.client.post("/api/v1/checkouts/quote", data="not json", headers={"Authorization": f"Bearer {api.token}"})
    assert r.status_code == 400 and r.mimetype == "application/problem+json"


def test_released_reward_becomes_single_use_voucher(make_api: MakeApi) -> None:
    api, clock = make_api()
    ann = api.issue()
    status, _ = api.redeem(ann["code"], "S1", email="bob@example.com")
    assert status == 201
    store = api.client.application.extensions["pos_referral"]
    assert release_due_rewards(store.ctx).released == 0  # still inside the return window
    clock.advance(days=15)
    assert release_due_rewards(store.ctx).released == 1
    status, rewards = api.get(f"/api/v1/customers/{ann['customer_id']}/rewards")
    assert status == 200 and rewards["available"] == "10.00"
    voucher = rewards["rewards"][0]["voucher_code"]
    assert voucher and voucher[0] in "GHJKMNPQRSTVWXYZ"  # the first symbol says "voucher"
    answer = api.quote(voucher, basket="30.00")
    assert answer["eligible"] and answer["kind"] == "voucher" and answer["discount"] == "10.00"
    body = {"sale_id": "S9", "basket_total": "30.00"}
    status, used = api.post(f"/api/v1/vouchers/{voucher}/redeem", body, **{"Idempotency-Key": "v1"})
    assert status == 201 and used["discount"] == "10.00"
    status, again = api.post(f"/api/v1/vouchers/{voucher}/redeem", {**body, "sale_id": "S10"},
                             **{"Idempotency-Key": "v2"})
    assert status == 409 and again["code"] == "already_redeemed"
    assert api.quote(voucher)["reason"] == "already_redeemed"
    status, wrong = api.post(f"/api/v1/vouchers/{ann['code']}/redeem", body, **{"Idempotency-Key": "v3"})
    assert status == 422 and wrong["code"] == "wrong_kind"


def test_refund_after_release_claws_back_and_revokes_voucher(make_api: MakeApi) -> None:
    api, clock = make_api()
    ann = api.issue()
    api.redeem(ann["code"], "S1", basket="100.00", email="bob@example.com")
    clock.advance(days=15)
    store = api.client.application.extensions["pos_referral"]
    release_due_rewards(store.ctx)
    status, partial = api.post("/api/v1/sales/S1/refund", {"amount": "10.00"}, **{"Idempotency-Key": "r1"})
    assert status == 200 and partial["referrer_reward"]["status"] == "released"  # 90.00 left, above minimum
    status, full = api.post("/api/v1/sales/S1/refund", {})
    assert full["referrer_reward"]["status"] == "clawed_back" and full["refunded_total"] == "100.00"
    rewards = api.get(f"/api/v1/customers/{ann['customer_id']}/rewards")[1]
    assert rewards["rewards"][0]["voucher_revoked"] is True and rewards["available"] == "0.00"
    assert api.quote(rewards["rewards"][0]["voucher_code"])["reason"] == "voucher_revoked"
    status, body = api.post("/api/v1/sales/NOPE/refund", {})
    assert status == 404 and body["code"] == "unknown_sale"


def test_ledger_is_append_only_and_balances(make_api: MakeApi) -> None:
    api, _ = make_api()
    ann = api.issue()
    api.redeem(ann["code"], "S1", email="bob@example.com")
    api.post("/api/v1/sales/S1/refund", {})
    store = api.client.application.extensions["pos_referral"]
    with sqlite3.connect(store.settings.data_dir / "pos-referral.db") as conn:
        rows = conn.execute("SELECT entry, amount_minor FROM ledger WHERE customer_id = ? ORDER BY id",
                            (ann["customer_id"],)).fetchall()
    assert rows == [("referrer_reward_pending", 1000), ("referrer_reward_voided", -1000)]


def test_cap_stops_rewards_in_the_window(make_api: MakeApi) -> None:
    api, _ = make_api({"max_count = 10": "max_count = 2", "cap_blocks_friend = false": "cap_blocks_friend = true"})
    ann = api.issue()
    for n in range(2):
        assert api.redeem(ann["code"], f"S{n}", email=f"f{n}@example.com")[0] == 201
    assert api.quote(ann["code"], email="f9@example.com")["reason"] == "cap_reached"
    status, body = api.redeem(ann["code"], "S9", email="f9@example.com")
    assert status == 409 and body["code"] == "cap_reached"


def test_money_cap_counts_amounts(make_api: MakeApi) -> None:
    api, _ = make_api({'max_amount = "100.00"': 'max_amount = "15.00"',
                       "cap_blocks_friend = false": "cap_blocks_friend = true"})
    ann = api.issue()
    assert api.redeem(ann["code"], "S1", email="a@example.com")[0] == 201
    assert api.quote(ann["code"], email="b@example.com")["reason"] == "cap_reached"


def test_milestone_grants_bonus_and_status(make_api: MakeApi) -> None:
    api, clock = make_api({"referrals = 5": "referrals = 2"})
    ann = api.issue()
    for n in range(2):
        api.redeem(ann["code"], f"S{n}", email=f"f{n}@example.com")
    clock.advance(days=15)
    store = api.client.application.extensions["pos_referral"]
    summary = release_due_rewards(store.ctx)
    assert (summary.released, summary.milestones) == (2, 1)
    assert release_due_rewards(store.ctx).milestones == 0  # granted once
    rewards = api.get(f"/api/v1/customers/{ann['customer_id']}/rewards")[1]
    bonus = [r for r in rewards["rewards"] if r["source"] == "milestone"]
    assert len(bonus) == 1 and bonus[0]["item"] == "Tote bag" and bonus[0]["voucher_code"]


def test_referrer_only_program_gives_friend_no_discount(make_api: MakeApi) -> None:
    api, _ = make_api({'sides = "both"': 'sides = "referrer_only"'})
    ann = api.issue()
    status, body = api.redeem(ann["code"], "S1", email="bob@example.com")
    assert status == 201 and body["discount"] == "0.00" and body["referrer_reward"]["status"] == "pending"


def test_phone_and_email_are_stored_only_as_keyed_hashes(api: Api, store: object) -> None:
    ann = api.issue(phone="+4791234567", first_name="Ann")
    api.redeem(ann["code"], "S1", email="bob.secret@example.com")
    db_file = api.client.application.extensions["pos_referral"].settings.data_dir / "pos-referral.db"
    dump = "\n".join(sqlite3.connect(db_file).iterdump())
    assert "91234567" not in dump and "bob.secret" not in dump
    assert "Ann" in dump  # the optional first name is kept for receipts


def test_failed_lookups_are_rate_limited(make_api: MakeApi, tmp_path: Path, config_path: Path) -> None:
    config_path.write_text(config_path.read_text().replace("failed_lookups_per_minute = 20",
                                                           "failed_lookups_per_minute = 3"))
    api, _ = make_api()
    for _ in range(3):
        assert api.quote("nonsense")["reason"] == "mistyped_code"
    r = api.client.post("/api/v1/checkouts/quote", json={"code": "x", "basket_total": "1.00"},
                        headers={"Authorization": f"Bearer {api.token}"})
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0 and r.json["code"] == "rate_limited"


def test_issuing_with_print_card_queues_a_referral_card(api: Api) -> None:
    status, body = api.post("/api/v1/referral-codes", {"customer": {"phone": "+4790000009", "first_name": "Kari"},
                                                       "channel": "card", "print": "card"})
    assert status == 201 and isinstance(body["print_job_id"], int)
    status, plain = api.post("/api/v1/referral-codes", {"customer": {"phone": "+4790000010"}})
    assert status == 201 and plain["print_job_id"] is None
