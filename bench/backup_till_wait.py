"""How long a till's redemption waits while the database is being backed up.

Builds a shop with a realistic history (services/demo.py), then redeems one friend after another through
the real app (one till), first with no backup running and then while backups run back to back in another
thread (services/backups/backup.take_backup, as ``serve`` does), and prints the redemption times of both phases.
A backup takes no write lock (one read snapshot in WAL mode), so the difference is disk contention only.

    python bench/backup_till_wait.py [--customers 200000] [--referrals 100000] [--seconds 10]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pos_referral import create_app
from pos_referral.bootstrap import build_store
from pos_referral.config import load_settings
from pos_referral.resources import config_dir
from pos_referral.services.backups.backup import Backup, take_backup
from pos_referral.services.demo import DemoPlan, generate
from pos_referral.services.tills import add_till


def _ms(values: list[float], q: float) -> float:
    """The nearest-rank percentile, in milliseconds."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))] * 1000


def main() -> None:
    args = argparse.ArgumentParser()
    args.add_argument("--customers", type=int, default=200_000)
    args.add_argument("--referrals", type=int, default=100_000)
    args.add_argument("--seconds", type=float, default=10.0)
    opts = args.parse_args()
    root = Path(tempfile.mkdtemp(prefix="backup-bench-"))
    try:
        shutil.copytree(config_dir(), root / "config")
        toml = root / "config" / "store.toml"
        toml.write_text(toml.read_text().replace('type = "preview"', 'type = "none"'))
        settings = load_settings(toml, data_dir=root / "data", environ={})
        store = build_store(settings)
        started = time.perf_counter()
        generate(store.ctx, DemoPlan(opts.customers, opts.referrals))
        db_size = (root / "data" / "pos-referral.db").stat().st_size
        print(f"history: {opts.customers} customers, {opts.referrals} referrals, {db_size / 1e6:.0f} MB "
              f"({time.perf_counter() - started:.0f} s)")
        client = create_app(store=store, test_config={"TESTING": True}).test_client()
        headers = {"Authorization": f"Bearer {add_till(store.ctx, 'T1')}"}
        counter = iter(range(10**9))

        def redeem() -> float:
            n = next(counter)
            code = client.post("/api/v1/referral-codes", json={"customer": {"phone": f"+4794{n:07d}"}},
                               headers=headers).get_json()["code"]
            t0 = time.perf_counter()
            r = client.post("/api/v1/redemptions", headers={**headers, "Idempotency-Key": f"b{n}"}, json={
                "code": code, "sale_id": f"B{n}", "basket_total": "50.00", "customer": {"email": f"b{n}@example.com"}})
            assert r.status_code == 201, r.get_json()
            return time.perf_counter() - t0

        def phase(seconds: float, until: Callable[[], bool] = lambda: True) -> list[float]:
            times, end = [], time.perf_counter() + seconds
            while time.perf_counter() < end or not until():
                times.append(redeem())
            return times

        quiet = phase(opts.seconds)
        stop, backups = threading.Event(), list[Backup]()

        def back_up() -> None:
            at = datetime.now(UTC)
            while not stop.is_set():
                at += timedelta(seconds=1)
                backups.append(take_backup(settings, now=at))

        worker = threading.Thread(target=back_up)
        worker.start()
        busy = phase(opts.seconds, until=lambda: len(backups) >= 2)  # at least two whole backups
        stop.set()
        worker.join()
        store.close()
        for name, times in (("no backup", quiet), ("during backups", busy)):
            print(f"redemption {name}: n={len(times)} p50 {_ms(times, 0.5):.1f} ms, p99 {_ms(times, 0.99):.1f} ms, "
                  f"max {max(times) * 1000:.1f} ms")
        secs = [b.seconds for b in backups]
        print(f"backups: {len(backups)} of {backups[0].size / 1e6:.0f} MB, {min(secs):.2f}-{max(secs):.2f} s each "
              "(copy + integrity check + fsync)")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
