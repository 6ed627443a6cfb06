"""The referrer's side: release after the hold (caps, milestones, vouchers), balances (refunds: refunds.py).

A store with no central configured runs these decisions itself; in a chain, central does.
Status changes are conditional updates (``WHERE status = 'pending'``) so two releasers, or a
release racing a refund, can never both act on one reward. The ledger is only appended to.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from pos_referral.db.models import Code, LedgerEntry, Reward
from pos_referral.domain.codes import CodeKind, format_display
from pos_referral.domain.money import format_money
from pos_referral.domain.rules import Program
from pos_referral.domain.rules import Reward as RewardRule
from pos_referral.services.checkout import cap_usage
from pos_referral.services.context import StoreContext
from pos_referral.services.outbox import add_event
from pos_referral.services.proxy_offers.bearer import unclaimed_customers
from pos_referral.services.referral_codes import mint_code
from pos_referral.services.unit_of_work import UnitOfWork

VOUCHER_TYPES = ("percent_off", "amount_off", "free_item")


@dataclass(frozen=True)
class ReleaseSummary:
    released: int = 0
    capped: int = 0
    milestones: int = 0


def set_status(session: so.Session, reward_id: str, old: str, new: str, **values: Any) -> bool:
    result = session.execute(
        sa.update(Reward).where(Reward.id == reward_id, Reward.status == old).values(status=new, **values)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def _issue_voucher(
    session: so.Session, ctx: StoreContext, reward: Reward, program: Program, now: datetime
) -> str | None:
    if reward.reward_type not in VOUCHER_TYPES:
        return None
    code = mint_code(session, ctx, CodeKind.VOUCHER)
    expires = now + timedelta(days=program.reward_valid_days) if program.reward_valid_days else None
    session.add(Code(code=code, kind=CodeKind.VOUCHER.value, program_id=program.id, customer_id=reward.customer_id,
                     channel="reward", store_no=ctx.store_no, created_at=now, expires_at=expires, reward_id=reward.id))
    reward.voucher_code = code
    reward.expires_at = expires
    return code


def _release_one(session: so.Session, ctx: StoreContext, reward: Reward, now: datetime) -> str:
    program = ctx.settings.program(reward.program_id)
    if program is None:
        return "skipped"
    used = cap_usage(session.connection(), program, reward.customer_id, now, ctx)
    # cap_usage counts this reward too (it is pending): does it fit beside the others?
    if not program.cap.admits(used.count - 1, used.money - reward.amount_minor, reward.amount_minor):
        if set_status(session, reward.id, "pending", "capped"):
            session.add(LedgerEntry(at=now, customer_id=reward.customer_id, entry="referrer_reward_capped",
                                    amount_minor=-reward.amount_minor, reward_id=reward.id,
                                    redemption_id=reward.redemption_id))
            return "capped"
        return "skipped"
    if not set_status(session, reward.id, "pending", "released", released_at=now):
        return "skipped"
    session.refresh(reward)
    voucher = _issue_voucher(session, ctx, reward, program, now)
    session.add(LedgerEntry(at=now, customer_id=reward.customer_id, entry="referrer_reward_released",
                            amount_minor=reward.amount_minor, points=reward.points, reward_id=reward.id,
                            redemption_id=reward.redemption_id))
    add_event(session, "reward_released", {"reward_id": reward.id, "customer_id": reward.customer_id,
                                           "voucher_code": voucher, "amount": format_money(reward.amount_minor),
                                           "at": now.isoformat()}, now)
    return "released"


def successful_referrals(session: so.Session, customer_id: str, program_id: str) -> int:
    return int(session.scalar(
        sa.select(sa.func.count()).select_from(Reward).where(
            Reward.customer_id == customer_id, Reward.program_id == program_id,
            Reward.source == "referral", Reward.status == "released")
    ) or 0)


def _milestones(session: so.Session, ctx: StoreContext, customer_id: str, program: Program, now: datetime) -> int:
    """Grant each milestone reached and not granted yet (a milestone reward is keyed by its threshold)."""
    done = successful_referrals(session, customer_id, program.id)
    granted = 0
    for milestone in program.milestones:
        if done < milestone.referrals or milestone.reward is None:
            continue
        exists = session.scalar(sa.select(Reward.id).where(
            Reward.customer_id == customer_id, Reward.program_id == program.id,
            Reward.source == "milestone", Reward.milestone == milestone.referrals))
        if exists:
            continue
        rule: RewardRule = milestone.reward
        reward = Reward(id=uuid.uuid4().hex, customer_id=customer_id, program_id=program.id, source="milestone",
                        reward_type=rule.type, amount_minor=rule.amount, percent=str(rule.percent),
                        points=rule.points, item=rule.item, milestone=milestone.referrals, status="released",
                        hold_until=now,
                        released_at=now, created_at=now)
        session.add(reward)
        session.flush()
        _issue_voucher(session, ctx, reward, program, now)
        session.add(LedgerEntry(at=now, customer_id=customer_id, entry="milestone_reward",
                                amount_minor=rule.amount, points=rule.points, reward_id=reward.id))
        add_event(session, "milestone_reached", {"customer_id": customer_id, "program_id": program.id,
                                                 "referrals": milestone.referrals, "status": milestone.status,
                                                 "at": now.isoformat()}, now)
        granted += 1
    return granted


def release_due_rewards(ctx: StoreContext, *, batch: int = 200) -> ReleaseSummary:
    """Release every pending reward whose hold has passed; one short transaction per batch.

    A reward earned by an unclaimed bearer code (printed by the print proxy) waits, pending, until
    its customer claims the code: there is nobody to give it to yet."""
    released = capped = milestones = 0
    while True:
        now = ctx.clock()
        with UnitOfWork(ctx.db, write=True) as uow:
            uow.serialize()  # central: caps are decided for the whole chain, one writer at a time
            due = list(uow.session.scalars(
                sa.select(Reward).where(Reward.status == "pending", Reward.hold_until <= now,
                                        Reward.customer_id.not_in(unclaimed_customers()))
                .order_by(Reward.hold_until).limit(batch)))
            for reward in due:
                outcome = _release_one(uow.session, ctx, reward, now)
                released += outcome == "released"
                capped += outcome == "capped"
                program = ctx.settings.program(reward.program_id)
                if outcome == "released" and program is not None:
                    milestones += _milestones(uow.session, ctx, reward.customer_id, program, now)
            uow.commit()
        if len(due) < batch:
            return ReleaseSummary(released, capped, milestones)


def points_of(session: so.Session, customer_id: str) -> tuple[int, int]:
    """``(points, points pending)``: each reward counted once, by its state, not by its ledger rows.

    A reward's ledger rows are its history (pending, then released; or voided, capped, clawed back),
    so summing them counts a released reward twice, and a chain store (whose releases central makes)
    has no release row at all. The reward row's status is the one answer everywhere: released rewards
    count, pending ones are shown apart. A friend's own first-purchase points are in their
    ``friend_discount`` row (one per redemption)."""
    by_status = {status: int(total) for status, total in session.execute(
        sa.select(Reward.status, sa.func.coalesce(sa.func.sum(Reward.points), 0))
        .where(Reward.customer_id == customer_id, Reward.status.in_(("released", "pending")))
        .group_by(Reward.status))}
    as_friend = session.scalar(sa.select(sa.func.coalesce(sa.func.sum(LedgerEntry.points), 0)).where(
        LedgerEntry.customer_id == customer_id, LedgerEntry.entry == "friend_discount")) or 0
    return int(by_status.get("released", 0)) + int(as_friend), int(by_status.get("pending", 0))


def customer_rewards(ctx: StoreContext, customer_id: str) -> dict[str, Any] | None:
    with UnitOfWork(ctx.db, write=False) as uow:
        session = uow.session
        rows = list(session.scalars(sa.select(Reward).where(Reward.customer_id == customer_id)
                                    .order_by(Reward.created_at)))
        known = rows or session.scalar(sa.select(Code.code).where(Code.customer_id == customer_id).limit(1))
        if not known:
            return None
        vouchers = {c.code: c for c in session.scalars(
            sa.select(Code).where(Code.customer_id == customer_id, Code.kind == CodeKind.VOUCHER.value))}
        items = []
        for r in rows:
            v = vouchers.get(r.voucher_code or "")
            items.append({
                "reward_id": r.id, "source": r.source, "type": r.reward_type, "status": r.status,
                "amount": format_money(r.amount_minor), "points": r.points, "item": r.item,
                "hold_until": r.hold_until.isoformat(),
                "expires_at": r.expires_at.isoformat() if r.expires_at else None,
                "voucher_code": r.voucher_code,
                "voucher_display_code": format_display(r.voucher_code) if r.voucher_code else None,
                "voucher_redeemed": bool(v and v.redeemed_at), "voucher_revoked": bool(v and v.revoked_at),
            })
        points, points_pending = points_of(session, customer_id)
        return {
            "customer_id": customer_id,
            "rewards": items,
            "pending": format_money(sum(r.amount_minor for r in rows if r.status == "pending")),
            "available": format_money(sum(r.amount_minor for r in rows if r.status == "released"
                                          and not (vouchers.get(r.voucher_code or "") and
                                                   (vouchers[r.voucher_code or ""].redeemed_at
                                                    or vouchers[r.voucher_code or ""].revoked_at)))),
            "points": points,
            "points_pending": points_pending,
            "successful_referrals": sum(1 for r in rows if r.source == "referral" and r.status == "released"),
        }
