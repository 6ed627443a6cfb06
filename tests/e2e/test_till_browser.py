"""The cashier's story in a real browser: sign in, scan, see the answer, confirm, override."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from pos_referral import create_app
from pos_referral.db.models import AuditEntry, PrintJob
from pos_referral.scanner.events import Scan
from pos_referral.scanner.serial_reader import SerialScanner
from pos_referral.services.unit_of_work import UnitOfWork
from tests.browser_support import live_server
from tests.conftest import FakeClock
from tests.e2e.conftest import Screenshots, Shop, friend_at_the_till, sign_in, wedge_scan
from tests.printing_support import FakeNetworkPrinter
from tests.till_support import attach_network_printer, chain_twin

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
    expect(page.locator("#answer-big")).to_have_text("Code scanned. Now type the basket total.")
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
    friend_at_the_till(page, shop.referrer_code, basket="50.00", customer="+4798765400", sale="R-200")
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


@pytest.fixture
def printer() -> Any:
    fake = FakeNetworkPrinter()
    yield fake
    fake.close()


def test_the_printer_chip_names_each_state_the_printer_reports_in_the_tills_language(
        page: Any, shop: Shop, printer: FakeNetworkPrinter) -> None:
    worker = attach_network_printer(shop.store, printer)
    chip = page.locator("#st-printer")
    sign_in(page, shop)
    for mode, words, look in [("ok", "Ready", "good"), ("paper_near_end", "Paper low", "low"),
                              ("paper_out", "Paper out", "bad"), ("cover_open", "Cover open", "bad"),
                              ("ok", "Ready", "good")]:
        printer.mode = mode
        worker.refresh_status()
        page.reload()
        expect(chip).to_have_text(f"Printer: {words}")
        expect(chip).to_have_class(re.compile(rf"\b{look}\b"))
    printer.mode = "paper_out"
    worker.refresh_status()
    page.goto(f"{shop.url}/till/T1?lang=nb")
    expect(chip).to_have_text("Skriver: Tomt for papir")
    printer.refuse()  # switched off or unplugged
    worker.refresh_status()
    page.goto(f"{shop.url}/till/T1?lang=pl")
    expect(chip).to_have_text("Drukarka: Brak połączenia")
    expect(chip).to_have_class(re.compile(r"\bbad\b"))


def test_after_confirm_the_answer_box_shows_the_outcome_and_takes_the_next_scan(page: Any, shop: Shop) -> None:
    sign_in(page, shop)
    friend_at_the_till(page, shop.referrer_code, basket="50.00", customer="+4798765432", sale="R-1")
    page.keyboard.press("F2")
    expect(page.locator("#answer-big")).to_have_text("Recorded: €5.00 off. Sale R-1.")
    expect(page.locator("#answer-small")).to_have_text("Ready for a scan")
    expect(page.locator("#answer")).to_have_class(re.compile(r"\bdone\b"))
    expect(page.locator("#code")).to_be_focused()
    expect(page.locator("#code")).to_have_value("")
    page.fill("#basket", "60.00")  # the next customer
    wedge_scan(page, shop.referrer_code)
    expect(page.locator("#answer")).to_have_class(re.compile(r"\bok\b"))
    expect(page.locator("#answer-big")).to_have_text("Give €6.00 off")


def test_a_code_scanned_before_the_total_is_kept_and_quoted_when_the_total_is_typed(page: Any, shop: Shop) -> None:
    sign_in(page, shop)
    wedge_scan(page, shop.referrer_code)
    expect(page.locator("#answer-big")).to_have_text("Code scanned. Now type the basket total.")
    expect(page.locator("#answer-big")).not_to_contain_text("first")
    expect(page.locator("#basket")).to_be_focused()
    page.keyboard.type("50.00")
    page.keyboard.press("Tab")  # no Enter: leaving the total is enough
    expect(page.locator("#answer")).to_have_class(re.compile(r"\bok\b"))
    expect(page.locator("#answer-big")).to_have_text("Give €5.00 off")
    expect(page.locator("#customer")).to_be_focused()  # the answer did not take the cursor away
    page.keyboard.type("+4798765432")
    page.keyboard.press("F2")
    expect(page.locator("#result")).to_contain_text("Recorded: €5.00 off")


def test_a_scan_that_lands_in_the_basket_field_after_the_total_still_counts(page: Any, shop: Shop) -> None:
    sign_in(page, shop)
    page.focus("#basket")
    page.keyboard.type("80.00")
    page.keyboard.type(shop.referrer_code, delay=2)  # the cursor was still in the total when the scan came
    page.keyboard.press("Enter")
    expect(page.locator("#answer")).to_have_class(re.compile(r"\bok\b"))
    expect(page.locator("#answer-big")).to_have_text("Give €8.00 off")
    expect(page.locator("#basket")).to_have_value("80.00")
    expect(page.locator("#code")).to_have_value(shop.referrer_code)


def test_a_standalone_shop_shows_no_sync_chip_however_many_sales(page: Any, shop: Shop, clock: FakeClock) -> None:
    sign_in(page, shop)
    for n in range(3):
        page.fill("#basket", "50.00")
        page.fill("#customer", f"+479876540{n}")
        wedge_scan(page, shop.referrer_code)
        expect(page.locator("#answer")).to_have_class(re.compile(r"\bok\b"))
        page.keyboard.press("F2")
        expect(page.locator("#answer")).to_have_class(re.compile(r"\bdone\b"))
    clock.advance(hours=3)
    page.reload()
    expect(page.locator("#st-printer")).to_contain_text("Printer")
    expect(page.locator("#st-sync")).to_have_count(0)
    expect(page.locator("#status")).not_to_contain_text("Sync")


def test_a_chain_store_shows_sync_only_when_it_is_late(browser: Any, shop: Shop, config_path: Path,
                                                      clock: FakeClock) -> None:
    chain = chain_twin(shop.store, config_path, clock)
    try:
        with live_server(create_app(store=chain, test_config={"TESTING": True})) as server:
            context = browser.new_context(viewport={"width": 1100, "height": 760}, locale="en-GB")
            try:
                _sale_then_sync_late(context.new_page(), Shop(server, chain, shop.referrer_code), clock)
            finally:
                context.close()  # before the server stops
    finally:
        chain.close()


def _sale_then_sync_late(page: Any, there: Shop, clock: FakeClock) -> None:
    page.set_default_timeout(5000)
    sign_in(page, there)
    page.fill("#basket", "50.00")
    page.fill("#customer", "+4798765432")
    wedge_scan(page, there.referrer_code)
    expect(page.locator("#answer")).to_have_class(re.compile(r"\bok\b"))
    page.keyboard.press("F2")
    expect(page.locator("#answer")).to_have_class(re.compile(r"\bdone\b"))
    page.reload()
    expect(page.locator("#st-printer")).to_contain_text("Printer")
    expect(page.locator("#st-sync")).to_be_hidden()  # waiting less than two sync intervals: nothing to say
    clock.advance(minutes=12)  # central unreachable for 12 minutes
    page.reload()
    expect(page.locator("#st-sync")).to_be_visible()
    expect(page.locator("#st-sync")).to_have_text(re.compile(r"^Sync: late: \d+ waiting for 12 min$"))
    expect(page.locator("#st-sync")).to_have_class(re.compile(r"\bbad\b"))
