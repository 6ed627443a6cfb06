"""The honest funnel and A/B codes from the per-code milestones equal the raw rows, caught up in steps.

Steps reached after the code was issued (a visit, a quote, a purchase, a reward released later, its
voucher used, a refund voiding a pending reward or clawing back a released one) each move the
summary; every range is compared both ways: one ending today (read from the day counts) and ones
ending in the past (read from the per-code rows).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from pos_referral.db.models_milestones import ReportCodeDay, ReportCodeMilestone
from pos_referral.services.reports import cohort
from pos_referral.services.reports.ambassadors import ambassadors
from pos_referral.services.reports.dashboard import build_report
from pos_referral.services.reports.date_range import parse_range
from pos_referral.services.reports.rollup import ambassadors as kept
from pos_referral.services.reports.rollup import milestones, variants
from pos_referral.services.rewards import release_due_rewards
from tests.conftest import FakeClock
from tests.integration.test_reports_analysis import VARIANTS
from tests.integration.test_reports_numbers import quote, redeem

RANGES = [(None, None), ("2026-06-01", "2026-06-15"), ("2026-06-15", "2026-06-15"), ("2026-06-16", "2026-06-20"),
          ("2026-05-01", "2026-07-31"), ("2026-06-14", "2026-07-02"),
          ("2026-06-15", "2026-06-17")]


def assert_same(shop: Any) -> dict[str, Any]:
    """Every range: the funnel and A/B tables from the summaries equal those from the raw rows."""
    ctx = shop.store.ctx
    found: dict[str, Any] = {}
    for first, last in RANGES:
        rng = parse_range(first, last, ctx.tz, ctx.clock())
        rolled, raw = (build_report(ctx, rng, parts=["funnel", "ab"], limit=None, raw=r) for r in (False, True))
        for name in ("funnel", "ab", "ab_verdicts"):
            assert rolled.tables[name] == raw.tables[name], (first, last, name)
        found[f"{first}..{last}"] = rolled.tables
    return found


def steps(tables: dict[str, Any]) -> list[int]:
    return [row["count"] for row in tables["funnel"]]


def test_milestones_equal_the_raw_funnel_and_ab_through_a_history(edited_shop: Any, clock: FakeClock) -> None:
    shop = edited_shop({"[cap]\n": VARIANTS}, clock_=clock)
    api, client = shop.api, shop.app.test_client()
    issued = [api.issue(f"+479100{i:04d}", f"R{i}") for i in range(8)]
    codes = [c["code"] for c in issued]
    first = assert_same(shop)  # the first catch-up builds the summaries from scratch
    assert steps(first["None..None"])[:2] == [8, 0]
    clock.advance(days=1)  # 16 June: visits and quotes come after the codes were issued
    for code in codes[:5]:
        assert client.get(f"/r/{code}").status_code == 200
    for i, code in enumerate(codes[:4]):
        quote(api, code, f"+479200{i:04d}")
    quote(api, codes[6], "+4792009999")  # quoted without a visit: reached by another path
    assert_same(shop)
    clock.advance(days=1)  # 17 June: friends buy (their own codes join the next cohorts)
    for i, code in enumerate(codes[:3]):
        redeem(api, code, f"S{i}", f"+479200{i:04d}", "60.00")
    redeem(api, codes[6], "S6", "+4792009999", "40.00")
    assert api.post("/api/v1/sales/S2/refund", {})[0] == 200  # in full while pending: its reward is voided
    now = assert_same(shop)["None..None"]
    assert steps(now)[3] == 3 and now["funnel"][3]["reached"] == 4
    clock.advance(days=15)  # 2 July: the rewards past the hold are released, one voucher used
    assert release_due_rewards(shop.store.ctx).released >= 2
    assert_same(shop)
    ctx = shop.store.ctx
    status, rewards = api.get(f"/api/v1/customers/{issued[0]['customer_id']}/rewards")
    voucher = next(r["voucher_code"] for r in rewards["rewards"] if r["voucher_code"])
    status, body = api.post(f"/api/v1/vouchers/{voucher}/redeem", {
        "sale_id": "V1", "basket_total": "90.00", "customer": {"phone": "+4791000000"}}, **{"Idempotency-Key": "V1"})
    assert status == 201, body
    assert api.post("/api/v1/sales/S1/refund", {})[0] == 200  # after the release: the reward is clawed back
    later = assert_same(shop)
    # 8 codes and the 4 friends' own; code 2's reward voided while pending, code 1's clawed back after release
    assert steps(later["None..None"]) == [12, 5, 4, 3, 2, 1]
    assert [r["reached"] for r in later["None..None"]["funnel"]] == [12, 5, 5, 4, 3, 1]
    assert steps(later["2026-06-15..2026-06-17"]) == [12, 5, 4, 3, 0, 0]  # ends before the releases
    assert steps(later["2026-06-01..2026-06-15"]) == [8, 0, 0, 0, 0, 0]  # ends before the first visit
    with ctx.db.read_engine.connect() as conn:
        kept = conn.execute(sa.select(sa.func.count()).select_from(ReportCodeMilestone)).scalar()
        days = conn.execute(sa.select(sa.func.sum(ReportCodeDay.n))).scalar()
        assert kept == days == conn.execute(sa.text("SELECT COUNT(*) FROM codes WHERE kind = 'referral'")).scalar()
        # the same funnel straight from the raw query (no summary involved)
        today = parse_range(None, None, ctx.tz, ctx.clock())
        assert milestones.usable(conn, today) and variants.usable(conn, today)  # the summaries were read
        rng = parse_range("2026-06-15", "2026-06-17", ctx.tz, ctx.clock())
        conn.info["pos_referral.reports_raw"] = True
        assert steps({"funnel": cohort.cohort_funnel(conn, rng)}) == [12, 5, 4, 3, 0, 0]


def test_kept_ambassadors_equal_the_raw_rewards_through_releases_and_a_clawback(edited_shop: Any,
                                                                                clock: FakeClock) -> None:
    shop = edited_shop({"referrals = 5": "referrals = 2"}, clock_=clock)
    api, ctx = shop.api, shop.store.ctx

    def both(first: str | None = None, last: str | None = None) -> list[tuple[str, int, int]]:
        rng = parse_range(first, last, ctx.tz, ctx.clock())
        rolled, raw = (build_report(ctx, rng, parts=["ambassadors"], limit=None, raw=r).tables["ambassadors"]
                       for r in (False, True))
        assert rolled == raw, (first, last)
        return [(r["first_name"], r["successful_referrals"], r["rewards_released_minor"]) for r in rolled]

    ann, bob = api.issue("+4791111111", "Ann"), api.issue("+4792222222", "Bob")
    for i in range(3):
        redeem(api, ann["code"], f"A{i}", f"+479300{i:04d}", "50.00")
    for i in range(2):
        redeem(api, bob["code"], f"B{i}", f"+479310{i:04d}", "50.00")
    assert both() == []  # pending: nobody is an ambassador yet
    clock.advance(days=15)
    release_due_rewards(ctx)
    assert both() == [("Ann", 3, 3000), ("Bob", 2, 2000)]
    assert both("2026-06-01", "2026-06-20") == []  # ended before the releases: read from the raw rows
    assert api.post("/api/v1/sales/B1/refund", {})[0] == 200  # after the release: clawed back
    assert both() == [("Ann", 3, 3000)]
    redeem(api, bob["code"], "B2", "+4793102222", "50.00")
    redeem(api, bob["code"], "B3", "+4793103333", "50.00")
    clock.advance(days=15)
    release_due_rewards(ctx)
    assert both() == [("Bob", 3, 3000), ("Ann", 3, 3000)]  # tied: Bob brought more friends (4 to 3)
    rng = parse_range(None, None, ctx.tz, ctx.clock())
    with ctx.db.read_engine.connect() as conn:
        assert kept.usable(conn, rng)
        whole = ambassadors(conn, rng, ctx.settings.programs, None)
        assert ambassadors(conn, rng, ctx.settings.programs, 1) == whole[:1] and whole[0]["first_name"] == "Bob"
