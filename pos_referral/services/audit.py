"""Append-only audit log whose entries are hash-chained: editing or deleting one breaks the chain.

Each entry's hash is SHA-256 over the previous hash and the entry's own fields, so
``verify_chain`` finds the first entry that was changed, removed or inserted afterwards.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from pos_referral.db.models import AuditEntry
from pos_referral.domain.text import sanitize_text
from pos_referral.services.context import StoreContext
from pos_referral.services.unit_of_work import UnitOfWork

GENESIS = "0" * 64


def _digest(prev: str, at: datetime, actor: str, action: str, detail: str) -> str:
    text = "\x1f".join((prev, at.isoformat(), actor, action, detail))
    return hashlib.sha256(text.encode()).hexdigest()


def record(session: so.Session, actor: str, action: str, detail: str, now: datetime) -> AuditEntry:
    """Append an entry in the caller's (write) transaction; SQLite's write lock orders the chain."""
    actor, detail = sanitize_text(actor)[:64], sanitize_text(detail)[:2000]
    prev = session.scalar(sa.select(AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)) or GENESIS
    at = now.replace(microsecond=0)
    entry = AuditEntry(at=at, actor=actor, action=action[:40], detail=detail, prev_hash=prev,
                       hash=_digest(prev, at, actor, action[:40], detail))
    session.add(entry)
    session.flush()
    return entry


def verify_chain(session: so.Session) -> tuple[bool, int | None, int]:
    """(ok, id of the first bad entry or None, entries checked)."""
    prev = GENESIS
    count = 0
    for entry in session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id)):
        count += 1
        if entry.prev_hash != prev or entry.hash != _digest(prev, entry.at, entry.actor, entry.action, entry.detail):
            return False, entry.id, count
        prev = entry.hash
    return True, None, count


def verify(ctx: StoreContext) -> tuple[bool, int | None, int]:
    """``verify_chain`` over the store's whole log, in a read unit of work of its own (``audit verify``)."""
    with UnitOfWork(ctx.db, write=False) as uow:
        return verify_chain(uow.session)
