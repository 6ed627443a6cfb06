"""One open event stream's inbox (server-sent events): the till page's scans and the customer display.

Bounded, and a reader that stopped reading loses its oldest items rather than blocking the publisher;
used as a context manager so a stream that ends for any reason leaves its bus.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable
from types import TracebackType
from typing import Generic, TypeVar

T = TypeVar("T")


class Inbox(Generic[T]):
    def __init__(self, till_id: str, maxsize: int, on_close: Callable[[Inbox[T]], None]) -> None:
        self.till_id = till_id
        self._on_close = on_close
        self._queue: queue.Queue[T | None] = queue.Queue(maxsize=maxsize)
        self._closed = threading.Event()

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    def end(self) -> None:
        """End the stream now (shutdown, or a newer stream took its place) rather than at its next heartbeat."""
        self._closed.set()
        self.offer(None)

    def offer(self, item: T | None) -> None:
        while True:
            try:
                self._queue.put_nowait(item)
                return
            except queue.Full:
                with contextlib.suppress(queue.Empty):
                    self._queue.get_nowait()  # drop the oldest

    def get(self, timeout: float) -> T | None:
        """The next item, or None after ``timeout`` seconds (the caller sends a heartbeat)."""
        try:
            return self._queue.get(timeout=timeout)
        except queue.Empty:
            return None

    def close(self) -> None:
        self._closed.set()
        self._on_close(self)

    def __enter__(self) -> Inbox[T]:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
