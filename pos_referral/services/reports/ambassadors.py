"""Ambassadors: the customers holding a named status, highest first, with their friends and rewards.

A status is a program milestone with a ``status`` name (``services/promo/ambassador.py``): a referrer
holds the status of the highest such milestone their successful referrals reached (referral rewards
released and not voided or clawed back since). Counted up to the period's end, so last year's report
shows last year's ambassadors. Only referrers at or above the lowest status are read (``HAVING``).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from pos_referral.db.models import Customer, Redemption, Reward
from pos_referral.domain.rules import Program
from pos_referral.services.promo.ambassador import status_from_count
from pos_referral.services.reports.date_range import DateRange
from pos_referral.services.reports.rollup import ambassadors as kept

TABLE = ("Ambassadors", [
    ("status", "Status", "text"), ("program", "Program", "text"), ("first_name", "Name", "text"),
    ("contact", "Contact", "text"), ("successful_referrals", "Successful referrals", "int"),
    ("friends_brought", "Friends brought", "int"), ("rewards_released_minor", "Rewards released", "money"),
    ("next_status", "Next status", "text"), ("customer_id", "Customer id", "text")])


def ambassadors(conn: sa.Connection, rng: DateRange, programs: tuple[Program, ...],
                limit: int | None = 10) -> list[dict[str, Any]]:
    candidates: list[tuple[Program, str, int, int, Any]] = []  # (program, referrer, count, value, status)
    for program in programs:
        named = sorted((m for m in program.milestones if m.status), key=lambda m: m.referrals)
        if not named:
            continue
        found: list[Any]
        if kept.usable(conn, rng):  # the kept per-referrer counts (rollup/ambassadors.py)
            found = kept.at_least(conn, program.id, named[0].referrals, limit)
        else:
            n = sa.func.count().label("n")
            found = list(conn.execute(
                sa.select(Reward.customer_id, n, sa.func.coalesce(sa.func.sum(Reward.amount_minor), 0))
                .where(Reward.program_id == program.id, Reward.source == "referral", Reward.status == "released",
                       Reward.released_at < rng.end)
                .group_by(Reward.customer_id).having(n >= named[0].referrals)).all())
        for customer_id, count, value in found:
            reached = status_from_count(program, int(count))
            if reached is not None:
                candidates.append((program, str(customer_id), int(count), int(value), reached))
    if limit and len(candidates) > limit:
        # friends brought only break ties of (status, count): read them for the ones that can still be listed
        ranked = sorted(((c[4].referrals, c[2]) for c in candidates), reverse=True)
        cut = ranked[limit - 1]
        candidates = [c for c in candidates if (c[4].referrals, c[2]) >= cut]
    rows: list[dict[str, Any]] = []
    for program in programs:
        mine = [c for c in candidates if c[0] is program]
        if not mine:
            continue
        named = sorted((m for m in program.milestones if m.status), key=lambda m: m.referrals)
        ids = [c[1] for c in mine]
        friends = dict(conn.execute(
            sa.select(Redemption.referrer_id, sa.func.count())
            .where(Redemption.referrer_id.in_(ids), Redemption.program_id == program.id,
                   # from ix_redemptions_referrer_id (referrer, program, created_at) alone, no table rows
                   Redemption.created_at < rng.end).group_by(Redemption.referrer_id)).all())
        people = {cid: (name, hint) for cid, name, hint in conn.execute(
            sa.select(Customer.id, Customer.first_name, Customer.identity_hint).where(Customer.id.in_(ids))).all()}
        for _, customer_id, count, value, reached in mine:
            ahead = [m for m in named if m.referrals > count]
            name, hint = people.get(customer_id, ("", ""))
            rows.append({"status": reached.status, "rank": reached.referrals, "program": program.name,
                         "first_name": name, "contact": hint, "successful_referrals": count,
                         "friends_brought": int(friends.get(customer_id, 0)), "rewards_released_minor": value,
                         "next_status": f"{ahead[0].status} in {ahead[0].referrals - count}" if ahead else "",
                         "customer_id": customer_id})
    rows.sort(key=lambda r: (-r["rank"], -r["successful_referrals"], -r["friends_brought"], r["customer_id"]))
    return rows[:limit] if limit else rows
