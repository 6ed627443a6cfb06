"""kill -9 during a stream of redemptions, three times: every acknowledged one survives, intact; and during a
stream of quotes: every quote answered is counted in the reports after the restart."""

from __future__ import annotations

import http.client
import sqlite3
import threading
import time
from collections.abc import Callable
from functools import partial
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


Stream = Callable[[threading.Event], None]


def _kill_9_during(server: Server, streams: list[Stream]) -> None:
    """Run the client streams against the server for 1.5 s, kill -9 it under them, and let them end."""
    stop = threading.Event()
    clients = [threading.Thread(target=stream, args=(stop,)) for stream in streams]
    for c in clients:
        c.start()
    time.sleep(1.5)
    server.kill9()
    stop.set()
    for c in clients:
        c.join(timeout=10)


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
        _kill_9_during(server, [partial(_stream, server, code, (round_no * 4 + i) * 100_000, acked)
                                for i in range(4)])
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


def _quote_stream(server: Server, code: str, start: int, answered: list[int], stop: threading.Event) -> None:
    """Quotes for ever new friends; each basket is unique, so the report fact tells which quote it was."""
    n = start
    while not stop.is_set():
        basket = 2000 + n
        body = {"code": code, "basket_total": f"{basket // 100}.{basket % 100:02d}",
                "customer": {"email": f"quote{n}@example.com"}}
        try:
            status, _ = server.call("POST", "/api/v1/checkouts/quote", body, timeout=5)
        except (OSError, http.client.HTTPException):
            return  # the server died under us: this one was never answered
        if status == 200:
            answered.append(basket)
        n += 1


def test_every_quote_answered_before_kill_9_is_counted_after_restart(tmp_path: Path) -> None:
    server = Server(make_config(tmp_path), tmp_path / "data")
    server.add_till()
    server.start()
    code = server.call("POST", "/api/v1/referral-codes", {"customer": {"phone": "+4790000001"}})[1]["code"]
    answered: list[int] = []
    _kill_9_during(server, [partial(_quote_stream, server, code, i * 1_000_000, answered) for i in range(4)])
    assert len(answered) > 50, "the stream should have answered many quotes before the kill"
    server.start()
    try:
        db = sqlite3.connect(tmp_path / "data" / "pos-referral.db")
        counted = [row[0] for row in db.execute("SELECT basket_minor FROM report_events WHERE kind = 'quote'")]
        db.close()
        assert set(answered) <= set(counted), f"{len(set(answered) - set(counted))} answered quotes were lost"
        assert len(counted) == len(set(counted))  # and none was counted twice
    finally:
        server.stop()
