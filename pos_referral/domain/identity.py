"""Customer identity at the till: normalise a phone or email, keep only a keyed hash and a hint.

The raw value never reaches the database: matching (self-referral, one referrer per friend,
new customers only) works on HMAC-SHA256 under the chain's pepper, so a stolen database does
not reveal who shops here, and every store of the chain computes the same hash offline.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass

_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}\.[^@\s]{2,}$")


class IdentityError(ValueError):
    """A phone or email that cannot identify anybody."""


@dataclass(frozen=True)
class Identity:
    kind: str  # "phone" | "email"
    normalised: str

    def hashed(self, pepper: bytes) -> str:
        return hmac.new(pepper, f"{self.kind}:{self.normalised}".encode(), hashlib.sha256).hexdigest()

    @property
    def hint(self) -> str:
        """Masked for receipts and screens: ``+62 *** *** 789``, ``a***@example.com``."""
        if self.kind == "phone":
            digits = self.normalised
            return f"{digits[:3]} *** *** {digits[-3:]}"
        local, _, domain = self.normalised.partition("@")
        return f"{local[:1]}***@{domain}"


def normalise_phone(raw: str) -> Identity:
    text = raw.strip()
    plus = text.startswith("+") or text.startswith("00")
    digits = re.sub(r"\D", "", text)
    if text.startswith("00"):
        digits = digits[2:]
    if not 6 <= len(digits) <= 15 or re.search(r"[^\d\s+().-]", text):
        raise IdentityError("phone must be 6 to 15 digits, optionally with +country code")
    return Identity("phone", ("+" if plus else "") + digits)


def normalise_email(raw: str) -> Identity:
    text = raw.strip().lower()
    if not _EMAIL.match(text) or len(text) > 254:
        raise IdentityError("email is not a valid address")
    return Identity("email", text)
