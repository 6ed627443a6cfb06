"""Read a serial barcode scanner (pyserial URL) on a thread and publish each scan.

Scanners end a scan with CR, LF or CR LF (configurable on the device, so all three are
accepted); some send no suffix at all, so a partial scan followed by a quiet line is flushed
after ``idle_flush`` seconds. An unplugged USB-serial adapter or a dropped ``socket://`` link
is reopened with a growing back-off; the state is visible as ``status`` for the till page.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from typing import Protocol

import serial

from pos_referral.domain.text import sanitize_text

logger = logging.getLogger(__name__)

MAX_SCAN = 500  # longer than any code or landing URL; a stuck scanner cannot fill memory


class SerialPort(Protocol):
    def read(self, size: int = 1) -> bytes: ...

    def close(self) -> None: ...

    @property
    def in_waiting(self) -> int: ...


def split_scans(buffer: bytes) -> tuple[list[str], bytes]:
    """Complete scans (CR, LF or CRLF terminated) and the unterminated rest."""
    scans: list[str] = []
    start = 0
    for index, byte in enumerate(buffer):
        if byte in (0x0D, 0x0A):
            scans.append(buffer[start:index].decode("utf-8", "replace"))
            start = index + 1
    cleaned = [s for s in (sanitize_text(x).strip()[:MAX_SCAN] for x in scans) if s]
    rest = buffer[start:]
    if len(rest) > MAX_SCAN:
        rest = b""  # garbage with no terminator: drop it rather than grow
    return cleaned, rest


class SerialScanner:
    """A background reader with ``start()`` and ``stop()`` (owned by ``Store.background``)."""

    def __init__(
        self,
        url: str,
        on_scan: Callable[[str], object],
        *,
        baudrate: int = 9600,
        read_timeout: float = 0.2,
        idle_flush: float | None = 0.5,
        backoff: tuple[float, float] = (0.5, 10.0),
        opener: Callable[[], SerialPort] | None = None,
    ) -> None:
        self.url = url
        self._on_scan = on_scan
        self._baudrate = baudrate
        self._read_timeout = read_timeout
        self._idle_flush = idle_flush
        self._backoff = backoff
        self._opener = opener or self._open
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._port: SerialPort | None = None
        self.status = "starting"
        self.last_error = ""
        self.scans = 0

    def _open(self) -> SerialPort:
        port: SerialPort = serial.serial_for_url(
            self.url, baudrate=self._baudrate, timeout=self._read_timeout, write_timeout=1.0
        )
        return port

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="serial-scanner", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        port = self._port
        if port is not None:
            with contextlib.suppress(OSError, serial.SerialException):
                port.close()  # unblocks a read in progress
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.status = "stopped"

    def _run(self) -> None:
        delay = self._backoff[0]
        while not self._stop.is_set():
            try:
                self._port = self._opener()
            except (OSError, ValueError, serial.SerialException) as exc:
                self._failed("cannot open", exc)
            else:
                self.status, self.last_error = "connected", ""
                delay = self._backoff[0]
                logger.info("scanner connected on %s", self.url)
                try:
                    self._read_loop(self._port)
                except (OSError, serial.SerialException, TypeError, AttributeError) as exc:
                    # pyserial raises TypeError/AttributeError from a port closed under it
                    if not self._stop.is_set():
                        self._failed("lost", exc)
                finally:
                    with contextlib.suppress(OSError, serial.SerialException):
                        self._port.close()
                    self._port = None
            if self._stop.wait(delay):
                break
            delay = min(delay * 2, self._backoff[1])

    def _failed(self, what: str, exc: BaseException) -> None:
        self.status = "disconnected"
        self.last_error = f"{what}: {exc}"[:200]
        logger.warning("scanner on %s %s (%s); retrying", self.url, what, exc)

    def _read_loop(self, port: SerialPort) -> None:
        buffer = b""
        last_byte = time.monotonic()
        while not self._stop.is_set():
            chunk = port.read(max(1, port.in_waiting or 1))
            if chunk:
                last_byte = time.monotonic()
                scans, buffer = split_scans(buffer + chunk)
                for scan in scans:
                    self._emit(scan)
                continue
            idle = time.monotonic() - last_byte
            if buffer and self._idle_flush is not None and idle >= self._idle_flush:
                scans, _ = split_scans(buffer + b"\r")
                buffer = b""
                for scan in scans:
                    self._emit(scan)

    def _emit(self, scan: str) -> None:
        self.scans += 1
        try:
            self._on_scan(scan)
        except Exception:  # a bad subscriber must not kill the reader
            logger.exception("scan handler failed")
