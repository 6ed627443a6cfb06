"""The chain's programs at a store: adopted from central's changes feed, newest version wins.

Central sends each program as its TOML file with a version (``central/programs.py``). A store
keeps the newest version it has seen in ``chain_programs`` and uses it instead of its own
``programs/*.toml`` of the same id, from the moment it is pulled and again after every restart.
An older or equal version is ignored, so a page of changes applied twice, or out of date,
never takes a store back. A program the store cannot read (a newer central's format) is logged
and skipped: the store keeps selling under the program it has.
"""

from __future__ import annotations

import hashlib
import json
import logging
import tomllib
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from pos_referral.config import Settings
from pos_referral.db.base import table
from pos_referral.db.engine import Database
from pos_referral.db.models_central import ChainProgram
from pos_referral.domain.rules import Program, ProgramError, load_program
from pos_referral.services.context import StoreContext
from pos_referral.services.unit_of_work import UnitOfWork

logger = logging.getLogger(__name__)
_programs = table(ChainProgram)


def parse_source(source: str) -> tuple[Program, str]:
    """The program in a TOML text and a digest of its content (comments and layout don't count).

    Raises ``ProgramError`` (or ``tomllib.TOMLDecodeError``) naming the key when it is not valid."""
    raw = tomllib.loads(source)
    program = load_program(raw)
    canonical = json.dumps(raw, sort_keys=True, separators=(",", ":"), default=str)
    return program, hashlib.sha256(canonical.encode()).hexdigest()


def with_programs(settings: Settings, programs: Iterable[Program]) -> Settings:
    """``settings`` with ``programs`` replacing those of the same id (new ids appended, in order).

    When an incoming program is the default, the others stop being one: one default per store."""
    merged = {p.id: p for p in settings.programs}
    for program in programs:
        if program.default:
            merged = {k: p.model_copy(update={"default": False}) if p.default else p for k, p in merged.items()}
        merged[program.id] = program
    return settings.model_copy(update={"programs": tuple(merged.values())})


def adopt_program(conn: sa.Connection, payload: dict[str, Any], now: datetime) -> Program | None:
    """Keep a program from the feed when its version is newer than the store's; returns it then."""
    program_id, version, source = payload.get("program_id"), payload.get("version"), payload.get("source")
    if not isinstance(program_id, str) or not isinstance(version, int) or not isinstance(source, str):
        logger.error("ignoring a malformed program change (keys: %s)", sorted(payload))
        return None
    have = conn.execute(sa.select(_programs.c.version).where(_programs.c.program_id == program_id)).scalar()
    if have is not None and have >= version:
        return None  # already at this version or newer: never go back
    try:
        program, digest = parse_source(source)
    except (ProgramError, tomllib.TOMLDecodeError) as exc:
        logger.error("program %s version %s from central is not valid here (%s); keeping ours", program_id,
                     version, exc)
        return None
    if program.id != program_id:
        logger.error("program change %s carries program %s; ignored", program_id, program.id)
        return None
    row = dict(version=version, source=source, digest=digest, updated_at=now)
    if have is None:
        conn.execute(sa.insert(_programs), dict(program_id=program_id, **row))
    else:
        conn.execute(sa.update(_programs).where(_programs.c.program_id == program_id,
                                                _programs.c.version < version).values(**row))
    logger.info("adopted program %s version %s from central", program_id, version)
    return program


def install(ctx: StoreContext, programs: list[Program]) -> None:
    """Use adopted programs at once (after their transaction committed); requests read ctx.settings afresh."""
    if programs:
        object.__setattr__(ctx, "settings", with_programs(ctx.settings, programs))


def with_adopted_programs(settings: Settings, db: Database) -> Settings:
    """At start-up: the programs this store adopted from central override its program files."""
    with UnitOfWork(db, write=False) as read:
        conn = read.conn
        if not sa.inspect(conn).has_table(ChainProgram.__tablename__):
            return settings
        rows = conn.execute(sa.select(_programs.c.program_id, _programs.c.version, _programs.c.source)
                            .order_by(_programs.c.updated_at, _programs.c.program_id)).all()
    adopted: list[Program] = []
    for program_id, version, source in rows:
        try:
            adopted.append(parse_source(source)[0])
        except (ProgramError, tomllib.TOMLDecodeError) as exc:
            logger.error("stored program %s version %s is not valid (%s); using the file", program_id, version, exc)
    return with_programs(settings, adopted)
