"""A forget at one store reaches central (real PostgreSQL) and every other store through sync; the chain's
books stay as they were."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from pos_referral.db.models import Customer, LedgerEntry, OutboxEvent
from pos_referral.db.models_central import CentralChange, CentralEvent, CustomerLink
from pos_referral.domain.identity import normalise_phone
from pos_referral.services.customers import CustomerInput
from pos_referral.services.privacy.requests import export_customer, forget_customer
from pos_referral.services.referral_codes import issue_code
from tests.conftest import FakeClock
from tests.postgres_support import (
    CentralServer,
    ChainStore,
    served_chain,
    till_balances,
)

pytestmark = pytest.mark.postgres
ANN = "+4791234001"


@pytest.fixture
def chain(tmp_path: Path, clock: FakeClock) -> Iterator[tuple[CentralServer, list[ChainStore]]]:
    with served_chain(tmp_path, clock) as made:
        yield made


def customers(engine: sa.Engine) -> dict[str, tuple[Any, ...]]:
    with engine.connect() as conn:
        return {r[0]: tuple(r[1:]) for r in conn.execute(
            sa.select(Customer.id, Customer.identity_hash, Customer.first_name, Customer.forgotten_at))}


def texts(engine: sa.Engine, model: Any, column: Any) -> str:
    with engine.connect() as conn:
        return json.dumps([r[0] for r in conn.execute(sa.select(column))])


def test_a_forget_at_one_store_is_carried_out_at_central_and_at_the_other_store(
        chain: tuple[CentralServer, list[ChainStore]]) -> None:
    server, (one, two) = chain
    ann = CustomerInput(identity=normalise_phone(ANN), first_name="Ann")
    ann_code = issue_code(one.store.ctx, ann, channel="api", till_id="T1").code  # Ann at store 1
    zed_code = issue_code(two.store.ctx, CustomerInput(identity=normalise_phone("+4791234009")), channel="api",
                          till_id="T1").code
    body = two.redeem(zed_code, ANN)  # Ann again, as Zed's friend at store 2: a second row, the same person
    assert isinstance(body, dict), body
    ann_at_two = body["customer_id"]
    assert isinstance(two.redeem(ann_code, "+4791234002"), dict)  # Bo uses Ann's code at store 2
    for s in (one, two, one, two):
        s.relay.sync()
    central_engine = server.central.ctx.db.write_engine
    ann_at_one = export_customer(one.store.ctx, ANN, "manager")["customer_ids"][0]  # type: ignore[index]
    with central_engine.connect() as conn:
        assert conn.execute(sa.select(CustomerLink.canonical_id).where(
            CustomerLink.customer_id == ann_at_two)).scalar() == ann_at_one  # central knows both rows are Ann
    held = customers(central_engine)
    assert held[ann_at_one][1] == "Ann" and held[ann_at_one][0]
    ann_hash = held[ann_at_one][0]
    assert ann_hash in texts(central_engine, CentralEvent, CentralEvent.payload)
    balances = {"central": till_balances(central_engine), 1: till_balances(one.store.db.write_engine),
                2: till_balances(two.store.db.write_engine)}
    ledger_rows = {k: _ledger_count(e) for k, e in (("central", central_engine), (1, one.store.db.write_engine),
                                                      (2, two.store.db.write_engine))}

    result = forget_customer(one.store.ctx, ANN, "manager")
    assert result.customer_ids == [ann_at_one]
    one.relay.sync()  # the forget goes to central, which erases every row of Ann and tells the stores
    with central_engine.connect() as conn:
        (change,) = conn.execute(sa.select(CentralChange.payload).where(CentralChange.kind == "forget")).scalars()
    assert change["customer_ids"] == sorted([ann_at_one, ann_at_two])
    held = customers(central_engine)
    for cid in (ann_at_one, ann_at_two):
        assert held[cid][:2] == (None, "") and held[cid][2] is not None
    assert ann_hash not in texts(central_engine, CentralEvent, CentralEvent.payload)
    assert '"Ann"' not in texts(central_engine, CentralEvent, CentralEvent.payload)

    two.relay.sync()  # store 2 hears of it and erases its copy
    at_two = customers(two.store.db.write_engine)
    assert at_two[ann_at_two][:2] == (None, "") and at_two[ann_at_two][2] is not None
    assert ann_hash not in texts(two.store.db.write_engine, OutboxEvent, OutboxEvent.payload)
    one.relay.sync()  # store 1 hears its own forget back: nothing changes, nothing is sent again
    assert ann_hash not in texts(one.store.db.write_engine, OutboxEvent, OutboxEvent.payload)

    # the books of the chain and of each store are as they were
    assert till_balances(central_engine) == balances["central"]
    assert till_balances(one.store.db.write_engine) == balances[1]
    assert till_balances(two.store.db.write_engine) == balances[2]
    assert {k: _ledger_count(e) for k, e in (("central", central_engine), (1, one.store.db.write_engine),
                                             (2, two.store.db.write_engine))} == ledger_rows
    # Ann's code keeps working at the other store (a card in circulation), naming nobody
    assert isinstance(two.redeem(ann_code, "+4791234003"), dict)
    for s in (two, one):
        s.relay.sync()
    assert customers(central_engine)[ann_at_one][:2] == (None, "")


def _ledger_count(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(LedgerEntry)).scalar_one())
