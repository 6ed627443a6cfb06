"""A small in-process pub/sub per till: the till's actions publish, open customer displays subscribe.

The till's hot path only builds a frozen ``Shown`` and hands it over: ``publish`` takes a lock for a
dictionary write and a list copy, offers to bounded queues without waiting, and never raises. What a
display should show now is kept per till (``current``), so a display that (re)connects starts from
the same picture as one that never left. Streams are bounded in number, because each one holds a
server thread for as long as it is open: at the bound a new stream of the same till replaces that
till's oldest (a tablet that lost Wi-Fi comes back before its dead stream is noticed), and a stream
of another till is refused.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from pos_referral.inbox import Inbox

logger = logging.getLogger(__name__)

State = Literal["idle", "quote", "code"]


@dataclass(frozen=True)
class Shown:
    """What one till's display shows: idle (the offer), a friend's quote, or the customer's own code.

    Nothing personal beyond the first name the till was given; ``reward`` is the program's rule object
    for a quote that saves no money (a free item), phrased by the display in its own language."""

    state: State
    till_id: str
    first_name: str = ""
    discount_minor: int = 0
    reward: Any = None
    code: str = ""
    landing_url: str = ""
    seq: int = 0
    at: float = 0.0  # monotonic seconds when published


Subscription = Inbox[Shown]  # one open display's inbox


@dataclass
class DisplayBus:
    max_streams: int = 4
    clock: Callable[[], float] = time.monotonic
    _subs: list[Subscription] = field(default_factory=list)
    _current: dict[str, Shown] = field(default_factory=dict)
    _seq: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _closed: bool = False

    def publish(self, shown: Shown) -> None:
        """Remember ``shown`` as the till's current picture and offer it to its open displays; never
        blocks and never raises (the till's answer must not depend on a screen)."""
        try:
            with self._lock:
                shown = replace(shown, seq=next(self._seq), at=self.clock())
                self._current[shown.till_id] = shown
                targets = [s for s in self._subs if s.till_id == shown.till_id]
            for sub in targets:
                sub.offer(shown)
        except Exception:  # a display is a nicety; the sale is not
            logger.exception("customer display update for till %s dropped", shown.till_id)

    def current(self, till_id: str) -> Shown:
        """The till's current picture (idle when nothing was published yet)."""
        with self._lock:
            return self._current.get(till_id) or Shown("idle", till_id)

    def subscribe(self, till_id: str) -> Subscription | None:
        """A new stream for ``till_id``; None when the bound is reached by other tills' streams (or closed)."""
        sub: Subscription = Inbox(till_id, 8, self.unsubscribe)
        replaced: Subscription | None = None
        with self._lock:
            if self._closed:
                return None
            if len(self._subs) >= self.max_streams:
                replaced = next((s for s in self._subs if s.till_id == till_id), None)
                if replaced is None:
                    return None
                self._subs.remove(replaced)
            self._subs.append(sub)
        if replaced is not None:
            replaced.end()
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        with self._lock:
            if sub in self._subs:
                self._subs.remove(sub)

    def end_streams(self, till_id: str | None = None) -> int:
        """End the open streams (of one till, or all); their displays reconnect by themselves."""
        with self._lock:
            ending = [s for s in self._subs if till_id is None or s.till_id == till_id]
            self._subs = [s for s in self._subs if s not in ending]
        for sub in ending:
            sub.end()
        return len(ending)

    def close(self) -> None:
        """Service shutdown: end every stream now and take no new ones."""
        with self._lock:
            self._closed = True
        self.end_streams()

    @property
    def streams(self) -> int:
        with self._lock:
            return len(self._subs)
