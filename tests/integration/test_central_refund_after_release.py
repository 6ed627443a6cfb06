"""Regression: a sale refunded after central released its referrer's reward (found by the chain model).

The hypothesis model shrank it to: a code issued at store 1, used offline at store 3, everything
synced, 14 days pass and central releases the reward as a voucher, store 3 refunds the whole sale,
sync. Central's clawback wrote the status ``clawed_back`` (11 characters) into a ``VARCHAR(10)``
column: PostgreSQL refused, and ``POST /sync/v1/events`` answered 500 to a perfectly good batch
(SQLite, on the stores, never checks lengths).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from pos_referral.db.models import Code, LedgerEntry, Reward
from pos_referral.domain.identity import normalise_phone
from pos_referral.services.customers import CustomerInput
from pos_referral.services.referral_codes import issue_code
from pos_referral.services.refunds import refund_sale
from tests.conftest import FakeClock
from tests.postgres_support import (
    CentralServer,
    ChainStore,
    fresh_database,
    new_chain_store,
    start_central,
    stores_balances,
    till_balances,
)

pytestmark = pytest.mark.postgres


@pytest.fixture
def three_stores(tmp_path: Path, clock: FakeClock) -> Iterator[tuple[CentralServer, list[ChainStore]]]:
    with fresh_database() as url:
        central = start_central(url, tmp_path, clock, pool_size=3)
        server = CentralServer(central)
        stores = [new_chain_store(central, tmp_path, n, server.url, clock, voucher_offline_allowance=1)
                  for n in (1, 2, 3)]
        try:
            for s in stores:
                s.relay.sync(max_attempts=3)
            yield server, stores
        finally:
            server.stop()
            for s in stores:
                s.store.close()
            central.close()


def _sync_all(stores: list[ChainStore]) -> None:
    for s in stores:
        summary = s.relay.sync(max_attempts=3)  # a 500 would raise Unavailable after 3 tries
        assert summary.backlog == 0


def test_full_refund_after_central_released_the_reward_claws_it_back_at_central_and_the_stores(
    three_stores: tuple[CentralServer, list[ChainStore]], clock: FakeClock
) -> None:
    server, stores = three_stores
    one, _, three = stores
    ann = issue_code(one.store.ctx, CustomerInput(identity=normalise_phone("+4798000000")), channel="api",
                     till_id="T0").code
    sale = three.redeem(ann, "+4797000000001")  # store 3 accepts store 1's code offline
    assert isinstance(sale, dict)
    _sync_all(stores)
    clock.advance(days=14)
    assert server.central.release().released == 1
    _sync_all(stores)  # the voucher goes down to every store

    assert refund_sale(three.store.ctx, sale["sale_id"], None)["referrer_reward"] == {"status": "clawed_back"}
    _sync_all(stores)  # store 3's push of the refund answered 500
    _sync_all(stores)  # stores 1 and 2 pulled before store 3 pushed: the revocation reaches them now

    db = server.central.ctx.db
    with db.read_engine.connect() as conn:
        reward = conn.execute(sa.select(Reward.id, Reward.status, Reward.voucher_code)).one()
        assert reward.status == "clawed_back"
        assert conn.execute(sa.select(Code.revoked_at).where(Code.code == reward.voucher_code)).scalar() is not None
        clawbacks = conn.execute(sa.select(sa.func.sum(LedgerEntry.amount_minor)).where(
            LedgerEntry.reward_id == reward.id, LedgerEntry.entry == "clawback")).scalar()
        assert clawbacks is not None and clawbacks < 0
    with one.store.db.read_engine.connect() as conn:  # Ann's home store heard of it through the feed
        assert conn.execute(sa.select(Code.revoked_at).where(Code.code == reward.voucher_code)).scalar() is not None
        assert conn.execute(sa.select(Reward.status).where(Reward.id == reward.id)).scalar() == "clawed_back"
    assert one.redeem(reward.voucher_code, "+4798000000") == "voucher_revoked"
    assert till_balances(db.write_engine) == stores_balances(stores)
