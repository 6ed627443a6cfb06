"""The OpenAPI 3 document of API v1; a test checks it lists exactly the real routes."""

from __future__ import annotations

from importlib.metadata import version
from typing import Any

from flask import Blueprint, Response, jsonify

from pos_referral.domain.errors import REASONS

bp = Blueprint("openapi", __name__)

MONEY = {"type": "string", "pattern": r"^\d{1,11}(\.\d{1,2})?$", "example": "42.50",
         "description": "ASCII digits, at most two decimals; no sign, exponent, spaces or separators; "
                        "at most the shop's [security] max_amount_accepted "
                        "(default 1000000.00; 10000000000.00 for small-unit currencies such as IDR)"}
CODE = {"type": "string", "minLength": 1, "maxLength": 500, "example": "0K3M-7QW2-XC9P-4T"}
CUSTOMER = {
    "type": "object",
    "properties": {
        "phone": {"type": "string", "example": "+47 912 34 567"},
        "email": {"type": "string", "format": "email"},
        "customer_id": {"type": "string"},
        "first_name": {"type": "string", "maxLength": 40},
        "language": {"type": "string", "enum": ["en", "id", "nb", "th", "it", "pl"]},
    },
}
PROBLEM = {
    "type": "object",
    "required": ["type", "title", "status", "code", "detail"],
    "properties": {
        "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
        "code": {"type": "string", "examples": sorted(REASONS)}, "detail": {"type": "string"},
        "instance": {"type": "string"},
    },
}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def _responses(ok: dict[str, str], *problems: int) -> dict[str, Any]:
    out: dict[str, Any] = {status: {"description": text, **_json({"type": "object"})} for status, text in ok.items()}
    for status in (401, 429, *problems):
        out[str(status)] = {"description": "problem",
                            "content": {"application/problem+json": {"schema": _ref("Problem")}}}
    return out


def _body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, **_json(schema)}


