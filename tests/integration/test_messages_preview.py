"""The manager's message preview page: manager-only, every text, broken files shown not crashed."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from pos_referral.bootstrap import Store
from pos_referral.services import messages
from tests.conftest import staff_session


def signed_in(app: Flask, role: str) -> FlaskClient:
    return staff_session(app.test_client(), app.extensions["pos_referral"], "Mia", role,
                         till_id="T1" if role == "cashier" else None)


def test_only_managers_preview_messages(app: Flask) -> None:
    anonymous = app.test_client().get("/manager/messages")
    assert anonymous.status_code == 302 and "/manager/login" in anonymous.headers["Location"]
    assert signed_in(app, "cashier").get("/manager/messages").status_code == 403


def test_manager_sees_every_message_in_the_chosen_language(app: Flask) -> None:
    page = signed_in(app, "manager").get("/manager/messages?lang=nb")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    for kind in messages.KINDS:
        assert f'id="{kind}"' in html, kind
    assert "Hei! Jeg handler hos Our shop" in html and "srcdoc=" in html


def test_a_broken_file_is_named_on_the_page(app: Flask, store: Store) -> None:
    folder = messages.messages_folder(store.settings)
    (folder / "en" / "share_sms.txt").write_text("{% if %}\n", encoding="utf-8")
    page = signed_in(app, "manager").get("/manager/messages?lang=en")
    assert page.status_code == 200 and "Cannot render: share_sms.txt" in page.get_data(as_text=True)
