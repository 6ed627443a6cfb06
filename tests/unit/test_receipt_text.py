"""The print proxy reads a receipt's total and number off the text the POS printed, in many layouts."""

from __future__ import annotations

from pathlib import Path

import pytest

from pos_referral.config import ConfigError, load_settings
from pos_referral.domain.receipt_text import PatternError, ReceiptReader, parse_amount

ENGLISH = """\
        CORNER COFFEE
   12 High Street, Leeds
Receipt No: R-000123        15/06/2026
Cashier: Ann
Flat white              3.50
Croissant x2            5.00
Subtotal                8.50
VAT 20%                 1.42
TOTAL                £1,234.56
Cash                 1,300.00
Change                  65.44
Total items: 3
   Thank you for visiting!
"""

GERMAN = """\
Bäckerei Müller
Bon-Nr. 4711   Kasse 2
Brötchen 6x          2,40
Kaffee               3,20
Zwischensumme        5,60
SUMME EUR           23,40
Gegeben BAR         50,00
Rückgeld            26,60
MwSt 7%              1,53
"""

NORWEGIAN = """\
KIOSKEN AS
Kvittering nr 00815
Brus                 35,00
Totalt          1 234,00 kr
Kort                1 234,00
"""

INDONESIAN = """\
TOKO MAJU JAYA
No. Struk: 00123/KSR1
Indomie Goreng 2x    7.000
Aqua 600ml           4.500
Jumlah Item: 3
Total Belanja    Rp 125.000
Tunai            Rp 150.000
Kembali          Rp  25.000
"""

THAI = """\
ร้านกาแฟดี
ใบเสร็จ 0042
กาแฟเย็น            65.00
ขนมปัง              45.00
รวมทั้งสิ้น          ฿1,250.00
เงินสด              1,300.00
"""

ITALIAN = """\
BAR CENTRALE
Scontrino n. 0157
Cappuccino              1,50
Cornetto                1,20
Totale EUR              12,70
Contanti                20,00
"""

POLISH = """\
SKLEP ABC
Paragon nr 2026/000451
Chleb                   4,99
SUMA PLN               87,50
Gotówka               100,00
"""

VIETNAMESE = """\
CA PHE SUA
Số HĐ 00991
Cà phê sữa đá        29.000
Tổng cộng            85.000
"""


@pytest.mark.parametrize(("layout", "text", "total", "number"), [
    ("generic", ENGLISH, 123456, "R-000123"),
    ("generic", GERMAN, 2340, "4711"),  # "Bon-Nr." is read by the generic "Bon" label too
    ("german", GERMAN, 2340, "4711"),
    ("generic", NORWEGIAN, 123400, "00815"),
    ("nordic", NORWEGIAN, 123400, "00815"),
    ("southeast_asia", INDONESIAN, 12500000, "00123/KSR1"),
    ("generic", THAI, 125000, "0042"),
    ("southeast_asia", THAI, 125000, "0042"),
    ("generic", ITALIAN, 1270, "0157"),
    ("generic", POLISH, 8750, "2026/000451"),
    ("southeast_asia", VIETNAMESE, 8500000, "00991"),
])
def test_total_and_receipt_number_are_found_on_real_layouts(layout: str, text: str, total: int, number: str) -> None:
    facts = ReceiptReader(layout).read(text)
    assert facts.total_minor == total
    assert facts.receipt_no == number


def test_subtotals_item_counts_and_tax_lines_are_not_the_total() -> None:
    facts = ReceiptReader().read("Subtotal 8.50\nTotal items: 3\nTotal tax 1.42\nSum of savings 2.00\n")
    assert facts.total_minor is None


def test_a_receipt_without_the_words_gives_nothing() -> None:
    assert ReceiptReader().read("HELLO\nCoffee 3.50\n").total_minor is None
    assert ReceiptReader().read("HELLO\nCoffee 3.50\n").receipt_no is None


@pytest.mark.parametrize(("printed", "minor"), [
    ("12.50", 1250), ("12,50", 1250), ("1,234.56", 123456), ("1.234,56", 123456), ("1 234,56", 123456),
    ("125.000", 12500000), ("7", 700), ("12.5", 1250), ("1'234.50", 123450),
])
def test_amounts_are_read_the_way_receipts_write_them(printed: str, minor: int) -> None:
    assert parse_amount(printed) == minor


def test_the_shops_own_patterns_replace_the_layouts() -> None:
    reader = ReceiptReader(total_pattern=r"^A PAYER\s+(\S+)", receipt_pattern=r"^TICKET #(\d+)")
    facts = reader.read("TICKET #991\nTOTAL 5.00\nA PAYER 17,30\n")
    assert (facts.total_minor, facts.receipt_no) == (1730, "991")


def test_a_pattern_that_does_not_compile_is_a_config_error_naming_the_key(config_path: Path, tmp_path: Path) -> None:
    with pytest.raises(PatternError, match=r"\[proxy\] total_pattern"):
        ReceiptReader(total_pattern="TOTAL (")
    text = config_path.read_text().replace('total_pattern = ""', 'total_pattern = "TOTAL ([0-9"')
    config_path.write_text(text)
    with pytest.raises(ConfigError, match="total_pattern"):
        load_settings(config_path, data_dir=tmp_path / "data", environ={})


def test_a_pattern_without_a_group_and_an_unknown_layout_are_config_errors(config_path: Path, tmp_path: Path) -> None:
    original = config_path.read_text()
    config_path.write_text(original.replace('receipt_pattern = ""', 'receipt_pattern = "Receipt [0-9]+"'))
    with pytest.raises(ConfigError, match="receipt_pattern"):
        load_settings(config_path, data_dir=tmp_path / "data", environ={})
    config_path.write_text(original.replace('layout = "generic"', 'layout = "martian"'))
    with pytest.raises(ConfigError, match="layout"):
        load_settings(config_path, data_dir=tmp_path / "data", environ={})
