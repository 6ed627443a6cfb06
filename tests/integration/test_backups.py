"""Backups a shop can restore: made while the till works, checked, shown on /healthz and the manager page,
put back with ``db restore`` only while the service is stopped, and never a stale WAL beside the result."""

from __future__ import annotations

import logging
import sqlite3
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from flask import Flask

from pos_referral import create_app
from pos_referral.bootstrap import Store, build_store
from pos_referral.cli import main
from pos_referral.config import Settings, load_settings
from pos_referral.db import migrate
from pos_referral.db.engine import database_path
from pos_referral.run_lock import ServeLock, serve_running
from pos_referral.services.backups.backup import BackupError, backup_folder, list_backups, take_backup
from pos_referral.services.backups.backup_schedule import ScheduledBackups
from pos_referral.services.tills import add_till
from tests.conftest import Api, FakeClock
from tests.integration.test_manager_pages import sign_in


def cli(store: Store, config_path: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["--config", str(config_path), "--data-dir", str(store.settings.data_dir), *args])


def redemptions_in(path: Path) -> int:
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return int(conn.execute("SELECT count(*) FROM redemptions").fetchone()[0])
    finally:
        conn.close()


def sell(api: Api, n: int, start: int = 0) -> None:
    for i in range(start, start + n):
        ann = api.issue(phone=f"+479100{i:04d}")
        status, body = api.redeem(ann["code"], f"S{i}", email=f"friend{i}@example.com")
        assert status == 201, body


def with_backup(settings: Settings, **backup: object) -> Settings:
    config = settings.config.model_copy(update={"backup": settings.config.backup.model_copy(update=backup)})
    return settings.model_copy(update={"config": config})


def test_db_backup_while_the_shop_runs_holds_every_sale_and_says_what_it_checked(
        store: Store, api: Api, config_path: Path) -> None:
    sell(api, 3)
    result = cli(store, config_path, "db", "backup")
    assert result.exit_code == 0, result.output
    [backup] = list_backups(backup_folder(store.settings))
    assert f"backup: {backup}" in result.output
    assert f"integrity ok, schema {migrate.head_revision()}" in result.output and "3 redemptions" in result.output
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    assert redemptions_in(backup) == 3
    assert not backup.with_name(backup.name + "-wal").exists()  # one self-contained file
    conn = sqlite3.connect(backup)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    conn.close()


def test_restore_puts_the_backup_back_and_keeps_the_replaced_database(
        store: Store, api: Api, config_path: Path) -> None:
    sell(api, 2)
    assert cli(store, config_path, "db", "backup").exit_code == 0
    [backup] = list_backups(backup_folder(store.settings))
    sell(api, 3, start=2)  # sold after the backup: in the replaced database, not in the restored one
    store.close()  # the service is stopped
    result = cli(store, config_path, "db", "restore", str(backup), "--yes")
    assert result.exit_code == 0, result.output
    live = database_path(store.settings.data_dir)
    assert redemptions_in(live) == 2
    [replaced] = live.parent.glob("pos-referral.db.replaced-*")
    assert f"kept as {replaced}" in result.output
    assert redemptions_in(replaced) == 5
    # no stale WAL of the replaced database was replayed into the restored one: 2 redemptions read above go
    # through whatever -wal is there now, which is the restored database's own (its db_restore audit entry)
    assert not [p for p in live.parent.iterdir() if p.name.endswith("-journal")]
    assert stat.S_IMODE(live.stat().st_mode) == 0o600


def test_restore_refuses_while_serve_runs(store: Store, api: Api, config_path: Path) -> None:
    sell(api, 1)
    assert cli(store, config_path, "db", "backup").exit_code == 0
    [backup] = list_backups(backup_folder(store.settings))
    sell(api, 1, start=1)
    lock = ServeLock(store.settings.data_dir)  # what `serve` holds while it runs
    try:
        assert serve_running(store.settings.data_dir)
        result = cli(store, config_path, "db", "restore", str(backup), "--yes")
    finally:
        lock.release()
    assert result.exit_code != 0 and "serve is running" in result.output, result.output
    assert redemptions_in(database_path(store.settings.data_dir)) == 2  # untouched
    assert not serve_running(store.settings.data_dir)


