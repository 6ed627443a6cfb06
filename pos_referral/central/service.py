"""Build a central worker: settings + PostgreSQL + the chain's secrets, wired like a store.

Central reuses the store's composition (``Store``, ``StoreContext``) so the same services
(``release_due_rewards``, the landing pages, the reports) run over the whole chain's rows.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Flask

from pos_referral.bootstrap import PeriodicTask, Store
from pos_referral.central import chain_secrets
from pos_referral.central.changes import publish_released
from pos_referral.central.locks import chain_session_lock, lock_chain_in_transaction
from pos_referral.central.programs import publish_programs
from pos_referral.central.stores import CENTRAL_STORE_NO
from pos_referral.config import Settings
from pos_referral.db import migrate
from pos_referral.db.base import utcnow
from pos_referral.db.engine import open_database
from pos_referral.services.context import StoreContext
from pos_referral.services.rewards import ReleaseSummary, release_due_rewards
from pos_referral.services.tills import TokenVerifier
from pos_referral.web.ratelimit import FailureLimiter

logger = logging.getLogger(__name__)
CENTRAL_EXTENSION = "pos_referral_central"
MAX_BATCH_BYTES = 16 * 1024 * 1024


@dataclass
class Central:
    """A central worker: the chain-wide store context plus the keys version stores compare against."""

    store: Store
    keys_version: int

    @property
    def ctx(self) -> StoreContext:
        return self.store.ctx

    def keys(self) -> dict[str, object]:
        return chain_secrets.public_keys(self.ctx.secrets)

    def release(self) -> ReleaseSummary:
        """Release due rewards chain-wide (caps, milestones) and publish the vouchers to the feed."""
        with chain_session_lock(self.ctx.db):
            summary = release_due_rewards(self.ctx)
            self.publish(locked=True)
        return summary

    def publish(self, *, locked: bool = False) -> int:
        """Move released vouchers into the feed (``locked``: the caller holds the chain session lock)."""
        with self.ctx.db.write_engine.connect() as conn:
            if not locked:
                lock_chain_in_transaction(conn)
            count = publish_released(conn, self.ctx.clock())
            conn.commit()
        return count

    def start_background(self) -> None:
        task = PeriodicTask("central-release", self.ctx.settings.config.rewards.release_interval_seconds,
                            self.release)
        task.start()
        self.store.background.append(task)

    def close(self) -> None:
        self.store.close()


def central_settings(settings: Settings) -> Settings:
    """Central mints vouchers under its own reserved store number."""
    config = settings.config.model_copy(update={
        "store": settings.config.store.model_copy(update={"number": CENTRAL_STORE_NO})})
    return settings.model_copy(update={"config": config})


def build_central(settings: Settings, database_url: str, *, clock: Callable[[], datetime] = utcnow,
                  migrate_schema: bool = True, pool_size: int = 10) -> Central:
    db = open_database(database_url, pool_size=pool_size)
    if migrate_schema:
        migrate.upgrade(db)
    secrets, version = chain_secrets.load_or_create(db)
    with db.write_engine.connect() as conn:  # new or changed program files go down to the stores
        lock_chain_in_transaction(conn)
        publish_programs(conn, settings, clock())
        conn.commit()
    ctx = StoreContext(settings=central_settings(settings), db=db, secrets=secrets, clock=clock)
    store = Store(ctx=ctx, tokens=TokenVerifier(ctx), limiter=FailureLimiter(
        settings.config.security.failed_lookups_per_minute))
    return Central(store=store, keys_version=version)


def create_central_app(central: Central, test_config: dict[str, Any] | None = None) -> Flask:
    """The store app (landing pages, reports) plus the sync endpoints, with room for big batches."""
    from pos_referral import create_app

    app = create_app(store=central.store, test_config={"MAX_CONTENT_LENGTH": MAX_BATCH_BYTES, **(test_config or {})})
    app.extensions[CENTRAL_EXTENSION] = central
    return app
