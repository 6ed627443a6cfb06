"""Customer display: what publishing costs the till, and how soon an open display hears of it.

Builds a store in a temporary folder, serves it with stock waitress (as ``serve`` does) and measures:

1. ``DisplayBus.publish`` in process, with one display subscribed (run when the till's answer is written);
2. the till's quote over HTTP on loopback with no display open, then with one display streaming,
   taken in alternating slices so a drifting machine load falls on both (the ratio is the cost);
3. for each quote with the display open, the time from the till's answer to the display's event.

    python bench/display_latency.py [--quotes 300] [--slices 6]
"""

from __future__ import annotations

import argparse
import http.client
import json
import queue
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import waitress

from pos_referral import create_app
from pos_referral.bootstrap import build_store
from pos_referral.config import load_settings
from pos_referral.display.bus import DisplayBus, Shown
from pos_referral.resources import config_dir
from pos_referral.services.customers import CustomerInput
from pos_referral.services.referral_codes import issue_code
from pos_referral.services.tills import add_till
from pos_referral.web.display.access import display_key


def publish_cost(n: int = 100_000) -> float:
    bus = DisplayBus()
    sub = bus.subscribe("T1")
    assert sub is not None
    started = time.perf_counter()
    for i in range(n):
        bus.publish(Shown("quote", "T1", discount_minor=i))
    return (time.perf_counter() - started) / n * 1e6


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quotes", type=int, default=300)
    parser.add_argument("--slices", type=int, default=6)
    args = parser.parse_args()
    print(f"publish, one display subscribed: {publish_cost():.2f} us per call")

    root = Path(tempfile.mkdtemp(prefix="display-bench-"))
    shutil.copytree(config_dir(), root / "config")
    store = build_store(load_settings(root / "config" / "store.toml", data_dir=root / "data", environ={}))
    token = add_till(store.ctx, "T1")
    code = issue_code(store.ctx, CustomerInput.parse({"phone": "+4791234567"}), channel="receipt", till_id="T0").code
    server = waitress.create_server(create_app(store=store), host="127.0.0.1", port=0, threads=8)
    port = int(server.effective_port)
    threading.Thread(target=server.run, daemon=True).start()
    body = json.dumps({"code": code, "basket_total": "50.00"})
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    till = http.client.HTTPConnection("127.0.0.1", port)

    def quote() -> tuple[float, float]:
        started = time.perf_counter()
        till.request("POST", "/api/v1/checkouts/quote", body=body, headers=headers)
        assert json.loads(till.getresponse().read())["eligible"]
        return started, time.perf_counter()

    arrived: queue.Queue[float] = queue.Queue()
    stop = threading.Event()

    def display() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port)
        conn.request("GET", f"/display/T1/events?k={display_key(store.ctx.secrets.session_key, 'T1')}")
        resp = conn.getresponse()
        while not stop.is_set():
            line = resp.fp.readline()
            if not line:
                return
            if line.startswith(b"event: show"):
                arrived.put(time.perf_counter())
        conn.close()

    for _ in range(50):
        quote()  # warm up
    alone: list[float] = []
    beside: list[float] = []
    to_display: list[float] = []
    per_slice = max(1, args.quotes // args.slices)
    reader = None
    for s in range(args.slices * 2):
        with_display = s % 2 == 1
        if with_display and reader is None:
            reader = threading.Thread(target=display, daemon=True)
            reader.start()
            arrived.get(timeout=5)  # the snapshot on connect
        for _ in range(per_slice):
            if with_display:
                started, answered = quote()
                beside.append(answered - started)
                to_display.append(arrived.get(timeout=5) - answered)
            else:
                started, answered = quote()
                alone.append(answered - started)
        if with_display:  # the next slice is without a display: close it
            stop.set()
            store.display.end_streams()
            reader.join(5) if reader else None
            reader, stop = None, threading.Event()
            while not arrived.empty():
                arrived.get()
    ms = 1000.0
    print(f"quote, no display open:    p50 {statistics.median(alone) * ms:.2f} ms  p99 {pct(alone, 99) * ms:.2f} ms "
          f"({len(alone)} quotes)")
    print(f"quote, one display open:   p50 {statistics.median(beside) * ms:.2f} ms  p99 {pct(beside, 99) * ms:.2f} ms "
          f"(ratio of p50 {statistics.median(beside) / statistics.median(alone):.2f})")
    print(f"till's answer -> display:  p50 {statistics.median(to_display) * ms:.2f} ms  "
          f"p99 {pct(to_display, 99) * ms:.2f} ms  max {max(to_display) * ms:.2f} ms (target: < 1000 ms)")
    till.close()
    store.display.close()
    server.task_dispatcher.shutdown(timeout=5)
    server.close()
    store.close()
    shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
