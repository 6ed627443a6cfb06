"""A new chain store takes the chain's keys before its first sale (real PostgreSQL).

Codes minted or phones hashed under a store's own keys could never join the chain, so a chain
store that has not synced yet refuses till actions as ``store_not_joined`` (503, nothing written)
and works as soon as its first sync brings the keys; ``serve`` runs that sync at once.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from pos_referral import create_app
from pos_referral.bootstrap import build_store
from pos_referral.db.models import Customer, OutboxEvent
from pos_referral.domain.codes import CodeKind, Keyring, mint
from pos_referral.domain.errors import Refusal
from pos_referral.domain.identity import normalise_phone
from pos_referral.services.customers import CustomerInput
from pos_referral.services.referral_codes import issue_code
from pos_referral.services.tills import add_till
from pos_referral.workers import PeriodicTask
from tests.conftest import FakeClock
from tests.postgres_support import (
    CentralServer,
    ChainStore,
    chain_settings,
    fresh_database,
    new_chain_store,
    start_central,
)

pytestmark = pytest.mark.postgres


@pytest.fixture
def fresh_store(tmp_path: Path, clock: FakeClock) -> Iterator[tuple[CentralServer, ChainStore]]:
    with fresh_database() as url:
        central = start_central(url, tmp_path, clock, pool_size=3)
        server = CentralServer(central)
        store = new_chain_store(central, tmp_path, 1, server.url, clock)
        try:
            yield server, store
        finally:
            server.stop()
            store.store.close()
            central.close()


def _count(store: ChainStore, model: type) -> int:
    with store.store.db.read_engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(model)).scalar_one())


def test_before_its_first_sync_the_till_is_told_the_shop_is_not_connected_and_nothing_is_written(
        fresh_store: tuple[CentralServer, ChainStore]) -> None:
    _, chain_store = fresh_store
    store = chain_store.store
    token = add_till(store.ctx, "T1")
    client = create_app(store=store, test_config={"TESTING": True}).test_client()
    auth = {"Authorization": f"Bearer {token}"}
    issued = client.post("/api/v1/referral-codes", headers=auth,
                         json={"customer": {"phone": "+4790000001"}, "channel": "receipt"})
    quoted = client.post("/api/v1/checkouts/quote", headers=auth,  # the till's hot path
                         json={"code": "0YP76156NQ4TEK", "basket_total": "50.00", "customer": {"phone": "+4791000001"}})
    assert issued.status_code == 503 and issued.mimetype == "application/problem+json"
    assert issued.get_json()["code"] == "store_not_joined"
    assert quoted.status_code == 200  # a quote answers every refusal in its body, in words for the cashier
    assert (quoted.get_json()["eligible"], quoted.get_json()["reason"]) == (False, "store_not_joined")
    assert "not connected to the chain" in quoted.get_json()["message"]
    elsewhere = mint(CodeKind.REFERRAL, 2, 7, Keyring.generate().current())  # a well-formed code of another shop
    page = client.get(f"/r/{elsewhere}")  # a page says it in words, no JSON, no 500
    assert page.status_code == 503 and "try again in a few minutes" in page.get_data(as_text=True)
    assert client.get("/healthz").status_code == 200
    assert _count(chain_store, Customer) == 0 and _count(chain_store, OutboxEvent) == 0

    chain_store.relay.sync()  # the keys arrive
    again = client.post("/api/v1/referral-codes", headers=auth,
                        json={"customer": {"phone": "+4790000001"}, "channel": "receipt"})
    assert again.status_code == 201, again.get_json()
    summary = chain_store.relay.sync()
    assert summary.pushed >= 1 and summary.backlog == 0  # the code reached central under the chain's keys


def test_a_restarted_store_that_joined_works_offline(fresh_store: tuple[CentralServer, ChainStore],
                                                     tmp_path: Path, clock: FakeClock) -> None:
    server, chain_store = fresh_store
    chain_store.relay.sync()
    settings = chain_store.store.settings
    chain_store.store.close()
    server.stop()  # central is gone: the store still issues codes
    reopened = build_store(settings, clock=clock)
    try:
        code = issue_code(reopened.ctx, CustomerInput(identity=normalise_phone("+4790000009")), channel="card",
                          till_id="T1")
        assert code.code
    finally:
        reopened.close()


def test_a_store_that_sold_before_this_rule_keeps_selling(tmp_path: Path, clock: FakeClock) -> None:
    """Customers under the store's own keys already: not gated (the relay reports the clash instead)."""
    standalone = build_store(chain_settings(tmp_path, 4), clock=clock)
    issue_code(standalone.ctx, CustomerInput(identity=normalise_phone("+4790000004")), channel="card", till_id="T1")
    standalone.close()
    chained = build_store(chain_settings(tmp_path, 4, "http://127.0.0.1:9", "store4_x"), clock=clock)
    try:
        issue_code(chained.ctx, CustomerInput(identity=normalise_phone("+4790000005")), channel="card", till_id="T1")
    finally:
        chained.close()
    never = build_store(chain_settings(tmp_path, 5, "http://127.0.0.1:9", "store5_x"), clock=clock)
    try:
        with pytest.raises(Refusal) as refused:
            issue_code(never.ctx, CustomerInput(identity=normalise_phone("+4790000006")), channel="card", till_id="T1")
        assert refused.value.code == "store_not_joined"
    finally:
        never.close()


def test_the_relay_timer_can_run_its_first_round_at_once() -> None:
    ran = threading.Event()
    task = PeriodicTask("t", 3600, ran.set, at_once=True)
    task.start()
    try:
        assert ran.wait(5)
    finally:
        task.stop()
