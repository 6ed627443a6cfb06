"""Document -> PNG preview that looks like the paper: same width in dots, real QR and CODE128.

Used by the preview printer, the manager UI and the README; the codes in it scan with a phone.
"""

from __future__ import annotations

import io
import logging

from PIL import Image, ImageDraw

from pos_referral.printing import document as d
from pos_referral.printing import raster
from pos_referral.printing.escpos_renderer import QR_MODULE_DOTS, RendererConfig

logger = logging.getLogger(__name__)

MARGIN_PX = 24
LINE_PX = 34


def _blocks(document: d.Document, layout: d.Layout) -> list[tuple[Image.Image, d.Align]]:
    blocks: list[tuple[Image.Image, d.Align]] = []
    for element in document.elements:
        if isinstance(element, d.Text | d.Columns | d.Rule):
            style = d.fitted_style(element, layout.columns)
            align = style.align if isinstance(element, d.Text) else d.Align.LEFT
            for line in d.element_lines(element, layout.columns, pad=False):
                img = raster.text_image(line, layout.width_px, bold=style.bold, wide=style.wide, tall=style.tall,
                                        align=align, columns=layout.columns)
                blocks.append((img, align))
        elif isinstance(element, d.Barcode):
            blocks.append((raster.barcode_image(element.data, layout.width_px), element.align))
        elif isinstance(element, d.QR):
            blocks.append((raster.qr_image(element.data, QR_MODULE_DOTS, border=4), element.align))
        elif isinstance(element, d.Image):
            blocks.append((raster.picture(element.path, layout.width_px), element.align))
        elif isinstance(element, d.Feed):
            blocks.append((Image.new("1", (8, LINE_PX * element.lines), 1), d.Align.LEFT))
        elif isinstance(element, d.Cut):
            cut = Image.new("1", (layout.width_px, 24), 1)
            draw = ImageDraw.Draw(cut)
            for x in range(0, layout.width_px, 16):
                draw.line([(x, 12), (x + 8, 12)], fill=0, width=2)
            blocks.append((cut, d.Align.LEFT))
    return blocks


def render_png_image(document: d.Document, config: RendererConfig) -> Image.Image:
    layout = config.layout
    blocks = _blocks(document, layout)
    height = sum(img.height for img, _ in blocks) + 2 * MARGIN_PX
    paper = Image.new("L", (layout.width_px + 2 * MARGIN_PX, max(height, 2 * MARGIN_PX)), 255)
    y = MARGIN_PX
    for img, align in blocks:
        if align is d.Align.CENTER:
            x = (layout.width_px - img.width) // 2
        elif align is d.Align.RIGHT:
            x = layout.width_px - img.width
        else:
            x = 0
        paper.paste(img.convert("L"), (MARGIN_PX + max(x, 0), y))
        y += img.height
    return paper


def render_png(document: d.Document, config: RendererConfig) -> bytes:
    """The preview as PNG bytes (greyscale, one pixel per printer dot)."""
    buffer = io.BytesIO()
    render_png_image(document, config).save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()
