"""The budget warning mail to a manager: plain text, English like the manager pages."""

from __future__ import annotations

from collections.abc import Mapping
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from typing import Any

from pos_referral.config import Settings
from pos_referral.domain.money_text import money_text


def budget_message(settings: Settings, to_addr: str, context: Mapping[str, Any]) -> EmailMessage:
    """``context`` as ``budget.plan_budget_mails`` queued it (program, month, threshold, spent, budget)."""
    sender = settings.config.mail.sender
    domain = parseaddr(sender)[1].rpartition("@")[2] or "pos-referral.local"
    lang, currency = settings.config.store.language, str(context.get("currency") or settings.config.store.currency)
    threshold = float(context.get("threshold") or 0)
    spent = money_text(int(context.get("spent_minor") or 0), currency, lang)
    budget = money_text(int(context.get("budget_minor") or 0), currency, lang)
    used = float(context.get("budget_used") or 0)
    program, month = context.get("program", ""), context.get("month", "")
    reached = "has used up" if threshold >= 1 else f"has reached {threshold * 100:.0f} % of"
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to_addr
    msg["Subject"] = f"Referral program '{program}' {reached} its budget for {month}"
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid("budget", domain=domain)
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(
        f"The referral program '{program}' {reached} its reward budget for {month}.\n\n"
        f"Spent so far: {spent} of {budget} ({used * 100:.0f} %).\n"
        "Reward cost is friends' discounts on purchases not refunded in full plus reward vouchers redeemed.\n\n"
        "Rewards keep being given at the till: to stop or change the offer, edit the program file or its end date.\n"
        "You get this mail once per threshold (80 % and 100 %) and month.\n")
    return msg
