"""Development only, before the first release: rebuild migration 0001 from the models.

Run after adding or changing a table while the schema has never shipped:
    python scripts/regenerate_initial_migration.py
After the first release, add new revisions with Alembic instead (never edit a shipped one).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from alembic import command

from pos_referral.db.engine import open_database, sqlite_url
from pos_referral.db.migrate import MIGRATIONS, alembic_config


def main() -> None:
    for old in (MIGRATIONS / "versions").glob("0001_*.py"):
        old.unlink()
    with tempfile.TemporaryDirectory() as tmp:
        db = open_database(sqlite_url(Path(tmp)))
        cfg = alembic_config()
        with db.write_engine.connect() as conn:
            cfg.attributes["connection"] = conn
            command.revision(cfg, message="initial schema", autogenerate=True, rev_id="0001")
            conn.commit()
        db.dispose()


if __name__ == "__main__":
    main()
