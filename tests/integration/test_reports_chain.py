"""The chain's report on central (real PostgreSQL): two stores' synced sales, for all stores and for one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from flask.testing import FlaskClient

from pos_referral import create_app
from pos_referral.bootstrap import Central
from pos_referral.central.reconciliation import open_conflicts
from pos_referral.cli import main
from pos_referral.db.models import AuditEntry
from pos_referral.domain.identity import normalise_phone
from pos_referral.services.customers import CustomerInput
from pos_referral.services.promo.prompts import record_offer
from pos_referral.services.referral_codes import issue_code
from pos_referral.services.refunds import refund_sale
from pos_referral.services.reports.dashboard import Report, build_report
from pos_referral.services.reports.date_range import parse_range
from pos_referral.services.staff import add_staff
from pos_referral.services.unit_of_work import UnitOfWork
from tests.conftest import FakeClock
from tests.postgres_support import CentralServer, ChainStore, fresh_database, new_chain_store, start_central
from tests.server_support import make_config

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
PASSWORD = "chain manager pw 1"


@pytest.fixture
def chain(tmp_path: Path, clock: FakeClock) -> Iterator[tuple[Central, ChainStore, ChainStore]]:
    """Store 1: Ann's code and one friend. Store 2: Bob's code, a friend refunded in full, a friend on Ann's code."""
    with fresh_database() as url:
        central = start_central(url, tmp_path, clock)
        server = CentralServer(central)
        one, two = (new_chain_store(central, tmp_path, n, server.url, clock) for n in (1, 2))
        try:
            for s in (one, two):
                s.relay.sync()  # join the chain: its keys before the first sale
            ann = _code(one, "+4790000001")
            bob = _code(two, "+4790000002")
            assert isinstance(one.redeem(ann, "+4791000001", 5000), dict)  # 5.00 off
            clock.advance(hours=1)
            assert isinstance(two.redeem(bob, "+4791000002", 20000), dict)  # 15.00 off, refunded in full below
            assert isinstance(two.redeem(ann, "+4791000003", 3000), dict)  # 3.00 off, Ann's code at store 2
            refund_sale(two.store.ctx, "S0", None)
            clock.advance(hours=1)
            one.relay.sync()
            two.relay.sync()
            yield central, one, two
        finally:
            server.stop()
            for s in (one, two):
                s.store.close()
            central.close()


def _code(store: ChainStore, phone: str) -> str:
    return issue_code(store.store.ctx, CustomerInput(identity=normalise_phone(phone), first_name="Ann"
                                                     if phone.endswith("1") else "Bob"),
                      channel="card", till_id="T1").code


def _report(ctx: Any, store_no: int | None) -> Report:
    rng = parse_range("2026-06-01", "2026-06-30", ctx.tz, ctx.clock(), store_no)
    return build_report(ctx, rng, limit=None)


def _figures(rep: Report) -> dict[str, Any]:
    steps = {row["step"]: row["count"] for row in rep.tables["activity"]}
    k = rep.kpis
    return {"codes": steps["Codes issued"], "redemptions": steps["Redemptions"],
            "revenue": k["referred_revenue_minor"], "acquired": k["acquired_customers"],
            "discounts": k["friend_discounts_minor"], "served": k["customers_served"],
            "pending": k["pending_rewards"], "refunds": sum(f["kind"] == "refund_after_referral"
                                                            for f in rep.tables["fraud"])}


def test_the_chain_report_adds_up_both_stores_and_filters_one(chain: tuple[Central, ChainStore, ChainStore]) -> None:
    central = chain[0]
    everything = _figures(_report(central.ctx, None))
    # codes: Ann's and Bob's, and each friend's own receipt code; revenue: 50.00 + 30.00 (Bob's friend refunded)
    assert everything == {"codes": 5, "redemptions": 3, "revenue": 8000, "acquired": 2, "discounts": 800,
                          "served": 5, "pending": 2, "refunds": 1}
    assert _figures(_report(central.ctx, 1)) == {"codes": 2, "redemptions": 1, "revenue": 5000, "acquired": 1,
                                                 "discounts": 500, "served": 2, "pending": 1, "refunds": 0}
    assert _figures(_report(central.ctx, 2)) == {"codes": 3, "redemptions": 2, "revenue": 3000, "acquired": 1,
                                                 "discounts": 300, "served": 3, "pending": 1, "refunds": 1}
    # pending rewards are Ann's two, one earned at each store (Bob's was voided by the refund)
    top = {(r["friends_brought"], r["referred_revenue_minor"]) for r in _report(central.ctx, None).tables[
        "top_referrers"]}
    assert top == {(2, 8000)}  # Ann, with friends at both stores


