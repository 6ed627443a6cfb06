"""Money in the reports: referred revenue, sales, baskets, reward cost, liability, goals.

Definitions (also on the dashboard):
- A *sale* is a basket this service recorded: a referred first purchase (a redemption: its basket
  net of refunds) or a sale paid partly with a reward voucher (the basket the till sent with the
  voucher). The service never sees other sales, so "share of sales" is a share of these.
- *Referred revenue*: the baskets of referred first purchases in the range, net of refunds.
- *Referred customers* are customers who were a friend in a redemption before the range ended.
- *Reward cost*: friends' discounts on referred sales that were not refunded in full, plus the
  value of reward vouchers redeemed at the till, in the range (money actually given away).
- *Acquired customers*: friends whose referred purchase in the range was not refunded in full.
- *Outstanding liability* (as of now, not of the range): pending referrer rewards plus released
  vouchers not yet redeemed, revoked or expired. Free-item and percent vouchers count in number only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from pos_referral.db.models import Code, LedgerEntry, Redemption, ReportEvent, Reward
from pos_referral.domain.rules import Program
from pos_referral.services.reports.date_range import DateRange, at_store, in_range, sold_at_store, storeless
from pos_referral.services.reports.funnel import ratio
from pos_referral.services.reports.rollup import holdings
from pos_referral.services.reports.rollup import read as rollup

_NET = Redemption.basket_minor - Redemption.refunded_minor


def referred_by_end(customer: Any, rng: DateRange) -> sa.Exists:
    """The customer bought with a friend's code before the range's end (the people report asks too)."""
    r = so.aliased(Redemption)
    return sa.exists().where(r.friend_id == customer, r.created_at < rng.end)


def _kept(conn: sa.Connection, rng: DateRange) -> tuple[int, int, int]:
    """(referred sales not refunded in full, their net baskets, their friends' discounts) in the range."""
    if rollup.usable(conn, rng):
        _, n, net, discount = rollup.total(conn, "redemptions", rng)
        return n, net, discount
    n, net, discount = conn.execute(
        sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(_NET), 0),
                  sa.func.coalesce(sa.func.sum(Redemption.discount_minor), 0))
        .where(in_range(Redemption.created_at, rng), at_store(Redemption.store_no, rng), _NET > 0)).one()
    return int(n), int(net), int(discount)


def _vouchers_spent(rng: DateRange, *columns: Any) -> sa.Select[Any]:
    """Ledger entries of reward vouchers spent at the till in the range (for one store: used there)."""
    stmt = sa.select(*columns).select_from(LedgerEntry).where(
        LedgerEntry.entry == "voucher_redeemed", in_range(LedgerEntry.at, rng))
    if rng.store_no is None:
        return stmt
    used = sa.select(Code.code).where(Code.kind == "voucher", Code.reward_id == LedgerEntry.reward_id,
                                      sold_at_store(Code.redeemed_sale_id, rng))
    return stmt.where(sa.exists(used))


def _voucher_sales(conn: sa.Connection, rng: DateRange) -> dict[bool, tuple[int, int]]:
    """{referred by the range's end: (sales paid partly with a reward voucher, their baskets)}."""
    if rollup.usable(conn, rng):
        return rollup.by_first(conn, "voucher_sales", rng)
    flag = referred_by_end(ReportEvent.customer_id, rng)
    return {bool(is_ref): (int(n), int(total)) for is_ref, n, total in conn.execute(
        sa.select(flag.label("ref"), sa.func.count(), sa.func.coalesce(sa.func.sum(ReportEvent.basket_minor), 0))
        .where(ReportEvent.kind == "voucher_sale", in_range(ReportEvent.at, rng), storeless(rng))
        .group_by(sa.literal_column("ref"))).all()}


def sales(conn: sa.Connection, rng: DateRange) -> dict[str, Any]:
    referred_n, referred_sum, _ = _kept(conn, rng)
    voucher = _voucher_sales(conn, rng)
    v_ref_n, v_ref_sum = voucher.get(True, (0, 0))
    v_oth_n, v_oth_sum = voucher.get(False, (0, 0))
    referred_revenue = int(referred_sum)
    total = referred_revenue + v_ref_sum + v_oth_sum
    ref_n, ref_sum = int(referred_n) + v_ref_n, referred_revenue + v_ref_sum
    return {
        "sales_count": ref_n + v_oth_n,
        "sales_minor": total,
        "referred_revenue_minor": referred_revenue,
        "referred_share": ratio(referred_revenue, total),
        "avg_basket_referred_minor": ref_sum // ref_n if ref_n else None,
        "avg_basket_other_minor": v_oth_sum // v_oth_n if v_oth_n else None,
    }


