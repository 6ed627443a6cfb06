"""The one unit of work, on a real SQLite file (and PostgreSQL for ``serialize``): what is kept, what is
undone, and that a failed COMMIT leaves the store writable for the next sale and for other programs."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
import sqlalchemy.exc as sa_exc

from pos_referral.db.base import table
from pos_referral.db.engine import Database, open_database
from pos_referral.db.models import Code, Customer, Till
from pos_referral.services.unit_of_work import CHAIN_LOCK_KEY, UnitOfWork
from tests.postgres_support import fresh_database

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
SYNCHRONOUS_NORMAL, SYNCHRONOUS_FULL = 1, 2



def add_customer(conn: sa.Connection, customer_id: str) -> None:
    conn.execute(sa.insert(table(Customer)), dict(id=customer_id, identity_hash=None, created_at=NOW))


def customers(db: Database) -> list[str]:
    """The customers on disk, read by a connection of its own (not the unit's pool)."""
    assert db.path is not None
    with sqlite3.connect(db.path) as other:
        return [row[0] for row in other.execute("SELECT id FROM customers ORDER BY id")]


def tills(db: Database) -> list[str]:
    assert db.path is not None
    with sqlite3.connect(db.path) as other:
        return [row[0] for row in other.execute("SELECT id FROM tills ORDER BY id")]


def write_from_another_process(path: str) -> subprocess.CompletedProcess[str]:
    """Another program (the CLI, a backup) writes one row, waiting at most two seconds for the lock."""
    script = ("import sqlite3, sys\n"
              "db = sqlite3.connect(sys.argv[1], timeout=2)\n"
              "db.execute(\"INSERT INTO customers (id, identity_hint, first_name, language, store_no, created_at)"
              " VALUES ('from-cli', '', '', '', 0, '2026-06-15 12:00:00')\")\n"
              "db.commit()\n")
    return subprocess.run([sys.executable, "-c", script, path], capture_output=True, text=True, timeout=60)


def test_nothing_is_kept_without_commit(db: Database) -> None:
    with UnitOfWork(db, write=True) as uow:
        add_customer(uow.conn, "forgotten")
    with pytest.raises(RuntimeError), UnitOfWork(db, write=True) as uow:
        add_customer(uow.conn, "failed")
        raise RuntimeError("the till lost power")
    with UnitOfWork(db, write=True) as uow:
        add_customer(uow.conn, "kept")
        uow.commit()
    assert customers(db) == ["kept"]


def test_rollback_undoes_the_unit_so_far_and_the_unit_goes_on(db: Database) -> None:
    with UnitOfWork(db, write=True) as uow:
        add_customer(uow.conn, "undone")
        uow.rollback()
        add_customer(uow.conn, "after")
        uow.commit()
    assert customers(db) == ["after"]


def _insert_code_of_nobody(uow: UnitOfWork) -> None:
    """A row whose foreign key points nowhere, checked only at COMMIT."""
    uow.conn.exec_driver_sql("PRAGMA defer_foreign_keys=ON")
    uow.conn.execute(sa.insert(table(Code)), dict(code="0AAAAAAAAAAAAA", kind="referral", program_id="p",
                                                  customer_id="nobody", created_at=NOW))


def test_a_failed_commit_raises_and_leaves_the_store_writable(db: Database) -> None:
    with pytest.raises(sa_exc.IntegrityError, match="FOREIGN KEY"), UnitOfWork(db, write=True) as uow:
        _insert_code_of_nobody(uow)
        uow.commit()
    assert db.path is not None
    other = write_from_another_process(db.path)  # before the fix: "database is locked"
    assert other.returncode == 0, other.stderr
    with UnitOfWork(db, write=True) as uow:  # the next sale, on the same pooled connection
        add_customer(uow.conn, "next-sale")
        uow.commit()
    assert customers(db) == ["from-cli", "next-sale"]
    with sqlite3.connect(db.path) as check:
        assert check.execute("SELECT count(*) FROM codes").fetchone()[0] == 0  # the failed unit kept nothing


def test_a_failed_commit_through_the_session_also_leaves_the_store_writable(db: Database) -> None:
    with pytest.raises(sa_exc.IntegrityError, match="FOREIGN KEY"), UnitOfWork(db, write=True) as uow:
        uow.session.add(Till(id="T9", token_hash="h9", created_at=NOW))
        _insert_code_of_nobody(uow)
        uow.commit()
    assert db.path is not None
    other = write_from_another_process(db.path)
    assert other.returncode == 0, other.stderr
    assert tills(db) == []


def _connection_of(uow: UnitOfWork) -> object:
    return uow.conn.connection.driver_connection


def _synchronous(uow: UnitOfWork) -> int:
    return int(uow.conn.exec_driver_sql("PRAGMA synchronous").scalar_one())


def test_a_report_fact_unit_is_kept_and_its_connection_comes_back_durable(db: Database) -> None:
    with UnitOfWork(db, write=True, durable=False) as relaxed:
        assert _synchronous(relaxed) == SYNCHRONOUS_NORMAL  # no fsync of its own
        add_customer(relaxed.conn, "quote-fact")
        relaxed.commit()
        connection = _connection_of(relaxed)
    with UnitOfWork(db, write=True) as sale:
        assert _connection_of(sale) is connection  # the pool's one connection, handed on
        assert _synchronous(sale) == SYNCHRONOUS_FULL
    assert customers(db) == ["quote-fact"]


def test_a_report_fact_unit_that_fails_still_hands_back_a_durable_connection(db: Database) -> None:
    with pytest.raises(RuntimeError), UnitOfWork(db, write=True, durable=False) as relaxed:
        connection = _connection_of(relaxed)
        raise RuntimeError("the fact could not be built")
    with UnitOfWork(db, write=True) as sale:
        assert _connection_of(sale) is connection
        assert _synchronous(sale) == SYNCHRONOUS_FULL


def test_session_and_core_statements_share_one_transaction(db: Database) -> None:
    with UnitOfWork(db, write=True) as uow:
        add_customer(uow.conn, "by-core")
        uow.session.add(Till(id="T1", token_hash="h1", created_at=NOW))
        uow.session.flush()
        # each side sees the other's uncommitted row: one connection, one transaction
        assert uow.conn.execute(sa.select(Till.id)).scalars().all() == ["T1"]
        assert uow.session.get(Customer, "by-core") is not None
        uow.commit()
    assert customers(db) == ["by-core"] and tills(db) == ["T1"]


def test_without_commit_the_sessions_rows_and_the_core_rows_are_both_undone(db: Database) -> None:
    with UnitOfWork(db, write=True) as uow:
        uow.session.add(Till(id="T2", token_hash="h2", created_at=NOW))
        uow.session.flush()  # on the database, inside the transaction
        add_customer(uow.conn, "by-core")
    assert customers(db) == [] and tills(db) == []
    with UnitOfWork(db, write=True) as uow:  # and the next unit starts clean
        add_customer(uow.conn, "next")
        uow.commit()
    assert customers(db) == ["next"] and tills(db) == []


@pytest.mark.postgres
def test_serialize_makes_a_second_central_writer_wait_until_the_first_commits() -> None:
    with fresh_database() as url:
        db = open_database(url)
        try:
            _two_serialised_writers(db)
        finally:
            db.dispose()


def _two_serialised_writers(db: Database) -> None:
    order: list[str] = []
    first_holds, first_may_commit, second_through = threading.Event(), threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def first() -> None:
        try:
            with UnitOfWork(db, write=True) as uow:
                uow.serialize()
                first_holds.set()
                assert first_may_commit.wait(30)
                order.append("first commits")
                uow.commit()
        except BaseException as exc:
            errors.append(exc)
            first_holds.set()

    def second() -> None:
        try:
            with UnitOfWork(db, write=True) as uow:
                uow.serialize()
                order.append("second goes on")
                second_through.set()
                uow.commit()
        except BaseException as exc:
            errors.append(exc)
            second_through.set()

    threads = [threading.Thread(target=first, daemon=True), threading.Thread(target=second, daemon=True)]
    try:
        threads[0].start()
        assert first_holds.wait(30) and not errors
        threads[1].start()
        _wait_until_a_session_waits_for_the_chain_lock(db)
        assert not second_through.is_set()  # it waits while the first unit is open
        first_may_commit.set()
        assert second_through.wait(30)
    finally:
        first_may_commit.set()
        for t in threads:
            if t.ident is not None:  # started
                t.join(30)
    assert not errors, errors
    assert order == ["first commits", "second goes on"]


def _wait_until_a_session_waits_for_the_chain_lock(db: Database) -> None:
    """PostgreSQL says so itself: the chain's advisory lock requested in this database and not granted."""
    waiting = sa.text(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND objid = :key"
        " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
    ).bindparams(key=CHAIN_LOCK_KEY)
    deadline = time.monotonic() + 30
    with db.write_engine.connect() as watcher:
        while watcher.execute(waiting).scalar_one() == 0:
            assert time.monotonic() < deadline, "the second writer never waited for the chain lock"
            watcher.rollback()
            time.sleep(0.01)
