"""The store's relay: ship the outbox to central in order, then pull central's changes.

Delivery is at least once and resumable: an event is marked ``sent_at`` only when central's
answer says it has applied the store's events up to that seq (its cursor), so a crash, a cut
connection or a lost answer just means the batch goes again, and central ignores what it has.
The outbox is sent in seq order; ``after`` tells central which event precedes the batch, so a
lost batch is noticed (central answers with its lower cursor and the relay resends from there).
Failures back off exponentially with jitter and never touch a till's transaction.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

import sqlalchemy as sa

from pos_referral.db.base import table
from pos_referral.db.engine import Database
from pos_referral.db.models import Counter, OutboxEvent
from pos_referral.domain.rules import Program
from pos_referral.services.context import StoreContext
from pos_referral.services.unit_of_work import UnitOfWork
from pos_referral.sync.audit_head import send_audit_head
from pos_referral.sync.client import CentralClient, Unavailable
from pos_referral.sync.inbound import adopt_keys, apply_change
from pos_referral.sync.programs import adopt_program
from pos_referral.sync.programs import install as install_programs

logger = logging.getLogger(__name__)

CHANGES_CURSOR = "sync:changes_cursor"
KEYS_VERSION = "sync:keys_version"
_outbox = table(OutboxEvent)
# the payload as the JSON text it is stored as: it goes out as is, never decoded and encoded again
_UNSENT = (sa.select(_outbox.c.seq, _outbox.c.event_id, _outbox.c.type,
                     sa.type_coerce(_outbox.c.payload, sa.Text).label("payload"), _outbox.c.created_at)
           .where(_outbox.c.seq >= sa.bindparam("first")).order_by(_outbox.c.seq).limit(sa.bindparam("n")))
_quote = json.JSONEncoder().encode


@dataclass(frozen=True)
class Batch:
    """Outbox events ready to send: their seqs, and the JSON array central receives."""

    after: int
    seqs: list[int]
    json: str

    def acked(self, cursor: int) -> int:
        return sum(1 for seq in self.seqs if seq <= cursor)


def _encode(rows: Sequence[Any]) -> str:
    return "[" + ",".join(
        f'{{"event_id":{_quote(r.event_id)},"seq":{int(r.seq)},"type":{_quote(r.type)},"payload":{r.payload},'
        f'"created_at":{_quote(r.created_at.isoformat())}}}' for r in rows) + "]"


@dataclass
class SyncSummary:
    pushed: int = 0
    batches: int = 0
    duplicates: int = 0
    conflicts: int = 0
    pulled: int = 0
    retries: int = 0
    backlog: int = 0

    def line(self) -> str:
        return (f"pushed {self.pushed} events in {self.batches} batches ({self.duplicates} already at central, "
                f"{self.conflicts} conflicts), pulled {self.pulled} changes, {self.retries} retries, "
                f"{self.backlog} left")


class Relay:
    def __init__(
        self, ctx: StoreContext, client: CentralClient, *, batch_size: int = 500, base_delay: float = 0.5,
        max_delay: float = 30.0, sleep: Callable[[float], object] = time.sleep, rng: random.Random | None = None,
    ) -> None:
        self.ctx, self.client, self.batch_size = ctx, client, batch_size
        self.base_delay, self.max_delay = base_delay, max_delay
        self._sleep, self._rng = sleep, rng or random.Random()
        self._lock = threading.Lock()  # the serve timer and a manual sync in one process take turns

    # --- state kept in the store's database (survives restarts) -------------------------------
    def backlog(self) -> int:
        with UnitOfWork(self.ctx.db, write=False) as read:
            conn = read.conn
            return int(conn.execute(sa.select(sa.func.count()).select_from(_outbox)
                                    .where(_outbox.c.sent_at.is_(None))).scalar_one())

    def _counter(self, name: str) -> int:
        with UnitOfWork(self.ctx.db, write=False) as read:
            conn = read.conn
            return int(conn.execute(sa.select(Counter.value).where(Counter.name == name)).scalar() or 0)

    @staticmethod
    def _set_counter(conn: sa.Connection, name: str, value: int) -> None:
        done = conn.execute(sa.update(Counter).where(Counter.name == name).values(value=value))
        if done.rowcount == 0:
            conn.execute(sa.insert(table(Counter)), dict(name=name, value=value))

    # --- retries ------------------------------------------------------------------------------
    def delay(self, attempt: int) -> float:
        """Exponential backoff with jitter: half to all of base * 2^attempt, capped."""
        return min(self.max_delay, self.base_delay * 2**attempt) * self._rng.uniform(0.5, 1.0)

    def _back_off(self, exc: Unavailable, failures: int, summary: SyncSummary, max_attempts: int | None) -> None:
        """After ``failures`` in a row: give up with ``exc`` when the attempts are used up, else wait."""
        if max_attempts is not None and failures >= max_attempts:
            raise exc
        summary.retries += 1
        wait = self.delay(failures - 1)
        logger.debug("central unavailable (%s); retrying in %.1f s", exc, wait)  # the round says it once (workers.py)
        self._sleep(wait)

    def _retrying(self, fn: Callable[[], Any], summary: SyncSummary, max_attempts: int | None) -> Any:
        failures = 0
        while True:
            try:
                return fn()
            except Unavailable as exc:
                failures += 1
                self._back_off(exc, failures, summary, max_attempts)

    # --- push ---------------------------------------------------------------------------------
    def _read_batch(self, after_seq: int | None) -> Batch | None:
        """The next events: the oldest unsent ones, or (pipelining) those after ``after_seq``."""
        with UnitOfWork(self.ctx.db, write=False) as read:
            conn = read.conn
            if after_seq is None:
                first = conn.execute(sa.select(sa.func.min(_outbox.c.seq)).where(_outbox.c.sent_at.is_(None))).scalar()
            else:
                first = after_seq + 1
            if first is None:
                return None
            # sent rows are always a prefix (acknowledged up to central's cursor): walk the primary key
            rows = conn.execute(_UNSENT, {"first": first, "n": self.batch_size}).all()
            if not rows:
                return None
            after = conn.execute(sa.select(sa.func.max(_outbox.c.seq)).where(_outbox.c.seq < rows[0].seq)).scalar()
        return Batch(int(after or 0), [int(r.seq) for r in rows], _encode(rows))

    def _acknowledge(self, cursor: int, after: int) -> None:
        now = self.ctx.clock()
        with UnitOfWork(self.ctx.db, write=True) as uow:
            uow.conn.execute(sa.update(_outbox).where(_outbox.c.seq <= cursor, _outbox.c.sent_at.is_(None))
                             .values(sent_at=now))
            if cursor < after:  # central lost or never applied some of what we marked: send it again
                logger.warning("central is at seq %s, behind our %s: resending", cursor, after)
                uow.conn.execute(sa.update(_outbox).where(_outbox.c.seq > cursor).values(sent_at=None))
            uow.commit()

    def push_pipelined(self, summary: SyncSummary, *, depth: int = 2, max_attempts: int | None = None,
                       on_batch: Callable[[int], object] | None = None, stop: threading.Event | None = None) -> None:
        """Keep ``depth`` batches in flight: the store reads and encodes the next batch while central
        applies this one (central still applies them in order: each says which seq precedes it).
        On any failure or gap the in-flight batches are let go and sending restarts from the database.
        """
        failures = 0
        with ThreadPoolExecutor(depth, thread_name_prefix="sync-push") as pool:
            while stop is None or not stop.is_set():
                inflight: deque[tuple[Batch, Future[dict[str, Any]]]] = deque()
                confirmed = 0  # the highest cursor central answered in this window
                next_after: int | None = None
                restart = False
                while not restart:
                    while len(inflight) < depth:
                        batch = self._read_batch(next_after)
                        if batch is None:
                            break
                        inflight.append((batch, pool.submit(self.client.push, self.ctx.store_no, batch.after,
                                                            batch.json)))
                        next_after = batch.seqs[-1]
                    if not inflight:
                        return
                    batch, future = inflight.popleft()
                    try:
                        answer = future.result()
                    except Unavailable as exc:
                        failures += 1
                        self._back_off(exc, failures, summary, max_attempts)
                        restart = True
                        continue
                    failures = 0
                    # central's cursor only grows: a lower one is an answer to a batch that overtook its
                    # predecessor (a "gap" then, not now), and must not un-acknowledge what came since
                    confirmed = cursor = max(confirmed, int(answer["cursor"]))
                    self._acknowledge(cursor, batch.after)
                    acked = batch.acked(cursor)
                    summary.batches += 1
                    summary.pushed += acked
                    summary.duplicates += int(answer.get("duplicates", 0))
                    summary.conflicts += int(answer.get("conflicts", 0))
                    if on_batch is not None and acked:
                        on_batch(acked)
                    restart = cursor < batch.seqs[-1]
                for _, future in inflight:  # let them finish; central ignores what it already has
                    future.exception()

    # --- pull ---------------------------------------------------------------------------------
    def pull(self, summary: SyncSummary, max_attempts: int | None = None) -> None:
        while True:
            since, version = self._counter(CHANGES_CURSOR), self._counter(KEYS_VERSION)
            answer = self._retrying(partial(self.client.changes, since, version), summary, max_attempts)
            self._apply(answer)
            summary.pulled += len(answer["changes"])
            if not answer.get("more"):
                return

    def _apply(self, answer: dict[str, Any]) -> None:
        now: datetime = self.ctx.clock()
        with UnitOfWork(self.ctx.db, write=True) as uow:
            if "keys" in answer:
                adopt_keys(uow.conn, self.ctx, answer["keys"])
                self._set_counter(uow.conn, KEYS_VERSION, int(answer["keys_version"]))
            adopted: list[Program] = []
            for change in answer["changes"]:
                if change["kind"] == "program":
                    program = adopt_program(uow.conn, change["payload"], now)
                    if program is not None:
                        adopted.append(program)
                else:
                    apply_change(uow.conn, change["kind"], change["payload"], now)
            self._set_counter(uow.conn, CHANGES_CURSOR, int(answer["cursor"]))
            uow.commit()
        install_programs(self.ctx, adopted)  # only once they are durable

    # --- rounds -------------------------------------------------------------------------------
    def sync(self, *, max_attempts: int | None = None, on_batch: Callable[[int], object] | None = None,
             stop: threading.Event | None = None) -> SyncSummary:
        """Pull (keys first), push until the outbox is empty, send the audit head, pull again; resumable."""
        summary = SyncSummary()
        with self._lock:
            self.pull(summary, max_attempts)
            self.push_pipelined(summary, max_attempts=max_attempts, on_batch=on_batch, stop=stop)
            send_audit_head(self.ctx, partial(self._retrying, summary=summary, max_attempts=max_attempts),
                            self.client)
            self.pull(summary, max_attempts)
        summary.backlog = self.backlog()
        return summary


def has_joined(db: Database) -> bool:
    """Whether this store has taken the chain's keys from central (its first successful sync)."""
    with UnitOfWork(db, write=False) as read:
        conn = read.conn
        return bool(conn.execute(sa.select(Counter.value).where(Counter.name == KEYS_VERSION)).scalar())


def relay_for(ctx: StoreContext) -> Relay:
    """The relay for this store's ``[central]`` settings."""
    central = ctx.settings.config.central
    return Relay(ctx, CentralClient(central.url, central.token))
