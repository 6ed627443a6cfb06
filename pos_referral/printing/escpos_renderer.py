"""Document -> ESC/POS bytes, built with python-escpos's ``Dummy`` printer.

Only state changes are sent (alignment, bold, size), so a footer stays a few hundred bytes: at
9600 baud every 960 bytes cost a second at the till. Native QR (``GS ( k``) and CODE128 (``GS k``)
where the profile has them, pictures (``GS v 0``) where not. Text is encoded by us in the pinned
code page; a currency sign that page lacks is written as its ISO code ("5,00 EUR"), and other lines
that page cannot hold are drawn as pictures with a suitable font.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, replace

from PIL import Image

from pos_referral.config import PrinterSection
from pos_referral.domain.text import sanitize_text
from pos_referral.printing import document as d
from pos_referral.printing import raster
from pos_referral.printing.code128 import code128_modules
from pos_referral.printing.profiles import CodePage, ProfileInfo, pinned_code_page, profile_info

logger = logging.getLogger(__name__)

ESC, GS = b"\x1b", b"\x1d"
INIT = ESC + b"@"
LF = b"\n"
QR_MODULE_DOTS = 6
BARCODE_HEIGHT_DOTS = 64
_ALIGN = {d.Align.LEFT: 0, d.Align.CENTER: 1, d.Align.RIGHT: 2}


@dataclass(frozen=True)
class RendererConfig:
    """Which printer the bytes are for: python-escpos profile name, paper width, forced language."""

    profile: str = "TM-T88V"
    paper_mm: int = 80
    language: str = ""  # the printer's language, for jobs that do not name one ("" = the store's)

    @classmethod
    def from_section(cls, section: PrinterSection, store_language: str = "en") -> RendererConfig:
        """From ``[printer]``: its profile and paper; its language, else the store's, for jobs naming none."""
        return cls(profile=section.profile, paper_mm=section.paper_mm, language=section.language or store_language)

    @property
    def info(self) -> ProfileInfo:
        return profile_info(self.profile)

    @property
    def layout(self) -> d.Layout:
        return d.layout_for(self.paper_mm, self.info.width_px)


# Currency signs a code page may lack (CP437 has no €, CP865 and CP852 neither), and their ISO codes.
CURRENCY_CODES = {"€": "EUR", "฿": "THB", "zł": "PLN", "₫": "VND", "₩": "KRW", "₱": "PHP", "₹": "INR", "₺": "TRY",
                  "₴": "UAH", "₽": "RUB", "₪": "ILS", "₦": "NGN", "₭": "LAK", "៛": "KHR"}
_CURRENCY_SIGN = re.compile("|".join(re.escape(sign) for sign in sorted(CURRENCY_CODES, key=len, reverse=True)))


def ascii_currency(text: str) -> str:
    """``"€5.00"`` -> ``"EUR 5.00"``, ``"5,00 €"`` -> ``"5,00 EUR"``: a sign before a number gets a space."""
    def code(found: re.Match[str]) -> str:
        after = text[found.end():found.end() + 1]
        return CURRENCY_CODES[found.group(0)] + (" " if after[:1].isdigit() else "")
    return _CURRENCY_SIGN.sub(code, text)


def raster_bytes(img: Image.Image) -> bytes:
    """``GS v 0`` for a 1-bit picture (python-escpos packs the bits)."""
    from escpos.image import EscposImage  # python-escpos reads its printer profiles from disk when first imported

    escpos_img = EscposImage(img)
    width_bytes, height = escpos_img.width_bytes, escpos_img.height
    header = GS + b"v0\x00" + width_bytes.to_bytes(2, "little") + height.to_bytes(2, "little")
    return header + escpos_img.to_raster_format()


