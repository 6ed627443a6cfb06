"""A shop that ran standalone joins a chain later, with one command (real PostgreSQL).

The shop has customers, printed codes and a voucher it released itself. After ``pos-referral chain
join`` its printed codes work at the chain's other store, its voucher is honoured once chain-wide,
its customers are still found by phone, its history is in central's report, and a second shop under
the same store number is refused.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from pos_referral.bootstrap import Central, Store, build_store
from pos_referral.central.stores import add_store
from pos_referral.cli import main
from pos_referral.db.models import Reward
from pos_referral.db.models_central import Reconciliation
from pos_referral.domain.errors import Refusal
from pos_referral.domain.identity import normalise_phone
from pos_referral.services.customers import CustomerInput
from pos_referral.services.redemptions import RedeemRequest, body_hash, redeem
from pos_referral.services.referral_codes import issue_code
from pos_referral.services.reports.dashboard import build_report
from pos_referral.services.reports.date_range import parse_range
from pos_referral.services.rewards import release_due_rewards
from pos_referral.sync.client import CentralClient
from pos_referral.sync.relay import Relay
from tests.conftest import FakeClock
from tests.postgres_support import (
    CentralServer,
    ChainStore,
    chain_settings,
    fresh_database,
    new_chain_store,
    start_central,
)

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
REFERRER, FRIEND, LATER = "+4790000001", "+4791000001", "+4790000003"


@dataclass
class Chain:
    central: Central
    server: CentralServer
    other: ChainStore  # store 2: a chain store from its first day
    clock: FakeClock
    root: Path


@pytest.fixture
def chain(tmp_path: Path, clock: FakeClock) -> Iterator[Chain]:
    with fresh_database() as url:
        central = start_central(url, tmp_path, clock)
        server = CentralServer(central)
        # store 2 takes vouchers earned at other stores (one unconfirmed at a time, central decides the rest)
        other = new_chain_store(central, tmp_path, 2, server.url, clock, voucher_offline_allowance=1)
        try:
            other.relay.sync()
            yield Chain(central, server, other, clock, tmp_path)
        finally:
            server.stop()
            other.store.close()
            central.close()


def _sale(ctx: Any, code: str, phone: str, sale: str, basket_minor: int = 5000) -> dict[str, Any] | str:
    req = RedeemRequest(code=code, sale_id=sale, basket_minor=basket_minor,
                        customer=CustomerInput(identity=normalise_phone(phone)), till_id="T1",
                        body_hash=body_hash([code, sale, phone, basket_minor]))
    try:
        return redeem(ctx, req, f"k-{sale}").body
    except Refusal as exc:
        return exc.code


def _code(store: Store, phone: str) -> tuple[str, bool]:
    issued = issue_code(store.ctx, CustomerInput(identity=normalise_phone(phone)), channel="card", till_id="T1")
    return issued.code, issued.created


@dataclass
class Standalone:
    store: Store
    referrer_code: str
    later_code: str  # printed for a customer whose friends come only after the join
    voucher: str


def _standalone_shop(root: Path, clock: FakeClock, number: int) -> Standalone:
    """A shop on its own: codes printed, a friend's sale, the referrer's reward released as a voucher."""
    settings = chain_settings(root, number)
    toml = settings.config_dir / "store.toml"  # the number in the file too, for the command line's join
    toml.write_text(toml.read_text().replace("\nnumber = 1 ", f"\nnumber = {number} ", 1))
    shop = build_store(settings, clock=clock)
    referrer_code, _ = _code(shop, REFERRER)
    later_code, _ = _code(shop, LATER)
    assert isinstance(_sale(shop.ctx, referrer_code, FRIEND, "A1"), dict)
    clock.advance(days=15)  # past the 14 days' hold
    assert release_due_rewards(shop.ctx).released == 1
    with shop.db.read_engine.connect() as conn:
        voucher = conn.execute(sa.select(Reward.voucher_code)).scalar_one()
    return Standalone(shop, referrer_code, later_code, voucher)


def _join(root: Path, number: int, url: str, token: str) -> Any:
    return CliRunner().invoke(main, ["--config", str(root / f"config-{number}" / "store.toml"),
                                     "--data-dir", str(root / f"data-{number}"),
                                     "chain", "join", "--url", url, "--token", token])


def _reopened(root: Path, number: int, clock: FakeClock, token: str) -> ChainStore:
    """The joined shop as `serve` starts it: central's address from the join, not from the config."""
    store = build_store(chain_settings(root, number), clock=clock)
    central = store.settings.config.central
    assert central.url and central.token == token
    return ChainStore(store, Relay(store.ctx, CentralClient(central.url, central.token, timeout=5),
                                   base_delay=0.01, max_delay=0.2))


def _figures(central: Central, store_no: int) -> dict[str, int]:
    ctx = central.ctx
    report = build_report(ctx, parse_range("2026-06-01", "2026-07-31", ctx.tz, ctx.clock(), store_no), limit=None)
    steps = {row["step"]: row["count"] for row in report.tables["activity"]}  # events in the period
    return {"codes": steps["Codes issued"], "redemptions": steps["Redemptions"],
            "revenue": report.kpis["referred_revenue_minor"]}


