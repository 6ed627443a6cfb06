"""``serve`` stops cleanly on SIGTERM (systemd's stop) and Ctrl+C while the till sells and the printer prints:
exit code 0, every acknowledged sale whole, no print job lost or stuck half-sent, and the log says so."""

from __future__ import annotations

import http.client
import re
import signal
import sqlite3
import stat
import threading
import time
from pathlib import Path

import pytest

from tests.printing_support import FakeNetworkPrinter
from tests.server_support import Server, make_config

pytestmark = [pytest.mark.reliability, pytest.mark.slow]

LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (DEBUG|INFO|WARNING|ERROR|CRITICAL) [\w.]+: .*$")


def _redeem(server: Server, code: str, start: int, acked: list[str], stop: threading.Event) -> None:
    n = start
    while not stop.is_set():
        body = {"code": code, "sale_id": f"S{n}", "basket_total": "50.00",
                "customer": {"phone": f"+479{n:07d}"}}
        try:
            status, answer = server.call("POST", "/api/v1/redemptions", body, {"Idempotency-Key": f"k{n}"}, timeout=5)
        except (OSError, http.client.HTTPException):
            return  # the server stopped under us: this one was never acknowledged
        if status == 201:
            acked.append(answer["redemption_id"])
        n += 1


def _jobs(db_path: Path) -> dict[str, int]:
    with sqlite3.connect(db_path) as db:
        return dict(db.execute("SELECT status, count(*) FROM print_jobs GROUP BY status").fetchall())


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGINT])
def test_serve_stops_cleanly_during_sales_and_printing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                       how: signal.Signals) -> None:
    printer = FakeNetworkPrinter()
    monkeypatch.setenv("POS_REFERRAL_PRINTER__TYPE", "network")
    monkeypatch.setenv("POS_REFERRAL_PRINTER__HOST", "127.0.0.1")
    monkeypatch.setenv("POS_REFERRAL_PRINTER__PORT", str(printer.port))
    config = make_config(tmp_path, {"max_count = 10": "max_count = 0", 'max_amount = "100.00"': 'max_amount = "0"'})
    data = tmp_path / "data"
    server = Server(config, data)
    server.add_till()
    try:
        server.start()
        code = server.call("POST", "/api/v1/referral-codes", {"customer": {"phone": "+4790000001"}})[1]["code"]
        acked: list[str] = []
        stop = threading.Event()
        clients = [threading.Thread(target=_redeem, args=(server, code, i * 100_000, acked, stop)) for i in range(2)]
        for client in clients:
            client.start()
        time.sleep(1.0)
        assert server.proc is not None
        server.proc.send_signal(how)  # while the clients sell and the worker prints their footers
        assert server.proc.wait(timeout=30) == 0
        stop.set()
        for client in clients:
            client.join(timeout=10)
        assert len(acked) > 10

        db = sqlite3.connect(data / "pos-referral.db")
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert set(acked) <= {row[0] for row in db.execute("SELECT id FROM redemptions")}
        orphans = db.execute("""SELECT count(*) FROM redemptions r WHERE
            (SELECT count(*) FROM ledger l WHERE l.redemption_id = r.id) != 2 OR
            (SELECT count(*) FROM print_jobs p WHERE p.redemption_id = r.id) != 1""").fetchone()[0]
        assert orphans == 0
        db.close()
        jobs = _jobs(data / "pos-referral.db")
        assert set(jobs) <= {"done", "queued"}, jobs  # none half-sent, none given up
        assert len(printer.jobs) >= jobs.get("done", 0)

        server.start()  # the footers left queued print after the restart
        deadline = time.monotonic() + 30
        while set(_jobs(data / "pos-referral.db")) != {"done"} and time.monotonic() < deadline:
            time.sleep(0.2)
        assert set(_jobs(data / "pos-referral.db")) == {"done"}
        server.proc.send_signal(signal.SIGTERM)
        assert server.proc.wait(timeout=30) == 0
    finally:
        server.stop()
        printer.close()

    log = data / "pos-referral.log"
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    lines = log.read_text(encoding="utf-8").splitlines()
    assert all(LOG_LINE.match(line) for line in lines), [line for line in lines if not LOG_LINE.match(line)]
    said = "\n".join(lines)
    assert f"stopping on {how.name}" in said and "store 1 stopped" in said
    assert code not in said and "+4790000001" not in said
