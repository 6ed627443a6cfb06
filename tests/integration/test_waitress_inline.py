"""waitress with chosen requests answered on its loop thread (``web.waitress_inline``), over real sockets."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pytest
from waitress.channel import HTTPChannel

from pos_referral.web.perf_hot_path import answered_inline, batched
from tests.browser_support import LiveServer

RELEASE = threading.Event()


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """Answers with the serving thread's name and the request's body; ``/block`` waits for RELEASE."""
    if environ["PATH_INFO"] == "/block":
        RELEASE.wait(10)
    body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    payload = f"{threading.current_thread().name} {environ['PATH_INFO']} {body.decode()}".encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(payload)))])
    return [payload]


def fast(method: str, path: str) -> bool:
    return method == "POST" and path == "/fast"


@pytest.fixture
def server() -> Iterator[LiveServer]:
    RELEASE.clear()
    live = LiveServer(app, threads=1, inline=fast).start()
    yield live
    RELEASE.set()
    live.stop()


def request(method: str, path: str, body: str = "") -> bytes:
    return (f"{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n\r\n{body}").encode()


def read_responses(sock: socket.socket, count: int) -> list[tuple[int, str]]:
    """``count`` HTTP responses (status, body) read from ``sock`` in the order they came."""
    data, out = b"", []
    while len(out) < count:
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            assert chunk, f"connection closed after {len(out)} responses"
            data += chunk
        head, _, data = data.partition(b"\r\n\r\n")
        lines = head.decode().split("\r\n")
        headers = {k.lower(): v for k, _, v in (line.partition(": ") for line in lines[1:])}
        length = int(headers["content-length"])
        while len(data) < length:
            data += sock.recv(65536)
        out.append((int(lines[0].split()[1]), data[:length].decode()))
        data = data[length:]
    return out


def connect(live: LiveServer) -> socket.socket:
    return socket.create_connection(("127.0.0.1", live.port), timeout=10)


def test_chosen_requests_run_on_the_loop_thread_and_others_on_the_pool(server: LiveServer) -> None:
    with connect(server) as sock:
        sock.sendall(request("POST", "/fast", "a"))
        sock.sendall(request("GET", "/other"))
        sock.sendall(request("POST", "/other", "b"))
        (s1, b1), (s2, b2), (s3, b3) = read_responses(sock, 3)
    assert (s1, s2, s3) == (200, 200, 200)
    assert b1 == "live-server /fast a"  # the thread that runs server.run(): waitress's loop
    assert b2.startswith("waitress-") and b2.endswith(" /other ")
    assert b3.startswith("waitress-") and b3.endswith(" /other b")


def pipelined(live: LiveServer, *requests: bytes) -> list[tuple[int, str]]:
    """Send ``requests`` in one write on one connection; their answers, in the order they came."""
    with connect(live) as sock:
        sock.sendall(b"".join(requests))
        return read_responses(sock, len(requests))


def test_pipelined_requests_are_answered_in_order_whichever_thread_serves_them(server: LiveServer) -> None:
    answers = pipelined(server, request("POST", "/fast", "1"), request("GET", "/other"), request("POST", "/fast", "3"),
                        request("POST", "/fast", "4"))
    assert [b.split(" ", 1)[1] for _, b in answers] == ["/fast 1", "/other ", "/fast 3", "/fast 4"]


def test_inline_answers_do_not_wait_for_busy_workers(server: LiveServer) -> None:
    """The pool's only thread is stuck (a slow disk, say): a quote is still answered at once."""
    with connect(server) as slow, connect(server) as till:
        slow.sendall(request("GET", "/block"))
        till.sendall(request("POST", "/fast", "q"))
        assert read_responses(till, 1) == [(200, "live-server /fast q")]
        RELEASE.set()
        status, body = read_responses(slow, 1)[0]
    assert status == 200 and body.startswith("waitress-")


def test_each_answer_leaves_in_one_send(server: LiveServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """Status line, headers and body together: one TCP segment per answer, on the loop thread and the pool."""
    sends: list[bytes] = []
    original = HTTPChannel.send

    def send(channel: HTTPChannel, data: bytes, do_close: bool = True) -> int:
        sends.append(bytes(data))
        return int(original(channel, data, do_close))

    monkeypatch.setattr(HTTPChannel, "send", send)
    answers = pipelined(server, request("POST", "/fast", "1"), request("POST", "/other", "2"))
    assert [b.split(" ", 1)[1] for _, b in answers] == ["/fast 1", "/other 2"]
    assert len(sends) == 2, sends
    assert all(s.startswith(b"HTTP/1.1 200 OK\r\n") for s in sends)
    assert sends[0].endswith(b"/fast 1") and sends[1].endswith(b"/other 2")


def test_a_malformed_request_on_an_inline_path_gets_waitress_own_error(server: LiveServer) -> None:
    with connect(server) as sock:
        sock.sendall(b"POST /fast HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n")
        status, _ = read_responses(sock, 1)[0]
    assert status == 400


def test_the_store_service_answers_the_quote_inline_and_batches_redemptions() -> None:
    assert answered_inline("POST", "/api/v1/checkouts/quote")
    assert not answered_inline("GET", "/api/v1/checkouts/quote")
    assert not answered_inline("POST", "/api/v1/redemptions")  # it waits for a durable COMMIT: never inline
    assert batched("POST", "/api/v1/redemptions", {}) and batched("POST", "/api/v1/vouchers/V1/redeem", {})
    assert not batched("POST", "/api/v1/checkouts/quote", {}) and not batched("GET", "/api/v1/redemptions", {})
