"""Report invariants over generated shop histories (hypothesis).

A history is a random sequence of issue / landing visit / quote / redeem / refund / release / voucher use /
time passing (rewards and vouchers expire), played through the API and the services on a real SQLite store.
Whatever the sequence, for the whole history and for its first two weeks:
- the funnel's steps never increase, and a step's "reached by any path" is at least its nested count;
- reward cost reconciles with the ledger (friend discounts on purchases not refunded in full plus
  voucher_redeemed entries in the period);
- the A/B rows sum to the totals (codes, converted codes, acquired friends, reward cost);
- the rollup and the raw rows give the same report.
"""

from __future__ import annotations

import shutil
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pos_referral import create_app
from pos_referral.bootstrap import build_store
from pos_referral.config import load_settings
from pos_referral.db.base import UTCDateTime
from pos_referral.services.reports.dashboard import build_report, to_json
from pos_referral.services.reports.date_range import parse_range
from pos_referral.services.rewards import release_due_rewards
from pos_referral.services.tills import add_till
from tests.conftest import Api, FakeClock
from tests.integration.test_reports_analysis import VARIANTS

ACTIONS = ("issue", "visit", "quote", "redeem", "redeem", "refund", "advance", "release", "use", "expire")
STEPS = st.lists(st.tuples(st.sampled_from(ACTIONS), st.integers(0, 9999)), min_size=4, max_size=40)


class Shop:
    """One generated history's shop: the store, a till's API and what the test remembers of it."""

    def __init__(self, folder: Path, config_path: Path, translations: Path) -> None:
        shutil.copytree(translations, folder / "data" / "i18n")
        self.clock = FakeClock(datetime(2026, 6, 1, 9, 0, tzinfo=UTC))
        self.store = build_store(load_settings(config_path, data_dir=folder / "data", environ={}), clock=self.clock)
        app = create_app(store=self.store, test_config={"TESTING": True})
        self.client = app.test_client()
        self.api = Api(self.client, add_till(self.store.ctx, "T1"))
        self.codes: list[str] = []
        self.phones: dict[str, str] = {}  # customer id -> phone
        self.sales: list[str] = []
        self.n = 0

    def play(self, action: str, k: int) -> None:
        self.n += 1
        code = self.codes[k % len(self.codes)] if self.codes else None
        if action == "issue" or code is None:
            phone = f"+47910{k:05d}"
            body = self.api.issue(phone, "R")
            self.codes.append(body["code"])
            self.phones[body["customer_id"]] = phone
        elif action == "visit":
            self.client.get(f"/r/{code}")
        elif action == "quote":
            self.api.post("/api/v1/checkouts/quote", {"code": code, "basket_total": "40.00",
                                                      "customer": {"phone": f"+47920{k:05d}"}})
        elif action == "redeem":
            sale = f"S{self.n}"
            status, _ = self.api.redeem(code, sale, f"{20 + k % 200}.00", phone=f"+47920{k:05d}")
            if status == 201:
                self.sales.append(sale)
        elif action == "refund" and self.sales:
            self.api.post(f"/api/v1/sales/{self.sales[k % len(self.sales)]}/refund", {})
        elif action == "advance":
            self.clock.advance(days=k % 10 + 1, hours=k % 7)
        elif action == "release":
            release_due_rewards(self.store.ctx)
        elif action == "use":
            self._use_voucher(k)
        elif action == "expire":
            self.clock.advance(days=95)

    def _use_voucher(self, k: int) -> None:
        with self.store.db.read_engine.connect() as conn:
            found = conn.execute(sa.text(
                "SELECT c.code, r.customer_id FROM codes c JOIN rewards r ON r.id = c.reward_id WHERE c.kind = "
                "'voucher' AND c.redeemed_at IS NULL AND c.revoked_at IS NULL ORDER BY c.code LIMIT 1")).first()
        if found is None or found[1] not in self.phones:
            return
        self.api.post(f"/api/v1/vouchers/{found[0]}/redeem",
                      {"sale_id": f"V{self.n}", "basket_total": f"{60 + k % 100}.00",
                       "customer": {"phone": self.phones[found[1]]}}, **{"Idempotency-Key": f"kv-{self.n}"})


def _ledger_cost(shop: Shop, start: datetime, end: datetime) -> int:
    with shop.store.db.read_engine.connect() as conn:
        return int(conn.execute(sa.text(
            "SELECT COALESCE(SUM(l.amount_minor), 0) FROM ledger l LEFT JOIN redemptions r ON r.id = l.redemption_id "
            "WHERE l.at >= :s AND l.at < :e AND ((l.entry = 'friend_discount' AND r.basket_minor > r.refunded_minor)"
            " OR l.entry = 'voucher_redeemed')").bindparams(sa.bindparam("s", type_=UTCDateTime()),
                                                           sa.bindparam("e", type_=UTCDateTime())),
            {"s": start, "e": end}).scalar() or 0)


def check(shop: Shop, first: str, last: str | None) -> None:
    ctx = shop.store.ctx
    rng = parse_range(first, last, ctx.tz, ctx.clock())
    rep = build_report(ctx, rng, limit=None)
    funnel = rep.tables["funnel"]
    counts = [row["count"] for row in funnel]
    assert counts == sorted(counts, reverse=True), funnel
    assert all(row["reached"] >= row["count"] and row["reached"] <= counts[0] for row in funnel), funnel
    assert all(row["conversion"] is None or 0 <= row["conversion"] <= 1 for row in funnel)
    assert rep.kpis["reward_cost_minor"] == _ledger_cost(shop, rng.start, rng.end)
    ab: list[dict[str, Any]] = rep.tables["ab"]
    assert sum(r["codes_issued"] for r in ab) == counts[0]
    assert sum(r["codes_converted"] for r in ab) == rep.kpis["codes_converted"]
    assert sum(r["friends_acquired"] for r in ab) == rep.kpis["acquired_customers"]
    assert sum(r["reward_cost_minor"] for r in ab) == rep.kpis["reward_cost_minor"]
    rolled, raw = to_json(rep), to_json(build_report(ctx, rng, limit=None, raw=True))
    for name in rolled["tables"]:
        assert rolled["tables"][name] == raw["tables"][name], name


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(steps=STEPS)
def test_report_invariants_hold_over_any_history(config_path: Path, compiled_translations: Path,
                                                 steps: list[tuple[str, int]]) -> None:
    program = config_path.parent / "programs" / "bring-a-friend.toml"
    text = program.read_text()
    if "[[variants]]" not in text:
        program.write_text(text.replace("[cap]\n", VARIANTS, 1))
    with tempfile.TemporaryDirectory() as folder:
        shop = Shop(Path(folder), config_path, compiled_translations)
        try:
            for action, k in steps:
                shop.play(action, k)
            check(shop, "2026-06-01", None)
            check(shop, "2026-06-01", (datetime(2026, 6, 1) + timedelta(days=13)).date().isoformat())
        finally:
            shop.store.close()
