"""Rate limits for failed code lookups, per till token and per client address (in memory).

Guessing codes is the attack: a 30-bit MAC makes a guess succeed once in a billion, and this
limit makes a billion guesses take longer than the program runs.

The limits hurt the guesser, not the shop. Each key has its own budget by its prefix (``till:`` the
per-till limit, ``ip:`` a higher per-address one): a till over its limit is refused alone, and since a
refused look-up records nothing, one till adds at most its own limit to its address, so several tills
behind one POS server or NAT keep quoting while one of them scans rubbish. A code a till has just
found (``remember_found``) stays redeemable by that till while it is limited: a redemption of a code
the till already knows is no guess.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Mapping

FOUND_KEEP_SECONDS = 600.0  # a quote and its redemption are minutes apart at most
FOUND_MAX = 10_000


class FailureLimiter:
    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic, *,
                 per_prefix: Mapping[str, int] | None = None) -> None:
        self.limit = per_minute
        self.per_prefix = dict(per_prefix or {})
        self.window = 60.0
        self._clock = clock
        self._hits: dict[str, deque[float]] = {}
        self._found: OrderedDict[tuple[str, str], float] = OrderedDict()
        self._lock = threading.Lock()

    def limit_for(self, key: str) -> int:
        """The budget of ``key``: its prefix's (``ip:`` ...) when configured, else ``per_minute``."""
        return self.per_prefix.get(key.partition(":")[0], self.limit)

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
                if len(hits) >= self.limit_for(key):
                    worst = max(worst, hits[0] + self.window - now)
            return math.ceil(worst) if worst > 0 else 0

    def remember_found(self, key: str, code: str) -> None:
        """``key`` (a till) has just looked ``code`` up and found it."""
        with self._lock:
            self._found[(key, code)] = self._clock()
            self._found.move_to_end((key, code))
            while len(self._found) > FOUND_MAX:
                self._found.popitem(last=False)

    def found_recently(self, key: str, code: str) -> bool:
        """Whether ``key`` found ``code`` within the last ``FOUND_KEEP_SECONDS``."""
        with self._lock:
            at = self._found.get((key, code))
            return at is not None and self._clock() - at < FOUND_KEEP_SECONDS

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
