"""The ``pos-referral`` command: the ``main`` group, and the command groups of this package added to it."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from pos_referral.cli.backups import db_backup, db_restore
from pos_referral.cli.central import central, sync
from pos_referral.cli.chain import chain
from pos_referral.cli.init import init
from pos_referral.cli.manager import audit, demo, manager, report
from pos_referral.cli.options import Obj, PassDownGroup, shared_options
from pos_referral.cli.printer import printer, receipt
from pos_referral.cli.privacy import customer
from pos_referral.cli.promo import mail, printer_sign, printer_staff_guide, signage_command
from pos_referral.cli.proxy import proxy
from pos_referral.cli.service import service
from pos_referral.cli.store import db, rewards, serve, staff, till
from pos_referral.logs import LEVELS, configure_console


@click.group(cls=PassDownGroup, pass_down=shared_options, commands=[
    init,  # setting a shop up (cli/init.py)
    serve, till, rewards, db, staff,  # the store (cli/store.py)
    service,  # serve as a systemd unit or Windows service (cli/service.py)
    central, sync,  # the chain (cli/central.py)
    chain,  # a standalone shop joins a chain (cli/chain.py)
    manager, audit, report, demo,  # managers (cli/manager.py)
    customer,  # privacy requests (cli/privacy.py)
    printer, receipt,  # the receipt printer (cli/printer.py)
    proxy,  # the receipt print proxy alone (cli/proxy.py)
    signage_command, mail,  # promotion (cli/promo.py)
])
@click.option("--config", type=click.Path(path_type=Path), envvar="POS_REFERRAL_CONFIG",
              help="store.toml (programs/ beside it). Default: <data dir>/config/store.toml "
                   "(written by `init`), else the shipped defaults.")
@click.option("--data-dir", type=click.Path(path_type=Path), envvar="POS_REFERRAL_DATA_DIR",
              help="Folder for the database, secrets, receipts and the shop's config/. Default: ./data.")
@click.option("-v", "--verbose", is_flag=True, help="Log debug messages (same as --log-level debug).")
@click.option("--log-level", type=click.Choice(LEVELS, case_sensitive=False), default=None,
              envvar="POS_REFERRAL_LOG_LEVEL", help="debug, info, warning or error. Default: [log] level (info).")
@click.pass_context
def main(ctx: click.Context, config: Path | None, data_dir: Path | None, verbose: bool,
         log_level: str | None) -> None:
    """pos-referral: the shop's referral program service."""
    level = "debug" if verbose else (log_level.lower() if log_level else None)
    configure_console(level or "info")
    ctx.obj = Obj(config, data_dir, log_level=level)


# the promotion prints (cli/promo.py) are printer commands too: ``printer sign``, ``printer staff-guide``
printer.add_command(printer_sign)
printer.add_command(printer_staff_guide)
# backups are database commands: ``db backup``, ``db restore FILE`` (cli/backups.py)
db.add_command(db_backup)
db.add_command(db_restore)


def run() -> None:
    """Console entry for ``python -m pos_referral`` (pos_referral/__main__.py)."""
    sys.exit(main())
