"""Ids both sides of the sync agree on, computed the same way at every store and at central.

A store that accepts a code minted at another store (authentic, not yet synced) records the
referrer under a placeholder customer id derived from the code; central maps that placeholder to
the real customer when the code's ``code_issued`` event arrives. Sale ids are per store (``S1``
exists at every shop); central keys them by store too.
"""

from __future__ import annotations

import hashlib

PLACEHOLDER_PREFIX = "x"


def placeholder_customer_id(code: str) -> str:
    """The local id of the (unknown) customer who owns a referral code minted elsewhere."""
    return PLACEHOLDER_PREFIX + code


def chain_sale_id(store_no: int, sale_id: str) -> str:
    """A store's sale id as central keys it: ``<store_no>:<sale id>``, hashed when too long."""
    value = f"{store_no}:{sale_id}"
    if len(value) <= 64:
        return value
    return f"{store_no}:#" + hashlib.sha256(sale_id.encode()).hexdigest()[:48]
