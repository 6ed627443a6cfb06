"""The changes feed stores pull: vouchers central released, revocations, reward states, programs.

Rows are appended only under the chain lock, so their ids follow commit order and a cursor
(``since``) never skips a row that commits later with a smaller id.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from pos_referral.db.base import table
from pos_referral.db.engine import Database
from pos_referral.db.models import Code, Customer, OutboxEvent, Reward
from pos_referral.db.models_central import CentralChange
from pos_referral.services.unit_of_work import UnitOfWork

_REWARD_FIELDS = ("id", "customer_id", "program_id", "redemption_id", "source", "milestone", "reward_type",
                  "amount_minor", "percent", "points", "item", "status", "hold_until", "released_at",
                  "voucher_code", "expires_at", "created_at")


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def add_changes(conn: sa.Connection, changes: list[tuple[str, dict[str, Any]]], now: datetime) -> None:
    if changes:
        conn.execute(sa.insert(table(CentralChange)),
                     [dict(kind=kind, payload=payload, created_at=now) for kind, payload in changes])


def voucher_change(conn: sa.Connection, reward_id: str) -> dict[str, Any] | None:
    """Everything a store needs to accept a released reward's voucher offline."""
    reward = conn.execute(sa.select(Reward).where(Reward.id == reward_id)).first()
    if reward is None or not reward.voucher_code:
        return None
    code = conn.execute(sa.select(Code.code, Code.program_id, Code.created_at, Code.expires_at)
                        .where(Code.code == reward.voucher_code)).one()
    home = conn.execute(sa.select(Customer.store_no).where(Customer.id == reward.customer_id)).scalar()
    return {
        "reward": {f: _jsonable(getattr(reward, f)) for f in _REWARD_FIELDS},
        "code": {"code": code.code, "program_id": code.program_id, "created_at": code.created_at.isoformat(),
                 "expires_at": _jsonable(code.expires_at)},
        "home_store": int(home or 0),
    }


def publish_released(conn: sa.Connection, now: datetime) -> int:
    """Turn central's own outbox (reward_released, milestone_reached) into feed rows; caller holds the lock."""
    rows = conn.execute(sa.select(OutboxEvent.seq, OutboxEvent.type, OutboxEvent.payload)
                        .where(OutboxEvent.sent_at.is_(None)).order_by(OutboxEvent.seq)).all()
    changes: list[tuple[str, dict[str, Any]]] = []
    for _seq, type_, payload in rows:
        reward_ids: list[str] = []
        if type_ == "reward_released":
            reward_ids.append(payload["reward_id"])
        elif type_ == "milestone_reached":
            reward_ids.extend(conn.execute(sa.select(Reward.id).where(
                Reward.customer_id == payload["customer_id"], Reward.program_id == payload["program_id"],
                Reward.source == "milestone", Reward.milestone == payload["referrals"])).scalars())
        for reward_id in reward_ids:
            change = voucher_change(conn, reward_id)
            changes.append(("voucher", change) if change else ("reward_status", {"reward_id": reward_id,
                                                                                 "status": "released"}))
    add_changes(conn, changes, now)
    if rows:
        conn.execute(sa.update(OutboxEvent).where(OutboxEvent.seq <= rows[-1][0], OutboxEvent.sent_at.is_(None))
                     .values(sent_at=now))
    return len(changes)


def read_changes(db: Database, since: int, limit: int) -> list[dict[str, Any]]:
    with UnitOfWork(db, write=False) as read:
        conn = read.conn
        rows = conn.execute(sa.select(CentralChange.id, CentralChange.kind, CentralChange.payload)
                            .where(CentralChange.id > since).order_by(CentralChange.id).limit(limit)).all()
    return [{"id": r[0], "kind": r[1], "payload": r[2]} for r in rows]
