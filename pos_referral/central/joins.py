"""A shop that ran standalone joins the chain: central adopts its code keys and its pepper.

The shop's printed codes carry its own key id and a MAC under its own key, and its customers'
phones and emails are kept only as hashes under its own pepper, so neither can be re-keyed. The
chain keeps them instead: the shop's keys join the chain's keyring as *adopted* keys (used only to
verify, never to mint; a code minted under one parses at every store), and its pepper joins the
chain's ``old_peppers`` (a phone given at any store is looked up under each). Both travel to every
store with the chain's keys, by the version bump that every store's next pull notices.

The store number is checked: another shop that already sent history under this number, or joined
under it, would mint the very same codes under the chain's key from now on, so it is refused.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import datetime

import sqlalchemy as sa

from pos_referral.db.base import table
from pos_referral.db.engine import Database
from pos_referral.db.models_central import CentralEvent, CentralStore, ChainJoin, ChainSecrets
from pos_referral.db.upsert import insert_ignore
from pos_referral.domain.codes import Keyring
from pos_referral.keystore import StoreSecrets
from pos_referral.services.unit_of_work import UnitOfWork


class JoinRefused(Exception):
    """The join cannot happen as asked; ``code`` is the API error code, the message says what to do."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Joined:
    store_no: int
    adopted_keys: int  # 0 when the chain already held them (a retry)
    keys_version: int


def fingerprint(keyring: Keyring, pepper: bytes) -> str:
    """Names a shop by its own secrets without revealing them."""
    digest = hashlib.sha256(b"pos-referral join\0")
    for key in sorted((*keyring.keys.values(), *keyring.adopted), key=lambda k: (k.key_id, k.secret)):
        digest.update(bytes((key.key_id,)) + key.secret)
    digest.update(pepper)
    return digest.hexdigest()


CHAIN_STORE = "chain"  # the fingerprint noted for a store that took the chain's keys from its first day


def note_chain_store(db: Database, store_no: int, now: datetime) -> None:
    """A store that pulls with the chain's keys version holds the chain's keys: its number is taken."""
    with UnitOfWork(db, write=True) as uow:
        insert_ignore(uow.conn, table(ChainJoin), dict(store_no=store_no, fingerprint=CHAIN_STORE, adopted_keys=0,
                                                       customers=0, joined_at=now))
        uow.commit()


def _check_number(conn: sa.Connection, store_no: int, mark: str) -> None:
    prior = conn.execute(sa.select(ChainJoin.fingerprint, ChainJoin.joined_at)
                         .where(ChainJoin.store_no == store_no)).first()
    name = conn.execute(sa.select(CentralStore.name).where(CentralStore.store_no == store_no)).scalar() or ""
    advice = ("give this shop a number no other store uses ([store] number in its store.toml), register that "
              "number at central (`pos-referral central store add NUMBER NAME`) and join with its token")
    history = conn.execute(sa.select(CentralEvent.event_id).where(CentralEvent.store_no == store_no).limit(1)).first()
    if prior is not None and prior[0] == mark:
        return
    if prior is not None and prior[0] != CHAIN_STORE:
        raise JoinRefused("store_number_taken", f"store number {store_no} is already used by another shop, "
                                                f"which joined the chain on {prior[1]:%Y-%m-%d}: {advice}")
    if prior is not None or history is not None:
        raise JoinRefused("store_number_taken", f"store number {store_no} is already used by the chain's store "
                                                f"{name!r}, which works with the chain's keys: {advice}")


def join(db: Database, store_no: int, keyring: Keyring, pepper: bytes, customers: int, now: datetime) -> Joined:
    """Adopt a standalone shop's keys and pepper for the chain; idempotent for the same shop."""
    mark = fingerprint(keyring, pepper)
    with UnitOfWork(db, write=True) as uow:
        uow.serialize()  # one join (and one keys version) at a time, chain-wide
        conn = uow.conn
        row = conn.execute(sa.select(ChainSecrets.data, ChainSecrets.version).where(ChainSecrets.id == 1)
                           .with_for_update()).one()
        chain = StoreSecrets.from_dict(dict(row[0]))
        new_keys = [k for k in (*keyring.keys.values(), *keyring.adopted) if not chain.keyring.holds(k.secret)]
        peppers = chain.old_peppers if pepper in chain.peppers else (*chain.old_peppers, pepper)
        version = int(row[1])
        if not new_keys and peppers == chain.old_peppers:  # a store that holds the chain's keys already
            return Joined(store_no, 0, version)  # (joined before, its answer lost): nothing of its own to adopt
        _check_number(conn, store_no, mark)
        if new_keys or peppers != chain.old_peppers:
            adopted = replace(chain.keyring, adopted=(*chain.keyring.adopted, *new_keys))
            version += 1
            conn.execute(sa.update(ChainSecrets).where(ChainSecrets.id == 1).values(
                data=replace(chain, keyring=adopted, old_peppers=peppers).to_dict(), version=version))
        if not conn.execute(sa.select(ChainJoin.store_no).where(ChainJoin.store_no == store_no)).first():
            conn.execute(sa.insert(table(ChainJoin)), dict(store_no=store_no, fingerprint=mark,
                                                          adopted_keys=len(new_keys), customers=customers,
                                                          joined_at=now))
        uow.commit()
    return Joined(store_no, len(new_keys), version)
