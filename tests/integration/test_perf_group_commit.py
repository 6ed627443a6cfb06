"""Shared commits and raw statements of the till hot path, on the real SQLite store database."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from pos_referral.bootstrap import Store
from pos_referral.db.base import table
from pos_referral.db.engine import GroupCommit, GroupCommitFailed
from pos_referral.db.models import Counter, Customer, Reward
from pos_referral.services.reports_events import EventRecorder, Noted
from pos_referral.web import perf_hot_path

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


def _insert(name: str, value: int = 0) -> Callable[[sa.Connection], int]:
    return lambda conn: int(conn.execute(sa.insert(COUNTERS), {"name": name, "value": value}).rowcount)


def _step(group: GroupCommit, work: Callable[[sa.Connection], object]) -> Callable[[], None]:
    """A step of ``run_shared`` that hands one unit of work to the group commit."""
    def run() -> None:
        group.run(work)
    return run


def test_shared_steps_commit_together_and_a_refused_unit_is_undone_alone(store: Store) -> None:
    group = store.db.group_commit
    assert group is not None
    seen_during: list[set[str]] = []
    answers: list[object] = []

    def step(i: int) -> Callable[[], None]:
        def run() -> None:
            def work(conn: sa.Connection) -> int:
                conn.execute(sa.insert(COUNTERS), {"name": f"unit-{i}", "value": i})
                if i == 1:
                    raise Refused(i)
                return i

            try:
                answers.append(group.run(work))  # at once, inside the shared transaction
            except Refused as exc:
                answers.append(exc)
            seen_during.append(_names(store))  # another connection sees nothing before the COMMIT
        return run

    assert group.run_shared([step(0), step(1), step(2)]) is None
    assert answers[0] == 0 and isinstance(answers[1], Refused) and answers[2] == 2
    assert seen_during == [set(), set(), set()]
    assert _names(store) == {"unit-0", "unit-2"}


def test_a_lone_step_whose_unit_is_refused_keeps_only_what_it_does_next(store: Store) -> None:
    group = store.db.group_commit
    assert group is not None

    def refused(conn: sa.Connection) -> None:
        conn.execute(sa.insert(COUNTERS), {"name": "unit-refused", "value": 1})
        raise Refused(1)

    def step() -> None:
        with pytest.raises(Refused):
            group.run(refused)
        assert group.run(_insert("unit-next")) == 1

    assert group.run_shared([step]) is None
    assert _names(store) == {"unit-next"}


def test_a_failed_shared_commit_returns_its_error_and_keeps_nothing_of_any_step(store: Store) -> None:
    group = store.db.group_commit
    assert group is not None

    def violates_at_commit(conn: sa.Connection) -> None:
        conn.exec_driver_sql("PRAGMA defer_foreign_keys=ON")
        conn.execute(sa.insert(table(Reward)), {
            "id": "r1", "customer_id": "nobody", "program_id": "p", "reward_type": "amount_off", "status": "pending",
            "hold_until": datetime(2026, 1, 1, tzinfo=UTC), "created_at": datetime(2026, 1, 1, tzinfo=UTC)})

    error = group.run_shared([_step(group, _insert("unit-a")), _step(group, violates_at_commit)])
    assert isinstance(error, sa.exc.IntegrityError)
    assert _names(store) == set()
    assert group.run(_insert("unit-after")) == 1  # the next writer is not stuck behind it
    assert _names(store) == {"unit-after"}


def test_a_step_that_raises_stops_the_batch_and_keeps_nothing(store: Store) -> None:
    group = store.db.group_commit
    assert group is not None

    def broken() -> None:
        raise RuntimeError("a bug in a step")

    error = group.run_shared([_step(group, _insert("unit-a")), broken])
    assert isinstance(error, RuntimeError)
    assert _names(store) == set()


def test_report_events_of_a_batch_are_recorded_only_once_its_commit_held(store: Store) -> None:
    group = store.db.group_commit
    assert group is not None
    recorder = EventRecorder(store.ctx, interval=3600)
    run_shared = perf_hot_path.batching(store).run_shared
    at = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)

    def step(kind: str, work: Callable[[sa.Connection], object]) -> Callable[[], None]:
        def run() -> None:
            group.run(work)
            recorder.note(Noted(at=at, kind=kind, till_id="T1"))
        return run

    def violates_at_commit(conn: sa.Connection) -> None:
        conn.exec_driver_sql("PRAGMA defer_foreign_keys=ON")
        conn.execute(sa.insert(table(Reward)), {
            "id": "r1", "customer_id": "nobody", "program_id": "p", "reward_type": "amount_off", "status": "pending",
            "hold_until": at, "created_at": at})

    try:
        assert run_shared([step("voucher_sale", violates_at_commit)]) is not None
        assert recorder._buffer == []  # the sale was undone: a report must not count it
        assert run_shared([step("voucher_sale", _insert("unit-a")), step("refused", _insert("unit-b"))]) is None
        assert [n.kind for n in recorder._buffer] == ["voucher_sale", "refused"]
    finally:
        recorder.stop()
