"""Sync throughput: drain a store's 100,000-event backlog to central on PostgreSQL, over HTTP.

The store (SQLite, the real relay) pushes its outbox in batches to a central worker served by
waitress on loopback; central stores each event once and applies it to the chain's business
tables. In the same run, a baseline COPYs the very rows central ended up writing (events plus
the customers, codes, redemptions, rewards and ledger rows they became, into tables with the
same indexes) straight into PostgreSQL with psycopg, and, for reference, the event rows alone.

The backlog is written straight into the store's outbox (the events the till services write: a
referrer's code_issued, then per friend a code_issued and a redemption_recorded), because
recording 100,000 events through the tills would take minutes and measure the tills, not sync.

    python bench/sync_throughput.py [--events 100000] [--batch 2000] [--dsn postgresql://postgres@127.0.0.1/postgres]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psycopg
import sqlalchemy as sa
import waitress.server

from pos_referral.bootstrap import build_store
from pos_referral.central.service import build_central, create_central_app
from pos_referral.central.stores import add_store
from pos_referral.db.base import table
from pos_referral.db.models import OutboxEvent
from pos_referral.domain.codes import CodeKind, mint
from pos_referral.sync.client import CentralClient
from pos_referral.sync.relay import Relay
from tests.postgres_support import chain_settings

CENTRAL_TABLES = ("central_events", "customers", "codes", "redemptions", "rewards", "ledger")


def synthesize_backlog(store: Any, n_events: int) -> None:
    """Outbox rows exactly as the till services write them (see services/redemptions.py)."""
    ctx = store.ctx
    key = ctx.secrets.keyring.current()
    now = datetime(2026, 6, 15, 12, tzinfo=UTC)
    rows: list[dict[str, Any]] = []
    seq = 0
    referrer: tuple[str, str] | None = None
    while len(rows) < n_events:
        at = (now + timedelta(seconds=len(rows))).isoformat()
        if referrer is None or seq % 40 == 0:
            cid, code = uuid.uuid4().hex, mint(CodeKind.REFERRAL, ctx.store_no, seq, key)
            seq += 1
            rows.append(dict(type="code_issued", payload={
                "code": code, "customer_id": cid, "program_id": "bring-a-friend", "channel": "api",
                "store_no": ctx.store_no, "till_id": "T1", "identity_hash": uuid.uuid4().hex * 2,
                "first_name": "", "at": at}))
            referrer = (cid, code)
            continue
        friend, own = uuid.uuid4().hex, mint(CodeKind.REFERRAL, ctx.store_no, seq, key)
        seq += 1
        ihash = uuid.uuid4().hex * 2
        rows.append(dict(type="code_issued", payload={
            "code": own, "customer_id": friend, "program_id": "bring-a-friend", "channel": "receipt",
            "store_no": ctx.store_no, "till_id": "T1", "identity_hash": ihash, "first_name": "", "at": at}))
        rows.append(dict(type="redemption_recorded", payload={
            "redemption_id": uuid.uuid4().hex, "code": referrer[1], "program_id": "bring-a-friend",
            "referrer_id": referrer[0], "friend_id": friend, "friend_identity_hash": ihash, "sale_id": f"S{seq}",
            "till_id": "T1", "store_no": ctx.store_no, "basket": "50.00", "discount": "5.00", "friend_code": own,
            "at": at, "variant": "", "reward_id": uuid.uuid4().hex,
            "hold_until": (now + timedelta(days=14)).isoformat(), "friend_points": 0}))
    with store.db.write_engine.connect() as conn:
        conn.execute(sa.insert(table(OutboxEvent)), [
            dict(event_id=uuid.uuid4().hex, type=r["type"], payload=r["payload"], created_at=now)
            for r in rows[:n_events]])
        conn.commit()


def copy_baseline(dsn: str, tables: tuple[str, ...]) -> tuple[float, int]:
    """COPY the rows of ``tables`` into empty copies (same indexes); returns (seconds, rows)."""
    dumps: dict[str, bytes] = {}
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS baseline CASCADE")
        conn.execute("CREATE SCHEMA baseline")
        for name in tables:
            conn.execute(f"CREATE TABLE baseline.{name} (LIKE public.{name} INCLUDING ALL)")
            with conn.cursor().copy(f"COPY public.{name} TO STDOUT") as copy:
                dumps[name] = b"".join(bytes(chunk) for chunk in copy)
        rows = sum(d.count(b"\n") for d in dumps.values())
        started = time.perf_counter()
        with conn.transaction():
            for name in tables:
                with conn.cursor().copy(f"COPY baseline.{name} FROM STDIN") as copy:
                    copy.write(dumps[name])
        elapsed = time.perf_counter() - started
        conn.execute("DROP SCHEMA baseline CASCADE")
    return elapsed, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=2000)
    parser.add_argument("--dsn", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    name = f"posref_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(args.dsn, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = args.dsn.rsplit("/", 1)[0] + "/" + name
    try:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            central = build_central(chain_settings(root, 0), url, pool_size=8)
            app = create_central_app(central)
            server = waitress.server.create_server(app, host="127.0.0.1", port=0, threads=8)
            port = server.effective_port  # type: ignore[union-attr]
            threading.Thread(target=server.run, daemon=True).start()
            base = f"http://127.0.0.1:{port}"
            token = add_store(central.ctx.db, 1, "bench", central.ctx.clock())
            store = build_store(chain_settings(root, 1, base, token))
            relay = Relay(store.ctx, CentralClient(base, token, timeout=60), batch_size=args.batch)
            relay.sync()  # join the chain (keys) before the backlog is minted
            synthesize_backlog(store, args.events)
            assert relay.backlog() == args.events
            started = time.perf_counter()
            summary = relay.sync()
            elapsed = time.perf_counter() - started
            assert summary.backlog == 0 and summary.pushed == args.events, summary
            store.close()
            server.close()
            central.close()
            sync_rate = args.events / elapsed
            all_s, all_rows = copy_baseline(url, CENTRAL_TABLES)
            ev_s, _ = copy_baseline(url, ("central_events",))
            print(f"sync (HTTP, ingest once, apply to business tables): {args.events} events in {elapsed:.2f} s "
                  f"= {sync_rate:,.0f} events/s ({summary.batches} batches of {args.batch})")
            print(f"baseline COPY of the same rows central wrote ({all_rows} rows in {len(CENTRAL_TABLES)} tables): "
                  f"{all_s:.2f} s = {args.events / all_s:,.0f} events/s -> ratio {sync_rate * all_s / args.events:.2f}")
            print(f"reference COPY of the event rows alone: {ev_s:.2f} s = {args.events / ev_s:,.0f} events/s "
                  f"-> ratio {sync_rate * ev_s / args.events:.2f}")
            print(f"targets: >= 5,000 events/s [{'ok' if sync_rate >= 5000 else 'MISSED'}], "
                  f">= 0.3 of the baseline [{'ok' if sync_rate * all_s / args.events >= 0.3 else 'MISSED'}]")
    finally:
        with psycopg.connect(args.dsn, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
