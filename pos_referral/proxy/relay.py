"""One POS connection relayed to the printer in both directions.

POS -> printer runs on the connection's thread through ``ReceiptStream``; printer -> POS (real-time
status ``DLE EOT``, ``GS r`` answers, automatic status back) is copied unchanged by a second thread.
While a receipt is on its way (from its first byte to its cut) the connection holds the printer's
device lock, so a job of our own print worker never lands in the middle of it; the lock is let go at
the cut, when the connection ends, or after ``IDLE_RELEASE`` seconds without a byte from the POS.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import struct
import threading
import time
from typing import Protocol

from pos_referral.printing.transports import Link
from pos_referral.proxy.stats import ProxyStats
from pos_referral.proxy.stream import ReceiptStream

logger = logging.getLogger(__name__)

IDLE_RELEASE = 10.0  # seconds of silence mid-receipt after which our own print jobs may go first
_POLL = 0.25  # how often the blocking loops look at the stop flag


class DeviceLock(Protocol):
    def acquire(self, blocking: bool = ..., timeout: float = ...) -> bool: ...
    def release(self) -> None: ...


def reset(sock: socket.socket) -> None:
    """Close so the peer sees a reset, not a clean end: the POS must not think the receipt printed."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


class Relay:
    def __init__(self, pos: socket.socket, peer: str, link: Link, lock: DeviceLock, stream: ReceiptStream,
                 stats: ProxyStats, stop: threading.Event, *, chunk: int = 16384) -> None:
        self.pos, self.peer, self.link, self.lock, self.stream = pos, peer, link, lock, stream
        self.stats, self.stop = stats, stop
        self.chunk = chunk  # pass-through writes are cut to this size: each one ends within the link's timeout
        self._holding = False
        self._failed = False  # the printer failed: the POS gets a reset, not a clean end
        self._fail_lock = threading.Lock()
        self._closing = False  # we close the link ourselves (the POS finished)
        self._printer_gone = threading.Event()

    def run(self) -> None:
        back = threading.Thread(target=self._printer_to_pos, name=f"proxy-back-{self.peer}", daemon=True)
        back.start()
        try:
            self._pos_to_printer()
        finally:
            self._release()
            self._closing = True
            self.link.close()
            back.join(timeout=2)
            if self._failed:
                reset(self.pos)
            else:
                self.pos.close()

    def _pos_to_printer(self) -> None:
        self.pos.settimeout(_POLL)
        last = time.monotonic()
        while not self.stop.is_set() and not self._printer_gone.is_set():
            try:
                data = self.pos.recv(262144)
            except TimeoutError:
                if self._holding and time.monotonic() - last > IDLE_RELEASE:
                    self._release()
                continue
            except OSError:
                data = b""
            last = time.monotonic()
            cuts = self.stream.cuts
            writes = self.stream.feed(data) if data else [self.stream.flush()]
            receipt = self.stream.in_receipt or self.stream.cuts != cuts  # not only status queries
            if not self._write([w for w in writes if w], receipt) or not data:
                return

    def _write(self, writes: list[bytes], receipt: bool) -> bool:
        """Write in order; False when the printer failed (the POS is then reset)."""
        if writes and receipt and not self._holding and not self._take():
            return False
        try:
            for data in writes:
                if len(data) <= self.chunk:
                    self.link.write(data)  # a footer block is always one write
                    continue
                for at in range(0, len(data), self.chunk):
                    self.link.write(data[at:at + self.chunk])
        except Exception as exc:  # socket, serial and USB errors alike: the printer went away
            self._fail(exc)
            return False
        if not self.stream.in_receipt:
            self._release()
        return True

    def _fail(self, exc: Exception) -> None:
        """Once per connection (both directions may notice): counted, logged, the POS to be reset."""
        with self._fail_lock:
            if self._failed:
                return
            self._failed = True
        self.stats.count("printer_errors", f"printer: {type(exc).__name__}: {exc}")
        logger.warning("printer lost during a connection from POS %s (%s): resetting it", self.peer, exc)

    def _take(self) -> bool:
        while not self.stop.is_set():
            if self.lock.acquire(timeout=_POLL):
                self._holding = True
                return True
        return False

    def _release(self) -> None:
        if self._holding:
            self._holding = False
            self.lock.release()

    def _printer_to_pos(self) -> None:
        while not self.stop.is_set():
            try:
                data = self.link.read(4096)
            except Exception as exc:  # closed by the printer, or by us at the end of the connection
                if not self._closing:
                    self._fail(exc)
                break
            if not data:
                continue
            try:
                self.pos.sendall(data)
            except OSError:
                break
        self._printer_gone.set()
