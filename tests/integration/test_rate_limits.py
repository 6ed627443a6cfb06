"""Rate limits hurt the guesser, not the shop: per till token and per client address, separately."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from pos_referral import create_app
from pos_referral.bootstrap import Store, build_store
from pos_referral.config import ConfigError, load_settings
from pos_referral.services.tills import add_till
from tests.conftest import Api, FakeClock

QUOTE = "/api/v1/checkouts/quote"
Build = Callable[..., tuple[Store, FlaskClient]]


@pytest.fixture
def limited(tmp_path: Path, config_path: Path, clock: FakeClock) -> Iterator[Build]:
    stores: list[Store] = []

    def build(per_till: int = 20, per_address: int = 100) -> tuple[Store, FlaskClient]:
        text = config_path.read_text()
        text = text.replace("failed_lookups_per_minute = 20 ", f"failed_lookups_per_minute = {per_till} ")
        text = text.replace("failed_lookups_per_minute_per_address = 100",
                            f"failed_lookups_per_minute_per_address = {per_address}")
        config_path.write_text(text)
        store = build_store(load_settings(config_path, data_dir=tmp_path / "data", environ={}), clock=clock)
        stores.append(store)
        return store, create_app(store=store, test_config={"TESTING": True}).test_client()

    yield build
    for store in stores:
        store.close()


def _bad_quote(api: Api) -> int:
    return api.client.post(QUOTE, json={"code": "0000-0000-0000-00", "basket_total": "10.00"},
                           headers={"Authorization": f"Bearer {api.token}"}).status_code


def test_one_tills_bad_scans_block_that_till_only_and_never_a_redemption_of_a_code_it_found(limited: Build) -> None:
    store, client = limited()
    till_a, till_b = Api(client, add_till(store.ctx, "A")), Api(client, add_till(store.ctx, "B"))
    ann, bob = till_a.issue(phone="+4790000001"), till_a.issue(phone="+4790000002")
    assert till_a.quote(ann["code"], email="friend1@example.com")["eligible"] is True
    statuses = [_bad_quote(till_a) for _ in range(100)]  # same client address as till B (one POS server)
    assert statuses[:20] == [200] * 20 and set(statuses[20:]) == {429}
    # till B, same address: still quotes and redeems
    assert till_b.quote(bob["code"], email="friend2@example.com")["eligible"] is True
    status, body = till_b.redeem(bob["code"], "B-1", email="friend2@example.com")
    assert status == 201, body
    # till A: limited for look-ups, but the code it quoted before its bad scans still goes through
    assert _bad_quote(till_a) == 429
    status, body = till_a.redeem(ann["code"], "A-1", email="friend1@example.com")
    assert status == 201, body


def test_a_limited_till_cannot_guess_through_redemptions(limited: Build) -> None:
    store, client = limited(per_till=3)
    till = Api(client, add_till(store.ctx, "A"))
    for _ in range(3):
        assert _bad_quote(till) == 200
    other = till.issue(phone="+4790000003")["code"]  # a real code this till never looked up
    status, body = till.redeem(other, "A-2", email="friend3@example.com")
    assert status == 429 and body["code"] == "rate_limited"
    status, body = till.redeem("0000-0000-0000-00", "A-3", email="friend3@example.com")
    assert status == 429


def test_the_address_limit_counts_every_till_at_that_address(limited: Build) -> None:
    store, client = limited(per_till=3, per_address=5)
    tills = [Api(client, add_till(store.ctx, name)) for name in ("A", "B", "C")]
    assert [_bad_quote(tills[0]) for _ in range(4)] == [200, 200, 200, 429]  # A's own limit
    assert [_bad_quote(tills[1]) for _ in range(2)] == [200, 200]  # the address has now had 5
    assert _bad_quote(tills[2]) == 429  # a guesser rotating stolen till tokens gains nothing


def test_an_address_limit_below_the_till_limit_is_a_config_error(config_path: Path, tmp_path: Path) -> None:
    config_path.write_text(config_path.read_text().replace("failed_lookups_per_minute_per_address = 100",
                                                           "failed_lookups_per_minute_per_address = 10"))
    with pytest.raises(ConfigError, match="failed_lookups_per_minute_per_address"):
        load_settings(config_path, data_dir=tmp_path / "data", environ={})
