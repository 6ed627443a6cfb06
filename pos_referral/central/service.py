"""Central's own use cases: release the chain's due rewards and publish them down the changes feed.

Central reuses the store's composition (``bootstrap.build_central`` builds a ``Store`` on
PostgreSQL), so the same services (``release_due_rewards``, the landing pages, the reports) run
over the whole chain's rows.
"""

from __future__ import annotations

from datetime import datetime

from pos_referral.central.changes import publish_released
from pos_referral.central.programs import publish_programs
from pos_referral.central.stores import CENTRAL_STORE_NO
from pos_referral.config import Settings
from pos_referral.db.engine import Database
from pos_referral.services.context import StoreContext
from pos_referral.services.rewards import ReleaseSummary, release_due_rewards
from pos_referral.services.unit_of_work import UnitOfWork

MAX_BATCH_BYTES = 16 * 1024 * 1024  # a store's push of up to 5,000 events


def release(ctx: StoreContext) -> ReleaseSummary:
    """Release due rewards chain-wide (caps, milestones) and publish the vouchers to the feed."""
    summary = release_due_rewards(ctx)  # each of its transactions serialised with the chain's writers
    publish(ctx)
    return summary


def publish(ctx: StoreContext) -> int:
    """Move released vouchers into the feed."""
    with UnitOfWork(ctx.db, write=True) as uow:
        uow.serialize()
        count = publish_released(uow.conn, ctx.clock())
        uow.commit()
    return count


def publish_program_files(db: Database, settings: Settings, now: datetime) -> None:
    """New or changed program files go down to the stores (at every central start)."""
    with UnitOfWork(db, write=True) as uow:
        uow.serialize()
        publish_programs(uow.conn, settings, now)
        uow.commit()


def central_settings(settings: Settings) -> Settings:
    """Central mints vouchers under its own reserved store number."""
    config = settings.config.model_copy(update={
        "store": settings.config.store.model_copy(update={"number": CENTRAL_STORE_NO})})
    return settings.model_copy(update={"config": config})
