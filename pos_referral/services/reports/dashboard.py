"""Manager reports: one read-only pass over the store's tables for a date range.

The numbers come from ``funnel``, ``money``, ``people`` and
``fraud`` (each module's docstring defines its figures); this module puts them together,
names every table the dashboard shows (the same names serve CSV and JSON), and turns minor units
into decimal strings at the edge. Everything runs on one read connection (one WAL snapshot), so
the figures agree with each other and a report never waits for, nor blocks, a till's write.
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from pos_referral.domain.csv_cells import safe_row
from pos_referral.domain.money import format_money
from pos_referral.domain.money_text import header_with_currency, money_text
from pos_referral.services.context import StoreContext
from pos_referral.services.promo import prompts
from pos_referral.services.proxy_offers.bearer import bearer_counts
from pos_referral.services.reports import analysis, sales_figures, sales_parts
from pos_referral.services.reports import fraud as reports_fraud
from pos_referral.services.reports import funnel as reports_funnel
from pos_referral.services.reports import money as reports_money
from pos_referral.services.reports import people as reports_people
from pos_referral.services.reports.date_range import DateRange, breathe
from pos_referral.services.reports.definitions import DEFINITIONS
from pos_referral.services.reports.rollup import quarter_hours
from pos_referral.services.reports.rollup.read import RAW_KEY
from pos_referral.services.unit_of_work import UnitOfWork

# name -> (title, [(key, header, kind)]); kind: text | int | money | ratio | time
TABLES: dict[str, tuple[str, list[tuple[str, str, str]]]] = {
    "funnel": ("Funnel", [("step", "Step", "text"), ("count", "Count", "int"),
                          ("conversion", "Conversion from previous step", "ratio")]),
    "kpis": ("Key figures", [("kpi", "Figure", "text"), ("value", "Value", "text"), ("key", "Key", "text")]),
    "channels": ("Landing visits per code by channel", [("channel", "Channel", "text"),
                                                        ("codes_issued", "Codes issued", "int"),
                                                        ("landing_visits", "Landing visits", "int"),
                                                ("scan_rate", "Visits per code", "ratio")]),
    "goals": ("Goals this month", [("program", "Program", "text"), ("month", "Month", "text"),
                                   ("new_referred_customers", "New referred customers", "int"),
                                   ("target", "Target", "int"), ("target_progress", "Progress", "ratio"),
                                   ("spent_minor", "Spent", "money"), ("budget_minor", "Budget", "money"),
                                   ("budget_used", "Budget used", "ratio")]),
    "trend": ("Daily trend", [("day", "Day", "text"), ("codes_issued", "Codes issued", "int"),
                              ("landing_visits", "Landing visits", "int"), ("friends_quoted", "Friends quoted", "int"),
                              ("redemptions", "Redemptions", "int")]),
    "top_referrers": ("Top referrers", [("first_name", "Name", "text"), ("contact", "Contact", "text"),
                                        ("friends_brought", "Friends brought", "int"),
                                        ("referred_revenue_minor", "Referred revenue", "money"),
                                        ("customer_id", "Customer id", "text")]),
    "invite": ("Best customers to invite", [("first_name", "Name", "text"), ("contact", "Contact", "text"),
                                            ("visit_days", "Days with a visit", "int"),
                                            ("customer_id", "Customer id", "text")]),
    "cashiers": ("Per till and cashier", [("till_id", "Till", "text"), ("staff", "Cashier", "text"),
                                          ("codes_issued", "Codes issued", "int"),
                                          ("redemptions", "Redemptions", "int")]),
    "unredeemed": ("Customers with unredeemed rewards", [
        ("first_name", "Name", "text"), ("contact", "Contact", "text"), ("vouchers", "Vouchers", "int"),
        ("vouchers_minor", "Voucher value", "money"), ("pending", "Pending", "int"),
        ("pending_minor", "Pending value", "money"), ("soonest_expiry", "Soonest expiry", "time"),
        ("customer_id", "Customer id", "text")]),
    "fraud": ("Fraud flags", [("kind", "Flag", "text"), ("at", "When", "time"), ("code", "Code", "text"),
                              ("till_id", "Till", "text"), ("detail", "Detail", "text")]),
    "reconciliation": ("Reconciliation (chain sync)", [("at", "When", "time"), ("kind", "Conflict", "text"),
                                                       ("store", "Store", "text"), ("subject", "Subject", "text"),
                                                       ("detail", "Detail", "text"), ("event_id", "Event", "text")]),
}


@dataclass
class Report:
    range: DateRange
    generated_at: datetime
    currency: str
    kpis: dict[str, Any] = field(default_factory=dict)
    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    columns: dict[str, list[tuple[str, str, str]]] = field(default_factory=dict)

    def table(self, name: str) -> tuple[list[tuple[str, str, str]], list[dict[str, Any]]]:
        return self.columns.get(name) or TABLES[name][1], self.tables.get(name, [])


def _kpi_rows(k: dict[str, Any]) -> list[dict[str, Any]]:
    spec: list[tuple[str, str, str]] = [
        ("Customers served", "customers_served", "int"), ("Participation rate", "participation_rate", "ratio"),
        ("Customers served holding a code", "code_holder_share", "ratio"),
        ("Referral conversion", "referral_conversion", "ratio"), ("Sales recorded", "sales_minor", "money"),
        ("Referred revenue", "referred_revenue_minor", "money"), ("Referred share of sales", "referred_share", "ratio"),
        ("Average basket, referred", "avg_basket_referred_minor", "money"),
        ("Average basket, other", "avg_basket_other_minor", "money"),
        ("Repeat-visit rate, referred", "repeat_rate_referred", "ratio"),
        ("Repeat-visit rate, other", "repeat_rate_other", "ratio"),
        ("Reward cost", "reward_cost_minor", "money"), ("Acquired customers", "acquired_customers", "int"),
        ("Cost per acquired customer", "cost_per_acquired_minor", "money"),
        ("Outstanding reward liability", "liability_minor", "money"),
        # the print proxy's codes for customers not known yet (services/proxy_offers): claimed on the landing page
        ("Receipt codes printed (print proxy)", "bearer_printed", "int"),
        ("Receipt codes claimed", "bearer_claimed", "int"), ("Receipt codes unclaimed", "bearer_unclaimed", "int"),
    ]
    return [{"kpi": label, "key": key, "value": fmt(k.get(key), kind), "raw": k.get(key), "kind": kind}
            for label, key, kind in spec]


def fmt(value: Any, kind: str) -> str:
    """A value as text for CSV and JSON: decimal strings for money, 4 places for ratios (the page: page_text)."""
    if value is None:
        return ""
    if kind == "money":
        return format_money(int(value))
    if kind == "ratio":
        return f"{value:.4f}"
    if kind == "time":
        return value.isoformat() if isinstance(value, datetime) else str(value)
    return str(value)


Part = Callable[[sa.Connection, DateRange, StoreContext, Report, int | None], None]


def _funnel(conn: sa.Connection, rng: DateRange, ctx: StoreContext, rep: Report, limit: int | None) -> None:
    steps, by_channel = reports_funnel.funnel(conn, rng)
    rep.tables["activity"] = [{"step": s.name, "count": s.count, "conversion": s.conversion} for s in steps]
    rep.tables["channels"] = reports_funnel.scan_rate_by_channel(conn, rng, by_channel)
    rep.kpis["codes_by_channel"] = by_channel


def _kpis(conn: sa.Connection, rng: DateRange, ctx: StoreContext, rep: Report, limit: int | None) -> None:
    converted, issued = reports_funnel.referral_conversion(conn, rng)
    rep.kpis.update(referral_conversion=reports_funnel.ratio(converted, issued), codes_converted=converted)
    rep.kpis.update(reports_people.visits(conn, rng))
    # participation is a share of every sale (issue 22): the customers this service sees all hold a code, so
    # their share is kept apart as what it is, and without a sales feed participation is not known (None)
    rep.kpis["code_holder_share"] = rep.kpis.pop("participation_rate")
    rep.kpis.update(sales_figures.figures(conn, rng))
    rep.kpis["participation_rate"] = rep.kpis["participation_of_sales"]
    rep.kpis.update(reports_money.sales(conn, rng))
    if rep.kpis["sales_feed"]:  # the shop reports every sale: the sales figures are over all of them
        rep.kpis["sales_minor"] = rep.kpis["all_sales_total_minor"]
        rep.kpis["referred_share"] = reports_funnel.ratio(rep.kpis["referred_revenue_minor"],
                                                          rep.kpis["all_sales_total_minor"])
        rep.kpis["avg_basket_other_minor"] = rep.kpis["avg_basket_other_all_minor"]
    rep.kpis.update(reports_money.cost(conn, rng))
    rep.kpis.update(reports_money.liability(conn, rep.generated_at, rng.store_no))
    rep.kpis.update({f"bearer_{k}": v for k, v in bearer_counts(conn, rng.start, rng.end, rng.store_no).items()})
    rep.tables["kpis"] = _kpi_rows(rep.kpis)


PARTS: dict[str, Part] = {
    "activity": _funnel,
    "kpis": _kpis,
    "goals": lambda c, r, x, rep, n: rep.tables.__setitem__("goals", reports_money.goals(c, r, x.settings.programs)),
    "trend": lambda c, r, x, rep, n: rep.tables.__setitem__("trend", reports_funnel.trend(c, r)),
    "top_referrers": lambda c, r, x, rep, n: rep.tables.__setitem__(
        "top_referrers", reports_people.top_referrers(c, r, n)),
    "invite": lambda c, r, x, rep, n: rep.tables.__setitem__("invite", reports_people.to_invite(c, r, n)),
    "cashiers": lambda c, r, x, rep, n: rep.tables.__setitem__("cashiers", reports_people.per_cashier(c, r)),
    "unredeemed": lambda c, r, x, rep, n: rep.tables.__setitem__(
        "unredeemed", reports_people.unredeemed_rewards(c, rep.generated_at, n, r.store_no)),
    "fraud": lambda c, r, x, rep, n: rep.tables.__setitem__("fraud", reports_fraud.fraud_flags(
        c, r, lambda minor: money_text(minor, rep.currency, x.settings.config.store.language))),
    "reconciliation": lambda c, r, x, rep, n: rep.tables.__setitem__(
        "reconciliation", reports_fraud.reconciliation(c, r.store_no)),
}
PARTS["channels"] = _funnel
TABLES["card_offers"] = prompts.OFFER_TABLE  # the till's after-sale "referral card?" prompt (issue 7)
PARTS["card_offers"] = lambda c, r, x, rep, n: rep.tables.__setitem__(
    "card_offers", prompts.offer_rows(c, r.start, r.end, r.store_no))
analysis.register(TABLES, PARTS)  # the honest funnel (and "activity"), A/B, budget warnings, ambassadors


# issue 22, every sale seen: figures over the sales feed, shares, per cashier, who to invite (sales_parts.py)
TABLES.update(sales_parts.TABLES)
PARTS.update(sales_parts.PARTS)
DEFINITIONS.update(sales_parts.DEFINITIONS)  # each sales table's one line, with the others (definitions.py)


def build_report(ctx: StoreContext, rng: DateRange, *, parts: Iterable[str] | None = None,
                 limit: int | None = 10, timings: dict[str, float] | None = None, raw: bool = False) -> Report:
    """Compute the named parts (default: all) on one read snapshot; ``limit`` caps the people lists.

    The rollup (``rollup/quarter_hours.py``) is caught up first; ``raw=True`` skips it and reads only raw rows
    (slow on a big history; the tests use it to check that both ways give the same figures).
    """
    started = time.perf_counter()
    if not raw:
        quarter_hours.catch_up(ctx.db, rng.tz, ctx.clock())
    if timings is not None:
        timings["catch_up"] = time.perf_counter() - started
    rep = Report(range=rng, generated_at=ctx.clock(), currency=ctx.settings.config.store.currency)
    wanted = list(dict.fromkeys(parts or PARTS))
    with UnitOfWork(ctx.db, write=False) as read:
        conn = read.conn
        conn.info[RAW_KEY] = raw
        try:
            done: set[Part] = set()
            for name in wanted:
                part = PARTS[name]
                if part in done:
                    continue
                started = time.perf_counter()
                part(conn, rng, ctx, rep, limit)
                done.add(part)
                if timings is not None:
                    timings[name] = time.perf_counter() - started
        finally:
            conn.info.pop(RAW_KEY, None)
    return rep


def page_text(value: Any, kind: str, currency: str, lang: str) -> str:
    """A value as the dashboard page shows it: money as people read it in ``lang`` (``"51 569,28 kr"``)."""
    if kind == "money" and value is not None:
        return money_text(int(value), currency, lang)
    return fmt(value, kind)


def rows_as_text(report: Report, name: str) -> tuple[list[str], Iterator[list[str]]]:
    """CSV headers and cells: money cells stay plain numbers and their header names the currency
    (``"Spent (EUR)"``); a key figure in money says so in its own label (``"Reward cost (EUR)"``)."""
    columns, rows = report.table(name)
    headers = [header_with_currency(h, report.currency) if kind == "money" else h for _, h, kind in columns]

    def cells(row: dict[str, Any]) -> list[str]:
        out = [fmt(row.get(key), kind) for key, _, kind in columns]
        if name == "kpis" and row.get("kind") == "money":
            out[0] = header_with_currency(out[0], report.currency)
        return out

    return headers, (cells(row) for row in rows)


def to_csv(report: Report, name: str) -> Iterator[str]:
    """The table as CSV text, in chunks of about a hundred rows (streamed by the web export and the CLI).

    Every cell goes through ``csv_cells.safe_row``: text a spreadsheet would run as a formula (a customer
    named ``=HYPERLINK(...)``) is written as text; numbers, negative ones included, stay numbers.
    """
    headers, rows = rows_as_text(report, name)
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(safe_row(list(headers)))
    for i, row in enumerate(rows, 1):
        writer.writerow(safe_row(list(row)))
        breathe(i)
        if i % 100 == 0:
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue()


def json_key(key: str, kind: str) -> str:
    """A column's JSON key: money is a major-unit decimal string there, so ``*_minor`` loses its suffix."""
    return key[: -len("_minor")] if kind == "money" and key.endswith("_minor") else key


