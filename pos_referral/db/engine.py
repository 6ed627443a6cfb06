"""Engines for the store (SQLite, WAL, synchronous=FULL) and central (PostgreSQL via psycopg 3).

SQLite's Python driver opens transactions lazily and as DEFERRED, so two writers can both read
and then fail to upgrade ("database is locked"). We take transaction control ourselves: the
write engine begins every transaction with ``BEGIN IMMEDIATE`` (writers queue on the busy
timeout instead of failing), the read engine with a plain ``BEGIN`` (WAL readers never block).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
import sqlalchemy.orm as so
from sqlalchemy import event

from pos_referral.db.perf_raw import RawReaders

BUSY_TIMEOUT_MS = 30_000
T = TypeVar("T")


def sqlite_url(data_dir: Path) -> str:
    return f"sqlite:///{(data_dir / 'pos-referral.db').as_posix()}"


def configure_sqlite(dbapi_conn: Any) -> None:
    """The store's connection settings: WAL, durable commits, busy timeout, foreign keys."""
    dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def _sqlite_engine(url: str, *, immediate: bool, pool_size: int) -> sa.Engine:
    engine = sa.create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000},
        pool_size=pool_size,
        max_overflow=pool_size * 2,
        pool_pre_ping=False,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        configure_sqlite(dbapi_conn)

    begin = "BEGIN IMMEDIATE" if immediate else "BEGIN"

    @event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        # on the driver itself: SQLAlchemy's execution context for one fixed statement cost ~40 us
        # on every write transaction (each redemption batch begins one)
        conn.connection.dbapi_connection.execute(begin)  # type: ignore[union-attr]

    return engine


def close_rolled_back(conn: sa.Connection) -> None:
    """Close ``conn`` with its transaction surely ended.

    When COMMIT itself fails (a deferred constraint, I/O error) SQLite keeps the transaction open
    and SQLAlchemy's close does not roll it back: the pooled connection would go on holding the
    write lock and refuse every later ``BEGIN``. Roll back on the driver, or drop the connection."""
    try:
        driver = conn.connection.driver_connection
        if getattr(driver, "in_transaction", False):
            driver.rollback()  # type: ignore[union-attr]
    except Exception:
        conn.invalidate()
    finally:
        conn.close()


class GroupCommitFailed(RuntimeError):
    """The shared COMMIT of a batch failed: nothing of the batch was kept."""


@dataclass
class _Unit(Generic[T]):
    work: Callable[[sa.Connection], T]
    done: bool = False
    result: T | None = None
    error: BaseException | None = None
    # held while the unit's thread sleeps; released once: when the unit is done, or to make it lead
    wake: threading.Lock = field(default_factory=threading.Lock)


