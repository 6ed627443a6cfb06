"""Rewards a shop released itself while it ran standalone, taken over by the chain when it joins.

In a chain only central releases rewards, so a ``reward_released`` event from a store is history
from before its join (``pos-referral chain join``): the store's voucher is the reward's voucher from
now on, known to every store through the changes feed, so it is honoured once chain-wide, and
central does not release the reward again. A release from a store that never joined, or dated
after its join, is not a store's to make: it goes to the reconciliation list and changes nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Protocol

import sqlalchemy as sa

from pos_referral.central.changes import voucher_change
from pos_referral.db.base import table
from pos_referral.db.models import Code, Reward
from pos_referral.db.models_central import ChainJoin
from pos_referral.db.upsert import insert_ignore
from pos_referral.domain.rules import Program


class Applier(Protocol):
    """What this needs of ``central/apply.BatchApplier`` (which calls it): no import back up to it."""

    conn: sa.Connection
    store_no: int
    programs: dict[str, Program]
    changes: list[tuple[str, dict[str, Any]]]

    def flush(self) -> None: ...

    def ledger(self, **row: Any) -> None: ...

    def conflict(self, kind: str, event_id: str, subject: str, detail: dict[str, Any]) -> None: ...


def adopt_release(applier: Applier, event_id: str, p: dict[str, Any]) -> None:
    applier.flush()  # the redemption that made the reward may be in this very batch
    conn, at, voucher = applier.conn, datetime.fromisoformat(p["at"]), p.get("voucher_code") or None
    joined = conn.execute(sa.select(ChainJoin.joined_at).where(ChainJoin.store_no == applier.store_no)).scalar()
    reward = conn.execute(sa.select(Reward).where(Reward.id == p["reward_id"])).first()
    if joined is None or at > joined or reward is None:
        applier.conflict("store_released_reward", event_id, p["reward_id"], dict(p))
        return
    program = applier.programs.get(reward.program_id)
    expires = at + timedelta(days=program.reward_valid_days) if voucher and program and program.reward_valid_days \
        else None
    done = conn.execute(sa.update(Reward).where(Reward.id == reward.id, Reward.status == "pending").values(
        status="released", released_at=at, voucher_code=voucher, expires_at=expires))
    if done.rowcount != 1:
        if not (reward.status == "released" and reward.voucher_code == voucher):  # else: the same event again
            applier.conflict("reward_released_twice", event_id, reward.id, {**p, "central_status": reward.status,
                                                                             "central_voucher": reward.voucher_code})
        return
    applier.ledger(at=at, customer_id=reward.customer_id, entry="referrer_reward_released",
                   amount_minor=reward.amount_minor, points=reward.points, reward_id=reward.id,
                   redemption_id=reward.redemption_id)
    if voucher is None:
        applier.changes.append(("reward_status", {"reward_id": reward.id, "status": "released"}))
        return
    insert_ignore(conn, table(Code), dict(
        code=voucher, kind="voucher", program_id=reward.program_id, customer_id=reward.customer_id, variant="",
        channel="reward", store_no=applier.store_no, till_id="", created_at=at, expires_at=expires,
        reward_id=reward.id))
    change = voucher_change(conn, reward.id)
    if change is not None:
        applier.changes.append(("voucher", change))
