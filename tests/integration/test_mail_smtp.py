"""Status mails through a real SMTP server on loopback (aiosmtpd): sent once, retried, never lost."""

from __future__ import annotations

import email
import email.policy
import socket
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import zxingcpp
from aiosmtpd.controller import Controller
from PIL import Image

from pos_referral.bootstrap import Store, build_store
from pos_referral.config import load_settings
from pos_referral.db.models_promo import MailContact, MailMessage
from pos_referral.services.mail import contacts as mail_contacts
from pos_referral.services.mail.sender import SmtpTransport
from pos_referral.services.mail.worker import MailWorker
from pos_referral.services.rewards import release_due_rewards
from pos_referral.services.unit_of_work import UnitOfWork
from pos_referral.workers import PeriodicTask, start_store_workers
from tests.conftest import Api, FakeClock

MAIL = {"enabled": True, "host": "127.0.0.1", "port": 2525, "starttls": False, "sender": "Our shop <shop@example.com>",
        "reminder_days": 7}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Inbox:
    """Accepts every mail and keeps it."""

    def __init__(self) -> None:
        self.mails: list[EmailMessage] = []
        self.rcpt: list[list[str]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.mails.append(parsed)
        self.rcpt.append(list(envelope.rcpt_tos))
        return "250 OK queued"


class Refuser:
    def __init__(self, reply: str) -> None:
        self.reply, self.tries = reply, 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.tries += 1
        return self.reply


class Dropper:
    """Receives the whole message, then drops the connection instead of answering "250"."""

    def __init__(self) -> None:
        self.tries = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.tries += 1
        server.transport.close()
        return "250 OK"


class Server:
    def __init__(self, handler: Any) -> None:
        self.handler, self.port = handler, free_port()
        self.controller = Controller(handler, hostname="127.0.0.1", port=self.port)

    @property
    def transport(self) -> SmtpTransport:
        return SmtpTransport("127.0.0.1", self.port, starttls=False, timeout=5)


@pytest.fixture
def smtp() -> Iterator[Any]:
    started: list[Server] = []

    def start(handler: Any) -> Server:
        server = Server(handler)
        server.controller.start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.controller.stop()


@pytest.fixture
def store(tmp_path: Path, config_path: Path, clock: FakeClock) -> Iterator[Store]:
    """The shared store fixture, with mail switched on and a public address for links."""
    settings = load_settings(config_path, data_dir=tmp_path / "data", environ={},
                             overrides={"mail": MAIL, "store": {"public_base_url": "https://shop.example"}})
    built = build_store(settings, clock=clock)
    yield built
    built.close()


def referrer_with_mail(api: Api, store: Store, address: str = "ann@example.com") -> dict[str, Any]:
    issued = api.issue(phone="+4791234567", first_name="Ann")
    mail_contacts.subscribe_customer(store.ctx, issued["customer_id"], address, "en", source="landing")
    return issued


def mails(store: Store) -> list[MailMessage]:
    with UnitOfWork(store.db, write=False) as uow:
        return list(uow.session.scalars(sa.select(MailMessage).order_by(MailMessage.id)))


def test_referrer_hears_about_friend_then_gets_voucher_with_qr(api: Api, store: Store, clock: FakeClock,
                                                               smtp: Any) -> None:
    inbox = Inbox()
    worker = MailWorker(store.ctx, smtp(inbox).transport)
    worker.run_once()  # first run: starts after the newest event (no mail about the past)
    issued = referrer_with_mail(api, store)
    status, _ = api.redeem(issued["code"], "S1", "50.00", phone="+4799999999")
    assert status == 201
    assert worker.run_once().sent == 1
    friend_used = inbox.mails[0]
    assert inbox.rcpt[0] == ["ann@example.com"]
    assert "friend used your code" in friend_used["Subject"]
    text = friend_used.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "Hi Ann" in text and "June 29, 2026" in text  # pending until the 14-day hold ends
    assert friend_used.get_body(("html",)) is not None
    token = store_token(store, issued["customer_id"])
    assert str(friend_used["List-Unsubscribe"]).strip() == f"<https://shop.example/unsubscribe/{token}>"
    assert friend_used["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert f"https://shop.example/unsubscribe/{token}" in text

    clock.advance(days=15)
    release_due_rewards(store.ctx)
    assert worker.run_once().sent == 1
    ready = inbox.mails[1]
    assert "reward" in ready["Subject"] and "ready" in ready["Subject"]
    voucher = next(m.voucher_code for m in [reward_of(store, issued["customer_id"])])
    body = ready.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert voucher[:4] in body
    images = [p for p in ready.walk() if p.get_content_type() == "image/png"]
    assert len(images) == 1
    cid = images[0]["Content-ID"].strip("<>")
    assert f"cid:{cid}" in ready.get_body(("html",)).get_content()  # type: ignore[union-attr]
    decoded = zxingcpp.read_barcodes(Image.open(__import__("io").BytesIO(images[0].get_content())))
    assert [d.text for d in decoded] == [voucher]
    assert worker.run_once().sent == 0  # nothing goes twice
    assert len(inbox.mails) == 2


def store_token(store: Store, customer_id: str) -> str:
    with UnitOfWork(store.db, write=False) as uow:
        contact = uow.session.get(MailContact, customer_id)
        assert contact is not None
        return contact.unsubscribe_token


def reward_of(store: Store, customer_id: str) -> Any:
    from pos_referral.db.models import Reward

    with UnitOfWork(store.db, write=False) as uow:
        return uow.session.scalars(sa.select(Reward).where(Reward.customer_id == customer_id)).one()


def test_unused_voucher_gets_one_reminder_and_unsubscribe_stops_everything(
        api: Api, store: Store, clock: FakeClock, smtp: Any) -> None:
    inbox = Inbox()
    worker = MailWorker(store.ctx, smtp(inbox).transport)
    worker.run_once()
    issued = referrer_with_mail(api, store)
    api.redeem(issued["code"], "S1", "50.00", phone="+4799999999")
    clock.advance(days=15)
    release_due_rewards(store.ctx)
    worker.run_once()
    assert len(inbox.mails) == 2
    clock.advance(days=8)  # reminder_days = 7
    assert worker.run_once().sent == 1
    assert "waiting" in inbox.mails[2]["Subject"]
    clock.advance(days=8)
    assert worker.run_once().sent == 0  # one reminder per voucher

    api.redeem(issued["code"], "S2", "50.00", phone="+4788888888")  # another friend
    token = store_token(store, issued["customer_id"])
    assert mail_contacts.unsubscribe(store.ctx, token)
    assert worker.run_once().sent == 0
    with UnitOfWork(store.db, write=False) as uow:
        contact = uow.session.get(MailContact, issued["customer_id"])
        assert contact is not None and contact.email == "" and contact.unsubscribed_at is not None
    assert len(inbox.mails) == 3


def queued_friend_mail(api: Api, store: Store, worker: MailWorker) -> None:
    worker.run_once()
    issued = referrer_with_mail(api, store)
    api.redeem(issued["code"], "S1", "50.00", phone="+4799999999")


@pytest.mark.parametrize("reply", ["451 4.3.0 Try again later", "421 4.7.0 Too busy"])
def test_temporary_refusal_keeps_the_mail_and_it_goes_once_later(
        api: Api, store: Store, clock: FakeClock, smtp: Any, reply: str) -> None:
    refuser = Refuser(reply)
    worker = MailWorker(store.ctx, smtp(refuser).transport)
    queued_friend_mail(api, store, worker)
    summary = worker.run_once()
    assert (summary.sent, summary.retrying, refuser.tries) == (0, 1, 1)
    assert worker.run_once().sent == 0 and refuser.tries == 1  # backing off: not due yet
    inbox = Inbox()
    worker.transport = smtp(inbox).transport
    clock.advance(minutes=2)
    assert worker.run_once().sent == 1
    assert worker.run_once().sent == 0
    assert len(inbox.mails) == 1
    [row] = mails(store)
    assert (row.status, row.attempts) == ("sent", 2)


def test_permanent_refusal_fails_without_retry(api: Api, store: Store, clock: FakeClock, smtp: Any) -> None:
    refuser = Refuser("554 5.7.1 Message rejected")
    worker = MailWorker(store.ctx, smtp(refuser).transport)
    queued_friend_mail(api, store, worker)
    assert worker.run_once().failed == 1
    clock.advance(days=1)
    worker.run_once()
    assert refuser.tries == 1
    [row] = mails(store)
    assert row.status == "failed" and row.last_error.startswith("554")


def test_connection_dropped_mid_message_is_retried_and_delivered_once(
        api: Api, store: Store, clock: FakeClock, smtp: Any) -> None:
    dropper = Dropper()
    worker = MailWorker(store.ctx, smtp(dropper).transport)
    queued_friend_mail(api, store, worker)
    assert worker.run_once().retrying == 1
    assert dropper.tries == 1
    [row] = mails(store)
    assert row.status == "queued" and "connection" in row.last_error.lower()
    inbox = Inbox()
    worker.transport = smtp(inbox).transport
    clock.advance(minutes=2)
    worker.run_once()
    worker.run_once()
    assert len(inbox.mails) == 1


def test_dead_mail_server_loses_nothing(api: Api, store: Store, clock: FakeClock, smtp: Any) -> None:
    worker = MailWorker(store.ctx, SmtpTransport("127.0.0.1", free_port(), starttls=False, timeout=2))
    queued_friend_mail(api, store, worker)
    for _ in range(3):
        worker.run_once()
        clock.advance(hours=1)
    [row] = mails(store)
    assert row.status == "queued" and row.attempts == 3
    inbox = Inbox()
    worker.transport = smtp(inbox).transport
    clock.advance(hours=7)
    assert worker.run_once().sent == 1
    assert len(inbox.mails) == 1


def test_two_workers_never_send_one_mail_twice(api: Api, store: Store, smtp: Any) -> None:
    from concurrent.futures import ThreadPoolExecutor

    inbox = Inbox()
    server = smtp(inbox)
    first = MailWorker(store.ctx, server.transport)
    queued_friend_mail(api, store, first)
    from pos_referral.services.mail.status import plan_status_mails

    plan_status_mails(store.ctx)
    workers = [MailWorker(store.ctx, server.transport) for _ in range(4)]
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda w: w.send_due().sent, workers))
    assert sum(results) == 1
    assert len(inbox.mails) == 1


