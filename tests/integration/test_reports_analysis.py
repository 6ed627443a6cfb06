"""A/B results, budget warnings (page and mail) and ambassadors, each against the raw rows."""

from __future__ import annotations

import re
from email.message import EmailMessage
from typing import Any

import sqlalchemy as sa

from pos_referral.domain import stats
from pos_referral.services import staff
from pos_referral.services.mail.worker import MailWorker
from pos_referral.services.reports.budget import plan_budget_mails
from pos_referral.services.reports.dashboard import build_report, to_csv, to_json
from pos_referral.services.reports.date_range import parse_range
from pos_referral.services.rewards import release_due_rewards
from tests.conftest import FakeClock

VARIANTS = """[[variants]]
name = "A"
weight = 1
friend_reward = { type = "percent_off", percent = "10", description = "10% off" }

[[variants]]
name = "B"
weight = 1
friend_reward = { type = "amount_off", amount = "8.00", description = "8.00 off" }

[cap]
"""
MAIL = {"mail": {"enabled": True, "host": "localhost", "sender": "shop@example.com",
                 "manager_addresses": ["boss@example.com", "owner@example.com"]}}


class Outbox:
    """The SMTP side recorded (a real SMTP server is tested in test_mail_smtp.py)."""

    def __init__(self) -> None:
        self.sent: list[EmailMessage] = []

    def send(self, message: EmailMessage) -> None:
        self.sent.append(message)


def _report(shop: Any, parts: list[str] | None = None) -> Any:
    ctx = shop.store.ctx
    return build_report(ctx, parse_range(None, None, ctx.tz, ctx.clock()), parts=parts, limit=None)


def test_ab_results_per_variant_against_the_raw_rows(edited_shop: Any) -> None:
    shop = edited_shop({"[cap]\n": VARIANTS})
    codes = [shop.api.issue(f"+479100{i:04d}", f"R{i}")["code"] for i in range(16)]
    for i, code in enumerate(codes[:7]):
        assert shop.api.redeem(code, f"S{i}", "60.00", phone=f"+479200{i:04d}")[0] == 201
    assert shop.api.post("/api/v1/sales/S0/refund", {})[0] == 200  # refunded in full: not acquired
    rep = _report(shop)
    with shop.store.db.read_engine.connect() as conn:
        raw_codes = dict(conn.execute(sa.text(
            "SELECT variant, COUNT(*) FROM codes WHERE kind = 'referral' GROUP BY variant")).all())
        raw_converted = dict(conn.execute(sa.text(
            "SELECT c.variant, COUNT(*) FROM codes c WHERE c.kind = 'referral' AND EXISTS "
            "(SELECT 1 FROM redemptions r WHERE r.code = c.code) GROUP BY c.variant")).all())
        raw_acquired = {v: (n, d) for v, n, d in conn.execute(sa.text(
            "SELECT variant, COUNT(*), SUM(discount_minor) FROM redemptions "
            "WHERE basket_minor > refunded_minor GROUP BY variant")).all()}
    rows = {r["variant"]: r for r in rep.tables["ab"]}
    assert set(rows) == {"A", "B"} and set(raw_codes) == {"A", "B"}  # the friends' own codes have variants too
    for v, row in rows.items():
        assert row["codes_issued"] == raw_codes[v]
        assert row["codes_converted"] == raw_converted.get(v, 0)
        assert row["friends_acquired"] == raw_acquired.get(v, (0, 0))[0]
        assert row["reward_cost_minor"] == (raw_acquired.get(v, (0, 0))[1] or 0)
        assert (row["conversion_low"], row["conversion_high"]) == stats.wilson(row["codes_converted"],
                                                                               row["codes_issued"])
    kpis = rep.kpis
    assert sum(r["codes_issued"] for r in rows.values()) == rep.tables["funnel"][0]["count"]
    assert sum(r["codes_converted"] for r in rows.values()) == kpis["codes_converted"]
    assert sum(r["friends_acquired"] for r in rows.values()) == kpis["acquired_customers"] == 6
    assert sum(r["reward_cost_minor"] for r in rows.values()) == kpis["reward_cost_minor"]
    verdict = rep.tables["ab_verdicts"][0]
    assert verdict["test"] == "Fisher exact test" and verdict["verdict"].startswith("not enough data yet")
    assert "more referral codes needed" in verdict["verdict"] or "no difference" in verdict["verdict"]
    body = to_json(rep)["tables"]
    assert {r["variant"] for r in body["ab"]} == {"A", "B"} and isinstance(body["ab"][0]["codes_issued"], int)
    assert isinstance(body["ab"][0]["reward_cost"], str) and "reward_cost_minor" not in body["ab"][0]
    csv_text = "".join(to_csv(rep, "ab"))
    assert csv_text.splitlines()[0].startswith("Program,Variant,Codes issued") and "Reward cost (EUR)" in csv_text


