"""Append-only audit log, chained with a keyed MAC: an entry cannot be changed, removed or re-chained unseen.

Each entry's ``hash`` is HMAC-SHA256, under the store's audit key (``keystore.py``: in the secrets file,
never in the database), over its id, the previous entry's MAC and its own fields. Whoever holds only the
database can neither fix up an edited entry nor write a new chain. The head (count, last id and MAC) is
also kept outside the database (``audit_head.py``) and at central, so cutting off the tail is seen too.

Entries from before the key (``mac_version`` 0, migration ``0004_audit_mac``) keep their plain SHA-256
chain; they can only come first, and the first keyed entry's MAC covers the last plain hash, so from
then on they are protected as well. ``seal_legacy`` writes that first keyed entry at start-up.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
import sqlalchemy.orm as so

from pos_referral.db.models import AuditEntry
from pos_referral.domain.text import sanitize_text
from pos_referral.private_files import private_dir
from pos_referral.services import audit_head
from pos_referral.services.audit_head import Head, HeadError, head_path, read_head
from pos_referral.services.context import StoreContext
from pos_referral.services.unit_of_work import UnitOfWork, chain_lock

logger = logging.getLogger(__name__)
GENESIS = "0" * 64
LEGACY, KEYED = 0, 1


def _legacy_digest(prev: str, at: datetime, actor: str, action: str, detail: str) -> str:
    text = "\x1f".join((prev, at.isoformat(), actor, action, detail))
    return hashlib.sha256(text.encode()).hexdigest()


def _mac(key: bytes, entry_id: int, prev: str, at: datetime, actor: str, action: str, detail: str) -> str:
    text = "\x1f".join(("v1", str(entry_id), prev, at.isoformat(), actor, action, detail))
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


def record(ctx: StoreContext, session: so.Session, actor: str, action: str, detail: str,
           now: datetime) -> AuditEntry:
    """Append an entry in the caller's (write) transaction; SQLite's write lock orders the chain.

    Once the caller commits, the head file moves to this entry (unless the log was cut or rewritten
    since the head was last written: then the old head stays as evidence).
    """
    chain_lock(session.connection())  # PostgreSQL (central): concurrent appends would fork the chain
    actor, detail, action = sanitize_text(actor)[:64], sanitize_text(detail)[:2000], action[:40]
    last = session.execute(sa.select(AuditEntry.id, AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)).first()
    prev, entry_id = (last.hash, last.id + 1) if last else (GENESIS, 1)
    at = now.replace(microsecond=0)
    entry = AuditEntry(id=entry_id, at=at, actor=actor, action=action, detail=detail, prev_hash=prev,
                       hash=_mac(ctx.secrets.audit_key, entry_id, prev, at, actor, action, detail), mac_version=KEYED)
    session.add(entry)
    session.flush()
    path = head_path(ctx.settings.data_dir)
    count = int(session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) or 0)
    if audit_head.may_advance(session, path, count):
        session.info["audit_head"] = Head(count, entry_id, entry.hash)
        if not session.info.get("audit_head_hooked"):
            session.info["audit_head_hooked"] = True
            sa.event.listen(session, "after_commit", lambda s: _write_head(s, path))
    return entry


def _write_head(session: so.Session, path: Path) -> None:
    head = session.info.pop("audit_head", None)
    if head is None:
        return
    try:
        private_dir(path.parent)
        try:
            current = read_head(path)
        except HeadError:
            current = None
        if current is not None and current.entries >= head.entries:  # another process's later write won
            return
        audit_head.write_head(path, head)
    except OSError:  # the entry is committed; the head lags until the next write (``audit verify`` says so)
        logger.exception("could not write the audit head file %s", path)


def seal_legacy(ctx: StoreContext) -> None:
    """When the log ends with entries from before the audit key, append the first keyed one (start-up)."""
    with UnitOfWork(ctx.db, write=False) as read:
        last = read.session.scalar(sa.select(AuditEntry.mac_version).order_by(AuditEntry.id.desc()).limit(1))
    if last != LEGACY:
        return
    with UnitOfWork(ctx.db, write=True) as uow:
        old = uow.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)
                                 .where(AuditEntry.mac_version == LEGACY))
        record(ctx, uow.session, "system", "audit_keyed",
               f"entries 1-{old} were chained with plain SHA-256; keyed (HMAC-SHA256) from here", ctx.clock())
        uow.commit()


@dataclass(frozen=True)
class AuditCheck:
    """What ``audit verify`` found: ok, entries checked, the first bad entry's id, and a sentence."""

    ok: bool
    entries: int
    bad_id: int | None = None
    problem: str = ""
    legacy: int = 0  # entries from before the audit key (plain SHA-256)


def verify_chain(session: so.Session, key: bytes, head: Head | None) -> AuditCheck:
    """Walk the log in id order: each entry's link, MAC (or legacy hash), and the head kept outside."""
    prev, prev_id, count, legacy, keyed = GENESIS, 0, 0, 0, False

    def bad(entry_id: int, why: str) -> AuditCheck:
        return AuditCheck(False, count, entry_id, f"entry {entry_id} does not match the chain: {why}", legacy)

    for e in session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id)):
        count += 1
        if e.id != prev_id + 1:
            gone = f"entry {prev_id + 1}" if e.id == prev_id + 2 else f"entries {prev_id + 1}-{e.id - 1}"
            return bad(e.id, f"{gone} before it was deleted")
        if e.prev_hash != prev:
            return bad(e.id, "the entry before it was changed or removed")
        if e.mac_version == LEGACY and not keyed:
            legacy += 1
            if e.hash != _legacy_digest(prev, e.at, e.actor, e.action, e.detail):
                return bad(e.id, "it was changed")
        elif e.mac_version == KEYED:
            keyed = True
            if not hmac.compare_digest(e.hash, _mac(key, e.id, prev, e.at, e.actor, e.action, e.detail)):
                return bad(e.id, "it was changed (or the log re-chained without the audit key)")
        else:
            return bad(e.id, "it claims the unkeyed format after keyed entries (rewritten without the key)")
        if head is not None and e.id == head.last_id and e.hash != head.mac:
            return bad(e.id, "it is not the entry the audit head outside the database names (log rewritten)")
        prev, prev_id = e.hash, e.id
    if head is not None and (count < head.entries or prev_id < head.last_id):
        return AuditCheck(False, count, None, f"audit log truncated: log ends at {count}, head says {head.entries}",
                          legacy)
    if head is None and keyed:
        return AuditCheck(False, count, None, "the audit head file is missing: a cut-off tail could not be seen",
                          legacy)
    return AuditCheck(True, count, legacy=legacy)


def verify(ctx: StoreContext) -> AuditCheck:
    """``verify_chain`` over the store's whole log and its head file (``audit verify``)."""
    try:
        head = read_head(head_path(ctx.settings.data_dir))
    except HeadError as exc:
        return AuditCheck(False, 0, None, f"the audit head file is unreadable ({exc})")
    with UnitOfWork(ctx.db, write=False) as uow:
        return verify_chain(uow.session, ctx.secrets.audit_key, head)
