"""Every shipped language draws on a machine with no fonts of its own; Windows' font folders are searched."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageDraw, ImageFont

from pos_referral.printing import fonts, raster
from pos_referral.printing.document import Align

THAI = "ขอบคุณ คุณสมชาย"
LANGUAGE_SAMPLES = {"en": "Thank you!", "id": "Terima kasih!", "nb": "Tusen takk, Ørjan! Kr 50 på kjøpet",
                    "th": THAI, "it": "Grazie! Così è più facile", "pl": "Dziękujemy! Zażółć gęślą jaźń, 5 zł",
                    "eur": "You saved €5.00"}


@pytest.fixture
def shipped_only() -> fonts.FontLibrary:
    """A fresh machine: the machine's font folders hidden, only the package's own fonts."""
    return fonts.FontLibrary([fonts.SHIPPED])


def ink(img: Image.Image) -> int:
    return img.convert("L").point(lambda v: 255 if v < 128 else 0).histogram()[255]


def test_every_shipped_language_has_all_its_letters_in_the_shipped_fonts(shipped_only: fonts.FontLibrary) -> None:
    for lang, sample in LANGUAGE_SAMPLES.items():
        runs, missing = shipped_only.runs(sample, "mono")
        assert missing == "", lang
        assert "".join(part for part, _ in runs) == sample
    assert shipped_only.find("sans") and shipped_only.find("thai", bold=True)
    assert (fonts.SHIPPED / "OFL.txt").read_text(encoding="utf-8").count("SIL OPEN FONT LICENSE") == 1


def test_thai_draws_real_letters_not_boxes_without_system_fonts(shipped_only: fonts.FontLibrary) -> None:
    with fonts.using(shipped_only), fonts.noting_fallbacks() as notes:
        drawn = raster.text_image(THAI, 576, align=Align.LEFT)
    assert notes == []
    # the same line in a font without Thai letters: PIL draws one empty box (.notdef) per letter
    mono = ImageFont.truetype(str(fonts.SHIPPED / "NotoSansMono-Regular.ttf"), 22)
    tofu = Image.new("L", drawn.size, 255)
    ImageDraw.Draw(tofu).text((0, drawn.height // 2 + 1), THAI, font=mono, fill=0, anchor="lm")
    tofu = tofu.point(lambda v: 0 if v < 150 else 255, mode="1")
    assert ink(drawn) > 150
    assert ImageChops.difference(drawn.convert("L"), tofu.convert("L")).getbbox() is not None
    # and each Thai letter has its own shape: two different words do not draw the same
    with fonts.using(shipped_only):
        other = raster.text_image("สแกนเพื่อแชร์", 576)
    assert ImageChops.difference(drawn.convert("L"), other.convert("L")).getbbox() is not None


def test_a_letter_no_font_has_is_drawn_as_a_question_mark_and_noted(tmp_path: Path) -> None:
    latin_only = tmp_path / "latin"
    latin_only.mkdir()
    shutil.copy(fonts.SHIPPED / "NotoSansMono-Regular.ttf", latin_only)
    with fonts.using(fonts.FontLibrary([latin_only])), fonts.noting_fallbacks() as notes:
        img = raster.text_image("Ada 中文", 576, crop=True)
        same = raster.text_image("Ada ??", 576, crop=True)
    assert notes == ["中文"]
    assert fonts.describe_missing(notes) == "U+4E2D U+6587"
    assert ImageChops.difference(img.convert("L"), same.convert("L")).getbbox() is None


def test_windows_font_folders_are_searched(tmp_path: Path) -> None:
    windir, local = tmp_path / "Windows", tmp_path / "Users" / "ana" / "AppData" / "Local"
    system_fonts = windir / "Fonts"
    user_fonts = local / "Microsoft" / "Windows" / "Fonts"
    system_fonts.mkdir(parents=True)
    user_fonts.mkdir(parents=True)
    shutil.copy(fonts.SHIPPED / "NotoSansMono-Regular.ttf", system_fonts / "consola.ttf")
    shutil.copy(fonts.SHIPPED / "NotoSansMono-Bold.ttf", system_fonts / "CONSOLAB.TTF")  # case as Windows has it
    shutil.copy(fonts.SHIPPED / "NotoSansThai-Regular.ttf", user_fonts / "LeelawUI.ttf")  # installed for one user
    folders = fonts.system_folders({"WINDIR": str(windir), "LOCALAPPDATA": str(local)}, home=tmp_path,
                                   platform="win32")
    assert folders == (system_fonts, user_fonts)
    library = fonts.FontLibrary(folders)
    assert library.find("mono") == system_fonts / "consola.ttf"
    assert library.find("mono", bold=True) == system_fonts / "CONSOLAB.TTF"
    assert library.find("thai") == user_fonts / "LeelawUI.ttf"
    assert library.find("sans") is None
    with fonts.using(library), fonts.noting_fallbacks() as notes:
        assert ink(raster.text_image(THAI, 576)) > 150
    assert notes == []


def test_the_default_search_path_starts_with_the_shipped_fonts() -> None:
    assert fonts.default_folders()[0] == fonts.SHIPPED
    linux = fonts.system_folders({}, home=Path("/home/ana"), platform="linux")
    assert Path("/usr/share/fonts") in linux and Path("/home/ana/.local/share/fonts") in linux


GUIDE = {"store_name": "Toko Ada", "program_name": "Bring a friend", "offer": "10% off", "minimum": "20.00",
         "steps": ["Share your code", "Your friend saves", "You get a reward"], "hold_days": 14, "currency": "EUR",
         "demos": [{"code": "DEMO-OK", "what": "a discount"}]}


@pytest.mark.parametrize("lang", ["en", "id", "nb", "th", "it", "pl"])
def test_receipts_and_the_staff_guide_print_in_every_shipped_language_on_a_bare_machine(
        shipped_only: fonts.FontLibrary, lang: str) -> None:
    from pos_referral.printing.escpos_renderer import RendererConfig
    from pos_referral.printing.render import render_job

    footer = {"first_name": "Ada", "code": "R7KQ2M9XW4HT3P", "display_code": "R7KQ-2M9X-W4HT-3P",
              "landing_url": "https://shop.example/r/R7KQ2M9XW4HT3P", "discount": "5.00", "currency": "EUR",
              "terms": "One use per friend.", "lang": lang}
    with fonts.using(shipped_only):
        for template, context in (("referral_footer", footer), ("staff_guide", {**GUIDE, "lang": lang})):
            rendered = render_job(template, context, RendererConfig("TM-T20II", 80), preview=True)
            assert rendered.missing_letters == "", (lang, template)
            assert rendered.png.startswith(b"\x89PNG") and rendered.escpos