def test_each_stores_figures_on_central_equal_the_stores_own(chain: tuple[Central, ChainStore, ChainStore]) -> None:
    central, one, two = chain
    for s in (one, two):
        own, there = _figures(_report(s.store.ctx, None)), _figures(_report(central.ctx, s.no))
        assert {k: own[k] for k in ("codes", "redemptions", "revenue", "acquired", "discounts", "refunds")} == {
            k: there[k] for k in ("codes", "redemptions", "revenue", "acquired", "discounts", "refunds")}


def _signed_in(central: Central) -> FlaskClient:
    add_staff(central.ctx, "chief", "manager", password=PASSWORD, actor="test")
    app = create_app(central=central, test_config={"TESTING": True})
    client = app.test_client()
    page = client.get("/manager/login").get_data(as_text=True)
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    answer = client.post("/manager/login", data={"name": "chief", "password": PASSWORD, "csrf_token": token})
    assert answer.status_code == 302
    return client


def test_the_chain_dashboard_has_a_store_filter_and_each_stores_sync_lag(
        chain: tuple[Central, ChainStore, ChainStore]) -> None:
    client = _signed_in(chain[0])
    page = client.get("/manager/?from=2026-06-01&to=2026-06-30").get_data(as_text=True)
    assert "all stores" in page and "Sync lag per store" in page
    assert '<option value="S001">S001 Shop 1</option>' in page and 'data-store="2"' in page
    assert "never synced" not in page  # both stores have sent events
    one_page = client.get("/manager/?from=2026-06-01&to=2026-06-30&store=S001")
    assert one_page.status_code == 200
    html = one_page.get_data(as_text=True)
    assert '<option value="S001" selected>' in html and "store=S001" in html  # CSV links keep the filter
    csv = client.get("/manager/export/activity.csv?from=2026-06-01&to=2026-06-30&store=S002")
    assert csv.status_code == 200 and "Redemptions,2" in csv.get_data(as_text=True)
    assert "S002" in csv.headers["Content-Disposition"]
    data = client.get("/manager/report.json?from=2026-06-01&to=2026-06-30&store=2").get_json()
    assert data["store"] == "S002" and data["tables"]["kpis"]
    assert client.get("/manager/?store=S077").status_code == 400


def test_a_friend_referred_at_both_stores_is_on_the_reconciliation_list_of_the_second(
        chain: tuple[Central, ChainStore, ChainStore]) -> None:
    central, one, two = chain
    bob = _code(two, "+4790000002")  # Bob's existing code
    assert isinstance(two.redeem(bob, "+4791000001"), dict)  # store 2 has not heard of store 1's friend
    two.relay.sync()
    (conflict,) = _report(central.ctx, None).tables["reconciliation"]
    assert (conflict["kind"], conflict["store"]) == ("duplicate_friend", "S002")
    assert _report(central.ctx, 2).tables["reconciliation"] == [conflict]
    assert _report(central.ctx, 1).tables["reconciliation"] == []
    assert _report(one.store.ctx, None).tables["reconciliation"] == []  # a store's own list stays empty


