"""Who to invite: frequent customers from the sales feed who hold no referral code.

*Best customers to invite*: named customers (a phone or email given with their sales) with sales on
``MIN_VISIT_DAYS`` or more local days of the period and no referral code by its end, ranked by those
days, then by what they spent. The till shows "Frequent customer without a card: offer one" when such a
customer is named there (services/promo/invite_hint.py, the same rule over the last 30 days).
A period without any named sale falls back to the visits the service saw itself (``people.to_invite``).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from pos_referral.db.models import Sale
from pos_referral.db.models_sales import ReportSaleCustomer, ReportSaleCustomerTotal
from pos_referral.services.promo.invite_hint import MIN_VISIT_DAYS
from pos_referral.services.reports import people as reports_people
from pos_referral.services.reports.date_range import DateRange, in_range, local_day
from pos_referral.services.reports.rollup import sales_days
from pos_referral.services.reports.rollup.buckets import day_number, unindexed

LONG_RANGE_DAYS = 92

TABLE: tuple[str, list[tuple[str, str, str]]] = ("Best customers to invite", [
    ("first_name", "Name", "text"), ("contact", "Contact", "text"), ("visit_days", "Days with a sale", "int"),
    ("spent_minor", "Spent", "money"), ("customer_id", "Customer id", "text")])
DEFINITION = (f"Best customers to invite: customers named with their sales on {MIN_VISIT_DAYS} or more days of the "
              "period who hold no referral code, most days first, then most spent. Print their card next visit: "
              "the till says \"Frequent customer without a card: offer one\" when one of them is named there.")


def _per_customer(conn: sa.Connection, rng: DateRange) -> sa.Subquery:
    if sales_days.usable(conn, rng):
        c = ReportSaleCustomer
        # a short range: its days by the covering index; a long one: the whole table in (customer, day) order,
        # grouped as it streams (the index would sort most of the table by customer in a temporary tree)
        day: Any = c.day if len(rng.days) <= LONG_RANGE_DAYS else unindexed(c.day)
        return (sa.select(c.customer_id.label("cid"), sa.func.count().label("days"),
                          sa.func.sum(c.total_minor).label("spent"))
                .where(day >= day_number(rng.first), day <= day_number(rng.last))
                .group_by(c.customer_id).having(sa.func.count() >= MIN_VISIT_DAYS).subquery("per"))
    day = local_day(Sale.at, rng, conn.dialect.name)
    per_day = (sa.select(Sale.customer_id.label("cid"), day.label("day"), sa.func.sum(Sale.total_minor).label("t"))
               .where(in_range(Sale.at, rng), Sale.customer_id.is_not(None)).group_by(Sale.customer_id, day)
               .subquery())
    return (sa.select(per_day.c.cid, sa.func.count().label("days"), sa.func.sum(per_day.c.t).label("spent"))
            .group_by(per_day.c.cid).having(sa.func.count() >= MIN_VISIT_DAYS).subquery("per"))


def _ranked_by_totals(conn: sa.Connection, rng: DateRange, limit: int) -> list[tuple[str, int, int]]:
    """The first ``limit`` of a long range from ``report_sale_customer_totals``, without grouping the range.

    Customers come in (all-time days, spend) order, highest first; a customer's figures in the range are
    their totals when the range holds all their days, else read from their own per-day rows. The totals
    bound the range's figures from above, so once the ``limit``-th best found beats the next customer's
    totals, nobody further down can still make the list."""
    t, c = ReportSaleCustomerTotal, ReportSaleCustomer
    first, last = day_number(rng.first), day_number(rng.last)
    candidates = (sa.select(t.customer_id, t.days, t.spent_minor, t.first_day, t.last_day)
                  .where(t.days >= MIN_VISIT_DAYS, t.last_day >= first, t.first_day <= last,
                         ~reports_people.has_code(t.customer_id, rng))
                  .order_by(t.days.desc(), t.spent_minor.desc()))
    best: list[tuple[str, int, int]] = []
    for cid, days, spent, lo, hi in conn.execute(candidates):
        if len(best) >= limit and (days, spent) < best[-1][1:]:
            break
        if not (first <= lo and hi <= last):
            days, spent = conn.execute(sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(c.total_minor), 0))
                                       .where(c.customer_id == cid, c.day >= first, c.day <= last)).one()
        if days >= MIN_VISIT_DAYS:
            best = sorted([*best, (str(cid), int(days), int(spent))], key=lambda r: (-r[1], -r[2], r[0]))[:limit]
    return best


def to_invite(conn: sa.Connection, rng: DateRange, limit: int | None = 10) -> list[dict[str, Any]]:
    rows: list[Any]
    if limit and len(rng.days) > LONG_RANGE_DAYS and sales_days.usable(conn, rng):
        rows = _ranked_by_totals(conn, rng, limit)
    else:
        per = _per_customer(conn, rng)
        stmt = (sa.select(per.c.cid, per.c.days, per.c.spent).where(~reports_people.has_code(per.c.cid, rng))
                .order_by(per.c.days.desc(), per.c.spent.desc(), per.c.cid))
        rows = list(conn.execute(stmt.limit(limit) if limit else stmt).all())
    if not rows and not conn.execute(sa.select(Sale.id).where(in_range(Sale.at, rng), Sale.customer_id.is_not(None))
                                     .limit(1)).first():
        return [{**r, "spent_minor": None} for r in reports_people.to_invite(conn, rng, limit)]
    people = reports_people._customers(conn, [r[0] for r in rows])
    return [{"customer_id": cid, "first_name": people.get(cid, ("", ""))[0], "contact": people.get(cid, ("", ""))[1],
             "visit_days": int(days), "spent_minor": int(spent or 0)} for cid, days, spent in rows]
