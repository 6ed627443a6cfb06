"""A chain store's newest verified backup goes to central (real PostgreSQL), which keeps the newest few per
store and refuses a damaged or foreign upload."""

from __future__ import annotations

import itertools
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from pos_referral.bootstrap import Central, build_store
from pos_referral.central.backups import central_backup_folder
from pos_referral.db.models import Redemption
from pos_referral.domain.identity import normalise_phone
from pos_referral.services.backups.backup import backup_folder, list_backups, verify
from pos_referral.services.backups.backup_schedule import ScheduledBackups
from pos_referral.services.backups.backup_status import read_status
from pos_referral.services.backups.restore import restore_file
from pos_referral.services.customers import CustomerInput
from pos_referral.services.referral_codes import issue_code
from pos_referral.sync.backup_upload import file_sha256, sender_for
from pos_referral.sync.client import CentralClient, Rejected
from pos_referral.sync.relay import Relay
from tests.conftest import FakeClock
from tests.integration.test_backups import with_backup
from tests.postgres_support import CentralServer, ChainStore, fresh_database, new_chain_store, start_central

pytestmark = pytest.mark.postgres


@pytest.fixture
def chain(tmp_path: Path, clock: FakeClock) -> Iterator[tuple[Central, CentralServer, ChainStore]]:
    with fresh_database() as url:
        central = start_central(url, tmp_path, clock)
        server = CentralServer(central)
        shop = new_chain_store(central, tmp_path, 1, server.url, clock)
        shop.relay.sync()  # join the chain
        try:
            yield central, server, shop
        finally:
            server.stop()
            shop.store.close()
            central.close()


def test_the_newest_backup_reaches_central_which_keeps_three_per_store(
        chain: tuple[Central, CentralServer, ChainStore], clock: FakeClock) -> None:
    central, _, shop = chain
    settings = with_backup(shop.store.settings, send_to_central=True)
    send = sender_for(settings)
    assert send is not None
    rounds = ScheduledBackups(settings, clock, send)
    for _ in range(4):
        rounds()
        clock.advance(hours=25)
    newest = list_backups(backup_folder(settings))[0]
    kept = list_backups(central_backup_folder(central.ctx.settings) / "S001")
    assert len(kept) == 3 and kept[0].name == newest.name  # [central] backups_per_store = 3
    assert kept[0].read_bytes() == newest.read_bytes() and verify(kept[0]).rows == verify(newest).rows
    status = read_status(settings.data_dir)["central"]
    assert status["ok"] and status["file"] == newest.name
    rounds.send_newest()  # central has it: nothing is sent again
    assert read_status(settings.data_dir)["central"]["at"] == status["at"]


def test_a_store_out_of_reach_of_central_records_it_and_sends_later(
        chain: tuple[Central, CentralServer, ChainStore], clock: FakeClock) -> None:
    central, _, shop = chain
    settings = with_backup(shop.store.settings, send_to_central=True)
    central_link = settings.config.central.model_copy(update={"token": "wrong-token"})
    wrong = settings.model_copy(update={"config": settings.config.model_copy(update={"central": central_link})})
    send = sender_for(wrong)
    assert send is not None
    ScheduledBackups(wrong, clock, send)()
    status = read_status(settings.data_dir)["central"]
    assert status["ok"] is False and "401" in status["error"]
    assert not (central_backup_folder(central.ctx.settings) / "S001").exists()
    good = sender_for(settings)
    assert good is not None
    ScheduledBackups(settings, clock, good)()  # not due again, but the newest is sent now
    assert read_status(settings.data_dir)["central"]["ok"] is True


def test_central_refuses_a_damaged_upload_and_a_name_of_another_store(
        chain: tuple[Central, CentralServer, ChainStore], clock: FakeClock, tmp_path: Path) -> None:
    central, server, shop = chain
    ScheduledBackups(shop.store.settings, clock)()
    [backup] = list_backups(backup_folder(shop.store.settings))
    client = CentralClient(server.url, shop.store.settings.config.central.token)
    with pytest.raises(Rejected, match="backup_damaged"):
        client.put_backup(1, backup, "0" * 64)  # not the file's hash: cut or changed on the way
    other = backup.with_name(backup.name.replace("S001", "S002"))
    other.write_bytes(backup.read_bytes())
    with pytest.raises(Rejected, match="422"):
        client.put_backup(1, other, file_sha256(other))
    query = urllib.parse.urlencode({"store_no": 2, "name": other.name, "sha256": file_sha256(other)})
    with pytest.raises(Rejected, match="wrong_store"):
        client._call("PUT", f"/sync/v1/backup?{query}", other.read_bytes())
    assert not list((central_backup_folder(central.ctx.settings) / "S001").glob("*"))


def _sale(shop: ChainStore, n: int) -> None:
    code = issue_code(shop.store.ctx, CustomerInput(identity=normalise_phone(f"+479500{n:04d}")), channel="api",
                      till_id="T1").code
    assert isinstance(shop.redeem(code, f"+479600{n:04d}"), dict)


def test_a_chain_store_restored_to_an_older_backup_sends_its_next_sales_to_central(
        chain: tuple[Central, CentralServer, ChainStore], clock: FakeClock, tmp_path: Path) -> None:
    central, server, shop = chain
    _sale(shop, 1)
    shop.relay.sync()
    ScheduledBackups(shop.store.settings, clock)()
    [backup] = list_backups(backup_folder(shop.store.settings))
    _sale(shop, 2)  # after the backup, and already at central
    shop.relay.sync()
    settings = shop.store.settings
    shop.store.close()
    restore_file(settings, backup, now=clock())
    again = build_store(settings, clock=clock)
    try:
        restored = ChainStore(again, Relay(again.ctx, CentralClient(server.url, settings.config.central.token,
                                                                     timeout=5), base_delay=0.01, max_delay=0.2),
                              sales=itertools.count(10))  # new sale ids: the till's own numbering goes on
        _sale(restored, 3)  # the first sale after the restore
        restored.relay.sync()
        with central.ctx.db.write_engine.connect() as conn:
            at_central = conn.execute(sa.select(sa.func.count()).select_from(Redemption)).scalar_one()
        assert at_central == 3  # the sale after the restore reached central: no event number was reused
    finally:
        again.close()
