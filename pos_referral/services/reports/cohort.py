"""The honest funnel: the referral codes issued in a period, followed step by step until its end.

Each step counts the codes of the step before it that went one step further by the end of the period:
issued in the period -> their landing page was visited -> a friend was quoted at a till with the code ->
a friend bought with it -> the referrer's reward for such a purchase was released -> that reward's
voucher was used. So no step can exceed the one before (the old period view counted different
populations and showed 219 redeemed against 155 released). A code that skipped a step (a friend typed
the printed code without opening the page) stops there; ``reached`` says how many codes of the period
reached a step by any path, and the "activity in the period" table (``funnel.funnel``) still counts
every event as it happened.

The unit is the code throughout (not the friend: one code brings several friends), so conversions are
proportions of codes.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from pos_referral.db.models import Code, LandingVisit, Redemption, ReportEvent, Reward
from pos_referral.services.reports.date_range import DateRange, at_store, in_range, issued_here
from pos_referral.services.reports.funnel import ratio
from pos_referral.services.reports.rollup import milestones

STEPS = ("Codes issued", "Landing page visited", "Friend quoted", "Friend bought", "Reward released", "Reward used")


def flags(rng: DateRange) -> list[sa.ColumnElement[bool]]:
    """Per code of the cohort: did it reach each step after "issued" before the period's end?"""
    red = so.aliased(Redemption)
    rew = so.aliased(Reward)
    voucher = so.aliased(Code)
    visited = sa.exists().where(LandingVisit.code == Code.code, LandingVisit.at < rng.end)
    # ``kind || ''``: keeps SQLite on the code index (on (kind, at) it would walk every quote for each code)
    quoted = sa.exists().where(ReportEvent.code == Code.code, ReportEvent.kind.concat("") == "quote",
                               ReportEvent.reason != "self_referral", ReportEvent.at < rng.end)
    bought = sa.exists().where(Redemption.code == Code.code, Redemption.created_at < rng.end)
    released = sa.exists().where(red.code == Code.code, rew.redemption_id == red.id, rew.source == "referral",
                                 rew.released_at < rng.end)
    red2, rew2 = so.aliased(Redemption), so.aliased(Reward)
    used = sa.exists().where(red2.code == Code.code, rew2.redemption_id == red2.id, rew2.source == "referral",
                             voucher.reward_id == rew2.id, voucher.kind == "voucher", voucher.redeemed_at < rng.end)
    return [visited, quoted, bought, released, used]


def cohort_where(rng: DateRange) -> sa.ColumnElement[bool]:
    """Referral codes issued in the range (for one store: issued there)."""
    return sa.and_(Code.kind == "referral", issued_here(), in_range(Code.created_at, rng),
                   at_store(Code.store_no, rng))


def cohort_funnel(conn: sa.Connection, rng: DateRange, extra: sa.ColumnElement[bool] | None = None
                  ) -> list[dict[str, Any]]:
    """The funnel rows: step, count (nested), conversion from the step before, share of issued, reached.

    Each code's five flags are computed once (a subquery), then summed nested and by any path; on the
    store's SQLite the same counts come from the per-code summary (``rollup/milestones.py``).
    """
    if extra is None and milestones.usable(conn, rng):
        counts, reached = milestones.funnel(conn, rng)
        return _rows(counts, reached)
    where = cohort_where(rng) if extra is None else sa.and_(cohort_where(rng), extra)
    per_code = sa.select(*(sa.case((flag, 1), else_=0).label(f"f{i}") for i, flag in enumerate(flags(rng)))
                         ).select_from(Code).where(where).subquery()
    f = [per_code.c[f"f{i}"] for i in range(5)]
    nested: list[sa.ColumnElement[Any]] = []
    product: sa.ColumnElement[Any] = sa.literal(1)
    for column in f:
        product = product * column
        nested.append(sa.func.coalesce(sa.func.sum(product), 0))
    anyway = [sa.func.coalesce(sa.func.sum(column), 0) for column in f]
    row = conn.execute(sa.select(sa.func.count(), *nested, *anyway).select_from(per_code)).one()
    issued = int(row[0])
    counts = [issued, *(int(n) for n in row[1:6])]
    reached = [issued, *(int(n) for n in row[6:11])]
    return _rows(counts, reached)


def _rows(counts: list[int], reached: list[int]) -> list[dict[str, Any]]:
    issued = counts[0]
    return [{"step": name, "count": n, "conversion": ratio(n, counts[i - 1]) if i else None,
             "of_issued": ratio(n, issued), "reached": reached[i]}
            for i, (name, n) in enumerate(zip(STEPS, counts, strict=True))]