def test_restore_refuses_a_damaged_backup_and_changes_nothing(store: Store, api: Api, config_path: Path) -> None:
    sell(api, 1)
    assert cli(store, config_path, "db", "backup").exit_code == 0
    [backup] = list_backups(backup_folder(store.settings))
    damaged = backup.with_name("damaged.db")
    data = bytearray(backup.read_bytes())
    damaged.write_bytes(bytes(data[: len(data) // 2]))  # cut off half way (a full USB stick)
    store.close()
    result = cli(store, config_path, "db", "restore", str(damaged), "--yes")
    assert result.exit_code != 0 and "not restored" in result.output, result.output
    assert redemptions_in(database_path(store.settings.data_dir)) == 1
    assert not list(store.settings.data_dir.glob("pos-referral.db.replaced-*"))


def test_a_backup_round_backs_up_when_due_and_keeps_the_retention(store: Store, clock: FakeClock) -> None:
    rounds = ScheduledBackups(with_backup(store.settings, keep_daily=2, keep_weekly=0, keep_monthly=0), clock)
    rounds()
    assert len(list_backups(backup_folder(store.settings))) == 1
    clock.advance(hours=1)
    rounds()  # not due: the newest is an hour old
    assert len(list_backups(backup_folder(store.settings))) == 1
    for _ in range(3):
        clock.advance(hours=24)
        rounds()
    assert len(list_backups(backup_folder(store.settings))) == 2  # the newest of the last two days


def test_healthz_and_the_manager_page_show_the_last_backup(store: Store, app: Flask, clock: FakeClock) -> None:
    client = app.test_client()
    assert client.get("/healthz").get_json()["backup"]["state"] == "none"
    ScheduledBackups(store.settings, clock)()
    health = client.get("/healthz").get_json()
    assert health["status"] == "ok" and health["database"] == "ok"  # the existing fields are as they were
    backup = health["backup"]
    assert backup["state"] == "ok" and backup["file"].endswith(".db") and backup["size"] > 0
    from pos_referral.services import staff
    staff.add_staff(store.ctx, "Mia", "manager", password="correct horse battery", pin="999999")
    sign_in(client)
    page = client.get("/manager/").get_data(as_text=True)
    assert 'id="backups" data-state="ok"' in page and Path(backup["file"]).name in page
    clock.advance(hours=60)  # no backup for longer than two intervals
    assert client.get("/healthz").get_json()["backup"]["state"] == "late"


def test_a_failing_backup_is_shown_and_logged_once_and_the_shop_goes_on(
        store: Store, app: Flask, api: Api, clock: FakeClock, tmp_path: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the backup folder should be")
    rounds = ScheduledBackups(with_backup(store.settings, folder=str(blocked)), clock)
    with caplog.at_level(logging.ERROR, logger="pos_referral.services.backups.backup_schedule"):
        for _ in range(3):
            rounds()
            clock.advance(hours=1)
    assert len([r for r in caplog.records if "backup failed" in r.getMessage()]) == 1
    client = app.test_client()
    health = client.get("/healthz").get_json()
    assert health["status"] == "ok"  # the till still works: not a crash, not a 503
    assert health["backup"]["state"] == "failed" and str(blocked) in health["backup"]["error"]
    sell(api, 1)
    from pos_referral.services import staff
    staff.add_staff(store.ctx, "Mia", "manager", password="correct horse battery", pin="999999")
    sign_in(client)
    page = client.get("/manager/").get_data(as_text=True)
    assert 'data-state="failed"' in page and "The last backup failed" in page
    rounds.settings = store.settings  # the folder fixed: said once more, and the state is ok
    with caplog.at_level(logging.WARNING, logger="pos_referral.services.backups.backup_schedule"):
        rounds()
    assert any("backups work again" in r.getMessage() for r in caplog.records)
    assert client.get("/healthz").get_json()["backup"]["state"] == "ok"


def test_a_backup_restored_on_a_new_machine_knows_the_shops_codes_and_customers(
        store: Store, api: Api, config_path: Path, tmp_path: Path, clock: FakeClock) -> None:
    ann = api.issue(phone="+4791112222")
    sell(api, 1)
    assert cli(store, config_path, "db", "backup").exit_code == 0
    [backup] = list_backups(backup_folder(store.settings))
    new_data = tmp_path / "new-machine"  # the old PC is gone: only the backup folder (a USB drive) is left
    result = CliRunner().invoke(main, ["--config", str(config_path), "--data-dir", str(new_data),
                                       "db", "restore", str(backup), "--yes"])
    assert result.exit_code == 0, result.output
    moved = build_store(load_settings(config_path, data_dir=new_data, environ={}), clock=clock)
    try:
        till = Api(create_app(store=moved, test_config={"TESTING": True}).test_client(), add_till(moved.ctx, "T9"))
        assert till.quote(ann["code"], email="new-friend@example.com")["eligible"] is True
        assert till.quote(ann["code"], phone="+4791112222")["reason"] == "self_referral"  # the pepper came along
    finally:
        moved.close()


def test_codes_printed_after_the_backup_are_never_minted_again_after_a_restore(
        store: Store, api: Api, config_path: Path, clock: FakeClock) -> None:
    api.issue(phone="+4791110000")
    assert cli(store, config_path, "db", "backup").exit_code == 0
    [backup] = list_backups(backup_folder(store.settings))
    printed = {api.issue(phone=f"+47911100{i:02d}")["code"] for i in range(1, 4)}  # on receipts, then lost
    store.close()
    assert cli(store, config_path, "db", "restore", str(backup), "--yes").exit_code == 0
    again = build_store(store.settings, clock=clock)
    try:
        till = Api(create_app(store=again, test_config={"TESTING": True}).test_client(), api.token)
        new = {till.issue(phone=f"+47922200{i:02d}")["code"] for i in range(3)}
    finally:
        again.close()
    assert not new & printed


def test_a_restore_is_written_into_the_audit_log_and_audit_verify_still_passes(
        store: Store, api: Api, config_path: Path) -> None:
    # the backup's log is shorter than the head file kept outside the database: without a record of the
    # restore, `audit verify` called the log shortened and the head never moved again
    from pos_referral.services import audit
    from pos_referral.services.unit_of_work import UnitOfWork

    def audited(n: int) -> None:
        for i in range(n):
            with UnitOfWork(store.ctx.db, write=True) as uow:
                audit.record(store.ctx, uow.session, "Mia", "override", f"test {i}", store.ctx.clock())
                uow.commit()

    audited(2)
    assert cli(store, config_path, "db", "backup").exit_code == 0
    [backup] = list_backups(backup_folder(store.settings))
    audited(3)  # after the backup: the head file says 5 entries
    store.close()
    result = cli(store, config_path, "db", "restore", str(backup), "--yes")
    assert result.exit_code == 0, result.output
    [aside] = store.settings.data_dir.glob("audit-head.json.replaced-*")
    assert "audit log: 3 entries, the last one records this restore" in result.output and aside.name in result.output
    check = cli(store, config_path, "audit", "verify")
    assert check.exit_code == 0, check.output
    conn = sqlite3.connect(f"{database_path(store.settings.data_dir).resolve().as_uri()}?mode=ro", uri=True)
    try:
        action, detail = conn.execute("SELECT action, detail FROM audit_log ORDER BY id DESC LIMIT 1").fetchone()
    finally:
        conn.close()
    assert action == "db_restore"
    assert f"restored from {backup.name}: the log had 5 entries" in detail and "the backup holds 2" in detail


def test_a_backup_folder_outside_the_data_folder_is_never_created(
        store: Store, tmp_path: Path, clock: FakeClock) -> None:
    # /media/usb/pos-backups with the drive not connected: creating it would put the backups on the system disk
    usb = tmp_path / "media" / "usb"
    usb.mkdir(parents=True)  # the mount point exists; the drive (and its folder) does not
    settings = with_backup(store.settings, folder=str(usb / "pos-backups"))
    with pytest.raises(BackupError, match="is not there: is its drive connected"):
        take_backup(settings, now=clock.now)
    assert list(usb.iterdir()) == []
    (usb / "pos-backups").mkdir()  # the drive is connected
    backup = take_backup(settings, now=clock.now)
    assert backup.path.parent == usb / "pos-backups" and redemptions_in(backup.path) == 0
    inside = with_backup(store.settings, folder="nightly")  # inside the data folder: created as before
    assert take_backup(inside, now=clock.now).path.parent == store.settings.data_dir / "nightly"