def _path_param(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


CASHIER = {"type": "string", "minLength": 1, "maxLength": 40, "example": "Ana",
           "description": "Who served the sale, as the POS names them (the per-cashier report); a till page "
                          "session uses its signed-in cashier instead"}
SALE_ID = {"type": "string", "pattern": r"^[!-~]{1,64}$"}
SALES_PATHS: dict[str, Any] = {
    "/api/v1/sales": {"post": {
        "summary": "Report a sale (any sale, with or without a code): the reports' denominator",
        "description": (
            "Idempotent by `sale_id`: 201 the first time, 200 for the same sale again (`recorded` false). "
            "Another total for a known `sale_id` is 409 `sale_conflict` (with `recorded_total`), except for a "
            "sale a redemption already recorded (`recorded_by` `referral` or `voucher`): that is a 200 and the "
            "redemption's basket stays, so a shop that sends every sale counts each once. A `customer` contact "
            "lets the reports count the customer's visits and makes them a returning customer for programs "
            "for new customers only."),
        "requestBody": _body({"type": "object", "required": ["sale_id", "total"], "properties": {
            "sale_id": SALE_ID, "total": MONEY, "customer": _ref("Customer"), "cashier": CASHIER}}),
        "responses": _responses({"200": "already recorded", "201": "recorded"}, 400, 409, 422)}},
    "/api/v1/prompts/invite-hint": {"post": {
        "summary": "Is the customer at the till a frequent one without a referral card? (the till's hint)",
        "requestBody": _body({"type": "object", "required": ["customer"], "properties": {
            "customer": _ref("Customer")}}),
        "responses": _responses({"200": "invite or not, with the visit days counted"}, 400, 422)}},
}
IDEMPOTENCY = {"name": "Idempotency-Key", "in": "header", "required": True,
               "schema": {"type": "string", "minLength": 1, "maxLength": 128}}
REFERRER_OUTCOME = (
    "The answer's `referrer_outcome` says what the code's owner gets from this sale: `pending` (a reward, "
    "released after the hold), `none_cap_reached` (the friend gets the offer; the owner is at the program's cap "
    "and earns nothing more), `none` (the program rewards only the friend), null (refused, or a voucher). "
    "A program with `cap_blocks_friend = true` refuses the friend instead (`cap_reached`).")
# a partial refund must carry one (a retry must not refund twice); a full refund may
REFUND_IDEMPOTENCY = {**IDEMPOTENCY, "required": False, "description": (
    "Required when the body has `amount` (a partial refund): a retry with the same key and body is "
    "answered the same (header `Idempotent-Replayed: true`) and refunds nothing more; the same key with "
    "another body is 422 `idempotency_key_reused`. Optional for a full refund.")}


# The till's after-sale prompt "give this customer a referral card?" (web/api/card_offers.py)
PROMPT_PATHS: dict[str, Any] = {
    "/api/v1/prompts/card-offer/{sale_id}": {"get": {
        "summary": "Should the till offer a referral card after this sale (no referral, not offered yet)?",
        "parameters": [_path_param("sale_id")],
        "responses": _responses({"200": "offer or not, with reason"}, 404, 422)}},
    "/api/v1/prompts/card-offer": {"post": {
        "summary": "Record the cashier's answer to the card prompt, once per sale",
        "requestBody": _body({"type": "object", "required": ["sale_id", "accepted"], "properties": {
            "sale_id": {"type": "string", "pattern": r"^[!-~]{1,64}$"}, "accepted": {"type": "boolean"},
            "offered": {"type": "boolean", "default": True}}}),
        "responses": _responses({"200": "already recorded", "201": "recorded"}, 400, 422)}},
}


# "Give card" for the receipt print proxy: the till's F7 or a POS macro key (web/api/proxy.py)
_ARM_STATE = "armed, armed_until, armed_seconds, offer, enabled"
PROXY_PATHS: dict[str, Any] = {
    "/api/v1/proxy/arm": {
        "post": {"summary": "Arm the print proxy: the next receipt printed within [proxy] armed_seconds gets a "
                            "referral code (a bearer code the customer claims on the landing page)",
                 "responses": _responses({"200": _ARM_STATE})},
        "get": {"summary": "Whether the print proxy is armed, and until when",
                "responses": _responses({"200": _ARM_STATE})},
        "delete": {"summary": "Take the arm back (pressed by mistake)", "responses": _responses({"200": _ARM_STATE})},
    },
}


# The print queue and the footer for POS programs that own the receipt printer (web/api/printing.py)
_JOB_ID = {"name": "job_id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}
_FOOTER_MEDIA = {"application/vnd.escpos": {"schema": {"type": "string", "format": "binary"}},
                 "text/plain": {"schema": {"type": "string"}},
                 "image/png": {"schema": {"type": "string", "format": "binary"}}}
PRINT_PATHS: dict[str, Any] = {
    "/api/v1/print-jobs/{job_id}": {"get": {
        "summary": "A print job's state, attempts, last error and the printer's last known state",
        "parameters": [_JOB_ID],
        "responses": _responses({"200": "the job"}, 404)}},
    "/api/v1/print-jobs/{job_id}/reprint": {"post": {
        "summary": "Print a job again, marked REPRINT",
        "parameters": [_JOB_ID],
        "responses": _responses({"201": "the new job"}, 404)}},
    "/api/v1/redemptions/{redemption_id}/footer": {"get": {
        "summary": "The redemption's referral footer, to append to a receipt the POS program prints itself",
        "parameters": [
            _path_param("redemption_id"),
            {"name": "format", "in": "query", "schema": {"type": "string", "enum": ["escpos", "text", "png"],
                                                         "default": "escpos"}},
            {"name": "profile", "in": "query", "schema": {"type": "string", "example": "TM-T20II"}},
            {"name": "paper", "in": "query", "schema": {"type": "string", "enum": ["58", "80"]}},
        ],
        "responses": {**_responses({}, 404, 422), "200": {"description": "the footer", "content": _FOOTER_MEDIA}}}},
}


def document() -> dict[str, Any]:
    redeem_body = {"type": "object", "required": ["code", "sale_id", "basket_total"], "properties": {
        "code": CODE, "sale_id": {"type": "string", "pattern": r"^[!-~]{1,64}$"}, "basket_total": MONEY,
        "customer": _ref("Customer"), "till_id": {"type": "string"}, "cashier": CASHIER}}
    paths: dict[str, Any] = {
        "/api/v1/referral-codes": {"post": {
            "summary": "Issue (or return) a customer's referral code",
            "requestBody": _body({"type": "object", "required": ["customer"], "properties": {
                "customer": _ref("Customer"), "channel": {"enum": ["receipt", "card", "kiosk", "api"]},
                "program_id": {"type": "string"}, "print": {"enum": ["none", "card"]}}}),
            "responses": _responses({"200": "existing code", "201": "new code"}, 400, 404, 422)}},
        "/api/v1/referral-codes/{code}": {"get": {
            "summary": "Status, kind, program and the friend's offer",
            "parameters": [_path_param("code")],
            "responses": _responses({"200": "the code"}, 404, 422)}},
        "/api/v1/checkouts/quote": {"post": {
            "summary": "What a code gives on a basket; never writes",
            "description": REFERRER_OUTCOME + " A code used by more friends within the last hour than the "
                           "program's `[velocity] max_friends_per_hour` is refused with `velocity_limit`.",
            "requestBody": _body({"type": "object", "required": ["code", "basket_total"], "properties": {
                "code": CODE, "basket_total": MONEY, "customer": _ref("Customer")}}),
            "responses": _responses({"200": "eligible or not, with reason"}, 400, 422)}},
        "/api/v1/redemptions": {"post": {
            "summary": "Record a redemption exactly once",
            "description": REFERRER_OUTCOME,
            "parameters": [IDEMPOTENCY], "requestBody": _body(redeem_body),
            "responses": _responses({"201": "recorded"}, 400, 404, 409, 422)}},
        "/api/v1/vouchers/{code}/redeem": {"post": {
            "summary": "Use a single-use voucher",
            "parameters": [_path_param("code"), IDEMPOTENCY],
            "requestBody": _body({"type": "object", "required": ["sale_id", "basket_total"], "properties": {
                "sale_id": {"type": "string", "pattern": r"^[!-~]{1,64}$"}, "basket_total": MONEY,
                "cashier": CASHIER}}),
            "responses": _responses({"201": "recorded"}, 400, 404, 409, 422)}},
        "/api/v1/sales/{sale_id}/refund": {"post": {
            "summary": "Refund a referred sale (void or claw back the referrer's reward)",
            "parameters": [_path_param("sale_id"), REFUND_IDEMPOTENCY],
            "requestBody": {"required": False, **_json({"type": "object", "properties": {"amount": MONEY}})},
            "responses": _responses({"200": "refunded"}, 400, 404, 422)}},
        "/api/v1/customers/{customer_id}/rewards": {"get": {
            "summary": "A customer's rewards and vouchers", "parameters": [_path_param("customer_id")],
            "responses": _responses({"200": "rewards"}, 404)}},
        "/api/v1/reasons": {"get": {
            "summary": "Every typed refusal reason", "responses": _responses({"200": "reasons"})}},
        **PROMPT_PATHS,
        **PRINT_PATHS,
        **PROXY_PATHS,
        **SALES_PATHS,
    }
    return {
        "openapi": "3.0.3",
        "info": {"title": "pos-referral store API", "version": version("pos-referral")},
        "paths": paths,
        "components": {
            "schemas": {"Customer": CUSTOMER, "Problem": PROBLEM},
            "securitySchemes": {"till": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"till": []}],
    }


@bp.get("/api/v1/openapi.json")
def openapi_json() -> Response:
    """The OpenAPI 3 document (public: it holds no secrets)."""
    return jsonify(document())
