"""Backups taken while eight tills redeem against the real server hold every redemption acknowledged before
the backup started, and one of them restored with ``db restore`` is the shop as it was then."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pos_referral.config import load_settings
from pos_referral.db.engine import database_path
from pos_referral.services.backups.backup import Backup, take_backup
from tests.server_support import Server, cli, make_config

pytestmark = [pytest.mark.reliability, pytest.mark.slow]
CLIENTS = 8
PER_CLIENT = 30


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    srv = Server(make_config(tmp_path), tmp_path / "data")
    srv.add_till()
    srv.start(threads=8)
    yield srv
    srv.stop()


def _till(server: Server, n: int, acked: list[tuple[float, str]], lock: threading.Lock) -> None:
    for i in range(PER_CLIENT):
        status, ann = server.call("POST", "/api/v1/referral-codes", {"customer": {"phone": f"+4793{n:02d}{i:05d}"}})
        assert status == 201, ann
        sale = f"T{n}-S{i}"
        status, body = server.call("POST", "/api/v1/redemptions", {
            "code": ann["code"], "sale_id": sale, "basket_total": "50.00",
            "customer": {"email": f"friend-{n}-{i}@example.com"}}, {"Idempotency-Key": f"k-{sale}"})
        assert status == 201, body
        with lock:
            acked.append((time.monotonic(), body["redemption_id"]))


def _ids(path: Path) -> set[str]:
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return {row[0] for row in conn.execute("SELECT id FROM redemptions")}
    finally:
        conn.close()


def test_backups_during_eight_tills_hold_every_acknowledged_redemption(server: Server, tmp_path: Path) -> None:
    settings = load_settings(server.config, data_dir=server.data_dir, environ={})
    acked: list[tuple[float, str]] = []
    lock = threading.Lock()
    backups: list[tuple[float, Backup]] = []
    with ThreadPoolExecutor(CLIENTS) as pool:
        tills = [pool.submit(_till, server, n, acked, lock) for n in range(CLIENTS)]
        at = datetime(2026, 1, 1, tzinfo=UTC)
        while not all(t.done() for t in tills):
            started = time.monotonic()
            at += timedelta(seconds=1)  # a distinct name per backup
            backups.append((started, take_backup(settings, now=at)))
            time.sleep(0.2)
        for t in tills:
            t.result()
    assert len(acked) == CLIENTS * PER_CLIENT
    assert len(backups) >= 3, "the tills finished before backups could overlap them"
    for started, backup in backups:  # each backup: everything acknowledged before it started is in it
        before = {rid for at_, rid in acked if at_ < started}
        assert before <= _ids(backup.path), backup.path
    started, chosen = next((s, b) for s, b in backups[1:] if 0 < sum(a < s for a, _ in acked) < len(acked))
    refused = subprocess.run([sys.executable, "-m", "pos_referral", "--config", str(server.config), "--data-dir",
                              str(server.data_dir), "db", "restore", str(chosen.path), "--yes"],
                             capture_output=True, text=True, timeout=120)
    assert refused.returncode != 0 and "serve is running" in refused.stderr  # the real serve holds its lock
    server.stop()
    out = cli(server.config, server.data_dir, "db", "restore", str(chosen.path), "--yes")
    assert "restored" in out
    restored = _ids(database_path(server.data_dir))
    assert {rid for at_, rid in acked if at_ < started} <= restored
    assert len(restored) < len(acked)  # the backup is the shop as it was then, not now
