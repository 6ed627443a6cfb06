"""Data at rest: the data folder is owner-only, and so is every file the service writes in it."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from pos_referral.bootstrap import Store, build_store
from pos_referral.config import load_settings
from pos_referral.printing.escpos_renderer import RendererConfig
from pos_referral.printing.printers import make_printer
from pos_referral.services.print_worker import PrintWorker
from tests.conftest import Api, FakeClock

pytestmark = pytest.mark.skipif(not hasattr(stat, "S_IMODE"), reason="Unix file modes")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def print_queue(store: Store) -> None:
    config = store.settings.config
    printer = make_printer(config.printer, store.settings.data_dir)
    assert PrintWorker(store.db, printer, RendererConfig.from_section(config.printer, "en")).run_once() >= 1


def test_the_database_secrets_and_receipts_are_readable_by_the_service_user_only(store: Store, api: Api) -> None:
    code = api.issue("+4791111111", "Kari")["code"]
    assert api.redeem(code, "S1", "50.00", phone="+4794444441")[0] == 201
    print_queue(store)
    data = store.settings.data_dir
    receipts = data / "receipts"
    assert mode(data) == 0o700 and mode(receipts) == 0o700
    files = [data / "pos-referral.db", data / "pos-referral.db-wal", data / "pos-referral.db-shm",
             data / "secrets.json", *receipts.iterdir()]
    assert {p.suffix for p in receipts.iterdir()} == {".bin", ".txt", ".png"}
    assert {p.name: oct(mode(p)) for p in files} == {p.name: oct(0o600) for p in files}


def test_a_store_from_before_gets_its_folder_and_files_tightened_at_start(store: Store, config_path: Path,
                                                                           clock: FakeClock) -> None:
    data = store.settings.data_dir
    store.close()
    for path, loose in ((data, 0o755), (data / "pos-referral.db", 0o644), (data / "secrets.json", 0o644)):
        path.chmod(loose)
    again = build_store(load_settings(config_path, data_dir=data, environ={}), clock=clock)
    try:
        assert (mode(data), mode(data / "pos-referral.db"), mode(data / "secrets.json")) == (0o700, 0o600, 0o600)
        assert mode(data / "pos-referral.db-wal") == 0o600
    finally:
        again.close()
