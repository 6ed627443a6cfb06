"""The mail outbox: rows queued in business transactions, claimed by a worker, sent once.

queued -> sending (claimed by a conditional update, so two workers never take one row) ->
sent (marked in its own transaction right after the SMTP server accepted it) | queued again
with backoff after a temporary failure | failed (permanent refusal or too many attempts) |
cancelled (the customer unsubscribed). A worker that died mid-send leaves ``sending``; after
the lease the row is taken again: at least once rather than lost, and only a crash in the
millisecond between the server's "250 OK" and our commit can send a mail twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from sqlalchemy.dialects import postgresql, sqlite

from pos_referral.db.base import table
from pos_referral.db.models_promo import MailMessage

MAX_ATTEMPTS = 8
BASE_DELAY = timedelta(minutes=1)
MAX_DELAY = timedelta(hours=6)
LEASE = timedelta(minutes=10)
FINAL = ("sent", "failed", "cancelled")

_mail = table(MailMessage)


@dataclass(frozen=True)
class Claimed:
    id: int
    kind: str
    customer_id: str
    to_addr: str
    language: str
    context: dict[str, Any]
    attempts: int


def queue_mail(session: so.Session | sa.Connection, *, kind: str, customer_id: str, language: str,
               context: dict[str, Any], now: datetime, to_addr: str = "", dedupe_key: str | None = None) -> bool:
    """Queue one mail in the caller's transaction; False when ``dedupe_key`` was queued before."""
    values = dict(kind=kind, customer_id=customer_id, to_addr=to_addr, language=language, context=context,
                  dedupe_key=dedupe_key, status="queued", attempts=0, last_error="", created_at=now,
                  next_attempt_at=now)
    bind = session.get_bind() if isinstance(session, so.Session) else session
    dialect = bind.dialect.name
    if dialect == "sqlite":
        stmt: Any = sqlite.insert(_mail).values(values).on_conflict_do_nothing()
    elif dialect == "postgresql":
        stmt = postgresql.insert(_mail).values(values).on_conflict_do_nothing()
    else:  # pragma: no cover - the store runs SQLite, central PostgreSQL
        stmt = sa.insert(_mail).values(values)
    result = session.execute(stmt)
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def backoff(attempts: int) -> timedelta:
    """1, 2, 4, ... minutes, at most six hours."""
    return min(BASE_DELAY * (2 ** max(attempts - 1, 0)), MAX_DELAY)


def _claimable(now: datetime) -> sa.ColumnElement[bool]:
    return sa.or_(
        sa.and_(_mail.c.status == "queued", _mail.c.next_attempt_at <= now),
        sa.and_(_mail.c.status == "sending", _mail.c.claimed_at <= now - LEASE),
    )


def due_ids(session: so.Session, now: datetime, limit: int) -> list[int]:
    return list(session.scalars(sa.select(_mail.c.id).where(_claimable(now))
                                .order_by(_mail.c.next_attempt_at, _mail.c.id).limit(limit)))


def claim(session: so.Session, mail_id: int, now: datetime) -> Claimed | None:
    """Take one due mail for sending (conditional update: exactly one claimer wins)."""
    result = session.execute(sa.update(_mail).where(_mail.c.id == mail_id, _claimable(now))
                             .values(status="sending", claimed_at=now, attempts=_mail.c.attempts + 1))
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return None
    row = session.execute(sa.select(_mail).where(_mail.c.id == mail_id)).one()
    return Claimed(row.id, row.kind, row.customer_id, row.to_addr, row.language, dict(row.context), row.attempts)


def mark_sent(session: so.Session, mail_id: int, now: datetime) -> None:
    """The server accepted it: final, and a friend's address is forgotten."""
    session.execute(sa.update(_mail).where(_mail.c.id == mail_id, _mail.c.status == "sending")
                    .values(status="sent", sent_at=now, to_addr="", last_error=""))


def mark_failed(session: so.Session, mail: Claimed, now: datetime, error: str, *, permanent: bool) -> str:
    """Back to the queue with backoff, or failed for good (then a friend's address is forgotten)."""
    give_up = permanent or mail.attempts >= MAX_ATTEMPTS
    values: dict[str, Any] = {"last_error": error[:200]}
    if give_up:
        values.update(status="failed", to_addr="")
    else:
        values.update(status="queued", next_attempt_at=now + backoff(mail.attempts))
    session.execute(sa.update(_mail).where(_mail.c.id == mail.id, _mail.c.status == "sending").values(**values))
    return str(values["status"])


def cancel(session: so.Session, mail_id: int, reason: str) -> None:
    session.execute(sa.update(_mail).where(_mail.c.id == mail_id, _mail.c.status.not_in(FINAL))
                    .values(status="cancelled", to_addr="", last_error=reason[:200]))


def counts(session: so.Session) -> dict[str, int]:
    """Mails by status (for health and the manager)."""
    rows = session.execute(sa.select(_mail.c.status, sa.func.count()).group_by(_mail.c.status)).all()
    return {str(status): int(n) for status, n in rows}
