"""Shops in the states the till's status chips report: a chain store whose sync is late, a printer that
answers each status (tests/printing_support.py's fake network printer)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pos_referral.bootstrap import Store, build_store
from pos_referral.config import PrinterSection, load_settings
from pos_referral.printing.escpos_renderer import RendererConfig
from pos_referral.printing.printers import make_printer
from pos_referral.services.print_worker import PrintWorker
from tests.printing_support import FakeNetworkPrinter

NOWHERE = "http://127.0.0.1:9"  # a central nobody answers at: nothing is ever sent


def chain_twin(store: Store, config_path: Path, clock: Any) -> Store:
    """The same shop (data folder and database) configured as a chain store; it already has customers, so it
    sells under its own keys while its sync waits (bootstrap.build_store)."""
    settings = load_settings(config_path, data_dir=store.settings.data_dir, environ={},
                             overrides={"central": {"url": NOWHERE, "token": "t" * 32}})
    return build_store(settings, clock=clock)


def attach_network_printer(store: Store, fake: FakeNetworkPrinter) -> PrintWorker:
    """A print worker on a network printer at the fake's port, as ``serve`` makes one (its thread not started:
    the test asks the printer with ``refresh_status``)."""
    section = PrinterSection(type="network", host="127.0.0.1", port=fake.port, timeout=0.5)
    worker = PrintWorker(store.db, make_printer(section, store.settings.data_dir), RendererConfig("TM-T88V", 80),
                         clock=store.ctx.clock)
    store.print_worker = worker
    return worker
