"""Manager commands: ``manager add``, ``audit verify``, ``report`` and ``demo``.

``staff add NAME --role cashier`` (prompting for the PIN) is a store command (cli/store.py).
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from typing import Any

import click

from pos_referral.bootstrap import Store, build_store
from pos_referral.cli.options import Obj
from pos_referral.config import Settings
from pos_referral.config_sources import shop_config_file
from pos_referral.services.audit import verify
from pos_referral.services.demo import DemoPlan, generate
from pos_referral.services.reports import books
from pos_referral.services.reports import dashboard as reports
from pos_referral.services.reports.date_range import DateRange, RangeError, parse_range
from pos_referral.services.reports.rollup import quarter_hours
from pos_referral.services.staff import StaffError, add_staff
from pos_referral.shop_config import set_values


@click.group()
def manager() -> None:
    """Manager accounts for the manager pages (/manager)."""


@manager.command("add")
@click.argument("name")
@click.password_option("--password", prompt="Password (10+ characters)", envvar="POS_REFERRAL_NEW_PASSWORD",
                       help="Asked for twice, hidden, when not given.")
@click.option("--pin", default=None, help="Also set a PIN for approving overrides at the till (6-8 digits).")
@click.pass_obj
def manager_add(obj: Obj, name: str, password: str, pin: str | None) -> None:
    """Add a manager (or change a manager's password); they sign in at /manager/login."""
    store = obj.store()
    try:
        add_staff(store.ctx, name, "manager", password=password, pin=pin, actor="cli")
    except StaffError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        store.close()
    click.echo(f"manager {name} saved.")


@click.group()
def audit() -> None:
    """The audit log, chained with a keyed MAC."""


@audit.command("verify")
@click.pass_obj
def audit_verify(obj: Obj) -> None:
    """Check every entry's MAC and the head kept outside the database; exit 1 saying what was changed,
    deleted, re-chained or cut off."""
    store = obj.store()
    try:
        check = verify(store.ctx)
    finally:
        store.close()
    if check.ok:
        older = f" ({check.legacy} from before the audit key, under plain SHA-256)" if check.legacy else ""
        click.echo(f"audit log intact: {check.entries} entries{older}")
        return
    click.echo(f"audit log TAMPERED: {check.problem} ({check.entries} entries checked)", err=True)
    sys.exit(1)


@click.group(invoke_without_command=True)
@click.option("--from", "first", default=None, help="First local day, YYYY-MM-DD (default: 30 days ago).")
@click.option("--to", "last", default=None, help="Last local day, YYYY-MM-DD (default: today).")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="json", show_default=True)
@click.option("--table", default=None, help="Only this table (CSV: default all, one after another).")
@click.pass_context
def report(click_ctx: click.Context, first: str | None, last: str | None, fmt: str, table: str | None) -> None:
    """The manager report for a date range, as on the dashboard (``report ledger``: the books)."""
    if click_ctx.invoked_subcommand is not None:
        return
    obj: Obj = click_ctx.obj
    if table is not None and table not in reports.TABLES:
        raise click.BadParameter(f"one of {', '.join(reports.TABLES)}", param_hint="--table")
    store = obj.store()
    try:
        rng = _range(store, first, last)
        rep = reports.build_report(store.ctx, rng, parts=[table] if table else None, limit=None)
    finally:
        store.close()
    if fmt == "json":
        click.echo(json.dumps(reports.to_json(rep), indent=2, ensure_ascii=False))
        return
    names = [table] if table else list(reports.TABLES)
    for i, name in enumerate(names):
        if len(names) > 1:
            click.echo(("\n" if i else "") + f"# {name}")
        for chunk in reports.to_csv(rep, name):
            click.echo(chunk, nl=False)


@click.command()
@click.option("--customers", type=click.IntRange(min=1), default=2000, show_default=True)
@click.option("--referrals", type=click.IntRange(min=0), default=1000, show_default=True)
@click.option("--days", type=click.IntRange(min=1, max=3 * 365), default=365, show_default=True,
              help="How far back the history goes.")
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--into-live-database", "into_live", is_flag=True,
              help="Write into this shop's own database instead of a separate demo folder (asks first).")
@click.option("--yes", "-y", "assume_yes", is_flag=True, help="Do not ask (with --into-live-database).")
@click.pass_obj
def demo(obj: Obj, customers: int, referrals: int, days: int, seed: int, into_live: bool, assume_yes: bool) -> None:
    """Write a realistic made-up history into a demo folder beside the data folder (for trying the reports)."""
    settings = obj.settings()
    if into_live:
        if not assume_yes:
            click.confirm(f"Write {customers} made-up customers and {referrals} referrals into the shop's own "
                          f"database in {settings.data_dir}? They cannot be told apart from real ones afterwards",
                          abort=True)
    else:
        settings = demo_settings(settings)
        click.echo(f"Demo folder: {settings.data_dir} (the shop's own database is not touched)")
    store = build_store(settings)
    try:
        with click.progressbar(length=customers + referrals, label="Generating history") as bar:
            counts: dict[str, Any] = generate(store.ctx, DemoPlan(customers, referrals, days, seed),
                                              progress=bar.update)
        click.echo(", ".join(f"{n} {name}" for name, n in counts.items()))
        click.echo("Bringing the report rollups up to date (so the first dashboard does not have to)...")
        started = time.perf_counter()
        quarter_hours.catch_up(store.db, store.ctx.tz, store.ctx.clock())
        click.echo(f"Report rollups up to date in {time.perf_counter() - started:.0f} s")
    finally:
        store.close()
    if not into_live:
        click.echo(f"Look at it: pos-referral --data-dir {settings.data_dir} serve --port "
                   f"{settings.config.server.port + 1}")


def demo_settings(settings: Settings) -> Settings:
    """The same shop's settings on ``<data_dir>-demo``, with a copy of its own config there (if it has one)."""
    folder = settings.data_dir.with_name(settings.data_dir.name + "-demo")
    if not settings.shipped_config and not shop_config_file(folder).exists():
        shutil.copytree(settings.config_dir, shop_config_file(folder).parent, dirs_exist_ok=True)
        copied = shop_config_file(folder)
        copied.write_text(set_values(copied.read_text(encoding="utf-8"), {"server": {"data_dir": str(folder)}}),
                          encoding="utf-8")
    return settings.model_copy(update={"data_dir": folder})


@report.command("ledger")
@click.option("--from", "first", default=None, help="First local day, YYYY-MM-DD (default: 30 days ago).")
@click.option("--to", "last", default=None, help="Last local day, YYYY-MM-DD (default: today).")
@click.option("--period", type=click.Choice(["day", "month"]), default="month", show_default=True,
              help="One row per local day or calendar month (and a total row).")
@click.option("--format", "fmt", type=click.Choice(["csv"]), default="csv", show_default=True)
@click.pass_obj
def report_ledger(obj: Obj, first: str | None, last: str | None, period: str, fmt: str) -> None:
    """The books: reward liability per period (earned, released, redeemed, expired, voided, capped, clawed
    back; outstanding at each period's end), reconciling with the dashboard's liability."""
    store = obj.store()
    try:
        rng = _range(store, first, last)
        result = books.build_books(store.ctx, rng, period)
    finally:
        store.close()
    for chunk in books.to_csv(result, rng):
        click.echo(chunk, nl=False)


def _range(store: Store, first: str | None, last: str | None) -> DateRange:
    """``--from``/``--to`` as the store's days, or a usage error naming what is wrong."""
    try:
        return parse_range(first, last, store.ctx.tz, store.ctx.clock())
    except RangeError as exc:
        raise click.BadParameter(str(exc)) from None
