"""Byte links to real printers: TCP port 9100, serial (pyserial URL), USB (python-escpos + pyusb).

Every call has a timeout from config (a few seconds, not python-escpos's 60 s). A job is delivered on
its own connection: status first (``DLE EOT``), then the bytes, then, for a printer that answers
status at all, one more status query whose answer proves the printer read every byte before it.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
from typing import Any, Protocol

from pos_referral.printing.status import DLE_EOT, PrinterError, PrinterStatus, parse_status, unreachable

logger = logging.getLogger(__name__)

BUSY_SECONDS = 30.0  # a job waits this long for a POS receipt going through the print proxy


class Link(Protocol):
    def write(self, data: bytes) -> None: ...
    def read(self, size: int) -> bytes: ...  # b"" when nothing came within the timeout
    def close(self) -> None: ...


class SocketLink:
    def __init__(self, host: str, port: int, timeout: float) -> None:
        self._sock = socket.create_connection((host, port), timeout=timeout)
        self._sock.settimeout(timeout)
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # a status query goes out at once

    def write(self, data: bytes) -> None:
        self._sock.sendall(data)

    def read(self, size: int) -> bytes:
        try:
            data = self._sock.recv(size)
        except TimeoutError:
            return b""
        if not data:
            raise ConnectionError("connection closed by the printer")
        return data

    def close(self) -> None:
        with contextlib.suppress(OSError):  # wakes a thread reading this link (the print proxy's copy back)
            self._sock.shutdown(socket.SHUT_RDWR)
        self._sock.close()


class SerialLink:
    def __init__(self, url: str, baudrate: int, timeout: float) -> None:
        import serial

        self._port = serial.serial_for_url(url, baudrate=baudrate, timeout=timeout, write_timeout=timeout)

    def write(self, data: bytes) -> None:
        self._port.write(data)
        self._port.flush()

    def read(self, size: int) -> bytes:
        data: bytes = self._port.read(size)
        return data

    def close(self) -> None:
        self._port.close()


class UsbLink:
    def __init__(self, vendor: int, product: int, timeout: float) -> None:
        try:
            from escpos.printer import Usb
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise PrinterError(f"USB printing needs pyusb ({exc})") from None
        self._printer: Any = Usb(vendor, product, timeout=int(timeout * 1000))
        self._printer.open()

    def write(self, data: bytes) -> None:
        self._printer._raw(data)

    def read(self, size: int) -> bytes:
        try:
            data: bytes = self._printer._read()[:size]
        except Exception:  # pyusb raises its own timeout types
            return b""
        return data

    def close(self) -> None:
        self._printer.close()


class LinkPrinter:
    """A ``Printer`` over a link opened per job; one job or status query at a time (a lock per device)."""

    def __init__(self, name: str, opener: Any) -> None:
        self.name, self._open = name, opener
        self._lock = threading.Lock()
        self._answers_status = False  # learnt: once the printer answered DLE EOT, silence is a fault

    @property
    def lock(self) -> threading.Lock:
        """The device lock: our jobs and the print proxy's receipts take turns (proxy/relay.py)."""
        return self._lock

    def open_link(self) -> Link:
        """A link of its own (the print proxy's, held for a POS connection); PrinterError when unreachable."""
        return self._connect()

    def _take(self) -> None:
        if not self._lock.acquire(timeout=BUSY_SECONDS):
            raise PrinterError(f"{self.name}: busy with a receipt from the POS (print proxy)")

    def _query(self, link: Link) -> PrinterStatus | None:
        answers: list[int | None] = []
        for n in (1, 2, 4):
            link.write(DLE_EOT + bytes([n]))
            data = link.read(1)
            if not data:
                if n == 1:
                    return None
                answers.append(None)
                continue
            answers.append(data[0])
        first = answers[0]
        return parse_status(first, answers[1], answers[2]) if first is not None else None

    def _connect(self) -> Link:
        try:
            link: Link = self._open()
        except PrinterError:
            raise
        except Exception as exc:
            raise PrinterError(f"{self.name}: cannot connect ({exc})") from None
        return link

    def send(self, data: bytes) -> None:
        self._take()
        try:
            link = self._connect()
            try:
                before = self._query(link)
                if before is None and self._answers_status:
                    raise PrinterError(f"{self.name}: printer does not answer")
                if before is not None:
                    self._answers_status = True
                    if not before.ready:
                        raise PrinterError(f"{self.name}: {before.summary()}")
                link.write(data)
                if before is not None:  # the answer comes after the printer has read every byte of the job
                    link.write(DLE_EOT + b"\x01")
                    if not link.read(1):
                        raise PrinterError(f"{self.name}: no answer after the job; it may not have arrived")
            except PrinterError:
                raise
            except Exception as exc:
                raise PrinterError(f"{self.name}: {type(exc).__name__}: {exc}") from None
            finally:
                link.close()
        finally:
            self._lock.release()

    def status(self) -> PrinterStatus:
        try:
            self._take()
        except PrinterError as exc:
            return unreachable(str(exc))
        try:
            try:
                link = self._connect()
            except PrinterError as exc:
                return unreachable(str(exc))
            try:
                answer = self._query(link)
            except Exception as exc:
                return unreachable(f"{self.name}: {type(exc).__name__}: {exc}")
            finally:
                link.close()
        finally:
            self._lock.release()
        if answer is not None:
            self._answers_status = True
        return answer or (unreachable(f"{self.name}: printer does not answer") if self._answers_status
                          else PrinterStatus())

    def close(self) -> None:
        """Nothing stays open between jobs."""
