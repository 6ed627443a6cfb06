"""JSON shapes of API answers (kept apart from the routes so the till page can reuse them)."""

from __future__ import annotations

from typing import Any

from pos_referral.domain.codes import format_display
from pos_referral.domain.errors import REASONS
from pos_referral.domain.money import format_money
from pos_referral.domain.rules import Program
from pos_referral.domain.rules import Reward as RewardRule
from pos_referral.services.checkout import CodeInfo, Evaluation
from pos_referral.services.context import StoreContext


def reward_view(rule: RewardRule | None) -> dict[str, Any] | None:
    if rule is None:
        return None
    return {
        "type": rule.type,
        "description": rule.description,
        "percent": str(rule.percent) if rule.type == "percent_off" else None,
        "amount": format_money(rule.amount) if rule.type == "amount_off" else None,
        "item": rule.item or None,
        "points": rule.points or None,
    }


def offer_view(program: Program | None) -> dict[str, Any] | None:
    if program is None:
        return None
    return {
        "friend_reward": reward_view(program.friend_reward) if program.friend_gets_reward() else None,
        "referrer_reward": reward_view(program.referrer_reward) if program.referrer_gets_reward() else None,
        "minimum_basket": format_money(program.minimum_basket),
        "new_customers_only": program.new_customers_only,
        "starts": program.starts.isoformat() if program.starts else None,
        "ends": program.ends.isoformat() if program.ends else None,
    }


def code_status_view(ctx: StoreContext, info: CodeInfo) -> dict[str, Any]:
    row = info.code
    body: dict[str, Any] = {
        "code": row.code,
        "display_code": format_display(row.code),
        "kind": row.kind,
        "status": info.status,
        "program_id": row.program_id,
        "program_name": info.program.name if info.program else None,
        "expires_at": row.expires_at.isoformat() if row.expires_at else None,
        "offer": offer_view(info.program) if row.kind == "referral" else None,
    }
    if row.kind == "referral":
        body["landing_url"] = ctx.landing_url(row.code)
    elif info.voucher_reward is not None:
        r = info.voucher_reward
        body["voucher"] = {"type": r.reward_type, "amount": format_money(r.amount_minor), "item": r.item or None,
                           "percent": r.percent if r.reward_type == "percent_off" else None}
    return body


def quote_view(ev: Evaluation | None, reason: str | None) -> dict[str, Any]:
    """The quote contract: eligible, discount, reason, message (+ kind, code, reward, notes)."""
    if ev is None or reason is not None:
        return {
            "eligible": False,
            "discount": "0.00",
            "reason": reason,
            "message": REASONS[reason].message if reason else "",
            "kind": ev.kind.value if ev else None,
            "code": ev.code if ev else None,
            "display_code": format_display(ev.code) if ev else None,
            "program_id": ev.program.id if ev and ev.program else None,
            "reward": None,
            "notes": [],
            "referrer_outcome": None,
        }
    reward = reward_view(ev.reward_rule)
    if ev.voucher_reward is not None:
        r = ev.voucher_reward
        reward = {"type": r.reward_type, "description": "", "amount": format_money(r.amount_minor),
                  "percent": r.percent if r.reward_type == "percent_off" else None, "item": r.item or None,
                  "points": r.points or None}
    discount = format_money(ev.discount_minor)
    message = f"Apply {discount} off." if ev.discount_minor else "Valid code."
    if reward and reward.get("item") and ev.discount_minor == 0:
        message = f"Give: {reward['item']}."
    return {
        "eligible": True,
        "discount": discount,
        "reason": None,
        "message": message,
        "kind": ev.kind.value,
        "code": ev.code,
        "display_code": format_display(ev.code),
        "program_id": ev.program.id if ev.program else (ev.voucher_reward.program_id if ev.voucher_reward else None),
        "reward": reward,
        "notes": ev.notes,
        "referrer_outcome": ev.referrer_outcome(),  # pending | none_cap_reached | none (referral codes)
    }
