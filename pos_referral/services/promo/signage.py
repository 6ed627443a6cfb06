"""In-store signs as print-ready PDF (fpdf2): the offer, how it works in three steps, a QR to join.

Sizes: A4 and A5 posters and a counter card (A6). The words come from the message templates
(``landing_headline``, ``how_it_works``, ``sign_labels``) in the sign's language, so a shop edits
them in one place. A TrueType font with the language's letters is needed (fpdf2's built-in fonts
are Latin-1 only): the shipped Noto Sans / Noto Sans Thai (``printing/fonts.py``), or ``font=``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import qrcode
from PIL import Image

from pos_referral.config import Settings
from pos_referral.domain.rules import Program
from pos_referral.printing import fonts
from pos_referral.services import messages

if TYPE_CHECKING:
    from fpdf import FPDF

SIZES: dict[str, tuple[float, float]] = {"A4": (210, 297), "A5": (148, 210), "counter-card": (105, 148)}


class SignageError(Exception):
    """A sign that cannot be made (unknown size, no font for the language, no public address)."""


@dataclass(frozen=True)
class SignText:
    headline: str
    offer: str
    steps: tuple[str, ...]
    steps_title: str
    scan_caption: str
    store_name: str


def join_path(program: Program, default: Program) -> str:
    return "/join" if program.id == default.id else f"/join/{program.id}"


def join_url(settings: Settings, program: Program, base_url: str = "") -> str:
    """Where the sign's QR leads: the program's public landing page on the configured address."""
    base = (base_url or settings.config.store.public_base_url).rstrip("/")
    if not base:
        raise SignageError("set [store] public_base_url (the address phones can reach) or pass --base-url")
    return base + join_path(program, settings.default_program)


def sign_text(settings: Settings, program: Program, lang: str) -> SignText:
    context = messages.program_context(settings, program, lang)
    folder = messages.messages_folder(settings)

    def text(kind: str) -> str:
        return messages.render(kind, lang, context, folder=folder).text

    steps = tuple(line.strip() for line in text("how_it_works").splitlines() if line.strip())
    labels = [line.strip() for line in text("sign_labels").splitlines() if line.strip()] + ["", ""]
    offer = context["offer"]
    return SignText(text("landing_headline"), offer[:1].upper() + offer[1:], steps, labels[0], labels[1],
                    settings.config.store.name)


def _font_files(lang: str, font: Path | None) -> tuple[Path, Path]:
    if font is not None:
        if not font.is_file():
            raise SignageError(f"{font}: font file not found")
        return font, font
    library = fonts.library()
    role = "thai" if lang == "th" else "sans"
    regular = library.find(role)
    if regular is None:
        raise SignageError(f"no font with the letters of language {lang!r} found; pass --font FILE.ttf")
    return regular, library.find(role, bold=True) or regular


def qr_image(url: str) -> Image.Image:
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4, box_size=10)
    qr.add_data(url)
    image: Image.Image = qr.make_image().get_image()
    return image


def _new_pdf(width: float, height: float) -> FPDF:
    """fpdf2, imported on first use: pages that never draw a sign do not load it."""
    with warnings.catch_warnings():  # fontTools probes for uharfbuzz; pygal's import hook warns on the miss
        warnings.simplefilter("ignore", ImportWarning)
        from fpdf import FPDF

    return FPDF(orientation="portrait", unit="mm", format=(width, height))


def sign_pdf(settings: Settings, program: Program, *, size: str, lang: str, url: str,
             font: Path | None = None) -> bytes:
    """One page, portrait, with margins a home or office printer keeps."""
    if size not in SIZES:
        raise SignageError(f"size must be one of {', '.join(SIZES)}")
    lang = messages.language(lang)
    width, height = SIZES[size]
    scale = width / 210
    words = sign_text(settings, program, lang)
    regular, bold = _font_files(lang, font)
    pdf = _new_pdf(width, height)
    pdf.set_title(f"{words.store_name}: {words.headline}")
    pdf.set_creator("pos-referral")
    pdf.set_auto_page_break(False)
    pdf.add_font("sign", "", str(regular))
    pdf.add_font("sign", "B", str(bold))
    latin = fonts.library().find("sans") if regular != bold or lang == "th" else None
    if latin is not None and latin != regular:  # Thai fonts lack signs such as €: borrow them
        pdf.add_font("latin", "", str(latin))
        pdf.add_font("latin", "B", str(fonts.library().find("sans", bold=True) or latin))
        pdf.set_fallback_fonts(["latin"])
    margin = 12 * scale
    inner = width - 2 * margin
    pdf.add_page()
    pdf.set_margins(margin, margin, margin)
    pdf.set_fill_color(24, 90, 157)
    pdf.rect(0, 0, width, 10 * scale, style="F")
    pdf.set_y(16 * scale)
    pdf.set_font("sign", "", 14 * scale)
    pdf.cell(inner, 7 * scale, words.store_name, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3 * scale)
    pdf.set_font("sign", "B", 34 * scale)
    pdf.multi_cell(inner, 14 * scale, words.headline, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2 * scale)
    pdf.set_font("sign", "", 18 * scale)
    pdf.multi_cell(inner, 8 * scale, words.offer, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6 * scale)
    pdf.set_font("sign", "B", 18 * scale)
    pdf.cell(inner, 9 * scale, words.steps_title, align="L", new_x="LMARGIN", new_y="NEXT")
    for number, step in enumerate(words.steps[:3], start=1):
        pdf.set_font("sign", "B", 16 * scale)
        y = pdf.get_y() + 1.5 * scale
        pdf.set_xy(margin, y)
        pdf.cell(10 * scale, 7.5 * scale, f"{number}.")
        pdf.set_font("sign", "", 14 * scale)
        pdf.set_xy(margin + 10 * scale, y)
        pdf.multi_cell(inner - 10 * scale, 7 * scale, step, align="L", new_x="LMARGIN", new_y="NEXT")
    qr_size = min(inner * 0.55, height - pdf.get_y() - 30 * scale)
    if qr_size < 25:
        raise SignageError("the texts are too long for this size: shorten how_it_works or use a bigger sign")
    qr_y = pdf.get_y() + 6 * scale
    pdf.image(qr_image(url), x=(width - qr_size) / 2, y=qr_y, w=qr_size, h=qr_size)
    pdf.set_xy(margin, qr_y + qr_size + 1 * scale)
    pdf.set_font("sign", "B", 13 * scale)
    pdf.cell(inner, 6 * scale, words.scan_caption, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("sign", "", 9 * scale)
    pdf.cell(inner, 5 * scale, url, align="C")
    return bytes(pdf.output())
