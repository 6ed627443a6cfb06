"""Till latency: quote and redemption over HTTP on loopback against `pos-referral serve`.

Prints p50/p99 latency and throughput at 1, 4 and 16 concurrent clients, beside a bare baseline
measured in the same run (bench/baseline_app.py: a minimal WSGI app under the same waitress
settings doing one SQLite read, and one durable SQLite write), and the ratios the issue targets.

`pos-referral serve` answers quotes on waitress's loop thread (pos_referral/web/waitress_inline.py);
the issue's baseline is stock waitress, whose worker-thread hand-off is most of a bare read's cost.
So the same bare read is also measured answered on the loop thread ("baseline read, inline"), and
the quote's ratios are printed against both.

    python bench/till_latency.py [--seconds 4] [--threads 8] [--slices 4] [--clients 1 4 16] [--repeat 1]

Each measurement is cut into ``--slices`` parts taken in turn with the others (baseline, quote,
baseline, quote, ...), so a shared machine's drifting load falls on both sides of every ratio.
``--repeat N`` measures every client row N times over (each time with its own baseline) and ends
with the median and range of each ratio: on a machine whose speed drifts by a quarter between runs,
one run's ratio says little about a target a few percent away.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.server_support import Server, free_port, make_config

Request = Callable[[int, int], tuple[str, str, bytes, dict[str, str]]]
Results = dict[str, tuple[float, float, float, int]]  # per measurement: p50 ms, p99 ms, req/s, errors

# the targets: (what, limit, whether higher is better); their values per run from target_values
TARGETS = [("quote p99 ratio", 2.0, False), ("quote throughput ratio", 0.5, True),
           ("redemption rate ratio", 0.4, True), ("redemptions/s", 300.0, True)]


def target_values(r: Results) -> dict[str, float]:
    """One run's value of each target in TARGETS (the quote against the stock baseline read)."""
    q, b, red, w = r["quote"], r["baseline read"], r["redemption"], r["baseline durable write"]
    return {"quote p99 ratio": q[1] / b[1], "quote throughput ratio": q[2] / b[2],
            "redemption rate ratio": red[2] / w[2], "redemptions/s": red[2]}