def test_budget_warnings_show_and_mail_each_threshold_once(edited_shop: Any, clock: FakeClock) -> None:
    shop = edited_shop({'budget_per_month = "500.00"': 'budget_per_month = "24.00"'}, overrides=MAIL)
    ctx = shop.store.ctx
    codes = [shop.api.issue(f"+479100{i:04d}", f"R{i}")["code"] for i in range(6)]
    for i in range(3):  # 3 x 5.00 = 15.00 of 24.00: 62 %, no warning
        assert shop.api.redeem(codes[i], f"S{i}", "50.00", phone=f"+479200{i:04d}")[0] == 201
    assert _report(shop, ["goals", "budget"]).tables["budget"] == []
    assert plan_budget_mails(ctx) == 0
    assert shop.api.redeem(codes[3], "S3", "50.00", phone="+4792000003")[0] == 201  # 20.00: 83 %
    warned = _report(shop, ["goals", "budget"]).tables["budget"]
    assert [(w["level"], w["spent_minor"], w["budget_minor"]) for w in warned] == [("80 %", 2000, 2400)]
    assert plan_budget_mails(ctx) == 2 and plan_budget_mails(ctx) == 0  # one per manager, once
    outbox = Outbox()
    assert MailWorker(ctx, outbox).run_once().sent == 2
    assert {m["To"] for m in outbox.sent} == {"boss@example.com", "owner@example.com"}
    assert "reached 80 % of its budget for 2026-06" in str(outbox.sent[0]["Subject"])
    assert "20.00 of" in outbox.sent[0].get_content()
    assert shop.api.redeem(codes[4], "S4", "50.00", phone="+4792000004")[0] == 201  # 25.00: over budget
    MailWorker(ctx, outbox).run_once()
    MailWorker(ctx, outbox).run_once()
    assert len(outbox.sent) == 4 and all("used up" in str(m["Subject"]) for m in outbox.sent[2:])
    staff.add_staff(ctx, "Mia", "manager", password="a long password 1", pin="999999")
    client = shop.app.test_client()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/manager/login").get_data(as_text=True))
    assert token
    assert client.post("/manager/login", data={"name": "Mia", "password": "a long password 1",
                                               "csrf_token": token.group(1)}).status_code == 302
    page = client.get("/manager/").get_data(as_text=True)
    banner = page[page.index('id="budget-warnings"'):]
    assert "Bring a friend" in banner[:600] and "the budget is used up" in banner[:600]
    assert "Codes issued in the period that brought at least one friend" in page  # definitions are on the page
    clock.advance(days=20)  # July: a new budget period starts over
    assert plan_budget_mails(ctx) == 0


def test_ambassadors_list_the_status_with_friends_and_rewards(edited_shop: Any, clock: FakeClock) -> None:
    shop = edited_shop({"referrals = 5": "referrals = 2"})
    ann = shop.api.issue("+4791111111", "Ann")
    bob = shop.api.issue("+4792222222", "Bob")
    for i in range(3):
        assert shop.api.redeem(ann["code"], f"A{i}", "50.00", phone=f"+479300{i:04d}")[0] == 201
    assert shop.api.redeem(bob["code"], "B0", "50.00", phone="+4793100000")[0] == 201
    assert shop.api.post("/api/v1/sales/A2/refund", {})[0] == 200  # its reward is voided: not successful
    clock.advance(days=15)
    release_due_rewards(shop.store.ctx)
    rows = _report(shop, ["ambassadors"]).tables["ambassadors"]
    assert [(r["status"], r["first_name"], r["successful_referrals"], r["friends_brought"],
             r["rewards_released_minor"]) for r in rows] == [("Ambassador", "Ann", 2, 3, 2000)]
    with shop.store.db.read_engine.connect() as conn:
        released = conn.execute(sa.text(
            "SELECT COUNT(*), SUM(amount_minor) FROM rewards WHERE customer_id = :c AND source = 'referral' "
            "AND status = 'released'"), {"c": ann["customer_id"]}).one()
    assert tuple(released) == (2, 2000)
