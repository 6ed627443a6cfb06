"""One transaction, read or write: the only way services reach the database.

``with UnitOfWork(db, write=True) as uow: ...; uow.commit()`` — nothing is kept unless
``commit()`` is called. A write unit takes the store's in-process write lock and begins with
``BEGIN IMMEDIATE`` on SQLite (db/engine.py), so the checks it makes and the rows it writes see
one consistent, exclusive snapshot; its COMMIT is durable (``synchronous=FULL``) before
``commit()`` returns. A read unit begins a plain snapshot and never waits for writers (WAL).

``uow.session`` is the ORM session; ``uow.conn`` its connection, for Core statements on the
till's paths (no ORM flush to pay for).

Central runs on PostgreSQL, where writers are not queued by a lock of ours: a write that decides
for the whole chain (apply a store's events, release rewards under a cap, append to the changes
feed) calls ``serialize()`` first, which takes one advisory transaction lock shared by every
central worker. That also makes ``central_changes.id`` follow commit order, which the stores'
cursor on the changes feed relies on.
"""

from __future__ import annotations

import logging
from types import TracebackType

import sqlalchemy as sa
import sqlalchemy.orm as so

from pos_referral.db.engine import Database

logger = logging.getLogger(__name__)

CHAIN_LOCK_KEY = 0x5052_4546  # "PREF": the advisory lock of ``serialize`` on PostgreSQL
_SERIALIZE = sa.text("SELECT pg_advisory_xact_lock(:k)").bindparams(k=CHAIN_LOCK_KEY)


class UnitOfWork:
    """One short transaction; rolls back unless ``commit()`` was called."""

    def __init__(self, db: Database, *, write: bool) -> None:
        self._factory = db.writer if write else db.reader
        self._lock = db.write_lock if write else None
        self.session: so.Session

    def __enter__(self) -> UnitOfWork:
        if self._lock is not None:
            self._lock.acquire()
        try:
            self.session = self._factory()
        except BaseException:
            if self._lock is not None:
                self._lock.release()
            raise
        return self

    @property
    def conn(self) -> sa.Connection:
        """The unit's connection (its transaction begins with the first statement)."""
        return self.session.connection()

    def serialize(self) -> None:
        """Wait for every other serialised writer of the chain; held until this unit ends.

        PostgreSQL: the chain's advisory transaction lock. SQLite: nothing to do (a write unit is
        the store's only writer from its first statement)."""
        if self.conn.dialect.name == "postgresql":
            self.conn.execute(_SERIALIZE)

    def rollback(self) -> None:
        """Undo what this unit did so far; the unit may go on with a new transaction."""
        self.session.rollback()

    def commit(self) -> None:
        conn = self.session.connection() if self.session.in_transaction() else None
        try:
            self.session.commit()
        except BaseException:
            if conn is not None:
                _end_transaction(conn)
            raise

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        # close() rolls back anything uncommitted without expiring loaded objects, so read
        # results stay usable after the unit ends
        try:
            self.session.close()
        finally:
            if self._lock is not None:
                self._lock.release()


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
