"""Money: Decimal strings at the edges, integer minor units inside, never a float.

Rounding rule (documented in the README and tested): a percentage of a basket is rounded
half-up to the minor unit, and no discount ever exceeds the basket it applies to.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal

MINOR_PER_MAJOR = 100  # every currency is counted in hundredths (the API, storage and receipts agree)
DECIMALS = 2
_QUANT = Decimal("0.01")
MAX_MINOR = 10**13  # ten thousand billion minor units: no real basket is larger
MAX_DIGITS = 11  # whole digits of the largest amount a string may hold (99,999,999,999.99 < MAX_MINOR)
# The one accepted form: ASCII digits, an optional point with one or two decimals. Not "1e3", "1_000",
# "+5", " 5", "１２３" (full-width digits), "NaN" or "Infinity", all of which Decimal() would take.
_PLAIN = re.compile(r"(\d+)(?:\.(\d+))?", re.ASCII)
EXAMPLE = 'a decimal string such as "12.50"'
_KINDS = {float: "a number with a fraction", bool: "true or false", type(None): "null"}


class MoneyError(ValueError):
    """A money value that is not a plain non-negative decimal with at most two places."""


def parse_money(value: object, *, field: str = "amount") -> int:
    """Parse a plain decimal string such as ``"12.50"`` (or a JSON integer of whole units) into minor units.

    Floats are refused on purpose: ``0.1 + 0.2`` must never reach a till. Each refusal names ``field``
    and says what was wrong, for an API problem's ``detail``.
    """
    if isinstance(value, bool) or not isinstance(value, (int, str, Decimal)):
        raise MoneyError(f"{field} must be {EXAMPLE}, not {_KINDS.get(type(value), 'a list or an object')}")
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise MoneyError(f"{field} must be a finite amount")
        value = format(value, "f")
    if isinstance(value, int):
        if value < 0:
            raise MoneyError(f"{field} must not be negative")
        if value > MAX_MINOR // MINOR_PER_MAJOR:
            raise MoneyError(f"{field} is too large")
        return value * MINOR_PER_MAJOR
    return _parse_text(value, field)


def _parse_text(text: str, field: str) -> int:
    found = _PLAIN.fullmatch(text)
    if found is None:
        if text.startswith("-") and _PLAIN.fullmatch(text[1:]):
            raise MoneyError(f"{field} must not be negative")
        raise MoneyError(f"{field} must be {EXAMPLE}: digits 0-9 and at most one point, "
                         "without sign, spaces, separators or exponent")
    whole, fraction = found.group(1), found.group(2) or ""
    if len(fraction) > DECIMALS:
        raise MoneyError(f"{field} has more than two decimal places")
    if len(whole.lstrip("0")) > MAX_DIGITS:
        raise MoneyError(f"{field} is too large")
    return int(whole.lstrip("0") or "0") * MINOR_PER_MAJOR + int(fraction.ljust(DECIMALS, "0") or 0)


def format_money(minor: int) -> str:
    """Minor units to the API's decimal string: ``1250 -> "12.50"``."""
    sign = "-" if minor < 0 else ""
    minor = abs(minor)
    return f"{sign}{minor // MINOR_PER_MAJOR}.{minor % MINOR_PER_MAJOR:02d}"


def percent_of(minor: int, percent: Decimal) -> int:
    """``percent`` % of ``minor`` units, rounded half-up to a whole minor unit."""
    exact = Decimal(minor) * percent / Decimal(100)
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def to_decimal(minor: int) -> Decimal:
    """Minor units as a Decimal in major units (for formatting in a locale)."""
    return (Decimal(minor) / MINOR_PER_MAJOR).quantize(_QUANT)
