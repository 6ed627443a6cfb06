"""ESC/POS bytes: exact where it matters, decoded back to check the code, the barcode and the QR."""

from __future__ import annotations

import statistics
import time

import pytest

from pos_referral.printing import document as d
from pos_referral.printing.escpos_renderer import RendererConfig, render_escpos
from pos_referral.printing.markup import render_template
from pos_referral.printing.profiles import pinned_code_page, profile_info
from pos_referral.printing.render import render_footer
from pos_referral.printing.strings import strings_for
from tests.printing_support import decode_escpos, text_lines

CODE = "R7KQ2M9XW4HT3P"
URL = f"https://shop.example/r/{CODE}"
FOOTER = {"first_name": "Ada", "code": CODE, "display_code": "R7KQ-2M9X-W4HT-3P", "landing_url": URL,
          "discount": "5.00", "currency": "EUR"}
NATIVE = RendererConfig("TM-T88V", 80)
NO_CODES = RendererConfig("simple", 80)
NARROW = RendererConfig("POS-5890", 58)


def footer(lang: str = "en", **extra: object) -> d.Document:
    return render_template("referral_footer", {**FOOTER, **extra}, lang=lang)


def test_golden_bytes_of_a_small_document() -> None:
    doc = d.Document((
        d.Text("Hi", d.Style(align=d.Align.CENTER, bold=True)),
        d.Rule(),
        d.QR("X", d.Align.CENTER),
        d.Barcode("AB12"),
        d.Cut(),
    ))
    expected = (
        b"\x1b@\x1bt\x13"  # reset, code page 19 = CP858 on a TM-T88V
        b"\x1ba\x01\x1bE\x01Hi\n"
        b"\x1ba\x00\x1bE\x00" + b"-" * 42 + b"\n"
        b"\x1ba\x01"
        b"\x1d(k\x04\x001A2\x00\x1d(k\x03\x001C\x06\x1d(k\x03\x001E0\x1d(k\x04\x001P0X\x1d(k\x03\x001Q0\n"
        b"\x1dh\x40\x1dw\x04\x1dH\x00\x1dkI\x06{BAB12\n"
        b"\x1bd\x04\x1dV\x00"
    )
    assert render_escpos(doc, NATIVE) == expected


def test_native_footer_carries_the_code_as_text_code128_and_qr() -> None:
    data = render_escpos(footer(), NATIVE)
    commands = decode_escpos(data)
    names = [c.name for c in commands]
    assert names[:2] == ["ESC @", "ESC t"] and names[-1] == "GS V"
    assert [c.data for c in commands if c.name == "CODE128"] == [b"{B" + CODE.encode()]
    assert [c.data for c in commands if c.name == "QR store"] == [URL.encode()]
    assert "raster" not in names
    lines = text_lines(commands, pinned_code_page(NATIVE.info, "en").codec)
    assert "R7KQ-2M9X-W4HT-3P" in lines and "Thank you, Ada!" in lines
    assert any(line.startswith("You saved today") and line.endswith("€5.00") for line in lines)


def test_footer_fits_the_budget_for_a_9600_baud_printer_with_native_qr() -> None:
    data = render_escpos(footer(reprint=True), NATIVE)
    assert len(data) <= 600
    assert len(data) * 10 / 9600 <= 0.6


@pytest.mark.parametrize("config", [NO_CODES, NARROW], ids=["80mm-no-codes", "58mm-no-codes"])
def test_printers_without_native_codes_get_pictures(config: RendererConfig) -> None:
    commands = decode_escpos(render_escpos(footer(), config))
    names = [c.name for c in commands]
    assert "CODE128" not in names and "QR store" not in names
    pictures = [c for c in commands if c.name == "raster"]
    assert len(pictures) == 2 and all(c.args[0] * 8 <= config.layout.width_px for c in pictures)


