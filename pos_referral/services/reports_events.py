"""Counting what the business tables do not keep, without slowing the till.

Quotes write nothing (a quote must answer in milliseconds and never wait for SQLite's write
lock), yet the funnel needs "friends quoted", the fraud list needs refused self-referrals, the
sales figures need voucher baskets and the training table needs which cashier did what. So the
web layer hands each such fact to ``EventRecorder.note`` — an append to an in-memory list under a
lock, a few microseconds — and a background flusher inserts them in batches every few seconds
(and before every report is computed, so reports are exact within this process).

Trade-offs, chosen on purpose: a crash loses at most one flush interval of these counts (never
a sale, which the API records durably); a quote of the same referral code at the same till
for the same customer within ten minutes counts once (a re-scan is one friend, not two); resolving a phone
or email to a customer id (HMAC + lookup) happens in the flusher, not on the request thread, with
one look-up statement per 500 customers of a flush.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from pos_referral.db.base import table
from pos_referral.db.models import Customer, ReportEvent
from pos_referral.domain import codes as codes_mod
from pos_referral.domain.errors import Refusal
from pos_referral.services.context import StoreContext
from pos_referral.services.customers import CustomerInput, CustomerInputError
from pos_referral.services.unit_of_work import WriteConnection

logger = logging.getLogger(__name__)

FLUSH_SECONDS = 5.0
REQUOTE_WINDOW = timedelta(minutes=10)
REQUOTE_KEEP = 10_000  # re-quote keys kept before the first pruning pass
MAX_BUFFER = 50_000  # beyond this (flusher stuck), drop counts rather than grow without bound
LOOKUP_CHUNK = 500  # identity hashes per look-up statement (SQLite allows 32,766 parameters)
_CUSTOMERS_BY_HASH = sa.select(Customer.identity_hash, Customer.id).where(
    Customer.identity_hash.in_(sa.bindparam("hashes", expanding=True)))


@dataclass(frozen=True)
class Noted:
    """One fact as the request saw it; cleaned and resolved later, off the request thread."""

    at: datetime
    kind: str  # quote | refused | voucher_sale | issued | redeemed
    till_id: str = ""
    staff: str = ""
    code: str = ""
    reason: str = ""
    sale_id: str = ""
    customer: Any = None  # the request's customer object, or a customer id string
    basket_minor: int = 0


_HELD = threading.local()


@contextmanager
def held_notes() -> Iterator[list[tuple[EventRecorder, Noted]]]:
    """Notes made on this thread meanwhile are kept aside in the yielded list, not recorded.

    For answers that are not final when they are built: redemptions answered together after one
    shared COMMIT (web/waitress_batches.py). The caller records them (``recorder.note(item)``) once
    that COMMIT held, and drops them if it failed: a report never counts a sale that was undone."""
    notes: list[tuple[EventRecorder, Noted]] = []
    _HELD.notes = notes
    try:
        yield notes
    finally:
        _HELD.notes = None


@dataclass
class EventRecorder:
    """Buffer + periodic flusher. Started lazily on the first note; ``stop()`` flushes what is left."""

    ctx: StoreContext
    interval: float = FLUSH_SECONDS
    _buffer: list[Noted] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _flush_lock: threading.Lock = field(default_factory=threading.Lock)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _recent_quotes: dict[tuple[str, str, str], datetime] = field(default_factory=dict)
    _prune_at: int = 10_000  # REQUOTE_KEEP, then twice what the last pruning kept
    dropped: int = 0

    def note(self, item: Noted) -> None:
        held: list[tuple[EventRecorder, Noted]] | None = getattr(_HELD, "notes", None)
        if held is not None:  # an answer not yet final (see held_notes)
            held.append((self, item))
            return
        with self._lock:
            if len(self._buffer) >= MAX_BUFFER:
                self.dropped += 1
                return
            self._buffer.append(item)
            if self._thread is None and not self._stop.is_set():
                self._thread = threading.Thread(target=self._run, name="report-events", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.flush()
            except Exception:  # a timer must survive a bad round; the rows stay for the next one
                logger.exception("report events not flushed; will retry")

    def stop(self) -> None:
        """Flush what is buffered and end the flusher (Store.close calls this)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        try:
            self.flush()
        except Exception:
            logger.exception("report events lost at shutdown")

    def flush(self) -> int:
        """Insert everything buffered; returns the number of rows written."""
        with self._flush_lock:
            with self._lock:
                batch, self._buffer = self._buffer, []
            if not batch:
                return 0
            try:
                rows = self._rows(batch)
                if rows:
                    with WriteConnection(self.ctx.db) as uow:
                        uow.conn.execute(sa.insert(table(ReportEvent)), rows)
                        uow.commit()
            except Exception:
                with self._lock:  # put them back, in order, for the next round
                    self._buffer[:0] = batch
                raise
            return len(rows)

    def _rows(self, batch: list[Noted]) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        unresolved: list[tuple[dict[str, Any], str]] = []  # (row, identity hash): one look-up for the batch
        for item in batch:
            code, kind = _clean_code(item.code), item.kind
            if kind == "quote":
                if code.startswith(_VOUCHER_PREFIXES):
                    kind = "voucher_quote"
                elif self._requoted(code, item):
                    continue
            customer_id, identity_hash = self._customer(item.customer)
            row = dict(at=item.at, kind=kind, till_id=item.till_id[:32], staff=item.staff[:40], code=code,
                       reason=item.reason[:32], sale_id=item.sale_id[:64], customer_id=customer_id,
                       basket_minor=item.basket_minor)
            if identity_hash is not None:
                unresolved.append((row, identity_hash))
            rows.append(row)
        if unresolved:
            known = self._customers_by_hash({identity_hash for _, identity_hash in unresolved})
            for row, identity_hash in unresolved:
                row["customer_id"] = known.get(identity_hash)
        return rows

    def _customers_by_hash(self, hashes: set[str]) -> dict[str, str]:
        """Customer ids for identity hashes, ``LOOKUP_CHUNK`` at a time: a busy till's few thousand
        quotes between two flushes cost a handful of statements, not one each (each statement is a
        GIL hand-off that the request threads pay for under load)."""
        found: dict[str, str] = {}
        ordered = sorted(hashes)
        with self.ctx.db.read_engine.connect() as conn:
            for i in range(0, len(ordered), LOOKUP_CHUNK):
                chunk = ordered[i:i + LOOKUP_CHUNK]
                for identity_hash, customer_id in conn.execute(_CUSTOMERS_BY_HASH, {"hashes": chunk}):
                    found[str(identity_hash)] = str(customer_id)
        return found

    def _requoted(self, code: str, item: Noted) -> bool:
        key = (code, item.till_id, repr(item.customer))
        last = self._recent_quotes.get(key)
        self._recent_quotes[key] = item.at
        if len(self._recent_quotes) > self._prune_at:
            cutoff = item.at - REQUOTE_WINDOW
            self._recent_quotes = {k: v for k, v in self._recent_quotes.items() if v >= cutoff}
            # keys still inside the window stay (the ten-minute rule stays exact); the next pass comes
            # only once the map has doubled, so a busy window costs O(1) per quote, not a full pass each
            # (with >10,000 distinct quotes in ten minutes every event used to rebuild the map: ~1 ms)
            self._prune_at = max(REQUOTE_KEEP, 2 * len(self._recent_quotes))
        return bool(code) and last is not None and item.at - last < REQUOTE_WINDOW

    def _customer(self, raw: Any) -> tuple[str | None, str | None]:
        """(customer id, None) when the request named one, (None, identity hash) to look up with the
        batch, or (None, None)."""
        if raw is None or raw == {}:
            return None, None
        if isinstance(raw, str):
            return raw[:32] or None, None
        try:
            given = CustomerInput.parse(raw)
        except CustomerInputError:
            return None, None
        if given.customer_id:
            return given.customer_id, None
        if given.identity is None:
            return None, None
        try:
            pepper = self.ctx.secrets.pepper
        except Refusal:  # a chain store before its first sync: no customer can exist yet
            return None, None
        return None, given.identity.hashed(pepper)


# the first symbol of a voucher code is a key-id tag of 16 or more (see domain/codes.py)
_VOUCHER_PREFIXES = tuple(codes_mod.ALPHABET[16:])


def _clean_code(raw: str) -> str:
    code = codes_mod.normalise(raw or "")
    return code if len(code) == codes_mod.CODE_LENGTH else ""


def recorder_for(ctx: StoreContext, registry: dict[str, Any]) -> EventRecorder:
    """The store's one recorder, kept in ``registry`` (the Flask app's extensions)."""
    found = registry.get("pos_referral.report_events")
    if not isinstance(found, EventRecorder):
        found = EventRecorder(ctx)
        registry["pos_referral.report_events"] = found
    return found
