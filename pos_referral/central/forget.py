"""A store's ``customer_forgotten`` event at central: erase the person everywhere the chain holds them.

Central knows the person's other rows (``central_customer_links``: registered offline at two stores, a
placeholder referrer, a joined shop's old row), erases all of them (services/privacy/erase.py: its
customer rows, referral codes, the identity in the events it keeps) and puts one ``forget`` change on
the feed naming every id, so each store erases its copy (sync/inbound.py). The ledger, rewards and
redemptions keep their ids: the chain's books still add up.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, Protocol

import sqlalchemy as sa

from pos_referral.db.models_central import CustomerLink
from pos_referral.services.privacy.erase import erase

logger = logging.getLogger(__name__)


class Applier(Protocol):
    """What this needs of ``central/apply.BatchApplier`` (which calls it): no import back up to it."""

    conn: sa.Connection
    now: datetime
    store_no: int
    hash_owner: dict[str, str]
    changes: list[tuple[str, dict[str, Any]]]

    def flush(self) -> None: ...


def person_ids(conn: sa.Connection, ids: list[str]) -> set[str]:
    """Every customer id of the persons ``ids`` belong to (their canonical ids and all aliases)."""
    link = CustomerLink
    roots = set(ids) | set(conn.execute(sa.select(link.canonical_id).where(link.customer_id.in_(ids))).scalars())
    return roots | set(conn.execute(sa.select(link.customer_id).where(link.canonical_id.in_(roots))).scalars())


def apply_forget(applier: Applier, payload: dict[str, Any]) -> None:
    applier.flush()  # the batch's earlier events about the person are rows before they are erased
    ids = [str(i) for i in payload.get("customer_ids", ())]
    if not ids:
        return
    everyone = person_ids(applier.conn, ids)
    erased = erase(applier.conn, everyone, applier.now)
    # later events of this batch must not match the erased identity again
    applier.hash_owner = {h: o for h, o in applier.hash_owner.items() if o not in everyone}
    applier.changes.append(("forget", {"customer_ids": sorted(everyone), "at": applier.now.isoformat()}))
    logger.info("store %d: forgot %d customer row(s) chain-wide (%s)", applier.store_no, len(everyone), erased.line())
