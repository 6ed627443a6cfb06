"""Find a receipt's total and number in the text a POS printed: layout presets and the shop's own patterns.

The print proxy sees only what the POS printed, so the total (for ``[proxy] minimum_total``) and the
receipt number (to record the sale once) are read off the paper's text. A preset covers a family of
layouts; a shop whose POS prints something else writes ``total_pattern`` / ``receipt_pattern`` (the
first group is the value). Amounts are read the way receipts write them: ``12.50``, ``12,50``,
``1,234.56``, ``1.234,56``, ``1 234,56``, ``Rp 125.000`` (three digits after the last separator are
thousands). Pure: no I/O, compiled once per configuration.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from pos_referral.domain.money import MAX_MINOR, MINOR_PER_MAJOR

# an amount as printed, with or without thousands separators; 1-2 decimals after "." or ","
AMOUNT = r"(-?\d{1,3}(?:[ .,'\u00a0\u202f]\d{3})+(?:[.,]\d{1,2})?|-?\d+(?:[.,]\d{1,2})?)"
# between the label and the amount: punctuation, spaces, a currency sign or code (upper case: not "tax"),
# never other words
_GAP = r"[^\w\n]*(?:(?-i:[A-Z]{3})|Rp\.?|kr\.?|Kč|zł|RM|S/|Ft|Bs\.?)?[^\w\n\d-]*"
_NUMBER = r"([A-Za-z0-9][A-Za-z0-9\-/.]{1,39}[A-Za-z0-9]|[0-9]{1,3})"
_NUMBER_GAP = r"[ \t-]*(?:Number|Num\.?|No\.?|Nr\.?|n[°º]?\.?|#)?\s*[:#.]?\s*"


_AFTER = r"[ \t]*(?:(?-i:[A-Z]{3})|[^\w\s]{1,2}|kr\.?)?[ \t]*$"  # "23.40 EUR", "23,40 €", "99,00 kr"


def _total(labels: str) -> str:
    return rf"(?im)^[ \t*=>-]*(?:{labels})(?![^\W\d_]){_GAP}{AMOUNT}{_AFTER}"


def _receipt(labels: str) -> str:
    return rf"(?im)^[ \t*#-]*(?:{labels})(?![^\W\d_]){_NUMBER_GAP}{_NUMBER}"


_GENERIC_TOTALS = ("grand total|total a pagar|total to pay|total due|totalt|totale|total|sum|suma|summe|jumlah|"
                   "รวมทั้งสิ้น|ยอดรวม|รวม")
_GENERIC_RECEIPTS = ("receipt|rcpt|invoice|ticket|bon|beleg|kvitto|kvittering|scontrino|paragon|struk|nota|"
                     "factura|ใบเสร็จ|เลขที่")

PRESETS: dict[str, tuple[str, str]] = {
    # TOTAL/Total/SUM/Totalt/Jumlah/รวม/Totale/Suma ... then the amount, on one line
    "generic": (_total(_GENERIC_TOTALS), _receipt(_GENERIC_RECEIPTS)),
    # Germany, Austria, Switzerland: "SUMME EUR 23,40", "Zu zahlen 23,40", "Bon-Nr. 4711", "Beleg-Nr: 0815"
    "german": (_total("zu zahlen|gesamtbetrag|gesamt|summe|total|betrag"),
               _receipt(r"bon-?nr\.?|beleg-?nr\.?|bon|beleg|rechnungs-?nr\.?|rechnung")),
    # Nordic: "Totalt 1 234,00 kr", "Å betale 99,00", "Att betala 99,00", "I alt 99,00", "Kvittonr 123"
    "nordic": (_total("att betala|å betale|at betale|i alt|totalt|summa|yhteensä|total"),
               _receipt(r"kvittonr\.?|kvitteringsnr\.?|kvittering|kvitto|kuitti|bongnr\.?|bong")),
    # Indonesia, Malaysia, Thailand, Vietnam: "Total Belanja Rp 125.000", "Grand Total", "รวมทั้งสิ้น 1,250.00",
    # "Tổng cộng 85.000", "No. Struk: 00123", "No Nota 4711", "เลขที่ 0042", "Số HĐ 0042"
    "southeast_asia": (_total("total belanja|grand total|jumlah|total|รวมทั้งสิ้น|ยอดรวม|รวม|tổng cộng|tổng tiền|"
                              "thành tiền|jumlah besar"),
                       _receipt(r"no\.? ?struk|no\.? ?nota|no\.? ?resit|struk|nota|resit|invoice|ใบเสร็จ|เลขที่|"
                                r"số hđ|hóa đơn|receipt")),
}


class PatternError(ValueError):
    """A configured pattern does not compile or has no group; the message names the key."""


def parse_amount(text: str) -> int | None:
    """``"1.234,56"`` -> 123456 minor units; None when it is no amount (or beyond any real basket)."""
    raw = text.strip().replace("\u00a0", " ").replace("\u202f", " ").replace("'", " ")
    negative = raw.startswith("-")
    raw = raw.lstrip("-").strip()
    last = max(raw.rfind("."), raw.rfind(","))
    if last >= 0 and len(raw) - last - 1 in (1, 2):
        whole, fraction = raw[:last], raw[last + 1:]
    else:
        whole, fraction = raw, ""
    digits = re.sub(r"[ .,]", "", whole)
    if not digits.isdigit() or (fraction and not fraction.isdigit()):
        return None
    try:
        value = Decimal(f"{digits}.{fraction or '0'}")
    except InvalidOperation:
        return None
    minor = int(value * MINOR_PER_MAJOR)
    if minor > MAX_MINOR:
        return None
    return -minor if negative else minor


def compile_pattern(pattern: str, key: str) -> re.Pattern[str]:
    """One configured expression, or a PatternError naming ``key`` (``[proxy] total_pattern``)."""
    try:
        compiled = re.compile(pattern, re.MULTILINE)
    except re.error as exc:
        raise PatternError(f"[proxy] {key} is not a valid regular expression: {exc}") from None
    if compiled.groups < 1:
        raise PatternError(f"[proxy] {key} needs a group ( ... ) around the value it finds")
    return compiled


@dataclass(frozen=True)
class ReceiptFacts:
    total_minor: int | None
    receipt_no: str | None


class ReceiptReader:
    """The layout's (or the shop's own) patterns, compiled once, applied to each receipt's text."""

    def __init__(self, layout: str = "generic", total_pattern: str = "", receipt_pattern: str = "") -> None:
        if layout not in PRESETS:
            raise PatternError(f"[proxy] layout must be one of {', '.join(sorted(PRESETS))}, not {layout!r}")
        preset_total, preset_receipt = PRESETS[layout]
        self.total = compile_pattern(total_pattern, "total_pattern") if total_pattern \
            else re.compile(preset_total)
        self.receipt = compile_pattern(receipt_pattern, "receipt_pattern") if receipt_pattern \
            else re.compile(preset_receipt)

    def read(self, text: str) -> ReceiptFacts:
        """The total is the last total line found (a subtotal or tax line above it does not win)."""
        total = None
        for found in self.total.finditer(text):
            amount = parse_amount(found.group(1) or "")
            if amount is not None:
                total = amount
        number = self.receipt.search(text)
        receipt_no = (number.group(1) or "").strip()[:64] if number else None
        return ReceiptFacts(total, receipt_no or None)
