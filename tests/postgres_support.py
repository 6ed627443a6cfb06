"""Real PostgreSQL for the chain tests: a throwaway database per test, a central served over loopback,
stores on SQLite, and a fault proxy between them.

Tests skip when PostgreSQL is unreachable, except in CI (``CI=true``), where they fail.
"""

from __future__ import annotations

import itertools
import os
import random
import shutil
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from pos_referral import create_app
from pos_referral.bootstrap import Central, Store, build_central, build_store
from pos_referral.central.stores import add_store
from pos_referral.config import Settings, load_settings
from pos_referral.db.models import LedgerEntry, OutboxEvent
from pos_referral.resources import config_dir
from pos_referral.services.customers import CustomerInput
from pos_referral.services.redemptions import RedeemRequest, body_hash, redeem
from pos_referral.sync.client import CentralClient
from pos_referral.sync.relay import Relay

PG_DSN = os.environ.get("POS_REFERRAL_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
IN_CI = os.environ.get("CI", "").lower() == "true"
TILL_ENTRIES = ("friend_discount", "referrer_reward_pending", "sale_refunded", "voucher_redeemed")


def _admin() -> psycopg.Connection[Any]:
    return psycopg.connect(PG_DSN, autocommit=True, connect_timeout=3)


@contextmanager
def fresh_database() -> Iterator[str]:
    """A new, empty PostgreSQL database (dropped afterwards); skips or fails when there is no server."""
    try:
        admin = _admin()
    except psycopg.OperationalError as exc:
        if IN_CI:
            pytest.fail(f"PostgreSQL unreachable in CI: {exc}")
        pytest.skip(f"PostgreSQL unreachable: {exc}")
    name = f"posref_test_{uuid.uuid4().hex[:12]}"
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = PG_DSN.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with _admin() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def chain_settings(root: Path, store_no: int, url: str = "", token: str = "", **central: Any) -> Settings:
    """A store's (or central's, number 0) settings; ``root/program.replace`` lines edit the program."""
    conf = root / f"config-{store_no}"
    if not conf.exists():
        shutil.copytree(config_dir(), conf)
        edits = root / "program.replace"
        if edits.exists():
            program = conf / "programs" / "bring-a-friend.toml"
            text = program.read_text()
            for line in edits.read_text().splitlines():
                old, _, new = line.partition(" => ")
                text = text.replace(old, new)
            program.write_text(text)
    return load_settings(conf / "store.toml", data_dir=root / f"data-{store_no}", environ={}, overrides={
        "store": {"number": store_no}, "printer": {"type": "none"},
        "central": {"url": url, "token": token, **central}})


class _Quiet(WSGIRequestHandler):
    def log(self, type: str, message: str, *args: Any) -> None:
        pass


class CentralServer:
    """A central worker app served on a loopback port (threaded werkzeug server)."""

    def __init__(self, central: Central) -> None:
        self.central = central
        app = create_app(central=central, test_config={"TESTING": True})
        self.server: BaseWSGIServer = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_Quiet)
        self.port = self.server.server_port
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass
class ChainStore:
    store: Store
    relay: Relay
    issued: list[str] = field(default_factory=list)
    sales: itertools.count[int] = field(default_factory=itertools.count)

    @property
    def no(self) -> int:
        return self.store.ctx.store_no

    def redeem(self, code: str, phone: str, basket_minor: int = 5000) -> dict[str, Any] | str:
        """A friend uses ``code`` on a sale; the answer body, or the refusal reason."""
        from pos_referral.domain.errors import Refusal
        from pos_referral.domain.identity import normalise_phone

        sale = f"S{next(self.sales)}"
        req = RedeemRequest(code=code, sale_id=sale, basket_minor=basket_minor,
                            customer=CustomerInput(identity=normalise_phone(phone)), till_id="T1",
                            body_hash=body_hash([code, sale, phone, basket_minor]))
        try:
            return redeem(self.store.ctx, req, f"k-{sale}").body
        except Refusal as exc:
            return exc.code

    def outbox_count(self) -> int:
        with self.store.db.read_engine.connect() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(OutboxEvent)).scalar_one())


def till_balances(engine: sa.Engine) -> dict[tuple[str, str], int]:
    """(customer, entry) -> sum of amounts, over the entries the tills write."""
    with engine.connect() as conn:
        rows = conn.execute(sa.select(LedgerEntry.customer_id, LedgerEntry.entry, sa.func.sum(LedgerEntry.amount_minor))
                            .where(LedgerEntry.entry.in_(TILL_ENTRIES))
                            .group_by(LedgerEntry.customer_id, LedgerEntry.entry)).all()
    return {(r[0], r[1]): int(r[2]) for r in rows}


