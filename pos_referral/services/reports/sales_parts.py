"""The dashboard's parts of issue 22's "every sale seen": tables, their parts and their definitions.

Kept apart from ``dashboard.py`` so that module only merges them in (``TABLES``/``PARTS``). Each figure's
one-line definition travels with its table (``DEFINITIONS``), shown under the table on the page.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from pos_referral.services.context import StoreContext
from pos_referral.services.reports import cashiers, invite, sales_figures, shares
from pos_referral.services.reports.date_range import DateRange

TABLES: dict[str, tuple[str, list[tuple[str, str, str]]]] = {
    "sales": ("Every sale (sales feed)", [("figure", "Figure", "text"), ("value", "Value", "text"),
                                          ("reason", "Not known because", "text"),
                                          ("definition", "Definition", "text"), ("key", "Key", "text")]),
    "shares": shares.TABLE,
    "cashier_activity": cashiers.TABLE,
    "invite": invite.TABLE,
}
DEFINITIONS: dict[str, str] = {
    "shares": shares.DEFINITION,
    "cashier_activity": cashiers.DEFINITION,
    "invite": invite.DEFINITION,
}

Part = Callable[[sa.Connection, DateRange, StoreContext, Any, int | None], None]


def _sales(conn: sa.Connection, rng: DateRange, ctx: StoreContext, rep: Any, limit: int | None) -> None:
    values = rep.kpis if "sales_feed" in rep.kpis else sales_figures.figures(conn, rng)  # the key figures' own
    rep.kpis.update(values)
    rep.tables["sales"] = sales_figures.rows(values)


def _shares(conn: sa.Connection, rng: DateRange, ctx: StoreContext, rep: Any, limit: int | None) -> None:
    rep.kpis.update(shares.share_rate(conn, rng))
    rep.tables["shares"] = shares.by_channel(conn, rng)


PARTS: dict[str, Part] = {
    "sales": _sales,
    "shares": _shares,
    "cashier_activity": lambda c, r, x, rep, n: rep.tables.__setitem__("cashier_activity", cashiers.per_cashier(c, r)),
    "invite": lambda c, r, x, rep, n: rep.tables.__setitem__("invite", invite.to_invite(c, r, n)),
}
