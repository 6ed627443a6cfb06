"""How long the print proxy waits for the referral side: ``ProxyFooter.footer_for`` per receipt.

    python bench/proxy_footer.py [--receipts 300] [--profile TM-T88V]

The proxy waits at most ``[proxy] footer_timeout_ms`` (100 ms) and prints the receipt unchanged when
the answer is late, so the footer's p99 must stay well under that. Three paths, on a new store (SQLite
WAL, synchronous=FULL) in a temporary folder:

- ``code``: offer = "every": read the receipt, record the sale, issue a bearer code, render the footer;
- ``no code``: offer = "armed", not armed: read the receipt, record the sale, find no arm;
- ``render only``: the footer template to ESC/POS for a code that exists (no database).

Each receipt path runs twice: spaced (the previous receipt's sale recorded before the next receipt,
as at a till) and as a burst (back to back: the background sale commits compete with the codes').
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pos_referral.bootstrap import build_store
from pos_referral.config import load_settings
from pos_referral.printing.escpos_renderer import RendererConfig
from pos_referral.proxy.footer import ReceiptSeen
from pos_referral.resources import config_dir
from pos_referral.services.proxy_offers.footer import ProxyFooter

RECEIPT = """\
        CORNER COFFEE
Receipt No: R-{n:06d}        15/06/2026
Flat white              3.50
Croissant x2            5.00
Subtotal                8.50
TOTAL                  23.40
Cash                   50.00
"""


def percentiles(samples: list[float]) -> tuple[float, float, float]:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return statistics.median(ordered), p99, ordered[-1]


def timed(call: Callable[[int], object], count: int, between: Callable[[], None] = lambda: None) -> list[float]:
    out = []
    for n in range(count):
        t0 = time.perf_counter()
        call(n)
        out.append((time.perf_counter() - t0) * 1000)
        between()
    return out


def run(footer: ProxyFooter, label: str, count: int, rows: list[tuple[str, float, float, float]]) -> int:
    """Time ``count`` receipts spaced and as a burst (and, with codes, the render alone); the footer's size."""
    def receipt(n: int) -> object:
        return footer.footer_for(ReceiptSeen(RECEIPT.format(n=n), "bench"))

    receipt(999_999)  # warm: templates, statements
    # receipts come seconds apart at a till: the previous sale's commit is done (drain, untimed)
    rows.append((label, *percentiles(timed(receipt, count, footer.drain))))
    rows.append((label + ", burst", *percentiles(timed(lambda n: receipt(count + n), count))))
    footer.close()
    if label != "code":
        return 0
    code = "0WBMKM199A2RWT"
    rows.append(("render only", *percentiles(timed(lambda n: footer.render(code), count))))
    return len(footer.render(code))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--receipts", type=int, default=300)
    parser.add_argument("--profile", default="TM-T88V")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="proxy-footer-bench-"))
    try:
        shutil.copytree(config_dir(), root / "config")
        rows: list[tuple[str, float, float, float]] = []
        size = 0
        for label, offer in (("code", "every"), ("no code", "armed")):
            settings = load_settings(root / "config" / "store.toml", data_dir=root / f"data-{offer}", environ={},
                                     overrides={"proxy": {"offer": offer}, "printer": {"profile": args.profile}})
            store = build_store(settings)
            try:
                size = max(size, run(ProxyFooter(store.ctx, RendererConfig(profile=args.profile)), label,
                                     args.receipts, rows))
            finally:
                store.close()
        print(f"footer_for, {args.receipts} receipts, profile {args.profile}; footer {size} bytes")
        print(f"{'path':<16} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
        for label, p50, p99, worst in rows:
            print(f"{label:<16} {p50:8.2f} {p99:8.2f} {worst:8.2f}")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
