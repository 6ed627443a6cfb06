"""Store commands: ``serve``, ``till add``, ``rewards release``, ``db upgrade|downgrade|purge``, ``staff add``
(``db backup|restore`` are in cli/backups.py)."""

from __future__ import annotations

import logging

import click
import waitress

from pos_referral import create_app
from pos_referral.bootstrap import build_store
from pos_referral.cli.options import Obj
from pos_referral.cli.serving import (
    check_fonts,
    check_port_free,
    check_proxy,
    port_error,
    quiet_queue_warnings,
    say_where_things_are,
    start_log_file,
    stop_log_file,
    stop_on_signals,
    stop_when_stdin_closes,
)
from pos_referral.config import Settings
from pos_referral.db import migrate
from pos_referral.run_lock import AlreadyRunning, ServeLock
from pos_referral.services import retention
from pos_referral.services.backups.backup import BackupError, take_backup
from pos_referral.services.backups.upgrade import UpgradeError, safe_upgrade
from pos_referral.services.rewards import release_due_rewards
from pos_referral.services.staff import StaffError, add_staff
from pos_referral.services.tills import TillError, add_till
from pos_referral.workers import start_store_workers

logger = logging.getLogger(__name__)


@click.command()
@click.option("--host", default=None, help="Address to listen on (default from [server] host).")
@click.option("--port", type=int, default=None, help="Port (default from [server] port).")
@click.option("--stop-on-stdin-close", is_flag=True, hidden=True,
              help="Stop cleanly when standard input closes (the Windows service's way to stop serve).")
@click.pass_obj
def serve(obj: Obj, host: str | None, port: int | None, stop_on_stdin_close: bool) -> None:
    """Run the store service with waitress (migrates the schema first)."""
    overrides = {k: v for k, v in {"host": host, "port": port}.items() if v is not None}
    settings = obj.settings(server=overrides) if overrides else obj.settings()
    server = settings.config.server
    check_port_free(server.host, server.port)  # before the database, workers and printer are touched
    check_proxy(settings)
    check_fonts(settings)
    log_file = start_log_file(settings, obj.log_level)
    try:  # held while serving: `db restore` refuses while it is (run_lock.py)
        lock = ServeLock(settings.data_dir)
    except AlreadyRunning as exc:
        stop_log_file(log_file)
        raise click.ClickException(f"{exc}: stop it first, or give another --data-dir") from None
    try:
        with stop_on_signals():  # SIGTERM, Ctrl+C, Ctrl+Break: waitress stops, then the workers (store.close)
            if stop_on_stdin_close:
                stop_when_stdin_closes()
            _serve_store(settings)
    finally:
        lock.release()
        stop_log_file(log_file)


def _serve_store(settings: Settings) -> None:
    server = settings.config.server
    try:
        store = build_store(settings)
    except UpgradeError as exc:
        raise click.ClickException(str(exc)) from None
    try:
        app = create_app(store=store)
        start_store_workers(store)
        click.echo(f"pos-referral store {settings.config.store.number} on http://{server.host}:{server.port} "
                   f"(data: {settings.data_dir})")
        say_where_things_are(settings)
        quiet_queue_warnings()
        logger.info("store %s serving on %s:%s", settings.config.store.number, server.host, server.port)
        waitress.serve(app, host=server.host, port=server.port, threads=server.threads, ident="pos-referral",
                       channel_timeout=30, connection_limit=200)
    except OSError as exc:  # taken between the check and here
        raise port_error(exc, server.host, server.port) from None
    finally:
        store.close()  # the print job in hand finishes or stays queued; timers stop; the database is closed
        logger.info("store %s stopped", settings.config.store.number)


@click.group()
def till() -> None:
    """Tills and their API tokens."""


@till.command("add")
@click.argument("till_id")
@click.pass_obj
def till_add(obj: Obj, till_id: str) -> None:
    """Register a till; its API token is the last line of output (shown once)."""
    store = obj.store()
    try:
        token = add_till(store.ctx, till_id)
    except TillError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        store.close()
    click.echo(f"Till {till_id} registered. Its API token (keep it secret, shown once):")
    click.echo(token)


@click.group()
def rewards() -> None:
    """Referrer rewards."""


@rewards.command("release")
@click.pass_obj
def rewards_release(obj: Obj) -> None:
    """Release rewards whose hold has passed (caps and milestones applied)."""
    store = obj.store()
    try:
        summary = release_due_rewards(store.ctx)
    finally:
        store.close()
    click.echo(f"released {summary.released}, capped {summary.capped}, milestones {summary.milestones}")


@click.group()
def db() -> None:
    """Database schema (Alembic) and retention (``db purge``)."""


@db.command("upgrade")
@click.argument("revision", default="head")
@click.pass_obj
def db_upgrade(obj: Obj, revision: str) -> None:
    """Migrate the schema up (default: to the newest), after a verified backup when a migration is pending."""
    settings = obj.settings()
    store = build_store(settings, migrate_schema=False)
    try:
        backup = safe_upgrade(store.db, settings, now=store.ctx.clock(), revision=revision)
        if backup is not None:
            click.echo(f"backup before the upgrade: {backup.path}")
        click.echo(f"schema at {migrate.current_revision(store.db)}")
    except UpgradeError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        store.close()


@db.command("purge")
@click.pass_obj
def db_purge(obj: Obj) -> None:
    """Delete idempotency records and blank invited friends' addresses past [retention] (serve does it hourly)."""
    store = obj.store()
    try:
        click.echo(retention.purge(store.ctx).line())
    finally:
        store.close()


@db.command("downgrade")
@click.argument("revision")
@click.pass_obj
def db_downgrade(obj: Obj, revision: str) -> None:
    """Migrate the schema down to REVISION ('base' removes every table), after a verified backup."""
    settings = obj.settings()
    store = build_store(settings, migrate_schema=False)
    try:
        if migrate.table_names(store.db):
            try:
                backup = take_backup(settings, now=store.ctx.clock(), label="before-downgrade")
            except BackupError as exc:
                raise click.ClickException(f"not downgraded: {exc}") from None
            click.echo(f"backup before the downgrade: {backup.path}")
        migrate.downgrade(store.db, revision)
        click.echo(f"schema at {migrate.current_revision(store.db)}")
    finally:
        store.close()


@click.group()
def staff() -> None:
    """Cashiers and managers who sign in at the till."""


@staff.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(["cashier", "manager"]), default="cashier", show_default=True)
@click.option("--pin", prompt=True, hide_input=True, confirmation_prompt=True, envvar="POS_REFERRAL_NEW_PIN",
              help="The till's PIN: 4-8 digits, a manager's 6-8 (asked for when not given).")
@click.option("--password", default=None, help="A manager's password (10+ characters) for the manager pages.")
@click.pass_obj
def staff_add(obj: Obj, name: str, role: str, pin: str, password: str | None) -> None:
    """Add a cashier or manager (or change their PIN); they sign in at /till/<till id>."""
    store = obj.store()
    try:
        add_staff(store.ctx, name, role, pin=pin, password=password)
    except StaffError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        store.close()
    click.echo(f"{role} {name} saved.")
