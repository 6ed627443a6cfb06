"""The chain's stores: registration with a sync token (hash only), authentication, and sync lag."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from pos_referral.db.engine import Database
from pos_referral.db.models_central import CentralStore
from pos_referral.domain.codes import MAX_STORE_NO
from pos_referral.services.unit_of_work import UnitOfWork

CENTRAL_STORE_NO = MAX_STORE_NO  # vouchers central mints carry this store number; no shop may use it
_STORE_ID = re.compile(r"^[Ss]?0*(\d{1,4})$")


class StoreError(ValueError):
    pass


def parse_store_no(text: str) -> int:
    """``S001``, ``s1`` and ``1`` all name store number 1."""
    match = _STORE_ID.match(text.strip())
    if not match or not 0 <= int(match.group(1)) < CENTRAL_STORE_NO:
        raise StoreError(f"a store is S000..S{CENTRAL_STORE_NO - 1} (its [store] number), not {text!r}")
    return int(match.group(1))


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def add_store(db: Database, store_no: int, name: str, now: datetime) -> str:
    """Register a store (or give it a new token, which revokes the old one); returns the token."""
    token = f"store{store_no}_" + secrets.token_urlsafe(32)
    with UnitOfWork(db, write=True) as uow:
        session = uow.session
        row = session.get(CentralStore, store_no)
        if row is None:
            session.add(CentralStore(store_no=store_no, name=name or f"S{store_no:03d}", token_hash=token_hash(token),
                                     cursor=0, created_at=now))
        else:
            row.token_hash = token_hash(token)
            if name:
                row.name = name
        uow.commit()
    return token


def store_for_token(db: Database, token: str) -> int | None:
    with UnitOfWork(db, write=False) as read:
        session = read.session
        return session.scalar(sa.select(CentralStore.store_no).where(CentralStore.token_hash == token_hash(token)))


@dataclass(frozen=True)
class SyncLag:
    """How far central is behind a store: for the chain reports' "sync lag per store"."""

    store_no: int
    name: str
    cursor: int
    last_seen: datetime | None
    last_event_at: datetime | None
    seconds_since_seen: float | None


def sync_lag(db: Database, now: datetime) -> list[SyncLag]:
    """One row per store: last contact, newest event applied, and seconds since contact."""
    with UnitOfWork(db, write=False) as read:
        session = read.session
        rows = session.execute(sa.select(CentralStore).order_by(CentralStore.store_no)).scalars().all()
    return [
        SyncLag(r.store_no, r.name, r.cursor, r.last_seen, r.last_event_at,
                (now - r.last_seen).total_seconds() if r.last_seen else None)
        for r in rows
    ]


def touch(db: Database, store_no: int, now: datetime) -> None:
    """Note that a store was in contact (it pulled changes)."""
    with UnitOfWork(db, write=True) as uow:
        conn = uow.conn
        conn.execute(sa.update(CentralStore).where(CentralStore.store_no == store_no).values(last_seen=now))
        uow.commit()
