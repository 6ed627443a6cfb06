"""The proxy's counters, for ``/healthz`` and the manager: receipts seen, footers added, misses by cause."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

MISS_CAUSES = ("timeout", "error", "empty")  # late answer, the footer source raised, no footer given


class ProxyStats:
    """Thread-safe counters; ``as_dict`` is a snapshot."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()
        self._misses: Counter[str] = Counter()
        self.last_problem = ""  # the last printer or footer problem, in words

    def count(self, name: str, problem: str = "") -> None:
        """``name``: connections, refused (printer unreachable), printer_errors, receipts, footers."""
        with self._lock:
            self._counts[name] += 1
            if problem:
                self.last_problem = problem[:200]

    def miss(self, cause: str, problem: str = "") -> None:
        with self._lock:
            self._misses[cause] += 1
            if problem:
                self.last_problem = problem[:200]

    def as_dict(self) -> dict[str, Any]:
        with self._lock:
            counts = {name: self._counts[name]
                      for name in ("connections", "refused", "printer_errors", "receipts", "footers")}
            return {**counts, "misses": {cause: self._misses[cause] for cause in MISS_CAUSES},
                    "last_problem": self.last_problem}
