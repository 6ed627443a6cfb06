"""One cashier action = one short transaction. Rolls back unless ``commit()`` was called."""

from __future__ import annotations

from types import TracebackType

import sqlalchemy as sa
import sqlalchemy.orm as so

from pos_referral.db.engine import Database, close_rolled_back


class UnitOfWork:
    """``with UnitOfWork(db, write=True) as uow: ...; uow.commit()``.

    Write units begin with ``BEGIN IMMEDIATE`` on SQLite (see db/engine.py), so the checks they
    make and the rows they write see one consistent, exclusive snapshot.
    """

    def __init__(self, db: Database, *, write: bool) -> None:
        self._factory = db.writer if write else db.reader
        self._lock = db.write_lock if write else None
        self.session: so.Session

    def __enter__(self) -> UnitOfWork:
        if self._lock is not None:
            self._lock.acquire()
        self.session = self._factory()
        return self

    def commit(self) -> None:
        self.session.commit()

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


class WriteConnection:
    """A write unit of work on a bare Core connection, for the hottest write path (redemptions).

    Same rules as ``UnitOfWork(write=True)``: the store's write lock, BEGIN IMMEDIATE, nothing
    kept unless ``commit()`` is called — without the ORM session's bookkeeping.
    """

    def __init__(self, db: Database) -> None:
        self._db = db
        self.conn: sa.Connection

    def __enter__(self) -> WriteConnection:
        if self._db.write_lock is not None:
            self._db.write_lock.acquire()
        try:
            self.conn = self._db.write_engine.connect()
        except BaseException:
            if self._db.write_lock is not None:
                self._db.write_lock.release()
            raise
        return self

    def commit(self) -> None:
        self.conn.commit()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            close_rolled_back(self.conn)  # rolls back anything not committed (even after a failed COMMIT)
        finally:
            if self._db.write_lock is not None:
                self._db.write_lock.release()
