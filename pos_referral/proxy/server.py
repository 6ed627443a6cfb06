"""The proxy's listening socket: a POS connection is taken only when the printer can be reached.

For each POS connection the printer is connected first (under the device lock, so not in the middle
of one of our own jobs); when it cannot be, the POS connection is reset at once and the POS sees the
printer as offline, having had no byte accepted that could not be delivered.
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from pos_referral.printing.transports import Link
from pos_referral.proxy.footers import FooterCaller
from pos_referral.proxy.relay import DeviceLock, Relay, reset
from pos_referral.proxy.state import PrinterState
from pos_referral.proxy.stats import ProxyStats
from pos_referral.proxy.stream import ReceiptStream

logger = logging.getLogger(__name__)


@runtime_checkable
class PrinterDevice(Protocol):
    """A printer the proxy can hold a link to (``printing/transports.LinkPrinter``: network, serial, USB)."""

    name: str

    @property
    def lock(self) -> DeviceLock: ...

    def open_link(self) -> Link: ...


@dataclass(frozen=True)
class Decoding:
    """The printer profile's code pages: ESC t n -> Python codec, and the page footers are written in."""

    codecs: Mapping[int, str]
    footer_page: int


def parse_listen(listen: str) -> tuple[str, int]:
    """``"0.0.0.0:9100"`` / ``"[::]:9100"`` -> (host, port), port 0 meaning any free one; a clear message
    naming the key otherwise."""
    host, _, port = listen.rpartition(":")
    if not host or not port.isdigit() or not 0 <= int(port) < 65536:
        raise ValueError(f'[proxy] listen must be "host:port" (e.g. "0.0.0.0:9100"), not {listen!r}')
    return host.strip("[]"), int(port)


class ProxyServer:
    """Started by ``serve`` (when ``[proxy] enabled``) or ``pos-referral proxy``; ``stop()`` ends it."""

    def __init__(self, listen: tuple[str, int], device: PrinterDevice, footers: FooterCaller, decoding: Decoding,
                 stats: ProxyStats, *, chunk: int = 16384) -> None:
        self.listen, self.device, self.footers, self.decoding, self.stats = listen, device, footers, decoding, stats
        self.chunk = chunk  # the largest write to the printer (a serial link gets less within its timeout)
        self._stop = threading.Event()
        self._sock: socket.socket | None = None
        self._threads: list[threading.Thread] = []

    @property
    def address(self) -> tuple[str, int]:
        assert self._sock is not None, "start() first"
        host, port = self._sock.getsockname()[:2]
        return str(host), int(port)

    def start(self) -> None:
        host, port = self.listen
        sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(16)
        sock.settimeout(0.25)
        self._sock = sock
        self._spawn(self._accept_loop, "proxy-accept")
        logger.info("print proxy on %s:%d -> %s", host, self.address[1], self.device.name)

    def stop(self) -> None:
        self._stop.set()
        if self._sock is not None:
            self._sock.close()
        for thread in list(self._threads):
            thread.join(timeout=3)
        self.footers.close()

    def _spawn(self, target: Callable[..., None], name: str, *args: object) -> None:
        self._threads = [t for t in self._threads if t.is_alive()]
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _accept_loop(self) -> None:
        assert self._sock is not None
        while not self._stop.is_set():
            try:
                pos, address = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                if self._stop.is_set():
                    return
                continue
            peer = f"{address[0]}:{address[1]}"
            self._spawn(self._serve, f"proxy-{peer}", pos, peer)

    def _serve(self, pos: socket.socket, peer: str) -> None:
        pos.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        link = self._connect_printer(peer)
        if link is None:
            reset(pos)
            return
        self.stats.count("connections")

        def footer(text: str) -> bytes | None:
            return self.footers.footer(text, peer)

        stream = ReceiptStream(footer, PrinterState(self.decoding.codecs, self.decoding.footer_page))
        try:
            Relay(pos, peer, link, self.device.lock, stream, self.stats, self._stop, chunk=self.chunk).run()
        except Exception:  # one connection's bug must not stop the proxy
            logger.exception("print proxy connection from %s failed", peer)
            reset(pos)

    def _connect_printer(self, peer: str) -> Link | None:
        lock = self.device.lock
        while not lock.acquire(timeout=0.25):
            if self._stop.is_set():
                return None
        try:
            return self.device.open_link()
        except Exception as exc:
            self.stats.count("refused", f"printer {self.device.name} unreachable: {exc}")
            logger.warning("POS %s refused: printer %s cannot be reached (%s)", peer, self.device.name, exc)
            return None
        finally:
            lock.release()