def test_customer_without_consent_gets_no_mail(api: Api, store: Store, smtp: Any) -> None:
    inbox = Inbox()
    worker = MailWorker(store.ctx, smtp(inbox).transport)
    worker.run_once()
    issued = api.issue(phone="+4791234567", first_name="Ann")  # no mail consent given
    api.redeem(issued["code"], "S1", "50.00", phone="+4799999999")
    worker.run_once()
    assert inbox.mails == [] and mails(store) == []


def test_milestone_mail_names_the_status_and_perk(api: Api, store: Store, clock: FakeClock, smtp: Any) -> None:
    inbox = Inbox()
    worker = MailWorker(store.ctx, smtp(inbox).transport)
    worker.run_once()
    issued = referrer_with_mail(api, store)
    for i in range(5):
        assert api.redeem(issued["code"], f"S{i}", "50.00", phone=f"+47900000{i:02d}")[0] == 201
    clock.advance(days=15)
    release_due_rewards(store.ctx)
    worker.run_once()
    subjects = [str(m["Subject"]) for m in inbox.mails]
    assert sum("friend used your code" in s for s in subjects) == 5
    assert sum("is ready" in s for s in subjects) == 5
    [milestone] = [m for m in inbox.mails if "5 friends" in str(m["Subject"])]
    text = milestone.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "Ambassador" in text and "tote bag" in text.lower() and "Your voucher code: " in text
    assert len([p for p in milestone.walk() if p.get_content_type() == "image/png"]) == 1  # its voucher's QR


