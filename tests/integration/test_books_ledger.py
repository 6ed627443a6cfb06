"""The books: the liability ledger per period reconciles with itself, the ledger table and the dashboard.

On a demo shop's history (services/demo.py) plus what only real use makes: a refund after release (a
clawback), vouchers left to expire, and a reward capped at release.
"""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa
from click.testing import CliRunner

from pos_referral.bootstrap import Store
from pos_referral.cli import main
from pos_referral.db.models import Code, LedgerEntry, Redemption, Reward
from pos_referral.services.demo import DemoPlan, generate
from pos_referral.services.refunds import refund_sale
from pos_referral.services.reports.books import EXITS, FLOWS, build_books, figures
from pos_referral.services.reports.dashboard import build_report
from pos_referral.services.reports.date_range import parse_range
from pos_referral.services.unit_of_work import UnitOfWork
from tests.conftest import FakeClock


def _history(store: Store, clock: FakeClock) -> None:
    generate(store.ctx, DemoPlan(customers=120, referrals=300, days=200, chunk=200))
    with UnitOfWork(store.db, write=False) as read:  # referred sales whose reward was released as a voucher
        sales = list(read.session.scalars(
            sa.select(Redemption.sale_id).join(Reward, Reward.redemption_id == Redemption.id)
            .join(Code, Code.code == Reward.voucher_code)
            .where(Reward.status == "released", Code.redeemed_at.is_(None),
                   Code.expires_at > clock() + timedelta(days=5))
            .order_by(Redemption.sale_id).limit(3)))
    assert len(sales) == 3
    clock.advance(days=3)
    for sale in sales:  # refunded after release: the reward is clawed back and its voucher revoked
        assert refund_sale(store.ctx, sale, None)["referrer_reward"] == {"status": "clawed_back"}
    clock.advance(days=40)  # some vouchers expire meanwhile


def _ledger_sum(store: Store, entry: str, start: object, end: object) -> int:
    with UnitOfWork(store.db, write=False) as read:
        return int(read.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(LedgerEntry.amount_minor), 0)).where(
            LedgerEntry.entry == entry, LedgerEntry.at >= start, LedgerEntry.at < end)) or 0)


def test_each_period_reconciles_and_the_end_is_the_dashboards_liability(store: Store, clock: FakeClock) -> None:
    _history(store, clock)
    today = clock().astimezone(store.ctx.tz).date()
    rng = parse_range((today - timedelta(days=260)).isoformat(), today.isoformat(), store.ctx.tz, clock())
    books = build_books(store.ctx, rng, "month")
    assert len(books.periods) >= 9
    for before, after in zip(books.periods, books.periods[1:], strict=False):
        assert before.end == after.start and (before.closing.n, before.closing.minor) == (
            after.opening.n, after.opening.minor)
    for period in [*books.periods, books.total]:
        assert period.reconciles(), figures(period)
    total = books.total
    f = figures(total)
    assert f["opening"] == (0, 0)  # the range starts before the demo's history
    for flow in ("earned", "released", "redeemed", "expired", "voided", "clawed_back"):
        assert f[flow][0] > 0, flow  # every kind of movement happened
    assert f["clawed_back"][0] == 3  # an open voucher clawed back leaves the liability (an expired one had left)

    # the dashboard, for the same range and moment
    rep = build_report(store.ctx, rng)
    k = rep.kpis
    assert f["closing"][1] == k["liability_minor"]
    assert f["closing_pending"] == (k["pending_rewards"], k["pending_minor"])
    assert f["closing_vouchers"] == (k["open_vouchers"], k["open_vouchers_minor"])
    assert f["voucher_discounts_minor"] == k["vouchers_redeemed_minor"]
    funnel = {row["step"]: row["count"] for row in rep.tables["activity"]}  # events in the period
    assert f["released"][0] == funnel["Rewards released"]  # the demo program has no milestones
    assert f["redeemed"][0] == funnel["Rewards redeemed"]

    # the ledger table: every earned, voided, clawed-back and released amount has its row
    start, end = total.start, total.end
    assert f["earned"][1] == _ledger_sum(store, "referrer_reward_pending", start, end)
    assert f["voided"][1] == -_ledger_sum(store, "referrer_reward_voided", start, end)
    assert f["clawed_back"][1] == -_ledger_sum(store, "clawback", start, end)
    assert f["released"][1] == _ledger_sum(store, "referrer_reward_released", start, end)