def run_load(port: int, clients: int, seconds: float, make: Request) -> tuple[list[float], int]:
    """``clients`` threads, each on one keep-alive connection, for ``seconds``; returns latencies (ms)."""
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors = [0]
    stop_at = time.perf_counter() + seconds

    def worker(n: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        i = 0
        while time.perf_counter() < stop_at:
            method, path, body, headers = make(n, i)
            t0 = time.perf_counter()
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            resp.read()
            latencies[n].append((time.perf_counter() - t0) * 1000)
            if resp.status >= 400:
                errors[0] += 1
            i += 1
        conn.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return [x for per in latencies for x in per], errors[0]


def summary(lat: list[float], seconds: float) -> tuple[float, float, float]:
    lat = sorted(lat)
    p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
    return statistics.median(lat), p99, len(lat) / seconds


def commit_probe(path: Path, tables: int, n: int = 150) -> tuple[float, float]:
    """(p50, mean) ms of a durable commit (WAL, synchronous=FULL) writing ~2 pages per table, on this disk now.

    One table is the baseline's write; 18 tables touch about as many pages as a redemption (see
    the WAL frames line), so the two show what the disk alone charges each, in the same run."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    for t in range(tables):
        conn.execute(f"CREATE TABLE IF NOT EXISTS t{t} (id INTEGER PRIMARY KEY, k TEXT)")
        conn.execute(f"CREATE INDEX IF NOT EXISTS i{t} ON t{t} (k)")
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        for t in range(tables):
            conn.execute(f"INSERT INTO t{t} (k) VALUES (?)", (os.urandom(16).hex(),))
        conn.execute("COMMIT")
        times.append((time.perf_counter() - t0) * 1000)
    conn.close()
    return statistics.median(times), statistics.mean(times)


def wal_frames_per_redemption(db: Path, redeem_one: Callable[[], None], n: int = 20) -> float:
    """Pages a redemption commits: WAL frames written by ``n`` redemptions in a row, divided by ``n``."""
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        for _ in range(n):
            redeem_one()
        return float(conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()[1]) / n
    finally:
        conn.close()


def print_spread(rows: list[tuple[int, Results]]) -> None:
    """Median and range, over the repeated runs, of each target's value per client count."""
    print("over the repeated runs: median (min-max) [runs meeting the target]")
    for clients in dict.fromkeys(c for c, _ in rows):
        runs = [target_values(r) for c, r in rows if c == clients]
        for what, limit, higher in TARGETS:
            values = [run[what] for run in runs]
            met = sum(v >= limit if higher else v <= limit for v in values)
            label = f"{what} ({'>=' if higher else '<='} {limit:g})"
            print(f"{clients:>3} clients: {label:<32} {statistics.median(values):>8.2f} "
                  f"({min(values):.2f}-{max(values):.2f}) [{met} of {len(values)}]")
    print()


def wait_port(port: int) -> None:
    for _ in range(300):
        try:
            http.client.HTTPConnection("127.0.0.1", port, timeout=1).request("GET", "/")
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("baseline did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--threads", type=int, default=8, help="waitress threads (both servers)")
    parser.add_argument("--slices", type=int, default=4, help="interleaved parts of each measurement")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 4, 16], help="client counts to measure")
    parser.add_argument("--repeat", type=int, default=1, help="measure the client rows this many times over")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="till-bench-"))
    config = make_config(root, {"max_count = 10": "max_count = 0", 'max_amount = "100.00"': 'max_amount = "0"'})
    server = Server(config, root / "data")
    token = server.add_till()
    server.start(threads=args.threads)
    code = server.call("POST", "/api/v1/referral-codes", {"customer": {"phone": "+4790000001"}})[1]["code"]
    auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def quote(n: int, i: int) -> tuple[str, str, bytes, dict[str, str]]:
        body = {"code": code, "basket_total": "42.50", "customer": {"email": f"q{n}-{i}@example.com"}}
        return "POST", "/api/v1/checkouts/quote", json.dumps(body).encode(), auth

    run_id = [0]

    def redeem(n: int, i: int) -> tuple[str, str, bytes, dict[str, str]]:
        key = f"{run_id[0]}-{n}-{i}"
        body = {"code": code, "sale_id": f"S{key}", "basket_total": "42.50",
                "customer": {"email": f"r{key}@example.com"}}
        return "POST", "/api/v1/redemptions", json.dumps(body).encode(), {**auth, "Idempotency-Key": key}

    base_port = free_port()
    baseline = subprocess.Popen([sys.executable, str(Path(__file__).with_name("baseline_app.py")),
                                 str(root / "baseline.db"), str(base_port), str(args.threads)])
    inline_port = free_port()
    inline = subprocess.Popen([sys.executable, str(Path(__file__).with_name("baseline_app.py")),
                               str(root / "inline.db"), str(inline_port), str(args.threads), "inline"])
    floor_port = free_port()
    floor = subprocess.Popen([sys.executable, str(Path(__file__).with_name("baseline_app.py")),
                              str(root / "floor.db"), str(floor_port), str(args.threads), "flask"])
    wait_port(base_port)
    wait_port(inline_port)
    wait_port(floor_port)

    def floor_read(n: int, i: int) -> tuple[str, str, bytes, dict[str, str]]:
        return "POST", "/read", b'{"code": "0ABCDEFGHJKMNP"}', {"Content-Type": "application/json"}

    def base_read(n: int, i: int) -> tuple[str, str, bytes, dict[str, str]]:
        return "GET", "/read", b"", {}

    def base_write(n: int, i: int) -> tuple[str, str, bytes, dict[str, str]]:
        return "POST", "/write", json.dumps({"n": n, "i": i}).encode(), {"Content-Type": "application/json"}

    rows: list[tuple[int, Results]] = []
    probes: dict[int, tuple[float, float, float, float]] = {}
    try:
        for clients in [c for _ in range(max(1, args.repeat)) for c in args.clients]:
            run_load(server.port, clients, 0.5, quote)  # warm up
            part = args.seconds / args.slices
            collected: dict[str, tuple[list[float], int]] = {}
            for _ in range(args.slices):
                for name, port, fn in (("baseline read", base_port, base_read),
                                       ("baseline read, inline", inline_port, base_read),
                                       ("flask floor (context)", floor_port, floor_read),
                                       ("quote", server.port, quote),
                                       ("baseline durable write", base_port, base_write),
                                       ("redemption", server.port, redeem)):
                    run_id[0] += 1
                    lat, errors = run_load(port, clients, part, fn)
                    seen, failed = collected.get(name, ([], 0))
                    collected[name] = (seen + lat, failed + errors)
            results = {name: (*summary(lat, args.seconds), errors) for name, (lat, errors) in collected.items()}
            rows.append((clients, results))
            probes[clients] = (*commit_probe(root / f"probe1-{clients}.db", 1),
                               *commit_probe(root / f"probe18-{clients}.db", 18))

        def redeem_one() -> None:
            run_id[0] += 1
            method, path, body, headers = redeem(0, 0)
            status, _ = server.call(method, path, json.loads(body), {"Idempotency-Key": headers["Idempotency-Key"]})
            assert status == 201, status

        frames = wal_frames_per_redemption(root / "data" / "pos-referral.db", redeem_one)
    finally:
        baseline.terminate()
        inline.terminate()
        floor.terminate()
        server.stop()

    print(f"{'clients':>7} {'what':<24} {'p50 ms':>8} {'p99 ms':>8} {'req/s':>8} {'errors':>6}")
    for clients, results in rows:
        for name, (p50, p99, rps, errors) in results.items():
            print(f"{clients:>7} {name:<24} {p50:>8.2f} {p99:>8.2f} {rps:>8.0f} {errors:>6}")
    print()
    print("ratios (target): quote p99 / baseline read p99 <= 2.0 at 4 and 16; quote req/s / baseline >= 0.5;")
    print("                 redemptions/s / baseline durable writes/s >= 0.4 and redemptions/s >= 300")
    for clients, r in rows:
        q, red, w, i = r["quote"], r["redemption"], r["baseline durable write"], r["baseline read, inline"]
        v = target_values(r)
        print(f"{clients:>3} clients: quote p99 ratio {v['quote p99 ratio']:.2f}, "
              f"quote throughput ratio {v['quote throughput ratio']:.2f}, "
              f"redemption rate ratio {v['redemption rate ratio']:.2f} ({red[2]:.0f}/s vs {w[2]:.0f}/s); "
              f"quote throughput / empty Flask route {q[2] / r['flask floor (context)'][2]:.2f}")
        print(f"             against the inline baseline read: quote p99 ratio {q[1] / i[1]:.2f}, "
              f"quote throughput ratio {q[2] / i[2]:.2f}")
    print()
    if args.repeat > 1:
        print_spread(rows)
    print(f"disk, same run: a redemption commits {frames:.1f} WAL pages (the baseline write 2-3); a durable commit of")
    for clients, (p1, m1, p18, m18) in probes.items():
        print(f"  after the {clients:>2}-client row: ~2 pages p50 {p1:.2f} ms (mean {m1:.2f}), "
              f"~36 pages p50 {p18:.2f} ms (mean {m18:.2f})")


if __name__ == "__main__":
    main()
