"""Who may open a till's customer display: whoever holds its link, whose ``k`` is a MAC of the till's name.

The display shows first names and codes as they are given at the till, so its page and its events are
not for anyone on the street who guesses ``/display/T1``. Staff open the link from the till page
(signed in) and put it on the tablet once (kiosk-mode Chromium starts with it). The key is derived
from the store's session key, so it needs no storage and survives restarts; a wrong key is the same
404 as an unknown till (no oracle for till names).
"""

from __future__ import annotations

import base64
import hashlib
import hmac

_LABEL = b"customer-display:"


def display_key(session_key: bytes, till_id: str) -> str:
    """The till's display key: 24 base32 characters (120 bits) of an HMAC-SHA256 over its name."""
    mac = hmac.new(session_key, _LABEL + till_id.encode(), hashlib.sha256).digest()
    return base64.b32encode(mac[:15]).decode().lower()


def key_matches(session_key: bytes, till_id: str, given: str) -> bool:
    given = given.strip().lower()[:64]
    if not given.isascii():  # compare_digest refuses non-ASCII text (a TypeError, not a "no")
        return False
    return hmac.compare_digest(display_key(session_key, till_id), given)
