"""The sales reports at scale: 3,000,000 sales over three years, and the quote of a known customer.

Prints, in one run:
  1. the in-process quote of a customer the store knows (with a sale, and with none): the "has bought
     here" question now also asks ``sales`` (one indexed EXISTS), so this is its cost;
  2. the sales summaries (services/reports/rollup/sales_days.py) built from scratch over the generated
     history, and a catch-up after 1,000 new sales;
  3. each sales figure (services/reports/sales_figures.py, cashiers.py, shares.py) for the last 30 days
     and the last 3 years, from the summaries and from the raw rows (median of runs).

    python bench/sales_reports.py [--data-dir DIR] [--sales 3000000] [--customers 300000] [--quote-only]

The history is written straight into a new store's database (``sales`` and ``customers`` rows; a known
customer on 40 % of the sales) unless DIR already holds it.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.sales_history import run_reports
from pos_referral.bootstrap import Store, build_store
from pos_referral.config import load_settings
from pos_referral.resources import config_dir
from pos_referral.services import checkout, referral_codes, sales
from pos_referral.services.customers import CustomerInput

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def median_ms(fn: Callable[[], Any], runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def open_store(data_dir: Path) -> Store:
    cfg = data_dir.parent / "config"
    if not cfg.exists():
        shutil.copytree(config_dir(), cfg)
    settings = load_settings(cfg / "store.toml", data_dir=data_dir, environ={})
    return build_store(settings, clock=lambda: NOW)


def bench_quote(store: Store) -> None:
    ctx = store.ctx
    code = referral_codes.issue_code(ctx, CustomerInput.parse({"phone": "+4790000001"}), channel="api",
                                     till_id="T1").code
    buyer = CustomerInput.parse({"email": "buyer@example.com"})
    sales.record_sale(ctx, sales.SaleSeen(sale_id="bench-buyer", total_minor=1000, source="api", customer=buyer))
    referral_codes.issue_code(ctx, CustomerInput.parse({"email": "card@example.com"}), channel="card", till_id="T1")
    cases = {"unknown customer": CustomerInput.parse({"email": "new@example.com"}),
             "known, with a sale": buyer,
             "known, no purchase (card only)": CustomerInput.parse({"email": "card@example.com"})}
    print("1. in-process quote (median of 2000, one thread):")
    for label, who in cases.items():
        ms = median_ms(lambda who=who: checkout.quote(ctx, code, 4250, who, till_id="T1"), 2000)
        print(f"   {label:32s} {ms:.3f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path)
    parser.add_argument("--sales", type=int, default=3_000_000)
    parser.add_argument("--customers", type=int, default=300_000)
    parser.add_argument("--quote-only", action="store_true")
    parser.add_argument("--raw-years", action="store_true", help="also time the 3-year figures on raw rows (slow)")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="sales-bench-"))
    store = open_store(root / "data")
    try:
        bench_quote(store)
    finally:
        store.close()
    if args.quote_only:
        return
    run_reports(args, open_store, NOW)


if __name__ == "__main__":
    main()
