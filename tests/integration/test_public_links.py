"""Public links (receipt QR, cards, landing page, mails) come from the configuration, never from a
request's ``Host`` header, which anyone can forge; ``[store] allowed_hosts`` refuses other names."""

from __future__ import annotations

import re
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from pos_referral import create_app
from pos_referral.bootstrap import Store, build_store
from pos_referral.cli.serving import say_where_links_point
from pos_referral.config import load_settings
from pos_referral.db.models import PrintJob
from pos_referral.services import owner_links
from pos_referral.services.mail.worker import MailWorker
from pos_referral.services.unit_of_work import UnitOfWork
from tests.conftest import Api, FakeClock
from tests.integration.test_mail_smtp import MAIL
from tests.printing_support import decode_escpos

FORGED = "evil.example"
LISTEN = "http://127.0.0.1:8000"  # the shipped [server] host and port; [store] public_base_url is empty


class Outbox:
    """The mail server, faked: keeps every message the worker hands over."""

    def __init__(self) -> None:
        self.sent: list[EmailMessage] = []

    def send(self, message: EmailMessage) -> None:
        self.sent.append(message)


@pytest.fixture
def store(tmp_path: Path, config_path: Path, clock: FakeClock) -> Iterator[Store]:
    """A shop with mail on and no public address configured: links fall back to the listen address."""
    settings = load_settings(config_path, data_dir=tmp_path / "data", environ={}, overrides={"mail": MAIL})
    built = build_store(settings, clock=clock)
    yield built
    built.close()


@pytest.fixture
def app(store: Store) -> Flask:
    return create_app(store=store, test_config={"TESTING": True, "WTF_CSRF_ENABLED": False})


def _jobs(store: Store, template: str) -> list[PrintJob]:
    with UnitOfWork(store.db, write=False) as uow:
        return list(uow.session.scalars(sa.select(PrintJob).where(PrintJob.template == template)))


def test_forged_host_never_reaches_a_card_a_receipt_qr_or_the_api_answers(api: Api, store: Store) -> None:
    status, ann = api.post("/api/v1/referral-codes", {"customer": {"phone": "+4791234567", "first_name": "Ann"},
                                                      "print": "card"}, Host=FORGED)
    assert status == 201 and ann["landing_url"] == f"{LISTEN}/r/{ann['code']}"
    status, shown = api.post("/api/v1/redemptions", {"code": ann["code"], "sale_id": "S1", "basket_total": "50.00",
                                                     "customer": {"email": "bob@example.com"}},
                             Host=FORGED, **{"Idempotency-Key": "k-1"})
    assert status == 201 and shown["friend_code"]["landing_url"].startswith(f"{LISTEN}/r/")
    footer = api.client.get(f"/api/v1/redemptions/{shown['redemption_id']}/footer",
                            headers={"Authorization": f"Bearer {api.token}", "Host": FORGED})
    printed_qr = [c.data.decode() for c in decode_escpos(footer.data) if c.name == "QR store"]
    assert len(printed_qr) == 1 and printed_qr[0].startswith(f"{LISTEN}/r/")
    queued = [job.context["landing_url"] for job in _jobs(store, "referral_card") + _jobs(store, "referral_footer")]
    assert len(queued) == 2 and all(url.startswith(f"{LISTEN}/r/") for url in queued)
    looked_up = api.client.get(f"/api/v1/referral-codes/{ann['code']}",
                               headers={"Authorization": f"Bearer {api.token}", "Host": FORGED})
    assert looked_up.status_code == 200 and looked_up.get_json()["landing_url"] == f"{LISTEN}/r/{ann['code']}"


def _kiosk_join(client: FlaskClient, contact: str) -> int:
    response = client.post("/kiosk/join", data={"contact": contact, "first_name": "Eva", "consent": "yes"},
                           headers={"Host": FORGED})
    return response.status_code


def test_an_anonymous_kiosk_join_with_a_forged_host_prints_the_shops_own_address(app: Flask, store: Store) -> None:
    assert _kiosk_join(app.test_client(), "eva@example.com") == 200
    [card] = _jobs(store, "referral_card")
    assert card.context["landing_url"].startswith(f"{LISTEN}/r/") and FORGED not in str(card.context)


