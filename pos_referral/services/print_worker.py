"""The print worker: prints the ``print_jobs`` queue in order, survives printer faults and restarts.

Life of a job: ``queued`` -> ``printing`` (claimed by a conditional UPDATE) -> ``done``. A failed send
records ``attempts`` and ``last_error`` and schedules a retry with exponential backoff and jitter,
capped at ``max_delay``. After ``failed_after`` failed attempts the status becomes ``failed`` so the
till and ``/healthz`` show it, but the worker keeps retrying at the capped interval: a footer prints
once the paper is back, hours later if need be. A job whose template cannot be rendered is ``failed``
for good (retrying would not help); ``reprint`` makes a new job.

Delivery is at least once: the job is marked ``done`` in its own commit right after ``send`` returns.
Only a crash between the printer taking the last byte and that commit prints a job twice: at start
the worker re-queues jobs left in ``printing``.
"""

from __future__ import annotations

import logging
import random
import sqlite3
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from pos_referral.db.base import utcnow
from pos_referral.db.engine import Database
from pos_referral.db.models import PrintJob
from pos_referral.printing.escpos_renderer import RendererConfig
from pos_referral.printing.printers import PreviewSink, Printer
from pos_referral.printing.render import render_job
from pos_referral.printing.status import PrinterError, PrinterStatus
from pos_referral.services.unit_of_work import UnitOfWork

logger = logging.getLogger(__name__)

NEVER = datetime(9999, 1, 1, tzinfo=UTC)
RETRYABLE = ("queued", "failed")