def stores_balances(stores: list[ChainStore]) -> dict[tuple[str, str], int]:
    """The stores' till balances added up (a referrer known by a placeholder id at several stores)."""
    total: dict[tuple[str, str], int] = {}
    for s in stores:
        for key, amount in till_balances(s.store.db.write_engine).items():
            total[key] = total.get(key, 0) + amount
    return total


def new_chain_store(central: Central, root: Path, store_no: int, url: str, clock: Any, **central_cfg: Any
                    ) -> ChainStore:
    token = add_store(central.ctx.db, store_no, f"Shop {store_no}", central.ctx.clock())
    settings = chain_settings(root, store_no, url, token, **central_cfg)
    store = build_store(settings, clock=clock)
    relay = Relay(store.ctx, CentralClient(url, token, timeout=5), base_delay=0.01, max_delay=0.2)
    return ChainStore(store, relay)


def start_central(database_url: str, root: Path, clock: Any, pool_size: int = 10) -> Central:
    return build_central(chain_settings(root, 0), database_url, clock=clock, pool_size=pool_size)


class FaultProxy:
    """A TCP proxy on loopback that drops, delays, duplicates, reorders and cuts HTTP exchanges.

    The sync client sends one request per connection (``Connection: close``), so the proxy reads
    a whole request, then picks a fault: refuse it, cut the request half way, forward it and cut
    the answer (central applied it; the store must resend), forward it twice, keep a copy to
    replay later out of order, or delay it. ``counts`` says what happened.
    """

    def __init__(self, upstream_port: int, seed: int = 7, rate: float = 0.3) -> None:
        self.upstream = ("127.0.0.1", upstream_port)
        self.rng = random.Random(seed)
        self.rate = rate
        self.counts: dict[str, int] = {}
        self.stash: list[bytes] = []
        self._lock = threading.Lock()
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self._stop = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self._stop.set()
        self.sock.close()

    def _count(self, what: str) -> None:
        with self._lock:
            self.counts[what] = self.counts.get(what, 0) + 1

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(client,), daemon=True).start()

    @staticmethod
    def _read_request(conn: socket.socket) -> bytes:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                return data
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        while len(body) < length:
            chunk = conn.recv(65536)
            if not chunk:
                break
            body += chunk
        return head + b"\r\n\r\n" + body

    def _exchange(self, request: bytes, cut_request: bool = False) -> bytes:
        with socket.create_connection(self.upstream, timeout=30) as up:
            if cut_request:
                up.sendall(request[: len(request) // 2])
                return b""
            up.sendall(request)
            chunks = []
            while chunk := up.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks)

    def _handle(self, client: socket.socket) -> None:
        with client:
            try:
                request = self._read_request(client)
                with self._lock:
                    roll = self.rng.random() / self.rate if self.rate else 99.0
                    pick = self.rng.random()
                    replay = self.stash.pop(self.rng.randrange(len(self.stash))) if self.stash and pick < 0.3 else None
                if replay is not None:  # an old request arrives late, out of order
                    self._count("reordered")
                    self._exchange(replay)
                if roll < 0.15:
                    self._count("dropped")
                    return
                if roll < 0.3:
                    self._count("cut_request")
                    self._exchange(request, cut_request=True)
                    return
                if roll < 0.4:
                    time.sleep(self.rng.uniform(0.01, 0.08))
                    self._count("delayed")
                if roll < 0.55:
                    self._count("duplicated")
                    self._exchange(request)
                if roll < 0.7:
                    with self._lock:
                        self.stash.append(request)
                answer = self._exchange(request)
                if 0.7 <= roll < 0.85:
                    self._count("cut_answer")
                    client.sendall(answer[: len(answer) // 3])
                    return
                if 0.85 <= roll < 1.0:
                    self._count("answer_lost")
                    return
                client.sendall(answer)
            except OSError:
                self._count("socket_error")


@contextmanager
def served_chain(root: Path, clock: Any, stores: int = 2) -> Iterator[tuple[CentralServer, list[ChainStore]]]:
    """Central on a fresh PostgreSQL behind HTTP, with stores 1..n joined (their first sync done)."""
    with fresh_database() as url:
        central = start_central(url, root, clock)
        server = CentralServer(central)
        joined = [new_chain_store(central, root, n, server.url, clock) for n in range(1, stores + 1)]
        for s in joined:
            s.relay.sync()
        try:
            yield server, joined
        finally:
            server.stop()
            for s in joined:
                s.store.close()
            central.close()