def typed(value: Any, kind: str) -> Any:
    """A value as JSON holds it: counts integers, rates numbers, money a decimal string in major units."""
    if value is None:
        return None
    if kind == "int":
        return int(value)
    if kind == "ratio":
        return round(float(value), 6)
    if kind == "money":
        return format_money(int(value))
    if kind == "time":
        return value.isoformat() if isinstance(value, datetime) else str(value)
    return str(value)


_UNIT = {"int": "count", "ratio": "rate", "money": "money", "text": "text", "time": "time"}


def to_json(report: Report) -> dict[str, Any]:
    """The whole report as JSON-ready data, typed (``typed``); key figures also as ``figures`` by key.

    Before issue 22 every value was a string and major-unit money sat under ``*_minor`` keys: the keys now say
    what they hold (``referred_revenue``: "50.00"); a kpis row carries its ``unit`` and ``definition``.
    """
    out: dict[str, Any] = {"from": report.range.first.isoformat(), "to": report.range.last.isoformat(),
                           "timezone": report.range.tz.key, "currency": report.currency,
                           "store": None if report.range.store_no is None else f"S{report.range.store_no:03d}",
                           "generated_at": report.generated_at.isoformat(), "tables": {}, "figures": {},
                           "definitions": {k: v for k, v in DEFINITIONS.items() if k in report.tables or any(
                               k == row.get("key") for row in report.tables.get("kpis", []))}}
    for name in report.tables:
        columns, rows = report.table(name)
        if name == "kpis":
            out["tables"][name] = [{"kpi": row["kpi"], "key": json_key(row["key"], row["kind"]),
                                    "value": typed(row.get("raw"), row["kind"]), "unit": _UNIT[row["kind"]],
                                    "definition": DEFINITIONS.get(row["key"], "")} for row in rows]
            out["figures"] = {r["key"]: r["value"] for r in out["tables"][name]}
            continue
        out["tables"][name] = [{json_key(key, kind): typed(row.get(key), kind) for key, _, kind in columns}
                               for row in rows]
    return out
