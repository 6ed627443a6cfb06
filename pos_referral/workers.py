"""Background work of a running service: timers and device threads, started by ``serve`` only.

Tests drive the same objects directly (``run_once``, ``release_due_rewards``); nothing here starts
at import.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from pos_referral.bootstrap import Central, Store, footer_source
from pos_referral.central import service as central_service
from pos_referral.printing.escpos_renderer import RendererConfig
from pos_referral.printing.markup import validate_all_templates
from pos_referral.printing.printers import make_printer
from pos_referral.proxy.build import build_proxy
from pos_referral.proxy.stats import ProxyStats
from pos_referral.scanner.events import Scan
from pos_referral.scanner.serial_reader import SerialScanner
from pos_referral.services import retention
from pos_referral.services.backups.backup_schedule import ScheduledBackups
from pos_referral.services.mail.worker import MailWorker
from pos_referral.services.print_worker import PrintWorker, SqliteChangeProbe
from pos_referral.services.reports.rollup.quarter_hours import CATCH_UP_SECONDS, QuietCatchUp
from pos_referral.services.rewards import release_due_rewards
from pos_referral.sync.backup_upload import sender_for
from pos_referral.sync.client import Rejected, Unavailable
from pos_referral.sync.relay import Relay, relay_for

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


class CentralWatch:
    """One sync round per call, saying once when central goes out of reach and once when it is back.

    Central down for an hour is normal at a shop (the line, the router): sales go on, events wait in the
    outbox, and the log gets two lines, not a traceback every round."""

    def __init__(self, relay: Relay, url: str, *, max_attempts: int = 4) -> None:
        self.relay, self.url, self.max_attempts = relay, url, max_attempts
        self.problem = ""  # what was last said about central; empty while it answers

    def __call__(self) -> None:
        try:
            self.relay.sync(max_attempts=self.max_attempts)
        except (Unavailable, Rejected) as exc:
            if not self.problem:
                logger.warning("central %s is out of reach (%s): sales go on, events wait here until it is back",
                               self.url, exc)
            elif str(exc) != self.problem and isinstance(exc, Rejected):
                logger.warning("central %s: %s", self.url, exc)
            self.problem = str(exc)
            return
        if self.problem:
            logger.warning("central %s is reachable again: sync resumed", self.url)
            self.problem = ""


def start_store_workers(store: Store) -> None:
    """Sync relay or reward release, serial scanner, print queue, mail, backups, report catch-up (``serve``)."""
    settings, ctx = store.settings, store.ctx
    config = settings.config
    if config.central.url:  # in a chain central releases rewards; the relay ships events and pulls vouchers
        watch = CentralWatch(relay_for(ctx), config.central.url)
        # at once: a new store takes the chain's keys before its first sale, a restarted one catches up
        _start(store, PeriodicTask("sync-relay", config.central.sync_interval_seconds, watch, at_once=True))
    else:
        _start(store, PeriodicTask("reward-release", config.rewards.release_interval_seconds,
                                   lambda: release_due_rewards(ctx)))
    if config.scanner.serial_url:  # serial scanner -> open till pages (server-sent events)
        scanner = config.scanner
        reader = SerialScanner(scanner.serial_url, lambda code: store.scans.publish(Scan(code, scanner.till)),
                               baudrate=scanner.baudrate)
        reader.start()
        store.background.append(reader)
    printer = make_printer(config.printer, settings.data_dir)  # one per device: the worker and the proxy share its lock
    if config.printer.type != "none":  # the print queue: jobs committed with the sale, printed after
        validate_all_templates()
        path = store.db.path
        worker = PrintWorker(store.db, printer,
                             RendererConfig.from_section(config.printer, config.store.language), clock=ctx.clock,
                             changed=SqliteChangeProbe(path) if path else None)
        worker.start()
        store.print_worker = worker
        store.background.append(worker)
    if config.proxy.enabled:  # the receipt print proxy: the POS prints through us (proxy/)
        stats = ProxyStats()
        footer = footer_source(ctx)
        footer.warm_up()  # the first receipt after a start gets its code too
        store.background.append(_Closing(footer.close))  # stopped after the proxy: its queued sales recorded
        proxy = build_proxy(config, printer, footer, stats)
        proxy.start()
        store.proxy_stats = stats
        store.background.append(proxy)
    if config.mail.enabled:  # invitations and status mails (services/mail/worker.py)
        mailer = MailWorker.from_settings(ctx)
        _start(store, PeriodicTask("mail-worker", mailer.interval, mailer.run_once))
    # stated retention (services/retention.py): old idempotency records and invited friends' addresses
    _start(store, PeriodicTask("retention-purge", config.retention.purge_interval_seconds,
                               lambda: retention.purge(ctx), at_once=True))
    if config.backup.enabled:  # online backups when due (services/backups/), a chain store's newest to central
        backups = ScheduledBackups(settings, ctx.clock, sender_for(settings))
        _start(store, PeriodicTask("backups", backups.interval, backups, at_once=True))
    # the report rollups caught up in the background while the shop is quiet, so a dashboard has little left
    # to fold in; at once: what a restart left is folded in before the shop gets busy
    _start(store, PeriodicTask("report-rollup", CATCH_UP_SECONDS, QuietCatchUp(store.db, ctx.tz, ctx.clock),
                               at_once=True))


def start_central_workers(central: Central) -> None:
    """The chain's reward release on its timer (``central serve``)."""
    ctx = central.ctx
    _start(central.store, PeriodicTask("central-release", ctx.settings.config.rewards.release_interval_seconds,
                                       lambda: central_service.release(ctx)))


def _start(store: Store, task: PeriodicTask) -> None:
    task.start()
    store.background.append(task)


class _Closing:
    """Something with ``close()`` among the background tasks, which are stopped in reverse order."""

    def __init__(self, close: Callable[[], None]) -> None:
        self.stop = close
