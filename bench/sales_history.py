"""The generated history of bench/sales_reports.py and the timings of the sales figures over it.

Rows go straight into the store's SQLite file (sqlite3, one transaction per 100,000 rows): ``customers``
with a keyed-hash stand-in and a hint, and ``sales`` spread evenly over three years up to the bench's
"now", 40 % of them naming one of the customers (a few regulars buy often), 8 cashiers, 3 tills.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from pos_referral.services.reports import dashboard as reports
from pos_referral.services.reports.date_range import parse_range
from pos_referral.services.reports.rollup import sales_days

CASHIERS = ("Ann", "Bob", "Cai", "Dag", "Eva", "Fia", "Gro", "Hal")
PARTS = ["sales", "shares", "cashier_activity", "invite"]
YEARS = 3


def _stamp(moment: Any) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")


def generate(path: Path, now: Any, sales: int, customers: int) -> None:
    rnd = random.Random(22)
    db = sqlite3.connect(path)
    have = db.execute("SELECT count(*) FROM sales").fetchone()[0]
    if have >= sales:
        db.close()
        return
    t0 = time.perf_counter()
    made = _stamp(now - timedelta(days=366 * YEARS))
    db.executemany("INSERT OR IGNORE INTO customers (id, identity_hash, identity_hint, first_name, language, "
                   "store_no, created_at) VALUES (?, ?, ?, ?, 'en', 1, ?)",
                   ((f"c{i:031d}", f"h{i:063d}", f"+47 *** ** {i % 1000:03d}", f"N{i % 997}", made)
                    for i in range(customers)))
    db.commit()
    span = 366 * YEARS * 86400
    start = now - timedelta(seconds=span)
    for lo in range(have, sales, 100_000):
        rows = []
        for i in range(lo, min(lo + 100_000, sales)):
            at = start + timedelta(seconds=span * i / sales + rnd.random())
            who = None
            if rnd.random() < 0.4:  # a named customer; a fifth of them are regulars with most visits
                who = f"c{int(customers * rnd.random() ** 3):031d}"
            rows.append((f"B{i}", _stamp(at), rnd.randint(100, 30000), who, CASHIERS[i % 8], f"T{i % 3 + 1}",
                         "till" if i % 10 == 0 else "api"))
        db.executemany("INSERT INTO sales (sale_id, at, total_minor, customer_id, cashier, till_id, source) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
        db.commit()
    db.close()
    print(f"   generated {sales - have:,} sales and {customers:,} customers in {time.perf_counter() - t0:.0f} s")


def _median(fn: Callable[[], Any], runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def run_reports(args: argparse.Namespace, open_store: Callable[[Path], Any], now: datetime) -> None:
    NOW = now  # the history's fixed 'now', given by bench/sales_reports.py
    data = args.data_dir or Path(__import__("tempfile").mkdtemp(prefix="sales-history-")) / "data"
    store = open_store(data)
    try:
        print(f"2. history and summaries ({data}):")
        generate(data / "pos-referral.db", NOW, args.sales, args.customers)
        t0 = time.perf_counter()
        folded = sales_days.refresh(store.db, store.ctx.tz)
        print(f"   summaries built: {folded:,} sales folded in {time.perf_counter() - t0:.1f} s")
        generate(data / "pos-referral.db", NOW, args.sales + 1000, args.customers)
        t0 = time.perf_counter()
        folded = sales_days.refresh(store.db, store.ctx.tz)
        print(f"   catch-up after {folded:,} new sales: {(time.perf_counter() - t0) * 1000:.0f} ms")
        print("3. figures (median of 5; ms):")
        last = NOW.date()
        for label, days in (("30 days", 30), ("3 years", 366 * YEARS - 1)):
            rng = parse_range((last - timedelta(days=days - 1)).isoformat(), last.isoformat(), store.ctx.tz,
                              store.ctx.clock())
            for part in PARTS:
                ms = _median(lambda part=part, rng=rng: reports.build_report(store.ctx, rng, parts=[part]), 5)
                print(f"   {label:8s} {part:18s} {ms:8.1f}")
            ms = _median(lambda rng=rng: reports.build_report(store.ctx, rng, parts=PARTS), 3)
            print(f"   {label:8s} {'all four':18s} {ms:8.1f}")
            if days == 30 or args.raw_years:
                ms = _median(lambda rng=rng: reports.build_report(store.ctx, rng, parts=PARTS, raw=True), 1)
                print(f"   {label:8s} {'raw rows (no summary)':18s} {ms:8.1f}")
    finally:
        store.close()
