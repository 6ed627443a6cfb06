"""kill -9 during a stream of redemptions, three times: every acknowledged one survives, intact."""

from __future__ import annotations

import http.client
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from tests.server_support import Server, make_config

pytestmark = [pytest.mark.reliability, pytest.mark.slow]


def _stream(server: Server, code: str, start: int, acked: list[str], stop: threading.Event) -> None:
    n = start
    while not stop.is_set():
        body = {"code": code, "sale_id": f"S{n}", "basket_total": "50.00",
                "customer": {"email": f"friend{n}@example.com"}}
        try:
            status, answer = server.call("POST", "/api/v1/redemptions", body, {"Idempotency-Key": f"k{n}"}, timeout=5)
        except (OSError, http.client.HTTPException):
            return  # the server died under us: this one was never acknowledged
        if status == 201:
            acked.append(answer["redemption_id"])
        n += 1


def test_acknowledged_redemptions_survive_kill_9(tmp_path: Path) -> None:
    config = make_config(tmp_path, {"max_count = 10": "max_count = 0", 'max_amount = "100.00"': 'max_amount = "0"'})
    server = Server(config, tmp_path / "data")
    server.add_till()
    acked: list[str] = []
    code = ""
    for round_no in range(3):
        server.start()
        if not code:
            code = server.call("POST", "/api/v1/referral-codes", {"customer": {"phone": "+4790000001"}})[1]["code"]
        stop = threading.Event()
        clients = [threading.Thread(target=_stream, args=(server, code, (round_no * 4 + i) * 100_000, acked, stop))
                   for i in range(4)]
        for c in clients:
            c.start()
        time.sleep(1.5)
        server.kill9()
        stop.set()
        for c in clients:
            c.join(timeout=10)
    assert len(acked) > 50, "the stream should have recorded many redemptions before each kill"
    db = sqlite3.connect(tmp_path / "data" / "pos-referral.db")
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    stored = {row[0] for row in db.execute("SELECT id FROM redemptions")}
    assert set(acked) <= stored
    # nothing half-written: each redemption has its ledger entries, pending reward and outbox event
    orphans = db.execute("""SELECT count(*) FROM redemptions r WHERE
        (SELECT count(*) FROM ledger l WHERE l.redemption_id = r.id) != 2 OR
        (SELECT count(*) FROM rewards w WHERE w.redemption_id = r.id) != 1""").fetchone()[0]
    assert orphans == 0
    events = db.execute("SELECT count(*) FROM outbox WHERE type = 'redemption_recorded'").fetchone()[0]
    assert events == len(stored)
    server.start()  # and it still starts and answers afterwards
    assert server.call("GET", "/healthz")[0] == 200
    server.stop()