def test_a_hostile_first_name_opens_no_drawer_cuts_nothing_and_resets_nothing() -> None:
    name = "Eve\x1bp\x00\x19\xfa\x1dV\x00\x1b@\x10\x14\x01"
    for config in (NATIVE, NO_CODES, NARROW):
        data = render_escpos(footer(first_name=name), config)
        commands = decode_escpos(data)  # raises on ESC p, DLE, or any control byte outside a command
        names = [c.name for c in commands]
        assert names.count("ESC @") == 1 and names[0] == "ESC @"
        assert names.count("GS V") <= 1 and "GS V" not in names[:-1]
        lines = text_lines(commands, pinned_code_page(config.info, "en").codec)
        assert any("Eve" in line and "p" in line for line in lines)


LANGUAGE_PAGES = {"en": "CP858", "id": "CP858", "nb": "CP865", "it": "CP858", "pl": "CP852"}


@pytest.mark.parametrize("lang", sorted(LANGUAGE_PAGES))
def test_every_latin_language_prints_in_its_pinned_code_page(lang: str) -> None:
    page = pinned_code_page(NATIVE.info, lang)
    assert page.name == LANGUAGE_PAGES[lang]
    data = render_escpos(render_template("test_page", {"lang": lang}), NATIVE)
    commands = decode_escpos(data)
    assert commands[1].name == "ESC t" and commands[1].args == (NATIVE.info.code_pages[page.name],)
    assert "raster" not in [c.name for c in commands]
    lines = text_lines(commands, page.codec)
    assert strings_for(lang)["test_sample"] in lines


def test_special_letters_survive_the_round_trip() -> None:
    samples = {"nb": "Blåbær, Søren, ÆØÅ", "it": "Caffè 5 €, perché, città", "pl": "Zażółć gęślą jaźń ŁŃŚŹŻĄĆĘÓ"}
    for lang, sample in samples.items():
        doc = d.Document((d.Text(sample),), language=lang)
        commands = decode_escpos(render_escpos(doc, NATIVE))
        assert text_lines(commands, pinned_code_page(NATIVE.info, lang).codec) == [sample]


def test_thai_is_drawn_as_pictures_and_latin_lines_stay_text() -> None:
    commands = decode_escpos(render_escpos(footer("th"), NATIVE))
    pictures = [c for c in commands if c.name == "raster"]
    assert len(pictures) >= 5  # greeting, saved, your code, share, scan, terms
    assert [c.data for c in commands if c.name == "QR store"] == [URL.encode()]
    assert "R7KQ-2M9X-W4HT-3P" in text_lines(commands, "cp437")
    assert all(c.data.isascii() for c in commands if c.name == "text")


def test_a_printer_lacking_the_euro_prints_eur_and_draws_letters_it_lacks() -> None:
    doc = d.Document((d.Text("Totale 5 €"), d.Text("Zażółć"), d.Text("plain")), language="it")
    commands = decode_escpos(render_escpos(doc, NO_CODES))  # the 'simple' profile only knows CP437
    assert [c.name for c in commands if c.name in ("raster", "text")] == ["text", "raster", "text"]
    assert text_lines(commands, "cp437") == ["Totale 5 EUR", "plain"]  # a currency sign: its ISO code, as text


def test_render_footer_for_pos_software_in_three_formats() -> None:
    escpos = render_footer(FOOTER, "TM-T20II", "escpos")
    text = render_footer(FOOTER, "TM-T20II", "text").decode()
    png = render_footer(FOOTER, "POS-5890", "png")
    assert escpos.startswith(b"\x1b@") and f"[qr {URL}]" in text and f"[barcode CODE128 {CODE}]" in text
    assert png.startswith(b"\x89PNG")


def test_profiles_decide_native_codes() -> None:
    assert profile_info("TM-T88V").native_qr and profile_info("TM-T88V").native_barcode
    assert not profile_info("POS-5890").native_qr and not profile_info("simple").native_barcode


def test_footer_renders_within_five_milliseconds() -> None:
    render_escpos(footer(), NATIVE)  # warm caches
    timings = []
    for _ in range(30):
        start = time.perf_counter()
        render_escpos(render_template("referral_footer", FOOTER), NATIVE)
        timings.append(time.perf_counter() - start)
    assert statistics.median(timings) < 0.005
