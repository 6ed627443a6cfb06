"""JSON API for the till's after-sale prompt: should it offer a referral card, and the answer."""

from __future__ import annotations

from flask import Blueprint, Response, g, jsonify, session

from pos_referral.services.promo import prompts
from pos_referral.web.api.input import invalid, json_body, sale_id_field
from pos_referral.web.auth import current_store, require_till
from pos_referral.web.problems import ApiProblem

bp = Blueprint("promo_api", __name__, url_prefix="/api/v1/prompts")
bp.before_request(require_till)


def _flag(body: dict[str, object], name: str, default: bool | None = None) -> bool:
    value = body.get(name, default)
    if not isinstance(value, bool):
        raise invalid(f"{name} must be true or false", name)
    return value


@bp.get("/card-offer/<sale_id>")
def should_offer(sale_id: str) -> Response:
    """Whether the till should ask "give this customer a referral card?" after this sale."""
    if not 1 <= len(sale_id) <= 64:
        raise ApiProblem(422, "invalid_request", "sale_id must be 1-64 characters", field="sale_id")
    offer, reason = prompts.should_offer(current_store().ctx, sale_id)
    return jsonify({"sale_id": sale_id, "offer": offer, "reason": reason})


@bp.post("/card-offer")
def record() -> tuple[Response, int]:
    """Record the cashier's answer once per sale: offered (or skipped) and accepted or not."""
    body = json_body()
    sale_id = sale_id_field(body)
    accepted = _flag(body, "accepted")
    offered = _flag(body, "offered", True)
    answer = prompts.record_offer(current_store().ctx, sale_id=sale_id, accepted=accepted, offered=offered,
                                  till_id=str(g.get("till_id") or ""), staff=str(session.get("staff") or ""))
    return jsonify(answer.view()), 201 if answer.created else 200
