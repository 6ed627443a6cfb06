"""Per cashier: card offers and acceptances, codes issued, redemptions, refusals by reason, overrides, sales.

A cashier is the name signed in at the till page, or the ``cashier`` an API call sent (sales and
redemptions); "" is a till's API token without a name. Definitions (on the dashboard):
- *Cards offered / accepted*: the after-sale prompt answered by this cashier (card_offers).
- *Codes issued, redemptions*: as in "Per till and cashier", summed over tills.
- *Refusals*: redemptions the service refused at this cashier's till, by reason (report facts).
- *Overrides*: managers' overrides of a refused code at this cashier's sale (audit log).
- *Sales*: sales recorded with this cashier (sales feed and redemptions).
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import sqlalchemy as sa

from pos_referral.db.models import AuditEntry, ReportEvent, Sale
from pos_referral.db.models_promo import CardOffer
from pos_referral.db.models_sales import ReportSaleDay
from pos_referral.services.reports import people as reports_people
from pos_referral.services.reports.date_range import DateRange, in_range, storeless
from pos_referral.services.reports.rollup import sales_days
from pos_referral.services.reports.rollup.buckets import day_number

TABLE: tuple[str, list[tuple[str, str, str]]] = ("Per cashier", [
    ("staff", "Cashier", "text"), ("sales", "Sales", "int"), ("cards_offered", "Cards offered", "int"),
    ("cards_accepted", "Cards accepted", "int"), ("codes_issued", "Codes issued", "int"),
    ("redemptions", "Redemptions", "int"), ("refusals", "Refusals", "int"),
    ("refusals_by_reason", "Refusals by reason", "text"), ("overrides", "Overrides", "int")])
DEFINITION = ("Per cashier: sales recorded with their name, after-sale card prompts they answered (offered, "
              "accepted), codes issued, redemptions, redemptions refused by reason, managers' overrides "
              "at their sales.")
_COUNTS = ("sales", "cards_offered", "cards_accepted", "codes_issued", "redemptions", "refusals", "overrides")


def per_cashier(conn: sa.Connection, rng: DateRange) -> list[dict[str, Any]]:
    table: dict[str, dict[str, Any]] = {}

    def row(who: str) -> dict[str, Any]:
        return table.setdefault(who, {"staff": who, **dict.fromkeys(_COUNTS, 0), "reasons": Counter()})

    for r in reports_people.per_cashier(conn, rng):
        row(r["staff"])["codes_issued"] += r["codes_issued"]
        row(r["staff"])["redemptions"] += r["redemptions"]
    offers = conn.execute(sa.select(
        CardOffer.staff, sa.func.sum(sa.case((CardOffer.offered, 1), else_=0)),
        sa.func.sum(sa.case((CardOffer.accepted, 1), else_=0))).where(
        in_range(CardOffer.at, rng), storeless(rng)).group_by(CardOffer.staff))
    for who, offered, accepted in offers:
        row(who)["cards_offered"] += int(offered or 0)
        row(who)["cards_accepted"] += int(accepted or 0)
    refused = conn.execute(sa.select(ReportEvent.staff, ReportEvent.reason, sa.func.count()).where(
        ReportEvent.kind == "refused", in_range(ReportEvent.at, rng), storeless(rng))
        .group_by(ReportEvent.staff, ReportEvent.reason))
    for who, reason, n in refused:
        row(who)["refusals"] += int(n)
        row(who)["reasons"][reason] += int(n)
    if sales_days.usable(conn, rng):
        d = ReportSaleDay
        sold: Any = conn.execute(sa.select(d.cashier, sa.func.sum(d.n)).where(
            d.day >= day_number(rng.first), d.day <= day_number(rng.last)).group_by(d.cashier))
    else:
        sold = conn.execute(sa.select(Sale.cashier, sa.func.count()).where(in_range(Sale.at, rng), storeless(rng))
                            .group_by(Sale.cashier))
    for who, n in sold:
        row(who)["sales"] += int(n)
    for (detail,) in conn.execute(sa.select(AuditEntry.detail).where(
            AuditEntry.action == "override", in_range(AuditEntry.at, rng), storeless(rng))):
        try:
            who = str(json.loads(detail).get("cashier") or "")
        except (ValueError, AttributeError):
            who = ""
        row(who)["overrides"] += 1
    out = []
    for r in sorted(table.values(), key=lambda r: r["staff"]):
        reasons = r.pop("reasons")
        r["refusals_by_reason"] = ", ".join(f"{k} {v}" for k, v in sorted(reasons.items(), key=lambda kv: -kv[1]))
        out.append(r)
    return out
