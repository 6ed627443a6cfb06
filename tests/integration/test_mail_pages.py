"""Owner pages (status-mail consent, inviting friends) and the one-click unsubscribe, end to end."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from pos_referral.bootstrap import Store, build_store
from pos_referral.config import load_settings
from pos_referral.db.models_promo import MailBlock, MailContact, MailMessage
from pos_referral.services import owner_links
from pos_referral.services.mail import contacts as mail_contacts
from pos_referral.services.mail.worker import MailWorker
from pos_referral.services.unit_of_work import UnitOfWork
from tests.conftest import Api, FakeClock
from tests.integration.test_mail_smtp import MAIL, Inbox, Server


@pytest.fixture
def store(tmp_path: Path, config_path: Path, clock: FakeClock) -> Iterator[Store]:
    settings = load_settings(config_path, data_dir=tmp_path / "data", environ={},
                             overrides={"mail": MAIL, "store": {"public_base_url": "https://shop.example"}})
    built = build_store(settings, clock=clock)
    yield built
    built.close()


@pytest.fixture
def app(store: Store) -> Flask:
    from pos_referral import create_app

    return create_app(store=store, test_config={"TESTING": True, "WTF_CSRF_ENABLED": False})


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, Server]]:
    box = Inbox()
    server = Server(box)
    server.controller.start()
    yield box, server
    server.controller.stop()


def owner(api: Api, store: Store) -> tuple[dict[str, Any], str]:
    issued = api.issue(phone="+4791234567", first_name="Ann")
    return issued, owner_links.owner_signature(store.ctx, issued["code"], 0)


def rows(store: Store) -> list[MailMessage]:
    with UnitOfWork(store.db, write=False) as uow:
        return list(uow.session.scalars(sa.select(MailMessage).order_by(MailMessage.id)))


def test_owner_asks_for_status_mails_with_consent(api: Api, store: Store, app: Flask) -> None:
    issued, sig = owner(api, store)
    client = app.test_client()
    assert client.get(f"/updates/{issued['code']}").status_code == 404  # not without the owner's signature
    assert client.get(f"/updates/{issued['code']}?s={sig}").status_code == 200
    no_consent = client.post(f"/updates/{issued['code']}?s={sig}", data={"email": "ann@example.com"})
    assert no_consent.status_code == 422
    done = client.post(f"/updates/{issued['code']}?s={sig}", data={"email": "Ann@Example.com", "consent": "yes"})
    assert done.status_code == 200
    with UnitOfWork(store.db, write=False) as uow:
        contact = uow.session.get(MailContact, issued["customer_id"])
        assert contact is not None and contact.email == "ann@example.com" and contact.consent_source == "landing"


def test_referrer_invites_friends_no_relay_and_addresses_are_forgotten(
        api: Api, store: Store, app: Flask, inbox: tuple[Inbox, Server]) -> None:
    box, server = inbox
    issued, sig = owner(api, store)
    client = app.test_client()
    form = client.get(f"/invite/{issued['code']}?s={sig}")
    assert form.status_code == 200 and "I shop at Our shop" in form.get_data(as_text=True)  # pre-written
    sent = client.post(f"/invite/{issued['code']}?s={sig}", data={
        "email": ["bob@example.com", "cleo@example.com", "bob@example.com", ""],
        "note": "Come along! Cheap pills at http://evil.example/x and www.spam.example\r\nBcc: x@y.z"})
    assert sent.status_code == 201, sent.get_data(as_text=True)
    queued = rows(store)
    assert [r.to_addr for r in queued] == ["bob@example.com", "cleo@example.com"]
    MailWorker(store.ctx, server.transport).send_due()
    assert sorted(r[0] for r in box.rcpt) == ["bob@example.com", "cleo@example.com"]
    mail = box.mails[0]
    assert mail["From"] == "Our shop <shop@example.com>" and mail["Bcc"] is None
    text = mail.get_body(("plain",)).get_content().replace("\r\n", "\n")  # type: ignore[union-attr]
    assert "Ann sends you a gift" in mail["Subject"]
    assert "Come along!" in text and "evil.example" not in text and "spam.example" not in text
    assert f"https://shop.example/r/{issued['code']}\n" in text  # the referrer's own public page ...
    assert "?s=" not in text  # ... never the owner's private link
    unsubscribe = re.search(r"https://shop.example/unsubscribe/(\S+)", text)
    assert unsubscribe and str(mail["List-Unsubscribe"]).strip() == f"<{unsubscribe.group(0)}>"
    assert [r.to_addr for r in rows(store)] == ["", ""] and {r.status for r in rows(store)} == {"sent"}

    # the friend opts out: the next invitation to that address is not sent, and only a hash is kept
    assert client.post(f"/unsubscribe/{unsubscribe.group(1)}").status_code == 200
    with UnitOfWork(store.db, write=False) as uow:
        blocks = list(uow.session.scalars(sa.select(MailBlock.address_hash)))
    assert len(blocks) == 1 and "example" not in blocks[0]
    again = client.post(f"/invite/{issued['code']}?s={sig}", data={"email": [mail["To"]], "note": "hi"})
    # answered as if sent: the referrer does not learn that this friend opted out
    assert again.status_code == 201 and "1 invitations on their way" in again.get_data(as_text=True)
    MailWorker(store.ctx, server.transport).send_due()
    assert len(box.mails) == 2 and [r.status for r in rows(store)] == ["sent", "sent", "cancelled"]
    assert rows(store)[2].to_addr == ""


def test_invitations_are_limited(api: Api, store: Store, app: Flask) -> None:
    issued, sig = owner(api, store)
    client = app.test_client()
    six = [f"f{i}@example.com" for i in range(6)]
    assert client.post(f"/invite/{issued['code']}?s={sig}", data={"email": six, "note": ""}).status_code == 422
    assert client.post(f"/invite/{issued['code']}?s={sig}", data={"email": ["x@"], "note": ""}).status_code == 422
    assert client.post(f"/invite/{issued['code']}", data={"email": ["a@example.com"]}).status_code == 404
    for batch in range(2):
        emails = [f"d{batch}{i}@example.com" for i in range(5)]
        assert client.post(f"/invite/{issued['code']}?s={sig}", data={"email": emails}).status_code == 201
    over = client.post(f"/invite/{issued['code']}?s={sig}", data={"email": ["late@example.com"]})
    assert over.status_code == 429  # 10 a day per referrer
    assert len(rows(store)) == 10


def test_unsubscribe_is_one_button_then_confirmed_and_works_at_once(api: Api, store: Store, app: Flask) -> None:
    issued, _ = owner(api, store)
    mail_contacts.subscribe_customer(store.ctx, issued["customer_id"], "ann@example.com", "nb", source="kiosk")
    with UnitOfWork(store.db, write=False) as uow:
        contact = uow.session.get(MailContact, issued["customer_id"])
        assert contact is not None
        token = contact.unsubscribe_token
    client = app.test_client()
    page = client.get(f"/unsubscribe/{token}")
    assert page.status_code == 200 and 'method="post"' in page.get_data(as_text=True)
    assert mail_contacts.token_known(store.ctx, token)
    with UnitOfWork(store.db, write=False) as uow:  # opening the page (or a mail scanner) changes nothing
        contact = uow.session.get(MailContact, issued["customer_id"])
        assert contact is not None and contact.unsubscribed_at is None
    done = client.post(f"/unsubscribe/{token}", data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200 and "unsubscribed" in done.get_data(as_text=True)
    with UnitOfWork(store.db, write=False) as uow:
        contact = uow.session.get(MailContact, issued["customer_id"])
        assert contact is not None and contact.email == "" and contact.unsubscribed_at is not None
    assert client.post(f"/unsubscribe/{token}").status_code == 200  # a second click is fine
    assert client.get("/unsubscribe/not-a-token").status_code == 404
    assert client.post("/unsubscribe/b.0000000000000000000000000000000000000000ffffffffffffffff").status_code == 404


def test_unsubscribe_needs_no_form_token(store: Store) -> None:
    """RFC 8058: a mail client POSTs with no CSRF token; the app's CSRF protection must not refuse it."""
    from pos_referral import create_app

    app = create_app(store=store, test_config={"TESTING": True})
    client: FlaskClient = app.test_client()
    assert client.post("/unsubscribe/unknown-token").status_code == 404  # not 400 "CSRF token missing"


