"""Figures over every sale the shop reported (``sales``): participation, card offers, referred vs other.

Definitions (shown on the dashboard beside each figure, ``DEFINITIONS``):
- *Sales recorded*: sales in the period from the sales feed (POS API, till "Sale done", print proxy)
  and from redemptions (each redemption records its sale; one row per sale_id).
- *Participation*: sales on which a referral code or a reward voucher was redeemed, over all sales.
- *Customers offered a card*: cards offered at the till's after-sale prompt, over sales without a code.
- *Average basket, referred / other*: sales of customers who had come as a referred friend by the time
  of the sale, and all other sales (anonymous ones included), total over count.
- *Visits per customer, referred / other*: days with a sale in the period per named customer, for
  customers who had come as a referred friend by the period's end, and for the others.

A period with no sale from a feed (api, till, proxy) has no denominator: every figure is ``None`` and
the reason ``no_sales_feed`` ("not known: no sales feed"), since redemptions alone would make
participation 100 %.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import sqlalchemy as sa

from pos_referral.db.models import Redemption, Sale
from pos_referral.db.models_promo import CardOffer
from pos_referral.db.models_sales import ReportSaleCustomer, ReportSaleDay
from pos_referral.domain.money import format_money
from pos_referral.services.reports.date_range import DateRange, in_range, local_day
from pos_referral.services.reports.funnel import ratio
from pos_referral.services.reports.rollup import sales_days
from pos_referral.services.reports.rollup.buckets import day_number
from pos_referral.services.sales import SOURCES

NO_FEED = "no_sales_feed"
NO_FEED_TEXT = "not known: no sales feed"

# key -> (label, kind, one-line definition); the order of the dashboard's table
DEFINITIONS: dict[str, tuple[str, str, str]] = {
    "all_sales_count": ("Sales recorded", "int",
                        "Sales in the period from the sales feed (POS API, till Sale done, print proxy) and "
                        "from redemptions; each sale_id once."),
    "all_sales_total_minor": ("Sales total", "money", "The totals of those sales."),
    "coded_sales_count": ("Sales with a code", "int",
                          "Sales on which a referral code or a reward voucher was redeemed."),
    "participation_of_sales": ("Participation (share of sales with a code)", "ratio",
                               "Sales with a code over sales recorded."),
    "cards_offered": ("Cards offered after a sale", "int",
                      "Times the cashier offered a referral card at the after-sale prompt."),
    "offered_share_of_sales": ("Customers offered a card", "ratio",
                               "Cards offered over sales without a code (the sales where one could be offered)."),
    "avg_basket_referred_all_minor": ("Average basket, referred customers", "money",
                                      "Sales of customers who had come as a referred friend by then: "
                                      "total over count."),
    "avg_basket_other_all_minor": ("Average basket, other sales", "money",
                                   "All other sales, anonymous ones included: total over count."),
    "visits_per_customer_referred": ("Visits per customer, referred", "number",
                                     "Days with a sale in the period per named customer who had come as a "
                                     "referred friend by its end."),
    "visits_per_customer_other": ("Visits per customer, other", "number",
                                  "Days with a sale in the period per other named customer."),
}


def _day_groups(conn: sa.Connection, rng: DateRange) -> list[tuple[str, int, int, int, int, int]]:
    """(source, coded, referred, known, count, total) for the range's sales."""
    if sales_days.usable(conn, rng):
        d = ReportSaleDay
        stmt = (sa.select(d.source, d.coded, d.referred, d.known, sa.func.sum(d.n), sa.func.sum(d.total_minor))
                .where(d.day >= day_number(rng.first), d.day <= day_number(rng.last))
                .group_by(d.source, d.coded, d.referred, d.known))
    else:
        coded, referred, known = sales_days.raw_flags()
        rows = (sa.select(Sale.source, coded.label("coded"), referred.label("referred"), known.label("known"),
                          Sale.total_minor).where(in_range(Sale.at, rng)).subquery())
        stmt = (sa.select(rows.c.source, rows.c.coded, rows.c.referred, rows.c.known, sa.func.count(),
                          sa.func.sum(rows.c.total_minor))
                .group_by(rows.c.source, rows.c.coded, rows.c.referred, rows.c.known))
    return [(s, int(c), int(r), int(k), int(n), int(t or 0)) for s, c, r, k, n, t in conn.execute(stmt)]


