"""The chain on a real PostgreSQL: migrations, store tokens, offline codes from other stores, vouchers
coming back, conflicts between offline stores, and concurrent central workers."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from pos_referral.central.ingest import ingest
from pos_referral.central.reconciliation import open_conflicts
from pos_referral.central.stores import add_store, store_for_token, sync_lag
from pos_referral.db import migrate
from pos_referral.db.engine import open_database
from pos_referral.db.models import Code, Redemption, Reward
from pos_referral.db.models_central import CentralEvent
from pos_referral.domain.identity import normalise_phone
from pos_referral.services.customers import CustomerInput
from pos_referral.services.referral_codes import issue_code
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
def pg_url() -> Iterator[str]:
    with fresh_database() as url:
        yield url


@pytest.fixture
def chain(pg_url: str, tmp_path: Path, clock: FakeClock) -> Iterator[tuple[CentralServer, list[ChainStore]]]:
    central = start_central(pg_url, tmp_path, clock)
    server = CentralServer(central)
    stores = [new_chain_store(central, tmp_path, n, server.url, clock) for n in (1, 2)]
    for s in stores:
        s.relay.sync()  # join: take the chain's keys before the first sale
    yield server, stores
    server.stop()
    for s in stores:
        s.store.close()
    central.close()


def _code_for(store: ChainStore, phone: str) -> str:
    return issue_code(store.store.ctx, CustomerInput(identity=normalise_phone(phone)), channel="api",
                      till_id="T1").code


def _count(engine: sa.Engine, query: sa.Select[tuple[int]]) -> int:
    with engine.connect() as conn:
        return int(conn.execute(query).scalar_one())


def test_migrations_run_up_and_down_on_postgres(pg_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from pos_referral.db.base import Base

    db = open_database(pg_url)
    try:
        migrate.upgrade(db)
        assert {"central_events", "central_stores", "central_changes", "codes"} <= migrate.table_names(db)
        with db.write_engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
        migrate.downgrade(db, "base")
        assert migrate.table_names(db) <= {"alembic_version"}
        migrate.upgrade(db)
    finally:
        db.dispose()


@pytest.mark.slow
def test_store_add_prints_the_sync_token_as_last_line(pg_url: str, tmp_path: Path) -> None:
    from tests.server_support import make_config

    config = make_config(tmp_path)
    out = subprocess.run([sys.executable, "-m", "pos_referral", "--config", str(config), "--data-dir",
                          str(tmp_path / "d"), "central", "--database", pg_url, "store", "add", "S001"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    token = out.stdout.strip().splitlines()[-1]
    db = open_database(pg_url)
    try:
        assert store_for_token(db, token) == 1
    finally:
        db.dispose()


def test_code_from_another_store_is_accepted_offline_and_its_voucher_comes_back(
    chain: tuple[CentralServer, list[ChainStore]], clock: FakeClock
) -> None:
    server, (one, two) = chain
    ann = _code_for(one, "+4790000001")  # store 1 has not synced: store 2 knows nothing of Ann
    answer = two.redeem(ann, "+4790000002")
    assert isinstance(answer, dict) and answer["discount"] == "5.00"
    two.relay.sync()
    one.relay.sync()
    db = server.central.ctx.db
    ann_id = _count(db.write_engine, sa.select(sa.func.count()).select_from(Reward))  # one pending reward
    assert ann_id == 1
    with db.read_engine.connect() as conn:
        owner = conn.execute(sa.select(Code.customer_id).where(Code.code == ann)).scalar_one()
        assert conn.execute(sa.select(Reward.customer_id)).scalar_one() == owner  # the placeholder became Ann
        assert conn.execute(sa.select(Redemption.referrer_id)).scalar_one() == owner
    clock.advance(days=15)
    assert server.central.release().released == 1
    one.relay.sync()
    two.relay.sync()
    with db.read_engine.connect() as conn:
        voucher = conn.execute(sa.select(Reward.voucher_code)).scalar_one()
    assert voucher is not None
    assert two.redeem(voucher, "+4790000001") == "store_not_allowed"  # not Ann's store, no allowance
    used = one.redeem(voucher, "+4790000001")
    assert isinstance(used, dict) and used["discount"] == "10.00"
    one.relay.sync()
    with db.read_engine.connect() as conn:
        assert conn.execute(sa.select(Code.redeemed_at).where(Code.code == voucher)).scalar_one() is not None
    assert till_balances(db.write_engine) == stores_balances([one, two])
    lag = {row.store_no: row for row in sync_lag(db, clock())}
    assert lag[1].cursor == one.outbox_count() and lag[2].cursor == two.outbox_count()


def test_same_friend_and_same_voucher_at_two_offline_stores(
    chain: tuple[CentralServer, list[ChainStore]], clock: FakeClock, pg_url: str, tmp_path: Path
) -> None:
    server, (one, two) = chain
    ann, bob = _code_for(one, "+4790000001"), _code_for(two, "+4790000009")
    # Ann brings Bob's... no: one friend, Cleo, brought by Ann at store 1 and by Bob at store 2, both offline
    assert isinstance(one.redeem(ann, "+4790000005"), dict)
    assert isinstance(two.redeem(bob, "+4790000005"), dict)  # store 2 cannot know: the sale stands
    one.relay.sync()
    two.relay.sync()
    db = server.central.ctx.db
    live = sa.select(sa.func.count()).select_from(Reward).where(Reward.status.in_(("pending", "released")))
    assert _count(db.write_engine, live) == 1
    kinds = [c.kind for c in open_conflicts(db)]
    assert kinds == ["duplicate_friend"]
    # the voucher Ann earns, used at both stores while they are offline (store 2 has an allowance)
    clock.advance(days=15)
    server.central.release()
    with db.read_engine.connect() as conn:
        voucher = conn.execute(sa.select(Reward.voucher_code).where(Reward.status == "released")).scalar_one()
    two_allowed = new_chain_store(server.central, tmp_path, 3, server.url, clock, voucher_offline_allowance=2)
    try:
        one.relay.sync()
        two_allowed.relay.sync()
        assert isinstance(one.redeem(voucher, "+4790000001"), dict)
        assert isinstance(two_allowed.redeem(voucher, "+4790000001"), dict)  # offline: within its allowance
        one.relay.sync()
        two_allowed.relay.sync()
        assert sorted(c.kind for c in open_conflicts(db)) == ["duplicate_friend", "voucher_double_use"]
        assert _count(db.write_engine, live) == 1  # still exactly one reward
    finally:
        two_allowed.store.close()


@pytest.mark.slow
def test_eight_concurrent_workers_ingest_overlapping_batches_once(
    pg_url: str, tmp_path: Path, clock: FakeClock
) -> None:
    central = start_central(pg_url, tmp_path, clock)
    server = CentralServer(central)
    stores = [new_chain_store(central, tmp_path, n, server.url, clock) for n in (1, 2, 3)]
    try:
        for s in stores:
            s.relay.sync()
        codes = [_code_for(s, f"+47911{s.no}0000") for s in stores]
        for i in range(60):
            for s in stores:
                s.redeem(codes[(i + s.no) % 3], f"+4792{s.no}{i:05d}")
        batches = []
        for s in stores:
            with s.store.db.read_engine.connect() as conn:
                rows = conn.execute(sa.text("SELECT seq, event_id, type, payload, created_at FROM outbox "
                                            "ORDER BY seq")).all()
            import json

            events = [{"event_id": r[1], "seq": r[0], "type": r[2], "payload": json.loads(r[3]),
                       "created_at": r[4].replace(" ", "T") + "+00:00"} for r in rows]
            for start in range(0, len(events), 15):  # overlapping windows: every event is in several batches
                chunk = events[start:start + 40]
                batches.append((s.no, events[start - 1]["seq"] if start else 0, chunk))
        errors: list[BaseException] = []
        workers = [start_central(pg_url, tmp_path, clock, pool_size=2) for _ in range(8)]

        def work(k: int) -> None:
            try:
                for j in range(k, len(batches) * 3, 8):  # every batch, three times, spread over the workers
                    store_no, after, chunk = batches[j % len(batches)]
                    ingest(workers[k].ctx, store_no, after, chunk)
            except BaseException as exc:  # the test reports any failure
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for w in workers:
            w.close()
        assert errors == []
        for s in stores:  # stragglers (a batch whose predecessor came later) arrive with the relay
            s.relay.sync()
        total = sum(s.outbox_count() for s in stores)
        assert _count(central.ctx.db.write_engine, sa.select(sa.func.count()).select_from(CentralEvent)) == total
        assert till_balances(central.ctx.db.write_engine) == stores_balances(stores)
        # every redemption and every reward once: as many as the stores wrote (past a referrer's cap the
        # friend still redeems and the referrer earns nothing, so there are fewer rewards than redemptions)
        for table in (Redemption, Reward):
            written = sum(_count(s.store.db.read_engine, sa.select(sa.func.count()).select_from(table)) for s in stores)
            assert _count(central.ctx.db.write_engine, sa.select(sa.func.count()).select_from(table)) == written
    finally:
        server.stop()
        for s in stores:
            s.store.close()
        central.close()


def test_sync_endpoints_need_a_store_token(chain: tuple[CentralServer, list[ChainStore]]) -> None:
    import urllib.error
    import urllib.request

    server, _ = chain
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(server.url + "/sync/v1/changes?since=0", timeout=5)
    assert err.value.code == 401
    add_store(server.central.ctx.db, 9, "", server.central.ctx.clock())  # a new token works at once
