"""Publish the chain's programs down the changes feed: central's program files, each with a version.

A central worker, at start, compares every ``programs/*.toml`` of its config with what the chain
last published (``chain_programs``, by a digest of the parsed content) and, for each new or
changed program, bumps the version and appends a ``program`` change carrying the file. Stores
adopt the newest version they see (``sync/programs.py``). Runs under the chain lock, so several
workers starting at once publish a change once. Workers of one chain must share one config: a
worker started with an older file would publish it again as a newer version.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from pos_referral.central.changes import add_changes
from pos_referral.config import Settings
from pos_referral.db.base import table
from pos_referral.db.models_central import ChainProgram
from pos_referral.sync.programs import parse_source

logger = logging.getLogger(__name__)
_programs = table(ChainProgram)


def publish_programs(conn: sa.Connection, settings: Settings, now: datetime) -> int:
    """Version and feed every changed program (the caller holds the chain lock); returns how many."""
    published = {r.program_id: r for r in conn.execute(sa.select(_programs.c.program_id, _programs.c.version,
                                                                 _programs.c.digest))}
    changes: list[tuple[str, dict[str, Any]]] = []
    for path in sorted((settings.config_dir / "programs").glob("*.toml")):
        source = path.read_text(encoding="utf-8")
        program, digest = parse_source(source)  # the files were validated when the settings were loaded
        row = published.get(program.id)
        if row is not None and row.digest == digest:
            continue
        version = (row.version if row is not None else 0) + 1
        values = dict(version=version, source=source, digest=digest, updated_at=now)
        if row is None:
            conn.execute(sa.insert(_programs), dict(program_id=program.id, **values))
        else:
            conn.execute(sa.update(_programs).where(_programs.c.program_id == program.id).values(**values))
        changes.append(("program", {"program_id": program.id, "version": version, "source": source}))
        logger.info("publishing program %s version %s to the stores", program.id, version)
    add_changes(conn, changes, now)
    return len(changes)
