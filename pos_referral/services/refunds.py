"""Refund (part of) a referred sale, exactly once per Idempotency-Key.

A refund of the friend's sale within the hold voids the referrer's pending reward; after the
release it is a clawback (the voucher, if unused, is revoked). The ledger is only appended to.

A partial refund is not naturally idempotent: the same "refund 10.00" sent twice would refund
20.00. So, like a redemption, it carries an ``Idempotency-Key``: the first request's answer is
stored in ``idempotency_keys`` inside the refund's own write transaction, and a retry with the
same key and body gets that answer again, without a second ledger row or event; the same key
with another body is refused (``IdempotencyConflict``). Keys share the redemptions' namespace
(per till), and the request hash names the route, so a redemption's key reused for a refund is a
conflict too.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from pos_referral.db.models import Code, IdempotencyRecord, LedgerEntry, Redemption, Reward
from pos_referral.domain.errors import Refusal
from pos_referral.domain.money import format_money
from pos_referral.services.context import StoreContext
from pos_referral.services.outbox import add_event
from pos_referral.services.redemptions import Answer, IdempotencyConflict, body_hash, canonical_json
from pos_referral.services.rewards import set_status
from pos_referral.services.unit_of_work import UnitOfWork


def request_hash(sale_id: str, body: object) -> str:
    """The hash a refund's key is bound to: the route's sale and the body as sent."""
    return body_hash({"refund": sale_id, "body": body})


def refund_sale(ctx: StoreContext, sale_id: str, amount_minor: int | None) -> dict[str, Any]:
    """Refund (part of) a referred sale without a key (CLI, tests, a full refund): the answer's body."""
    now = ctx.clock()
    with UnitOfWork(ctx.db, write=True) as uow:
        body = _refund(uow.session, ctx, sale_id, amount_minor, now)
        uow.commit()
    return body


def refund_once(ctx: StoreContext, sale_id: str, amount_minor: int | None, *, till_id: str, idempotency_key: str,
                hashed: str) -> Answer:
    """The refund under an Idempotency-Key: recorded once, a retry answers the same (``replayed``).

    The key's record is read and written in the refund's write transaction (the store's write lock
    and ``BEGIN IMMEDIATE``), so two identical requests at once still record one refund."""
    key = f"{till_id}:{idempotency_key}"
    now = ctx.clock()
    with UnitOfWork(ctx.db, write=True) as uow:
        row = uow.conn.execute(sa.select(IdempotencyRecord.request_hash, IdempotencyRecord.status_code,
                                         IdempotencyRecord.body).where(IdempotencyRecord.key == key)).first()
        if row is not None:
            if row[0] != hashed:
                raise IdempotencyConflict(key)
            return Answer(row[1], json.loads(row[2]), replayed=True)
        body = _refund(uow.session, ctx, sale_id, amount_minor, now)
        uow.session.add(IdempotencyRecord(key=key, request_hash=hashed, status_code=200, body=canonical_json(body),
                                          created_at=now))
        uow.commit()
    return Answer(200, body)


def _refund(session: so.Session, ctx: StoreContext, sale_id: str, amount_minor: int | None,
            now: datetime) -> dict[str, Any]:
    red = session.scalar(sa.select(Redemption).where(Redemption.sale_id == sale_id))
    if red is None:
        raise Refusal("unknown_sale")
    remaining = red.basket_minor - red.refunded_minor
    amount = remaining if amount_minor is None else min(amount_minor, remaining)
    red.refunded_minor += amount
    program = ctx.settings.program(red.program_id)
    left = red.basket_minor - red.refunded_minor
    minimum = program.minimum_basket if program else 0
    voids = amount > 0 and (left == 0 or left < minimum)
    session.add(LedgerEntry(at=now, customer_id=red.friend_id, entry="sale_refunded", amount_minor=-amount,
                            redemption_id=red.id, sale_id=sale_id))
    reward = session.scalar(sa.select(Reward).where(Reward.redemption_id == red.id))
    outcome = reward.status if reward else None
    if voids and reward is not None:
        outcome = _void_or_claw_back(session, reward, now, sale_id)
    add_event(session, "sale_refunded", {"sale_id": sale_id, "redemption_id": red.id,
                                         "amount": format_money(amount), "reward_outcome": outcome,
                                         "at": now.isoformat()}, now)
    session.flush()
    return {"sale_id": sale_id, "redemption_id": red.id, "refunded": format_money(amount),
            "refunded_total": format_money(red.refunded_minor),
            "referrer_reward": {"status": outcome} if reward else None}


def _void_or_claw_back(session: so.Session, reward: Reward, now: datetime, sale_id: str) -> str:
    if set_status(session, reward.id, "pending", "voided"):
        session.add(LedgerEntry(at=now, customer_id=reward.customer_id, entry="referrer_reward_voided",
                                amount_minor=-reward.amount_minor, points=-reward.points, reward_id=reward.id,
                                redemption_id=reward.redemption_id, sale_id=sale_id))
        return "voided"
    if set_status(session, reward.id, "released", "clawed_back"):
        session.add(LedgerEntry(at=now, customer_id=reward.customer_id, entry="clawback",
                                amount_minor=-reward.amount_minor, points=-reward.points, reward_id=reward.id,
                                redemption_id=reward.redemption_id, sale_id=sale_id))
        if reward.voucher_code:
            session.execute(sa.update(Code).where(Code.code == reward.voucher_code, Code.redeemed_at.is_(None))
                            .values(revoked_at=now))
        return "clawed_back"
    session.refresh(reward)
    return reward.status
