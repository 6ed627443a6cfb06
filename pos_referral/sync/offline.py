"""Names both sides of the sync agree on, and a dialect-neutral INSERT that skips existing rows.

A store that accepts a code minted at another store (authentic, not yet synced) records the
referrer under a placeholder customer id derived from the code; central maps that placeholder to
the real customer when the code's ``code_issued`` event arrives.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from pos_referral.db.base import table
from pos_referral.db.models import Code, Customer

PLACEHOLDER_PREFIX = "x"


def placeholder_customer_id(code: str) -> str:
    """The local id of the (unknown) customer who owns a referral code minted elsewhere."""
    return PLACEHOLDER_PREFIX + code


def is_placeholder(customer_id: str, code: str) -> bool:
    return customer_id == placeholder_customer_id(code)


def chain_sale_id(store_no: int, sale_id: str) -> str:
    """Sale ids are per store (``S1`` exists at every shop); central keys them by store too."""
    value = f"{store_no}:{sale_id}"
    if len(value) <= 64:
        return value
    return f"{store_no}:#" + hashlib.sha256(sale_id.encode()).hexdigest()[:48]


def insert_ignore(conn: sa.Connection, table: sa.Table, rows: Sequence[dict[str, Any]] | dict[str, Any]) -> int:
    """``INSERT ... ON CONFLICT DO NOTHING`` on SQLite and PostgreSQL; returns rows written (single row)."""
    if not rows:
        return 0
    stmt: Any
    if conn.dialect.name == "postgresql":
        stmt = postgresql.insert(table).on_conflict_do_nothing()
    else:
        stmt = sqlite.insert(table).on_conflict_do_nothing()
    result = conn.execute(stmt, rows)
    return int(result.rowcount or 0)


def record_placeholder_referrer(
    conn: sa.Connection, code: str, customer_id: str, program_id: str, variant: str, origin_store: int, now: datetime
) -> None:
    """Rows for a referral code minted at ``origin_store`` and first seen here (idempotent)."""
    insert_ignore(conn, table(Customer), dict(id=customer_id, identity_hash=None, identity_hint="", first_name="",
                                              language="", store_no=origin_store, created_at=now))
    insert_ignore(conn, table(Code), dict(code=code, kind="referral", program_id=program_id, customer_id=customer_id,
                                          variant=variant, channel="api", store_no=origin_store, till_id="",
                                          created_at=now, expires_at=None))
