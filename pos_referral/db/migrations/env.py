"""Alembic environment: runs against the connection handed over by pos_referral.db.migrate."""

from __future__ import annotations

from alembic import context

from pos_referral.db import models  # noqa: F401  (registers tables)
from pos_referral.db.base import Base

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - only through pos_referral.db.migrate
    raise RuntimeError("run migrations through `pos-referral db upgrade`")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=True,
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
