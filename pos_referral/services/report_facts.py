"""What the reports count that the business tables do not keep: quotes, refusals, voucher baskets, who served.

Each fact is a ``report_events`` row written by the transaction it describes: a redemption's and
an issued code's facts inside their own transaction; a quote's, and a refused redemption's, in a
short write unit right after the answer was decided (neither changes any business state; see
``record`` for its durability). Nothing waits in memory, so a crash loses none of them. Writing a
fact never fails the till's answer: a fact that cannot be written is logged and the answer stands.

A quote of the same code at the same till for the same customer within ten minutes of its last scan
counts once (a re-scan is one friend, not two): ``RecentQuotes`` remembers the last scans. After a
restart that memory is empty, so at most one re-scan per code is counted twice.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from pos_referral.db.base import table
from pos_referral.db.engine import Database
from pos_referral.db.models import ReportEvent
from pos_referral.domain import codes as codes_mod
from pos_referral.services.unit_of_work import UnitOfWork

logger = logging.getLogger(__name__)

REQUOTE_WINDOW = timedelta(minutes=10)
REQUOTE_KEEP = 10_000  # re-quote keys kept before the first pruning pass

_INSERT = sa.insert(table(ReportEvent))


@dataclass(frozen=True)
class Fact:
    """One row of ``report_events``: kind is quote, voucher_quote, refused, voucher_sale, issued or redeemed."""

    at: datetime
    kind: str
    till_id: str = ""
    staff: str = ""
    code: str = ""
    reason: str = ""
    sale_id: str = ""
    customer_id: str | None = None
    basket_minor: int = 0


def report_code(raw: str) -> str:
    """The code as the reports keep it: normalised when it has a code's length, else empty."""
    code = codes_mod.normalise(raw or "")
    return code if len(code) == codes_mod.CODE_LENGTH else ""


def looks_like_voucher(code: str) -> bool:
    """A voucher's first symbol is a key-id tag of 16 or more (domain/codes.py), even in a mistyped code."""
    return code[:1] in _VOUCHER_TAGS


_VOUCHER_TAGS = frozenset(codes_mod.ALPHABET[16:])


def add(conn: sa.Connection, fact: Fact) -> None:
    """Write ``fact`` in the caller's transaction (it is kept or undone with the business rows)."""
    row = dict(vars(fact))  # not dataclasses.asdict: it deep-copies every value (~0.1 ms a fact)
    row.update(till_id=fact.till_id[:32], staff=fact.staff[:40], reason=fact.reason[:32], sale_id=fact.sale_id[:64])
    conn.execute(_INSERT, row)


def record(db: Database, fact: Fact) -> None:
    """Write ``fact`` in a write unit of its own; a failure is logged, never raised.

    Without an fsync of its own (``durable=False``): it survives a crash of the process, and the next
    sale's durable commit syncs it to disk with its own rows."""
    try:
        with UnitOfWork(db, write=True, durable=False) as uow:
            add(uow.conn, fact)
            uow.commit()
    except sa.exc.SQLAlchemyError:
        logger.warning("report fact %s not written", fact.kind, exc_info=True)


class RecentQuotes:
    """The ten-minute re-quote rule: when each (code, till, customer) was last scanned.

    Pruned only when the map has doubled since the last pass, so a busy window costs O(1) per quote
    and keys still inside the window stay (the rule stays exact)."""

    def __init__(self) -> None:
        self._seen: dict[tuple[str, str, str], datetime] = {}
        self._prune_at = REQUOTE_KEEP
        self._lock = threading.Lock()

    def first_in_window(self, code: str, till_id: str, customer: str, at: datetime) -> bool:
        """True when this quote is to be counted (and remember it), False for a re-quote."""
        key = (code, till_id, customer)
        with self._lock:
            last = self._seen.get(key)
            self._seen[key] = at
            if len(self._seen) > self._prune_at:
                cutoff = at - REQUOTE_WINDOW
                self._seen = {k: v for k, v in self._seen.items() if v >= cutoff}
                self._prune_at = max(REQUOTE_KEEP, 2 * len(self._seen))
        return not code or last is None or at - last >= REQUOTE_WINDOW

    def __len__(self) -> int:
        return len(self._seen)
