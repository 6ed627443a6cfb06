"""The ``pos-referral`` command: serve, register tills, release rewards, migrate."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

import click

from pos_referral.bootstrap import Store, build_store
from pos_referral.cli_options import PassDownGroup
from pos_referral.config import ConfigError, Settings, load_settings

class Obj:
    """Options shared by every sub-command; settings are loaded lazily, once."""

    def __init__(self, config: Path | None, data_dir: Path | None) -> None:
        self.config, self.data_dir = config, data_dir
        self._settings: Settings | None = None

    def settings(self, **overrides: Any) -> Settings:
        if self._settings is None:
            try:
                self._settings = load_settings(self.config, data_dir=self.data_dir, overrides=overrides or None)
            except ConfigError as exc:
                raise click.ClickException(f"config error: {exc}") from None
        return self._settings

    def store(self, **overrides: Any) -> Store:
        return build_store(self.settings(**overrides))


def _set_shared(ctx: click.Context, param: click.Parameter, value: Path | None) -> None:
    """``--config``/``--data-dir`` given after a sub-command (``pos-referral serve --data-dir X``)."""
    if value is not None and param.name:
        setattr(ctx.ensure_object(Obj), param.name, value)


def _shared_options() -> list[click.Parameter]:
    return [
        click.Option(["--config"], type=click.Path(path_type=Path), expose_value=False, callback=_set_shared,
                     help="store.toml (programs/ beside it); same as before the sub-command."),
        click.Option(["--data-dir"], type=click.Path(path_type=Path), expose_value=False, callback=_set_shared,
                     help="Folder for the database, secrets and receipts; same as before the sub-command."),
    ]


@click.group(cls=PassDownGroup, pass_down=_shared_options)
@click.option("--config", type=click.Path(path_type=Path), envvar="POS_REFERRAL_CONFIG",
              help="store.toml (programs/ beside it). Default: the shipped config/.")
@click.option("--data-dir", type=click.Path(path_type=Path), envvar="POS_REFERRAL_DATA_DIR",
              help="Folder for the database, secrets and receipts. Default: [server] data_dir.")
@click.option("-v", "--verbose", is_flag=True, help="Log debug messages.")
@click.pass_context
def main(ctx: click.Context, config: Path | None, data_dir: Path | None, verbose: bool) -> None:
    """pos-referral: the shop's referral program service."""
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    ctx.obj = Obj(config, data_dir)


@main.command()
@click.option("--host", default=None, help="Address to listen on (default from [server] host).")
@click.option("--port", type=int, default=None, help="Port (default from [server] port).")
@click.pass_obj
def serve(obj: Obj, host: str | None, port: int | None) -> None:
    """Run the store service with waitress (migrates the schema first)."""
    import waitress

    from pos_referral import create_app
    from pos_referral.workers import start_store_workers

    overrides = {k: v for k, v in {"host": host, "port": port}.items() if v is not None}
    settings = obj.settings(server=overrides) if overrides else obj.settings()
    store = build_store(settings)
    app = create_app(store=store)
    start_store_workers(store)
    server = settings.config.server
    click.echo(f"pos-referral store {settings.config.store.number} on http://{server.host}:{server.port} "
               f"(data: {settings.data_dir})")
    quiet_queue_warnings()
    try:
        waitress.serve(app, host=server.host, port=server.port, threads=server.threads, ident="pos-referral",
                       channel_timeout=30, connection_limit=200)
    finally:
        store.close()


def quiet_queue_warnings() -> None:
    """Silence waitress's "Task queue depth is N" warning, logged on every request that finds all
    threads busy: at a till a burst of requests queued for a millisecond is normal."""
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)


@main.group()
def till() -> None:
    """Tills and their API tokens."""


@till.command("add")
@click.argument("till_id")
@click.pass_obj
def till_add(obj: Obj, till_id: str) -> None:
    """Register a till; its API token is the last line of output (shown once)."""
    from pos_referral.services.tills import TillError, add_till

    store = obj.store()
    try:
        token = add_till(store.ctx, till_id)
    except TillError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        store.close()
    click.echo(f"Till {till_id} registered. Its API token (keep it secret, shown once):")
    click.echo(token)


@main.group()
def rewards() -> None:
    """Referrer rewards."""


@rewards.command("release")
@click.pass_obj
def rewards_release(obj: Obj) -> None:
    """Release rewards whose hold has passed (caps and milestones applied)."""
    from pos_referral.services.rewards import release_due_rewards

    store = obj.store()
    try:
        summary = release_due_rewards(store.ctx)
    finally:
        store.close()
    click.echo(f"released {summary.released}, capped {summary.capped}, milestones {summary.milestones}")


@main.group()
def db() -> None:
    """Database schema (Alembic)."""


@db.command("upgrade")
@click.argument("revision", default="head")
@click.pass_obj
def db_upgrade(obj: Obj, revision: str) -> None:
    """Migrate the schema up (default: to the newest)."""
    from pos_referral.db import migrate

    store = build_store(obj.settings(), migrate_schema=False)
    try:
        migrate.upgrade(store.db, revision)
        click.echo(f"schema at {migrate.current_revision(store.db)}")
    finally:
        store.close()


@db.command("downgrade")
@click.argument("revision")
@click.pass_obj
def db_downgrade(obj: Obj, revision: str) -> None:
    """Migrate the schema down to REVISION ('base' removes every table)."""
    from pos_referral.db import migrate

    store = build_store(obj.settings(), migrate_schema=False)
    try:
        migrate.downgrade(store.db, revision)
        click.echo(f"schema at {migrate.current_revision(store.db)}")
    finally:
        store.close()


@main.group()
def staff() -> None:
    """Cashiers and managers who sign in at the till."""


@staff.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(["cashier", "manager"]), default="cashier", show_default=True)
@click.option("--pin", prompt=True, hide_input=True, confirmation_prompt=True, envvar="POS_REFERRAL_NEW_PIN",
              help="4-8 digits for the till's PIN pad (asked for when not given).")
@click.option("--password", default=None, help="A manager's password (10+ characters) for the manager pages.")
@click.pass_obj
def staff_add(obj: Obj, name: str, role: str, pin: str, password: str | None) -> None:
    """Add a cashier or manager (or change their PIN); they sign in at /till/<till id>."""
    from pos_referral.services.staff import StaffError, add_staff

    store = obj.store()
    try:
        add_staff(store.ctx, name, role, pin=pin, password=password)
    except StaffError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        store.close()
    click.echo(f"{role} {name} saved.")


def run() -> None:  # pragma: no cover - console entry for `python -m pos_referral`
    sys.exit(main())


from pos_referral.cli_manager import audit, demo, manager, report  # noqa: E402  (manager commands; see cli_manager.py)

main.add_command(manager)
main.add_command(audit)
main.add_command(report)
main.add_command(demo)
from pos_referral.cli_central import central, sync  # noqa: E402  (chain commands; see cli_central.py)

main.add_command(central)
main.add_command(sync)
from pos_referral.cli_printer import register as register_printer  # noqa: E402  (printer test/status, receipt preview)

register_printer(main)
from pos_referral.cli_promo import register as register_promo  # noqa: E402  (signage, printer sign, mail)

register_promo(main)
