"""20,000 events from three stores through a proxy that drops, duplicates, delays, reorders and cuts:
central holds each event exactly once, and every till balance equals the stores' own."""

from __future__ import annotations

import random
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa

from pos_referral.db.models import OutboxEvent
from pos_referral.db.models_central import CentralEvent
from pos_referral.domain.identity import normalise_phone
from pos_referral.services.customers import CustomerInput
from pos_referral.services.referral_codes import issue_code
from pos_referral.services.refunds import refund_sale
from pos_referral.sync.client import CentralClient
from pos_referral.sync.relay import Relay
from tests.conftest import FakeClock
from tests.postgres_support import (
    CentralServer,
    ChainStore,
    FaultProxy,
    fresh_database,
    new_chain_store,
    start_central,
    stores_balances,
    till_balances,
)

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.reliability]
TARGET_EVENTS = 20_000


def _work(store: ChainStore, codes: list[str], rng: random.Random, n_events: int, serial: int) -> None:
    """Issue codes and redeem codes of every store (synced or not) until ``n_events`` more events exist."""
    goal = store.outbox_count() + n_events
    i = 0
    while store.outbox_count() < goal:
        i += 1
        phone = f"+47{store.no}{serial:03d}{i:06d}"
        if rng.random() < 0.15 or not codes:
            codes.append(issue_code(store.store.ctx, CustomerInput(identity=normalise_phone(phone)), channel="api",
                                    till_id="T1").code)
            continue
        answer = store.redeem(rng.choice(codes), phone, basket_minor=rng.choice((2500, 5000, 20000)))
        if isinstance(answer, dict):
            if rng.random() < 0.3:
                codes.append(answer["friend_code"]["code"])
            if rng.random() < 0.05:
                refund_sale(store.store.ctx, answer["sale_id"], rng.choice((None, 1000)))


def test_twenty_thousand_events_through_a_faulty_network_arrive_exactly_once(
    tmp_path: Path, clock: FakeClock
) -> None:
    with fresh_database() as url:
        central = start_central(url, tmp_path, clock)
        server = CentralServer(central)
        proxy = FaultProxy(server.port, seed=11, rate=0.3)
        stores = [new_chain_store(central, tmp_path, n, proxy.url, clock) for n in (1, 2, 3)]
        for s in stores:
            s.relay = Relay(s.store.ctx, CentralClient(proxy.url, s.relay.client._token, timeout=3),
                            batch_size=150, base_delay=0.005, max_delay=0.1)
        try:
            for s in stores:
                s.relay.sync()
            codes: list[str] = []
            rng = random.Random(5)
            rounds = 8
            for r in range(rounds):
                for s in stores:  # each store takes turns being offline: it works without syncing this round
                    _work(s, codes, rng, TARGET_EVENTS // (rounds * len(stores)) + 1, r)
                syncers = [threading.Thread(target=s.relay.sync) for s in stores if (s.no + r) % 3]
                for t in syncers:
                    t.start()
                for t in syncers:
                    t.join()
            for s in stores:
                s.relay.sync()
            total = sum(s.outbox_count() for s in stores)
            assert total >= TARGET_EVENTS
            db = central.ctx.db
            with db.read_engine.connect() as conn:
                held = conn.execute(sa.select(CentralEvent.store_no, sa.func.count(),
                                              sa.func.count(sa.distinct(CentralEvent.store_seq)))
                                    .group_by(CentralEvent.store_no)).all()
            for store_no, count, distinct_seqs in held:
                store = next(s for s in stores if s.no == store_no)
                assert count == distinct_seqs == store.outbox_count()  # each event exactly once
                with store.store.db.read_engine.connect() as conn:
                    unsent = conn.execute(sa.select(sa.func.count()).select_from(OutboxEvent)
                                          .where(OutboxEvent.sent_at.is_(None))).scalar_one()
                assert unsent == 0
            assert till_balances(db.write_engine) == stores_balances(stores)
            faults = {k: v for k, v in proxy.counts.items() if k != "delayed"}
            assert sum(faults.values()) > 30 and {"dropped", "cut_answer", "duplicated", "reordered"} <= set(faults)
        finally:
            proxy.close()
            server.stop()
            for s in stores:
                s.store.close()
            central.close()
