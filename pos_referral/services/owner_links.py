"""Signed owner links: the receipt QR lets the code's owner see their progress; the bare code does not."""

from __future__ import annotations

import base64
import hashlib
import hmac

from pos_referral.services.context import StoreContext


def owner_signature(ctx: StoreContext, code: str) -> str:
    mac = hmac.new(ctx.secrets.session_key, f"owner:{code}".encode(), hashlib.sha256).digest()[:10]
    return base64.b32encode(mac).decode().rstrip("=").lower()


def owner_url(ctx: StoreContext, landing_url: str, code: str) -> str:
    return f"{landing_url}?s={owner_signature(ctx, code)}"


def is_owner(ctx: StoreContext, code: str, signature: str | None) -> bool:
    return bool(signature) and hmac.compare_digest(owner_signature(ctx, code), (signature or "").lower())