def test_landing_page_links_and_qr_ignore_the_host_header(app: Flask, api: Api) -> None:
    code = api.issue()["code"]
    html = app.test_client().get(f"/r/{code}", headers={"Host": FORGED}).get_data(as_text=True)
    assert f"{LISTEN}/r/{code}" in html and FORGED not in html


def test_invitation_mail_links_and_list_unsubscribe_ignore_the_host_header(
        app: Flask, api: Api, store: Store) -> None:
    code = api.issue()["code"]
    signature = owner_links.owner_signature(store.ctx, code, 0)
    sent = app.test_client().post(f"/invite/{code}?s={signature}", data={"email": ["bob@example.com"], "note": "hi"},
                                  headers={"Host": FORGED})
    assert sent.status_code == 201, sent.get_data(as_text=True)
    outbox = Outbox()
    MailWorker(store.ctx, outbox).send_due()
    [mail] = outbox.sent
    text = mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert FORGED not in mail.as_string()
    assert f"{LISTEN}/r/{code}" in text
    assert re.fullmatch(rf"<{re.escape(LISTEN)}/unsubscribe/\S+>", str(mail["List-Unsubscribe"]).strip())


def test_serve_says_once_that_phones_cannot_reach_loopback(
        store: Store, tmp_path: Path, config_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    say_where_links_point(store.settings)
    said = capsys.readouterr().err
    assert said.count("\n") == 1 and "127.0.0.1" in said and "phones cannot reach" in said and "public_base_url" in said
    configured = load_settings(config_path, data_dir=tmp_path / "d2", environ={},
                               overrides={"store": {"public_base_url": "https://shop.example/"}})
    assert configured.public_base == "https://shop.example" and configured.public_base_warning() is None


def test_listening_on_every_address_links_to_the_machines_name_not_the_request(
        config_path: Path, tmp_path: Path) -> None:
    import socket

    settings = load_settings(config_path, data_dir=tmp_path / "data", environ={},
                             overrides={"server": {"host": "0.0.0.0", "port": 8080}})
    assert settings.public_base == f"http://{socket.gethostname()}:8080"


def test_a_public_base_url_that_is_not_an_address_stops_start_up(config_path: Path, tmp_path: Path) -> None:
    from pos_referral.config import ConfigError

    with pytest.raises(ConfigError, match="public_base_url"):
        load_settings(config_path, data_dir=tmp_path / "data", environ={},
                      overrides={"store": {"public_base_url": "shop.example"}})


@pytest.fixture
def guarded(tmp_path: Path, config_path: Path, clock: FakeClock) -> Iterator[Flask]:
    settings = load_settings(config_path, data_dir=tmp_path / "data", environ={},
                             overrides={"store": {"public_base_url": "https://shop.example",
                                                  "allowed_hosts": ["till.local"]}})
    built = build_store(settings, clock=clock)
    yield create_app(store=built, test_config={"TESTING": True})
    built.close()


def test_allowed_hosts_refuse_any_other_name_with_a_400(guarded: Flask) -> None:
    client = guarded.test_client()
    api = client.get("/api/v1/reasons", headers={"Host": FORGED})
    assert api.status_code == 400 and api.mimetype == "application/problem+json"
    page = client.get("/kiosk/join", headers={"Host": FORGED})
    assert page.status_code == 400 and page.mimetype == "text/html"
    assert client.get("/kiosk/join", headers={"Host": "till.local:8000"}).status_code == 200
    assert client.get("/kiosk/join", headers={"Host": "shop.example"}).status_code == 200  # the public address


def test_allowed_hosts_come_from_the_environment_as_a_list(config_path: Path, tmp_path: Path) -> None:
    settings = load_settings(config_path, data_dir=tmp_path / "data",
                             environ={"POS_REFERRAL_STORE__ALLOWED_HOSTS": "till.local, Shop.Example"})
    assert settings.config.store.allowed_hosts == ("till.local", "shop.example")
