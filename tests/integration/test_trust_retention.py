"""Stated retention: idempotency records and invited friends' addresses are purged after [retention] says,
never what the accounts need, and never a record a retry within the window still relies on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from click.testing import CliRunner

from pos_referral.bootstrap import Store
from pos_referral.cli import main
from pos_referral.db.models import IdempotencyRecord, LedgerEntry, Redemption
from pos_referral.db.models_promo import MailMessage
from pos_referral.services import retention
from pos_referral.services.mail.outbox import queue_mail
from pos_referral.services.unit_of_work import UnitOfWork
from pos_referral.workers import PeriodicTask, start_store_workers
from tests.conftest import Api, FakeClock


def count(store: Store, model: type) -> int:
    with UnitOfWork(store.db, write=False) as read:
        return int(read.session.scalar(sa.select(sa.func.count()).select_from(model)) or 0)


def invitations(store: Store) -> list[tuple[str, str]]:
    with UnitOfWork(store.db, write=False) as read:
        return [(m.to_addr, m.status) for m in read.session.scalars(sa.select(MailMessage).order_by(MailMessage.id))]


def invite(store: Store, address: str) -> None:
    with UnitOfWork(store.db, write=True) as uow:
        queue_mail(uow.session, kind="invitation", customer_id="c1", language="en", context={}, now=store.ctx.clock(),
                   to_addr=address)
        uow.commit()


def test_a_retried_redemption_replays_within_the_window_and_its_record_goes_after(store: Store, api: Api,
                                                                                 clock: FakeClock) -> None:
    code = api.issue("+4791111111", "Kari")["code"]
    status, first = api.redeem(code, "S1", key="K1", phone="+4794444441")
    assert status == 201
    ledger = count(store, LedgerEntry)
    clock.advance(days=29)
    assert retention.purge(store.ctx).idempotency_keys == 0
    assert api.redeem(code, "S1", key="K1", phone="+4794444441") == (201, first)  # the same answer, again
    assert count(store, Redemption) == 1
    clock.advance(days=2)
    assert retention.purge(store.ctx).idempotency_keys == 1
    assert count(store, IdempotencyRecord) == 0
    assert (count(store, Redemption), count(store, LedgerEntry)) == (1, ledger)  # the accounts stay whole
    status, _ = api.redeem(code, "S1", key="K1", phone="+4794444441")  # a very late retry: still not twice
    assert status != 201 and (count(store, Redemption), count(store, LedgerEntry)) == (1, ledger)


def test_an_invited_friends_address_is_blanked_after_the_stated_days(config_path: Path, store: Store,
                                                                     clock: FakeClock) -> None:
    clock.now = datetime.now(UTC) - timedelta(days=100)  # the command runs on the real clock
    invite(store, "old@example.com")
    clock.advance(days=70)
    invite(store, "new@example.com")  # the first is 100 days old, the second 30
    result = CliRunner().invoke(main, ["--config", str(config_path), "--data-dir", str(store.settings.data_dir),
                                       "db", "purge"])
    assert result.exit_code == 0, result.output
    assert "purged 0 idempotency records, 1 invited friends' mail addresses and 0 landing page visits" in result.output
    assert invitations(store) == [("", "cancelled"), ("new@example.com", "queued")]


def test_retention_is_configurable_and_serve_purges_on_a_timer(config_path: Path, store: Store) -> None:
    text = config_path.read_text()
    assert "idempotency_days = 30" in text and "invite_mail_days = 90" in text  # stated in the shipped file
    assert store.settings.config.retention.idempotency_days == 30
    start_store_workers(store)
    try:
        assert any(isinstance(t, PeriodicTask) and t.name == "retention-purge" for t in store.background)
    finally:
        store.close()
