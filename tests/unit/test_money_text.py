"""Money as people read it: one function, Babel's forms per language, the machine form kept apart."""

from __future__ import annotations

import pytest

from pos_referral.domain.money import format_money
from pos_referral.domain.money_text import decimal_text, header_with_currency, locale_name, money_text

NBSP = "\xa0"


@pytest.mark.parametrize(("minor", "currency", "lang", "shown"), [
    (5156928, "NOK", "nb", f"51{NBSP}569,28{NBSP}kr"),
    (5156928, "EUR", "en", "€51,569.28"),
    (5156928, "EUR", "it", f"51.569,28{NBSP}€"),
    (5156928, "PLN", "pl", f"51{NBSP}569,28{NBSP}zł"),
    (5156928, "THB", "th", "฿51,569.28"),
    (150000000, "IDR", "id", "Rp1.500.000"),
    (1000, "EUR", "nb", f"10,00{NBSP}€"),
])
def test_an_amount_reads_as_people_of_that_language_write_it(minor: int, currency: str, lang: str,
                                                             shown: str) -> None:
    assert money_text(minor, currency, lang) == shown


def test_a_rupiah_amount_with_sen_keeps_them_instead_of_rounding_them_away() -> None:
    assert money_text(150000050, "IDR", "id") == "Rp1.500.000,50"


def test_an_unknown_language_reads_english_and_phones_codes_for_norwegian_work() -> None:
    assert money_text(250, "EUR", "xx") == "€2.50"
    assert locale_name("no") == "nb" and locale_name("en-GB") == "en_GB" and locale_name("") == "en"


def test_a_print_jobs_decimal_string_becomes_money_and_foreign_text_stays_as_it_came() -> None:
    assert decimal_text("5.00", "EUR", "it") == f"5,00{NBSP}€"
    assert decimal_text("5,00", "EUR", "it") == "5,00 EUR"  # a POS program's own text: kept, currency after it
    assert decimal_text("", "EUR", "it") == ""


def test_the_api_form_and_csv_headers_keep_plain_numbers() -> None:
    assert format_money(5156928) == "51569.28"
    assert header_with_currency("Reward liability", "eur") == "Reward liability (EUR)"
