"""``pos-referral init``: set up a shop in a few questions (or the same with options and ``--yes``).

It writes the shop's own ``store.toml`` (with ``programs/`` and ``messages/``) into the data folder,
creates the database and the first manager, and says how phones will reach the shop. Nothing is
written into the installed package.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click
from pydantic import ValidationError

from pos_referral.bootstrap import build_store
from pos_referral.cli.init_printer import KINDS, PrinterAnswer, ask_printer
from pos_referral.cli.options import Obj
from pos_referral.cli.printer import print_test_page
from pos_referral.config import ConfigError, StoreConfig, load_settings
from pos_referral.config_sources import DEFAULT_DATA_DIR, ENV_PREFIX, Sources, shipped_config_file, shop_config_file
from pos_referral.netinfo import lan_address, local_timezone
from pos_referral.printing.status import PrinterError
from pos_referral.services.staff import StaffError, add_staff, check_pin
from pos_referral.shop_config import ShopConfigExists, set_values, write_shop_config

LANGUAGES = ("en", "id", "nb", "th", "it", "pl")
CURRENCY_OF = {"en": "EUR", "id": "IDR", "nb": "NOK", "th": "THB", "it": "EUR", "pl": "PLN"}


def _ask(value: Any, question: str, default: Any, ask: bool, **kwargs: Any) -> Any:
    """The option's value if given, else the answer to ``question`` (or ``default`` with --yes)."""
    if value is not None:
        return value
    return click.prompt(question, default=default, **kwargs) if ask else default


def _checked(values: dict[str, dict[str, Any]]) -> None:
    """The answers as the shop's store.toml would hold them, validated before anything is written."""
    raw = tomllib.loads(set_values(shipped_config_file().read_text(encoding="utf-8"), values))
    try:
        StoreConfig.model_validate(raw)
    except ValidationError as exc:
        raise click.ClickException(Sources(Path("your answer")).describe(exc)) from None


def _default_data_dir(obj: Obj) -> Path:
    return (obj.data_dir or Path(os.environ.get(ENV_PREFIX + "DATA_DIR") or DEFAULT_DATA_DIR)).resolve()


@click.command()
@click.option("--name", help="The shop's name, as printed on receipts.")
@click.option("--language", type=click.Choice(LANGUAGES), help="Language of receipts, pages and messages.")
@click.option("--currency", help="Currency code, e.g. EUR, NOK, IDR, THB.")
@click.option("--timezone", help="Time zone, e.g. Europe/Oslo (default: this machine's).")
@click.option("--public-url", help="The address phones open from receipts' QR codes (default: this machine's "
                                   "network address and the port).")
@click.option("--port", type=click.IntRange(1, 65535), default=None, help="The service's port (default 8000).")
@click.option("--printer", "printer_kind", type=click.Choice(KINDS), help="The receipt printer's connection.")
@click.option("--printer-host", help="A network printer's address (host or host:port).")
@click.option("--printer-port", type=click.IntRange(1, 65535), default=9100, show_default=True)
@click.option("--serial-port", help="A serial printer's port, e.g. /dev/ttyUSB0 or COM3.")
@click.option("--baudrate", type=int, default=9600, show_default=True, help="A serial printer's speed.")
@click.option("--usb", "usb_ids", help="A USB printer's vendor:product ids in hex, e.g. 04b8:0202.")
@click.option("--paper", type=click.Choice(["58", "80"]), default=None, help="Paper width in mm (default 80).")
@click.option("--test-page/--no-test-page", default=None, help="Print a test page (default: yes for a real printer).")
@click.option("--manager-name", help="The first manager's name (signs in at /manager/login).")
@click.option("--manager-password", envvar="POS_REFERRAL_NEW_PASSWORD", help="Their password (10+ characters).")
@click.option("--manager-pin", envvar="POS_REFERRAL_NEW_PIN", help="Their PIN for the till (6-8 digits).")
@click.option("--yes", "-y", "assume_yes", is_flag=True, help="Ask nothing: options or defaults (for scripts).")
@click.option("--force", is_flag=True, help="Replace this data folder's existing shop config.")
@click.pass_obj
def init(obj: Obj, name: str | None, language: str | None, currency: str | None, timezone: str | None,
         public_url: str | None, port: int | None, printer_kind: str | None, printer_host: str | None,
         printer_port: int, serial_port: str | None, baudrate: int, usb_ids: str | None, paper: str | None,
         test_page: bool | None, manager_name: str | None, manager_password: str | None, manager_pin: str | None,
         assume_yes: bool, force: bool) -> None:
    """Set up this shop: name, language, money, time, phones' address, printer, first manager."""
    ask = not assume_yes
    data_dir = _default_data_dir(obj)
    target = shop_config_file(data_dir)
    if target.exists() and not force:
        raise click.ClickException(f"{target} exists already (this shop is set up): edit it, or use --force "
                                   f"to set the shop up again")
    click.echo(f"Setting up a shop in {data_dir}")
    name = _ask(name, "Shop name (printed on receipts)", "Our shop", ask)
    language = _ask(language, "Language", "en", ask, type=click.Choice(LANGUAGES))
    currency = str(_ask(currency, "Currency", CURRENCY_OF[str(language)], ask)).upper()
    timezone = _ask(timezone, "Time zone", local_timezone(), ask)
    port = int(_ask(port, "Port of this service", 8000, ask, type=click.IntRange(1, 65535)))
    suggested = f"http://{lan_address()}:{port}"
    if ask and public_url is None:
        click.echo(f"Phones open receipts' QR codes at an address on the shop's network; this machine is {suggested}")
    public_url = str(_ask(public_url, "Address for phones", suggested, ask)).rstrip("/")
    host = urlsplit(public_url).hostname or ""
    listen = "127.0.0.1" if host in ("127.0.0.1", "localhost", "::1") else "0.0.0.0"
    printer = ask_printer(printer_kind, host=printer_host, port=printer_port, serial_port=serial_port,
                          baudrate=baudrate, usb=usb_ids, paper=int(paper) if paper else None, ask=ask)
    if printer.probe_failed:
        click.echo(f"Warning: {printer.probe_failed}", err=True)
        if ask and not click.confirm("Keep this printer in the settings anyway?", default=True):
            raise click.Abort()
    values: dict[str, dict[str, Any]] = {
        "store": {"name": name, "language": language, "currency": currency, "timezone": timezone,
                  "public_base_url": public_url},
        "server": {"host": listen, "port": port, "data_dir": str(data_dir)},
        "printer": printer.values,
    }
    _checked(values)
    manager = _manager_answers(manager_name, manager_password, manager_pin, ask)
    try:
        written = write_shop_config(data_dir, values, force=force)
    except ShopConfigExists as exc:
        raise click.ClickException(str(exc)) from None
    _finish(written, data_dir, printer, test_page, manager, ask)


