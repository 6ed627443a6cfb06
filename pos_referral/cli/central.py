"""Chain commands: ``central serve|store add|manager add|release|lag|conflicts`` and a store's ``sync``."""

from __future__ import annotations

import click
import waitress

from pos_referral import create_app
from pos_referral.bootstrap import Central, build_central
from pos_referral.central.reconciliation import ResolveError, open_conflicts, resolve
from pos_referral.central.stores import StoreError, add_store, parse_store_no, sync_lag
from pos_referral.cli.options import Obj, PassDownGroup
from pos_referral.cli.serving import quiet_queue_warnings, stop_on_signals
from pos_referral.services.staff import StaffError, add_staff
from pos_referral.sync.client import CentralClient, Rejected, Unavailable
from pos_referral.sync.inbound import KeysConflict
from pos_referral.sync.relay import Relay
from pos_referral.workers import start_central_workers


def _set_database(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    if value:
        ctx.meta["central_database"] = value  # meta is shared by the whole command line


def _database_options() -> list[click.Parameter]:
    """``central serve --database URL`` (as the issue writes it) as well as ``central --database URL serve``."""
    return [click.Option(["--database"], metavar="URL", expose_value=False, callback=_set_database,
                         help="postgresql://user@host/db of the chain; same as before the sub-command.")]


@click.group(cls=PassDownGroup, pass_down=_database_options)
@click.option("--database", envvar="POS_REFERRAL_CENTRAL_DATABASE", metavar="URL",
              help="postgresql://user@host/db of the chain (or env POS_REFERRAL_CENTRAL_DATABASE).")
@click.pass_context
def central(ctx: click.Context, database: str | None) -> None:
    """The chain's central service: one PostgreSQL, any number of stateless workers."""
    if database:
        ctx.meta["central_database"] = database


def _central(obj: Obj) -> Central:
    url = click.get_current_context().meta.get("central_database")
    if not url:
        raise click.ClickException("give --database postgresql://... (or POS_REFERRAL_CENTRAL_DATABASE)")
    return build_central(obj.settings(), url)


@central.command("serve")
@click.option("--host", default=None, help="Address to listen on (default from [server] host).")
@click.option("--port", type=int, default=None, help="Port (default from [server] port).")
@click.pass_obj
def central_serve(obj: Obj, host: str | None, port: int | None) -> None:
    """Run a central worker with waitress (migrates the schema first; run as many as you like)."""
    worker = _central(obj)
    app = create_app(central=worker)
    start_central_workers(worker)
    server = obj.settings().config.server
    host, port = host or server.host, port or server.port
    click.echo(f"pos-referral central on http://{host}:{port}")
    quiet_queue_warnings()
    try:
        with stop_on_signals():  # SIGTERM / Ctrl+C: waitress finishes the requests in hand, then the timers stop
            waitress.serve(app, host=host, port=port, threads=server.threads, ident="pos-referral-central",
                           channel_timeout=60, connection_limit=500)
    finally:
        worker.close()


@central.group("store")
def central_store() -> None:
    """The chain's stores and their sync tokens."""


@central_store.command("add")
@click.argument("store_id")
@click.option("--name", default="", help="Shown in the chain's reports.")
@click.pass_obj
def central_store_add(obj: Obj, store_id: str, name: str) -> None:
    """Register store STORE_ID (S001 = [store] number 1); its sync token is the last line (shown once)."""
    try:
        store_no = parse_store_no(store_id)
    except StoreError as exc:
        raise click.ClickException(str(exc)) from None
    worker = _central(obj)
    try:
        token = add_store(worker.ctx.db, store_no, name, worker.ctx.clock())
    finally:
        worker.close()
    click.echo(f"Store {store_no} registered. Put this in its config/store.toml as [central] token "
               "(keep it secret, shown once):")
    click.echo(token)


@central.group("manager")
def central_manager() -> None:
    """Managers of the chain dashboard (central's /manager)."""


@central_manager.command("add")
@click.argument("name")
@click.password_option("--password", prompt="Password (10+ characters)", envvar="POS_REFERRAL_NEW_PASSWORD",
                       help="Asked for twice, hidden, when not given.")
@click.pass_obj
def central_manager_add(obj: Obj, name: str, password: str) -> None:
    """Add a manager to central (or change one's password); they sign in at central's /manager/login."""
    worker = _central(obj)
    try:
        add_staff(worker.ctx, name, "manager", password=password, actor="cli")
    except StaffError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        worker.close()
    click.echo(f"chain manager {name} saved: sign in at central's /manager/login.")


@central.command("release")
@click.pass_obj
def central_release(obj: Obj) -> None:
    """Release due rewards across the chain (caps, milestones) and publish the vouchers to the stores."""
    worker = _central(obj)
    try:
        summary = worker.release()
    finally:
        worker.close()
    click.echo(f"released {summary.released}, capped {summary.capped}, milestones {summary.milestones}")


@central.command("lag")
@click.pass_obj
def central_lag(obj: Obj) -> None:
    """Per store: last contact and the newest event central has applied."""
    worker = _central(obj)
    try:
        rows = sync_lag(worker.ctx.db, worker.ctx.clock())
    finally:
        worker.close()
    for r in rows:
        seen = f"{r.seconds_since_seen:.0f} s ago" if r.seconds_since_seen is not None else "never"
        click.echo(f"S{r.store_no:03d} {r.name:<20} seen {seen:<14} events applied up to seq {r.cursor} "
                   f"(newest from {r.last_event_at.isoformat() if r.last_event_at else '-'})")


@central.command("conflicts")
@click.pass_obj
def central_conflicts(obj: Obj) -> None:
    """The reconciliation list: conflicts between stores, open ones first."""
    worker = _central(obj)
    try:
        for c in open_conflicts(worker.ctx.db):
            click.echo(f"#{c.id} {c.created_at:%Y-%m-%d %H:%M} S{c.store_no:03d} {c.kind:<20} {c.subject} {c.detail}")
    finally:
        worker.close()


@central.command("resolve")
@click.argument("item")
@click.option("--note", required=True, help="what was done about it (kept with the item and in the audit log)")
@click.option("--by", "actor", required=True, help="your name, for the audit log")
@click.pass_obj
def central_resolve(obj: Obj, item: str, note: str, actor: str) -> None:
    """Mark a reconciliation item resolved (ITEM: its #number from ``conflicts`` or its event id)."""
    worker = _central(obj)
    try:
        done = resolve(worker.ctx, item.lstrip("#"), note, f"cli:{actor}")
    except ResolveError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        worker.close()
    click.echo(f"#{done.id} {done.kind} at S{done.store_no:03d} resolved.")


@click.command("sync")
@click.option("--batch-size", type=click.IntRange(1, 5000), default=500, show_default=True)
@click.pass_obj
def sync(obj: Obj, batch_size: int) -> None:
    """Send this store's events to central now and fetch vouchers and keys (resumes where it stopped)."""
    store = obj.store()
    try:
        central_cfg = store.settings.config.central
        if not central_cfg.url:
            raise click.ClickException("no [central] url in config/store.toml: this is a standalone shop")
        relay = Relay(store.ctx, CentralClient(central_cfg.url, central_cfg.token), batch_size=batch_size)
        with click.progressbar(length=relay.backlog(), label="sending events", show_pos=True) as bar:
            summary = relay.sync(max_attempts=8, on_batch=bar.update)
    except (Rejected, KeysConflict) as exc:
        raise click.ClickException(str(exc)) from None
    except Unavailable as exc:
        raise click.ClickException(f"central unavailable, nothing lost (run again later): {exc}") from None
    finally:
        store.close()
    click.echo(summary.line())
