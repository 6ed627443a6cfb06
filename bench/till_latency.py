"""Till latency: quote and redemption over HTTP on loopback against `pos-referral serve`.

Prints p50/p99 latency and throughput at 1, 4 and 16 concurrent clients beside a Flask baseline
measured in the same run (bench/baseline_app.py: a minimal Flask app under stock waitress with the
same threads, doing one SQLite read with SQLAlchemy Core, and one durable insert for context), the
quote's ratios against the baseline's read, and which of TARGETS are met.

    python bench/till_latency.py [--seconds 4] [--threads 8] [--slices 4] [--clients 1 4 16] [--repeat 1]

Each measurement is cut into ``--slices`` parts taken in turn with the others (baseline read,
quote, baseline write, redemption, baseline read, ...), so a shared machine's drifting load falls
on both sides of every ratio. ``--repeat N`` measures every client row N times over and judges
each target on the median of its N values (range and how many runs met it beside). A run with a
failed request meets no target.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.server_support import Server, free_port, make_config

Request = Callable[[int, int], tuple[str, str, bytes, dict[str, str]]]


class Row(NamedTuple):
    p50: float  # ms
    p99: float  # ms
    rps: float
    errors: int


Results = dict[str, Row]  # per measurement, one client count, one run
READ, QUOTE, WRITE, REDEMPTION = "Flask baseline read", "quote", "Flask baseline write", "redemption"


@dataclass(frozen=True)
class Target:
    what: str
    limit: float
    higher: bool  # whether higher is better
    clients: tuple[int, ...] | None  # the client counts it is judged at (None: every one measured)
    value: Callable[[Results], float]

    def met(self, value: float) -> bool:
        return value >= self.limit if self.higher else value <= self.limit

    def label(self) -> str:
        return f"{self.what} {'>=' if self.higher else '<='} {self.limit:g}"


TARGETS = (
    Target("quote p99 / baseline read p99", 1.5, False, (4, 16), lambda r: r[QUOTE].p99 / r[READ].p99),
    Target("quote req/s / baseline read req/s", 0.6, True, None, lambda r: r[QUOTE].rps / r[READ].rps),
    Target("redemptions/s (durable)", 300.0, True, (16,), lambda r: r[REDEMPTION].rps),
    Target("redemption p99 ms", 50.0, False, (16,), lambda r: r[REDEMPTION].p99),
)


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
    """(p50 ms, p99 ms, requests/s) of latencies gathered over ``seconds``."""
    lat = sorted(lat)
    p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
    return statistics.median(lat), p99, len(lat) / seconds


def measure(loads: dict[str, tuple[int, Request]], clients: int, seconds: float, slices: int) -> Results:
    """Every load for ``seconds`` in all, in ``slices`` parts taken in turn, after a short warm-up of each."""
    for port, make in loads.values():
        run_load(port, clients, 0.25, make)
    collected: dict[str, tuple[list[float], int]] = {name: ([], 0) for name in loads}
    for _ in range(slices):
        for name, (port, make) in loads.items():
            lat, errors = run_load(port, clients, seconds / slices, make)
            seen, failed = collected[name]
            collected[name] = (seen + lat, failed + errors)
    return {name: Row(*summary(lat, seconds), errors) for name, (lat, errors) in collected.items()}


def print_rows(rows: list[tuple[int, Results]]) -> None:
    print(f"{'clients':>7} {'what':<22} {'p50 ms':>8} {'p99 ms':>8} {'req/s':>8} {'errors':>6}")
    for clients, results in rows:
        for name, row in results.items():
            print(f"{clients:>7} {name:<22} {row.p50:>8.2f} {row.p99:>8.2f} {row.rps:>8.0f} {row.errors:>6}")
    print()
    print("quote against the Flask baseline read, same run:")
    for clients, r in rows:
        print(f"{clients:>3} clients: p99 {r[QUOTE].p99 / r[READ].p99:.2f}x, req/s {r[QUOTE].rps / r[READ].rps:.2f}x")
    print()


def print_targets(rows: list[tuple[int, Results]]) -> None:
    """Each target at each client count it applies to, judged on the median over the runs; a run with
    any failed request (in any row) meets no target."""
    counts = list(dict.fromkeys(c for c, _ in rows))
    repeated = len(rows) > len(counts)
    print("targets" + (": median (min-max) [runs meeting it]" if repeated else ""))
    for target in TARGETS:
        for clients in target.clients or counts:
            runs = [r for c, r in rows if c == clients]
            if not runs:
                print(f"  {target.label():<42} {clients:>2} clients: not measured")
                continue
            values = [target.value(r) for r in runs]
            clean = [not any(row.errors for row in r.values()) for r in runs]
            met = sum(target.met(v) and ok for v, ok in zip(values, clean, strict=True))
            median = statistics.median(values)
            verdict = "met" if target.met(median) and all(clean) else "NOT met"
            spread = f" ({min(values):.2f}-{max(values):.2f}) [{met} of {len(runs)}]" if repeated else ""
            print(f"  {target.label():<42} {clients:>2} clients: {median:8.2f}{spread}  {verdict}"
                  + ("" if all(clean) else " (requests failed)"))


def wait_port(port: int) -> None:
    for _ in range(300):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("baseline did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=4.0, help="per measurement and client count")
    parser.add_argument("--threads", type=int, default=8, help="waitress threads (both servers)")
    parser.add_argument("--slices", type=int, default=4, help="interleaved parts of each measurement")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 4, 16], help="client counts to measure")
    parser.add_argument("--repeat", type=int, default=1, help="measure the client rows this many times over")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="till-bench-"))
    config = make_config(root, {"max_count = 10": "max_count = 0", 'max_amount = "100.00"': 'max_amount = "0"'})
    server = Server(config, root / "data")
    token = server.add_till()
    base_port = free_port()
    baseline = subprocess.Popen([sys.executable, str(Path(__file__).with_name("baseline_app.py")),
                                 str(root / "baseline.db"), str(base_port), str(args.threads)],
                                stdout=subprocess.DEVNULL)
    try:
        server.start(threads=args.threads)
        wait_port(base_port)
        code = server.call("POST", "/api/v1/referral-codes", {"customer": {"phone": "+4790000001"}})[1]["code"]
        auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        json_type = {"Content-Type": "application/json"}
        keys = itertools.count()  # redemptions need a sale and key of their own across every slice and run

        def quote(n: int, i: int) -> tuple[str, str, bytes, dict[str, str]]:
            body = {"code": code, "basket_total": "42.50", "customer": {"email": f"q{n}-{i}@example.com"}}
            return "POST", "/api/v1/checkouts/quote", json.dumps(body).encode(), auth

        def redeem(n: int, i: int) -> tuple[str, str, bytes, dict[str, str]]:
            key = str(next(keys))
            body = {"code": code, "sale_id": f"S{key}", "basket_total": "42.50",
                    "customer": {"email": f"r{key}@example.com"}}
            return "POST", "/api/v1/redemptions", json.dumps(body).encode(), {**auth, "Idempotency-Key": key}

        def base_read(n: int, i: int) -> tuple[str, str, bytes, dict[str, str]]:
            return "POST", "/read", b'{"code": "0ABCDEFGHJKMNP"}', json_type

        def base_write(n: int, i: int) -> tuple[str, str, bytes, dict[str, str]]:
            return "POST", "/write", json.dumps({"n": n, "i": i}).encode(), json_type

        loads: dict[str, tuple[int, Request]] = {READ: (base_port, base_read), QUOTE: (server.port, quote),
                                                 WRITE: (base_port, base_write), REDEMPTION: (server.port, redeem)}
        rows = [(clients, measure(loads, clients, args.seconds, args.slices))
                for _ in range(max(1, args.repeat)) for clients in args.clients]
    finally:
        baseline.terminate()
        baseline.wait(timeout=10)
        server.stop()

    print_rows(rows)
    print_targets(rows)


if __name__ == "__main__":
    main()
