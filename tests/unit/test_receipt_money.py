"""Receipts show money with its currency in the receipt's language, read back from the printer's bytes."""

from __future__ import annotations

import pytest

from pos_referral.printing.escpos_renderer import RendererConfig, render_escpos
from pos_referral.printing.markup import render_template
from pos_referral.printing.profiles import pinned_code_page
from pos_referral.printing.render import render
from tests.printing_support import decode_escpos, text_lines

NBSP = "\xa0"
CODE = "R7KQ2M9XW4HT3P"
FOOTER = {"first_name": "Ada", "code": CODE, "display_code": "R7KQ-2M9X-W4HT-3P",
          "landing_url": f"https://shop.example/r/{CODE}"}
PRINTER = RendererConfig("TM-T88V", 80)
CP437_ONLY = RendererConfig("simple", 80)


def printed_lines(template: str, context: dict[str, object], lang: str, config: RendererConfig = PRINTER) -> list[str]:
    commands = decode_escpos(render_escpos(render_template(template, context, lang=lang), config))
    return text_lines(commands, pinned_code_page(config.info, lang).codec)


def saved_line(lines: list[str], label: str) -> str:
    found = [line for line in lines if line.startswith(label)]
    assert found, lines
    return found[0]


@pytest.mark.parametrize(("lang", "currency", "label", "amount"), [
    ("en", "EUR", "You saved today", "€1,250.50"),
    ("it", "EUR", "Oggi hai risparmiato", f"1.250,50{NBSP}€"),
    ("nb", "NOK", "Du sparte i dag", f"1{NBSP}250,50{NBSP}kr"),
    ("pl", "PLN", "Dziś zaoszczędziłeś", f"1{NBSP}250,50{NBSP}zł"),
    ("id", "IDR", "Hemat hari ini", "Rp1.250,50"),
])
def test_the_friends_saving_on_the_footer_reads_as_in_the_shops_language(lang: str, currency: str, label: str,
                                                                          amount: str) -> None:
    lines = printed_lines("referral_footer", {**FOOTER, "discount": "1250.50", "currency": currency}, lang)
    line = saved_line(lines, label)
    assert line.endswith(amount) and "1250.50" not in line


def test_a_whole_rupiah_voucher_prints_without_decimals() -> None:
    lines = printed_lines("reward_voucher", {"code": "V3QT7HN2KD9M1X", "amount": "1500000.00", "currency": "IDR",
                                             "expires": "2026-12-31"}, "id")
    assert saved_line(lines, "Nilai").endswith("Rp1.500.000")


def test_a_thai_footer_draws_the_baht_amount_and_its_text_form_shows_it() -> None:
    context = {**FOOTER, "discount": "50.00", "currency": "THB", "lang": "th"}
    text = render("referral_footer", context, PRINTER, "text").decode()
    assert "฿50.00" in text
    commands = decode_escpos(render("referral_footer", context, PRINTER, "escpos"))
    assert all(c.data.isascii() for c in commands if c.name == "text")  # Thai lines are pictures


def test_a_printer_without_the_euro_sign_prints_eur_as_text_not_a_question_mark() -> None:
    lines = printed_lines("referral_footer", {**FOOTER, "discount": "5.00", "currency": "EUR"}, "en", CP437_ONLY)
    assert saved_line(lines, "You saved today").endswith("EUR 5.00")
    commands = decode_escpos(render_escpos(render_template(
        "referral_footer", {**FOOTER, "discount": "5.00", "currency": "EUR"}, lang="it"), CP437_ONLY))
    assert saved_line(text_lines(commands, "cp437"), "Oggi hai risparmiato").endswith(f"5,00{NBSP}EUR")
    assert not any("?" in line for line in text_lines(commands, "cp437"))


def test_a_norwegian_printer_without_the_euro_sign_prints_a_euro_shop_in_eur() -> None:
    lines = printed_lines("referral_footer", {**FOOTER, "discount": "5.00", "currency": "EUR"}, "nb")  # CP865
    assert saved_line(lines, "Du sparte i dag").endswith(f"5,00{NBSP}EUR")


def test_the_daily_summary_and_staff_guide_show_money_with_the_currency() -> None:
    summary = printed_lines("daily_summary", {"store": "Butikken", "day": "2026-06-14", "currency": "NOK",
                                              "referred_revenue": "51569.28", "reward_cost": "45.00",
                                              "liability": "60.00", "funnel": []}, "nb")
    assert saved_line(summary, "Omsetning fra verving").endswith(f"51{NBSP}569,28{NBSP}kr")
    guide = printed_lines("staff_guide", {"store_name": "Corner", "program_name": "P", "offer": "10% off",
                                          "minimum": "20.00", "currency": "EUR", "steps": [], "demos": []}, "en")
    assert any("(from €20.00)" in line for line in guide)
