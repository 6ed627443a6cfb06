"""Privacy requests at a store: ``customer export`` gives everything held, ``customer forget`` erases the
name and contact data and keeps the anonymised books; both audited without the personal data."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from click.testing import CliRunner

from pos_referral.bootstrap import Store
from pos_referral.cli import main
from pos_referral.db.models import AuditEntry, Customer, LedgerEntry, OutboxEvent, PrintJob
from pos_referral.db.models_promo import MailContact, MailMessage
from pos_referral.services.customers import CustomerInput
from pos_referral.services.landing_page import count_visit
from pos_referral.services.mail.contacts import subscribe_customer
from pos_referral.services.mail.outbox import queue_mail
from pos_referral.services.privacy.requests import export_customer, forget_customer
from pos_referral.services.reports.books import build_books, figures
from pos_referral.services.reports.date_range import parse_range
from pos_referral.services.rewards import release_due_rewards
from pos_referral.services.sales import SaleSeen, record_sale
from pos_referral.services.unit_of_work import UnitOfWork
from tests.conftest import Api, FakeClock

ANN_PHONE = "+4791110001"


def ann_everywhere(store: Store, api: Api, clock: FakeClock) -> dict[str, Any]:
    """Ann: a friend of Zed's (her footer prints her name), then a referrer of Bo (a reward, then a voucher),
    with landing visits, a mail contact and a mail, and a sale she gave her phone for."""
    zed = api.issue("+4791110009", first_name="Zed")
    status, body = api.redeem(zed["code"], "S-1", phone=ANN_PHONE, first_name="Ann")
    assert status == 201, body
    ann_id, ann_code = body["customer_id"], body["friend_code"]["code"]
    status, body = api.redeem(ann_code, "S-2", phone="+4791110002", first_name="Bo")
    assert status == 201, body
    count_visit(store.ctx, ann_code, "en")
    subscribe_customer(store.ctx, ann_id, "ann@example.com", "en", source="till")
    with UnitOfWork(store.db, write=True) as uow:
        queue_mail(uow.session, kind="friend_used", customer_id=ann_id, language="en",
                   context={"first_name": "Ann", "code": ann_code}, now=clock())
        uow.commit()
    record_sale(store.ctx, SaleSeen("S-3", 1200, "api", customer=CustomerInput.parse({"phone": ANN_PHONE})))
    clock.advance(days=15)
    assert release_due_rewards(store.ctx).released == 2  # Zed's and Ann's
    return {"id": ann_id, "code": ann_code}


def rows(store: Store, stmt: Any) -> list[Any]:
    with UnitOfWork(store.db, write=False) as read:
        return list(read.session.execute(stmt).all())


def test_export_holds_everything_and_forget_erases_the_person_but_not_the_books(
        store: Store, api: Api, clock: FakeClock) -> None:
    ann = ann_everywhere(store, api, clock)
    doc = export_customer(store.ctx, ANN_PHONE, "manager Mia")
    assert doc is not None and doc["customer_ids"] == [ann["id"]]
    assert doc["customers"][0]["first_name"] == "Ann" and doc["customers"][0]["identity_hint"]
    for section in ("referral_codes", "vouchers", "referrals_as_referrer", "referrals_as_friend", "rewards",
                    "ledger", "landing_visits", "mail_contact", "mails", "sales", "print_jobs", "sync_events"):
        assert doc[section], section
    assert doc["mail_contact"][0]["email"] == "ann@example.com"
    assert json.loads(json.dumps(doc)) == doc  # plain JSON
    assert export_customer(store.ctx, "ann@example.com", "manager Mia")["customer_ids"] == [ann["id"]]

    today = clock().astimezone(store.ctx.tz).date().isoformat()
    rng = parse_range(None, today, store.ctx.tz, clock())
    books_before = figures(build_books(store.ctx, rng).total)
    ledger_before = rows(store, sa.select(LedgerEntry.entry, LedgerEntry.amount_minor).order_by(LedgerEntry.id))

    assert b"Ann" in api.client.get(f"/r/{ann['code']}").data  # the landing page names her, until...
    result = forget_customer(store.ctx, "ann@example.com", "manager Mia")
    assert result.customer_ids == [ann["id"]] and result.newly_forgotten == 1

    (row,) = rows(store, sa.select(Customer).where(Customer.id == ann["id"]))
    c = row[0]
    assert (c.identity_hash, c.identity_hint, c.first_name, c.language) == (None, "", "", "")
    assert c.forgotten_at is not None
    assert rows(store, sa.select(MailContact)) == []
    mails = rows(store, sa.select(MailMessage.status, MailMessage.context))
    assert mails and all(status == "cancelled" and ctx_["first_name"] == "" for status, ctx_ in mails)
    jobs = [ctx_ for (ctx_,) in rows(store, sa.select(PrintJob.context))]
    assert all(j.get("first_name") != "Ann" for j in jobs) and any(j.get("code") == ann["code"] for j in jobs)
    events = [p for (t, p) in rows(store, sa.select(OutboxEvent.type, OutboxEvent.payload))]
    assert all("Ann" not in json.dumps(p) for p in events)
    issued = [p for (t, p) in rows(store, sa.select(OutboxEvent.type, OutboxEvent.payload)) if t == "code_issued"
              and p["customer_id"] == ann["id"]]
    assert issued and all("identity_hash" not in p for p in issued)
    forgotten = [p for (t, p) in rows(store, sa.select(OutboxEvent.type, OutboxEvent.payload))
                 if t == "customer_forgotten"]
    assert forgotten == [{"customer_ids": [ann["id"]], "at": clock().isoformat()}]

    # the books are untouched: same ledger, same liability; her voucher is still good (bearer value)
    assert rows(store, sa.select(LedgerEntry.entry, LedgerEntry.amount_minor).order_by(LedgerEntry.id)) \
        == ledger_before
    assert figures(build_books(store.ctx, rng).total) == books_before
    voucher = doc["vouchers"][0]["code"]
    assert api.quote(voucher)["eligible"] is True
    # her referral code still works (cards in circulation) but names nobody; her phone no longer finds her
    assert api.quote(ann["code"], phone="+4791110077")["eligible"] is True
    assert b"Ann" not in api.client.get(f"/r/{ann['code']}").data
    assert export_customer(store.ctx, ANN_PHONE, "manager Mia") is None

    again = forget_customer(store.ctx, ann["id"], "manager Mia")  # repeated: harmless, not sent twice
    assert again.newly_forgotten == 0
    assert len([t for (t, _) in rows(store, sa.select(OutboxEvent.type, OutboxEvent.payload))
                if t == "customer_forgotten"]) == 1

    audit = rows(store, sa.select(AuditEntry.actor, AuditEntry.action, AuditEntry.detail).order_by(AuditEntry.id))
    mine = [a for a in audit if a[1] in ("customer_export", "customer_forget")]
    assert [a[1] for a in mine] == ["customer_export", "customer_export", "customer_forget", "customer_forget"]
    for _, _, detail in mine:
        assert ann["id"] in detail
        for personal in ("Ann", "ann@example.com", ANN_PHONE, "911", "***"):
            assert personal not in detail


def test_cli_export_writes_a_private_file_and_forget_asks_first(config_path: Path, store: Store, api: Api,
                                                                clock: FakeClock, tmp_path: Path) -> None:
    ann = ann_everywhere(store, api, clock)
    base = ["--config", str(config_path), "--data-dir", str(store.settings.data_dir), "customer"]
    out = tmp_path / "ann.json"
    result = CliRunner().invoke(main, [*base, "export", ANN_PHONE, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert json.loads(out.read_text())["customer_ids"] == [ann["id"]]
    printed = CliRunner().invoke(main, [*base, "export", ann["id"]])
    assert printed.exit_code == 0 and json.loads(printed.output)["customers"][0]["first_name"] == "Ann"

    refused = CliRunner().invoke(main, [*base, "forget", ann["id"]], input="n\n")
    assert refused.exit_code != 0
    assert rows(store, sa.select(Customer.first_name).where(Customer.id == ann["id"])) == [("Ann",)]
    done = CliRunner().invoke(main, [*base, "forget", ann["id"]], input="y\n")
    assert done.exit_code == 0, done.output
    assert f"forgot customer {ann['id']}" in done.output
    assert rows(store, sa.select(Customer.first_name).where(Customer.id == ann["id"])) == [("",)]
    unknown = CliRunner().invoke(main, [*base, "export", "+4799999990"])
    assert unknown.exit_code == 1 and "no customer found" in unknown.output
    bad = CliRunner().invoke(main, [*base, "forget", "not a phone", "--yes"])
    assert bad.exit_code == 2 and "not a customer id" in bad.output
