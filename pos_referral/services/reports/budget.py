"""Budget warnings: a program's reward cost this month at 80 % and at 100 % of its monthly budget.

The dashboard shows them above the tables (from the goals table it already computed). With mail set up
(``[mail] enabled`` and ``manager_addresses``), ``plan_budget_mails`` — called by the mail worker's
round, the workers.py timer — queues one mail per manager, program, month and threshold: the mail
outbox's unique ``dedupe_key`` is what remembers that a threshold was mailed, so a restart, a second
worker or a later round never sends it again, and a new month starts over.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from pos_referral.services.context import StoreContext
from pos_referral.services.mail.outbox import queue_mail
from pos_referral.services.reports.date_range import parse_range
from pos_referral.services.reports.money import goals
from pos_referral.services.reports.rollup import quarter_hours
from pos_referral.services.unit_of_work import UnitOfWork

logger = logging.getLogger(__name__)

THRESHOLDS = (1.0, 0.8)  # highest first: a row shows the highest one reached
TABLE = ("Budget warnings", [("level", "Reached", "text"), ("program", "Program", "text"),
                             ("month", "Month", "text"), ("spent_minor", "Spent", "money"),
                             ("budget_minor", "Budget", "money"), ("budget_used", "Budget used", "ratio")])
MAIL_KIND = "budget_alert"


def level(used: float | None) -> float | None:
    """The highest threshold ``used`` (spent / budget) has reached, or None."""
    if used is None:
        return None
    return next((t for t in THRESHOLDS if used >= t), None)


def warnings(goal_rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The goals rows whose budget is at 80 % or more, most used first, with the level reached."""
    out = []
    for row in goal_rows:
        reached = level(row.get("budget_used")) if row.get("budget_minor") else None
        if reached is not None:
            out.append({**row, "level": f"{reached * 100:.0f} %", "threshold": reached})
    return sorted(out, key=lambda r: -float(r["budget_used"]))


def _key(program_id: str, month: str, threshold: float, address: str) -> str:
    who = hashlib.sha256(address.strip().lower().encode()).hexdigest()[:10]
    return f"budget:{program_id[:40]}:{month}:{threshold * 100:.0f}:{who}"


def plan_budget_mails(ctx: StoreContext) -> int:
    """Queue the budget mails due now (each once); returns how many were queued."""
    addresses = ctx.settings.config.mail.manager_addresses
    programs = ctx.settings.programs
    if not addresses or not any(p.goals.budget_per_month for p in programs):
        return 0
    now = ctx.clock()
    rng = parse_range(None, None, ctx.tz, now)
    quarter_hours.catch_up(ctx.db, ctx.tz, now)  # the goals read the rollup, as the dashboard does
    with UnitOfWork(ctx.db, write=False) as read:
        rows = warnings(goals(read.conn, rng, programs))
    if not rows:
        return 0
    queued = 0
    with UnitOfWork(ctx.db, write=True) as uow:
        for row in rows:
            for threshold in (t for t in THRESHOLDS if t <= row["threshold"]):
                for address in addresses:
                    context = {"program": row["program"], "month": row["month"], "threshold": threshold,
                               "spent_minor": row["spent_minor"], "budget_minor": row["budget_minor"],
                               "budget_used": row["budget_used"], "currency": ctx.settings.config.store.currency}
                    if queue_mail(uow.session, kind=MAIL_KIND, customer_id="", language="", context=context,
                                  now=now, to_addr=address,
                                  dedupe_key=_key(row["program_id"], row["month"], threshold, address)):
                        queued += 1
        uow.commit()
    if queued:
        logger.info("budget: %d warning mail(s) queued for managers", queued)
    return queued
