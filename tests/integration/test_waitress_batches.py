"""Batched requests (``web.waitress_batches``) over real sockets: answers leave only after the batch's
COMMIT, several tills share one batch, a failed COMMIT answers every request of it."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import pytest

from pos_referral.web.waitress_batches import Answer, Batching, Writer
from tests.browser_support import LiveServer
from tests.integration.test_waitress_inline import connect, pipelined, read_responses, request


class Commits:
    """A stand-in for the store's shared commit: records batch sizes, can hold a batch or fail it."""

    def __init__(self) -> None:
        self.sizes: list[int] = []
        self.hold = threading.Event()
        self.hold.set()
        self.entered = threading.Event()
        self.fail = False

    def run_shared(self, steps: Sequence[Callable[[], None]]) -> Exception | None:
        for step in steps:
            step()
        self.sizes.append(len(steps))
        self.entered.set()
        self.hold.wait(10)  # the COMMIT's fsync, as slow as the test wants it
        return RuntimeError("disk full") if self.fail else None


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    payload = f"{threading.current_thread().name} {environ['PATH_INFO']} {body.decode()}".encode()
    start_response("201 Created", [("Content-Type", "text/plain"), ("Content-Length", str(len(payload)))])
    return [payload]


def failed(environ: dict[str, Any]) -> Answer:
    return "500 Internal Server Error", [("Content-Length", "7")], b"nothing"


@pytest.fixture
def commits() -> Commits:
    return Commits()


@pytest.fixture
def server(commits: Commits) -> Iterator[LiveServer]:
    batching = Batching(accepts=lambda method, path, headers: method == "POST" and path == "/write",
                        run_shared=commits.run_shared, failed=failed)
    live = LiveServer(app, threads=2, inline=lambda method, path: False, batching=batching).start()
    yield live
    commits.hold.set()
    live.stop()


def test_a_batched_answer_leaves_only_after_its_commit(server: LiveServer, commits: Commits) -> None:
    commits.hold.clear()
    with connect(server) as sock:
        sock.sendall(request("POST", "/write", "sale-1"))
        assert commits.entered.wait(5)
        sock.settimeout(0.3)
        with pytest.raises(TimeoutError):  # the app has answered, but the COMMIT has not returned
            sock.recv(1)
        sock.settimeout(10)
        commits.hold.set()
        assert read_responses(sock, 1) == [(201, "redemption-writer /write sale-1")]


def test_tills_arriving_during_a_commit_share_the_next_batch(server: LiveServer, commits: Commits) -> None:
    commits.hold.clear()
    socks = [connect(server) for _ in range(6)]
    try:
        socks[0].sendall(request("POST", "/write", "0"))
        assert commits.entered.wait(5)
        for i, sock in enumerate(socks[1:], start=1):
            sock.sendall(request("POST", "/write", str(i)))
        with connect(server) as other:  # other calls go on meanwhile, on the worker pool
            other.sendall(request("GET", "/page"))
            status, body = read_responses(other, 1)[0]
            assert status == 201 and body.startswith("waitress-")
        commits.hold.set()
        answers = [read_responses(sock, 1)[0] for sock in socks]
    finally:
        for sock in socks:
            sock.close()
    assert answers == [(201, f"redemption-writer /write {i}") for i in range(6)]
    assert commits.sizes[0] == 1 and sum(commits.sizes) == 6 and max(commits.sizes[1:]) > 1


def test_a_failed_commit_answers_every_request_of_its_batch_with_the_failure(server: LiveServer,
                                                                            commits: Commits) -> None:
    commits.fail = True
    with connect(server) as sock:
        sock.sendall(request("POST", "/write", "sale-1"))
        assert read_responses(sock, 1) == [(500, "nothing")]
    commits.fail = False
    with connect(server) as sock:  # the writer goes on with the next batch
        sock.sendall(request("POST", "/write", "sale-2"))
        assert read_responses(sock, 1) == [(201, "redemption-writer /write sale-2")]


def test_pipelined_batched_and_other_requests_are_answered_in_order(server: LiveServer) -> None:
    answers = pipelined(server, request("POST", "/write", "1"), request("GET", "/page"), request("POST", "/write", "3"),
                        request("POST", "/write", "4"))
    assert [b.split(" ", 1)[1] for _, b in answers] == ["/write 1", "/page ", "/write 3", "/write 4"]
    assert answers[0][1].startswith("redemption-writer") and answers[1][1].startswith("waitress-")


def test_a_client_gone_before_the_commit_does_not_stop_the_writer(server: LiveServer, commits: Commits) -> None:
    commits.hold.clear()
    gone = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    gone.sendall(request("POST", "/write", "left"))
    assert commits.entered.wait(5)
    gone.close()
    commits.hold.set()
    with connect(server) as sock:
        sock.sendall(request("POST", "/write", "next"))
        assert read_responses(sock, 1) == [(201, "redemption-writer /write next")]


def test_a_channel_that_cannot_be_served_does_not_leave_its_batch_unanswered(commits: Commits) -> None:
    """A broken request in a batch (here: no request left on its channel) is logged and skipped."""
    gate, served = threading.Event(), threading.Event()

    class Channel:
        requests: list[Any] = []  # no environ can be built: each is served alone in pass 2

        def __init__(self, serve: Callable[[], None]) -> None:
            self.serve = serve

        def service(self) -> None:
            self.serve()

    def broken() -> None:
        raise IndexError("no request")

    writer = Writer(Batching(accepts=lambda *_: True, run_shared=commits.run_shared, failed=failed))
    try:
        writer.submit(Channel(lambda: gate.wait(5)))  # holds the writer while the next two queue up
        writer.submit(Channel(broken))
        writer.submit(Channel(served.set))
        gate.set()
        assert served.wait(5)  # the broken one came first in the same batch
    finally:
        writer.stop()
