"""waitress with the till's quote answered on the server's own I/O thread (and redemptions batched).

waitress reads and parses requests on one thread (its asyncore loop) and hands each to a pool of
worker threads. For a quote — ~45 us of reads that never wait on a lock or the disk — that
hand-off costs more than the answer: a condition-variable wake-up, two GIL hand-overs between the
loop and a worker, and a trigger-pipe write to get the loop to send the reply. Under load, with
every worker runnable and contending for the GIL, a quote took ~0.35 ms of server CPU that way.

Here the dispatcher keeps requests that ``inline(method, path)`` accepts (the quote) for the loop
thread, which runs them with waitress's own ``channel.service()`` right after the poll that read
them; everything else goes to the worker pool as before. Same waitress code, same task, same
output path — only the thread differs. What runs inline must never block: a quote's SQLite reads
on WAL do not wait for writers. Requests a ``Batching`` accepts (redemptions) go to one writer
thread instead, which answers them in batches after one shared COMMIT (web/waitress_batches.py).
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from typing import Any

from waitress import wasyncore
from waitress.channel import HTTPChannel
from waitress.server import create_server
from waitress.task import ThreadedTaskDispatcher

from pos_referral.web.waitress_batches import Answering, Batching, OneSendTask, Writer

Inline = Callable[[str, str], bool]


class InlineDispatcher(ThreadedTaskDispatcher):
    """waitress's thread pool, except that accepted requests met on the loop thread stay there."""

    def __init__(self, inline: Inline) -> None:
        super().__init__()
        self._inline = inline
        self._due: deque[Any] = deque()
        self.loop_thread: int | None = None
        self.writer: Writer | None = None  # set by ``create`` when there is a Batching

    def add_task(self, task: Any) -> None:
        # ``task`` is an HTTPChannel whose first queued request is ready; from the loop thread this
        # is called inside the channel's ``requests_lock``, so it is only noted here and run by ``drain``
        request = task.requests[0] if getattr(task, "requests", None) else None
        if request is not None and not request.error:
            if threading.get_ident() == self.loop_thread and self._inline(request.command, request.path):
                self._due.append(task)
                return
            if self.writer is not None and self.writer.accepts(request.command, request.path, request.headers):
                self.writer.submit(task)
                return
        super().add_task(task)

    def shutdown(self, cancel_pending: bool = True, timeout: float = 5) -> bool:
        if self.writer is not None:
            self.writer.stop(timeout)
        return bool(super().shutdown(cancel_pending, timeout))

    def drain(self) -> None:
        """Serve what the last poll kept for this thread (a served channel may queue its next request)."""
        due = self._due
        while due:
            due.popleft().service()


class _Channel(HTTPChannel):
    """waitress's connection, whose answers leave in one send each (``OneSendTask``)."""

    task_class = OneSendTask


class _InlineLoop:
    """Stands in for waitress's ``wasyncore`` module in ``server.run()``: poll, then drain."""

    def __init__(self, dispatcher: InlineDispatcher) -> None:
        self._dispatcher = dispatcher

    def loop(self, timeout: float, map: dict[int, Any], use_poll: bool = False) -> None:
        self._dispatcher.loop_thread = threading.get_ident()
        poll = wasyncore.poll2 if use_poll else wasyncore.poll
        drain = self._dispatcher.drain
        while map:
            poll(timeout, map)
            drain()


def create(app: Callable[..., Any], inline: Inline, batching: Batching | None = None, **adjustments: Any) -> Any:
    """A waitress server (``create_server``) whose loop answers ``inline`` requests itself and whose
    writer thread answers ``batching``'s requests in batches."""
    dispatcher = InlineDispatcher(inline)
    dispatcher.set_thread_count(int(adjustments.get("threads", 4)))
    if batching is not None:
        app = Answering(app)  # answers a batched request from the answer its batch kept
    server = create_server(app, _dispatcher=dispatcher, **adjustments)
    server.channel_class = _Channel
    server.asyncore = _InlineLoop(dispatcher)
    if batching is not None:  # its thread starts once the sockets are bound
        dispatcher.writer = Writer(batching)
    return server


def serve(app: Callable[..., Any], inline: Inline, batching: Batching | None = None, **adjustments: Any) -> None:
    """``waitress.serve`` with ``inline`` requests answered on the loop thread, ``batching``'s batched."""
    server = create(app, inline, batching, **adjustments)
    server.print_listen("Serving on http://{}:{}")
    server.run()
