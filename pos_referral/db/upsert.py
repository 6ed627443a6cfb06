"""A dialect-neutral ``INSERT ... ON CONFLICT DO NOTHING`` (SQLite at the stores, PostgreSQL at central)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite


def insert_ignore(conn: sa.Connection, table: sa.Table, rows: Sequence[dict[str, Any]] | dict[str, Any]) -> int:
    """Insert ``rows``, skipping those that clash with an existing key; returns rows written (single row)."""
    if not rows:
        return 0
    stmt: Any
    if conn.dialect.name == "postgresql":
        stmt = postgresql.insert(table).on_conflict_do_nothing()
    else:
        stmt = sqlite.insert(table).on_conflict_do_nothing()
    result = conn.execute(stmt, rows)
    return int(result.rowcount or 0)
