"""Central-only tables: the chain's stores, every event ever received, the changes feed, conflicts.

They live in the same metadata (and the same Alembic migrations) as the store's tables, so one
package and one migration history serve both modes; a store's SQLite simply has them empty.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from pos_referral.db.base import Base, UTCDateTime

_BIGINT_PK = sa.BigInteger().with_variant(sa.Integer, "sqlite")


class CentralStore(Base):
    """A store of the chain: its sync token (hash only) and how far its events have been applied."""

    __tablename__ = "central_stores"

    store_no: so.Mapped[int] = so.mapped_column(primary_key=True, autoincrement=False)
    name: so.Mapped[str] = so.mapped_column(sa.String(40))
    token_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    cursor: so.Mapped[int] = so.mapped_column(sa.BigInteger, default=0)  # last applied store seq
    last_seen: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    last_event_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())  # created_at of that event
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime())


class CentralEvent(Base):
    """Every event received from a store, kept forever; the primary key makes ingest idempotent."""

    __tablename__ = "central_events"
    __table_args__ = (sa.Index("ix_central_events_store_seq", "store_no", "store_seq"),)

    event_id: so.Mapped[str] = so.mapped_column(sa.String(32), primary_key=True)
    store_no: so.Mapped[int]
    store_seq: so.Mapped[int] = so.mapped_column(sa.BigInteger)
    type: so.Mapped[str] = so.mapped_column(sa.String(40))
    payload: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime())
    received_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime())


class CentralChange(Base):
    """The feed stores pull (``GET /sync/v1/changes?since=id``): vouchers, revocations, reward states, programs.

    Written only under the chain lock (see central/locks.py), so ids are assigned in commit order
    and a reader that saw id N has seen every id below N.
    """

    __tablename__ = "central_changes"

    id: so.Mapped[int] = so.mapped_column(_BIGINT_PK, primary_key=True)
    # voucher voucher_used revocation reward_status program forget
    kind: so.Mapped[str] = so.mapped_column(sa.String(20))
    payload: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime())


class Reconciliation(Base):
    """A conflict central found across stores; the customer's sale stands, a person decides."""

    __tablename__ = "central_reconciliation"
    __table_args__ = (sa.Index("ix_central_reconciliation_kind", "kind", "created_at"),)

    id: so.Mapped[int] = so.mapped_column(_BIGINT_PK, primary_key=True)
    kind: so.Mapped[str] = so.mapped_column(sa.String(24))  # duplicate_friend self_referral voucher_double_use ...
    store_no: so.Mapped[int]
    event_id: so.Mapped[str] = so.mapped_column(sa.String(32), unique=True)  # one entry per offending event
    subject: so.Mapped[str] = so.mapped_column(sa.String(64))  # the code, or the friend's customer id
    detail: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON)
    resolved_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    # who marked it resolved, and why (central/reconciliation.resolve; also in the audit log)
    resolved_by: so.Mapped[str] = so.mapped_column(sa.String(64), default="", server_default="")
    resolution_note: so.Mapped[str] = so.mapped_column(sa.Text, default="", server_default="")
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime())


class CustomerLink(Base):
    """One person registered under two ids (offline at two stores, or a placeholder referrer).

    Central keeps both rows (each store's ledger stays as it wrote it) and decides chain-wide
    questions (one referral per friend, caps, milestones) on the canonical id.
    """

    __tablename__ = "central_customer_links"

    customer_id: so.Mapped[str] = so.mapped_column(sa.String(32), primary_key=True)
    canonical_id: so.Mapped[str] = so.mapped_column(sa.String(32), index=True)


class ChainSecrets(Base):
    """The chain's code keyring and identity pepper (one row), sent to stores through the feed."""

    __tablename__ = "central_secrets"

    id: so.Mapped[int] = so.mapped_column(primary_key=True, autoincrement=False)
    version: so.Mapped[int] = so.mapped_column(default=1)
    data: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON)


class ChainProgram(Base):
    """A program of the chain, as TOML, with the version central gave it.

    On central: the version published through the changes feed (bumped when the program file's
    content changes). On a store: the version it adopted from the feed, which overrides its own
    ``programs/*.toml`` of that id at start-up; a store never goes back to a lower version.
    """

    __tablename__ = "chain_programs"

    program_id: so.Mapped[str] = so.mapped_column(sa.String(40), primary_key=True)
    version: so.Mapped[int]
    source: so.Mapped[str] = so.mapped_column(sa.Text)  # the program file, as written
    digest: so.Mapped[str] = so.mapped_column(sa.String(64))  # of its parsed content: comments don't bump it
    updated_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime())


class CentralAuditHead(Base):
    """The last audit-log head each store sent (entry count, id and MAC of its last entry): a copy of the
    store's ``audit-head.json`` that someone holding only the store's machine cannot change.

    The head only moves forward: a head with fewer entries than the one kept, or the same count with
    another MAC, is refused and noted in ``refused_at``/``refused_entries`` (the store's log was shortened
    or rewritten), and the kept head stays as the evidence.
    """

    __tablename__ = "central_audit_heads"

    store_no: so.Mapped[int] = so.mapped_column(primary_key=True, autoincrement=False)
    entries: so.Mapped[int] = so.mapped_column(sa.BigInteger)
    last_id: so.Mapped[int] = so.mapped_column(sa.BigInteger)
    mac: so.Mapped[str] = so.mapped_column(sa.String(64))
    received_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime())
    refused_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    refused_entries: so.Mapped[int | None] = so.mapped_column(sa.BigInteger)


class ChainJoin(Base):
    """A shop that ran standalone and then joined the chain (``pos-referral chain join``).

    ``fingerprint`` names the shop by its own code keys and pepper (a hash of them, never the keys): the
    same shop asking again (a retry after a lost answer) is welcome, another shop under the same store
    number is refused, since both would mint the same codes under the chain's key.
    """

    __tablename__ = "central_chain_joins"

    store_no: so.Mapped[int] = so.mapped_column(primary_key=True, autoincrement=False)
    fingerprint: so.Mapped[str] = so.mapped_column(sa.String(64))
    adopted_keys: so.Mapped[int]  # how many of the shop's code keys the chain took (0 on a retry)
    customers: so.Mapped[int]  # as the shop said when it joined (for the operator)
    joined_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime())
