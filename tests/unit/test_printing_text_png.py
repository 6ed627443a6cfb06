"""The plain-text and PNG renderers; the PNG's QR and CODE128 scan with a real decoder (zxing-cpp)."""

from __future__ import annotations

import io

import pytest
import zxingcpp
from PIL import Image

from pos_referral.printing.code128 import code128_values
from pos_referral.printing.escpos_renderer import RendererConfig, render_escpos
from pos_referral.printing.markup import render_template
from pos_referral.printing.png_renderer import render_png
from pos_referral.printing.text_renderer import render_text
from tests.printing_support import decode_escpos

CODE = "R7KQ2M9XW4HT3P"
URL = f"https://shop.example/r/{CODE}"
FOOTER = {"first_name": "Ada", "code": CODE, "display_code": "R7KQ-2M9X-W4HT-3P", "landing_url": URL,
          "discount": "5.00", "currency": "EUR", "terms": "One use per friend."}

EXPECTED_TEXT_58MM = """\
--------------------------------
        Thank you, Ada!
You saved today            €5.00
     Your own referral code
       R7KQ-2M9X-W4HT-3P
[barcode CODE128 R7KQ2M9XW4HT3P]
Share it: your friends save, you
         get a reward.
[qr https://shop.example/r/R7KQ2M9XW4HT3P]
         Scan to share
--------------------------------
      One use per friend.


[cut]
"""


def scan(img: Image.Image) -> dict[str, str]:
    found = zxingcpp.read_barcodes(img.convert("L"))
    return {str(r.format).split(".")[-1].replace(" ", ""): r.text for r in found}


def test_text_footer_on_58mm_paper() -> None:
    assert render_text(render_template("referral_footer", FOOTER), 32) == EXPECTED_TEXT_58MM


@pytest.mark.parametrize("lang", ["en", "th", "pl"])
@pytest.mark.parametrize("paper", [58, 80])
def test_png_preview_codes_scan(lang: str, paper: int) -> None:
    doc = render_template("referral_footer", FOOTER, lang=lang)
    img = Image.open(io.BytesIO(render_png(doc, RendererConfig("TM-T20II", paper))))
    assert img.width == (384 if paper == 58 else 576) + 48
    found = scan(img)
    assert found.get("QRCode") == URL
    assert found.get("Code128") == CODE


def test_fallback_pictures_in_the_escpos_bytes_scan_too() -> None:
    doc = render_template("referral_footer", FOOTER)
    for config in (RendererConfig("simple", 80), RendererConfig("POS-5890", 58)):
        pictures = [c.image for c in decode_escpos(render_escpos(doc, config)) if c.name == "raster"]
        results: dict[str, str] = {}
        for picture in pictures:
            assert picture is not None
            padded = Image.new("1", (picture.width + 40, picture.height + 40), 1)
            padded.paste(picture, (20, 20))
            results.update(scan(padded))
        assert results == {"QRCode": URL, "Code128": CODE}


def test_code128_check_value() -> None:
    # START B 104 + P*1 + J*2 + J*3 + 1*4 + 2*5 + 3*6 + C*7 = 879; 879 mod 103 = 55 (zxing checks it too)
    assert code128_values("PJJ123C") == [104, 48, 42, 42, 17, 18, 19, 35, 55]
    with pytest.raises(ValueError):
        code128_values("ÆØÅ")
