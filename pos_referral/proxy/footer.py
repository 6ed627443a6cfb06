"""The one question the print proxy asks the referral side: this receipt's footer, or none.

The byte side (``pos_referral/proxy``) owns the stream: it finds each receipt's cut, keeps the
printer state the POS set, and calls ``FooterSource.footer_for`` off the byte path, waiting at most
``[proxy] footer_timeout_ms``; a late, failing or empty answer lets the receipt pass unchanged. The
referral side (offer policy, a bearer code, the footer template, the sale seen) implements it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class ReceiptSeen:
    """One receipt as the POS sent it, up to (not including) its cut."""

    text: str  # its printable text, decoded under the code pages the POS chose; lines end with "\n"
    peer: str  # the POS's address ("192.168.1.20:53122"), for logs and per-POS counting


class FooterSource(Protocol):
    def footer_for(self, receipt: ReceiptSeen) -> bytes | None:
        """ESC/POS bytes to print after the receipt and before its cut, or None for no footer.

        The bytes start on a fresh line in the printer's default state (left, normal size, no
        emphasis, the profile's code page) and must not initialise the printer (``ESC @``) or cut:
        the proxy prepares the state before them and restores the POS's state after them.
        May also record the sale; must be safe to call from the proxy's threads."""
        ...


class NoFooter:
    """Every receipt passes unchanged (the proxy as a plain pass-through)."""

    def footer_for(self, receipt: ReceiptSeen) -> bytes | None:
        return None
