"""The daily summary for the receipt printer: yesterday's (or any day's) key figures as a print job."""

from __future__ import annotations

from datetime import date
from typing import Any

from pos_referral.domain.money_text import money_text
from pos_referral.services import print_jobs
from pos_referral.services.context import StoreContext
from pos_referral.services.reports.dashboard import build_report, fmt
from pos_referral.services.reports.date_range import DateRange

TEMPLATE = "daily_summary"


def summary_context(ctx: StoreContext, day: date) -> dict[str, Any]:
    """What the ``daily_summary`` receipt template receives: plain strings, money as decimals (the template
    writes them with the ``money`` filter in the receipt's language)."""
    # the day's events as they happened ("activity"): a one-day cohort of codes says little on a receipt
    report = build_report(ctx, DateRange(day, day, ctx.tz), parts=("activity", "kpis"), limit=3)
    k = report.kpis
    config = ctx.settings.config
    lang = config.printer.language or config.store.language  # the language the printer renders it in
    return {
        "store": ctx.settings.config.store.name,
        "day": day.isoformat(),
        "currency": report.currency,
        "funnel": [{"step": r["step"], "count": str(r["count"])} for r in report.tables["activity"]],
        "referred_revenue": fmt(k["referred_revenue_minor"], "money"),
        "reward_cost": fmt(k["reward_cost_minor"], "money"),
        "acquired_customers": str(k["acquired_customers"]),
        "liability": fmt(k["liability_minor"], "money"),
        "participation_rate": "–" if k["participation_rate"] is None else f"{k['participation_rate'] * 100:.1f} %",
        "rows": [{"label": "Sales recorded", "value": money_text(k["sales_minor"] or 0, report.currency, lang)}],
        "reprint": False,
    }


def queue_daily_summary(ctx: StoreContext, day: date) -> int | None:
    """Queue the summary on the receipt printer (printer_templates/daily_summary.receipt); returns the job
    id, or None when the shop has no printer."""
    return print_jobs.queue(ctx, TEMPLATE, summary_context(ctx, day))
