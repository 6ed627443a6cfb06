"""Wrong PINs and passwords slow the guesser down, per name and address; nobody can lock staff out.

Also: a manager's PIN has at least 6 digits, and a till's sign-in page names only the people who
signed in at that till recently.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from pos_referral.bootstrap import Store
from pos_referral.cli import main
from pos_referral.db.models import AuditEntry, Staff
from pos_referral.services import staff, staff_admin
from pos_referral.services.tills import add_till
from pos_referral.services.unit_of_work import UnitOfWork
from tests.conftest import FakeClock

PASSWORD = "correct horse battery"
ATTACKER, TILL_T1, TILL_T2 = "203.0.113.9", "10.0.0.11", "10.0.0.12"


@pytest.fixture
def shop(store: Store, token: str) -> Store:
    add_till(store.ctx, "T2")
    staff.add_staff(store.ctx, "Mirela", "manager", password=PASSWORD, pin="246810")
    staff.add_staff(store.ctx, "Annika", "cashier", pin="1234")
    staff.add_staff(store.ctx, "Bogdan", "cashier", pin="5678")
    return store


def browser(app: Flask, address: str) -> FlaskClient:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def _csrf(client: FlaskClient, path: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True))
    assert found
    return found.group(1)


def till_sign_in(client: FlaskClient, name: str, pin: str, till: str = "T1") -> Any:
    data = {"name": name, "pin": pin, "csrf_token": _csrf(client, f"/till/{till}")}
    return client.post(f"/till/{till}/sign-in", data=data)


def manager_sign_in(client: FlaskClient, password: str, name: str = "Mirela") -> Any:
    data = {"name": name, "password": password, "csrf_token": _csrf(client, "/manager/login")}
    return client.post("/manager/login", data=data)


def guess(attempt: Any, clock: FakeClock, wrong: int) -> list[int]:
    """Make ``wrong`` wrong tries, waiting out every delay the server asks for; the delays asked for."""
    waits: list[int] = []
    while wrong:
        r = attempt()
        if r.status_code == 429:
            waits.append(int(r.headers["Retry-After"]))
            clock.advance(seconds=waits[-1])
        else:
            assert r.status_code == 401, r.get_data(as_text=True)
            wrong -= 1
    return waits


def test_twenty_wrong_pins_from_one_address_never_keep_the_cashier_out(app: Flask, shop: Store,
                                                                       clock: FakeClock) -> None:
    attacker = browser(app, ATTACKER)
    waits = guess(lambda: till_sign_in(attacker, "Annika", "0000"), clock, wrong=20)
    assert waits and waits[-1] > waits[0]  # slowed down, more with every wrong PIN
    assert till_sign_in(attacker, "Annika", "0000").status_code == 429
    assert till_sign_in(browser(app, TILL_T1), "Annika", "1234").status_code == 302  # at once, elsewhere
    from_there = till_sign_in(attacker, "Annika", "1234")
    assert from_there.status_code == 429 and "Wait" in from_there.get_data(as_text=True)
    clock.advance(seconds=int(from_there.headers["Retry-After"]))
    assert till_sign_in(attacker, "Annika", "1234").status_code == 302  # and there, after the delay
    with UnitOfWork(shop.db, write=False) as uow:  # every PIN checked is audited; a refused wait is not a try
        failed = uow.session.scalar(sa.select(sa.func.count()).where(AuditEntry.action == "sign_in_failed"))
    assert failed == 20


def test_wrong_passwords_slow_the_guesser_but_never_keep_the_manager_out(app: Flask, shop: Store,
                                                                         clock: FakeClock) -> None:
    attacker = browser(app, ATTACKER)
    assert guess(lambda: manager_sign_in(attacker, "wrong password!"), clock, wrong=8)
    office = browser(app, TILL_T2)
    assert manager_sign_in(office, PASSWORD).status_code == 302
    assert office.get("/manager/").status_code == 200


def test_one_address_trying_many_names_is_slowed_down_other_addresses_are_not(app: Flask, shop: Store,
                                                                              clock: FakeClock) -> None:
    attacker = browser(app, ATTACKER)
    statuses = [till_sign_in(attacker, f"Guess{i}", "0000").status_code for i in range(12)]
    assert statuses[:10] == [401] * 10 and statuses[10:] == [429, 429]  # [sign_in] free_attempts_per_address
    assert till_sign_in(browser(app, TILL_T1), "Bogdan", "5678").status_code == 302


def test_the_managers_override_pin_is_slowed_down_not_locked(app: Flask, shop: Store, clock: FakeClock,
                                                            token: str) -> None:
    def override(client: FlaskClient, pin: str) -> Any:
        csrf = re.search(r'name="csrf-token" content="([^"]+)"', client.get("/till/T1").get_data(as_text=True))
        assert csrf
        body = {"code": "0000-0000-0000-00", "sale_id": "S-1", "basket_total": "10.00", "manager": "Mirela",
                "pin": pin, "note": "Loyal customer"}
        return client.post("/till/override", json=body,
                           headers={"X-CSRFToken": csrf.group(1), "Idempotency-Key": f"ov-{pin}"})

    rogue, honest = browser(app, ATTACKER), browser(app, TILL_T1)
    assert till_sign_in(rogue, "Bogdan", "5678").status_code == 302
    assert till_sign_in(honest, "Annika", "1234").status_code == 302
    assert [override(rogue, "111111").status_code for _ in range(4)] == [403, 403, 403, 429]
    slowed = override(rogue, "111111")
    assert slowed.get_json()["code"] == "too_many_attempts" and int(slowed.headers["Retry-After"]) >= 1
    assert override(honest, "246810").status_code == 422  # the PIN is accepted; the code is simply unknown


def test_a_managers_pin_has_at_least_six_digits(app: Flask, shop: Store, tmp_path: Any) -> None:
    with pytest.raises(staff.StaffError, match="6 to 8 digits"):
        staff.add_staff(shop.ctx, "Mirela", "manager", pin="1234")
    mirela = next(s.id for s in staff_admin.list_staff(shop.ctx) if s.name == "Mirela")
    with pytest.raises(staff.StaffError):
        staff_admin.reset_pin(shop.ctx, mirela, "4321", actor="Mirela")
    staff.add_staff(shop.ctx, "Bogdan", "cashier", pin="4321")  # a cashier's may stay 4 digits
    runner = CliRunner()
    cli = runner.invoke(main, ["--data-dir", str(shop.settings.data_dir), "manager", "add", "Ola",
                               "--password", PASSWORD, "--pin", "1234"])
    assert cli.exit_code != 0 and "6 to 8 digits" in cli.output


def test_a_short_manager_pin_from_before_is_refused_until_a_new_one_is_set(app: Flask, shop: Store) -> None:
    with UnitOfWork(shop.db, write=True) as uow:  # set before managers needed six digits
        uow.session.execute(sa.update(Staff).where(Staff.name == "Mirela")
                            .values(pin_hash=PasswordHasher().hash("9999")))
        uow.commit()
    refused = till_sign_in(browser(app, TILL_T1), "Mirela", "9999")
    assert refused.status_code == 403 and "too short for a manager" in refused.get_data(as_text=True)
    staff.add_staff(shop.ctx, "Mirela", "manager", pin="975310")
    assert till_sign_in(browser(app, TILL_T1), "Mirela", "975310").status_code == 302


def test_the_till_sign_in_names_only_who_signed_in_at_that_till_recently(app: Flask, shop: Store,
                                                                         clock: FakeClock) -> None:
    anyone = app.test_client()
    first = anyone.get("/till/T1").get_data(as_text=True)
    assert not {"Annika", "Bogdan", "Mirela"} & set(re.findall(r"[A-Z][a-z]+", first))
    assert 'id="name"' in first  # a name is typed
    assert till_sign_in(browser(app, TILL_T1), "annika ", "1234").status_code == 302  # any case, spaces
    at_t1 = anyone.get("/till/T1").get_data(as_text=True)
    assert 'data-name="Annika"' in at_t1 and "Bogdan" not in at_t1 and "Mirela" not in at_t1
    assert "Annika" not in anyone.get("/till/T2").get_data(as_text=True)
    clock.advance(days=15)  # [sign_in] till_names_days = 14
    assert "Annika" not in anyone.get("/till/T1").get_data(as_text=True)


def test_an_unknown_name_is_refused_like_a_wrong_pin(app: Flask, shop: Store) -> None:
    unknown = till_sign_in(browser(app, TILL_T1), "Nobody", "1234").get_data(as_text=True)
    wrong = till_sign_in(browser(app, TILL_T2), "Annika", "0000").get_data(as_text=True)
    assert "Wrong name or PIN" in unknown and "Wrong name or PIN" in wrong