class GroupCommit:
    """Write units of several threads sharing one transaction and one durable COMMIT (one fsync).

    The first waiting thread leads: it takes the write lock, runs every queued unit inside its own
    SAVEPOINT (a unit that raises is rolled back alone and its caller gets the exception), then
    COMMITs once; a batch of one runs in the transaction itself (ROLLBACK if it raises), two
    statements fewer for a till that is alone. No caller returns before that COMMIT has returned
    (``synchronous=FULL``: on disk); if it fails, every unit of the batch fails and nothing of the batch was kept. Units
    arriving meanwhile queue up and form the next batch, so under load the fsync is shared.
    A unit runs on the leader's thread (it must not touch thread-locals such as Flask's request),
    and ``run`` must not be called while holding ``Database.write_lock`` (the leader needs it).
    """

    def __init__(self, engine: sa.Engine, lock: threading.RLock | None, max_batch: int = 64) -> None:
        self._engine, self._lock, self.max_batch = engine, lock, max_batch
        self._mutex = threading.Lock()
        self._queue: list[_Unit[Any]] = []
        self._leading = False
        self._conn: sa.Connection | None = None
        self._here = threading.local()  # .shared: the _Shared transaction run_shared has open on this thread

    def run(self, work: Callable[[sa.Connection], T]) -> T:
        """Run ``work(conn)`` in the next shared transaction; return its result once committed.

        Each waiting thread sleeps on its own unit's lock and is woken exactly once: when its unit
        is done, or to lead the next batch. (Waking every waiter after each batch, as one shared
        condition does, made each of them take the GIL only to sleep again: a redemption cost
        ~23 context switches at 4 clients.)"""
        shared: _Shared | None = getattr(self._here, "shared", None)
        if shared is not None:  # inside run_shared on this thread: at once, committed by run_shared
            return shared.run(work)
        unit: _Unit[T] = _Unit(work)
        unit.wake.acquire()
        with self._mutex:
            self._queue.append(unit)
            lead = not self._leading
            self._leading = True
        if not lead:
            unit.wake.acquire()  # released by a leader: done, or ours to lead
        if not unit.done:
            self._lead()
        if unit.error is not None:
            raise unit.error
        return unit.result  # type: ignore[return-value]  # set when error is None

    def _lead(self) -> None:
        """Run one batch, then hand over. This thread's unit heads the queue: a thread leads only when
        it found no leader (the queue was empty) or when it was woken as the queue's head."""
        with self._mutex:
            batch, self._queue = self._queue[: self.max_batch], self._queue[self.max_batch :]
        try:
            self._run_batch(batch)
        finally:
            with self._mutex:
                successor = self._queue[0] if self._queue else None
                self._leading = successor is not None
            for done in batch:
                done.done = True
            for done in batch[1:]:  # batch[0] is this thread's own unit (a leader's unit heads the queue)
                done.wake.release()
            if successor is not None:
                successor.wake.release()  # not done: it leads the next batch

    def run_shared(self, steps: Sequence[Callable[[], None]]) -> Exception | None:
        """Run ``steps`` one after another on this thread in one write transaction, COMMITted once.

        Every ``run(work)`` a step makes on this thread runs at once inside that transaction (in its
        own SAVEPOINT when there are several steps: a unit that raises is undone alone) and returns
        *before* the COMMIT, so a step must hold any answer it builds until this returns. Returns
        None once the COMMIT has returned (``synchronous=FULL``: on disk), or the exception that
        stopped it, in which case nothing any step wrote was kept. A step that raises stops the
        batch the same way (steps are expected to turn their own errors into answers).
        The caller answers many requests from one thread (web/waitress_batches.py): no waiting
        thread per request to wake, and one fsync for all of them."""
        with self._lock if self._lock is not None else nullcontext():
            conn, self._conn = self._conn or self._engine.connect(), None
            try:
                shared = self._here.shared = _Shared(conn, savepoints=len(steps) > 1)
                try:
                    for step in steps:
                        step()
                finally:
                    self._here.shared = None
                if shared.open:  # a lone step's refused unit was rolled back: nothing left to commit
                    conn.commit()
            except BaseException as exc:
                try:
                    conn.invalidate()  # closed by the driver: nothing of the batch is kept, no state lingers
                finally:
                    conn.close()
                if not isinstance(exc, Exception):
                    raise
                return exc
            self._conn = conn  # kept for the next batch: no pool round trip per commit
            return None

    def _run_batch(self, batch: list[_Unit[Any]]) -> None:
        """The queued units as the steps of one shared transaction (``run_shared``), each unit's result
        or exception kept on it; if the COMMIT fails, every unit fails with ``GroupCommitFailed``."""

        def step(unit: _Unit[Any]) -> Callable[[], None]:
            def run() -> None:
                try:
                    unit.result = self.run(unit.work)  # inside run_shared: at once, in the shared transaction
                except Exception as exc:
                    unit.error = exc
            return run

        try:
            error = self.run_shared([step(unit) for unit in batch])
        except BaseException as exc:  # not an Exception (KeyboardInterrupt...): fail the batch, then go on up
            _fail(batch, exc)
            raise
        if error is not None:
            _fail(batch, error)

    def close(self) -> None:
        with self._lock if self._lock is not None else nullcontext():
            conn, self._conn = self._conn, None
        if conn is not None:
            close_rolled_back(conn)


