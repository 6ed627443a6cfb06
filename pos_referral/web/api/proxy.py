"""``/api/v1/proxy/arm``: "Give card" for the print proxy: the next receipt the POS prints gets a referral code.

The till page's button (F7) calls it with the till session; a POS macro button or a keyboard
key on the POS machine calls it with a till's API token (``Authorization: Bearer``). The arm lasts
``[proxy] armed_seconds`` and covers one receipt (``services/proxy_offers/arming.py``).
"""

from __future__ import annotations

from flask import Blueprint, Response, g, jsonify

from pos_referral.services.proxy_offers import arming
from pos_referral.web.auth import current_store, require_till

bp = Blueprint("proxy_api", __name__, url_prefix="/api/v1/proxy")
bp.before_request(require_till)


def _state(until: object) -> dict[str, object]:
    section = current_store().settings.config.proxy
    return {"armed": until is not None, "armed_until": until.isoformat() if until is not None else None,  # type: ignore[attr-defined]
            "armed_seconds": section.armed_seconds, "offer": section.offer, "enabled": section.enabled}


@bp.post("/arm")
def arm() -> Response:
    """Arm the proxy: the next receipt printed within ``armed_seconds`` gets a referral code."""
    until = arming.arm(current_store().ctx)
    return jsonify(_state(until) | {"till_id": str(g.get("till_id") or "")})


@bp.delete("/arm")
def disarm() -> Response:
    """Take the arm back (pressed by mistake)."""
    arming.disarm(current_store().ctx)
    return jsonify(_state(None))


@bp.get("/arm")
def state() -> Response:
    """Whether the proxy is armed, and until when."""
    return jsonify(_state(arming.armed_until(current_store().ctx)))
