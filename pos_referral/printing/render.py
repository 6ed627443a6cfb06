"""Template + context -> bytes in one call, for the print worker and for POS software that owns its printer."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pos_referral.printing import fonts
from pos_referral.printing.document import Document
from pos_referral.printing.escpos_renderer import RendererConfig, render_escpos
from pos_referral.printing.markup import render_template
from pos_referral.printing.png_renderer import render_png
from pos_referral.printing.profiles import profile_info
from pos_referral.printing.text_renderer import render_text

logger = logging.getLogger(__name__)

Format = Literal["escpos", "text", "png"]


@dataclass(frozen=True)
class Rendered:
    document: Document
    escpos: bytes
    text: str = ""
    png: bytes = b""
    missing_letters: str = ""  # ``U+4E2D ...``: letters no font had, drawn as "?" (printing/fonts.py)


def document_for(template: str, context: Mapping[str, Any], config: RendererConfig) -> Document:
    """The job's own ``lang`` wins; else the printer's language; else English."""
    return render_template(template, context, lang=str(context.get("lang") or config.language or "en"))


def render_job(template: str, context: Mapping[str, Any], config: RendererConfig, *,
               preview: bool = False) -> Rendered:
    """ESC/POS bytes for the printer, plus text and PNG when a preview is wanted."""
    doc = document_for(template, context, config)
    with fonts.noting_fallbacks() as notes:
        data = render_escpos(doc, config)
        text, png = (render_text(doc, config.layout.columns), render_png(doc, config)) if preview else ("", b"")
    return Rendered(doc, data, text, png, fonts.describe_missing(notes))


def render(template: str, context: Mapping[str, Any], config: RendererConfig, fmt: Format = "escpos") -> bytes:
    """One template in one format: ESC/POS bytes, UTF-8 text, or PNG bytes."""
    doc = document_for(template, context, config)
    if fmt == "text":
        return render_text(doc, config.layout.columns).encode("utf-8")
    if fmt == "png":
        return render_png(doc, config)
    if fmt == "escpos":
        return render_escpos(doc, config)
    raise ValueError(f"unknown format {fmt!r} (escpos, text or png)")


def render_footer(context: Mapping[str, Any], profile_name: str = "TM-T88V", fmt: Format = "escpos", *,
                  paper_mm: int | None = None) -> bytes:
    """The referral footer for a POS program that prints its own receipts, for the profile it names.

    Paper width follows the profile (58 mm when its printable width is 384 dots or less) unless given.
    The ESC/POS footer starts with ``ESC @`` and its own ``ESC t`` code page: append it after the host's
    receipt body, and the host's own settings do not leak into it.
    """
    info = profile_info(profile_name)
    width = paper_mm or (58 if info.width_px is not None and info.width_px <= 384 else 80)
    return render("referral_footer", context, RendererConfig(profile=profile_name, paper_mm=width), fmt)
