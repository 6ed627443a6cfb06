"""The composition root: the one place that builds engines, secrets, limits and the service's parts.

Tests call the same ``build_store`` / ``build_central`` with other settings (a tmp data dir, a
fixed clock). Nothing here runs at import time; background threads start only in
``workers.py`` (``serve``), which appends them to ``Store.background``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from pos_referral.central import chain_secrets
from pos_referral.central import service as central_service
from pos_referral.chain_link import with_chain_link
from pos_referral.config import Settings
from pos_referral.db import migrate
from pos_referral.db.base import utcnow
from pos_referral.db.engine import Database, database_path, open_database, sqlite_url
from pos_referral.display.bus import DisplayBus
from pos_referral.keystore import UnjoinedSecrets, load_or_create_secrets
from pos_referral.printing.escpos_renderer import RendererConfig
from pos_referral.private_files import private_database
from pos_referral.proxy.stats import ProxyStats
from pos_referral.scanner.events import ScanBus
from pos_referral.services import audit
from pos_referral.services.backups.upgrade import safe_upgrade
from pos_referral.services.context import StoreContext
from pos_referral.services.customers import has_customers
from pos_referral.services.print_worker import PrintWorker
from pos_referral.services.proxy_offers.footer import ProxyFooter
from pos_referral.services.rate_limits import FailureLimiter, Limits
from pos_referral.services.rewards import ReleaseSummary
from pos_referral.services.sign_in_throttle import SignInThrottle, ThrottlePolicy
from pos_referral.services.tills import TokenVerifier
from pos_referral.sync.programs import with_adopted_programs
from pos_referral.sync.relay import has_joined


class Stoppable(Protocol):
    def stop(self) -> None: ...


@dataclass
class Store:
    """Everything a running store service (or central worker) owns."""

    ctx: StoreContext
    tokens: TokenVerifier
    limiter: FailureLimiter  # failed code look-ups, per till and per address
    sign_ins: SignInThrottle  # wrong PINs and passwords: growing delays per name and address, no lock-out
    limits: Limits = field(default_factory=Limits)  # kiosk joins, invitations
    background: list[Stoppable] = field(default_factory=list)
    scans: ScanBus = field(default_factory=ScanBus)  # serial scanner -> open till pages (SSE)
    display: DisplayBus = field(default_factory=DisplayBus)  # till actions -> customer displays (SSE)
    print_worker: PrintWorker | None = None
    proxy_stats: ProxyStats | None = None  # the print proxy's counters, while it runs ([proxy] enabled)

    def printer_status(self) -> dict[str, Any] | None:
        """Last known printer state for /healthz (never blocks on the device)."""
        worker = self.print_worker
        return None if worker is None else dict(worker.last_status.as_dict())

    def proxy_status(self) -> dict[str, Any] | None:
        """The print proxy's counters for /healthz and the manager; None when it does not run."""
        return None if self.proxy_stats is None else self.proxy_stats.as_dict()

    @property
    def settings(self) -> Settings:
        return self.ctx.settings

    @property
    def db(self) -> Database:
        return self.ctx.db

    def close(self) -> None:
        self.scans.close()  # end the till pages' event streams
        self.display.close()  # and the customer displays'
        for task in reversed(self.background):
            task.stop()
        self.background.clear()
        self.db.dispose()


@dataclass
class Central:
    """A central worker: the chain-wide store plus the keys version stores compare theirs against."""

    store: Store
    keys_version: int
    chain_stores: set[int] = field(default_factory=set)  # noted as holding the chain's keys (central/joins.py)

    @property
    def ctx(self) -> StoreContext:
        return self.store.ctx

    def keys(self) -> dict[str, object]:
        return chain_secrets.public_keys(self.ctx.secrets)

    def refresh_keys(self) -> None:
        """Take the chain's keys again when a join (at this or another worker) changed them."""
        if chain_secrets.current_version(self.ctx.db) != self.keys_version:
            secrets, version = chain_secrets.load_or_create(self.ctx.db)
            object.__setattr__(self.ctx, "secrets", secrets)  # as sync/inbound.py does at a store
            self.keys_version = version

    def release(self) -> ReleaseSummary:
        return central_service.release(self.ctx)

    def close(self) -> None:
        self.store.close()


def _store(ctx: StoreContext) -> Store:
    config = ctx.settings.config
    security = config.security
    return Store(ctx=ctx, tokens=TokenVerifier(ctx),
                 limiter=FailureLimiter(security.failed_lookups_per_minute,
                                        per_prefix={"ip": security.failed_lookups_per_minute_per_address}),
                 sign_ins=SignInThrottle(ThrottlePolicy.from_config(config.sign_in),
                                         clock=lambda: ctx.clock().timestamp()),
                 display=DisplayBus(max_streams=config.display_streams))


def footer_source(ctx: StoreContext) -> ProxyFooter:
    """What the print proxy adds before each cut: the referral footer (services/proxy_offers/); its
    ``close()`` records the sales still queued, so the owner calls it after the proxy has stopped."""
    config = ctx.settings.config
    return ProxyFooter(ctx, RendererConfig.from_section(config.printer, config.store.language))


def build_store(
    settings: Settings,
    *,
    clock: Callable[[], datetime] = utcnow,
    migrate_schema: bool = True,
) -> Store:
    """Open the database (migrated to head), load or create secrets, wire the services."""
    private_database(database_path(settings.data_dir))  # data folder 0700, database (and -wal, -shm) 0600
    db = open_database(sqlite_url(settings.data_dir), pool_size=settings.config.server.threads + 2,
                       busy_timeout=settings.config.server.busy_timeout_seconds)
    if migrate_schema:  # a verified backup first when a migration is pending; the old database back on failure
        safe_upgrade(db, settings, now=clock())
    settings = with_adopted_programs(settings, db)  # a chain's programs from central override the files
    settings = with_chain_link(settings)  # a shop that joined a chain later: central's address (chain_link.py)
    secrets = load_or_create_secrets(settings.data_dir)
    # a chain store that has neither joined (taken central's keys) nor sold anything yet refuses till
    # actions as ``store_not_joined`` until its first sync brings the keys (the relay runs at once in
    # ``serve``); a store that already has customers under its own keys keeps selling as before, and its
    # relay reports the clash (sync/inbound.py)
    if settings.config.central.url and not has_joined(db) and not has_customers(db):
        secrets = UnjoinedSecrets(keyring=secrets.keyring, pepper=secrets.pepper, session_key=secrets.session_key,
                                  audit_key=secrets.audit_key, old_peppers=secrets.old_peppers)
    ctx = StoreContext(settings=settings, db=db, secrets=secrets, clock=clock)
    if migrate_schema:  # (``db upgrade|downgrade`` build a store on a schema not yet at head)
        audit.seal_legacy(ctx)  # a log from before the audit key: its first keyed entry now (services/audit.py)
    return _store(ctx)


def build_central(settings: Settings, database_url: str, *, clock: Callable[[], datetime] = utcnow,
                  pool_size: int = 10) -> Central:
    """A central worker on the chain's PostgreSQL: its secrets, and the program files published."""
    db = open_database(database_url, pool_size=pool_size)
    migrate.upgrade(db)
    secrets, version = chain_secrets.load_or_create(db)
    central_service.publish_program_files(db, settings, clock())
    ctx = StoreContext(settings=central_service.central_settings(settings), db=db, secrets=secrets, clock=clock)
    return Central(store=_store(ctx), keys_version=version)
