"""Declarative base with a naming convention (Alembic batch mode on SQLite needs named constraints)."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(so.DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(sa.TypeDecorator[datetime]):
    """Stores naive UTC, returns aware UTC: SQLite keeps no zone, and comparing aware with naive fails."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


def table(model: type[Base]) -> sa.Table:
    """A mapped class's Table, for Core statements on hot paths (typed: ``__table__`` is a FromClause)."""
    result = model.__table__
    assert isinstance(result, sa.Table)
    return result


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    """A new row id: a UUIDv7 (RFC 9562) as 32 hex digits, the same form as ``uuid4().hex``.

    Its first 48 bits are the Unix time in milliseconds, so ids made one after another sort one
    after another: every index on them grows at its right edge, and the redemptions that share one
    commit (db/engine.py GroupCommit) write those index pages once between them instead of one
    random page each. 74 random bits follow, so ids stay unguessable; an id tells when it was made."""
    value = (time.time_ns() // 1_000_000) << 80 | int.from_bytes(os.urandom(10), "big")
    value = value & ~(0xF << 76) | 0x7 << 76  # version 7
    value = value & ~(0x3 << 62) | 0x2 << 62  # RFC 9562 variant
    return f"{value:032x}"
