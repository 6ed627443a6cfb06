"""A small thread-safe pub/sub for scans: the serial reader publishes, open till pages subscribe.

Each subscriber owns a bounded queue, so a till page that stopped reading (a closed laptop lid)
loses its oldest scans instead of growing memory; publishing never blocks the reader thread.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from dataclasses import dataclass
from types import TracebackType


@dataclass(frozen=True)
class Scan:
    """One scanned code; ``till_id`` empty means "for every open till page"."""

    code: str
    till_id: str = ""
    source: str = "serial"


class Subscription:
    """A till page's inbox; use as a context manager so it is always removed."""

    def __init__(self, bus: ScanBus, till_id: str, maxsize: int) -> None:
        self.till_id = till_id
        self._bus = bus
        self._queue: queue.Queue[Scan | None] = queue.Queue(maxsize=maxsize)
        self._closed = threading.Event()

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    def wake_closed(self) -> None:
        """The bus is shutting down: end the page's stream now rather than at its next keep-alive."""
        self._closed.set()
        self.offer(None)

    def offer(self, scan: Scan | None) -> None:
        while True:
            try:
                self._queue.put_nowait(scan)
                return
            except queue.Full:
                with contextlib.suppress(queue.Empty):
                    self._queue.get_nowait()  # drop the oldest

    def get(self, timeout: float) -> Scan | None:
        """The next scan, or None after ``timeout`` seconds (the caller sends a keep-alive)."""
        try:
            return self._queue.get(timeout=timeout)
        except queue.Empty:
            return None

    def close(self) -> None:
        self._closed.set()
        self._bus.unsubscribe(self)

    def __enter__(self) -> Subscription:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class ScanBus:
    def __init__(self, maxsize: int = 32) -> None:
        self._maxsize = maxsize
        self._subs: list[Subscription] = []
        self._lock = threading.Lock()

    def subscribe(self, till_id: str) -> Subscription:
        sub = Subscription(self, till_id, self._maxsize)
        with self._lock:
            self._subs.append(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        with self._lock:
            if sub in self._subs:
                self._subs.remove(sub)

    def publish(self, scan: Scan) -> int:
        """Deliver to the till it names (or to all); returns how many pages got it."""
        with self._lock:
            targets = [s for s in self._subs if not scan.till_id or s.till_id == scan.till_id]
        for sub in targets:
            sub.offer(scan)
        return len(targets)

    def close(self) -> None:
        """Wake every open stream so it ends (service shutdown)."""
        with self._lock:
            subs, self._subs = self._subs, []
        for sub in subs:
            sub.wake_closed()

    @property
    def subscribers(self) -> int:
        with self._lock:
            return len(self._subs)
