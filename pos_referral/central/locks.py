"""The chain lock: one PostgreSQL advisory lock that serialises every write that decides for the chain.

Central workers are stateless and may run in any number; what must not run twice at once is the
*decision* part (apply an event, release a reward under a cap, append to the changes feed). Those
hold this lock: ingest as a transaction lock (released at commit), the release run as a session
lock around its short transactions. Parsing, authentication and JSON stay fully parallel.
Serialising the feed writers also makes ``central_changes.id`` follow commit order, which the
cursor-based feed relies on. On SQLite (tests of single-process logic) there is only one writer
anyway and the lock is a no-op.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from pos_referral.db.engine import Database

CHAIN_LOCK_KEY = 0x5052_4546  # "PREF"


def lock_chain_in_transaction(conn: sa.Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": CHAIN_LOCK_KEY})


@contextmanager
def chain_session_lock(db: Database) -> Iterator[None]:
    """Hold the chain lock on a dedicated connection while the body runs its own transactions."""
    if db.is_sqlite:
        yield
        return
    with db.write_engine.connect() as conn:
        conn.execute(sa.text("SELECT pg_advisory_lock(:k)"), {"k": CHAIN_LOCK_KEY})
        conn.commit()
        try:
            yield
        finally:
            conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": CHAIN_LOCK_KEY})
            conn.commit()
