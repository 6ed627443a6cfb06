"""Text that came from a person, made safe for screens and thermal printers."""

from __future__ import annotations

import re
import unicodedata

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def strip_controls(text: str) -> str:
    """Drop C0/C1 control characters (ESC p would open the cash drawer)."""
    return _CONTROL.sub("", unicodedata.normalize("NFC", text))


def clean_name(raw: str, limit: int = 40) -> str:
    """A first name as printed on a receipt: no controls, no runs of spaces, bounded length."""
    return " ".join(strip_controls(raw).split())[:limit]
