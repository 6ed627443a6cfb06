"""Ambassador status: a named milestone status and its perk, from successful referrals."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Flask

from pos_referral.bootstrap import Store
from pos_referral.db.models import PrintJob
from pos_referral.printing.escpos_renderer import RendererConfig
from pos_referral.printing.render import render
from pos_referral.services.owner_links import owner_url
from pos_referral.services.promo.ambassador import next_status, status_for, status_from_count, status_of
from pos_referral.services.rewards import release_due_rewards
from pos_referral.services.unit_of_work import UnitOfWork
from tests.conftest import Api, FakeClock, staff_session


def bring_friends(api: Api, code: str, n: int, start: int = 0) -> None:
    for i in range(start, start + n):
        status, body = api.redeem(code, f"S{i}", "50.00", phone=f"+47900000{i:02d}")
        assert status == 201, body


def test_five_friends_make_an_ambassador(api: Api, store: Store, clock: FakeClock) -> None:
    program = store.settings.default_program
    issued = api.issue(phone="+4791234567", first_name="Ann")
    customer = issued["customer_id"]
    bring_friends(api, issued["code"], 4)
    clock.advance(days=15)
    release_due_rewards(store.ctx)
    with UnitOfWork(store.db, write=False) as read:
        session = read.session
        assert status_for(session, customer, program) is None
        assert next_status(session, customer, program) == ("Ambassador", 1)
    bring_friends(api, issued["code"], 1, start=4)
    assert status_of(store.ctx, customer, program) is None  # pending during the return window does not count
    clock.advance(days=15)
    release_due_rewards(store.ctx)
    assert status_of(store.ctx, customer, program) == ("Ambassador", "a free tote bag and early access to sales")
    with UnitOfWork(store.db, write=False) as read:
        session = read.session
        assert next_status(session, customer, program) is None


def test_highest_named_milestone_wins(store: Store) -> None:
    program = store.settings.default_program.model_copy(update={"milestones": (
        *store.settings.default_program.milestones,
        type(store.settings.default_program.milestones[0])(referrals=10, status="Champion", perk="VIP evening"),
        type(store.settings.default_program.milestones[0])(referrals=7),  # no status: a reward only
    )})
    assert status_from_count(program, 4) is None
    assert status_from_count(program, 8).status == "Ambassador"  # type: ignore[union-attr]
    assert status_from_count(program, 12).status == "Champion"  # type: ignore[union-attr]


def make_ambassador(api: Api, store: Store, clock: FakeClock) -> dict[str, str]:
    issued = api.issue(phone="+4791234567", first_name="Ann")
    bring_friends(api, issued["code"], 5)
    clock.advance(days=15)
    release_due_rewards(store.ctx)
    return issued


def test_ambassador_sees_status_and_perk_on_their_landing_page(api: Api, store: Store, clock: FakeClock,
                                                               app: Flask) -> None:
    code = make_ambassador(api, store, clock)["code"]
    client = app.test_client()
    own = client.get(owner_url(store.ctx, f"/r/{code}", code, 0)).get_data(as_text=True)
    assert "Your status: Ambassador" in own and "Your perk: a free tote bag and early access to sales" in own
    polish = client.get(owner_url(store.ctx, f"/r/{code}", code, 0) + "&lang=pl").get_data(as_text=True)
    assert "Twój status: Ambasador" in polish
    public = app.test_client().get(f"/r/{code}").get_data(as_text=True)
    assert "Ambassador" not in public  # a friend's view shows nothing about the owner but a first name


def test_ambassadors_card_from_the_till_names_the_status(api: Api, store: Store, clock: FakeClock,
                                                          app: Flask) -> None:
    make_ambassador(api, store, clock)
    client = staff_session(app.test_client(), store, "Kim", "cashier", till_id="T1")
    page = client.get("/till/T1").get_data(as_text=True)
    csrf = page.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
    answer = client.post("/till/issue", json={"customer": {"phone": "+4791234567"}}, headers={"X-CSRFToken": csrf})
    assert answer.status_code == 200, answer.get_json()
    with UnitOfWork(store.db, write=False) as uow:
        job = uow.session.scalars(sa.select(PrintJob).where(PrintJob.template == "referral_card")).one()
    assert job.context["status"] == "Ambassador"
    text = render("referral_card", job.context, RendererConfig("TM-T88V", 80), "text").decode()
    assert "* Ambassador *" in text and "a free tote bag and early access to sales" in text
