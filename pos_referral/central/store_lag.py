"""The chain's view of the reports (central only): which stores there are and how far behind each one is.

Central shows the same report as a store, over every store's synced rows, with a store filter
(``DateRange.store_no``). A store's figures on central are only as fresh as its last sync, so the
page lists each store's sync lag: the newest event applied, when the store was last in contact,
and the events central has applied from it. Events still waiting in a store's outbox are not known
to central (the sync protocol does not report them), so that column says so rather than guess.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pos_referral.central.stores import StoreError, parse_store_no, sync_lag
from pos_referral.db.engine import Database


@dataclass(frozen=True)
class StoreLag:
    store_no: int
    label: str  # "S001 Main street"
    last_event_at: datetime | None  # when the newest event applied here happened at the store
    last_seen: datetime | None  # the store's last contact (push or pull)
    behind_seconds: float | None  # now - last_event_at
    events_applied: int  # the store's outbox sequence number central has applied up to
    events_pending: int | None  # not reported by stores: None


def store_label(store_no: int, name: str) -> str:
    code = f"S{store_no:03d}"
    return code if not name or name == code else f"{code} {name}"


def chain_stores(db: Database, now: datetime) -> list[StoreLag]:
    """Every registered store with its sync lag, by store number."""
    return [StoreLag(s.store_no, store_label(s.store_no, s.name), s.last_event_at, s.last_seen,
                     (now - s.last_event_at).total_seconds() if s.last_event_at else None, s.cursor, None)
            for s in sync_lag(db, now)]


def parse_store_filter(text: str | None, stores: list[StoreLag]) -> int | None:
    """``?store=S001`` (or ``1``) -> 1; empty -> None (all stores). Unknown stores are refused."""
    if not text:
        return None
    store_no = parse_store_no(text)
    if store_no not in {s.store_no for s in stores}:
        raise StoreError(f"there is no store {text!r} in this chain")
    return store_no


def lag_text(seconds: float | None) -> str:
    """Seconds behind as a person reads it: "12 s", "5 min", "3 h", "2 days"; "never synced"."""
    if seconds is None:
        return "never synced"
    seconds = max(seconds, 0.0)
    for unit, size in (("days", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size * (2 if unit == "days" else 1):
            return f"{int(seconds // size)} {unit}"
    return f"{int(seconds)} s"
