"""Central ingest: a store's batch, stored once per event id and applied once, in the store's order.

The batch is validated (``payloads.py``) before anything is written; then one transaction: store
the batch's events with ``INSERT ... ON CONFLICT (event_id) DO NOTHING RETURNING`` (the event id
is the primary key, kept forever), take the chain lock, read the store's cursor (the last store
seq applied), apply exactly the inserted events above it, move the cursor, commit. On PostgreSQL
the insert runs before the chain lock (so it overlaps the batch being applied) and reads the
events straight from the request body's JSON text (``json_to_recordset``): each payload is stored
as the store sent it, not decoded and encoded again in Python. A batch that starts past the cursor
(an earlier batch was lost, or overtaken) applies nothing and keeps nothing, and the answer's
cursor tells the store where to resume; a replayed batch applies nothing and acknowledges again.
Deadlocks or serialization failures are retried. A malformed batch raises ``BatchError`` (a 422)
before anything is written.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.exc as sa_exc
from sqlalchemy.dialects import postgresql

from pos_referral.central.apply import BatchApplier
from pos_referral.central.bulk import any_of, naive_utc
from pos_referral.central.changes import add_changes
from pos_referral.central.payloads import payload_problem, timestamp
from pos_referral.db.base import table
from pos_referral.db.models_central import CentralEvent, CentralStore
from pos_referral.domain.json_input import JsonInputError, loads_checked
from pos_referral.services.context import StoreContext
from pos_referral.services.unit_of_work import UnitOfWork

logger = logging.getLogger(__name__)
RETRIES = 5
MAX_SEQ = 2**63 - 1  # BIGINT


class BatchError(ValueError):
    """The batch is malformed (a client bug, answered 422): nothing was stored."""


@dataclass(frozen=True)
class IngestResult:
    cursor: int
    applied: int
    duplicates: int
    conflicts: int


def _validate(events: list[dict[str, Any]], after: int) -> list[dict[str, Any]]:
    """Refuse a malformed batch as a whole, before the chain lock and before anything is written."""
    previous = after
    ids: set[str] = set()
    for i, e in enumerate(events):
        if not isinstance(e, dict) or not {"event_id", "seq", "type", "payload", "created_at"} <= e.keys():
            raise BatchError(f"events[{i}]: each event needs event_id, seq, type, payload, created_at")
        seq = e["seq"]
        if not isinstance(seq, int) or isinstance(seq, bool) or seq <= previous or seq > MAX_SEQ:
            raise BatchError(f"events[{i}]: events must be in increasing seq order, after 'after'")
        event_id = e["event_id"]
        if not isinstance(e["payload"], dict) or not isinstance(event_id, str) or not 0 < len(event_id) <= 32 \
                or "\x00" in event_id:
            raise BatchError(f"events[{i}]: event_id must be a string (1-32) and payload an object")
        if event_id in ids:
            raise BatchError(f"events[{i}]: event_id {event_id} appears twice in the batch")
        ids.add(event_id)
        problem = timestamp(e["created_at"])
        if problem:
            raise BatchError(f"events[{i}].created_at: {problem}")
        problem = payload_problem(e["type"], e["payload"])
        if problem:
            raise BatchError(f"events[{i}] ({e['event_id']}): {problem}")
        previous = seq
    return events


def decode_batch(raw: bytes) -> Any:
    """The request body as JSON that PostgreSQL can store: UTF-8, no NaN/Infinity, no lone surrogates
    (an escaped NUL is kept: such a body goes in row by row)."""
    try:
        return loads_checked(raw, walk_always=False, controls_ok=True)
    except JsonInputError as exc:
        raise BatchError(exc.detail) from None


def ingest(ctx: StoreContext, store_no: int, after: int, events: list[dict[str, Any]],
           raw: bytes | None = None) -> IngestResult:
    """Ingest ``events`` (validated here); ``raw`` is the request body they were decoded from, if any."""
    _validate(events, after)
    now = ctx.clock()
    staged = _EventRows(not ctx.db.is_sqlite, store_no, events, now, raw)
    for attempt in range(RETRIES):
        try:
            return _ingest_once(ctx, store_no, after, events, staged, now)
        except sa_exc.OperationalError as exc:  # deadlock / serialization failure: the whole batch again
            if attempt == RETRIES - 1 or getattr(exc.orig, "sqlstate", "") not in ("40001", "40P01"):
                raise
            logger.warning("ingest of store %s retried after %s", store_no, exc.orig)
            time.sleep(0.01 * 2**attempt)
    raise AssertionError("unreachable")


def _ingest_once(ctx: StoreContext, store_no: int, after: int, events: list[dict[str, Any]],
                 staged: _EventRows, now: datetime) -> IngestResult:
    with UnitOfWork(ctx.db, write=True) as uow:
        conn = uow.conn
        early = staged.store_early(conn)  # PostgreSQL: before the chain lock, so it overlaps another batch's apply
        uow.serialize()
        stores = table(CentralStore)
        cursor = conn.execute(sa.select(stores.c.cursor).where(stores.c.store_no == store_no)).scalar_one()
        first = next((i for i, e in enumerate(events) if e["seq"] > cursor), len(events))
        fresh = events[first:]  # seqs increase: what is new is a suffix
        if after > cursor or not fresh:  # a gap (resend from our cursor) or nothing new (a replay)
            uow.rollback()  # nothing of the batch is kept, the events stored early included
            uow.conn.execute(sa.update(stores).where(stores.c.store_no == store_no).values(last_seen=now))
            uow.commit()
            return IngestResult(cursor, 0, len(events) - len(fresh), 0)
        if early is None:
            inserted = staged.insert(conn, first)
        else:
            below = [event_id for event_id, seq in early.items() if seq <= cursor]
            if below:  # ids new to central at or below the cursor (a store that renumbered): not kept, as before
                conn.execute(sa.delete(staged.table).where(staged.table.c.event_id.in_(below)))
            inserted = {event_id for event_id, seq in early.items() if seq > cursor}
        new = [e for e in fresh if e["event_id"] in inserted]
        applier = BatchApplier(conn, ctx, store_no, now)
        applier.prefetch(new)
        for e in new:
            applier.apply(e)
        applier.flush()
        add_changes(conn, applier.changes, now)
        last = fresh[-1]
        conn.execute(sa.update(stores).where(stores.c.store_no == store_no).values(
            cursor=last["seq"], last_seen=now, last_event_at=datetime.fromisoformat(last["created_at"])))
        uow.commit()
    return IngestResult(last["seq"], len(new), len(events) - len(new), applier.conflicts)


# the events of the body (``{"events": [...]}``) as rows, zipped with their times already shifted to UTC
_INSERT_FROM_BODY = """
INSERT INTO central_events (event_id, store_no, store_seq, type, payload, created_at, received_at)
SELECT e.event_id, %(store_no)s, e.seq, e.type, e.payload, e.created_at, %(now)s
FROM ROWS FROM (
    json_to_recordset(%(body)s::json -> 'events') AS (event_id text, seq bigint, type text, payload json),
    unnest(%(created)s::timestamp[])
) AS e (event_id, seq, type, payload, created_at)
ON CONFLICT (event_id) DO NOTHING
RETURNING event_id, store_seq
"""


class _EventRows:
    """A batch's ``central_events`` rows, made ready before the chain lock is taken.

    On PostgreSQL the events are stored before the chain lock, in the batch's transaction, with
    ``ON CONFLICT (event_id) DO NOTHING``: a worker sending the same id meanwhile waits for this
    transaction and then finds the id taken, so exactly one of them applies it. Whatever the
    checks under the lock find (a gap, a replay) rolls the early rows back with the rest."""

    def __init__(self, postgres: bool, store_no: int, events: list[dict[str, Any]], now: datetime,
                 raw: bytes | None) -> None:
        self.table, self.store_no, self.now, self.postgres = table(CentralEvent), store_no, now, postgres
        self.ids = [e["event_id"] for e in events]
        self.body: str | None = None
        # on PostgreSQL the body as it came, when it is UTF-8 (as stores send it) and has no \u0000
        # (PostgreSQL's JSON functions refuse to unescape it): else the rows are sent as parameters
        if postgres and raw is not None and b"\\u0000" not in raw:
            try:
                self.body = raw.decode()
            except UnicodeDecodeError:
                self.body = None
        self.created = [naive_utc(e["created_at"]) for e in events] if self.body is not None else []
        self.rows = [] if self.body is not None else [
            dict(event_id=e["event_id"], store_no=store_no, store_seq=e["seq"], type=e["type"], payload=e["payload"],
                 created_at=datetime.fromisoformat(e["created_at"]), received_at=now) for e in events]

    def store_early(self, conn: sa.Connection) -> dict[str, int] | None:
        """PostgreSQL: store every event of the batch whose id is new; returns {event_id: seq} of those."""
        if not self.postgres:
            return None
        if not self.ids:
            return {}
        if self.body is None:
            stmt = postgresql.insert(self.table).on_conflict_do_nothing(index_elements=["event_id"])
            result = conn.execute(stmt.returning(self.table.c.event_id, self.table.c.store_seq), self.rows)
            return {event_id: seq for event_id, seq in result}
        raw = conn.connection.driver_connection
        assert raw is not None
        with raw.cursor() as cur:
            cur.execute(_INSERT_FROM_BODY, {"store_no": self.store_no, "now": naive_utc(self.now),
                                            "body": self.body, "created": self.created})
            return {event_id: seq for event_id, seq in cur.fetchall()}

    def insert(self, conn: sa.Connection, first: int) -> set[str]:
        """SQLite (under the chain's write lock): store events ``first:`` whose id is new; returns their ids."""
        t, ids = self.table, set(self.ids[first:])
        held = set(conn.execute(sa.select(t.c.event_id).where(any_of(conn, t.c.event_id, ids))).scalars())
        keep = [self.rows[i] for i in range(first, len(self.ids)) if self.ids[i] not in held]
        if keep:
            conn.execute(sa.insert(t), keep)
        return ids - held
