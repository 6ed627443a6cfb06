"""The cashier's story in a real browser: sign in, scan, see the answer, confirm, override."""

from __future__ import annotations

import re
from typing import Any

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from pos_referral.db.models import AuditEntry, PrintJob
from pos_referral.scanner.events import Scan
from pos_referral.scanner.serial_reader import SerialScanner
from pos_referral.services.unit_of_work import UnitOfWork
from tests.e2e.conftest import Screenshots, Shop, sign_in, wedge_scan

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_cashier_scans_a_friends_code_sees_the_discount_and_confirms(
    page: Any, shop: Shop, screenshots: Screenshots
) -> None:
    sign_in(page, shop)
    page.fill("#basket", "50.00")
    wedge_scan(page, shop.referrer_code)
    expect(page.locator("#answer")).to_have_class(re.compile(r"\bok\b"))
    expect(page.locator("#answer-big")).to_contain_text("5.00")
    page.fill("#customer", "+4798765432")
    page.fill("#first-name", "Ola")
    page.click("#confirm")
    expect(page.locator("#result")).to_contain_text("print job #")
    expect(page.locator("#result")).to_contain_text("Recorded")
    with UnitOfWork(shop.store.db, write=False) as uow:
        job = uow.session.scalar(sa.select(PrintJob).where(PrintJob.template == "referral_footer"))
    assert job is not None and job.context["first_name"] == "Ola"
    expect(page.locator("#code")).to_be_focused()
    page.fill("#basket", "50.00")
    wedge_scan(page, shop.referrer_code)
    expect(page.locator("#answer")).to_have_class(re.compile(r"\bok\b"))
    screenshots.save(page, "till.png")


def test_a_refused_code_shows_its_reason_in_words(page: Any, shop: Shop, screenshots: Screenshots) -> None:
    sign_in(page, shop)
    page.fill("#basket", "10.00")
    wedge_scan(page, shop.referrer_code)
    expect(page.locator("#answer")).to_have_class(re.compile(r"\brefused\b"))
    expect(page.locator("#answer-big")).to_have_text("The basket is below the minimum for this offer.")
    expect(page.locator("#confirm")).to_be_disabled()
    screenshots.save(page, "till-refused.png")
    typo = shop.referrer_code[:5] + ("A" if shop.referrer_code[5] != "A" else "B") + shop.referrer_code[6:]
    wedge_scan(page, typo)
    expect(page.locator("#answer-big")).to_have_text("This code has a typo. Please type it again or scan it.")
    expect(page.locator("#override")).to_be_disabled()


def test_keyboard_only_sale_with_function_keys(page: Any, shop: Shop) -> None:
    sign_in(page, shop)
    expect(page.locator("#code")).to_be_focused()
    page.keyboard.type(shop.referrer_code.lower())  # scanned before the total was typed
    page.keyboard.press("Enter")
    expect(page.locator("#answer-big")).to_have_text("Type the basket total first, then press Enter.")
    expect(page.locator("#basket")).to_be_focused()
    page.keyboard.type("80,00")  # a Norwegian or Polish cashier's comma
    page.keyboard.press("Tab")
    page.keyboard.type("friend@example.com")
    page.keyboard.press("Enter")
    expect(page.locator("#answer-big")).to_contain_text("8.00")
    expect(page.locator("#code")).to_be_focused()
    page.keyboard.press("F2")
    expect(page.locator("#result")).to_contain_text("Recorded: €8.00 off")
    page.keyboard.press("Escape")
    expect(page.locator("#result")).to_have_text("")


def test_manager_override_is_approved_by_pin_and_audited(page: Any, shop: Shop) -> None:
    sign_in(page, shop)
    page.fill("#basket", "15.00")
    wedge_scan(page, shop.referrer_code)
    expect(page.locator("#answer")).to_have_class(re.compile(r"\brefused\b"))
    page.keyboard.press("F4")
    expect(page.locator("#override-dialog")).to_be_visible()
    page.select_option("#ov-manager", "Mia")
    page.fill("#ov-pin", "0000")
    page.fill("#ov-note", "Regular customer, basket nearly at the minimum")
    page.click("#ov-approve")
    expect(page.locator("#ov-error")).to_have_text("That is not a manager's PIN.")
    page.fill("#ov-pin", "999999")
    page.keyboard.press("Enter")
    expect(page.locator("#result")).to_contain_text("Override approved by Mia")
    with UnitOfWork(shop.store.db, write=False) as uow:
        entries = list(uow.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "override")))
    assert len(entries) == 1 and "below_minimum" in entries[0].detail and entries[0].actor == "Mia"