def test_mail_switched_off_offers_no_invitations(tmp_path: Path, config_path: Path, clock: FakeClock) -> None:
    from pos_referral import create_app
    from pos_referral.services.tills import add_till

    built = build_store(load_settings(config_path, data_dir=tmp_path / "off", environ={}), clock=clock)
    try:
        app = create_app(store=built, test_config={"TESTING": True, "WTF_CSRF_ENABLED": False})
        api = Api(app.test_client(), add_till(built.ctx, "T1"))
        issued, sig = owner(api, built)
        client = app.test_client()
        assert "not switched on" in client.get(f"/invite/{issued['code']}?s={sig}").get_data(as_text=True)
        posted = client.post(f"/invite/{issued['code']}?s={sig}", data={"email": ["a@example.com"]})
        assert posted.status_code == 422 and rows(built) == []
        landing = client.get(f"/r/{issued['code']}?s={sig}").get_data(as_text=True)
        assert 'id="progress"' in landing and "/invite/" not in landing  # no mail: no link to invite by mail
    finally:
        built.close()


def test_owners_landing_page_links_to_invitations_and_status_mails(api: Api, store: Store, app: Flask) -> None:
    issued, sig = owner(api, store)
    client = app.test_client()
    html = client.get(f"/r/{issued['code']}?s={sig}").get_data(as_text=True)
    invite = re.search(r'id="invite-link" href="([^"]+)"', html)
    updates = re.search(r'id="updates-link" href="([^"]+)"', html)
    assert invite and updates
    assert invite.group(1) == f"/invite/{issued['code']}?s={sig}"
    assert updates.group(1) == f"/updates/{issued['code']}?s={sig}"
    assert "Invite friends by email" in client.get(invite.group(1)).get_data(as_text=True)
    assert client.get(updates.group(1)).status_code == 200
    public = client.get(f"/r/{issued['code']}").get_data(as_text=True)
    assert "/invite/" not in public and "/updates/" not in public  # only the owner may invite in their name
