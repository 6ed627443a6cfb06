"""A small thread-safe pub/sub for scans: the serial reader publishes, open till pages subscribe.

Each subscriber owns a bounded queue, so a till page that stopped reading (a closed laptop lid)
loses its oldest scans instead of growing memory; publishing never blocks the reader thread.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from pos_referral.inbox import Inbox


@dataclass(frozen=True)
class Scan:
    """One scanned code; ``till_id`` empty means "for every open till page"."""

    code: str
    till_id: str = ""
    source: str = "serial"


Subscription = Inbox[Scan]  # a till page's inbox


class ScanBus:
    def __init__(self, maxsize: int = 32) -> None:
        self._maxsize = maxsize
        self._subs: list[Subscription] = []
        self._lock = threading.Lock()

    def subscribe(self, till_id: str) -> Subscription:
        sub: Subscription = Inbox(till_id, self._maxsize, self.unsubscribe)
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
            sub.end()

    @property
    def subscribers(self) -> int:
        with self._lock:
            return len(self._subs)
