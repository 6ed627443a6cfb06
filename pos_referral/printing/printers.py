"""Printers from config: preview (default), file, network, serial, usb, none; the ``Printer`` protocol.

Services talk only to ``Printer``: ``send(bytes)`` raises ``PrinterError`` when the job was not
delivered, ``status()`` never raises (a ``PrinterStatus`` says what is wrong), ``close()``.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Protocol, runtime_checkable

from pos_referral.config import PrinterSection
from pos_referral.printing.status import PrinterError, PrinterStatus, unreachable
from pos_referral.printing.transports import LinkPrinter, SerialLink, SocketLink, UsbLink
from pos_referral.private_files import private_dir, write_private

logger = logging.getLogger(__name__)

__all__ = ["Printer", "PrinterError", "PrinterStatus", "make_printer"]


class Printer(Protocol):
    def send(self, data: bytes) -> None: ...
    def status(self) -> PrinterStatus: ...
    def close(self) -> None: ...


@runtime_checkable
class PreviewSink(Protocol):
    """A printer that also keeps the text and PNG of each job (the preview printer)."""

    def save_preview(self, name: str, text: str, png: bytes) -> None: ...


class PreviewPrinter:
    """Writes ``<name>.bin``, ``.txt`` and ``.png`` per job into a folder: no hardware needed.

    Receipts carry first names and codes, so the folder is 0700 and each file 0600 (private_files.py).
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._lock = threading.Lock()
        self._name = ""

    def save_preview(self, name: str, text: str, png: bytes) -> None:
        with self._lock:
            private_dir(self.folder)
            write_private(self.folder / f"{name}.txt", text.encode("utf-8"))
            write_private(self.folder / f"{name}.png", png)
            self._name = name

    def send(self, data: bytes) -> None:
        with self._lock:
            try:
                private_dir(self.folder)
                name = self._name or f"job-{len(list(self.folder.glob('*.bin'))) + 1}"
                write_private(self.folder / f"{name}.bin", data)
            except OSError as exc:
                raise PrinterError(f"preview folder {self.folder}: {exc}") from None
            finally:
                self._name = ""

    def status(self) -> PrinterStatus:
        return PrinterStatus(online=True, paper="ok", cover_open=False)

    def close(self) -> None:
        """Nothing to release."""


class FilePrinter:
    """Appends each job to a file or device node (``/dev/usb/lp0``); status is unknown."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def send(self, data: bytes) -> None:
        with self._lock:
            try:
                with self.path.open("ab") as out:
                    out.write(data)
            except OSError as exc:
                raise PrinterError(f"{self.path}: {exc.strerror or exc}") from None

    def status(self) -> PrinterStatus:
        if not self.path.parent.is_dir():
            return unreachable(f"{self.path.parent} does not exist")
        return PrinterStatus()

    def close(self) -> None:
        """Nothing stays open between jobs."""


class NoPrinter:
    """``type = "none"``: jobs are refused (and stay visible in the queue) instead of vanishing."""

    def send(self, data: bytes) -> None:
        raise PrinterError("no printer configured ([printer] type = none)")

    def status(self) -> PrinterStatus:
        return unreachable("no printer configured")

    def close(self) -> None:
        """Nothing to release."""


def make_printer(section: PrinterSection, data_dir: Path) -> Printer:
    """The printer ``[printer]`` describes; nothing is opened until the first job or status query."""
    timeout = section.timeout
    if section.type == "preview":
        folder = Path(section.folder)
        return PreviewPrinter(folder if folder.is_absolute() else data_dir / folder)
    if section.type == "file":
        if not section.path:
            raise ValueError("[printer] type = file needs path")
        return FilePrinter(Path(section.path))
    if section.type == "network":
        if not section.host:
            raise ValueError("[printer] type = network needs host")
        host, port = section.host, section.port
        return LinkPrinter(f"{host}:{port}", lambda: SocketLink(host, port, timeout))
    if section.type == "serial":
        if not section.serial_url:
            raise ValueError("[printer] type = serial needs serial_url (e.g. /dev/ttyUSB0)")
        url, baud = section.serial_url, section.baudrate
        return LinkPrinter(url, lambda: SerialLink(url, baud, timeout))
    if section.type == "usb":
        if not (section.usb_vendor and section.usb_product):
            raise ValueError("[printer] type = usb needs usb_vendor and usb_product")
        vendor, product = section.usb_vendor, section.usb_product
        return LinkPrinter(f"usb {vendor:04x}:{product:04x}", lambda: UsbLink(vendor, product, timeout))
    return NoPrinter()
