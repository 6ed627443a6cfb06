"""The referrer's cap never costs the friend the offer (unless the program says so); a code used by too many
friends within an hour is refused at the till (``velocity_limit``), and good again an hour later."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from flask_babel import force_locale

from pos_referral.bootstrap import Store
from pos_referral.domain.errors import REASONS
from pos_referral.web.till.strings import js_strings
from tests.conftest import Api, EditedShop, FakeClock

MakeShop = Callable[..., tuple[Api, Store]]


@pytest.fixture
def shop(edited_shop: Callable[..., EditedShop]) -> MakeShop:
    """A store whose default program file the test edits (``old`` -> ``new``)."""

    def build(replace: dict[str, str]) -> tuple[Api, Store]:
        built = edited_shop(replace)
        return built.api, built.store

    return build


def _referrer_rewards(store: Store, customer_id: str) -> int:
    with sqlite3.connect(store.settings.data_dir / "pos-referral.db") as conn:
        return int(conn.execute("SELECT count(*) FROM rewards WHERE customer_id = ?", (customer_id,)).fetchone()[0])


def test_a_friend_of_a_referrer_at_the_cap_still_gets_the_discount(shop: MakeShop) -> None:
    api, store = shop({"max_count = 10": "max_count = 2"})
    ann = api.issue()
    for n in range(2):
        status, body = api.redeem(ann["code"], f"S{n}", email=f"f{n}@example.com")
        assert status == 201 and body["referrer_outcome"] == "pending"
    quote = api.quote(ann["code"], email="carl@example.com")
    assert quote["eligible"] is True and quote["discount"] == "5.00" and quote["referrer_outcome"] == "none_cap_reached"
    status, body = api.redeem(ann["code"], "S9", email="carl@example.com")
    assert status == 201 and body["discount"] == "5.00" and body["friend_code"]["code"]
    assert body["referrer_reward"] is None and body["referrer_outcome"] == "none_cap_reached"
    assert _referrer_rewards(store, ann["customer_id"]) == 2  # the referrer earns nothing more
    rewards = api.get(f"/api/v1/customers/{ann['customer_id']}/rewards")[1]
    assert rewards["pending"] == "20.00"


def test_a_program_may_keep_refusing_the_friend_at_the_cap(shop: MakeShop) -> None:
    api, store = shop({"max_count = 10": "max_count = 1", "cap_blocks_friend = false": "cap_blocks_friend = true"})
    ann = api.issue()
    assert api.redeem(ann["code"], "S1", email="bob@example.com")[0] == 201
    assert api.quote(ann["code"], email="carl@example.com")["reason"] == "cap_reached"
    status, body = api.redeem(ann["code"], "S2", email="carl@example.com")
    assert status == 409 and body["code"] == "cap_reached"
    assert _referrer_rewards(store, ann["customer_id"]) == 1


def test_the_till_page_says_the_referrer_earns_nothing_more(api: Api) -> None:
    with api.client.application.test_request_context("/till"), force_locale("nb"):
        assert "får ikke mer" in str(js_strings()["referrer_capped"])
    script = (Path(__file__).resolve().parents[2] / "kiosk_ui" / "static" / "till.js").read_text()
    assert script.count('referrer_outcome === "none_cap_reached"') == 2  # on the quote and on the recorded sale


def test_more_friends_than_the_velocity_limit_within_an_hour_are_refused_until_it_passes(
        shop: MakeShop, clock: FakeClock) -> None:
    api, _ = shop({"max_friends_per_hour = 0": "max_friends_per_hour = 3"})
    ann = api.issue()
    for n in range(3):
        assert api.redeem(ann["code"], f"S{n}", email=f"f{n}@example.com")[0] == 201
        clock.advance(minutes=10)
    quote = api.quote(ann["code"], email="dan@example.com")
    assert quote["eligible"] is False and quote["reason"] == "velocity_limit" and quote["message"]
    status, body = api.redeem(ann["code"], "S3", email="dan@example.com")
    assert status == 409 and body["code"] == "velocity_limit"
    clock.advance(minutes=31)  # the first friend is now more than an hour ago
    assert api.quote(ann["code"], email="dan@example.com")["eligible"] is True
    assert api.redeem(ann["code"], "S3", key="again", email="dan@example.com")[0] == 201


def test_without_a_velocity_limit_a_busy_code_is_only_flagged(shop: MakeShop) -> None:
    api, _ = shop({})
    ann = api.issue()
    for n in range(5):
        assert api.redeem(ann["code"], f"S{n}", email=f"f{n}@example.com")[0] == 201
    assert api.quote(ann["code"], email="dan@example.com")["eligible"] is True


def test_velocity_limit_is_a_typed_reason_the_till_reads_in_its_language(api: Api) -> None:
    status, reasons = api.get("/api/v1/reasons")
    assert status == 200 and reasons["velocity_limit"]["status"] == 409
    doc = api.client.get("/api/v1/openapi.json").get_json()
    assert "velocity_limit" in doc["components"]["schemas"]["Problem"]["properties"]["code"]["examples"]
    for lang in ("id", "it", "nb", "pl", "th"):
        with api.client.application.test_request_context("/till"), force_locale(lang):
            text = str(js_strings()["reasons"]["velocity_limit"])  # type: ignore[index]
            assert text and text != REASONS["velocity_limit"].message, lang
