"""Signed owner links: the receipt QR lets the code's owner see their progress; the bare code does not.

The signature (``?s=``) carries its own expiry day and is keyed to the code's owner-link generation:
it stops working after ``[store] owner_link_days``, and at once when the customer's card is printed
again (a lost card, a receipt someone else picked up: the new card's link replaces every old one).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from datetime import date

import sqlalchemy as sa
import sqlalchemy.orm as so

from pos_referral.db.models import Code
from pos_referral.services.context import StoreContext
from pos_referral.services.unit_of_work import UnitOfWork

_EPOCH = date(1970, 1, 1)
_MAC_BYTES = 10


def _mac(ctx: StoreContext, code: str, generation: int, expires_day: int) -> bytes:
    message = f"owner:{code}:{generation}:{expires_day}".encode()
    return hmac.new(ctx.secrets.session_key, message, hashlib.sha256).digest()[:_MAC_BYTES]


def _today(ctx: StoreContext) -> int:
    return (ctx.clock().astimezone(ctx.tz).date() - _EPOCH).days


def owner_signature(ctx: StoreContext, code: str, generation: int) -> str:
    """A signature valid from today for ``owner_link_days``, for the code's current ``generation``."""
    expires_day = _today(ctx) + ctx.settings.config.store.owner_link_days
    raw = expires_day.to_bytes(3, "big") + _mac(ctx, code, generation, expires_day)
    return base64.b32encode(raw).decode().rstrip("=").lower()


def owner_url(ctx: StoreContext, landing_url: str, code: str, generation: int) -> str:
    return f"{landing_url}?s={owner_signature(ctx, code, generation)}"


def is_owner(ctx: StoreContext, code: str, generation: int, signature: str | None) -> bool:
    """The signature is this code's, of its current generation, and not past its day."""
    if not signature or len(signature) > 40:
        return False
    text = signature.strip().upper()
    try:
        raw = base64.b32decode(text + "=" * (-len(text) % 8))
    except (binascii.Error, ValueError):
        return False
    if len(raw) != 3 + _MAC_BYTES:
        return False
    expires_day = int.from_bytes(raw[:3], "big")
    if expires_day < _today(ctx):
        return False
    return hmac.compare_digest(_mac(ctx, code, generation, expires_day), raw[3:])


def generation(db: so.Session | sa.Connection, code: str) -> int:
    """The code's current owner-link generation (0 for a code never reprinted)."""
    return int(db.execute(sa.select(Code.owner_generation).where(Code.code == code)).scalar() or 0)


def renew(ctx: StoreContext, code: str) -> int:
    """A new generation for the code: every owner link printed or mailed before stops working."""
    with UnitOfWork(ctx.db, write=True) as uow:
        uow.session.execute(sa.update(Code).where(Code.code == code)
                            .values(owner_generation=Code.owner_generation + 1))
        current = generation(uow.session, code)
        uow.commit()
    return current


def card_url(ctx: StoreContext, code: str, *, created: bool) -> str:
    """The owner's link for a card being printed: a new code's first card keeps generation 0; a card
    printed again for a known code revokes the links on the old card and receipts."""
    return owner_url(ctx, ctx.landing_url(code), code, 0 if created else renew(ctx, code))


def generation_of(ctx: StoreContext, code: str) -> int:
    """``generation`` in a read of its own (for a page after the claim's transaction)."""
    with UnitOfWork(ctx.db, write=False) as read:
        return generation(read.conn, code)
