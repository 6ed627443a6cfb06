"""What central accepts in a store's event payloads, checked before anything is written.

Central applies events to typed, length-limited PostgreSQL columns; a value that does not fit
(a 40-character code, a naive timestamp, a float amount, a missing key) must come back as a
``422 invalid_batch`` naming the event and the field, never as a database error halfway through
a batch. Lengths are read from the columns the values end up in, so the two cannot drift apart.
Event types central does not apply (``reward_released``, ``milestone_reached``, newer kinds) are
kept as they are.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import lru_cache
from typing import Any

import sqlalchemy as sa

from pos_referral.db.models import Code, Customer, LedgerEntry, Redemption
from pos_referral.db.models_central import CentralEvent
from pos_referral.db.models_promo import CardOffer
from pos_referral.domain.money import MoneyError, parse_money

MAX_MINOR = 10**15  # far above any basket, far below BIGINT
MAX_INT = 2**31 - 1  # points and store numbers are INTEGER columns

Check = Callable[[Any], str | None]  # None when fine, else what is wrong


def _length(column: Any) -> int:
    kind = column.type
    assert isinstance(kind, sa.String) and kind.length, column
    return int(kind.length)


def text(column: Any, *, empty: bool = False, null: bool = False) -> Check:
    """A string that fits ``column``; ``empty``: "" is fine too; ``null``: so is null."""
    limit = _length(column)
    low = 0 if empty else 1

    def check(value: Any) -> str | None:
        if value is None and null:
            return None
        if not isinstance(value, str) or not low <= len(value) <= limit or "\x00" in value:
            return f"a string of {low}-{limit} characters" + (" or null" if null else "")
        return None

    return check


def free_text(value: Any) -> str | None:
    return None if value is None or (isinstance(value, str) and "\x00" not in value) else "a string or null"


def integer(value: Any) -> str | None:
    ok = isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_INT
    return None if ok else f"an integer 0-{MAX_INT}"


@lru_cache(maxsize=4096)
def _minor(value: str | int) -> int:
    return parse_money(value)


def minor_units(value: str | int) -> int:
    """``parse_money`` for payload amounts, cached (a chain's baskets and discounts repeat a lot)."""
    if type(value) not in (str, int):  # exactly: True == 1 and 1.0 == 1 would share a cache entry
        raise MoneyError("an amount is a decimal string")
    return _minor(value)


def boolean(value: Any) -> str | None:
    return None if isinstance(value, bool) else "true or false"


def money(value: Any) -> str | None:
    try:
        return None if minor_units(value) <= MAX_MINOR else "an amount below 10^13"
    except MoneyError:
        return 'a decimal string such as "12.50"'


def timestamp(value: Any, *, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    try:
        ok = isinstance(value, str) and datetime.fromisoformat(value).tzinfo is not None
    except ValueError:
        ok = False
    return None if ok else "an ISO 8601 time with a UTC offset"


def optional_timestamp(value: Any) -> str | None:
    return timestamp(value, optional=True)


def customer_ids(value: Any) -> str | None:
    """A privacy request's customer ids: a short list of id strings."""
    check = text(Customer.id)
    if not isinstance(value, list) or not 0 < len(value) <= 100 or any(check(v) for v in value):
        return "a list of 1 to 100 customer ids"
    return None


# field -> (required, check); a field absent and not required is fine
_SPECS: dict[str, dict[str, tuple[bool, Check]]] = {
    "code_issued": {
        "customer_id": (True, text(Customer.id)), "code": (True, text(Code.code)),
        "program_id": (True, text(Code.program_id)), "at": (True, timestamp),
        "identity_hash": (False, text(Customer.identity_hash, null=True)), "first_name": (False, free_text),
        "store_no": (False, integer), "channel": (False, text(Code.channel)),
        "till_id": (False, text(Code.till_id, empty=True)), "bearer": (False, boolean),
    },
    "code_claimed": {  # a bearer code (printed by the print proxy) named its customer
        "code": (True, text(Code.code)), "bearer_customer_id": (True, text(Customer.id)),
        "customer_id": (True, text(Customer.id)), "at": (True, timestamp),
        "identity_hash": (True, text(Customer.identity_hash)), "first_name": (False, free_text),
    },
    "redemption_recorded": {
        "redemption_id": (True, text(Redemption.id)), "code": (True, text(Code.code)),
        "program_id": (True, text(Redemption.program_id)), "friend_id": (True, text(Customer.id)),
        "referrer_id": (True, text(LedgerEntry.customer_id)), "sale_id": (True, text(LedgerEntry.sale_id)),
        "basket": (True, money), "discount": (True, money), "at": (True, timestamp),
        "friend_identity_hash": (False, text(Customer.identity_hash, null=True)),
        "till_id": (False, text(Redemption.till_id, empty=True)),
        "variant": (False, text(Redemption.variant, empty=True)),
        "friend_code": (False, text(Redemption.friend_code, empty=True)),
        "reward_id": (False, text(LedgerEntry.reward_id, null=True)),
        "hold_until": (False, optional_timestamp), "friend_points": (False, integer),
    },
    "voucher_redeemed": {
        "code": (True, text(Code.code)), "sale_id": (True, text(LedgerEntry.sale_id)),
        "customer_id": (True, text(LedgerEntry.customer_id)), "discount": (True, money), "at": (True, timestamp),
        "reward_id": (False, text(LedgerEntry.reward_id, null=True)),
    },
    "sale_refunded": {
        "redemption_id": (True, text(Redemption.id)), "sale_id": (True, text(LedgerEntry.sale_id)),
        "amount": (True, money), "at": (True, timestamp),
    },
    "customer_forgotten": {"customer_ids": (True, customer_ids), "at": (True, timestamp)},
    "card_offered": {
        "sale_id": (True, text(CardOffer.sale_id)), "offered": (True, boolean), "accepted": (True, boolean),
        "at": (True, timestamp), "till_id": (False, text(CardOffer.till_id, empty=True)),
        "staff": (False, text(CardOffer.staff, empty=True)),
    },
}
_TYPE = text(CentralEvent.type)


def payload_problem(type_: Any, payload: dict[str, Any]) -> str | None:
    """Why this event cannot be applied (``"payload.code: a string of 1-14 characters"``), or None."""
    wrong = _TYPE(type_)
    if wrong:
        return f"type: {wrong}"
    for name, (required, check) in _SPECS.get(type_, {}).items():
        if name not in payload:
            if required:
                return f"payload.{name}: required for {type_}"
            continue
        wrong = check(payload[name])
        if wrong:
            return f"payload.{name}: {wrong}"
    if type_ == "redemption_recorded" and payload.get("reward_id") and not payload.get("hold_until"):
        return "payload.hold_until: required with reward_id"
    return None
