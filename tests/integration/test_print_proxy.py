"""The print proxy between python-escpos as the POS (its Network printer) and a recording printer on a
loopback port: byte for byte, status both ways, fail-open footers, an unreachable printer, and our own
print jobs taking turns with the POS's receipts."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from escpos.printer import Dummy, Network
from flask import Flask

from pos_referral.bootstrap import Store
from pos_referral.config import StoreConfig
from pos_referral.printing.printers import make_printer
from pos_referral.proxy.build import build_proxy
from pos_referral.proxy.footer import FooterSource, NoFooter, ReceiptSeen
from pos_referral.proxy.footers import FixedFooter
from pos_referral.proxy.server import ProxyServer
from pos_referral.proxy.stats import ProxyStats
from pos_referral.workers import start_store_workers
from tests.proxy_support import FOOTER, LAYOUTS, PROFILE, RecordingPrinter, plain_text, receipt_bytes, with_footer


@pytest.fixture
def printer() -> Iterator[RecordingPrinter]:
    recorder = RecordingPrinter()
    yield recorder
    recorder.close()


class Proxies:
    def __init__(self, recorder: RecordingPrinter, tmp_path: Path) -> None:
        self.recorder, self.tmp_path, self.started = recorder, tmp_path, []  # type: ignore[var-annotated]
        self.stats = ProxyStats()
        self.device: object = None

    def start(self, source: FooterSource, *, port: int | None = None, timeout_ms: int = 100) -> ProxyServer:
        config = StoreConfig.model_validate({
            "store": {"language": "en"},
            "printer": {"type": "network", "host": "127.0.0.1", "port": port or self.recorder.port,
                        "profile": PROFILE, "timeout": 1.0},
            "proxy": {"enabled": True, "listen": "127.0.0.1:0", "footer_timeout_ms": timeout_ms}})
        self.device = make_printer(config.printer, self.tmp_path)
        server = build_proxy(config, self.device, source, self.stats)
        server.start()
        self.started.append(server)
        return server

    def pos(self, server: ProxyServer) -> Network:
        pos = Network("127.0.0.1", server.address[1], timeout=5, profile=PROFILE)
        pos.open()
        return pos


@pytest.fixture
def proxies(printer: RecordingPrinter, tmp_path: Path) -> Iterator[Proxies]:
    made = Proxies(printer, tmp_path)
    yield made
    for server in made.started:
        server.stop()


@pytest.mark.parametrize("name", list(LAYOUTS))
def test_pos_receipt_reaches_the_printer_with_the_footer_before_the_cut(
        proxies: Proxies, printer: RecordingPrinter, name: str) -> None:
    layout, cut, restore, unfinished = LAYOUTS[name]
    pos = proxies.pos(proxies.start(FixedFooter(FOOTER)))
    layout(pos)
    pos.close()
    assert printer.wait_closed() == with_footer(receipt_bytes(layout), cut, restore, unfinished=unfinished)
    assert proxies.stats.as_dict()["footers"] == 1


def test_several_receipts_on_one_connection_each_get_a_footer(proxies: Proxies, printer: RecordingPrinter) -> None:
    pos = proxies.pos(proxies.start(FixedFooter(FOOTER)))
    expected = b""
    for _ in range(2):
        for layout, cut, restore, unfinished in LAYOUTS.values():
            receipt = b"\x1b@" + receipt_bytes(layout)  # each receipt starts afresh, as a POS's do
            pos._raw(receipt)
            expected += with_footer(receipt, cut, restore, unfinished=unfinished)
    pos.close()
    assert printer.wait_closed() == expected
    assert len(printer.connections) == 1
    assert proxies.stats.as_dict()["receipts"] == 6


def test_the_plain_pass_through_changes_nothing(proxies: Proxies, printer: RecordingPrinter) -> None:
    pos, same = proxies.pos(proxies.start(NoFooter())), Dummy(profile=PROFILE)
    for layout, *_ in LAYOUTS.values():
        layout(pos)
        layout(same)
    pos.close()
    assert printer.wait_closed() == same.output
    assert proxies.stats.as_dict()["misses"]["empty"] == 3


def test_status_queries_and_automatic_status_go_back_to_the_pos(proxies: Proxies, printer: RecordingPrinter) -> None:
    pos = proxies.pos(proxies.start(FixedFooter(FOOTER)))
    assert pos.query_status(b"\x10\x04\x01") == b"\x12"  # DLE EOT 1: online
    pos.text("Half a receipt, then the POS asks for paper\n")
    assert pos.query_status(b"\x1dr\x01") == b"\x00"  # GS r 1: paper present
    pos._raw(b"\x1da\xff")  # GS a: automatic status back on
    printer.wait_for(lambda p: p.received().endswith(b"\x1da\xff"))
    printer.push(b"\x14\x00\x00\x0f")  # the printer reports by itself
    assert pos.device.recv(16) == b"\x14\x00\x00\x0f"
    pos.close()


def test_an_unreachable_printer_means_the_pos_sees_it_offline(proxies: Proxies) -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        dead_port = unused.getsockname()[1]
    server = proxies.start(FixedFooter(FOOTER), port=dead_port)
    try:
        with socket.create_connection(server.address, timeout=5) as pos:
            answer = pos.recv(1)
    except ConnectionResetError:
        answer = b""
    assert answer == b""  # reset at once: nothing accepted that could not be delivered
    assert proxies.stats.as_dict()["refused"] == 1
    assert "unreachable" in proxies.stats.as_dict()["last_problem"]


class Slow:
    def footer_for(self, receipt: ReceiptSeen) -> bytes | None:
        time.sleep(0.5)
        return FOOTER


class Broken:
    def footer_for(self, receipt: ReceiptSeen) -> bytes | None:
        raise RuntimeError("referral side down")


@pytest.mark.parametrize(("source", "cause"), [(Slow(), "timeout"), (Broken(), "error")])
def test_a_late_or_failing_footer_prints_the_receipt_unchanged(
        proxies: Proxies, printer: RecordingPrinter, source: FooterSource, cause: str) -> None:
    layout = LAYOUTS["code_pages"][0]
    pos = proxies.pos(proxies.start(source, timeout_ms=50))
    layout(pos)
    pos.close()
    assert printer.wait_closed() == receipt_bytes(layout)
    assert proxies.stats.as_dict()["misses"][cause] == 1
    assert proxies.stats.as_dict()["footers"] == 0


def test_our_print_job_waits_until_the_pos_receipt_is_cut(proxies: Proxies, printer: RecordingPrinter) -> None:
    pos = proxies.pos(proxies.start(FixedFooter(FOOTER)))
    pos.text("POS receipt, first half\n")
    printer.wait_for(lambda p: b"first half" in p.received(0))
    job = b"\x1b@Our own job\n\x1dV\x00"
    sent = threading.Event()
    worker = threading.Thread(target=lambda: (proxies.device.send(job), sent.set()))  # type: ignore[attr-defined]
    worker.start()
    time.sleep(0.3)
    assert not sent.is_set()  # waiting for the device, not printing into the POS's receipt
    pos.text("second half\n")
    pos.cut()
    worker.join(5)
    assert sent.is_set()
    pos.close()
    log = printer.log
    pos_cut = max(i for i, (conn, chunk) in enumerate(log) if conn == 0 and b"\x1dV" in chunk)
    job_first = min(i for i, (conn, chunk) in enumerate(log) if conn == 1 and b"Our own job" in chunk)
    assert pos_cut < job_first


def test_healthz_shows_the_proxy_counters_only_while_it_runs(app: Flask, store: Store) -> None:
    client = app.test_client()
    assert "proxy" not in client.get("/healthz").get_json()
    store.proxy_stats = ProxyStats()
    store.proxy_stats.count("receipts")
    store.proxy_stats.miss("timeout", "footer took longer than 100 ms")
    body = client.get("/healthz").get_json()
    assert body["proxy"]["receipts"] == 1
    assert body["proxy"]["misses"] == {"timeout": 1, "error": 0, "empty": 0}
    assert body["status"] == "ok"


def test_serve_runs_the_proxy_beside_the_print_worker_when_enabled(edited_shop: Any, printer: RecordingPrinter) -> None:
    shop = edited_shop(overrides={
        "printer": {"type": "network", "host": "127.0.0.1", "port": printer.port, "profile": PROFILE},
        "proxy": {"enabled": True, "listen": "127.0.0.1:0"}})
    start_store_workers(shop.store)
    try:
        server = next(task for task in shop.store.background if isinstance(task, ProxyServer))
        assert shop.store.print_worker is not None
        assert server.device is shop.store.print_worker.printer  # one device, one lock: our jobs take turns
        pos = Network("127.0.0.1", server.address[1], timeout=5, profile=PROFILE)
        pos.open()
        plain_text(pos)
        pos.close()
        assert printer.wait_for_bytes(receipt_bytes(plain_text))  # NoFooter until the referral side is wired
        body = shop.app.test_client().get("/healthz").get_json()
        assert body["proxy"]["receipts"] == 1
        assert body["proxy"]["misses"]["empty"] == 1
    finally:
        shop.store.close()


def test_a_printer_lost_mid_receipt_resets_the_pos_connection(proxies: Proxies, printer: RecordingPrinter) -> None:
    pos = proxies.pos(proxies.start(FixedFooter(FOOTER)))
    pos.text("Half a receipt\n")
    printer.wait_for(lambda p: b"Half a receipt" in p.received(0))
    printer.drop(0)
    with pytest.raises(OSError):  # the POS learns the receipt did not print (reset, or a broken pipe)
        for _ in range(50):
            pos.text("more lines the printer will never see\n")
            time.sleep(0.02)
        pos.device.recv(1) or pytest.fail("the POS connection ended cleanly, as if the receipt had printed")
    assert proxies.stats.as_dict()["printer_errors"] == 1