def test_referral_card_for_the_customer_at_the_till(page: Any, shop: Shop) -> None:
    sign_in(page, shop)
    page.fill("#customer", "+4740000001")
    page.fill("#first-name", "Nora")
    page.keyboard.press("F6")
    expect(page.locator("#issue-result")).to_contain_text("Referral card queued")


def test_serial_scanner_scan_reaches_the_open_till_page(page: Any, shop: Shop, monkeypatch: Any) -> None:
    import serial

    sign_in(page, shop)
    page.fill("#basket", "50.00")
    port = serial.serial_for_url("loop://", timeout=0.05)
    reader = SerialScanner("loop://", lambda code: shop.store.scans.publish(Scan(code)), opener=lambda: port)
    # the page opens its event stream only when a serial scanner is configured
    page.evaluate("""() => { const es = new EventSource('/till/events');
        es.addEventListener('scan', e => { const c = document.getElementById('code');
          c.value = JSON.parse(e.data).code; c.dispatchEvent(new KeyboardEvent('keydown', {key: 'Enter'})); });
        window.__es = es; }""")
    page.wait_for_function("() => window.__es.readyState === 1")
    reader.start()
    try:
        port.write(shop.referrer_code.encode() + b"\r\n")
        expect(page.locator("#answer")).to_have_class(re.compile(r"\bok\b"))
        expect(page.locator("#answer-big")).to_contain_text("5.00")
    finally:
        reader.stop()


def table_counts(shop: Shop) -> dict[str, int]:
    """Rows in every table of the store's database (redemptions, print jobs, outbox, reports, ...)."""
    with UnitOfWork(shop.store.db, write=False) as uow:
        conn = uow.session.connection()
        names = sa.inspect(conn).get_table_names()
        return {name: int(conn.execute(sa.text(f'SELECT count(*) FROM "{name}"')).scalar_one()) for name in names}


def test_practice_mode_shows_every_outcome_and_writes_nothing(page: Any, shop: Shop, screenshots: Screenshots) -> None:
    sign_in(page, shop)
    before = table_counts(shop)
    page.click("#practice-toggle")
    expect(page.locator("#practice-banner")).to_be_visible()
    expect(page.locator("#practice-toggle")).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#practice-panel")).to_contain_text("DEMO-EXPIRED")
    page.fill("#basket", "50.00")
    wedge_scan(page, "demo-good")
    expect(page.locator("#answer")).to_have_class(re.compile(r"\bok\b"))
    expect(page.locator("#answer-big")).to_contain_text("5.00")
    expect(page.locator("#answer-say")).to_contain_text("Say to the customer: Your friend's code gives you €5.00 off")
    screenshots.save(page, "till-practice.png")
    page.fill("#customer", "+4798765432")
    page.keyboard.press("F2")
    expect(page.locator("#result")).to_contain_text("Practice: nothing was recorded, printed or counted.")
    for demo, words in (("DEMO-EXPIRED", "This code has expired."),
                        ("DEMO-SELF-REFERRAL", "Customers cannot use their own code."),
                        ("DEMO-ALREADY-REDEEMED", "This voucher has already been used.")):
        page.fill("#basket", "50.00")
        wedge_scan(page, demo)
        expect(page.locator("#answer-big")).to_have_text(words)
        expect(page.locator("#answer-say")).to_be_visible()
        expect(page.locator("#override")).to_be_disabled()
    page.click("button.demo[data-code=\"DEMO-VOUCHER\"]")
    expect(page.locator("#answer-big")).to_contain_text("€10.00")
    page.fill("#basket", "50.00")
    wedge_scan(page, shop.referrer_code)  # a real code gives nothing in practice
    expect(page.locator("#answer")).to_have_class(re.compile(r"\brefused\b"))
    expect(page.locator("#confirm")).to_be_disabled()
    page.fill("#customer", "+4740000009")
    page.keyboard.press("F6")  # a referral card in practice: nothing printed
    expect(page.locator("#issue-result")).to_have_text("Practice: nothing was recorded, printed or counted.")
    page.keyboard.press("F9")  # the after-sale prompt, practised
    page.click("#offer-yes")
    expect(page.locator("#result")).to_contain_text("Practice: nothing was recorded")
    assert table_counts(shop) == before  # not one row: redemptions, prints, outbox, reports, card offers
    page.click("#practice-toggle")
    expect(page.locator("#practice-banner")).to_be_hidden()
    page.fill("#basket", "50.00")
    wedge_scan(page, shop.referrer_code)
    expect(page.locator("#answer")).to_have_class(re.compile(r"\bok\b"))
    expect(page.locator("#answer-say")).to_be_hidden()


