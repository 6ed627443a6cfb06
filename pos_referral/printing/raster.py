"""Pictures for the paper: text lines in scripts the printer lacks (Thai), QR codes, CODE128, logos.

Fonts are looked up when first needed (never at import): DejaVu Sans Mono for the preview, a Thai
font from fonts-thai-tlwg (Garuda, Loma, Norasi, ...) for Thai. A missing font is a clear error.
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path

import qrcode
from PIL import Image, ImageDraw, ImageFont

from pos_referral.printing.code128 import code128_modules
from pos_referral.printing.document import Align

logger = logging.getLogger(__name__)

FONT_DIRS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"), Path.home() / ".fonts")
THAI_FONTS = ("Garuda", "Loma", "Norasi", "Waree", "Kinnari", "Sawasdee", "TlwgTypo")
MONO_FONTS = ("DejaVuSansMono", "LiberationMono-Regular")


class FontMissingError(RuntimeError):
    """No usable font for a script; the message says which package to install."""


@functools.lru_cache(maxsize=16)
def find_font(names: tuple[str, ...], bold: bool = False) -> Path:
    """First ``<name>.ttf`` (or ``<name>-Bold.ttf``) under the usual font folders."""
    for name in names:
        wanted = [f"{name}-Bold.ttf", f"{name}.ttf"] if bold else [f"{name}.ttf"]
        for folder in FONT_DIRS:
            if not folder.is_dir():
                continue
            for file_name in wanted:
                hit = next(folder.rglob(file_name), None)
                if hit is not None:
                    return hit
    hint = "fonts-thai-tlwg" if names == THAI_FONTS else "fonts-dejavu-core"
    raise FontMissingError(f"no font {'/'.join(names)} found in {', '.join(map(str, FONT_DIRS))}: "
                           f"install it (apt-get install {hint})")


def needs_complex_script(text: str) -> bool:
    """True for text a monospace Latin font cannot draw (Thai and other scripts beyond Latin Extended)."""
    return any(ord(ch) > 0x24F and not (0x2000 <= ord(ch) <= 0x20CF) for ch in text)


@functools.lru_cache(maxsize=32)
def _font(path: Path, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(path), size)


def text_font(text: str, bold: bool, size: int) -> ImageFont.FreeTypeFont:
    names = THAI_FONTS if needs_complex_script(text) else MONO_FONTS
    return _font(find_font(names, bold), size)


@functools.lru_cache(maxsize=16)
def _mono_size(columns: int, room: int, bold: bool) -> int:
    """The largest monospace size (<= 22 px) that fits ``columns`` characters in ``room`` dots."""
    size = 22
    while size > 10 and _font(find_font(MONO_FONTS, bold), size).getlength("M" * columns) > room:
        size -= 1
    return size


def text_image(text: str, width_px: int, *, bold: bool = False, wide: bool = False, tall: bool = False,
               align: Align = Align.LEFT, crop: bool = False, columns: int = 0) -> Image.Image:
    """One line of text as a 1-bit picture ``width_px`` wide (or just as wide as the text when ``crop``).

    With ``columns`` every Latin line gets the same size (the preview looks like the printer's font A).
    """
    scale_x, scale_y = (2 if wide else 1), (2 if tall else 1)
    room = width_px // scale_x
    size = _mono_size(columns, width_px, bold) if columns and not needs_complex_script(text) else 22
    font = text_font(text, bold, size)
    while font.getlength(text) > room and size > 10:
        size -= 1
        font = text_font(text, bold, size)
    height = 34
    text_w = int(font.getlength(text)) + 2
    canvas_w = min(room, text_w) if crop else room
    x = 0 if crop or align is Align.LEFT else (canvas_w - text_w if align is Align.RIGHT else (canvas_w - text_w) // 2)
    img = Image.new("L", (max(canvas_w, 8), height), 255)
    ImageDraw.Draw(img).text((max(x, 0), height // 2 + 1), text, font=font, fill=0, anchor="lm")
    if scale_x != 1 or scale_y != 1:
        img = img.resize((img.width * scale_x, img.height * scale_y), Image.Resampling.NEAREST)
    return img.point(lambda v: 0 if v < 150 else 255, mode="1")


def qr_image(data: str, module_px: int, border: int = 2) -> Image.Image:
    """A QR code (error correction M) with ``module_px`` dots per module."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=module_px, border=border)
    code.add_data(data)
    code.make(fit=True)
    matrix = code.get_matrix()
    side = len(matrix)
    img = Image.new("1", (side, side), 1)
    img.putdata([0 if cell else 1 for row in matrix for cell in row])
    return img.resize((side * module_px, side * module_px), Image.Resampling.NEAREST)


def barcode_image(data: str, max_width_px: int, height_px: int = 80) -> Image.Image:
    """CODE128 with 10-module quiet zones, modules as wide as fit (at least one dot)."""
    modules = "0" * 10 + code128_modules(data) + "0" * 10
    module_px = max(1, min(3, max_width_px // len(modules)))
    row = [0 if m == "1" else 1 for m in modules for _ in range(module_px)]
    img = Image.new("1", (len(row), height_px), 1)
    img.putdata(row * height_px)
    return img


def picture(path: Path, max_width_px: int) -> Image.Image:
    """A logo or picture from the templates folder, scaled to fit the paper and dithered to 1 bit."""
    with Image.open(path) as source:
        img = source.convert("L")
    if img.width > max_width_px:
        img = img.resize((max_width_px, max(1, img.height * max_width_px // img.width)))
    return img.convert("1")
