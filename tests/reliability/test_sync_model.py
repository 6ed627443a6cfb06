"""A stateful model of a chain: stores with tills, offline periods, syncs, releases, vouchers, refunds.

Invariants after every sync of all stores: no event lost, none applied twice (central's till
balances equal the stores'), no referrer over the cap, no reward or points balance below zero.
"""

from __future__ import annotations

import itertools
import os
import tempfile
from contextlib import ExitStack
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from pos_referral.db.models import Code, LedgerEntry, Redemption, Reward
from pos_referral.db.models_central import CentralEvent
from pos_referral.domain.identity import normalise_phone
from pos_referral.services.customers import CustomerInput
from pos_referral.services.referral_codes import issue_code
from pos_referral.services.refunds import refund_sale
from tests.conftest import FakeClock
from tests.postgres_support import (
    CentralServer,
    ChainStore,
    fresh_database,
    new_chain_store,
    start_central,
    stores_balances,
    till_balances,
)

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
CAP_COUNT = 2
PHASES = tuple(p for p in Phase if p is not Phase.shrink or os.environ.get("HYPOTHESIS_SHRINK"))
PEOPLE = [f"+4798{i:06d}" for i in range(10)]
_fresh_phones = itertools.count()


class Chain(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.stack = ExitStack()
        root = Path(self.stack.enter_context(tempfile.TemporaryDirectory()))
        (root / "program.replace").write_text(f"max_count = 10 => max_count = {CAP_COUNT}\n")
        url = self.stack.enter_context(fresh_database())
        self.clock = FakeClock()
        self.central = start_central(url, root, self.clock, pool_size=3)
        self.stack.callback(self.central.close)
        self.server = CentralServer(self.central)
        self.stack.callback(self.server.stop)
        self.stores: list[ChainStore] = []
        for n in (1, 2, 3):
            store = new_chain_store(self.central, root, n, self.server.url, self.clock, voucher_offline_allowance=1)
            self.stack.callback(store.store.close)
            store.relay.sync(max_attempts=6)
            self.stores.append(store)
        self.offline = [False, False, False]
        self.codes: list[str] = []
        self.sales: list[tuple[int, str]] = []

    def teardown(self) -> None:
        self.stack.close()

    @rule(s=st.integers(0, 2), person=st.sampled_from(PEOPLE))
    def issue(self, s: int, person: str) -> None:
        store = self.stores[s]
        self.codes.append(issue_code(store.store.ctx, CustomerInput(identity=normalise_phone(person)),
                                     channel="api", till_id=f"T{s}").code)

    @precondition(lambda self: self.codes)
    @rule(s=st.integers(0, 2), pick=st.integers(0, 1000), known=st.booleans(), person=st.sampled_from(PEOPLE))
    def redeem_code(self, s: int, pick: int, known: bool, person: str) -> None:
        phone = person if known else f"+4797{next(_fresh_phones):07d}"  # known people make duplicate friends
        answer = self.stores[s].redeem(self.codes[pick % len(self.codes)], phone)
        if isinstance(answer, dict):
            self.sales.append((s, answer["sale_id"]))
            self.codes.append(answer["friend_code"]["code"])

    @rule(s=st.integers(0, 2), pick=st.integers(0, 1000), person=st.sampled_from(PEOPLE))
    def redeem_voucher(self, s: int, pick: int, person: str) -> None:
        store = self.stores[s]
        with store.store.db.read_engine.connect() as conn:
            vouchers = conn.execute(sa.select(Code.code).where(Code.kind == "voucher").order_by(Code.code)).scalars()
            choices = list(vouchers)
        if choices:
            answer = store.redeem(choices[pick % len(choices)], person)
            if isinstance(answer, dict):
                self.sales.append((s, answer["sale_id"]))

    @precondition(lambda self: self.sales)
    @rule(pick=st.integers(0, 1000), full=st.booleans())
    def refund(self, pick: int, full: bool) -> None:
        s, sale = self.sales[pick % len(self.sales)]
        try:
            refund_sale(self.stores[s].store.ctx, sale, None if full else 1000)
        except Exception as exc:  # a voucher sale has no referral to refund: a typed refusal
            assert getattr(exc, "code", "") == "unknown_sale", exc

    @rule(s=st.integers(0, 2))
    def toggle_offline(self, s: int) -> None:
        self.offline[s] = not self.offline[s]

    @rule(s=st.integers(0, 2))
    def sync(self, s: int) -> None:
        if not self.offline[s]:
            self.stores[s].relay.sync(max_attempts=6)

    @rule(days=st.sampled_from((1, 7, 15)))
    def time_passes_and_central_releases(self, days: int) -> None:
        self.clock.advance(days=days)
        self.central.release()

    @invariant()
    def nothing_lost_nothing_twice_after_a_full_sync(self) -> None:
        if any(self.offline):
            return
        for store in self.stores:
            store.relay.sync(max_attempts=6)
        db = self.central.ctx.db
        with db.read_engine.connect() as conn:
            for store in self.stores:
                count, distinct = conn.execute(sa.select(sa.func.count(), sa.func.count(
                    sa.distinct(CentralEvent.store_seq))).where(CentralEvent.store_no == store.no)).one()
                assert count == distinct == store.outbox_count()
            redemptions = conn.execute(sa.select(sa.func.count()).select_from(Redemption)).scalar_one()
            recorded = conn.execute(sa.select(sa.func.count()).select_from(CentralEvent)
                                    .where(CentralEvent.type == "redemption_recorded")).scalar_one()
            assert redemptions == recorded
        assert till_balances(db.write_engine) == stores_balances(self.stores)

    @invariant()
    def no_referrer_over_the_cap_and_no_negative_balance(self) -> None:
        with self.central.ctx.db.read_engine.connect() as conn:
            per_referrer = conn.execute(sa.select(Reward.customer_id, sa.func.count()).where(
                Reward.source == "referral", Reward.status == "released").group_by(Reward.customer_id)).all()
            assert all(n <= CAP_COUNT for _, n in per_referrer), per_referrer  # one calendar year in the model
        for engine in [self.central.ctx.db.write_engine] + [s.store.db.write_engine for s in self.stores]:
            with engine.connect() as conn:
                per_reward = conn.execute(sa.select(LedgerEntry.reward_id, sa.func.sum(LedgerEntry.amount_minor))
                                          .where(LedgerEntry.reward_id.is_not(None))
                                          .group_by(LedgerEntry.reward_id)).all()
                assert all(total >= 0 for _, total in per_reward), per_reward
                points = conn.execute(sa.select(LedgerEntry.customer_id, sa.func.sum(LedgerEntry.points))
                                      .group_by(LedgerEntry.customer_id)).all()
                assert all(total >= 0 for _, total in points), points


def test_chain_model_keeps_its_invariants() -> None:
    run_state_machine_as_test(Chain, settings=settings(
        max_examples=20, stateful_step_count=25, deadline=None, phases=PHASES,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]))