def test_mail_settings_are_checked_and_the_password_comes_from_the_environment(config_path: Path,
                                                                               tmp_path: Path) -> None:
    from pos_referral.config import ConfigError

    with pytest.raises(ConfigError, match="enabled mail needs host and sender"):
        load_settings(config_path, data_dir=tmp_path, environ={}, overrides={"mail": {"enabled": True}})
    with pytest.raises(ConfigError, match="unknown key"):
        load_settings(config_path, data_dir=tmp_path, environ={}, overrides={"mail": {"password": "hunter2"}})
    settings = load_settings(config_path, data_dir=tmp_path, environ={"POS_REFERRAL_MAIL__USER": "shop"},
                             overrides={"mail": {**MAIL, "password_env": "SHOP_SMTP_PASSWORD"}})
    transport = SmtpTransport.from_config(settings.config.mail, {"SHOP_SMTP_PASSWORD": "s3cret"})
    assert (transport.user, transport.password) == ("shop", "s3cret")
    assert load_settings(config_path, data_dir=tmp_path, environ={}).config.mail.enabled is False  # off by default


def test_serve_runs_the_mail_worker_only_when_mail_is_on(store: Store) -> None:
    start_store_workers(store)
    try:
        assert any(isinstance(task, PeriodicTask) and task.name == "mail-worker" for task in store.background)
    finally:
        store.close()
    assert store.background == []
