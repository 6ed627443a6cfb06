"""A network printer that refuses, stalls, drops the line mid-job and runs out of paper: through the
PrintWorker, every footer is printed exactly once, in order."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from pos_referral.config import PrinterSection
from pos_referral.db.engine import Database
from pos_referral.db.models import PrintJob
from pos_referral.printing.escpos_renderer import RendererConfig
from pos_referral.printing.printers import make_printer
from pos_referral.services.print_jobs import enqueue
from pos_referral.services.print_worker import PrintWorker
from pos_referral.services.unit_of_work import UnitOfWork
from tests.printing_support import FakeNetworkPrinter, decode_escpos

pytestmark = pytest.mark.reliability
CONFIG = RendererConfig("TM-T88V", 80)


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC) + timedelta(seconds=1)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def fake() -> Iterator[FakeNetworkPrinter]:
    printer = FakeNetworkPrinter()
    yield printer
    printer.close()



def code(n: int) -> str:
    return f"TEST{n:04d}CODE"


def queue(db: Database, n: int) -> int:
    with UnitOfWork(db, write=True) as uow:
        job_id = enqueue(uow.conn, "referral_footer", {"code": code(n), "landing_url": f"https://s.example/r/{code(n)}",
                                                       "discount": "5.00", "currency": "EUR"}, datetime.now(UTC))
        uow.commit()
    return job_id


def printed_codes(fake: FakeNetworkPrinter) -> list[str]:
    return [next(c.data[2:].decode() for c in decode_escpos(job) if c.name == "CODE128") for job in fake.jobs]


def worker_for(fake: FakeNetworkPrinter, db: Database, clock: Clock) -> PrintWorker:
    section = PrinterSection(type="network", host="127.0.0.1", port=fake.port, timeout=0.3)
    return PrintWorker(db, make_printer(section, Path(".")), CONFIG, clock=clock)


def drain(worker: PrintWorker, clock: Clock, rounds: int = 20) -> None:
    for _ in range(rounds):
        worker.run_once()
        clock.now += timedelta(minutes=10)


def test_status_reports_paper_out_as_a_value(fake: FakeNetworkPrinter) -> None:
    printer = make_printer(PrinterSection(type="network", host="127.0.0.1", port=fake.port, timeout=0.3), Path("."))
    assert printer.status().ready
    fake.mode = "paper_out"
    status = printer.status()
    assert status.paper == "out" and not status.ready and status.summary() == "paper out"
    fake.refuse()
    gone = printer.status()
    assert not gone.ready and gone.error.startswith(f"127.0.0.1:{fake.port}")


@pytest.mark.slow
def test_no_job_is_lost_or_printed_twice_through_every_fault(fake: FakeNetworkPrinter, db: Database) -> None:
    clock = Clock()
    worker = worker_for(fake, db, clock)
    queue(db, 0)
    assert worker.run_once() == 1  # a healthy job first: the worker learns the printer answers status

    faults = ["refuse", "stall", "drop", "paper_out"]
    for n, fault in enumerate(faults, start=1):
        queue(db, n)
        if fault == "refuse":
            fake.refuse()
        else:
            fake.mode = fault
        assert worker.run_once() == 0, fault
        if fault in ("refuse", "paper_out"):
            assert not worker.last_status.ready
        fake.mode = "ok"
        if fault == "refuse":
            fake.listen()
        drain(worker, clock)

    assert printed_codes(fake) == [code(n) for n in range(len(faults) + 1)]
    with UnitOfWork(db, write=False) as read:
        jobs = list(read.session.scalars(sa.select(PrintJob).order_by(PrintJob.id)))
    assert [j.status for j in jobs] == ["done"] * 5
    assert [j.attempts for j in jobs] == [1, 2, 2, 2, 2]


@pytest.mark.slow
def test_a_dropped_connection_mid_job_reprints_the_whole_job_once(fake: FakeNetworkPrinter, db: Database) -> None:
    clock = Clock()
    worker = worker_for(fake, db, clock)
    queue(db, 0)
    worker.run_once()
    fake.mode, fake.drop_after = "drop", 100
    queue(db, 1)
    queue(db, 2)
    assert worker.run_once() == 0
    fake.mode = "ok"
    drain(worker, clock)
    assert printed_codes(fake) == [code(0), code(1), code(2)]
