"""``init``'s printer step: which printer, found where possible, checked before it is written down."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from typing import Any

import click

from pos_referral.printing.discovery import parse_usb_ids, probe_network, serial_ports, usb_printers

KINDS = ("preview", "network", "serial", "usb", "none")


@dataclass
class PrinterAnswer:
    """The ``[printer]`` values chosen; ``probe_failed`` says why a network printer did not answer."""

    values: dict[str, Any]
    probe_failed: str | None = None

    @property
    def kind(self) -> str:
        return str(self.values["type"])


def _pick(found: list[Any], what: str, typed: str | None, ask: bool) -> str:
    """A value from the list shown (by number or as typed), the one given, or the only one found."""
    if typed:
        return typed
    if not ask:
        if len(found) == 1:
            return str(found[0].value)
        raise click.UsageError(f"give the {what} (found: {', '.join(f.value for f in found) or 'none'})")
    for i, item in enumerate(found, 1):
        click.echo(f"  {i}) {item.label}")
    answer = str(click.prompt(f"The {what} (a number above, or type it)",
                              default="1" if found else None)).strip()
    if answer.isdigit() and 1 <= int(answer) <= len(found):
        return str(found[int(answer) - 1].value)
    return answer


def ask_printer(kind: str | None, *, host: str | None, port: int, serial_port: str | None, baudrate: int,
                usb: str | None, paper: int | None, ask: bool) -> PrinterAnswer:
    """The printer, from the options given, asking only for what is missing (never when ``ask`` is False)."""
    if kind is None:
        kind = "preview"
        if ask:
            click.echo("Receipt printer: preview = none yet (receipts saved as pictures), network = on the shop's "
                       "network (Ethernet/Wi-Fi), serial, usb, none")
            kind = click.prompt("Printer", type=click.Choice(KINDS), default="preview")
    values: dict[str, Any] = {"type": kind}
    if kind in ("network", "serial", "usb"):
        values["paper_mm"] = paper or (click.prompt("Paper width (mm)", type=click.Choice(["80", "58"]),
                                                    default="80") if ask else 80)
        values["paper_mm"] = int(values["paper_mm"])
    answer = PrinterAnswer(values)
    if kind == "network":
        if not host and not ask:
            raise click.UsageError("a network printer needs --printer-host (its address, e.g. 192.168.1.60)")
        host = host or str(click.prompt("The printer's address (its self-test page shows it)")).strip()
        if ":" in host and host.count(":") == 1:
            host, _, port_text = host.partition(":")
            port = int(port_text)
        values.update(host=host, port=port)
        failed = probe_network(host, port)
        answer.probe_failed = f"the printer did not answer: {failed}" if failed else None
    elif kind == "serial":
        values.update(serial_url=_pick(serial_ports(), "serial port", serial_port, ask), baudrate=baudrate)
    elif kind == "usb":
        text = _pick(usb_printers(), "USB printer's vendor:product ids (e.g. 04b8:0202)", usb, ask)
        try:
            vendor, product = parse_usb_ids(text)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--usb") from None
        values.update(usb_vendor=vendor, usb_product=product)
        if importlib.util.find_spec("usb") is None:  # python-escpos talks to USB through pyusb
            answer.probe_failed = "USB printing needs pyusb: pip install pyusb (and access to the USB device)"
    return answer