def test_daily_rows_add_up_to_the_monthly_ones(store: Store, clock: FakeClock) -> None:
    _history(store, clock)
    today = clock().astimezone(store.ctx.tz).date()
    rng = parse_range((today - timedelta(days=90)).isoformat(), today.isoformat(), store.ctx.tz, clock())
    days, months = build_books(store.ctx, rng, "day"), build_books(store.ctx, rng, "month")
    assert len(days.periods) == 91
    assert all(p.reconciles() for p in days.periods)
    assert figures(days.total) | {"label": ""} == figures(months.total) | {"label": ""}


def test_the_ledger_command_writes_csv_with_the_currency(config_path: Path, store: Store, clock: FakeClock) -> None:
    generate(store.ctx, DemoPlan(customers=40, referrals=80, days=60, chunk=100))
    today = clock().astimezone(store.ctx.tz).date()
    first = (today - timedelta(days=70)).isoformat()
    result = CliRunner().invoke(main, ["--config", str(config_path), "--data-dir", str(store.settings.data_dir),
                                       "report", "ledger", "--from", first, "--to", today.isoformat(),
                                       "--period", "month", "--format", "csv"])
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.output)))
    header, body = rows[0], rows[1:]
    assert header[:4] == ["Period", "From", "Until", "Currency"]
    assert "Earned (EUR)" in header and "Outstanding at end (EUR)" in header
    assert body[-1][0] == "total" and all(r[3] == "EUR" for r in body)
    col = {name: i for i, name in enumerate(header)}
    total = body[-1]

    def money(name: str) -> int:
        whole, _, cents = total[col[name]].partition(".")
        assert len(cents) == 2  # plain decimals, two places
        return int(whole) * 100 + int(cents) * (1 if not whole.startswith("-") else -1)

    exits = sum(money(f"{f.replace('_', ' ').capitalize()} (EUR)") for f in EXITS)
    assert money("Outstanding at start (EUR)") + money("Earned (EUR)") - exits == money("Outstanding at end (EUR)")
    assert len(FLOWS) == 8
    rep = build_report(store.ctx, parse_range(first, today.isoformat(), store.ctx.tz, clock()), parts=["kpis"])
    assert money("Outstanding at end (EUR)") == rep.kpis["liability_minor"]


def test_a_state_recorded_with_a_later_time_counts_as_of_now(store: Store, clock: FakeClock) -> None:
    """The demo writes refunds' voids up to a hold period ahead of its clock (as another store's clock ahead
    of ours would): the books read them as happened by now, as the dashboard's reward states do."""
    generate(store.ctx, DemoPlan(customers=60, referrals=400, days=30, chunk=200))
    with UnitOfWork(store.db, write=False) as read:
        ahead = read.session.scalar(sa.select(sa.func.count()).select_from(LedgerEntry).where(
            LedgerEntry.entry == "referrer_reward_voided", LedgerEntry.at > clock()))
    assert ahead  # the case this test is about
    today = clock().astimezone(store.ctx.tz).date()
    rng = parse_range((today - timedelta(days=40)).isoformat(), today.isoformat(), store.ctx.tz, clock())
    total = figures(build_books(store.ctx, rng, "day").total)
    k = build_report(store.ctx, rng, parts=["kpis"]).kpis
    assert total["closing_pending"] == (k["pending_rewards"], k["pending_minor"])
    assert total["closing"][1] == k["liability_minor"]
