"""``pos-referral demo`` writes a consistent history that the reports can read."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from pos_referral.bootstrap import Store
from pos_referral.cli import main
from pos_referral.db.models import Code, Counter, Redemption, Reward
from pos_referral.services import demo
from pos_referral.services.checkout import parse_code
from pos_referral.services.demo import DemoPlan, generate
from pos_referral.services.reports.dashboard import build_report
from pos_referral.services.reports.date_range import parse_range
from pos_referral.services.unit_of_work import UnitOfWork
from tests.conftest import Api


def test_demo_command_reports_what_it_wrote(config_path: Path, store: Store) -> None:
    result = CliRunner().invoke(main, ["--config", str(config_path), "--data-dir", str(store.settings.data_dir),
                                       "demo", "--customers", "30", "--referrals", "90", "--days", "60"])
    assert result.exit_code == 0, result.output
    assert "120 customers, 120 codes, 90 redemptions, 90 rewards" in result.output


@pytest.mark.slow
def test_demo_history_is_consistent_and_reported(store: Store) -> None:
    generate(store.ctx, DemoPlan(customers=300, referrals=900, days=120, chunk=250))
    with UnitOfWork(store.db, write=False) as uow:
        s = uow.session
        assert s.scalar(sa.select(sa.func.count()).select_from(Redemption)) == 900
        statuses = dict(s.execute(sa.select(Reward.status, sa.func.count()).group_by(Reward.status)).all())
        assert set(statuses) <= {"pending", "released", "voided"} and sum(statuses.values()) == 900
        codes = list(s.scalars(sa.select(Code.code).limit(50)))
    assert all(parse_code(store.ctx, code).code == code for code in codes)  # real, verifiable codes
    rng = parse_range("2026-02-15", "2026-06-15", store.ctx.tz, store.ctx.clock())
    rep = build_report(store.ctx, rng)
    funnel = {row["step"]: row["count"] for row in rep.tables["activity"]}  # events in the period
    assert funnel["Redemptions"] == 900 and funnel["Codes issued"] > 900
    assert rep.kpis["reward_cost_minor"] > 0 and rep.tables["top_referrers"]


@pytest.mark.slow
def test_the_till_keeps_issuing_codes_after_a_demo(config_path: Path, store: Store, api: Api) -> None:
    CliRunner().invoke(main, ["--config", str(config_path), "--data-dir", str(store.settings.data_dir),
                              "demo", "--customers", "50", "--referrals", "50", "--into-live-database", "--yes"])
    assert api.issue("+4799999999")["code"]  # the code counter moved past the demo's codes


def test_a_second_demo_carries_on_past_the_code_limit(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """Past 2^20 codes of a kind (here 2^6) the demo mints as other store numbers; a second run must not collide."""
    monkeypatch.setattr(demo, "SEQ_LIMIT", 64)
    plan = DemoPlan(customers=50, referrals=40, days=60, chunk=30)
    generate(store.ctx, plan)
    generate(store.ctx, plan)  # the same seed, as `pos-referral demo` run twice
    with UnitOfWork(store.db, write=False) as uow:
        s = uow.session
        assert s.scalar(sa.select(sa.func.count()).select_from(Redemption)) == 80
        assert s.scalar(sa.select(sa.func.count()).select_from(Code).where(Code.kind == "referral")) == 180
        till_counter = s.scalar(sa.select(Counter.value).where(Counter.name.startswith("referral:")))
    assert till_counter == 63  # the till's own counter stays at the limit (it refuses to mint past it)


def test_a_demo_carries_on_after_an_older_demo_that_kept_no_counter_of_its_own(
        store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """Databases made before the demo's own counter: the till's counter sits at the limit, nothing says how far."""
    monkeypatch.setattr(demo, "SEQ_LIMIT", 64)
    generate(store.ctx, DemoPlan(customers=50, referrals=40, days=60, chunk=30))
    with UnitOfWork(store.db, write=True) as uow:
        uow.session.execute(sa.delete(Counter).where(Counter.name.startswith("demo:")))
        uow.commit()
    generate(store.ctx, DemoPlan(customers=50, referrals=40, days=60, chunk=30))
    with UnitOfWork(store.db, write=False) as uow:
        assert uow.session.scalar(sa.select(sa.func.count()).select_from(Redemption)) == 80
