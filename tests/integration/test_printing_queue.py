"""The print queue: jobs commit with the sale, print once, survive restarts, and reprints say REPRINT."""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from pos_referral.config import PrinterSection
from pos_referral.db.engine import Database, open_database
from pos_referral.db.models import PrintJob
from pos_referral.printing import fonts
from pos_referral.printing.escpos_renderer import RendererConfig
from pos_referral.printing.printers import PreviewPrinter, make_printer
from pos_referral.printing.status import PrinterError, PrinterStatus
from pos_referral.services.print_jobs import enqueue, reprint
from pos_referral.services.print_worker import PrintWorker, SqliteChangeProbe
from pos_referral.services.unit_of_work import UnitOfWork

CODE = "R7KQ2M9XW4HT3P"
FOOTER = {"first_name": "Ada", "code": CODE, "landing_url": f"https://s.example/r/{CODE}", "discount": "5.00",
          "currency": "EUR", "lang": "en"}
CONFIG = RendererConfig("TM-T88V", 80)


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC) + timedelta(seconds=1)  # jobs are stamped with the real clock

    def __call__(self) -> datetime:
        return self.now


class FlakyPrinter:
    """Fails while ``down`` is set; remembers what it printed."""

    def __init__(self) -> None:
        self.down = False
        self.printed: list[bytes] = []

    def send(self, data: bytes) -> None:
        if self.down:
            raise PrinterError("paper out")
        self.printed.append(data)

    def status(self) -> PrinterStatus:
        return PrinterStatus(online=not self.down, paper="out" if self.down else "ok", cover_open=False)

    def close(self) -> None:
        pass



def queue_footer(db: Database, **extra: object) -> int:
    with UnitOfWork(db, write=True) as uow:
        job_id = enqueue(uow.conn, "referral_footer", {**FOOTER, **extra}, datetime.now(UTC), redemption_id="r1")
        uow.commit()
    return job_id


def wait_for(check: Callable[[], bool], worker: PrintWorker, *, tries: int, step: float) -> None:
    """Poll ``check`` up to ``tries`` times, ``step`` seconds apart, while the worker runs its thread."""
    for _ in range(tries):
        if check():
            return
        worker._stop.wait(step)


def job(db: Database, job_id: int) -> PrintJob:
    with UnitOfWork(db, write=False) as read:
        found = read.session.get(PrintJob, job_id)
        assert found is not None
        return found


def test_a_job_exists_only_if_the_sale_commits(db: Database) -> None:
    with UnitOfWork(db, write=True) as uow:
        enqueue(uow.conn, "referral_footer", FOOTER, datetime.now(UTC))  # and no commit: the sale failed
    with UnitOfWork(db, write=False) as read:
        assert read.session.scalar(sa.select(sa.func.count()).select_from(PrintJob)) == 0


def test_preview_printer_writes_bin_txt_and_png(db: Database, tmp_path: Path) -> None:
    job_id = queue_footer(db)
    printer = make_printer(PrinterSection(type="preview", folder="receipts"), tmp_path)
    assert isinstance(printer, PreviewPrinter)
    assert PrintWorker(db, printer, CONFIG).run_once() == 1
    stem = tmp_path / "receipts" / f"{job_id:06d}-referral_footer"
    assert stem.with_suffix(".bin").read_bytes().startswith(b"\x1b@")
    assert "[barcode CODE128 R7KQ2M9XW4HT3P]" in stem.with_suffix(".txt").read_text(encoding="utf-8")
    assert stem.with_suffix(".png").read_bytes().startswith(b"\x89PNG")
    done = job(db, job_id)
    assert done.status == "done" and done.bytes_sent == len(stem.with_suffix(".bin").read_bytes())


def test_paper_out_keeps_the_job_and_it_prints_once_when_paper_is_back(db: Database) -> None:
    clock, printer = Clock(), FlakyPrinter()
    worker = PrintWorker(db, printer, CONFIG, clock=clock, rng=random.Random(1))
    first, second = queue_footer(db), queue_footer(db, first_name="Bo")
    printer.down = True
    assert worker.run_once() == 0
    waiting = job(db, first)
    assert waiting.status == "queued" and waiting.attempts == 1 and waiting.last_error == "paper out"
    assert job(db, second).attempts == 0  # the queue paused instead of burning the second job's attempts
    assert worker.last_status.paper == "out"
    printer.down = False
    clock.now += timedelta(seconds=1)  # before the backoff ends: the worker asks the printer and resumes
    assert worker.run_once() == 2 and worker.run_once() == 0
    assert len(printer.printed) == 2 and b"Thank you, Ada!" in printer.printed[0]


def test_backoff_grows_is_capped_and_the_job_turns_failed_but_keeps_trying(db: Database) -> None:
    clock, printer = Clock(), FlakyPrinter()
    worker = PrintWorker(db, printer, CONFIG, clock=clock, base_delay=2, max_delay=60, failed_after=3,
                         rng=random.Random(7))
    printer.status = lambda: PrinterStatus()  # type: ignore[method-assign]  # a printer that says nothing
    job_id = queue_footer(db)
    printer.down = True
    delays = []
    for _ in range(8):
        worker.run_once()
        state = job(db, job_id)
        delays.append((state.next_attempt_at - clock.now).total_seconds())
        clock.now = state.next_attempt_at
    assert all(1.5 <= a <= 3 for a in delays[:1]) and max(delays) <= 60 and delays[-1] >= 45
    assert job(db, job_id).status == "failed" and job(db, job_id).attempts == 8
    printer.down = False
    assert worker.run_once() == 1 and job(db, job_id).status == "done"


