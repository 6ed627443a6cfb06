"""The composition root: the one place that builds engines, secrets, printer, workers and timers.

Tests call the same ``build_store`` with other settings (a tmp data dir, a fixed clock).
Nothing here runs at import time; background threads start only in ``Store.start``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from pos_referral.config import Settings
from pos_referral.db import migrate
from pos_referral.db.base import utcnow
from pos_referral.db.engine import Database, open_database, sqlite_url
from pos_referral.keystore import UnjoinedSecrets, load_or_create_secrets
from pos_referral.scanner.events import Scan, ScanBus
from pos_referral.services.context import StoreContext
from pos_referral.services.rewards import release_due_rewards
from pos_referral.services.tills import TokenVerifier
from pos_referral.sync.programs import with_adopted_programs
from pos_referral.web.ratelimit import FailureLimiter

logger = logging.getLogger(__name__)


class PeriodicTask:
    """Calls ``fn`` every ``interval`` seconds on a daemon thread until stopped; errors are logged."""

    def __init__(self, name: str, interval: float, fn: Callable[[], object], *, at_once: bool = False) -> None:
        self.name, self.interval, self._fn, self._at_once = name, interval, fn, at_once
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        wait = 0.0 if self._at_once else self.interval  # at_once: the first round right after start
        while not self._stop.wait(wait):
            wait = self.interval
            try:
                self._fn()
            except Exception:  # a timer must survive a bad round; the next one retries
                logger.exception("%s failed; will retry in %.0f s", self.name, self.interval)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)


@dataclass
class Store:
    """Everything a running store service owns."""

    ctx: StoreContext
    tokens: TokenVerifier
    limiter: FailureLimiter
    background: list[PeriodicTask] = field(default_factory=list)
    scans: ScanBus = field(default_factory=ScanBus)
    print_worker: Any = None  # printing.queue.PrintWorker once started

    def printer_status(self) -> dict[str, Any] | None:
        """Last known printer state for /healthz (never blocks on the device)."""
        worker = self.print_worker
        return None if worker is None else dict(worker.last_status.as_dict())  # serial scanner -> open till pages (SSE)

    @property
    def settings(self) -> Settings:
        return self.ctx.settings

    @property
    def db(self) -> Database:
        return self.ctx.db

    def start_background(self) -> None:
        """Start the reward release timer and the print worker (serve only; tests drive them)."""
        central = self.settings.config.central
        if central.url:  # in a chain central releases rewards; the relay ships events and pulls vouchers
            from pos_referral.sync.relay import relay_for

            relay = relay_for(self.ctx)
            # at once: a new store takes the chain's keys before its first sale, a restarted one catches up
            release = PeriodicTask("sync-relay", central.sync_interval_seconds, lambda: relay.sync(max_attempts=4),
                                   at_once=True)
        else:
            release = PeriodicTask(
                "reward-release", self.settings.config.rewards.release_interval_seconds,
                lambda: release_due_rewards(self.ctx),
            )
        release.start()
        self.background.append(release)
        scanner = self.settings.config.scanner
        if scanner.serial_url:
            from pos_referral.scanner.serial_reader import SerialScanner

            reader = SerialScanner(scanner.serial_url, lambda code: self.scans.publish(Scan(code, scanner.till)),
                                   baudrate=scanner.baudrate)
            reader.start()
            self.background.append(reader)  # type: ignore[arg-type]  # it has stop(), which close() calls
        printer_cfg = self.settings.config.printer
        if printer_cfg.type != "none":  # the print queue: jobs committed with the sale, printed after
            from pos_referral.printing.escpos_renderer import RendererConfig
            from pos_referral.printing.markup import validate_all_templates
            from pos_referral.printing.printers import make_printer
            from pos_referral.printing.queue import PrintWorker, SqliteChangeProbe

            validate_all_templates()
            db_file = self.db.write_engine.url.database if self.db.is_sqlite else None
            worker = PrintWorker(self.db.writer, make_printer(printer_cfg, self.settings.data_dir),
                                 RendererConfig.from_section(printer_cfg, self.settings.config.store.language),
                                 clock=self.ctx.clock,
                                 changed=SqliteChangeProbe(db_file) if db_file and db_file != ":memory:" else None)
            worker.start()
            self.print_worker = worker
            self.background.append(worker)  # type: ignore[arg-type]  # it has stop(), which close() calls
        if self.settings.config.mail.enabled:  # invitations and status mails (services/mail_worker.py)
            from pos_referral.services.mail_worker import MailWorker

            mailer = MailWorker.from_settings(self.ctx)
            mailer.start()
            self.background.append(mailer)  # type: ignore[arg-type]  # it has stop(), which close() calls

    def close(self) -> None:
        self.scans.close()  # end the till pages' event streams
        for task in reversed(self.background):
            stop = getattr(task, "stop", None)
            if callable(stop):
                stop()
        self.background.clear()
        self.db.dispose()


def _waits_for_chain_keys(db: Database) -> bool:
    """A chain store that has neither joined (taken central's keys) nor sold anything yet.

    Such a store refuses till actions as ``store_not_joined`` until its first sync brings the keys
    (the relay runs at once in ``serve``). A store that already has customers under its own keys
    keeps selling as before; its relay reports the clash (``sync/inbound.py``)."""
    from pos_referral.db.models import Customer
    from pos_referral.sync.relay import has_joined

    if has_joined(db):
        return False
    with db.read_engine.connect() as conn:
        return not conn.execute(sa.select(sa.func.count()).select_from(Customer)).scalar_one()


def build_store(
    settings: Settings,
    *,
    database_url: str | None = None,
    clock: Callable[[], datetime] = utcnow,
    migrate_schema: bool = True,
) -> Store:
    """Open the database (migrated to head), load or create secrets, wire the services."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = open_database(database_url or sqlite_url(settings.data_dir), pool_size=settings.config.server.threads + 2)
    if migrate_schema:
        migrate.upgrade(db)
    settings = with_adopted_programs(settings, db)  # a chain's programs from central override the files
    secrets = load_or_create_secrets(settings.data_dir)
    if settings.config.central.url and _waits_for_chain_keys(db):
        secrets = UnjoinedSecrets(keyring=secrets.keyring, pepper=secrets.pepper, session_key=secrets.session_key)
    ctx = StoreContext(settings=settings, db=db, secrets=secrets, clock=clock)
    limiter = FailureLimiter(settings.config.security.failed_lookups_per_minute)
    return Store(ctx=ctx, tokens=TokenVerifier(ctx), limiter=limiter)
