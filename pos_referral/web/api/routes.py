"""JSON API v1 for store POS software and the till page. Paths, fields and codes are a contract."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, g, jsonify, request

from pos_referral.domain.codes import CodeKind, normalise
from pos_referral.domain.errors import REASONS, Refusal
from pos_referral.services import (
    checkout,
    customers,
    owner_links,
    print_jobs,
    redemptions,
    referral_codes,
    refunds,
    rewards,
)
from pos_referral.services.checkout import Evaluation
from pos_referral.web.api.input import (
    cashier_field,
    choice_field,
    code_field,
    customer_field,
    json_body,
    money_field,
    sale_id_field,
)
from pos_referral.web.api.views import code_status_view, quote_view
from pos_referral.web.auth import current_store, require_till
from pos_referral.web.display import publish as display
from pos_referral.web.problems import ApiProblem

bp = Blueprint("api", __name__, url_prefix="/api/v1")
bp.before_request(require_till)

LOOKUP_FAILURES = ("unknown_code", "mistyped_code")


def _guard_lookups(code: str | None = None) -> None:
    """429 while this till or this address has had too many failed code lookups, unless this till has
    just found ``code`` itself (redeeming a code it already knows is no guess)."""
    limiter = current_store().limiter
    till_key, addr_key = _limit_keys(g.till_id, request.remote_addr)
    if code is not None and limiter.found_recently(till_key, normalise(code)):
        return
    wait = limiter.retry_after(till_key, addr_key)
    if wait:
        raise ApiProblem(429, "rate_limited", "Too many unknown codes; wait before trying again.",
                         retry_after=wait)


def _limit_keys(till_id: str, remote_addr: str | None) -> tuple[str, str]:
    return f"till:{till_id}", f"ip:{remote_addr}"


def _note_failure(reason: str | None) -> None:
    if reason in LOOKUP_FAILURES:
        current_store().limiter.record_failure(*_limit_keys(g.till_id, request.remote_addr))


def _note_found(code: str) -> None:
    current_store().limiter.remember_found(_limit_keys(g.till_id, request.remote_addr)[0], code)


def _created_or_ok(body: dict[str, Any], created: bool) -> tuple[Response, int]:
    return jsonify(body), 201 if created else 200


@bp.post("/referral-codes")
def issue_referral_code() -> tuple[Response, int]:
    """Give a customer their referral code: 201 when new, 200 when they already had one."""
    body = json_body()
    customer = customer_field(body, required=True)
    channel = choice_field(body, "channel", referral_codes.CHANNELS, "api")
    to_print = choice_field(body, "print", ("none", "card"), "none") if body.get("print") is not None else "none"
    store = current_store()
    program = store.settings.default_program
    if body.get("program_id") is not None:
        found = store.settings.program(str(body["program_id"]))
        if found is None:
            raise ApiProblem(422, "invalid_request", "program_id is not a program of this store", field="program_id")
        program = found
    try:
        issued = referral_codes.issue_code(store.ctx, customer, channel=channel, till_id=g.till_id, program=program,
                                           staff=g.staff)
    except referral_codes.SequenceExhausted as exc:
        raise ApiProblem(503, "codes_exhausted", str(exc)) from None
    except customers.UnknownCustomerError as exc:
        raise ApiProblem(404, "unknown_customer", str(exc), field="customer") from None
    landing = store.ctx.landing_url(issued.code)
    job_id = None
    if to_print == "card":
        job_id = print_jobs.queue_card(store.ctx, code=issued.code, first_name=customer.first_name,
                                       language=customer.language, program=program,
                                       owner_url=owner_links.card_url(store.ctx, issued.code, created=issued.created))
    resp, status = _created_or_ok(
        {
            "code": issued.code,
            "display_code": issued.display_code,
            "landing_url": landing,
            "customer_id": issued.customer_id,
            "program_id": issued.program_id,
            "expires_at": issued.expires_at.isoformat() if issued.expires_at else None,
            "print_job_id": job_id,
        },
        issued.created,
    )
    display.code_given(resp, store.display, g.till_id, issued.code, landing, customer.first_name)
    return resp, status


@bp.get("/referral-codes/<path:code>")
def show_referral_code(code: str) -> Response:
    """Status, kind, program and the friend's offer for one code."""
    _guard_lookups()
    store = current_store()
    try:
        info = checkout.lookup(store.ctx, code)
    except Refusal as exc:
        _note_failure(exc.code)
        raise
    _note_found(info.code.code)
    return jsonify(code_status_view(store.ctx, info))


