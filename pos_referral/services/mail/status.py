"""Status mails to referrers, planned from the event outbox the business transactions already write.

The planner reads outbox events after its own cursor (a row in ``counters``) and queues, in the
same transaction that moves the cursor, a mail per event for customers who consented:
``redemption_recorded`` -> "a friend used your code" (reward pending until the hold ends),
``reward_released`` -> "your reward is ready" (voucher code and QR), ``milestone_reached`` ->
"milestone reached". Reading the outbox keeps the redemption path untouched and fast; the
``dedupe_key`` keeps each mail single however often an event is read. On its very first run the
cursor starts at the newest event: switching mail on does not mail about the past.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from pos_referral.db.models import Code, Counter, OutboxEvent, Reward
from pos_referral.db.models_promo import MailContact, MailMessage
from pos_referral.domain.codes import format_display
from pos_referral.domain.rules import Program
from pos_referral.services import messages, owner_links
from pos_referral.services.context import StoreContext
from pos_referral.services.mail import contacts
from pos_referral.services.mail.outbox import queue_mail
from pos_referral.services.unit_of_work import UnitOfWork

logger = logging.getLogger(__name__)
CURSOR = "mail:outbox_seq"
EVENTS = ("redemption_recorded", "reward_released", "milestone_reached")


def _lang(ctx: StoreContext, contact: contacts.Contact) -> str:
    return messages.language(contact.language or ctx.settings.config.store.language)


def _base(ctx: StoreContext, program: Program, lang: str, **extra: Any) -> dict[str, Any]:
    return messages.program_context(ctx.settings, program, lang, **extra)


def _owner_link(session: so.Session, ctx: StoreContext, customer_id: str, program_id: str) -> tuple[str, str]:
    row = session.execute(sa.select(Code.code, Code.owner_generation).where(
        Code.customer_id == customer_id, Code.program_id == program_id, Code.kind == "referral")).first()
    if row is None:
        return "", ""
    return row.code, owner_links.owner_url(ctx, ctx.landing_url(row.code), row.code, row.owner_generation)


def _reward_values(ctx: StoreContext, reward: Reward, lang: str) -> dict[str, Any]:
    rule = {"type": reward.reward_type, "amount": reward.amount_minor, "percent": reward.percent,
            "item": reward.item, "points": reward.points}
    return {
        "reward": messages.reward_text(rule, ctx.settings.config.store.currency, lang,
                                       folder=messages.messages_folder(ctx.settings)),
        "voucher_code": reward.voucher_code or "",
        "voucher_display_code": format_display(reward.voucher_code) if reward.voucher_code else "",
        "expires": messages.date_text(reward.expires_at.astimezone(ctx.tz) if reward.expires_at else None, lang),
    }


def _plan_one(session: so.Session, ctx: StoreContext, type_: str, payload: dict[str, Any], now: datetime) -> bool:
    customer_id = str(payload.get("referrer_id") if type_ == "redemption_recorded" else payload.get("customer_id"))
    contact = contacts.active_contact(session, customer_id)
    if contact is None:
        return False
    lang = _lang(ctx, contact)
    if type_ == "redemption_recorded":
        program = ctx.settings.program(str(payload.get("program_id")))
        if program is None or not payload.get("reward_id") or not payload.get("hold_until"):
            return False
        own, link = _owner_link(session, ctx, customer_id, program.id)
        hold = datetime.fromisoformat(str(payload["hold_until"])).astimezone(ctx.tz)
        context = _base(ctx, program, lang, code=own, link=link, hold_until=messages.date_text(hold, lang))
        key = f"friend_used:{payload.get('redemption_id')}"
        return queue_mail(session, kind="friend_used", customer_id=customer_id, language=lang, context=context,
                          now=now, dedupe_key=key)
    reward: Reward | None
    if type_ == "reward_released":
        reward = session.get(Reward, str(payload.get("reward_id")))
        kind, key = "reward_ready", f"reward_ready:{payload.get('reward_id')}"
    else:
        reward = session.scalar(sa.select(Reward).where(
            Reward.customer_id == customer_id, Reward.program_id == str(payload.get("program_id")),
            Reward.source == "milestone", Reward.milestone == int(payload.get("referrals") or 0)))
        kind = "milestone"
        key = f"milestone:{customer_id}:{payload.get('program_id')}:{payload.get('referrals')}"
    program = ctx.settings.program(reward.program_id if reward else str(payload.get("program_id")))
    if program is None or (kind == "reward_ready" and reward is None):
        return False
    own, link = _owner_link(session, ctx, customer_id, program.id)
    extra: dict[str, Any] = {"reward": "", "voucher_code": "", "voucher_display_code": "", "expires": ""}
    if reward is not None:
        extra.update(_reward_values(ctx, reward, lang))
    if kind == "milestone":
        milestone = next((m for m in program.milestones if m.referrals == int(payload.get("referrals") or 0)), None)
        extra.update(referrals=int(payload.get("referrals") or 0), status=milestone.status if milestone else "",
                     perk=milestone.perk if milestone else "")
    context = _base(ctx, program, lang, code=own, link=link, **extra)
    return queue_mail(session, kind=kind, customer_id=customer_id, language=lang, context=context, now=now,
                      dedupe_key=key)


def plan_status_mails(ctx: StoreContext, *, batch: int = 500) -> int:
    """Queue status mails for new outbox events; returns how many mails were queued."""
    queued = 0
    while True:
        now = ctx.clock()
        with UnitOfWork(ctx.db, write=True) as uow:
            session = uow.session
            cursor = session.get(Counter, CURSOR)
            if cursor is None:
                newest = session.scalar(sa.select(sa.func.max(OutboxEvent.seq))) or 0
                session.add(Counter(name=CURSOR, value=int(newest)))
                uow.commit()
                return 0
            rows = session.execute(sa.select(OutboxEvent.seq, OutboxEvent.type, OutboxEvent.payload)
                                   .where(OutboxEvent.seq > cursor.value).order_by(OutboxEvent.seq)
                                   .limit(batch)).all()
            for seq, type_, payload in rows:
                if type_ in EVENTS:
                    try:
                        queued += _plan_one(session, ctx, type_, dict(payload or {}), now)
                    except (messages.MessageError, ValueError, KeyError):  # a bad template or event: skip it
                        logger.exception("no status mail for event %s (%s)", seq, type_)
                cursor.value = seq
            uow.commit()
        if len(rows) < batch:
            return queued


def plan_reminders(ctx: StoreContext, *, limit: int = 200) -> int:
    """Queue one reminder per released voucher still unused ``reminder_days`` after its release."""
    days = ctx.settings.config.mail.reminder_days
    if not days:
        return 0
    now = ctx.clock()
    queued = 0
    with UnitOfWork(ctx.db, write=True) as uow:
        session = uow.session
        reminded = sa.select(MailMessage.id).where(
            MailMessage.dedupe_key == sa.literal("reminder:").concat(Reward.id)).exists()
        due = session.scalars(
            sa.select(Reward).join(Code, Code.code == Reward.voucher_code)
            .join(MailContact, MailContact.customer_id == Reward.customer_id).where(
                MailContact.unsubscribed_at.is_(None), Reward.status == "released",
                Reward.released_at <= now - timedelta(days=days),
                Code.redeemed_at.is_(None), Code.revoked_at.is_(None),
                sa.or_(Code.expires_at.is_(None), Code.expires_at > now), ~reminded,
            ).order_by(Reward.released_at).limit(limit)).all()
        for reward in due:
            contact = contacts.active_contact(session, reward.customer_id)
            program = ctx.settings.program(reward.program_id)
            if contact is None or program is None:
                continue
            lang = _lang(ctx, contact)
            own, link = _owner_link(session, ctx, reward.customer_id, program.id)
            context = _base(ctx, program, lang, code=own, link=link, **_reward_values(ctx, reward, lang))
            queued += queue_mail(session, kind="reminder", customer_id=reward.customer_id, language=lang,
                                 context=context, now=now, dedupe_key=f"reminder:{reward.id}")
        uow.commit()
    return queued
