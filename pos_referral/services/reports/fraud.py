"""What looks wrong: self-referral attempts, velocity, refunds after a referral, overrides; reconciliation.

- *Self-referral attempts*: quotes and redemptions refused with ``self_referral`` (counted by the
  report events, since a refusal writes nothing to the business tables).
- *Velocity*: one code used by ``VELOCITY_COUNT`` or more friends within ``VELOCITY_WINDOW``.
- *Refunds after a referral*: referred sales in the range with any amount refunded.
- *Overrides*: managers' overrides of a refusal, from the hash-chained audit log.
- *Reconciliation*: conflicts chain sync found between stores (central's ``central_reconciliation``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from pos_referral.db.models import AuditEntry, Redemption, ReportEvent, Reward
from pos_referral.db.models_central import Reconciliation
from pos_referral.domain.money import format_money
from pos_referral.services.reports.date_range import DateRange, at_store, in_range, storeless
from pos_referral.services.reports.rollup import flags as reports_flags
from pos_referral.services.reports.rollup import read as rollup
from pos_referral.services.reports.rollup import velocity as reports_velocity
from pos_referral.services.reports.rollup.velocity import VELOCITY_COUNT, VELOCITY_WINDOW

LIST_LIMIT = 500


def fraud_flags(conn: sa.Connection, rng: DateRange,
                money: Callable[[int], str] = format_money) -> list[dict[str, Any]]:
    """One row per flag: kind, when, code, till, detail (newest first); ``money`` writes amounts in details."""
    flags = self_referrals(conn, rng) + velocity(conn, rng) + refunds(conn, rng, money) + overrides(conn, rng)
    flags.sort(key=lambda f: (f["at"], f["kind"], f["code"]), reverse=True)
    return flags


def self_referrals(conn: sa.Connection, rng: DateRange) -> list[dict[str, Any]]:
    def query(lo: Any, hi: Any, limit: int) -> list[Any]:
        refused = sa.and_(ReportEvent.reason == "self_referral", ReportEvent.kind.in_(("quote", "refused")))
        return list(conn.execute(sa.select(ReportEvent.at, ReportEvent.code, ReportEvent.till_id, ReportEvent.kind)
                                 .where(refused, ReportEvent.at >= lo, ReportEvent.at < hi, storeless(rng))
                                 .order_by(ReportEvent.at.desc(), ReportEvent.id.desc()).limit(limit)).all())

    if rollup.usable(conn, rng) and reports_flags.usable(conn):
        rows: list[Any] = reports_flags.self_referrals(conn, rng, LIST_LIMIT)
    elif rollup.usable(conn, rng):  # read only the quarter hours that had one, newest first
        rows = []
        for lo, hi in rollup.busy_spans(conn, "self_referrals", rng):
            rows += query(lo, hi, LIST_LIMIT - len(rows))
            if len(rows) >= LIST_LIMIT:
                break
    else:
        rows = query(rng.start, rng.end, LIST_LIMIT)
    what = {"quote": "own code scanned (quote refused)", "refused": "own code refused at redemption"}
    return [{"kind": "self_referral", "at": at, "code": code, "till_id": till, "detail": what[kind]}
            for at, code, till, kind in rows]


def velocity(conn: sa.Connection, rng: DateRange) -> list[dict[str, Any]]:
    found = reports_velocity.in_range(conn, rng, LIST_LIMIT) if rollup.usable(conn, rng) else None
    if found is None:
        here = sa.and_(in_range(Redemption.created_at, rng), at_store(Redemption.store_no, rng))
        # the range's redemptions once (a CTE used twice is materialised), not an index walk per code
        seen = sa.select(Redemption.code, Redemption.created_at, Redemption.till_id).where(here).cte("seen")
        busy = sa.select(seen.c.code).group_by(seen.c.code).having(sa.func.count() >= VELOCITY_COUNT)
        rows = conn.execute(sa.select(seen.c.code, seen.c.created_at, seen.c.till_id).where(seen.c.code.in_(busy))
                            .order_by(seen.c.code, seen.c.created_at, seen.c.till_id)).all()
        found = reports_velocity.bursts([(code, at, till) for code, at, till in rows])[-LIST_LIMIT:]
    minutes = int(VELOCITY_WINDOW.total_seconds() // 60)
    return [{"kind": "velocity", "at": at, "code": code, "till_id": till,
             "detail": f"{burst} friends within {minutes} minutes"} for code, at, till, burst in found]


def refunds(conn: sa.Connection, rng: DateRange, money: Callable[[int], str] = format_money) -> list[dict[str, Any]]:
    if rollup.usable(conn, rng) and reports_flags.usable(conn):
        rows: Any = reports_flags.refunds(conn, rng, LIST_LIMIT)
    else:
        rows = conn.execute(
            sa.select(Redemption.created_at, Redemption.code, Redemption.till_id, Redemption.sale_id,
                      Redemption.basket_minor, Redemption.refunded_minor, Reward.status)
            .outerjoin(Reward, Reward.redemption_id == Redemption.id)
            .where(in_range(Redemption.created_at, rng), at_store(Redemption.store_no, rng),
                   Redemption.refunded_minor > 0)
            .order_by(Redemption.created_at.desc(), Redemption.id.desc()).limit(LIST_LIMIT)).all()
    return [{"kind": "refund_after_referral", "at": at, "code": code, "till_id": till,
             "detail": f"sale {sale}: {money(refunded)} of {money(basket)} refunded; "
                       f"referrer reward {status or 'none'}"}
            for at, code, till, sale, basket, refunded, status in rows]


def overrides(conn: sa.Connection, rng: DateRange) -> list[dict[str, Any]]:
    rows = conn.execute(sa.select(AuditEntry.at, AuditEntry.actor, AuditEntry.detail)
                        .where(AuditEntry.action == "override", in_range(AuditEntry.at, rng), storeless(rng))
                        .order_by(AuditEntry.id.desc()).limit(LIST_LIMIT)).all()
    flags = []
    for at, actor, detail in rows:
        try:
            data = json.loads(detail)
        except ValueError:
            data = {}
        flags.append({"kind": "override", "at": at, "code": str(data.get("code", "")),
                      "till_id": str(data.get("till", "")),
                      "detail": f"{actor} overrode {data.get('refused', '?')} for {data.get('cashier', '?')}: "
                                f"{data.get('discount', '?')} off — {data.get('note', '')}"})
    return flags


def reconciliation(conn: sa.Connection, store_no: int | None = None) -> list[dict[str, Any]]:
    """Open conflicts chain sync found (central's list; a store's copy of the table stays empty), newest first."""
    rows = conn.execute(sa.select(Reconciliation.created_at, Reconciliation.kind, Reconciliation.store_no,
                                  Reconciliation.subject, Reconciliation.detail, Reconciliation.event_id)
                        .where(Reconciliation.resolved_at.is_(None),
                               sa.true() if store_no is None else Reconciliation.store_no == store_no)
                        .order_by(Reconciliation.id.desc()).limit(LIST_LIMIT)).all()
    return [{"at": at, "kind": kind, "store": f"S{store:03d}", "subject": subject,
             "detail": json.dumps(detail, sort_keys=True, default=str), "event_id": event_id}
            for at, kind, store, subject, detail, event_id in rows]
