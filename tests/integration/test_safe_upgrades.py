"""Upgrades are safe: a shop's database from the previous schema upgrades with its rows, after a backup;
a migration that fails leaves the old database in place and says which file is which."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from pos_referral.bootstrap import Store, build_store
from pos_referral.cli import main
from pos_referral.db import migrate
from pos_referral.db.engine import database_path, open_database, sqlite_url
from pos_referral.db.models import Code, Customer, LedgerEntry, Redemption, Reward
from pos_referral.services.backups.backup import BEFORE_UPGRADE, backup_folder, list_backups, verify
from pos_referral.services.backups.upgrade import UpgradeError
from pos_referral.services.rewards import release_due_rewards
from pos_referral.services.unit_of_work import UnitOfWork
from tests.conftest import Api, FakeClock

PREVIOUS = "0005_chain_join"
TABLES = (Customer, Code, Redemption, Reward, LedgerEntry)

BROKEN = '''"""A migration that fails half way (tests only)."""
from alembic import op

revision = "9999_broken"
down_revision = "{head}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_table("ledger")
    raise RuntimeError("disk says no")


def downgrade() -> None:
    pass
'''


def counts(store: Store) -> dict[str, int]:
    with UnitOfWork(store.db, write=False) as read:
        return {m.__tablename__: int(read.session.scalar(sa.select(sa.func.count()).select_from(m)) or 0)
                for m in TABLES}


def shop_with_history(store: Store, api: Api, clock: FakeClock) -> dict[str, int]:
    """Customers, codes, redemptions, released rewards (vouchers) and ledger rows, through the services."""
    for i in range(4):
        ann = api.issue(phone=f"+479200{i:04d}")
        status, body = api.redeem(ann["code"], f"S{i}", email=f"friend{i}@example.com")
        assert status == 201, body
    clock.advance(days=30)
    assert release_due_rewards(store.ctx).released == 4
    found = counts(store)
    assert all(found.values()), found
    return found


def to_previous_schema(store: Store) -> None:
    store.close()
    db = open_database(sqlite_url(store.settings.data_dir))
    try:
        migrate.downgrade(db, PREVIOUS)
        assert migrate.current_revision(db) == PREVIOUS
    finally:
        db.dispose()


def test_a_database_at_the_previous_schema_upgrades_with_its_rows_after_a_backup(
        store: Store, api: Api, clock: FakeClock) -> None:
    before = shop_with_history(store, api, clock)
    to_previous_schema(store)
    upgraded = build_store(store.settings, clock=clock)  # what `serve` does at start
    try:
        assert migrate.current_revision(upgraded.db) == migrate.head_revision()
        assert counts(upgraded) == before
        [backup] = list_backups(backup_folder(store.settings), label=BEFORE_UPGRADE)
        assert verify(backup).revision == PREVIOUS  # the database as it was before the upgrade
        ann = Api(api.client, api.token).issue(phone="+4792009999")  # and the shop sells on
        assert api.redeem(ann["code"], "after-upgrade", email="new@example.com")[0] == 201
    finally:
        upgraded.close()


@pytest.fixture
def broken_migrations(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the migrations with one more revision after head that fails half way."""
    folder = tmp_path / "migrations"
    shutil.copytree(migrate.MIGRATIONS, folder, ignore=shutil.ignore_patterns("__pycache__"))
    (folder / "versions" / "9999_broken.py").write_text(BROKEN.format(head=migrate.head_revision()))
    monkeypatch.setattr(migrate, "MIGRATIONS", folder)
    return folder


def test_a_failed_migration_leaves_the_old_database_in_place_and_says_how_to_go_back(
        store: Store, api: Api, clock: FakeClock, broken_migrations: Path) -> None:
    before = shop_with_history(store, api, clock)
    old_head = migrate.current_revision(store.db)
    store.close()
    with pytest.raises(UpgradeError) as failed:
        build_store(store.settings, clock=clock)
    message = str(failed.value)
    [backup] = list_backups(backup_folder(store.settings), label=BEFORE_UPGRADE)
    live = database_path(store.settings.data_dir)
    [left] = live.parent.glob("pos-referral.db.failed-upgrade-*")
    assert "disk says no" in message and str(backup) in message and str(left) in message
    assert f"schema {old_head}" in message  # which version to go back to
    conn = sqlite3.connect(live)
    try:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone()[0] == old_head
        assert conn.execute("SELECT count(*) FROM ledger").fetchone()[0] == before["ledger"]
    finally:
        conn.close()
    assert not live.with_name(live.name + "-wal").exists() or live.with_name(live.name + "-wal").stat().st_size == 0
    (broken_migrations / "versions" / "9999_broken.py").unlink()  # the old version starts as before
    again = build_store(store.settings, clock=clock)
    try:
        assert counts(again) == before
    finally:
        again.close()


def test_db_downgrade_and_db_upgrade_each_back_up_first_and_say_where(
        store: Store, api: Api, clock: FakeClock, config_path: Path) -> None:
    before = shop_with_history(store, api, clock)
    store.close()
    args = ["--config", str(config_path), "--data-dir", str(store.settings.data_dir), "db"]
    down = CliRunner().invoke(main, [*args, "downgrade", PREVIOUS])
    assert down.exit_code == 0, down.output
    [kept] = list_backups(backup_folder(store.settings), label="before-downgrade")
    assert f"backup before the downgrade: {kept}" in down.output and verify(kept).revision == migrate.head_revision()
    up = CliRunner().invoke(main, [*args, "upgrade"])
    assert up.exit_code == 0, up.output
    [backup] = list_backups(backup_folder(store.settings), label=BEFORE_UPGRADE)
    assert f"backup before the upgrade: {backup}" in up.output and f"schema at {migrate.head_revision()}" in up.output
    again = build_store(store.settings, clock=clock)
    try:
        assert counts(again) == before
    finally:
        again.close()
