"""JSON API for the sales feed: every sale the POS (or the till page) makes, and the till's invite hint.

``POST /api/v1/sales`` is idempotent by ``sale_id`` (201 the first time, 200 for the same sale again,
409 ``sale_conflict`` for another total). A till page session reports as source ``till`` with its signed-in
cashier; a till's API token as ``api`` with the body's ``cashier``.
"""

from __future__ import annotations

from flask import Blueprint, Response, g, jsonify, request

from pos_referral.domain.money import format_money
from pos_referral.services import sales
from pos_referral.services.customers import UnknownCustomerError
from pos_referral.services.promo import invite_hint
from pos_referral.web.api.input import cashier_field, customer_field, json_body, money_field, sale_id_field
from pos_referral.web.auth import current_store, require_till
from pos_referral.web.problems import ApiProblem

bp = Blueprint("sales_api", __name__, url_prefix="/api/v1")
bp.before_request(require_till)


def _by_bearer() -> bool:
    return request.headers.get("Authorization", "").lower().startswith("bearer ")


@bp.post("/sales")
def record_sale() -> tuple[Response, int]:
    """Record one sale for the reports, once per sale_id: 201 new, 200 the same sale again, 409 another total."""
    body = json_body()
    sale_id = sale_id_field(body)
    total = money_field(body, "total")
    assert total is not None
    customer = customer_field(body)
    cashier = cashier_field(body)
    bearer = _by_bearer()
    seen = sales.SaleSeen(sale_id=sale_id, total_minor=total, source="api" if bearer else "till",
                          cashier=cashier if bearer else (g.staff or cashier), till_id=g.till_id,
                          customer=customer if customer.given else None)
    try:
        done = sales.record_sale(current_store().ctx, seen)
    except sales.SaleConflict as exc:
        raise ApiProblem(409, "sale_conflict",
                         f"Sale {exc.sale_id} was already recorded with another total "
                         f"({format_money(exc.recorded_minor)}); use a new sale_id for another sale.",
                         recorded_total=format_money(exc.recorded_minor)) from None
    except UnknownCustomerError as exc:
        raise ApiProblem(404, "unknown_customer", str(exc), field="customer") from None
    return jsonify({"sale_id": done.sale_id, "total": format_money(done.total_minor), "at": done.at.isoformat(),
                    "customer_id": done.customer_id, "recorded": done.created,
                    "recorded_by": done.recorded_by}), 201 if done.created else 200


@bp.post("/prompts/invite-hint")
def should_invite() -> Response:
    """Is the customer at the till a frequent one without a referral card? (the till's "offer one" hint)."""
    body = json_body()
    customer = customer_field(body, required=True)
    hint = invite_hint.frequent_without_card(current_store().ctx, customer)
    return jsonify({"invite": hint is not None, "visit_days": hint.visit_days if hint else 0,
                    "window_days": invite_hint.WINDOW_DAYS})