def test_after_sale_card_offers_reach_the_chain_report_per_store(
        chain: tuple[Central, ChainStore, ChainStore]) -> None:
    central, one, two = chain
    # the same sale id exists at both shops: central keeps them apart by store
    record_offer(one.store.ctx, sale_id="X1", accepted=True, till_id="T1")
    record_offer(two.store.ctx, sale_id="X1", accepted=False, till_id="T1")
    record_offer(two.store.ctx, sale_id="X2", accepted=True, till_id="T1")
    record_offer(two.store.ctx, sale_id="X3", accepted=False, offered=False, till_id="T1")
    for s in (one, two):
        s.relay.sync()
        s.relay.sync()  # nothing new: nothing counted twice

    def counts(ctx: Any, store_no: int | None) -> list[tuple[int, float | None]]:
        return [(row["count"], row["rate"]) for row in _report(ctx, store_no).tables["card_offers"]]

    assert counts(central.ctx, None) == [(4, None), (3, 0.75), (2, 2 / 3)]
    assert counts(central.ctx, 1) == [(1, None), (1, 1.0), (1, 1.0)] == counts(one.store.ctx, None)
    assert counts(central.ctx, 2) == [(3, None), (2, 2 / 3), (1, 0.5)] == counts(two.store.ctx, None)


def test_a_conflict_is_resolved_with_a_note_on_the_page_and_the_cli_and_audited(
        chain: tuple[Central, ChainStore, ChainStore], tmp_path: Path) -> None:
    central, one, two = chain
    assert isinstance(one.redeem(_code(one, "+4790000001"), "+4791000009"), dict)  # a new friend at store 1
    one.relay.sync()
    bob = _code(two, "+4790000002")
    assert isinstance(two.redeem(bob, "+4791000001"), dict)  # friends store 2 has not heard of yet
    assert isinstance(two.redeem(bob, "+4791000009"), dict)
    two.relay.sync()
    items = _report(central.ctx, None).tables["reconciliation"]
    assert len(items) >= 2
    client = _signed_in(central)
    page = client.get("/manager/reconciliation/").get_data(as_text=True)
    first = page.split('data-item="')[1].split('"')[0]
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    empty = client.post(f"/manager/reconciliation/{first}/resolve", data={"note": "  ", "csrf_token": token},
                        follow_redirects=True).get_data(as_text=True)
    assert "Not resolved: say in a note what was done" in empty
    done = client.post(f"/manager/reconciliation/{first}/resolve", data={"note": "friend asked, fine",
                                                                        "csrf_token": token}, follow_redirects=True)
    html = done.get_data(as_text=True)
    assert f"Item #{first}" in html and "friend asked, fine" in html.split('id="resolved-items"')[1]
    again = client.post(f"/manager/reconciliation/{first}/resolve", data={"note": "twice", "csrf_token": token},
                        follow_redirects=True).get_data(as_text=True)
    assert "already resolved" in again
    assert len(_report(central.ctx, None).tables["reconciliation"]) == len(items) - 1
    second = next(i for i in open_conflicts(central.ctx.db))
    url = central.ctx.db.write_engine.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(main, ["--config", str(make_config(tmp_path / "cli")), "--data-dir",
                                       str(tmp_path / "cli-data"), "central", "--database", url, "resolve",
                                       f"#{second.id}", "--note", "paid back by S002", "--by", "chief"])
    assert result.exit_code == 0, result.output
    assert f"#{second.id}" in result.output and "resolved" in result.output
    with UnitOfWork(central.ctx.db, write=False) as read:
        audited = read.session.scalars(sa.select(AuditEntry.detail).where(
            AuditEntry.action == "reconciliation_resolved").order_by(AuditEntry.id)).all()
    assert len(audited) == 2 and "friend asked, fine" in audited[0] and "paid back by S002" in audited[1]
    assert "store 1" not in audited[0]


def test_central_compares_the_stores_and_says_participation_is_not_known(
        chain: tuple[Central, ChainStore, ChainStore]) -> None:
    central, one, two = chain
    rows = {r["store_no"]: r for r in _report(central.ctx, None).tables["stores"]}
    for s in (one, two):
        own = _report(s.store.ctx, None).kpis
        row = rows[s.no]
        assert (row["codes_converted"], row["acquired_customers"], row["reward_cost_minor"]) == (
            own["codes_converted"], own["acquired_customers"], own["reward_cost_minor"])
        assert row["participation"].startswith("not known at central")
    assert rows[1]["reward_cost_minor"] == 500 and rows[2]["reward_cost_minor"] == 300
    assert _report(one.store.ctx, None).tables["stores"] == []  # a store has no chain to compare