class _Shared:
    """The transaction ``GroupCommit.run_shared`` holds open while its steps run."""

    def __init__(self, conn: sa.Connection, savepoints: bool) -> None:
        self.conn, self.savepoints = conn, savepoints
        driver = conn.connection.driver_connection
        assert driver is not None
        self._driver = driver
        conn.begin()  # BEGIN IMMEDIATE on SQLite (see _sqlite_engine)
        self.open = True

    def run(self, work: Callable[[sa.Connection], T]) -> T:
        if not self.open:  # a lone step's first unit was refused and rolled back: a new transaction
            self.conn.begin()
            self.open = True
        if not self.savepoints:  # one step: its unit is the transaction (two statements fewer)
            self.savepoints = True  # a second unit of that step would need its own
            try:
                return work(self.conn)
            except Exception:
                self.conn.rollback()
                self.open = False
                raise
        self._driver.execute("SAVEPOINT unit")
        try:
            result = work(self.conn)
        except Exception:
            self._driver.execute("ROLLBACK TO unit")
            self._driver.execute("RELEASE unit")
            raise
        self._driver.execute("RELEASE unit")
        return result


def _fail(batch: list[_Unit[Any]], exc: BaseException) -> None:
    for unit in batch:
        unit.result = None
        unit.error = GroupCommitFailed(f"shared commit failed, nothing kept: {exc}")
        unit.error.__cause__ = exc


@dataclass(frozen=True)
class Database:
    """A writer and a reader engine over one database, with their session factories."""

    write_engine: sa.Engine
    read_engine: sa.Engine
    writer: so.sessionmaker[so.Session]
    reader: so.sessionmaker[so.Session]
    # SQLite allows one writer; queueing writers of this process on a lock (first come, first
    # served) beats SQLite's busy handler, which sleeps in growing steps and makes p99 explode.
    # Other processes (the CLI) still wait on busy_timeout. PostgreSQL needs no such lock.
    write_lock: threading.RLock | None = None
    # redemptions share commits (see GroupCommit); quotes read on per-thread raw connections
    group_commit: GroupCommit | None = None
    raw_readers: RawReaders | None = field(default=None, compare=False)

    @property
    def url(self) -> str:
        return self.write_engine.url.render_as_string(hide_password=False)

    @property
    def is_sqlite(self) -> bool:
        return self.write_engine.dialect.name == "sqlite"

    def dispose(self) -> None:
        if self.group_commit is not None:
            self.group_commit.close()
        if self.raw_readers is not None:
            self.raw_readers.close()
        self.write_engine.dispose()
        if self.read_engine is not self.write_engine:
            self.read_engine.dispose()


def open_database(url: str, *, pool_size: int = 8) -> Database:
    """Build engines for ``url``: SQLite gets the store settings, PostgreSQL gets psycopg 3."""
    if url.startswith("sqlite"):
        write = _sqlite_engine(url, immediate=True, pool_size=pool_size)
        read = _sqlite_engine(url, immediate=False, pool_size=pool_size)
    else:
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url[len("postgresql://") :]
        write = sa.create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)
        read = write
    opts: dict[str, Any] = {"expire_on_commit": False}
    sqlite = write.dialect.name == "sqlite"
    lock = threading.RLock() if sqlite else None
    return Database(
        write_engine=write,
        read_engine=read,
        writer=so.sessionmaker(write, **opts),
        reader=so.sessionmaker(read, **opts),
        write_lock=lock,
        group_commit=GroupCommit(write, lock),
        raw_readers=RawReaders(read, configure_sqlite, BUSY_TIMEOUT_MS / 1000) if sqlite else None,
    )