def cost(conn: sa.Connection, rng: DateRange) -> dict[str, Any]:
    acquired, _, friend = _kept(conn, rng)
    if rollup.usable(conn, rng):
        vouchers = rollup.total(conn, "voucher_value", rng)[1]
    else:
        vouchers = conn.execute(_vouchers_spent(rng, sa.func.coalesce(sa.func.sum(LedgerEntry.amount_minor), 0))
                                ).scalar() or 0
    total = int(friend) + int(vouchers)
    return {"friend_discounts_minor": int(friend), "vouchers_redeemed_minor": int(vouchers),
            "reward_cost_minor": total, "acquired_customers": int(acquired),
            "cost_per_acquired_minor": total // int(acquired) if acquired else None}


def open_vouchers() -> sa.Select[str, int, datetime | None]:
    """Released rewards whose voucher is still usable (uses the partial index on open vouchers)."""
    return (sa.select(Reward.customer_id, Reward.amount_minor, Code.expires_at)
            .select_from(Code).join(Reward, Reward.id == Code.reward_id)
            .where(Code.kind == "voucher", Code.redeemed_at.is_(None), Code.revoked_at.is_(None),
                   Reward.status == "released"))


def earned_at(store_no: int | None) -> sa.ColumnElement[bool]:
    """Rewards earned by referred sales at a store (every reward when ``store_no`` is None)."""
    if store_no is None:
        return sa.true()
    return Reward.redemption_id.in_(sa.select(Redemption.id).where(Redemption.store_no == store_no))


def liability(conn: sa.Connection, now: datetime, store_no: int | None = None) -> dict[str, Any]:
    if holdings.usable(conn, now, store_no):
        pending_n, pending_sum, open_n, open_sum = holdings.liability(conn, now)
        return {"pending_rewards": pending_n, "pending_minor": pending_sum, "open_vouchers": open_n,
                "open_vouchers_minor": open_sum, "liability_minor": pending_sum + open_sum}
    pending_n, pending_sum = conn.execute(sa.select(sa.func.count(), sa.func.coalesce(
        sa.func.sum(Reward.amount_minor), 0)).where(Reward.status == "pending", earned_at(store_no))).one()
    usable = open_vouchers().where(sa.or_(Code.expires_at.is_(None), Code.expires_at > now),
                                   earned_at(store_no)).subquery()
    open_n, open_sum = conn.execute(sa.select(sa.func.count(), sa.func.coalesce(
        sa.func.sum(usable.c.amount_minor), 0))).one()
    return {"pending_rewards": int(pending_n), "pending_minor": int(pending_sum),
            "open_vouchers": int(open_n), "open_vouchers_minor": int(open_sum),
            "liability_minor": int(pending_sum) + int(open_sum)}


def goals(conn: sa.Connection, rng: DateRange, programs: tuple[Program, ...]) -> list[dict[str, Any]]:
    """Per program, for the calendar month holding the range's last day: new referred customers and spend."""
    month = rng.month()
    if rollup.usable(conn, month):
        by_program = rollup.sums(conn, "redemptions", month, "program_id")
        acquired = {p: a for p, _, a, _, _ in by_program}
        friend = {p: c for p, _, _, _, c in by_program}
        vouchers = {p: a for p, _, a, _, _ in rollup.sums(conn, "voucher_value", month, "program_id")}
    else:
        acquired, friend, vouchers = _goal_sums(conn, month)
    rows = []
    for program in programs:
        target, budget = program.goals.new_referred_customers_per_month, program.goals.budget_per_month
        got = int(acquired.get(program.id, 0))
        spent = int(friend.get(program.id) or 0) + int(vouchers.get(program.id) or 0)
        rows.append({"program_id": program.id, "program": program.name, "month": month.first.strftime("%Y-%m"),
                     "new_referred_customers": got, "target": target, "target_progress": ratio(got, target),
                     "spent_minor": spent, "budget_minor": budget, "budget_used": ratio(spent, budget)})
    return rows


def _goal_sums(conn: sa.Connection, month: DateRange) -> tuple[dict[Any, Any], dict[Any, Any], dict[Any, Any]]:
    acquired = dict(conn.execute(
        sa.select(Redemption.program_id, sa.func.count()).where(
            in_range(Redemption.created_at, month), at_store(Redemption.store_no, month), _NET > 0)
        .group_by(Redemption.program_id)).all())
    friend = dict(conn.execute(
        sa.select(Redemption.program_id, sa.func.sum(Redemption.discount_minor))
        .where(in_range(Redemption.created_at, month), at_store(Redemption.store_no, month), _NET > 0)
        .group_by(Redemption.program_id)).all())
    vouchers: dict[Any, Any] = dict(conn.execute(
        _vouchers_spent(month, Reward.program_id, sa.func.sum(LedgerEntry.amount_minor))
        .join(Reward, Reward.id == LedgerEntry.reward_id).group_by(Reward.program_id)).all())
    return acquired, friend, vouchers
