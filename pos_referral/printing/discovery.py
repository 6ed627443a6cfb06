"""Finding the shop's receipt printer for ``pos-referral init``: serial ports, USB printers, a network probe.

Discovery is separate from the printers themselves (printing/printers.py): it only lists and knocks,
never sends a job. Every call is quick and bounded (a network probe has a short timeout).
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path

SYSFS_USB = Path("/sys/bus/usb/devices")
USB_PRINTER_CLASS = "07"


@dataclass(frozen=True)
class Found:
    """One candidate: what to write into ``[printer]`` and how to show it."""

    value: str  # serial: the port; usb: "vvvv:pppp" (hex)
    label: str


def serial_ports() -> list[Found]:
    """Serial ports pyserial sees (USB-serial adapters first: most receipt printers on serial use one)."""
    try:
        from serial.tools import list_ports
    except ImportError:  # pragma: no cover - pyserial is a dependency
        return []
    ports = sorted(list_ports.comports(), key=lambda p: (p.vid is None, p.device))
    return [Found(p.device, f"{p.device} ({p.description})" if p.description and p.description != "n/a"
                  else p.device) for p in ports]


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="ascii", errors="replace").strip()
    except OSError:
        return ""


def usb_printers(root: Path = SYSFS_USB) -> list[Found]:
    """USB devices with a printer interface (class 07), from Linux's sysfs; elsewhere an empty list
    (the owner then types the ids shown by the printer's self-test page or the system's device list)."""
    found: dict[str, Found] = {}
    if not root.is_dir():
        return []
    for interface in sorted(root.glob("*:*")):
        if _read(interface / "bInterfaceClass") != USB_PRINTER_CLASS:
            continue
        device = interface.parent if (interface.parent / "idVendor").exists() else root / interface.name.split(":")[0]
        vendor, product = _read(device / "idVendor"), _read(device / "idProduct")
        if vendor and product:
            name = " ".join(filter(None, (_read(device / "manufacturer"), _read(device / "product"))))
            found[f"{vendor}:{product}"] = Found(f"{vendor}:{product}", f"{vendor}:{product} {name}".strip())
    return list(found.values())


def parse_usb_ids(text: str) -> tuple[int, int]:
    """``"04b8:0202"`` (hex, as lsusb shows them) -> (0x04b8, 0x0202); ValueError when not that form."""
    vendor, sep, product = text.strip().lower().replace("0x", "").partition(":")
    if not sep:
        raise ValueError(f"expected vendor:product in hex, e.g. 04b8:0202, not {text!r}")
    ids = int(vendor, 16), int(product, 16)
    if not all(0 < i <= 0xFFFF for i in ids):
        raise ValueError(f"USB ids are 4 hex digits each, e.g. 04b8:0202, not {text!r}")
    return ids


def probe_network(host: str, port: int, timeout: float = 2.0) -> str | None:
    """None when something accepts a connection at host:port within ``timeout``, else why not."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return None
    except TimeoutError:
        return f"no answer from {host}:{port} within {timeout:.0f} s (is the printer on, and on this network?)"
    except socket.gaierror:
        return f"{host} is not a known address"
    except OSError as exc:
        return f"{host}:{port}: {exc.strerror or exc}"
