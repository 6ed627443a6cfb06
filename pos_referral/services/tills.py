"""Tills and their API tokens. Only a SHA-256 of a token is stored; the token is shown once."""

from __future__ import annotations

import hashlib
import re
import secrets
import threading

import sqlalchemy as sa

from pos_referral.db.models import Till
from pos_referral.services.context import StoreContext
from pos_referral.services.unit_of_work import UnitOfWork

TILL_ID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


class TillError(ValueError):
    pass


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
    """Maps bearer tokens to till ids, caching hits so the till path does not query each time."""

    def __init__(self, ctx: StoreContext) -> None:
        self._ctx = ctx
        self._cache: dict[str, str] = {}
        self._lock = threading.Lock()

    def till_for(self, token: str) -> str | None:
        digest = token_hash(token)
        with self._lock:
            cached = self._cache.get(digest)
        if cached is not None:
            return cached
        with UnitOfWork(self._ctx.db, write=False) as uow:
            till_id = uow.session.scalar(
                sa.select(Till.id).where(Till.token_hash == digest, Till.disabled.is_(False))
            )
        if till_id is not None:
            with self._lock:
                self._cache[digest] = till_id
        return till_id

    def forget(self) -> None:
        with self._lock:
            self._cache.clear()