def test_a_standalone_shop_joins_and_its_printed_codes_and_voucher_work_across_the_chain(chain: Chain) -> None:
    before = _standalone_shop(chain.root, chain.clock, 1)
    before.store.close()
    token = add_store(chain.central.ctx.db, 1, "Shop 1", chain.clock())

    joined = _join(chain.root, 1, chain.server.url, token)
    assert joined.exit_code == 0, joined.output
    assert "store S001 joined the chain" in joined.output and "0 left" in joined.output

    shop = _reopened(chain.root, 1, chain.clock, token)
    try:
        other = chain.other
        other.relay.sync()  # the adopted key and the shop's voucher reach store 2
        # a code printed before the join, used by a new friend at the other store
        assert isinstance(other.redeem(before.later_code, "+4791000009"), dict)
        # the referrer's voucher from the standalone days: honoured at store 2, once
        first = other.redeem(before.voucher, REFERRER)
        assert isinstance(first, dict), first
        assert other.redeem(before.voucher, REFERRER) == "already_redeemed"
        other.relay.sync()
        shop.relay.sync()
        again = shop.redeem(before.voucher, REFERRER)  # back home, after both synced
        assert again in ("already_redeemed", "voucher_revoked"), again
        # customers are still found by phone: the referrer gets their own code back, not a new one
        assert _code(shop.store, REFERRER) == (before.referrer_code, False)
        shop.relay.sync()
        assert shop.relay.backlog() == 0
        # the shop's history is in central's report: both codes, the friend's sale and its receipt code
        assert _figures(chain.central, 1) == {"codes": 3, "redemptions": 1, "revenue": 5000}
        with chain.central.ctx.db.read_engine.connect() as conn:
            kinds = conn.execute(sa.select(Reconciliation.kind)).scalars().all()
            rewards = conn.execute(sa.select(Reward.status, Reward.voucher_code).order_by(Reward.created_at)).all()
        assert kinds == []  # nothing for a person to sort out
        # central took over the shop's release (no second voucher); the friend at store 2 earned a pending one
        assert [tuple(r) for r in rewards] == [("released", before.voucher), ("pending", None)]
    finally:
        shop.store.close()


def test_joining_twice_changes_nothing(chain: Chain) -> None:
    _standalone_shop(chain.root, chain.clock, 1).store.close()
    token = add_store(chain.central.ctx.db, 1, "Shop 1", chain.clock())
    assert _join(chain.root, 1, chain.server.url, token).exit_code == 0
    version = chain.central.keys_version
    again = _join(chain.root, 1, chain.server.url, token)
    assert again.exit_code == 0, again.output
    assert "0 code key(s) adopted" in again.output and chain.central.keys_version == version


def test_a_second_shop_with_a_store_number_in_use_is_refused(chain: Chain, tmp_path: Path) -> None:
    _standalone_shop(chain.root, chain.clock, 1).store.close()
    assert _join(chain.root, 1, chain.server.url, add_store(chain.central.ctx.db, 1, "Shop 1",
                                                            chain.clock())).exit_code == 0
    for number in (1, 2):  # 1: another shop joined under it; 2: the chain's own store 2 sells under it
        elsewhere = tmp_path / f"elsewhere-{number}"
        _standalone_shop(elsewhere, chain.clock, number).store.close()
        token = add_store(chain.central.ctx.db, number, "", chain.clock())
        refused = _join(elsewhere, number, chain.server.url, token)
        assert refused.exit_code == 1
        assert "store_number_taken" in refused.output and f"store number {number} is already used" in refused.output
        assert not (elsewhere / f"data-{number}" / "chain.json").exists()  # still a standalone shop


def test_a_standalone_shops_codes_were_unknown_to_the_chain_before_it_joined(chain: Chain) -> None:
    """What the join changes: without it, the other store refuses the shop's printed codes."""
    before = _standalone_shop(chain.root, chain.clock, 1)
    before.store.close()
    assert chain.other.redeem(before.later_code, "+4791000009") == "unknown_code"


def test_a_friend_the_shop_served_before_joining_is_the_same_person_at_the_other_store(chain: Chain) -> None:
    """The shop's customers stay hashed under its own pepper; the chain keeps that pepper beside its own."""
    before = _standalone_shop(chain.root, chain.clock, 1)
    before.store.close()
    token = add_store(chain.central.ctx.db, 1, "Shop 1", chain.clock())
    assert _join(chain.root, 1, chain.server.url, token).exit_code == 0
    other = chain.other
    other.relay.sync()
    code_at_two, _ = _code(other.store, "+4790000077")
    # the shop's friend, referred there before the join, comes to store 2 as a "new" friend: store 2 cannot
    # know offline, and central sees that it is the same person
    assert isinstance(other.redeem(code_at_two, FRIEND), dict)
    other.relay.sync()
    with chain.central.ctx.db.read_engine.connect() as conn:
        kinds = conn.execute(sa.select(Reconciliation.kind, Reconciliation.store_no)).all()
    assert [tuple(k) for k in kinds] == [("duplicate_friend", 2)]
