"""Central's store comparison: conversion and reward cost per store of the chain, side by side.

Each row is the chain report filtered to one store (the same functions, so a store's row equals the
figures its own dashboard shows for the codes and purchases it synced). Participation needs every sale,
and the ``sales`` table is kept at each store only: it is not synced (a sale without a code changes
nothing central decides, and syncing millions of them would put every till's sale on the relay).
Central therefore says "not known at central" instead of a number; a store's own dashboard has it.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import sqlalchemy as sa

from pos_referral.db.models_central import CentralStore
from pos_referral.services.reports import funnel as reports_funnel
from pos_referral.services.reports import money as reports_money
from pos_referral.services.reports.date_range import DateRange

NOT_KNOWN = "not known at central (sales are not synced)"
TABLE = ("Stores compared", [
    ("store", "Store", "text"), ("codes_issued", "Codes issued", "int"),
    ("codes_converted", "Codes that brought a friend", "int"), ("conversion", "Referral conversion", "ratio"),
    ("acquired_customers", "Acquired customers", "int"), ("reward_cost_minor", "Reward cost", "money"),
    ("cost_per_acquired_minor", "Cost per acquired customer", "money"), ("participation", "Participation", "text")])


def compare_stores(conn: sa.Connection, rng: DateRange) -> list[dict[str, Any]]:
    """One row per registered store (central only: a store's database has no chain stores, so no rows)."""
    if rng.store_no is not None or conn.dialect.name != "postgresql":
        return []
    stores = conn.execute(sa.select(CentralStore.store_no, CentralStore.name).order_by(CentralStore.store_no)).all()
    rows = []
    for store_no, name in stores:
        one = replace(rng, store_no=int(store_no))
        converted, issued = reports_funnel.referral_conversion(conn, one)
        cost = reports_money.cost(conn, one)
        rows.append({"store": f"S{int(store_no):03d} {name}".strip(), "store_no": int(store_no),
                     "codes_issued": issued, "codes_converted": converted,
                     "conversion": reports_funnel.ratio(converted, issued),
                     "acquired_customers": cost["acquired_customers"], "reward_cost_minor": cost["reward_cost_minor"],
                     "cost_per_acquired_minor": cost["cost_per_acquired_minor"], "participation": NOT_KNOWN})
    return rows
