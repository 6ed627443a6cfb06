"""A code printed by the print proxy belongs to nobody until its customer claims it, once, on the landing page."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa

from pos_referral.db.models import Code, Customer, Redemption, Reward
from pos_referral.printing.escpos_renderer import RendererConfig
from pos_referral.proxy.footer import ReceiptSeen
from pos_referral.services import rewards
from pos_referral.services.proxy_offers.footer import ProxyFooter
from pos_referral.services.reports.dashboard import build_report
from pos_referral.services.reports.date_range import parse_range
from pos_referral.services.unit_of_work import UnitOfWork
from tests.conftest import FakeClock
from tests.printing_support import decode_escpos

_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def form_token(client: Any, path: str) -> str:
    """The CSRF token of the claim form (a claim page that already shows "claimed" has none)."""
    page = client.get(path).get_data(as_text=True)
    found = _TOKEN.search(page)
    assert found, page
    return found.group(1)


def post_claim(client: Any, path: str, contact: str, first_name: str = "", token: str | None = None) -> Any:
    data = {"contact": contact, "first_name": first_name, "csrf_token": token or form_token(client, path)}
    return client.post(path, data=data)


def printed_code(shop: Any) -> tuple[str, str]:
    """A receipt through the proxy's referral side: the bearer code and the claim page's path and query."""
    settings = shop.store.settings
    footer = ProxyFooter(shop.store.ctx, RendererConfig.from_section(settings.config.printer, "en"))
    data = footer.footer_for(ReceiptSeen("SHOP\nReceipt No: P-1\nTOTAL 40.00\n", "127.0.0.1:1"))
    assert data is not None
    (qr,) = [c.data.decode() for c in decode_escpos(data) if c.name == "QR store"]
    url = urlsplit(qr)
    return url.path.split("/")[2], f"{url.path}?{url.query}"


def reward_rows(shop: Any) -> list[Reward]:
    with UnitOfWork(shop.store.ctx.db, write=False) as read:
        return list(read.session.scalars(sa.select(Reward)))


def code_row(shop: Any, code: str) -> Code:
    with UnitOfWork(shop.store.ctx.db, write=False) as read:
        row = read.session.get(Code, code)
        assert row is not None
        return row


def test_a_friends_reward_waits_for_the_claim_then_is_released(edited_shop: Any, clock: FakeClock) -> None:
    shop = edited_shop(overrides={"proxy": {"offer": "every"}})
    code, claim_path = printed_code(shop)
    status, body = shop.api.redeem(code, "FRIEND-1", "50.00", phone="+4790000001")
    assert status == 201, body  # a friend may use a bearer code at once
    clock.advance(days=15)  # past the hold (14 days)
    assert rewards.release_due_rewards(shop.store.ctx).released == 0
    assert [r.status for r in reward_rows(shop)] == ["pending"]  # recorded, waiting for its owner

    client = shop.app.test_client()
    page = client.get(claim_path)
    assert page.status_code == 200 and "Why we ask" in page.text
    claimed = post_claim(client, claim_path, "+47 912 34 567", "Kari")
    assert claimed.status_code == 303
    owner_page = client.get(claimed.headers["Location"])
    assert owner_page.status_code == 200 and 'id="progress"' in owner_page.text  # the owner's view
    assert "This code is yours now" in owner_page.text

    assert rewards.release_due_rewards(shop.store.ctx).released == 1
    (reward,) = reward_rows(shop)
    assert reward.status == "released" and reward.voucher_code
    row = code_row(shop, code)
    assert row.claimed_at is not None
    with UnitOfWork(shop.store.ctx.db, write=False) as read:
        holder = read.session.get(Customer, row.customer_id)
    assert holder is not None and holder.identity_hash and holder.first_name == "Kari"
    assert reward.customer_id == holder.id


def test_a_second_claim_is_refused_politely(edited_shop: Any) -> None:
    shop = edited_shop(overrides={"proxy": {"offer": "every"}})
    code, claim_path = printed_code(shop)
    client = shop.app.test_client()
    token = form_token(client, claim_path)
    assert post_claim(client, claim_path, "ann@example.com", token=token).status_code == 303
    again = post_claim(client, claim_path, "bob@example.com", token=token)
    assert again.status_code == 409 and "already been claimed" in again.text
    assert "already been claimed" in client.get(claim_path).text
    with UnitOfWork(shop.store.ctx.db, write=False) as read:
        holder = read.session.get(Customer, code_row(shop, code).customer_id)
    assert holder is not None and holder.identity_hint.startswith("a")  # still Ann's (a masked hint)


def test_without_the_printed_signature_nobody_can_claim(edited_shop: Any) -> None:
    shop = edited_shop(overrides={"proxy": {"offer": "every"}})
    code, claim_path = printed_code(shop)
    client = shop.app.test_client()
    assert client.get(f"/r/{code}/claim").status_code == 404  # a friend shown the code has no signature
    token = form_token(client, claim_path)
    assert post_claim(client, f"/r/{code}/claim?s=aaaa", "eve@example.com", token=token).status_code == 404
    assert code_row(shop, code).claimed_at is None


def test_an_ordinary_code_cannot_be_claimed(edited_shop: Any) -> None:
    shop = edited_shop()
    issued = shop.api.issue()
    assert shop.app.test_client().get(f"/r/{issued['code']}/claim?s=x").status_code == 404


def test_a_bad_contact_asks_again(edited_shop: Any) -> None:
    shop = edited_shop(overrides={"proxy": {"offer": "every"}})
    _, claim_path = printed_code(shop)
    answer = post_claim(shop.app.test_client(), claim_path, "not a phone")
    assert answer.status_code == 422 and "check the phone number or email" in answer.text


def test_a_customer_who_already_has_a_code_gets_the_printed_one_as_well(edited_shop: Any, clock: FakeClock) -> None:
    shop = edited_shop(overrides={"proxy": {"offer": "every"}})
    own = shop.api.issue(phone="+4791234567", first_name="Ann")
    code, claim_path = printed_code(shop)
    assert shop.api.redeem(code, "FRIEND-2", "50.00", phone="+4790000002")[0] == 201
    assert post_claim(shop.app.test_client(), claim_path, "+4791234567").status_code == 303
    row = code_row(shop, code)
    assert row.customer_id == own["customer_id"] and row.claimed_at is not None  # merged: an extra code of Ann's
    clock.advance(days=15)
    assert rewards.release_due_rewards(shop.store.ctx).released == 1
    (reward,) = reward_rows(shop)
    assert reward.customer_id == own["customer_id"]
    with UnitOfWork(shop.store.ctx.db, write=False) as read:
        assert read.session.scalar(sa.select(Redemption.referrer_id).where(Redemption.code == code)) == own[
            "customer_id"]
    # Ann's own code is still the one the till finds for her
    assert shop.api.issue(phone="+4791234567")["code"] == own["code"]


def test_the_friend_who_used_the_code_cannot_claim_it(edited_shop: Any) -> None:
    shop = edited_shop(overrides={"proxy": {"offer": "every"}})
    code, claim_path = printed_code(shop)
    assert shop.api.redeem(code, "FRIEND-3", "50.00", phone="+4790000003")[0] == 201
    answer = post_claim(shop.app.test_client(), claim_path, "+4790000003")
    assert answer.status_code == 422 and "as a friend" in answer.text
    assert code_row(shop, code).claimed_at is None


def test_the_dashboard_counts_printed_claimed_and_unclaimed_codes(edited_shop: Any) -> None:
    shop = edited_shop(overrides={"proxy": {"offer": "every"}})
    _, first = printed_code(shop)
    printed_code(shop)
    printed_code(shop)
    post_claim(shop.app.test_client(), first, "ann@example.com")
    ctx = shop.store.ctx
    report = build_report(ctx, parse_range(None, None, ctx.tz, ctx.clock()), parts=["kpis"])
    assert (report.kpis["bearer_printed"], report.kpis["bearer_claimed"], report.kpis["bearer_unclaimed"]) == (3, 1, 2)