class _Writer:
    """Tracks the printer's state so each command is sent only when something changes."""

    def __init__(self, config: RendererConfig, code_page: CodePage) -> None:
        from escpos.printer import Dummy  # likewise: no file read at our import time

        self.config, self.info, self.layout, self.page = config, config.info, config.layout, code_page
        self.out = Dummy(profile=config.profile)
        self.align, self.bold, self.size = d.Align.LEFT, False, 0
        self.out._raw(INIT + ESC + b"t" + bytes([code_page.number]))

    def raw(self, data: bytes) -> None:
        self.out._raw(data)

    def set_align(self, align: d.Align) -> None:
        if align is not self.align:
            self.raw(ESC + b"a" + bytes([_ALIGN[align]]))
            self.align = align

    def set_style(self, style: d.Style) -> None:
        if style.bold != self.bold:
            self.raw(ESC + b"E" + bytes([int(style.bold)]))
            self.bold = style.bold
        size = (0x10 if style.wide else 0) | (0x01 if style.tall else 0)
        if size != self.size:
            self.raw(GS + b"!" + bytes([size]))
            self.size = size

    def encode(self, text: str) -> bytes | None:
        try:
            return sanitize_text(text).encode(self.page.codec)
        except UnicodeEncodeError:
            return None

    def ascii_money(self, element: d.Text | d.Columns | d.Rule) -> d.Text | d.Columns | d.Rule:
        """The element with currency signs the pinned page lacks written as ISO codes ("5,00 EUR").

        Only when that is all the page lacks: the line stays text (a few bytes) instead of a picture
        (about 2 KB, two seconds at 9600 baud). Other letters the page lacks (Thai) are still drawn."""
        if isinstance(element, d.Rule):
            return element
        cells = (element.text,) if isinstance(element, d.Text) else element.cells
        if all(self.encode(cell) is not None for cell in cells):
            return element
        swapped = tuple(ascii_currency(cell) for cell in cells)
        if any(self.encode(cell) is None for cell in swapped):
            return element
        if isinstance(element, d.Text):
            return replace(element, text=swapped[0])
        return replace(element, cells=swapped)

    def text(self, element: d.Text | d.Columns | d.Rule) -> None:
        element = self.ascii_money(element)
        style = d.fitted_style(element, self.layout.columns)
        align = style.align if isinstance(element, d.Text) else d.Align.LEFT
        for line in d.element_lines(element, self.layout.columns, pad=False):
            encoded = self.encode(line)
            if encoded is None:  # the pinned page lacks these letters (Thai): draw the line
                self.picture(raster.text_image(sanitize_text(line), self.layout.width_px, bold=style.bold,
                                               wide=style.wide, tall=style.tall, crop=True), align)
                continue
            self.set_align(align)
            self.set_style(style)
            self.raw(encoded + LF)

    def picture(self, img: Image.Image, align: d.Align) -> None:
        self.set_align(align)
        self.raw(raster_bytes(img))

    def barcode(self, element: d.Barcode) -> None:
        modules = len(code128_modules(element.data))
        if self.info.native_barcode and modules * 2 <= self.layout.width_px:
            width = max(2, min(4, self.layout.width_px // modules))
            self.set_align(element.align)
            data = b"{B" + element.data.encode("ascii")
            self.raw(GS + b"h" + bytes([BARCODE_HEIGHT_DOTS]) + GS + b"w" + bytes([width]) + GS + b"H\x00"
                     + GS + b"k" + bytes([73, len(data)]) + data + LF)
        else:
            self.picture(raster.barcode_image(element.data, self.layout.width_px, BARCODE_HEIGHT_DOTS),
                         element.align)

    def qr(self, element: d.QR) -> None:
        self.set_align(element.align)
        if self.info.native_qr:
            self.out.qr(element.data, size=QR_MODULE_DOTS, native=True)
            self.raw(LF)
        else:
            self.picture(raster.qr_image(element.data, QR_MODULE_DOTS), element.align)

    def cut(self, element: d.Cut) -> None:
        self.raw(ESC + b"d\x04")  # move the last line past the cutter
        if self.info.partial_cut and (element.partial or not self.info.full_cut):
            self.raw(GS + b"V\x01")
        elif self.info.full_cut:
            self.raw(GS + b"V\x00")


def render_escpos(document: d.Document, config: RendererConfig) -> bytes:
    """The bytes to send to the printer for ``document``."""
    lang = document.language or config.language or "en"
    writer = _Writer(config, pinned_code_page(config.info, lang))
    for element in document.elements:
        if isinstance(element, d.Text | d.Columns | d.Rule):
            writer.text(element)
        elif isinstance(element, d.Barcode):
            writer.barcode(element)
        elif isinstance(element, d.QR):
            writer.qr(element)
        elif isinstance(element, d.Image):
            writer.picture(raster.picture(element.path, config.layout.width_px), element.align)
        elif isinstance(element, d.Feed):
            writer.raw(ESC + b"d" + bytes([element.lines]))
        elif isinstance(element, d.Cut):
            writer.cut(element)
    output: bytes = writer.out.output
    return output
