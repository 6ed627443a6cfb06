"""The outbox: every state change is an event row written in the business transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from pos_referral.db.base import new_id, table
from pos_referral.db.models import OutboxEvent

_INSERT_EVENT = sa.insert(table(OutboxEvent))  # built once: two per redemption on the till's hot path


def add_event(db: so.Session | sa.Connection, type_: str, payload: dict[str, Any], now: datetime) -> str:
    """Queue an event for central in the caller's transaction; returns its event id.

    A Core insert (not ``session.add``) so the redemption hot path pays for no ORM flush;
    on a Session it still runs inside the session's transaction."""
    row = _row(type_, payload, now)
    db.execute(_INSERT_EVENT, row)
    return str(row["event_id"])


def add_events(db: so.Session | sa.Connection, events: Sequence[tuple[str, dict[str, Any]]], now: datetime) -> None:
    """Queue several events at once, in this order (one executemany: a redemption's two events)."""
    db.execute(_INSERT_EVENT, [_row(type_, payload, now) for type_, payload in events])


def _row(type_: str, payload: dict[str, Any], now: datetime) -> dict[str, Any]:
    # a new, time-ordered event id: ids made one after another sort one after another (db/base.py)
    return dict(event_id=new_id(), type=type_, payload=payload, created_at=now)
