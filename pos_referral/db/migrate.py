"""Schema changes only through Alembic; the service upgrades to head at start."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from pos_referral.db.engine import Database

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def _run(db: Database, action: str, revision: str) -> None:
    cfg = alembic_config()
    # autocommit connection: Alembic begins its own transaction (BEGIN IMMEDIATE on SQLite's writer)
    with db.write_engine.connect() as conn:
        raw = conn.connection.driver_connection if conn.dialect.name == "sqlite" else None
        if raw is not None:  # outside any transaction, or SQLite ignores it: a batch migration re-creates
            raw.execute("PRAGMA foreign_keys=OFF")  # a table others refer to (customers <- sales); checked after
        try:
            cfg.attributes["connection"] = conn
            getattr(command, action)(cfg, revision)
            conn.commit()
            if raw is not None and (broken := raw.execute("PRAGMA foreign_key_check").fetchall()):
                raise RuntimeError(f"{action} to {revision} left rows pointing nowhere: {broken[:5]}")
        finally:
            if raw is not None:
                conn.rollback()
                raw.execute("PRAGMA foreign_keys=ON")


def upgrade(db: Database, revision: str = "head") -> None:
    _run(db, "upgrade", revision)


def downgrade(db: Database, revision: str) -> None:
    _run(db, "downgrade", revision)


def current_revision(db: Database) -> str | None:
    with db.read_engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def known_revision(revision: str) -> bool:
    """Whether ``revision`` is one of this version's migrations (a database from a newer version is not)."""
    script = ScriptDirectory.from_config(alembic_config())
    return any(rev.revision == revision for rev in script.walk_revisions())


def pending(db: Database, revision: str = "head") -> bool:
    """Whether upgrading to ``revision`` would change the schema (a database with tables, not at it)."""
    current = current_revision(db)
    target = head_revision() if revision == "head" else revision
    if current == target:
        return False
    return current is not None or bool(table_names(db))


def table_names(db: Database) -> set[str]:
    return set(sa.inspect(db.write_engine).get_table_names())
