"""The serial scanner adapter on pyserial's ``loop://`` and a pty: suffixes, reconnects, pub/sub."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable

import pytest
import serial

from pos_referral.scanner.events import Scan, ScanBus
from pos_referral.scanner.serial_reader import SerialScanner, split_scans


def wait_for(predicate: Callable[[], bool], timeout: float = 3.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.01)
    raise AssertionError("condition not met in time")


def test_cr_lf_and_crlf_all_end_a_scan() -> None:
    scans, rest = split_scans(b"AAA\rBBB\nCCC\r\nDD")
    assert scans == ["AAA", "BBB", "CCC"] and rest == b"DD"


def test_a_crlf_split_across_two_reads_gives_one_scan() -> None:
    first, rest = split_scans(b"AAA\r")
    second, rest = split_scans(rest + b"\nBBB\r\n")
    assert first == ["AAA"] and second == ["BBB"] and rest == b""


def test_control_characters_from_the_scanner_are_dropped() -> None:
    assert split_scans(b"\x1bp\x00ABC\x07\r\n")[0] == ["pABC"]


class Collector:
    def __init__(self) -> None:
        self.scans: list[str] = []
        self.lock = threading.Lock()

    def __call__(self, code: str) -> None:
        with self.lock:
            self.scans.append(code)


def test_reader_on_loop_url_publishes_each_scan() -> None:
    port = serial.serial_for_url("loop://", timeout=0.05)
    got = Collector()
    reader = SerialScanner("loop://", got, opener=lambda: port, read_timeout=0.05)
    reader.start()
    try:
        port.write(b"0ABC-DEF\r\n0XYZ\r")
        wait_for(lambda: got.scans == ["0ABC-DEF", "0XYZ"])
        assert reader.status == "connected"
    finally:
        reader.stop()
    assert reader.status == "stopped"


def test_a_scan_without_suffix_is_flushed_after_a_quiet_moment() -> None:
    port = serial.serial_for_url("loop://", timeout=0.05)
    got = Collector()
    reader = SerialScanner("loop://", got, opener=lambda: port, read_timeout=0.05, idle_flush=0.15)
    reader.start()
    try:
        port.write(b"0NOSUFFIX")
        wait_for(lambda: got.scans == ["0NOSUFFIX"])
    finally:
        reader.stop()


class FlakyPort:
    """A port that is unplugged after its first read: read raises like a vanished USB adapter."""

    def __init__(self, data: bytes) -> None:
        self.data, self.reads = data, 0
        self.in_waiting = len(data)

    def read(self, size: int = 1) -> bytes:
        self.reads += 1
        if self.reads == 1:
            return self.data
        raise serial.SerialException("device reports readiness to read but returned no data")

    def close(self) -> None:
        pass


def test_reader_reconnects_after_unplug_and_open_failures_with_backoff() -> None:
    opened: list[str] = []
    got = Collector()

    def opener() -> FlakyPort:
        opened.append("try")
        if len(opened) == 2:
            raise serial.SerialException("could not open port /dev/ttyACM0")
        return FlakyPort(f"0SCAN{len(opened)}\r".encode())

    reader = SerialScanner("/dev/ttyACM0", got, opener=opener, backoff=(0.01, 0.05))
    reader.start()
    try:
        wait_for(lambda: len(got.scans) >= 2)
    finally:
        reader.stop()
    assert got.scans[:2] == ["0SCAN1", "0SCAN3"]
    assert "could not open" in reader.last_error or "lost" in reader.last_error


def test_reader_reads_a_real_pty_by_its_path() -> None:
    if not hasattr(os, "openpty"):
        pytest.skip("no pty on this system")
    master, slave = os.openpty()
    got = Collector()
    reader = SerialScanner(os.ttyname(slave), got, read_timeout=0.05, backoff=(0.05, 0.2))
    reader.start()
    try:
        wait_for(lambda: reader.status == "connected")
        os.write(master, b"0PTY-CODE\r\n")
        wait_for(lambda: got.scans == ["0PTY-CODE"])
    finally:
        reader.stop()
        os.close(master)
        os.close(slave)


def test_bus_delivers_to_the_named_till_or_to_all() -> None:
    bus = ScanBus()
    with bus.subscribe("T1") as t1, bus.subscribe("T2") as t2:
        assert bus.publish(Scan("A", till_id="T1")) == 1
        assert bus.publish(Scan("B")) == 2
        assert [t1.get(0.1), t1.get(0.1)] == [Scan("A", "T1"), Scan("B")]
        assert t2.get(0.1) == Scan("B") and t2.get(0.01) is None
    assert bus.subscribers == 0


def test_a_page_that_stopped_reading_loses_its_oldest_scans_only() -> None:
    bus = ScanBus(maxsize=2)
    with bus.subscribe("T1") as sub:
        for code in ("1", "2", "3"):
            bus.publish(Scan(code))
        assert [s.code for s in (sub.get(0.1), sub.get(0.1)) if s] == ["2", "3"]


def test_closing_the_bus_ends_open_streams() -> None:
    bus = ScanBus()
    sub = bus.subscribe("T1")
    bus.close()
    assert sub.closed and sub.get(0.5) is None and bus.subscribers == 0
