"""What ``serve`` and ``central serve`` do before waitress starts: say where things are, check the port
and the fonts, and keep waitress's per-request warnings quiet."""

from __future__ import annotations

import _thread
import contextlib
import errno
import logging
import signal
import socket
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

import click

from pos_referral.config import PrinterSection, Settings
from pos_referral.logs import add_log_file, configure_console, remove_log_file
from pos_referral.printing import fonts
from pos_referral.proxy.server import parse_listen

logger = logging.getLogger(__name__)

# systemd's stop, Ctrl+C, and Ctrl+Break (what the Windows service sends its ``serve``)
STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGINT", "SIGBREAK") if hasattr(signal, name))


@contextlib.contextmanager
def stop_on_signals() -> Iterator[None]:
    """A stop signal ends waitress's loop as Ctrl+C does (``SystemExit`` in the main thread): waitress stops
    accepting, lets the requests in hand finish (up to 5 s) and returns; the ``finally`` after it stops the
    workers. Further signals are ignored meanwhile, so the clean-up itself is never cut short."""

    def stop(signum: int, _frame: FrameType | None) -> None:
        for number in STOP_SIGNALS:
            signal.signal(number, signal.SIG_IGN)
        logger.info("stopping on %s: finishing the requests and the print job in hand", signal.Signals(signum).name)
        raise SystemExit(0)

    previous = {number: signal.signal(number, stop) for number in STOP_SIGNALS}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def stop_when_stdin_closes() -> None:
    """``serve --stop-on-stdin-close`` (how the Windows service stops its ``serve``): end of input is a stop
    signal, handled by ``stop_on_signals`` like any other."""

    def watch() -> None:
        stream = sys.stdin.buffer if sys.stdin is not None else None
        while stream is not None and stream.read(1024):
            pass
        logger.info("standard input closed: stopping")
        _thread.interrupt_main(STOP_SIGNALS[0])

    threading.Thread(target=watch, name="stdin-watch", daemon=True).start()


def start_log_file(settings: Settings, cli_level: str | None) -> logging.Handler | None:
    """The level (``--log-level``, else ``[log] level``) and the rotating log file ``[log] file``."""
    section = settings.config.log
    configure_console(cli_level or section.level)
    if not section.file:
        return None
    path = Path(section.file)
    path = path if path.is_absolute() else settings.data_dir / path
    handler = add_log_file(path, max_bytes=section.max_bytes, backup_count=section.backup_count)
    click.echo(f"Log: {path}")
    return handler


def stop_log_file(handler: logging.Handler | None) -> None:
    if handler is not None:
        remove_log_file(handler)


def quiet_queue_warnings() -> None:
    """Silence waitress's "Task queue depth is N" warning, logged on every request that finds all
    threads busy: at a till a burst of requests queued for a millisecond is normal, and formatting
    and writing that line per request cost ~5% of a quote under load (the bench baseline is quiet too)."""
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)


def say_where_links_point(settings: Settings) -> None:
    """Said once at start-up (not per mail or per receipt): where printed QR codes and mails lead,
    when ``[store] public_base_url`` is empty and phones may not reach that address."""
    warning = settings.public_base_warning()
    if warning:
        click.echo(f"Warning: {warning}", err=True)


def describe_printer(section: PrinterSection, data_dir: Path) -> str:
    """The printer in use, as a shop owner would recognise it."""
    paper = f"{section.profile}, {section.paper_mm} mm"
    if section.type == "preview":
        folder = Path(section.folder)
        return f"none yet - receipts are saved as pictures in {folder if folder.is_absolute() else data_dir / folder}"
    if section.type == "network":
        return f"network printer at {section.host}:{section.port} ({paper})"
    if section.type == "serial":
        return f"serial printer on {section.serial_url} at {section.baudrate} baud ({paper})"
    if section.type == "usb":
        return f"USB printer {section.usb_vendor:04x}:{section.usb_product:04x} ({paper})"
    if section.type == "file":
        return f"printer device {section.path} ({paper})"
    return "none ([printer] type = none: receipts wait in the queue)"


def say_where_things_are(settings: Settings) -> None:
    """Three lines at start-up: the config file, the address on receipts, the printer (and the loopback
    warning when phones cannot open that address)."""
    click.echo(f"Config: {settings.config_origin()}")
    click.echo(f"Receipts' QR codes point at: {settings.public_base}")
    click.echo(f"Printer: {describe_printer(settings.config.printer, settings.data_dir)}")
    say_where_links_point(settings)


def check_fonts(settings: Settings) -> None:
    """The receipt fonts travel with the package (printing/fonts.py), so one is missing only from a broken
    install: one warning line, and a stop when a Thai shop has no Thai font at all."""
    config = settings.config
    if config.printer.type == "none":
        return
    language = config.printer.language or config.store.language
    library = fonts.library()
    if language == "th" and library.find("thai") is None:
        raise click.ClickException(f"no font for Thai receipts: reinstall pos-referral (its fonts folder "
                                   f"{fonts.SHIPPED} is missing) or install fonts-thai-tlwg")
    try:
        library.require("mono")
    except fonts.FontMissingError as exc:
        click.echo(f"Warning: {exc}", err=True)


def check_port_free(host: str, port: int) -> None:
    """Stop with one line when another service already listens on the port (before any worker starts)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as waitress does
        try:
            probe.bind((host.strip("[]"), port))
        except OSError as exc:
            raise port_error(exc, host, port) from None


def port_error(exc: OSError, host: str, port: int) -> click.ClickException:
    if exc.errno == errno.EADDRINUSE:
        return click.ClickException(f"port {port} is in use: stop the other service or use --port")
    if exc.errno == errno.EACCES:
        return click.ClickException(f"port {port} needs administrator rights: use --port 8000 or another above 1023")
    if exc.errno == errno.EADDRNOTAVAIL:
        return click.ClickException(f"{host} is not an address of this machine: check [server] host")
    return click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror or exc}")


def check_proxy(settings: Settings) -> None:
    """With ``[proxy] enabled``: a printer it can forward to and a free port, said before anything starts."""
    config = settings.config
    if not config.proxy.enabled:
        return
    if config.printer.type not in ("network", "serial", "usb"):
        raise click.ClickException(f'[proxy] forwards to a [printer] of type "network", "serial" or "usb", '
                                   f'not "{config.printer.type}": set [printer] type and its address')
    try:
        host, port = parse_listen(config.proxy.listen)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    check_port_free(host, port)
