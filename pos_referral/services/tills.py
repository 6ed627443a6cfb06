"""Tills and their API tokens. Only a SHA-256 of a token is stored; the token is shown once."""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
import time
from collections.abc import Callable

import sqlalchemy as sa

from pos_referral.db.models import Till
from pos_referral.services.context import StoreContext
from pos_referral.services.unit_of_work import UnitOfWork

TILL_ID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


class TillError(ValueError):
    pass


def active_tills(ctx: StoreContext) -> list[str]:
    with UnitOfWork(ctx.db, write=False) as read:
        return list(read.session.scalars(sa.select(Till.id).where(Till.disabled.is_(False)).order_by(Till.id)))


def till_exists(ctx: StoreContext, till_id: str) -> bool:
    with UnitOfWork(ctx.db, write=False) as read:
        till = read.session.get(Till, till_id)
        return till is not None and not till.disabled


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def add_till(ctx: StoreContext, till_id: str) -> str:
    """Register a till (or give an existing one a new token); return the new token."""
    if not TILL_ID.match(till_id):
        raise TillError("a till id is 1-32 letters, digits, '-' or '_'")
    token = "till_" + secrets.token_urlsafe(32)
    with UnitOfWork(ctx.db, write=True) as uow:
        till = uow.session.get(Till, till_id)
        if till is None:
            uow.session.add(Till(id=till_id, token_hash=token_hash(token), created_at=ctx.clock()))
        else:
            till.token_hash = token_hash(token)
            till.disabled = False
        uow.commit()
    return token


class TokenVerifier:
    """Maps bearer tokens to till ids, caching hits for ``ttl`` seconds so the till path rarely queries.

    ``pos-referral till add T1`` for an existing till runs in another process and gives it a new
    token; the old one must stop working on the running service too, so a cached answer is trusted
    for a few seconds only, then checked against the database again. Keyed by the token as sent (it
    is already in this process's memory as the request), so a hit costs no hashing."""

    MAX_ENTRIES = 1024  # tills of one store, plus room; past it the cache starts over

    def __init__(self, ctx: StoreContext, ttl: float = 5.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._ctx, self._ttl, self._clock = ctx, ttl, clock
        self._cache: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    def till_for(self, token: str) -> str | None:
        cached = self._cache.get(token)  # one dict read: atomic under the GIL, entries are replaced whole
        now = self._clock()
        if cached is not None and cached[1] > now:
            return cached[0]
        with UnitOfWork(self._ctx.db, write=False) as uow:
            till_id = uow.session.scalar(
                sa.select(Till.id).where(Till.token_hash == token_hash(token), Till.disabled.is_(False))
            )
        with self._lock:
            if till_id is None:
                self._cache.pop(token, None)
            else:
                if len(self._cache) >= self.MAX_ENTRIES:
                    self._cache.clear()
                self._cache[token] = (till_id, now + self._ttl)
        return till_id
