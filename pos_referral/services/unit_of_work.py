"""One transaction, read or write: the only way services reach the database.

``with UnitOfWork(db, write=True) as uow: ...; uow.commit()`` — nothing is kept unless
``commit()`` is called. A write unit takes the store's in-process write lock and begins with
``BEGIN IMMEDIATE`` on SQLite (db/engine.py), so the checks it makes and the rows it writes see
one consistent, exclusive snapshot; its COMMIT is durable (``synchronous=FULL``) before
``commit()`` returns. A read unit begins a plain snapshot and never waits for writers (WAL).

``uow.conn`` is the unit's connection, for Core statements (the till's paths use only these);
``uow.session`` an ORM session on that same connection and transaction, made on first use.

``durable=False`` is for report facts that change no business state (a quote seen, a refusal):
their COMMIT skips the fsync (``synchronous=NORMAL``). SQLite's WAL keeps such a commit through a
crash of the process; only a power cut before the next durable commit (which syncs the WAL up to
its own frames) could lose it. Sales, rewards and everything a customer is told stay durable.

Central runs on PostgreSQL, where writers are not queued by a lock of ours: a write that decides
for the whole chain (apply a store's events, release rewards under a cap, append to the changes
feed) calls ``serialize()`` first, which takes one advisory transaction lock shared by every
central worker. That also makes ``central_changes.id`` follow commit order, which the stores'
cursor on the changes feed relies on.
"""

from __future__ import annotations

import logging
import sqlite3
from types import TracebackType
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from pos_referral.db.engine import Database

logger = logging.getLogger(__name__)

CHAIN_LOCK_KEY = 0x5052_4546  # "PREF": the advisory lock of ``serialize`` on PostgreSQL
_SERIALIZE = sa.text("SELECT pg_advisory_xact_lock(:k)").bindparams(k=CHAIN_LOCK_KEY)


class DatabaseBusyError(Exception):
    """The database stayed locked by another writer for longer than the busy timeout: try again soon."""


def is_busy(exc: BaseException) -> bool:
    """Whether ``exc`` means "the database is held by someone else; retry", whichever layer raised it: our
    write lock's timeout, SQLite's ``database is locked``/``busy`` (raw or wrapped by SQLAlchemy)."""
    if isinstance(exc, DatabaseBusyError):
        return True
    orig = exc.orig if isinstance(exc, sa.exc.DBAPIError) else exc
    if isinstance(orig, sqlite3.OperationalError):
        text = str(orig).lower()
        return "database is locked" in text or "database is busy" in text or "database table is locked" in text
    return False


def chain_lock(conn: sa.Connection) -> None:
    """Take the chain's advisory transaction lock on PostgreSQL (see ``UnitOfWork.serialize``)."""
    if conn.dialect.name == "postgresql":
        conn.execute(_SERIALIZE)


class UnitOfWork:
    """One short transaction; rolls back unless ``commit()`` was called."""

    def __init__(self, db: Database, *, write: bool, durable: bool = True) -> None:
        self._engine = db.write_engine if write else db.read_engine
        self._lock = db.write_lock if write else None
        self._lock_timeout = db.busy_timeout
        self._relaxed = write and not durable and db.is_sqlite
        self._session: so.Session | None = None
        self.conn: sa.Connection

    def __enter__(self) -> UnitOfWork:
        if self._lock is not None and not self._lock.acquire(timeout=self._lock_timeout):
            raise DatabaseBusyError(f"another writer held the database for more than {self._lock_timeout:g} s")
        try:
            self.conn = self._engine.connect()
        except BaseException:
            if self._lock is not None:
                self._lock.release()
            raise
        if self._relaxed:  # before the transaction begins (SQLite refuses it inside one)
            try:
                self._driver().execute("PRAGMA synchronous=NORMAL")
            except BaseException:
                self.__exit__(None, None, None)
                raise
        return self

    @property
    def session(self) -> so.Session:
        """An ORM session in this unit's transaction (its commit is the unit's)."""
        if self._session is None:
            self._session = so.Session(bind=self.conn, expire_on_commit=False, join_transaction_mode="control_fully")
        return self._session

    def serialize(self) -> None:
        """Wait for every other serialised writer of the chain; held until this unit ends.

        PostgreSQL: the chain's advisory transaction lock. SQLite: nothing to do (a write unit is
        the store's only writer from its first statement)."""
        chain_lock(self.conn)

    def rollback(self) -> None:
        """Undo what this unit did so far; the unit may go on with a new transaction."""
        if self._session is not None:
            self._session.rollback()
        elif self.conn.in_transaction():
            self.conn.rollback()

    def commit(self) -> None:
        try:
            if self._session is not None:
                self._session.commit()  # flushes, then commits the connection's transaction
            elif self.conn.in_transaction():
                self.conn.commit()
        except BaseException:
            _end_transaction(self.conn)
            raise

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            if self._session is not None:
                # rolls back anything uncommitted without expiring loaded objects, so read results
                # stay usable after the unit ends
                self._session.close()
            if self.conn.in_transaction():
                self.conn.rollback()
            if self._relaxed:
                self._driver().execute("PRAGMA synchronous=FULL")
        except BaseException:
            self.conn.invalidate()  # never back to the pool in a state nobody knows
            raise
        finally:
            try:
                self.conn.close()
            finally:
                if self._lock is not None:
                    self._lock.release()

    def _driver(self) -> Any:
        return self.conn.connection.driver_connection


def _end_transaction(conn: sa.Connection) -> None:
    """After a failed COMMIT (a deferred constraint, an I/O error) SQLite keeps the transaction, and
    its write lock, open, and SQLAlchemy no longer knows it: roll it back on the driver, or close the
    connection for good rather than return it to the pool still holding the lock."""
    try:
        driver = conn.connection.driver_connection
        if getattr(driver, "in_transaction", False):
            driver.rollback()  # type: ignore[union-attr]
    except Exception:
        logger.warning("connection left in a failed commit is closed", exc_info=True)
        conn.invalidate()
