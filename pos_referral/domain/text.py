"""Text that came from a person, made harmless for screens, logs and thermal printers.

A first name containing ``ESC p`` would open the cash drawer, ``GS V`` would cut the paper and
``ESC @`` would reset the printer. Every value that enters a receipt template passes through
``sanitize_text`` (the Jinja environment's finalize hook), and the ESC/POS renderer strips controls
again from every line before encoding, so template text cannot carry them either. Names, scans and
audit details go through the same function.
"""

from __future__ import annotations

import re
import unicodedata

# C0, DEL, C1, and the Unicode line/paragraph separators (str.splitlines would split on them).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def sanitize_text(value: object) -> str:
    """``value`` as text in NFC with every C0/C1 control character removed (tabs become spaces)."""
    text = "" if value is None else str(value)
    text = unicodedata.normalize("NFC", text.replace("\t", " "))
    return _CONTROL.sub("", text)


def clean_name(raw: str, limit: int = 40) -> str:
    """A first name as printed on a receipt: no controls, no runs of spaces, bounded length."""
    return " ".join(sanitize_text(raw).split())[:limit]


def short_code(code: str) -> str:
    """A code as a log may show it: its first four symbols and ``…`` (a whole code is a voucher's value)."""
    plain = code.replace("-", "").replace(" ", "")
    return plain[:4] + "…" if len(plain) > 4 else plain
