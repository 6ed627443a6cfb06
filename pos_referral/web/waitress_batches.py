"""Redemptions answered in batches by one writer thread, after one shared durable COMMIT.

With waitress's worker pool each redemption had a thread of its own: the thread parsed it, queued
its unit of work for a shared commit (db/engine.py GroupCommit), slept, woke, and wrote the answer.
Eight such threads and the I/O loop took turns at the GIL every time SQLite released it (a dozen
statements per redemption), which cost ~20 context switches and ~40% of the server's CPU per
redemption at 4 and 16 tills.

Here the dispatcher (web/waitress_inline.py) gives every request ``Batching.accepts`` to one
writer thread, which serves whatever has queued up meanwhile in two passes:

1. For each request it builds waitress's own WSGI environ and calls the application, keeping the
   answer instead of sending it, all inside one write transaction (``run_shared``): the units run
   at once, each in its own SAVEPOINT.
2. Once that transaction's COMMIT has returned (on disk), it lets waitress serve each request the
   usual way (``channel.service()``); the application is answered from the kept answer, so waitress
   writes status, headers and body exactly as it would have. If the COMMIT failed, nothing of the
   batch was kept and every request gets ``Batching.failed``'s answer.

No answer leaves before the COMMIT that holds it, the same guarantee as before; requests whose
environ could not be built are simply served normally in pass 2 (outside any batch).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from waitress.task import WSGITask

logger = logging.getLogger(__name__)

Environ = dict[str, Any]
WSGIApp = Callable[[Environ, Callable[..., Any]], Iterable[bytes]]
Answer = tuple[str, list[tuple[str, str]], bytes]  # status line, headers, body


@dataclass(frozen=True)
class Batching:
    """What the store batches, how it commits a batch, and what a failed commit answers."""

    accepts: Callable[[str, str, dict[str, str]], bool]  # (method, path, waitress's request headers)
    run_shared: Callable[[Sequence[Callable[[], None]]], Exception | None]  # None once durably committed
    failed: Callable[[Environ], Answer]


_KEPT = threading.local()  # on the writer thread in pass 2: .answer and .environ of the request being served


class Answering:
    """The application waitress is given: answers from a kept answer when the writer has one for it."""

    def __init__(self, app: WSGIApp) -> None:
        self.app = app

    def __call__(self, environ: Environ, start_response: Callable[..., Any]) -> Iterable[bytes]:
        answer: Answer | None = getattr(_KEPT, "answer", None)
        if answer is None:
            return self.app(environ, start_response)
        _KEPT.answer = None
        status, headers, body = answer
        start_response(status, headers)
        return [body]


class OneSendTask(WSGITask):
    """waitress's task, sending status line, headers and a body given in one piece in one ``send``.

    waitress writes the header block and the body separately: two sends, two TCP segments (with
    TCP_NODELAY), and on the till's side two wake-ups for one small JSON answer. When the
    application hands over the whole body at once with its Content-Length, they go out together."""

    wrote_header: bool  # waitress's own attributes (untyped there)

    def write(self, data: bytes) -> None:
        if self.wrote_header or not data or not self.complete:
            super().write(data)  # later chunks, an empty body, or start_response not called (it raises)
            return
        header = self.build_response_header()
        self.wrote_header = True
        if self.has_body and not self.chunked_response and self.content_length == len(data):
            self.content_bytes_written += len(data)
            self.channel.write_soon(header + data)
        else:
            self.channel.write_soon(header)
            super().write(data)  # the header is out: waitress writes (or trims, or drops) the body


class KeptTask(OneSendTask):
    """waitress's task, reusing the environ pass 1 built for the same request (not building it twice)."""

    def get_environment(self) -> Environ:
        kept: Environ | None = getattr(_KEPT, "environ", None)
        if kept is None:
            built: Environ = super().get_environment()
            return built
        _KEPT.environ = None
        self.environ = kept
        return kept


def _keep(answer: Answer | None, environ: Environ | None) -> None:
    _KEPT.answer, _KEPT.environ = answer, environ if answer is not None else None


def capture(app: WSGIApp, environ: Environ) -> Answer:
    """Call ``app`` and return its whole answer instead of sending it."""
    got: list[Any] = []
    chunks: list[bytes] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
        got[:] = [status, list(headers)]
        return chunks.append

    result = app(environ, start_response)
    try:
        chunks.extend(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    if not got:
        raise RuntimeError("the application answered without calling start_response")
    return got[0], got[1], b"".join(chunks)


class Writer:
    """One thread serving batched requests (``submit``ted waitress channels) as described above."""

    def __init__(self, batching: Batching, max_batch: int = 64) -> None:
        self._batching, self.max_batch = batching, max_batch
        self._cond = threading.Condition(threading.Lock())
        self._queue: list[Any] = []
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="redemption-writer", daemon=True)
        self._thread.start()

    def accepts(self, method: str, path: str, headers: dict[str, str]) -> bool:
        return self._batching.accepts(method, path, headers)

    def submit(self, channel: Any) -> None:
        with self._cond:
            self._queue.append(channel)
            self._cond.notify()

    def stop(self, timeout: float = 5) -> None:
        with self._cond:
            self._stopping = True
            self._queue.clear()  # like waitress's own shutdown: queued requests are cancelled
            self._cond.notify()
        self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._stopping:
                    self._cond.wait()
                if self._stopping:
                    return
                batch, self._queue = self._queue[: self.max_batch], self._queue[self.max_batch :]
            try:
                self._serve(batch)
            except Exception:  # never lose the thread: the next batch must still be served
                logger.exception("redemption batch of %d failed", len(batch))

    def _serve(self, batch: list[Any]) -> None:
        environs: list[Environ | None] = []
        for channel in batch:
            try:
                environs.append(WSGITask(channel, channel.requests[0]).get_environment())
            except Exception:
                logger.exception("could not build the environ of a batched request; served alone")
                environs.append(None)
        answers: list[Answer | None] = [None] * len(batch)

        def step(i: int, app: WSGIApp, environ: Environ) -> Callable[[], None]:
            def run() -> None:
                answers[i] = capture(app, environ)
            return run

        steps = [step(i, channel.server.application, environ)
                 for i, (channel, environ) in enumerate(zip(batch, environs, strict=True)) if environ is not None]
        if steps:
            error = self._batching.run_shared(steps)
            if error is not None:
                logger.error("shared commit of %d redemptions failed, nothing kept: %s", len(steps), error)
                answers = [None if env is None else self._batching.failed(env) for env in environs]
        for channel, answer, environ in zip(batch, answers, environs, strict=True):
            channel.task_class = KeptTask  # any thread may serve this channel next: KeptTask falls back
            _keep(answer, environ)
            try:
                channel.service()  # waitress writes the kept answer (or, with none, serves it normally)
            except Exception:  # one broken channel must not leave the rest of the batch unanswered
                logger.exception("could not answer a batched request")
            finally:
                _keep(None, None)
