"""Money: Decimal strings at the edges, integer minor units inside, never a float.

Rounding rule (documented in the README and tested): a percentage of a basket is rounded
half-up to the minor unit, and no discount ever exceeds the basket it applies to.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

MINOR_PER_MAJOR = 100
_QUANT = Decimal("0.01")
MAX_MINOR = 10**13  # ten thousand billion minor units: no real basket is larger


class MoneyError(ValueError):
    """A money value that is not a plain non-negative decimal with at most two places."""


def parse_money(value: object, *, field: str = "amount") -> int:
    """Parse a decimal string (or int) such as ``"12.50"`` into minor units.

    Floats are refused on purpose: ``0.1 + 0.2`` must never reach a till.
    """
    if isinstance(value, (bool, float)):
        raise MoneyError(f"{field} must be a decimal string such as \"12.50\", not a number")
    if isinstance(value, int):
        dec = Decimal(value)
    elif isinstance(value, str):
        text = value.strip()
        try:
            dec = Decimal(text)
        except InvalidOperation:
            raise MoneyError(f"{field} must be a decimal string such as \"12.50\"") from None
    elif isinstance(value, Decimal):
        dec = value
    else:
        raise MoneyError(f"{field} must be a decimal string such as \"12.50\"")
    if not dec.is_finite():
        raise MoneyError(f"{field} must be a finite amount")
    if dec < 0:
        raise MoneyError(f"{field} must not be negative")
    if dec != dec.quantize(_QUANT, rounding=ROUND_HALF_UP):
        raise MoneyError(f"{field} has more than two decimal places")
    minor = int(dec * MINOR_PER_MAJOR)
    if minor > MAX_MINOR:
        raise MoneyError(f"{field} is too large")
    return minor


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
