"""People in the reports: who was served, who came back, who brings friends, who to invite.

Definitions (also on the dashboard):
- A *visit* is a customer at the till or kiosk on a local day, as this service saw it: a referral
  code issued to them, their referred purchase, a sale with one of their reward vouchers, or a quote
  that named them. Several on one day are one visit.
- *Customers served*: distinct customers with a visit in the range.
- *Participation rate*: of those, the share holding a referral code issued before the range ended.
- *Repeat-visit rate*: of the customers served (referred, or other), the share with visits on two
  or more days in the range.
- *Best customers to invite*: customers with visits on two or more days and no referral code.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from pos_referral.db.models import Code, Customer, Redemption, ReportEvent, Reward
from pos_referral.services.reports.date_range import (
    DateRange,
    at_store,
    breathe,
    in_range,
    issued_here,
    local_day,
    storeless,
)
from pos_referral.services.reports.funnel import ratio
from pos_referral.services.reports.money import earned_at, open_vouchers, referred_by_end
from pos_referral.services.reports.rollup import holdings, referrers
from pos_referral.services.reports.rollup import read as rollup
from pos_referral.services.reports.rollup import visits as reports_visits

_NET = Redemption.basket_minor - Redemption.refunded_minor


def _visit_days(conn: sa.Connection, rng: DateRange) -> sa.Subquery:
    dialect = conn.dialect.name
    issued = sa.select(Code.customer_id.label("customer_id"), local_day(Code.created_at, rng, dialect).label("day")
                       ).where(Code.kind == "referral", issued_here(), in_range(Code.created_at, rng),
                              at_store(Code.store_no, rng))
    bought = sa.select(Redemption.friend_id, local_day(Redemption.created_at, rng, dialect)).where(
        in_range(Redemption.created_at, rng), at_store(Redemption.store_no, rng))
    seen = sa.select(ReportEvent.customer_id, local_day(ReportEvent.at, rng, dialect)).where(
        ReportEvent.kind.in_(("voucher_sale", "quote", "voucher_quote")), ReportEvent.customer_id.is_not(None),
        in_range(ReportEvent.at, rng), storeless(rng))
    visits = sa.union(issued, bought, seen).subquery("visits")  # UNION: one row per customer and day
    return (sa.select(visits.c.customer_id, sa.func.count().label("days"))
            .group_by(visits.c.customer_id).subquery("per_customer"))


def has_code(customer: Any, rng: DateRange) -> sa.Exists:
    """The customer held a referral code issued before the range ended (``SELECT 1``: answered by
    ``ix_codes_customer_id (customer_id, kind, created_at)`` alone, no table row)."""
    c = so.aliased(Code)
    return sa.select(sa.literal(1)).where(c.customer_id == customer, c.kind == "referral",
                                          c.created_at < rng.end).exists()


def visits(conn: sa.Connection, rng: DateRange) -> dict[str, Any]:
    if reports_visits.usable(conn, rng):
        return _visit_rates(*reports_visits.figures(conn, rng))
    per = _visit_days(conn, rng)
    holds = sa.case((has_code(per.c.customer_id, rng), 1), else_=0)
    referred = sa.case((referred_by_end(per.c.customer_id, rng), 1), else_=0)
    repeat = sa.case((per.c.days >= 2, 1), else_=0)
    flags = sa.select(holds.label("has_code"), referred.label("referred"), repeat.label("repeat")).subquery()
    served, holding, ref_n, ref_repeat, oth_repeat = conn.execute(sa.select(
        sa.func.count(), sa.func.coalesce(sa.func.sum(flags.c.has_code), 0),
        sa.func.coalesce(sa.func.sum(flags.c.referred), 0),
        sa.func.coalesce(sa.func.sum(flags.c.referred * flags.c.repeat), 0),
        sa.func.coalesce(sa.func.sum((1 - flags.c.referred) * flags.c.repeat), 0))).one()
    return _visit_rates(int(served), int(holding), int(ref_n), int(ref_repeat), int(oth_repeat))


def _visit_rates(served: int, holding: int, ref_n: int, ref_repeat: int, oth_repeat: int) -> dict[str, Any]:
    return {"customers_served": served, "customers_with_code": holding,
            "participation_rate": ratio(holding, served),
            "referred_customers_served": ref_n, "other_customers_served": served - ref_n,
            "repeat_rate_referred": ratio(ref_repeat, ref_n), "repeat_rate_other": ratio(oth_repeat, served - ref_n)}


def _who(customer: tuple[str, str] | None) -> dict[str, str]:
    if customer is None:
        return {"first_name": "", "contact": ""}
    return {"first_name": customer[0], "contact": customer[1]}


def _customers(conn: sa.Connection, ids: list[str]) -> dict[str, tuple[str, str]]:
    """{id: (first name, contact hint)}: plain tuples, since a CSV export may name 150,000 customers."""
    found: dict[str, tuple[str, str]] = {}
    for start in range(0, len(ids), 500):
        breathe(0)
        for cid, name, hint in conn.execute(sa.select(Customer.id, Customer.first_name, Customer.identity_hint)
                                            .where(Customer.id.in_(ids[start:start + 500]))):
            found[cid] = (name, hint)
    return found


def top_referrers(conn: sa.Connection, rng: DateRange, limit: int | None = 10) -> list[dict[str, Any]]:
    """Referrers by friends brought in the range (refunded-in-full purchases do not count)."""
    rows: Any
    if referrers.usable(conn, rng):
        rows = referrers.top(conn, rng, limit)
        people = _customers(conn, [r[0] for r in rows])
        out = []
        for i, (cid, k, total) in enumerate(rows):
            breathe(i)
            out.append({"customer_id": cid, **_who(people.get(cid)), "friends_brought": k,
                        "referred_revenue_minor": total})
        return out
    n = sa.func.count().label("friends")
    stmt = (sa.select(Redemption.referrer_id, n, sa.func.sum(_NET))
            .where(in_range(Redemption.created_at, rng), at_store(Redemption.store_no, rng), _NET > 0)
            .group_by(Redemption.referrer_id).order_by(n.desc(), Redemption.referrer_id))
    rows = conn.execute(stmt.limit(limit) if limit else stmt).all()
    people = _customers(conn, [r[0] for r in rows])
    return [{"customer_id": cid, **_who(people.get(cid)), "friends_brought": int(k),
             "referred_revenue_minor": int(total or 0)} for cid, k, total in rows]


def to_invite(conn: sa.Connection, rng: DateRange, limit: int | None = 10) -> list[dict[str, Any]]:
    if reports_visits.usable(conn, rng):
        per = reports_visits.uncoded(rng)
        stmt = (sa.select(per.c.customer_id, per.c.days).where(per.c.days >= 2)
                .order_by(per.c.days.desc(), per.c.customer_id))
    else:
        per = _visit_days(conn, rng)
        stmt = (sa.select(per.c.customer_id, per.c.days).where(per.c.days >= 2, ~has_code(per.c.customer_id, rng))
                .order_by(per.c.days.desc(), per.c.customer_id))
    rows = conn.execute(stmt.limit(limit) if limit else stmt).all()
    people = _customers(conn, [r[0] for r in rows])
    return [{"customer_id": cid, **_who(people.get(cid)), "visit_days": int(days)} for cid, days in rows]


def per_cashier(conn: sa.Connection, rng: DateRange) -> list[dict[str, Any]]:
    """Codes issued and redemptions per till and (when done on the till page) per signed-in cashier."""
    if rollup.usable(conn, rng):
        codes: Any = [(t, w, n) for t, w, n, *_ in rollup.sums(conn, "issued", rng, "till_id", "staff")]
        reds: Any = [(t, w, n) for t, w, n, *_ in rollup.sums(conn, "redemptions", rng, "till_id", "staff")]
        return _cashier_rows(codes, reds)
    issued_by = (sa.select(ReportEvent.code, sa.func.max(ReportEvent.staff).label("staff"))
                 .where(ReportEvent.kind.in_(("issued", "redeemed")), ReportEvent.code != "")
                 .group_by(ReportEvent.code).subquery())
    codes = conn.execute(
        sa.select(Code.till_id, sa.func.coalesce(issued_by.c.staff, ""), sa.func.count())
        .select_from(Code).outerjoin(issued_by, issued_by.c.code == Code.code)
        .where(Code.kind == "referral", issued_here(), in_range(Code.created_at, rng), at_store(Code.store_no, rng))
        .group_by(sa.text("1"), sa.text("2"))).all()
    sold_by = (sa.select(ReportEvent.sale_id, sa.func.max(ReportEvent.staff).label("staff"))
               .where(ReportEvent.kind == "redeemed", ReportEvent.sale_id != "")
               .group_by(ReportEvent.sale_id).subquery())
    reds = conn.execute(
        sa.select(Redemption.till_id, sa.func.coalesce(sold_by.c.staff, ""), sa.func.count())
        .select_from(Redemption).outerjoin(sold_by, sold_by.c.sale_id == Redemption.sale_id)
        .where(in_range(Redemption.created_at, rng), at_store(Redemption.store_no, rng))
        .group_by(sa.text("1"), sa.text("2"))).all()
    return _cashier_rows(codes, reds)


def _cashier_rows(codes: Any, reds: Any) -> list[dict[str, Any]]:
    table: dict[tuple[str, str], dict[str, Any]] = {}
    for key_n, column in ((codes, "codes_issued"), (reds, "redemptions")):
        for till, who, k in key_n:
            row = table.setdefault((till, who), {"till_id": till, "staff": who, "codes_issued": 0, "redemptions": 0})
            row[column] = int(k)
    return sorted(table.values(), key=lambda r: (r["till_id"], r["staff"]))


def unredeemed_rewards(conn: sa.Connection, now: datetime, limit: int | None = 10,
                       store_no: int | None = None) -> list[dict[str, Any]]:
    """Customers holding usable vouchers or pending rewards (to remind), most money first."""
    if holdings.usable(conn, now, store_no):
        held = holdings.holders(conn, now, limit)
        people = _customers(conn, [r["customer_id"] for r in held])
        return [{**r, **_who(people.get(r["customer_id"]))} for r in held]
    usable = open_vouchers().where(sa.or_(Code.expires_at.is_(None), Code.expires_at > now),
                                   earned_at(store_no)).subquery()
    pending = (sa.select(Reward.customer_id, sa.func.count().label("n"), sa.func.sum(Reward.amount_minor).label("m"))
               .where(Reward.status == "pending", earned_at(store_no)).group_by(Reward.customer_id))
    vouchers = (sa.select(usable.c.customer_id, sa.func.count().label("n"), sa.func.sum(usable.c.amount_minor)
                          .label("m"), sa.func.min(usable.c.expires_at).label("soonest"))
                .group_by(usable.c.customer_id))
    rows: dict[str, dict[str, Any]] = {}
    for cid, n, m, soonest in conn.execute(vouchers).all():
        rows[cid] = {"customer_id": cid, "vouchers": int(n), "vouchers_minor": int(m or 0),
                     "pending": 0, "pending_minor": 0, "soonest_expiry": soonest}
    for cid, n, m in conn.execute(pending).all():
        row = rows.setdefault(cid, {"customer_id": cid, "vouchers": 0, "vouchers_minor": 0, "soonest_expiry": None})
        row.update(pending=int(n), pending_minor=int(m or 0))
    ordered = sorted(rows.values(), key=lambda r: (-(r["vouchers_minor"] + r["pending_minor"]), r["customer_id"]))
    ordered = ordered[:limit] if limit else ordered
    people = _customers(conn, [r["customer_id"] for r in ordered])
    return [{**r, **_who(people.get(r["customer_id"]))} for r in ordered]
