"""Pictures for the paper: text lines in scripts the printer lacks (Thai), QR codes, CODE128, logos.

Fonts come from ``printing/fonts.py`` (the shipped Noto fonts first, then the machine's), looked up
when first needed, never at import. A line mixing scripts is drawn in runs, each in a font that has
its letters; a letter no font has becomes ``?`` and is noted for the print job (``fonts.noting_fallbacks``).
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path

import qrcode
from PIL import Image, ImageDraw, ImageFont

from pos_referral.printing import fonts
from pos_referral.printing.code128 import code128_modules
from pos_referral.printing.document import Align

logger = logging.getLogger(__name__)

LINE_HEIGHT = 34


def needs_complex_script(text: str) -> bool:
    """True for text a monospace Latin font cannot draw (Thai and other scripts beyond Latin Extended)."""
    return any(ord(ch) > 0x24F and not (0x2000 <= ord(ch) <= 0x20CF) for ch in text)


@functools.lru_cache(maxsize=64)
def _font(path: Path, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(path), size)


def _mono_size(columns: int, room: int, bold: bool) -> int:
    """The largest monospace size (<= 22 px) that fits ``columns`` characters in ``room`` dots."""
    return _mono_size_for(fonts.library().require("mono", bold), columns, room)


@functools.lru_cache(maxsize=32)
def _mono_size_for(path: Path, columns: int, room: int) -> int:
    size = 22
    while size > 10 and _font(path, size).getlength("M" * columns) > room:
        size -= 1
    return size


def _width(runs: list[tuple[str, Path]], size: int) -> float:
    return sum(_font(path, size).getlength(part) for part, path in runs)


def text_image(text: str, width_px: int, *, bold: bool = False, wide: bool = False, tall: bool = False,
               align: Align = Align.LEFT, crop: bool = False, columns: int = 0) -> Image.Image:
    """One line of text as a 1-bit picture ``width_px`` wide (or just as wide as the text when ``crop``).

    With ``columns`` every Latin line gets the same size (the preview looks like the printer's font A).
    """
    scale_x, scale_y = (2 if wide else 1), (2 if tall else 1)
    room = width_px // scale_x
    size = _mono_size(columns, width_px, bold) if columns and not needs_complex_script(text) else 22
    runs, _missing = fonts.library().runs(text, "mono", bold)
    while _width(runs, size) > room and size > 10:
        size -= 1
    height = LINE_HEIGHT
    text_w = int(_width(runs, size)) + 2
    canvas_w = min(room, text_w) if crop else room
    x = 0 if crop or align is Align.LEFT else (canvas_w - text_w if align is Align.RIGHT else (canvas_w - text_w) // 2)
    img = Image.new("L", (max(canvas_w, 8), height), 255)
    draw = ImageDraw.Draw(img)
    if len(runs) == 1:
        draw.text((max(x, 0), height // 2 + 1), runs[0][0], font=_font(runs[0][1], size), fill=0, anchor="lm")
    elif runs:  # several fonts: one baseline, placed as the first font's middle would be
        ascent, descent = _font(runs[0][1], size).getmetrics()
        baseline = height // 2 + 1 + (ascent - descent) // 2
        pos = float(max(x, 0))
        for part, path in runs:
            font = _font(path, size)
            draw.text((pos, baseline), part, font=font, fill=0, anchor="ls")
            pos += font.getlength(part)
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