def _manager_answers(name: str | None, password: str | None, pin: str | None,
                     ask: bool) -> tuple[str, str, str] | None:
    if name is None and ask:
        name = click.prompt("First manager's name (empty: add one later)", default="", show_default=False) or None
    if not name:
        return None
    if password is None:
        if not ask:
            raise click.UsageError("the manager needs --manager-password (or POS_REFERRAL_NEW_PASSWORD)")
        password = click.prompt("Their password (10+ characters)", hide_input=True, confirmation_prompt=True)
    if pin is None:
        if not ask:
            raise click.UsageError("the manager needs --manager-pin (6-8 digits; or POS_REFERRAL_NEW_PIN)")
        pin = click.prompt("Their PIN at the till (6-8 digits)", hide_input=True, confirmation_prompt=True)
    try:  # refused before anything is written
        check_pin(str(pin), "manager")
        if len(str(password)) < 10:
            raise StaffError("a password is at least 10 characters")
    except StaffError as exc:
        raise click.ClickException(f"manager {name}: {exc}") from None
    return name, str(password), str(pin)


def _finish(written: Path, data_dir: Path, printer: PrinterAnswer, test_page: bool | None,
            manager: tuple[str, str, str] | None, ask: bool) -> None:
    """The database, the first manager and the test page, on the config just written; then what next."""
    try:
        settings = load_settings(None, data_dir=data_dir)
    except ConfigError as exc:
        raise click.ClickException(f"config error: {exc}") from None
    click.echo(f"Wrote {written} (programs/ and messages/ beside it, to edit)")
    store = build_store(settings)
    try:
        if manager is not None:
            add_staff(store.ctx, manager[0], "manager", password=manager[1], pin=manager[2], actor="cli")
            click.echo(f"Manager {manager[0]} saved: sign in at {settings.public_base}/manager/login")
    except StaffError as exc:
        raise click.ClickException(f"{exc} (the rest is set up: run `pos-referral manager add` to retry)") from None
    finally:
        store.close()
    wants_page = test_page if test_page is not None else printer.kind in ("network", "serial", "usb") and (
        not printer.probe_failed) and (not ask or click.confirm("Print a test page now?", default=True))
    if wants_page:
        try:
            click.echo(print_test_page(settings))
        except (PrinterError, OSError, ValueError) as exc:
            click.echo(f"Warning: test page not printed: {exc} (try again: pos-referral printer test)", err=True)
    server = settings.config.server
    where = "" if data_dir == Path(DEFAULT_DATA_DIR).resolve() else f" --data-dir {data_dir}"
    click.echo(f"Phones will open {settings.public_base}; let them reach port {server.port} through this "
               f"machine's firewall (e.g. sudo ufw allow {server.port}/tcp).")
    click.echo(f"Next: pos-referral{where} till add T1   (the till's API token)")
    click.echo(f"      pos-referral{where} serve")
