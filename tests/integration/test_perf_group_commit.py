"""Shared commits and raw statements of the till hot path, on the real SQLite store database."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from pos_referral.bootstrap import Store
from pos_referral.db.base import table
from pos_referral.db.engine import GroupCommitFailed
from pos_referral.db.models import Counter, Customer, Reward

COUNTERS = table(Counter)


class Refused(Exception):
    """What a unit of work raises to refuse its own request."""


def _names(store: Store) -> set[str]:
    with store.db.read_engine.connect() as conn:
        return set(conn.execute(sa.select(COUNTERS.c.name).where(COUNTERS.c.name.like("unit-%"))).scalars())


def test_each_writer_gets_its_own_answer_and_only_refused_work_is_undone(store: Store) -> None:
    group = store.db.group_commit
    assert group is not None
    answers: dict[int, object] = {}
    start = threading.Barrier(16)

    def till(i: int) -> None:
        def work(conn: sa.Connection) -> int:
            conn.execute(sa.insert(COUNTERS), {"name": f"unit-{i}", "value": i})
            if i % 4 == 0:
                raise Refused(i)
            return i * 10

        start.wait()
        try:
            answers[i] = group.run(work)
        except Refused as exc:
            answers[i] = exc

    threads = [threading.Thread(target=till, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i in range(16):
        if i % 4 == 0:
            assert isinstance(answers[i], Refused) and answers[i].args == (i,)
        else:
            assert answers[i] == i * 10
    assert _names(store) == {f"unit-{i}" for i in range(16) if i % 4}


def test_a_failed_shared_commit_keeps_nothing_and_tells_every_writer(store: Store) -> None:
    group = store.db.group_commit
    assert group is not None

    def work(conn: sa.Connection) -> None:
        conn.exec_driver_sql("PRAGMA defer_foreign_keys=ON")  # the violation surfaces only at COMMIT
        conn.execute(sa.insert(COUNTERS), {"name": "unit-kept?", "value": 1})
        conn.execute(sa.insert(table(Reward)), {
            "id": "r1", "customer_id": "nobody", "program_id": "p", "reward_type": "amount_off", "status": "pending",
            "hold_until": datetime(2026, 1, 1, tzinfo=UTC),
            "created_at": datetime(2026, 1, 1, tzinfo=UTC)})

    with pytest.raises(GroupCommitFailed):
        group.run(work)
    assert _names(store) == set()
    assert group.run(lambda conn: conn.execute(sa.insert(COUNTERS), {"name": "unit-after", "value": 2}).rowcount) == 1
    assert _names(store) == {"unit-after"}


def test_raw_statements_fill_defaults_convert_types_and_report_constraint_errors(store: Store) -> None:
    readers = store.db.raw_readers
    assert readers is not None
    at = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)

    def write(conn: sa.Connection) -> None:
        raw = readers.on(conn)
        raw.execute(sa.insert(table(Customer)), {"id": "c1", "identity_hash": "h1", "created_at": at})
        with pytest.raises(sa.exc.IntegrityError):
            raw.execute(sa.insert(table(Customer)), {"id": "c1", "identity_hash": "h2", "created_at": at})

    assert store.db.group_commit is not None
    store.db.group_commit.run(write)
    query = sa.select(Customer.first_name, Customer.store_no, Customer.created_at).where(Customer.id == "c1")
    assert readers.read(lambda raw: raw.execute(query).one()) == ("", 0, at)  # defaults; aware UTC back