class PrintWorker:
    """Prints due jobs in id order; one printer fault pauses the whole queue so receipts keep their order."""

    def __init__(self, db: Database, printer: Printer, renderer_config: RendererConfig,
                 *, clock: Callable[[], datetime] = utcnow, poll_interval: float = 2.0, base_delay: float = 2.0,
                 max_delay: float = 300.0, failed_after: int = 5, rng: random.Random | None = None,
                 changed: Callable[[], bool] | None = None, tick: float = 0.05,
                 status_interval: float = 30.0) -> None:
        self.db, self.printer, self.config, self.clock = db, printer, renderer_config, clock
        self.poll_interval, self.base_delay, self.max_delay = poll_interval, base_delay, max_delay
        self.failed_after = failed_after
        self.changed, self.tick = changed, tick  # a cheap "did anyone commit?" probe, checked every tick
        self.status_interval = status_interval  # how often an idle worker asks the printer how it is
        self.last_status = PrinterStatus()  # what /healthz shows; updated by every attempt
        self._rng = rng or random.Random()
        self._paused_until: datetime | None = None
        self._wake, self._stop = threading.Event(), threading.Event()
        self._thread: threading.Thread | None = None

    # -- one round ---------------------------------------------------------------------------------
    def recover(self) -> int:
        """Re-queue jobs a dead process left in ``printing``; returns how many."""
        with UnitOfWork(self.db, write=True) as uow:
            result = uow.session.execute(sa.update(PrintJob).where(PrintJob.status == "printing")
                                         .values(status="queued", updated_at=self.clock()))
            uow.commit()
        count = int(getattr(result, "rowcount", 0) or 0)
        if count:
            logger.warning("re-queued %d print job(s) interrupted by a restart", count)
        return count

    def run_once(self, limit: int = 20) -> int:
        """Print what is due; returns the number of jobs printed."""
        now = self.clock()
        if self._paused_until is not None and now < self._paused_until and not self._printer_back(now):
            return 0
        self._paused_until = None
        with UnitOfWork(self.db, write=False) as read:
            ids = list(read.session.scalars(sa.select(PrintJob.id).where(
                PrintJob.status.in_(RETRYABLE), PrintJob.next_attempt_at <= now).order_by(PrintJob.id).limit(limit)))
        printed = 0
        for job_id in ids:
            if self._stop.is_set():
                break  # stopping: the rest stay queued for the next start
            outcome = self._print_one(job_id)
            if outcome is None:
                break  # printer fault: keep the rest queued, in order
            printed += outcome
        return printed

    def _printer_back(self, now: datetime) -> bool:
        """While paused, ask the printer; when it answers ready again, every waiting job is due now."""
        self.last_status = self.printer.status()
        if not (self.last_status.ready and self.last_status.answered):
            return False
        with UnitOfWork(self.db, write=True) as uow:
            uow.session.execute(sa.update(PrintJob).where(PrintJob.status.in_(RETRYABLE),
                                                          PrintJob.next_attempt_at < NEVER).values(next_attempt_at=now))
            uow.commit()
        return True

    def _claim(self, job_id: int) -> PrintJob | None:
        now = self.clock()
        with UnitOfWork(self.db, write=True) as uow:
            claimed = uow.session.execute(sa.update(PrintJob).where(
                PrintJob.id == job_id, PrintJob.status.in_(RETRYABLE), PrintJob.next_attempt_at <= now,
            ).values(status="printing", updated_at=now))
            if not getattr(claimed, "rowcount", 0):
                return None  # another worker took it, or it is no longer due
            job = uow.session.get(PrintJob, job_id)
            uow.commit()
        return job

    def _print_one(self, job_id: int) -> int | None:
        """1 printed, 0 skipped or unrenderable, None when the printer failed."""
        job = self._claim(job_id)
        if job is None:
            return 0
        preview = isinstance(self.printer, PreviewSink)
        try:
            rendered = render_job(job.template, job.context, self.config, preview=preview)
        except Exception as exc:  # a template or font problem: retrying will not help
            logger.error("print job %s cannot be rendered: %s", job_id, exc)
            self._finish(job_id, status="failed", attempts=job.attempts + 1, error=f"render: {exc}", next_at=NEVER)
            return 0
        try:
            if isinstance(self.printer, PreviewSink):
                self.printer.save_preview(f"{job_id:06d}-{job.template}", rendered.text, rendered.png)
            self.printer.send(rendered.escpos)
        except (PrinterError, OSError) as exc:
            self._failed_send(job, str(exc))
            return None
        note = ""
        if rendered.missing_letters:  # printed all the same: a "?" beats a receipt that never comes
            note = f"printed with ? for {rendered.missing_letters} (no font has them)"
            logger.warning("print job %s: %s", job_id, note)
        self._finish(job_id, status="done", attempts=job.attempts + 1, error=note, bytes_sent=len(rendered.escpos))
        self.last_status = PrinterStatus(online=True, paper=self.last_status.paper, cover_open=False)
        return 1

    def retry_delay(self, attempts: int) -> float:
        delay = min(self.max_delay, self.base_delay * 2 ** max(attempts - 1, 0))
        return min(self.max_delay, delay * (0.75 + 0.5 * self._rng.random()))

    def _failed_send(self, job: PrintJob, error: str) -> None:
        attempts = job.attempts + 1
        next_at = self.clock() + timedelta(seconds=self.retry_delay(attempts))
        status = "failed" if attempts >= self.failed_after else "queued"
        logger.warning("print job %s not printed (attempt %d, retry at %s): %s", job.id, attempts,
                       next_at.isoformat(timespec="seconds"), error)
        self._finish(job.id, status=status, attempts=attempts, error=error, next_at=next_at)
        self._paused_until = next_at
        self.last_status = self.printer.status()

    def _finish(self, job_id: int, *, status: str, attempts: int, error: str, next_at: datetime | None = None,
                bytes_sent: int = 0) -> None:
        values: dict[str, Any] = dict(status=status, attempts=attempts, last_error=error[:200], updated_at=self.clock())
        if next_at is not None:
            values["next_attempt_at"] = next_at
        if status == "done":
            values["bytes_sent"] = bytes_sent
        with UnitOfWork(self.db, write=True) as uow:
            uow.session.execute(sa.update(PrintJob).where(PrintJob.id == job_id).values(**values))
            uow.commit()

    # -- background thread -------------------------------------------------------------------------
    def start(self) -> None:
        """Re-queue interrupted jobs, then print in a daemon thread until ``stop``."""
        self.recover()
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="print-worker", daemon=True)
        self._thread.start()

    def notify(self) -> None:
        """Wake the worker now (a job was just committed)."""
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        close = getattr(self.changed, "close", None)
        if callable(close):
            close()

    def _loop(self) -> None:
        next_status = 0.0
        while not self._stop.is_set():
            if time.monotonic() >= next_status:  # /healthz and the till show paper out before the next sale
                self.refresh_status()
                next_status = time.monotonic() + self.status_interval
            try:
                self.run_once()
            except Exception:  # a database hiccup must not end printing; the next round retries
                logger.exception("print worker round failed")
            self._idle()

    def refresh_status(self) -> PrinterStatus:
        """Ask the printer how it is (online, paper, cover) while idle; a printer that does not answer says so."""
        try:
            self.last_status = self.printer.status()
        except Exception as exc:  # a status query must never stop printing
            self.last_status = PrinterStatus(error=f"status: {exc}")
        return self.last_status

    def _idle(self) -> None:
        """Wait for a notify, a commit seen by the change probe, or the poll interval, whichever is first.

        A redemption commits its footer job in the till's transaction; the probe (SQLite's
        ``PRAGMA data_version``, see ``SqliteChangeProbe``) sees that commit within one tick,
        so the footer prints a few tens of milliseconds after the sale instead of up to a poll
        interval later, without the write path having to know the worker exists."""
        deadline = time.monotonic() + self.poll_interval
        while not self._stop.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                break
            if self._wake.wait(min(left, self.tick) if self.changed is not None else left):
                break
            if self.changed is not None and self.changed():
                break
        self._wake.clear()


class SqliteChangeProbe:
    """True when another connection committed to the SQLite file since the last call.

    ``PRAGMA data_version`` on a connection of its own (autocommit, only ever reading) changes
    with every commit by any other connection: one cheap call per tick instead of a query of the
    queue. Used by the worker thread only; ``close`` when the worker stops."""

    def __init__(self, database_path: str) -> None:
        self._conn = sqlite3.connect(database_path, isolation_level=None, check_same_thread=False)
        self._last = self._version()

    def _version(self) -> int:
        return int(self._conn.execute("PRAGMA data_version").fetchone()[0])

    def __call__(self) -> bool:
        now = self._version()
        if now == self._last:
            return False
        self._last = now
        return True

    def close(self) -> None:
        self._conn.close()
