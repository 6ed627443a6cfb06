"""The audit head goes to central on sync (real PostgreSQL), and central keeps it when a store's log shrinks."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from pos_referral.bootstrap import Central
from pos_referral.central.audit_heads import heads
from pos_referral.services import audit, staff
from pos_referral.services.audit_head import head_path, read_head
from pos_referral.services.unit_of_work import UnitOfWork
from tests.conftest import FakeClock
from tests.postgres_support import CentralServer, ChainStore, fresh_database, new_chain_store, start_central

pytestmark = pytest.mark.postgres


@pytest.fixture
def chain(tmp_path: Path, clock: FakeClock) -> Iterator[tuple[Central, ChainStore]]:
    with fresh_database() as url:
        central = start_central(url, tmp_path, clock)
        server = CentralServer(central)
        shop = new_chain_store(central, tmp_path, 1, server.url, clock)
        shop.relay.sync()  # join the chain
        try:
            yield central, shop
        finally:
            server.stop()
            shop.store.close()
            central.close()


def test_central_keeps_each_stores_audit_head_and_refuses_a_shorter_one(chain: tuple[Central, ChainStore],
                                                                       clock: FakeClock) -> None:
    central, shop = chain
    for name in ("A1", "A2", "A3"):
        staff.add_staff(shop.store.ctx, name, "cashier", pin="246813")
    path = head_path(shop.store.settings.data_dir)
    head = read_head(path)
    assert head is not None and head.entries == 3
    shop.relay.sync()
    kept = heads(central.ctx.db)[1]
    assert (kept.entries, kept.last_id, kept.mac, kept.refused_at) == (3, 3, head.mac, None)

    # someone cuts the log's tail and writes the head file to match: central still holds the truth
    with sqlite3.connect(shop.store.settings.data_dir / "pos-referral.db") as con:
        first_mac = con.execute("SELECT hash FROM audit_log WHERE id = 1").fetchone()[0]
        con.execute("DELETE FROM audit_log WHERE id > 1")
    path.write_text(json.dumps({"entries": 1, "last_id": 1, "mac": first_mac}))
    clock.advance(minutes=5)
    shop.relay.sync()
    kept = heads(central.ctx.db)[1]
    assert (kept.entries, kept.mac, kept.refused_entries) == (3, head.mac, 1) and kept.refused_at is not None


def test_central_audit_entries_written_at_once_stay_one_chain(chain: tuple[Central, ChainStore]) -> None:
    """Two managers acting on central at the same moment: each entry waits for the other (no fork, no clash)."""
    central, _ = chain
    ctx = central.ctx
    start = threading.Barrier(8)

    def act(n: int) -> None:
        start.wait()
        with UnitOfWork(ctx.db, write=True) as uow:
            audit.record(ctx, uow.session, f"manager{n}", "test", f"entry {n}", ctx.clock())
            uow.commit()

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(act, range(8)))
    with UnitOfWork(ctx.db, write=False) as uow:
        check = audit.verify_chain(uow.session, ctx.secrets.audit_key, None)
    assert check.bad_id is None and check.entries == 8, check.problem  # central keeps no head file: only the chain
