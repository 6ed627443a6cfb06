"""Rate limits for failed code lookups, per till token and per client address (in memory).

Guessing codes is the attack: a 30-bit MAC makes a guess succeed once in a billion, and this
limit makes a billion guesses take longer than the program runs.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable


class FailureLimiter:
    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = per_minute
        self.window = 60.0
        self._clock = clock
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _trim(self, key: str, now: float) -> deque[float]:
        hits = self._hits.setdefault(key, deque())
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        return hits

    def retry_after(self, *keys: str) -> int:
        """Seconds to wait if any key is over its limit, else 0."""
        now = self._clock()
        with self._lock:
            worst = 0.0
            for key in keys:
                hits = self._trim(key, now)
                if len(hits) >= self.limit:
                    worst = max(worst, hits[0] + self.window - now)
            return math.ceil(worst) if worst > 0 else 0

    def record_failure(self, *keys: str) -> None:
        now = self._clock()
        with self._lock:
            for key in keys:
                self._trim(key, now).append(now)
            if len(self._hits) > 10_000:  # forget idle clients
                for key in [k for k, v in self._hits.items() if not v]:
                    del self._hits[key]


class Limits:
    """The store's named limiters (PIN pad, manager sign-in, kiosk joins, invitations), made on first use."""

    def __init__(self) -> None:
        self._named: dict[str, FailureLimiter] = {}
        self._lock = threading.Lock()

    def named(self, name: str, per_minute: int) -> FailureLimiter:
        with self._lock:
            found = self._named.get(name)
            if found is None:
                found = self._named[name] = FailureLimiter(per_minute)
            return found