def _visits(conn: sa.Connection, rng: DateRange) -> dict[int, tuple[int, int]]:
    """{referred by the range's end: (customer-days, distinct customers)} of named customers in the range.

    From the summary: a customer's first day in the range is the row whose previous day is before it."""
    if sales_days.usable(conn, rng):  # one pass over the covering index, no grouping (3 years: ~800,000 rows)
        c = ReportSaleCustomer
        first, last = day_number(rng.first), day_number(rng.last)
        ref = sa.case((c.referred_day <= last, 1), else_=0)
        entering = sa.case((sa.or_(c.prev_day.is_(None), c.prev_day < first), 1), else_=0)
        days, ref_days, people, ref_people = conn.execute(
            sa.select(sa.func.count(), sa.func.sum(ref), sa.func.sum(entering), sa.func.sum(ref * entering))
            .where(c.day >= first, c.day <= last)).one()
        found = {1: (int(ref_days or 0), int(ref_people or 0)),
                 0: (int(days) - int(ref_days or 0), int(people or 0) - int(ref_people or 0))}
        return {flag: pair for flag, pair in found.items() if pair[1]}
    day = local_day(Sale.at, rng, conn.dialect.name)
    per_day = (sa.select(Sale.customer_id.label("cid"), day.label("day"))
               .where(in_range(Sale.at, rng), Sale.customer_id.is_not(None))
               .group_by(Sale.customer_id, day).subquery())
    per = sa.select(per_day.c.cid, sa.func.count().label("days")).group_by(per_day.c.cid).subquery()
    came = sa.exists().where(Redemption.friend_id == per.c.cid, Redemption.created_at < rng.end)
    flag = sa.case((came, 1), else_=0)
    stmt = sa.select(flag, sa.func.sum(per.c.days), sa.func.count()).group_by(flag)
    return {int(r): (int(days or 0), int(people or 0)) for r, days, people in conn.execute(stmt)}


def has_feed(groups: list[tuple[str, int, int, int, int, int]]) -> bool:
    return any(source in SOURCES and n for source, *_, n, _t in groups)


def figures(conn: sa.Connection, rng: DateRange) -> dict[str, Any]:
    """Every figure of ``DEFINITIONS`` (None and ``sales_unknown_reason`` when the period has no sales feed)."""
    groups = _day_groups(conn, rng)
    if not has_feed(groups):
        return {**dict.fromkeys(DEFINITIONS), "sales_feed": False, "sales_unknown_reason": NO_FEED}
    sums: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for _source, coded, referred, _known, n, total in groups:
        for key in ("all", "coded" if coded else "uncoded", "referred" if referred else "other"):
            sums[key][0] += n
            sums[key][1] += total
    offered = int(conn.execute(sa.select(sa.func.count()).select_from(CardOffer).where(
        in_range(CardOffer.at, rng), CardOffer.offered.is_(True))).scalar_one())
    visits = _visits(conn, rng)

    def avg(key: str) -> int | None:
        n, total = sums[key]
        return (total + n // 2) // n if n else None

    def per_customer(flag: int) -> float | None:
        days, people = visits.get(flag, (0, 0))
        return round(days / people, 2) if people else None

    return {"sales_feed": True, "sales_unknown_reason": None,
            "all_sales_count": sums["all"][0], "all_sales_total_minor": sums["all"][1],
            "coded_sales_count": sums["coded"][0], "participation_of_sales": ratio(sums["coded"][0], sums["all"][0]),
            "cards_offered": offered, "offered_share_of_sales": ratio(offered, sums["uncoded"][0]),
            "avg_basket_referred_all_minor": avg("referred"), "avg_basket_other_all_minor": avg("other"),
            "visits_per_customer_referred": per_customer(1), "visits_per_customer_other": per_customer(0)}


def _text(value: Any, kind: str) -> str:
    """As CSV and JSON write it: money a decimal string, ratios 4 places (the page formats ``raw`` itself)."""
    if kind == "money":
        return format_money(int(value))
    return f"{value:.4f}" if kind == "ratio" else str(value)


def rows(values: dict[str, Any]) -> list[dict[str, Any]]:
    """The dashboard's "Every sale" table: one row per figure with its definition (value None: not known)."""
    reason = values.get("sales_unknown_reason")
    return [{"figure": label, "key": key, "raw": values.get(key), "kind": kind, "definition": definition,
             "value": None if values.get(key) is None else _text(values[key], kind),
             "reason": NO_FEED_TEXT if reason else None}
            for key, (label, kind, definition) in DEFINITIONS.items()]
