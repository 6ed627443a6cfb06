"""Asking the ``FooterSource`` off the byte path: at most ``footer_timeout_ms``, and never an exception.

The question runs on a small thread pool; the connection's thread waits for the answer up to the
limit. A late answer, an exception or no footer lets the receipt pass unchanged and is counted as a
miss by cause. A late call keeps its pool thread until it returns; further receipts then wait in the
pool's queue and, if it stays stuck, become misses too, while the bytes keep flowing.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

from pos_referral.proxy.footer import FooterSource, ReceiptSeen
from pos_referral.proxy.stats import ProxyStats

logger = logging.getLogger(__name__)


class FooterCaller:
    def __init__(self, source: FooterSource, timeout_ms: int, stats: ProxyStats, *, threads: int = 4) -> None:
        self._source, self._timeout, self._stats = source, timeout_ms / 1000, stats
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="proxy-footer")

    def footer(self, text: str, peer: str) -> bytes | None:
        """The footer for this receipt, or None (the receipt passes unchanged)."""
        self._stats.count("receipts")
        future = self._pool.submit(self._source.footer_for, ReceiptSeen(text=text, peer=peer))
        try:
            footer = future.result(timeout=self._timeout)
        except FutureTimeout:
            future.cancel()
            self._stats.miss("timeout", f"footer took longer than {self._timeout * 1000:.0f} ms")
            logger.warning("receipt from %s printed without footer: the footer source took longer than %.0f ms",
                           peer, self._timeout * 1000)
            return None
        except Exception as exc:  # the referral side failed: the receipt still prints
            self._stats.miss("error", f"{type(exc).__name__}: {exc}")
            logger.exception("receipt from %s printed without footer: the footer source failed", peer)
            return None
        if not footer:
            self._stats.miss("empty")
            return None
        self._stats.count("footers")
        return bytes(footer)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


class FixedFooter:
    """The same footer on every receipt: ``pos-referral proxy --footer TEXT`` to try where it prints."""

    def __init__(self, footer: bytes) -> None:
        self._footer = footer

    def footer_for(self, receipt: ReceiptSeen) -> bytes | None:
        return self._footer