def test_a_job_left_printing_by_a_crash_prints_after_restart(db: Database) -> None:
    job_id = queue_footer(db)
    with UnitOfWork(db, write=True) as uow:
        uow.session.execute(sa.update(PrintJob).values(status="printing"))
        uow.commit()
    printer = FlakyPrinter()
    worker = PrintWorker(db, printer, CONFIG)
    assert worker.run_once() == 0  # "printing" is not due ...
    assert worker.recover() == 1  # ... until start-up re-queues it
    assert worker.run_once() == 1 and job(db, job_id).status == "done"


def test_a_job_queued_before_a_restart_is_printed_by_the_new_worker(db: Database, tmp_path: Path) -> None:
    job_id = queue_footer(db)
    db.dispose()
    reopened = open_database(f"sqlite:///{tmp_path / 'store.db'}")
    printer = FlakyPrinter()
    worker = PrintWorker(reopened, printer, CONFIG, poll_interval=0.05)
    worker.start()
    try:
        worker.notify()
        wait_for(lambda: bool(printer.printed), worker, tries=100, step=0.05)
    finally:
        worker.stop()
        reopened.dispose()
    assert len(printer.printed) == 1 and job(db, job_id).status == "done"


def test_reprint_makes_a_new_job_marked_reprint(db: Database) -> None:
    original = queue_footer(db)
    printer = FlakyPrinter()
    worker = PrintWorker(db, printer, CONFIG)
    worker.run_once()
    again = reprint(db, original, datetime.now(UTC))
    assert again is not None and again.id != original and again.reprint_of == original and again.redemption_id == "r1"
    assert worker.run_once() == 1
    assert b"REPRINT" in printer.printed[1] and b"REPRINT" not in printer.printed[0]
    assert reprint(db, 999, datetime.now(UTC)) is None


def test_an_unrenderable_job_fails_for_good_and_does_not_block_the_queue(db: Database) -> None:
    with UnitOfWork(db, write=True) as uow:
        bad = enqueue(uow.conn, "no_such_template", {}, datetime.now(UTC))
        uow.commit()
    good = queue_footer(db)
    printer = FlakyPrinter()
    assert PrintWorker(db, printer, CONFIG).run_once() == 1
    broken = job(db, bad)
    assert broken.status == "failed" and broken.last_error.startswith("render: no_such_template.receipt")
    assert job(db, good).status == "done"


def test_a_committed_job_wakes_the_worker_without_a_notify(db: Database, tmp_path: Path) -> None:
    """The till's transaction knows nothing of the worker: the change probe sees the commit."""
    printer = FlakyPrinter()
    probe = SqliteChangeProbe(str(tmp_path / "store.db"))
    worker = PrintWorker(db, printer, CONFIG, poll_interval=3600, changed=probe)  # no timed polling
    worker.start()
    try:
        worker._stop.wait(0.2)  # the first round ran on the empty queue: the worker is idle now
        assert printer.printed == []
        job_id = queue_footer(db)
        wait_for(lambda: bool(printer.printed), worker, tries=200, step=0.05)
    finally:
        worker.stop()
    assert len(printer.printed) == 1 and job(db, job_id).status == "done"
    with pytest.raises(sqlite3.ProgrammingError):  # stop closed the probe's connection
        probe()


def test_the_change_probe_sees_other_connections_commits_only(tmp_path: Path) -> None:
    path = str(tmp_path / "x.db")
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("CREATE TABLE t (x)")
    probe = SqliteChangeProbe(path)
    assert probe() is False
    writer.execute("INSERT INTO t VALUES (1)")
    assert probe() is True and probe() is False
    writer.execute("BEGIN")
    writer.execute("INSERT INTO t VALUES (2)")
    assert probe() is False  # not committed yet
    writer.execute("COMMIT")
    assert probe() is True
    probe.close()
    writer.close()


def test_an_idle_worker_knows_the_printer_is_out_of_paper_before_the_next_sale(db: Database) -> None:
    printer = FlakyPrinter()
    printer.down = True
    worker = PrintWorker(db, printer, CONFIG, poll_interval=0.02, status_interval=0.02)
    assert worker.last_status.summary() == "no status from printer"
    worker.start()
    try:
        wait_for(lambda: worker.last_status.paper == "out", worker, tries=100, step=0.02)
        assert worker.last_status.summary() == "paper out" and not worker.last_status.ready
        printer.down = False
        wait_for(lambda: worker.last_status.summary() == "ready", worker, tries=100, step=0.02)
        assert worker.last_status.summary() == "ready"
    finally:
        worker.stop()


def test_a_letter_no_font_has_prints_as_a_question_mark_and_the_job_says_so(db: Database, tmp_path: Path) -> None:
    latin_only = tmp_path / "fonts"
    latin_only.mkdir()
    (latin_only / "NotoSansMono-Regular.ttf").write_bytes((fonts.SHIPPED / "NotoSansMono-Regular.ttf").read_bytes())
    job_id = queue_footer(db, first_name="Ada 中文", lang="th")  # Thai: no font here has it either
    printer = FlakyPrinter()
    with fonts.using(fonts.FontLibrary([latin_only])):
        assert PrintWorker(db, printer, CONFIG).run_once() == 1  # printed, not failed for good
    with UnitOfWork(db, write=False) as read:
        job = read.session.get(PrintJob, job_id)
        assert job is not None and job.status == "done"
        assert job.last_error.startswith("printed with ? for U+") and "U+4E2D U+6587" in job.last_error
    assert len(printer.printed) == 1
