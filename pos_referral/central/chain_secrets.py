"""The chain's code keys and identity pepper, kept in central's database (one row, created once).

The row also holds central's own audit key (its audit log's HMAC; never sent to stores). Unlike a
store's, it sits in central's database, so central's own audit log is only as safe as that database.
Every central worker reads the same row (the first to start creates it with ``ON CONFLICT DO
NOTHING``), and stores receive it through the changes feed, so codes minted at any store parse at
every store and a phone number hashes the same everywhere. Never logged.
"""

from __future__ import annotations

import sqlalchemy as sa

from pos_referral.db.base import table
from pos_referral.db.engine import Database
from pos_referral.db.models_central import ChainSecrets
from pos_referral.db.upsert import insert_ignore
from pos_referral.keystore import StoreSecrets
from pos_referral.services.unit_of_work import UnitOfWork


def load_or_create(db: Database) -> tuple[StoreSecrets, int]:
    """(secrets, version); generates the chain's secrets on first use."""
    with UnitOfWork(db, write=True) as uow:
        conn = uow.conn
        insert_ignore(conn, table(ChainSecrets), dict(id=1, version=1, data=StoreSecrets.generate().to_dict()))
        row = conn.execute(sa.select(ChainSecrets.data, ChainSecrets.version).where(ChainSecrets.id == 1)
                           .with_for_update()).one()
        data = dict(row[0])
        if "audit_key" not in data:  # a chain from before the keyed audit log: one key for all its workers
            data = StoreSecrets.from_dict(data).to_dict()
            conn.execute(sa.update(ChainSecrets).where(ChainSecrets.id == 1).values(data=data))
        uow.commit()
    return StoreSecrets.from_dict(data), int(row[1])


def public_keys(value: StoreSecrets) -> dict[str, object]:
    """What a store needs: keyring and pepper (its own session key stays its own), and the keys and
    peppers adopted from shops that joined later (central/joins.py)."""
    return {"keyring": value.keyring.to_dict(), "pepper": value.pepper.hex(),
            "old_peppers": [p.hex() for p in value.old_peppers]}


def current_version(db: Database) -> int:
    """The keys version in the database: another worker may have adopted a joining shop's keys."""
    with UnitOfWork(db, write=False) as read:
        return int(read.conn.execute(sa.select(ChainSecrets.version).where(ChainSecrets.id == 1)).scalar_one())
