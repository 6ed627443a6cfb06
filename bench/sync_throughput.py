"""Sync throughput: drain a store's 100,000-event backlog to central on PostgreSQL, over HTTP.

The store (SQLite, the real relay) pushes its outbox in batches to a central worker started as
``pos-referral central serve`` in its own process (as in a chain: central is another machine, so
store and central do not share one interpreter lock) on loopback; central stores each event once
and applies it to the chain's business tables. In the same run, a baseline COPYs the very rows
central ended up writing (events plus the customers, codes, redemptions, rewards and ledger rows
they became, into tables with the same indexes) straight into PostgreSQL with psycopg, and, for
reference, the event rows alone.

The backlog is written straight into the store's outbox (the events the till services write: a
referrer's code_issued, then per friend a code_issued and a redemption_recorded), because
recording 100,000 events through the tills would take minutes and measure the tills, not sync.

    python bench/sync_throughput.py [--events 100000] [--batch 2000] [--dsn postgresql://postgres@127.0.0.1/postgres]
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psycopg
import sqlalchemy as sa

from pos_referral.bootstrap import build_store
from pos_referral.db import migrate
from pos_referral.db.base import table
from pos_referral.db.engine import open_database
from pos_referral.db.models import OutboxEvent
from pos_referral.domain.codes import CodeKind, mint
from pos_referral.sync.client import CentralClient
from pos_referral.sync.relay import Relay
from tests.postgres_support import chain_settings
from tests.server_support import free_port

CENTRAL_TABLES = ("customers", "codes", "redemptions", "rewards", "ledger", "central_events")  # parents first


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


def dump(url: str, tables: tuple[str, ...]) -> dict[str, bytes]:
    """The rows central wrote, as COPY text."""
    dumps: dict[str, bytes] = {}
    with psycopg.connect(url, autocommit=True) as conn:
        for name in tables:
            with conn.cursor().copy(f"COPY public.{name} TO STDOUT") as copy:
                dumps[name] = b"".join(bytes(chunk) for chunk in copy)
    return dumps


def copy_rows(conn: psycopg.Connection[Any], schema: str, dumps: dict[str, bytes]) -> float:
    """COPY ``dumps`` (parents before children) in one transaction; returns the seconds it took."""
    started = time.perf_counter()
    with conn.transaction():
        for name, data in dumps.items():
            with conn.cursor().copy(f"COPY {schema}.{name} FROM STDIN") as copy:
                copy.write(data)
    return time.perf_counter() - started


def baseline_into_schema(admin_dsn: str, dumps: dict[str, bytes]) -> float:
    """COPY into a fresh central database made by the same migrations: same indexes, same constraints."""
    name = f"posref_base_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_dsn, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        url = admin_dsn.rsplit("/", 1)[0] + "/" + name
        db = open_database(url, pool_size=1)
        migrate.upgrade(db)
        db.dispose()
        with psycopg.connect(url, autocommit=True) as conn:
            return copy_rows(conn, "public", dumps)
    finally:
        with psycopg.connect(admin_dsn, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def baseline_without_constraints(url: str, dumps: dict[str, bytes]) -> float:
    """COPY into ``LIKE ... INCLUDING ALL`` copies: the same indexes, but no foreign keys to check."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS baseline CASCADE")
        conn.execute("CREATE SCHEMA baseline")
        for name in dumps:
            conn.execute(f"CREATE TABLE baseline.{name} (LIKE public.{name} INCLUDING ALL)")
        elapsed = copy_rows(conn, "baseline", dumps)
        conn.execute("DROP SCHEMA baseline CASCADE")
    return elapsed


def start_central(root: Path, url: str) -> tuple[subprocess.Popen[bytes], str, str]:
    """``pos-referral central serve`` on a free loopback port; returns (process, base URL, store 1's token)."""
    chain_settings(root, 0)  # writes root/config-0 (the shipped defaults)
    env = {**os.environ, "POS_REFERRAL_STORE__NUMBER": "0", "POS_REFERRAL_PRINTER__TYPE": "none"}
    cli = [sys.executable, "-m", "pos_referral", "--config", str(root / "config-0" / "store.toml"),
           "--data-dir", str(root / "data-0"), "central", "serve", "--database", url]
    port = free_port()
    proc = subprocess.Popen([*cli, "--port", str(port)], env=env, stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if proc.poll() is not None:
                raise SystemExit("central did not start") from None
            time.sleep(0.1)
    added = subprocess.run([*cli[:-4], "central", "store", "add", "S001", "--database", url], env=env,
                           check=True, capture_output=True, text=True)
    return proc, base, added.stdout.strip().splitlines()[-1]


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
            central, base, token = start_central(root, url)
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
            central.terminate()
            central.wait(30)
            sync_rate = args.events / elapsed
            dumps = dump(url, CENTRAL_TABLES)
            rows = sum(d.count(b"\n") for d in dumps.values())
            base_s = baseline_into_schema(args.dsn, dumps)
            loose_s = baseline_without_constraints(url, dumps)
            events_s = baseline_without_constraints(url, {"central_events": dumps["central_events"]})
            ratio = sync_rate * base_s / args.events
            print(f"sync (HTTP, ingest once, apply to business tables): {args.events} events in {elapsed:.2f} s "
                  f"= {sync_rate:,.0f} events/s ({summary.batches} batches of {args.batch})")
            print(f"baseline: COPY of the same {rows} rows into a fresh central schema (same migrations: indexes "
                  f"and foreign keys), one transaction: {base_s:.2f} s = {args.events / base_s:,.0f} events/s "
                  f"-> ratio {ratio:.2f}")
            print(f"reference: the same COPY into tables without foreign keys: {loose_s:.2f} s = "
                  f"{args.events / loose_s:,.0f} events/s -> ratio {sync_rate * loose_s / args.events:.2f}")
            print(f"reference: COPY of the event rows alone: {events_s:.2f} s = {args.events / events_s:,.0f} "
                  f"events/s -> ratio {sync_rate * events_s / args.events:.2f}")
            print(f"targets: >= 5,000 events/s [{'ok' if sync_rate >= 5000 else 'MISSED'}], "
                  f">= 0.3 of the baseline [{'ok' if ratio >= 0.3 else 'MISSED'}]")
    finally:
        with psycopg.connect(args.dsn, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