@bp.post("/checkouts/quote")
def quote_checkout() -> Response:
    """What a scanned code gives on this basket, with a typed reason when nothing. Changes no business state."""
    _guard_lookups()
    body = json_body()
    raw = code_field(body)
    basket = money_field(body, "basket_total") or 0
    customer = customer_field(body)
    try:
        ev: Evaluation | None = checkout.quote(current_store().ctx, raw, basket, customer, till_id=g.till_id,
                                               staff=g.staff)
        reason = ev.reason if ev else None
    except Refusal as exc:
        ev, reason = None, exc.code
    _note_failure(reason)
    if ev is not None and reason not in LOOKUP_FAILURES:
        _note_found(ev.code)
    resp = jsonify(quote_view(ev, reason))
    display.quote_answered(resp, current_store().display, g.till_id, ev, reason, customer.first_name)
    return resp


@bp.post("/redemptions")
def create_redemption() -> tuple[Response, int]:
    """Apply a referral or voucher code to a sale, exactly once per Idempotency-Key."""
    body = json_body()
    code = body.get("code")
    _guard_lookups(code if isinstance(code, str) else None)
    return _redeem(body, expected_kind=None)


@bp.post("/vouchers/<code>/redeem")
def redeem_voucher(code: str) -> tuple[Response, int]:
    """Use a single-use voucher on a sale; succeeds exactly once."""
    _guard_lookups(code)
    body = dict(json_body())
    body["code"] = code
    return _redeem(body, expected_kind=CodeKind.VOUCHER)


def _redeem(body: dict[str, Any], expected_kind: CodeKind | None) -> tuple[Response, int]:
    key = request.headers.get("Idempotency-Key", "").strip()
    if not key or len(key) > 128:
        raise ApiProblem(400, "idempotency_key_required",
                         "Send an Idempotency-Key header (1-128 characters) so a retry cannot record twice.")
    store = current_store()
    raw = code_field(body)
    req = redemptions.RedeemRequest(
        code=raw,
        sale_id=sale_id_field(body),
        basket_minor=money_field(body, "basket_total") or 0,
        customer=customer_field(body),
        till_id=g.till_id,
        body_hash=redemptions.body_hash(body),
        staff=g.staff or cashier_field(body),  # the signed-in cashier at the till page, else the POS's name
        expected_kind=expected_kind,
    )
    try:
        answer = redemptions.redeem(store.ctx, req, key)
    except redemptions.IdempotencyConflict:
        raise ApiProblem(422, "idempotency_key_reused",
                         "This Idempotency-Key was already used with a different request body.") from None
    except Refusal as exc:
        _note_failure(exc.code)
        raise
    resp = jsonify(answer.body)
    own = answer.body.get("friend_code")
    if isinstance(own, dict) and not answer.replayed:  # the friend's own new code, to scan off the display
        display.code_given(resp, store.display, g.till_id, str(own["code"]), str(own["landing_url"]),
                           req.customer.first_name)
    if answer.replayed:
        resp.headers["Idempotent-Replayed"] = "true"
    return resp, answer.status


@bp.post("/sales/<sale_id>/refund")
def refund_sale(sale_id: str) -> Response:
    """Refund a referred sale (whole, or ``amount``): voids or claws back the referrer's reward.

    A partial refund needs an Idempotency-Key (a retry must not refund twice); a full refund may send one."""
    body = json_body(empty_ok=True)  # no body: a full refund
    amount = money_field(body, "amount", required=False)
    if amount == 0:
        raise ApiProblem(422, "invalid_request", "amount must be more than 0.00", field="amount")
    key = _idempotency_key(required=amount is not None)
    ctx = current_store().ctx
    if not key:
        return jsonify(refunds.refund_sale(ctx, sale_id, amount))
    try:
        answer = refunds.refund_once(ctx, sale_id, amount, till_id=g.till_id, idempotency_key=key,
                                     hashed=refunds.request_hash(sale_id, body))
    except redemptions.IdempotencyConflict:
        raise ApiProblem(422, "idempotency_key_reused",
                         "This Idempotency-Key was already used with a different request body.") from None
    resp = jsonify(answer.body)
    if answer.replayed:
        resp.headers["Idempotent-Replayed"] = "true"
    return resp


def _idempotency_key(*, required: bool) -> str:
    """The request's Idempotency-Key (1-128 characters); ``""`` when absent and not required."""
    key = request.headers.get("Idempotency-Key", "").strip()
    if (required or key) and not 0 < len(key) <= 128:
        raise ApiProblem(400, "idempotency_key_required",
                         "Send an Idempotency-Key header (1-128 characters) so a retry cannot record twice.")
    return key


@bp.get("/customers/<customer_id>/rewards")
def customer_rewards(customer_id: str) -> Response:
    """A customer's rewards: pending, released (with voucher codes), voided; points; referrals."""
    result = rewards.customer_rewards(current_store().ctx, customer_id)
    if result is None:
        raise ApiProblem(404, "unknown_customer", "No customer with this id has a code or reward here.")
    return jsonify(result)


@bp.get("/reasons")
def list_reasons() -> Response:
    """Every typed refusal reason with its HTTP status and the message read to the customer."""
    return jsonify({r.code: {"status": r.status, "message": r.message} for r in REASONS.values()})

