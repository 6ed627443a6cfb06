"""Bearer codes in a chain, on a real PostgreSQL: printed at one store, used at another, claimed later."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from pos_referral.db.models import Code, Customer, Redemption, Reward
from pos_referral.db.models_central import CustomerLink
from pos_referral.domain.identity import normalise_phone
from pos_referral.printing.escpos_renderer import RendererConfig
from pos_referral.proxy.footer import ReceiptSeen
from pos_referral.services import owner_links
from pos_referral.services.customers import CustomerInput
from pos_referral.services.proxy_offers import arming, claims
from pos_referral.services.proxy_offers.footer import ProxyFooter
from pos_referral.services.referral_codes import issue_code
from tests.conftest import FakeClock
from tests.postgres_support import (
    CentralServer,
    ChainStore,
    served_chain,
)

pytestmark = pytest.mark.postgres


@pytest.fixture
def chain(tmp_path: Path, clock: FakeClock) -> Iterator[tuple[CentralServer, list[ChainStore]]]:
    with served_chain(tmp_path, clock) as made:
        yield made


def print_bearer_code(store: ChainStore) -> str:
    """The cashier pressed "Give card" and the POS printed a receipt through the proxy."""
    ctx = store.store.ctx
    arming.arm(ctx)
    footer = ProxyFooter(ctx, RendererConfig())
    assert footer.footer_for(ReceiptSeen("SHOP\nReceipt No: X-1\nTOTAL 30.00\n", "127.0.0.1:9")) is not None
    with store.store.db.read_engine.connect() as conn:
        return str(conn.execute(sa.select(Code.code).where(Code.bearer.is_(True))).scalar_one())


def claim(store: ChainStore, code: str, phone: str) -> claims.ClaimOutcome:
    ctx = store.store.ctx
    given = CustomerInput(identity=normalise_phone(phone), first_name="Kari")
    return claims.claim(ctx, code, owner_links.owner_signature(ctx, code, 0), given)


def central_row(server: CentralServer, query: sa.Select[tuple[object]]) -> object:
    with server.central.ctx.db.read_engine.connect() as conn:
        return conn.execute(query).scalar_one()


def test_a_bearer_code_used_at_another_store_and_claimed_later_pays_the_claimer(
    chain: tuple[CentralServer, list[ChainStore]], clock: FakeClock
) -> None:
    server, (one, two) = chain
    code = print_bearer_code(one)
    answer = two.redeem(code, "+4790000002")  # store 2 has not heard of the code: accepted offline
    assert isinstance(answer, dict), answer
    two.relay.sync()
    one.relay.sync()
    assert central_row(server, sa.select(Code.bearer).where(Code.code == code)) is True
    clock.advance(days=15)
    assert server.central.release().released == 0  # nobody to give it to yet: the reward waits

    assert claim(one, code, "+4791112222").outcome == "claimed"
    one.relay.sync()
    holder = central_row(server, sa.select(Code.customer_id).where(Code.code == code))
    expected_hash = normalise_phone("+4791112222").hashed(server.central.ctx.secrets.pepper)
    assert central_row(server, sa.select(Customer.identity_hash).where(Customer.id == holder)) == expected_hash
    assert central_row(server, sa.select(Code.claimed_at).where(Code.code == code)) is not None
    assert server.central.release().released == 1
    assert central_row(server, sa.select(Reward.customer_id)) == holder
    assert central_row(server, sa.select(Reward.status)) == "released"
    assert central_row(server, sa.select(Redemption.referrer_id)) == holder


def test_a_claim_by_a_customer_the_chain_knows_from_another_store_lands_on_them(
    chain: tuple[CentralServer, list[ChainStore]], clock: FakeClock
) -> None:
    server, (one, two) = chain
    kari_code = issue_code(two.store.ctx, CustomerInput(identity=normalise_phone("+4791112222")), channel="api",
                           till_id="T1")
    two.relay.sync()  # the chain knows Kari from store 2; store 1 does not
    code = print_bearer_code(one)
    assert isinstance(one.redeem(code, "+4790000003"), dict)
    one.relay.sync()
    clock.advance(days=15)
    assert server.central.release().released == 0

    assert claim(one, code, "+4791112222").outcome == "claimed"  # unknown at store 1: claimed there
    one.relay.sync()
    placeholder = central_row(server, sa.select(Code.customer_id).where(Code.code == code))
    assert central_row(server, sa.select(CustomerLink.canonical_id).where(
        CustomerLink.customer_id == placeholder)) == kari_code.customer_id  # one person at central
    assert server.central.release().released == 1
    assert central_row(server, sa.select(Reward.customer_id)) == kari_code.customer_id
