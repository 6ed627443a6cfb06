"""Money as people read it: currency and the locale's separators (Babel, CLDR), in one place.

``money_text(5150, "NOK", "nb") == "51,50 kr"`` (with no-break spaces where the locale wants them),
``"€51.50"`` in English, ``"Rp1.500.000"`` for a whole Rupiah amount in Indonesian. Receipts, pages,
the dashboard, mails and the staff guide all call this; the API, ``report --format json`` and CSV
cells keep the machine form of ``domain/money.format_money`` (``"51.50"``), and CSV headers name
the currency (``header_with_currency``).

The locale is always passed in (a page's language, a receipt's language); nothing here reads a
request. A currency whose usual form has no decimals (IDR, JPY, ...) is shown without them when the
amount is whole, and with the two decimals we count in when it is not, so no sen is ever hidden.
"""

from __future__ import annotations

import functools
from decimal import Decimal, InvalidOperation

from babel import Locale, UnknownLocaleError
from babel.numbers import format_currency, get_currency_precision

from pos_referral.domain.money import DECIMALS, MINOR_PER_MAJOR, to_decimal
from pos_referral.domain.rules import Program

DEFAULT_LOCALE = "en"
_ALIASES = {"no": "nb", "nn": "nb", "in": "id"}


def locale_name(lang: str | None) -> str:
    """A locale Babel knows for ``lang`` ("nb", "pt_BR", "en-GB"); English when unknown or empty."""
    code = (lang or DEFAULT_LOCALE).replace("-", "_")
    code = _ALIASES.get(code.lower(), code)
    try:
        return str(Locale.parse(code))
    except (UnknownLocaleError, ValueError, TypeError):
        return DEFAULT_LOCALE


@functools.lru_cache(maxsize=64)
def _locale(lang: str | None) -> Locale:
    """The parsed Babel locale of ``lang``: parsing the name again on every amount was half of each call
    (a dashboard writes a few thousand amounts)."""
    return Locale.parse(locale_name(lang))


@functools.lru_cache(maxsize=4096)
def money_text(minor: int, currency: str, lang: str | None) -> str:
    """``minor`` units of ``currency`` written as a reader of ``lang`` expects (never a float)."""
    currency = (currency or "").upper()
    locale = _locale(lang)
    amount = to_decimal(minor)
    whole = minor % MINOR_PER_MAJOR == 0
    if get_currency_precision(currency) < DECIMALS and not whole:  # its usual form would round the fraction away
        return str(format_currency(amount, currency, locale=locale, currency_digits=False))
    return str(format_currency(amount, currency, locale=locale))


def money_parts(currency: str, lang: str | None) -> dict[str, str | bool]:
    """How ``money_text`` writes this currency in ``lang``, in pieces a browser can apply to a decimal string
    (the till page's ``money.js``), so the till reads exactly as the receipt: ``prefix``, ``group``,
    ``decimal``, ``suffix``, ``minus``, and ``whole_plain`` (whole amounts without decimals, as IDR)."""
    probe = money_text(123456789, currency, lang)  # 1,234,567.89 in the currency's own form
    one, negative = money_text(100, currency, lang), money_text(-100, currency, lang)
    first = next(i for i, ch in enumerate(probe) if ch.isdigit())
    last = max(i for i, ch in enumerate(probe) if ch.isdigit())
    body = probe[first:last + 1]
    return {"prefix": probe[:first], "suffix": probe[last + 1:], "group": body[1:body.index("234")],
            "decimal": body[body.index("567") + 3:body.index("89")],
            "minus": negative[:negative.index(one)] if negative.endswith(one) else "-",
            "whole_plain": get_currency_precision(currency.upper()) < DECIMALS}


def decimal_text(value: object, currency: str, lang: str | None) -> str:
    """A decimal string such as ``"12.50"`` (a print job's context) as money text; other text as it came.

    Job contexts hold the API's decimal strings; a POS program that prints our footer may pass its own
    already-formatted text, which is kept (with the currency after it, as before) rather than refused."""
    text = str(value if value is not None else "").strip()
    try:
        number = Decimal(text)
    except InvalidOperation:
        return f"{text} {currency}".strip() if text else ""
    if not number.is_finite():
        return text
    minor = int((number * MINOR_PER_MAJOR).to_integral_value())
    return money_text(minor, currency, lang)


def header_with_currency(header: str, currency: str) -> str:
    """A CSV column header that names the currency of its plain numbers: ``"Reward cost (EUR)"``."""
    return f"{header} ({currency.upper()})" if currency else header


def program_amounts(program: Program) -> dict[str, int]:
    """The program's amounts a shop may name in its own prose (``[texts]``) as ``{minimum}`` and so on."""
    return {"minimum": program.minimum_basket, "referrer_amount": program.referrer_reward.amount,
            "friend_amount": program.friend_reward.amount, "friend_max": program.friend_reward.max_amount,
            "cap_amount": program.cap.max_amount}


def fill_amounts(text: str, program: Program, currency: str, lang: str | None) -> str:
    """A program's prose with ``{minimum}``, ``{referrer_amount}``, ``{friend_amount}``, ``{friend_max}`` and
    ``{cap_amount}`` written as money in ``lang`` ("Give 10%, get {referrer_amount}" -> "Give 10%, get €10.00").

    Plain replacement, no ``str.format``: any other brace in a shop's text stays as written."""
    if "{" not in text:
        return text
    for name, minor in program_amounts(program).items():
        key = "{" + name + "}"
        if key in text:
            text = text.replace(key, money_text(minor, currency, lang))
    return text