def test_after_a_sale_without_a_code_the_till_offers_a_card_once(page: Any, shop: Shop) -> None:
    from pos_referral.db.models_promo import CardOffer

    sign_in(page, shop)
    page.fill("#sale", "R-100")
    page.keyboard.press("F9")
    expect(page.locator("#offer-dialog")).to_be_visible()
    expect(page.locator("#offer-title")).to_have_text("Give this customer a referral card?")
    page.click("#offer-yes")
    expect(page.locator("#result")).to_contain_text("Type the customer's phone or email")
    expect(page.locator("#customer")).to_be_focused()
    page.keyboard.type("+4740000002")
    page.keyboard.press("F6")
    expect(page.locator("#issue-result")).to_contain_text("Referral card queued")
    page.fill("#sale", "R-100")
    page.keyboard.press("F9")  # the same sale again: asked once only
    expect(page.locator("#result")).to_have_text("A referral card was already offered for this sale.")
    expect(page.locator("#offer-dialog")).to_be_hidden()
    page.fill("#sale", "R-101")
    page.click("#sale-done")
    page.click("#offer-no")
    expect(page.locator("#result")).to_have_text("Noted: no card for this sale.")
    page.fill("#sale", "R-102")
    page.keyboard.press("F9")
    expect(page.locator("#offer-dialog")).to_be_visible()
    page.keyboard.press("Escape")  # closed without asking: counted as a prompt not offered
    expect(page.locator("#result")).to_have_text("No card offered for this sale.")
    with UnitOfWork(shop.store.db, write=False) as uow:
        rows = {r.sale_id: (r.offered, r.accepted, r.till_id, r.staff)
                for r in uow.session.scalars(sa.select(CardOffer))}
    assert rows == {"R-100": (True, True, "T1", "Ann"), "R-101": (True, False, "T1", "Ann"),
                    "R-102": (False, False, "T1", "Ann")}


def test_no_card_offer_after_a_referral_sale(page: Any, shop: Shop) -> None:
    sign_in(page, shop)
    page.fill("#basket", "50.00")
    page.fill("#customer", "+4798765400")
    page.fill("#sale", "R-200")
    wedge_scan(page, shop.referrer_code)
    expect(page.locator("#answer")).to_have_class(re.compile(r"\bok\b"))
    page.keyboard.press("F2")
    expect(page.locator("#result")).to_contain_text("Recorded")
    page.fill("#sale", "R-200")
    page.keyboard.press("F9")
    expect(page.locator("#result")).to_contain_text("This sale used a friend's code")
    expect(page.locator("#offer-dialog")).to_be_hidden()


def test_staff_guide_prints_from_the_till_page(page: Any, shop: Shop) -> None:
    sign_in(page, shop)
    page.click("#staff-guide")
    expect(page.locator("#guide-result")).to_contain_text("The staff guide is in the print queue")
    with UnitOfWork(shop.store.db, write=False) as uow:
        templates = list(uow.session.scalars(sa.select(PrintJob.template)))
    assert templates == ["staff_guide"]


def test_a_cashier_types_her_name_first_then_taps_it_after_signing_out(page: Any, shop: Shop) -> None:
    page.goto(f"{shop.url}/till/T1")
    expect(page.locator("#name")).to_be_focused()
    expect(page.locator(".name-choice")).to_have_count(0)  # nobody's name is shown before they sign in here
    assert "Ann" not in page.content() and "Mia" not in page.content()
    sign_in(page, shop)
    page.click("#sign-out")
    expect(page.locator(".name-choice")).to_have_text(["Ann"])  # she signed in at this till: her name is a tap
    page.click(".name-choice")
    expect(page.locator("#name")).to_have_value("Ann")
    expect(page.locator("#pin")).to_be_focused()
    page.keyboard.type("1234")
    page.keyboard.press("Enter")
    expect(page.locator("#code")).to_be_visible()
