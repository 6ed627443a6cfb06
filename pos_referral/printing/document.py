"""The document model: what a receipt says, laid out in characters, before any printer is chosen.

A template renders to a ``Document``; the ESC/POS, text and PNG renderers each turn the same
document into their output. Widths are counted in font-A characters: 32 at 58 mm, 48 at 80 mm
(fewer on printers whose profile says so, e.g. 42 on a TM-T88V at 180 dpi).
"""

from __future__ import annotations

import logging
import textwrap
import unicodedata
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

logger = logging.getLogger(__name__)

COLUMN_GAP = 1


class Align(StrEnum):
    LEFT = "left"
    CENTER = "center"
    RIGHT = "right"


@dataclass(frozen=True)
class Style:
    align: Align = Align.LEFT
    bold: bool = False
    wide: bool = False  # double width: half as many characters fit
    tall: bool = False  # double height


@dataclass(frozen=True)
class ColumnSpec:
    """One column of a ``[cols]`` line: a relative weight (share of spare or missing room) and alignment."""

    weight: int = 1
    align: Align = Align.LEFT


@dataclass(frozen=True)
class Text:
    text: str
    style: Style = Style()


@dataclass(frozen=True)
class Columns:
    cells: tuple[str, ...]
    spec: tuple[ColumnSpec, ...]
    style: Style = Style()


@dataclass(frozen=True)
class Rule:
    char: str = "-"


@dataclass(frozen=True)
class Barcode:
    """A CODE128 barcode (the only symbology receipts need: codes are upper-case ASCII)."""

    data: str
    align: Align = Align.CENTER


@dataclass(frozen=True)
class QR:
    data: str
    align: Align = Align.CENTER


@dataclass(frozen=True)
class Image:
    path: Path
    align: Align = Align.CENTER


@dataclass(frozen=True)
class Feed:
    lines: int = 1


@dataclass(frozen=True)
class Cut:
    partial: bool = False


Element = Text | Columns | Rule | Barcode | QR | Image | Feed | Cut


@dataclass(frozen=True)
class Document:
    elements: tuple[Element, ...]
    language: str = "en"
    name: str = ""
    meta: dict[str, str] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class Layout:
    """Paper geometry: characters per line in font A and printable dots."""

    columns: int
    width_px: int


def layout_for(paper_mm: int, profile_width_px: int | None = None) -> Layout:
    """58 mm -> 32 characters on 384 dots, 80 mm -> 48 on 576; a profile's own pixel width wins."""
    default_px = 384 if paper_mm <= 58 else 576
    width_px = profile_width_px if profile_width_px and profile_width_px <= default_px else default_px
    return Layout(columns=width_px // 12, width_px=width_px)


def display_width(text: str) -> int:
    """Printed cells of ``text``: combining marks (Thai vowels and tone marks, accents) take none."""
    return sum(0 if unicodedata.combining(ch) or unicodedata.category(ch) == "Mn" else 1 for ch in text)


def chars_per_line(style: Style, columns: int) -> int:
    return columns // 2 if style.wide else columns


def wrap(text: str, width: int) -> list[str]:
    """Word-wrap to ``width`` cells; an empty line stays one empty line."""
    if display_width(text) <= width:
        return [text]
    return textwrap.wrap(text, width=max(width, 1), break_long_words=True, break_on_hyphens=False) or [""]


def place(text: str, align: Align, width: int) -> str:
    """Pad ``text`` to ``width`` cells for ``align`` (trailing spaces dropped)."""
    gap = max(width - display_width(text), 0)
    if align is Align.CENTER:
        return (" " * (gap // 2) + text).rstrip()
    if align is Align.RIGHT:
        return " " * gap + text
    return text


def _truncate(text: str, width: int) -> str:
    out, used = [], 0
    for ch in text:
        cell = display_width(ch)
        if used + cell > width:
            break
        out.append(ch)
        used += cell
    return "".join(out)


def column_widths(cells: tuple[str, ...], spec: tuple[ColumnSpec, ...], width: int) -> list[int]:
    """Natural widths, then spare room given (or missing room taken) by weight; weight 0 never changes."""
    room = width - COLUMN_GAP * (len(cells) - 1)
    widths = [display_width(c) for c in cells]
    weights = [s.weight for s in spec]
    total_weight = sum(weights) or 1
    spare = room - sum(widths)
    if spare >= 0:
        shares = [spare * w // total_weight for w in weights]
        shares[weights.index(max(weights))] += spare - sum(shares)
        return [w + s for w, s in zip(widths, shares, strict=True)]
    while sum(widths) > room:  # shrink the most flexible, widest column first
        shrinkable = [i for i in range(len(widths)) if widths[i] > 0]
        if not shrinkable:
            break
        idx = max(shrinkable, key=lambda i: (weights[i] > 0, widths[i] * max(weights[i], 1)))
        widths[idx] -= 1
    return widths


def fit_columns(cells: tuple[str, ...], spec: tuple[ColumnSpec, ...], width: int) -> str:
    """One line of columns exactly ``width`` cells wide (or less, trailing spaces dropped)."""
    widths = column_widths(cells, spec, width)
    parts = []
    for cell, col, w in zip(cells, spec, widths, strict=True):
        text = _truncate(cell, w)
        pad = w - display_width(text)
        if col.align is Align.RIGHT:
            parts.append(" " * pad + text)
        elif col.align is Align.CENTER:
            parts.append(" " * (pad // 2) + text + " " * (pad - pad // 2))
        else:
            parts.append(text + " " * pad)
    return (" " * COLUMN_GAP).join(parts).rstrip()


def fitted_style(element: Text | Columns | Rule, columns: int) -> Style:
    """The element's style, with double width dropped when that alone would make a single line wrap."""
    if isinstance(element, Rule):
        return Style()
    style = element.style
    if style.wide and isinstance(element, Text) and columns // 2 < display_width(element.text) <= columns:
        return Style(align=style.align, bold=style.bold, wide=False, tall=style.tall)
    return style


def element_lines(element: Text | Columns | Rule, columns: int, *, pad: bool = True) -> list[str]:
    """The character lines of a text-like element (shared by all renderers).

    ``pad=False`` leaves alignment of plain text to the printer (``ESC a``), which saves bytes.
    """
    if isinstance(element, Rule):
        return [(element.char or "-")[0] * columns]
    width = chars_per_line(fitted_style(element, columns), columns)
    if isinstance(element, Columns):
        return [fit_columns(element.cells, element.spec, width)]
    lines = wrap(element.text, width)
    return [place(line, element.style.align, width) for line in lines] if pad else lines
