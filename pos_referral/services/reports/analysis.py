"""The analysis tables of the dashboard: honest funnel, A/B results, budget warnings, ambassadors.

Registered into ``dashboard.TABLES`` / ``dashboard.PARTS`` by ``register`` (called once where
dashboard.py defines them), so each figure lives in its own module and dashboard.py only lists it.
A part has the dashboard's signature ``(conn, range, context, report, limit)`` and fills
``report.tables``; it is typed loosely here to keep this module below dashboard.py in the imports.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from pos_referral.services.context import StoreContext
from pos_referral.services.reports import ab, ambassadors, budget, cohort, stores
from pos_referral.services.reports import money as reports_money
from pos_referral.services.reports.date_range import DateRange

FUNNEL = ("Funnel: codes issued in the period, followed", [
    ("step", "Step", "text"), ("count", "Codes", "int"), ("conversion", "From the step before", "ratio"),
    ("of_issued", "Of codes issued", "ratio"), ("reached", "Reached by any path", "int")])
ACTIVITY = ("Activity in the period", [("step", "Event", "text"), ("count", "Count", "int"),
                                       ("conversion", "Ratio to the row above", "ratio")])


def _funnel(conn: sa.Connection, rng: DateRange, ctx: StoreContext, rep: Any, limit: int | None) -> None:
    rep.tables["funnel"] = cohort.cohort_funnel(conn, rng)


def _ab(conn: sa.Connection, rng: DateRange, ctx: StoreContext, rep: Any, limit: int | None) -> None:
    rep.tables["ab"], rep.tables["ab_verdicts"] = ab.ab_results(conn, rng, ctx.settings.programs)


def _budget(conn: sa.Connection, rng: DateRange, ctx: StoreContext, rep: Any, limit: int | None) -> None:
    goal_rows = rep.tables.get("goals")
    if goal_rows is None:
        goal_rows = reports_money.goals(conn, rng, ctx.settings.programs)
    rep.tables["budget"] = budget.warnings(goal_rows)


def _ambassadors(conn: sa.Connection, rng: DateRange, ctx: StoreContext, rep: Any, limit: int | None) -> None:
    rep.tables["ambassadors"] = ambassadors.ambassadors(conn, rng, ctx.settings.programs, limit)


def _stores(conn: sa.Connection, rng: DateRange, ctx: StoreContext, rep: Any, limit: int | None) -> None:
    rep.tables["stores"] = stores.compare_stores(conn, rng)


def register(tables: dict[str, Any], parts: dict[str, Any]) -> None:
    """Add the analysis tables; the cohort funnel takes the name ``funnel`` (its old period counts: ``activity``)."""
    tables.update(funnel=FUNNEL, activity=ACTIVITY, ab=ab.TABLE, ab_verdicts=ab.VERDICT_TABLE,
                  budget=budget.TABLE, ambassadors=ambassadors.TABLE, stores=stores.TABLE)
    parts.update(funnel=_funnel, ab=_ab, ab_verdicts=_ab, budget=_budget, ambassadors=_ambassadors, stores=_stores)
