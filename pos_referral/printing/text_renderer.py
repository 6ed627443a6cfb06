"""Document -> plain text, for tests, logs and the ``.txt`` beside each preview job.

Codes are shown as markers a test can read: ``[qr URL]``, ``[barcode CODE128 DATA]``,
``[image NAME]`` and ``[cut]``.
"""

from __future__ import annotations

import logging

from pos_referral.printing import document as d

logger = logging.getLogger(__name__)


def render_text(document: d.Document, columns: int = 48) -> str:
    """The receipt as lines of at most ``columns`` characters (double-width lines hold half as many)."""
    lines: list[str] = []
    for element in document.elements:
        if isinstance(element, d.Text | d.Columns | d.Rule):
            lines.extend(d.element_lines(element, columns))
        elif isinstance(element, d.Barcode):
            lines.append(f"[barcode CODE128 {element.data}]")
        elif isinstance(element, d.QR):
            lines.append(f"[qr {element.data}]")
        elif isinstance(element, d.Image):
            lines.append(f"[image {element.path.name}]")
        elif isinstance(element, d.Feed):
            lines.extend([""] * element.lines)
        elif isinstance(element, d.Cut):
            lines.append("[cut]")
    return "\n".join(lines) + "\n"
