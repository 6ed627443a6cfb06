"""Engines for the store (SQLite, WAL, synchronous=FULL) and central (PostgreSQL via psycopg 3).

SQLite's Python driver opens transactions lazily and as DEFERRED, so two writers can both read
and then fail to upgrade ("database is locked"). We take transaction control ourselves: the
write engine begins every transaction with ``BEGIN IMMEDIATE`` (writers queue instead of
failing), the read engine with a plain ``BEGIN`` (WAL readers never block). Transactions are
opened only by ``services.unit_of_work.UnitOfWork``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event

BUSY_TIMEOUT_MS = 30_000  # the default; ``[server] busy_timeout_seconds`` sets the store's


def database_path(data_dir: Path) -> Path:
    return data_dir / "pos-referral.db"


def sqlite_url(data_dir: Path) -> str:
    return f"sqlite:///{database_path(data_dir).as_posix()}"


def configure_sqlite(dbapi_conn: Any, busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> None:
    """The store's connection settings: WAL, durable commits, busy timeout, foreign keys."""
    dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def _sqlite_engine(url: str, *, immediate: bool, pool_size: int, busy_timeout_ms: int) -> sa.Engine:
    engine = sa.create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": busy_timeout_ms / 1000},
        pool_size=pool_size,
        max_overflow=pool_size * 2,
        pool_pre_ping=False,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        configure_sqlite(dbapi_conn, busy_timeout_ms)

    begin = "BEGIN IMMEDIATE" if immediate else "BEGIN"

    @event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        # on the driver: a statement through SQLAlchemy here costs more than the BEGIN itself
        conn.connection.driver_connection.execute(begin)  # type: ignore[union-attr]

    return engine


@dataclass(frozen=True)
class Database:
    """A writer and a reader engine over one database (the same engine on PostgreSQL)."""

    write_engine: sa.Engine
    read_engine: sa.Engine
    # SQLite allows one writer; queueing writers of this process on a lock (first come, first
    # served) beats SQLite's busy handler, which sleeps in growing steps and makes p99 explode.
    # Other processes (the CLI) still wait on busy_timeout. PostgreSQL needs no such lock.
    write_lock: threading.RLock | None = None
    # how long a writer waits for that lock (and SQLite for another process's lock) before giving up
    # with DatabaseBusyError / "database is locked": the till then answers 503 database_busy
    busy_timeout: float = BUSY_TIMEOUT_MS / 1000

    @property
    def url(self) -> str:
        return self.write_engine.url.render_as_string(hide_password=False)

    @property
    def is_sqlite(self) -> bool:
        return self.write_engine.dialect.name == "sqlite"

    @property
    def path(self) -> str | None:
        """The SQLite file (None on PostgreSQL or for an in-memory database)."""
        name = self.write_engine.url.database if self.is_sqlite else None
        return name if name and name != ":memory:" else None

    def dispose(self) -> None:
        self.write_engine.dispose()
        if self.read_engine is not self.write_engine:
            self.read_engine.dispose()


def open_database(url: str, *, pool_size: int = 8, busy_timeout: float = BUSY_TIMEOUT_MS / 1000) -> Database:
    """Build engines for ``url``: SQLite gets the store settings, PostgreSQL gets psycopg 3."""
    busy_ms = max(1, int(busy_timeout * 1000))
    if url.startswith("sqlite"):
        write = _sqlite_engine(url, immediate=True, pool_size=pool_size, busy_timeout_ms=busy_ms)
        read = _sqlite_engine(url, immediate=False, pool_size=pool_size, busy_timeout_ms=busy_ms)
    else:
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url[len("postgresql://") :]
        write = sa.create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)
        read = write
    return Database(
        write_engine=write,
        read_engine=read,
        write_lock=threading.RLock() if write.dialect.name == "sqlite" else None,
        busy_timeout=busy_timeout,
    )
