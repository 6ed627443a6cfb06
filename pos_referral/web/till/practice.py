"""``/till/practice``: the cashier's practice till, and the staff guide printed from the till.

Practice answers come from ``services/promo/training.py`` and never reach the database, the print
queue, the reports or the sync outbox. The till page may call ``POST /till/practice/quote``
(JSON, same shape as the API's quote plus ``say`` and ``practice: true``) from its own practice
switch, or link to the page here, which works with no JavaScript.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as BaseResponse

from pos_referral.domain.money import MoneyError, parse_money
from pos_referral.services.promo import printed_signs, training
from pos_referral.web.api.input import json_body
from pos_referral.web.auth import current_store, require_till_session, till_signed_in
from pos_referral.web.i18n import current_language, money, reason_text
from pos_referral.web.problems import ApiProblem

bp = Blueprint("training", __name__, url_prefix="/till/practice")
DEFAULT_BASKET = "50.00"


def demos() -> list[dict[str, str]]:
    """The demo codes with what each one shows, in the till's language."""
    return [{"code": d.code, "outcome": d.outcome, "what": _(d.what)} for d in training.DEMOS]


def _answer(code: str, basket: str) -> dict[str, Any]:
    try:
        basket_minor = parse_money(basket or DEFAULT_BASKET, field="basket_total")
    except MoneyError as exc:
        raise ApiProblem(422, "invalid_request", str(exc), field="basket_total") from None
    store = current_store()
    program = store.settings.default_program
    answer = training.practice_quote(program, code, basket_minor, store.settings.config.store.currency,
                                     current_language()).view()
    answer["discount_text"] = money(parse_money(answer["discount"]))  # the page's form; "discount" stays "2.50"
    outcome = answer["reason"] or ("voucher" if answer["kind"] == "voucher" else "discount")
    if outcome in training.SAY:  # the till's own words, in the till's language
        discount = money(parse_money(answer["discount"]))
        answer["say"] = _(training.SAY[outcome], discount=discount, minimum=money(program.minimum_basket))
        answer["message"] = reason_text(answer["reason"]) if answer["reason"] else \
            _("Give %(amount)s off", amount=discount)
    elif answer["reason"] == "not_a_demo_code":
        answer["message"] = _(training.NOT_A_DEMO)
        answer["say"] = ""
    return answer


@bp.get("")
def page() -> BaseResponse | str:
    """The practice till: demo codes, a basket, and what to say for each outcome."""
    if not till_signed_in():
        return redirect(url_for("till.choose"))
    return render_template("promo/practice.html", demos=demos(), answer=None, code="",
                           basket=DEFAULT_BASKET, till_id=session.get("till_id"), printed=None)


@bp.post("")
def try_code() -> BaseResponse | str:
    """Show the outcome of a demo code (form post: works by keyboard and with no JavaScript)."""
    if not till_signed_in():
        return redirect(url_for("till.choose"))
    code = request.form.get("code", "")[:100]
    basket = request.form.get("basket", DEFAULT_BASKET).strip()[:20]  # a person typed it: spaces forgiven
    try:
        answer: dict[str, Any] | None = _answer(code, basket)
    except ApiProblem as exc:
        answer = {"code": code, "eligible": False, "reason": "invalid_request", "message": exc.detail, "say": "",
                  "discount": "0.00", "practice": True}
    return render_template("promo/practice.html", demos=demos(), answer=answer, code="", basket=basket,
                           till_id=session.get("till_id"), printed=None)


@bp.post("/quote")
def quote() -> Response:
    """JSON for the till page's practice switch: ``{"code", "basket_total"}`` -> a practice answer."""
    require_till_session()
    body = json_body()
    if not isinstance(body.get("code"), str):
        raise ApiProblem(422, "invalid_request", "code is required", field="code")
    basket = body.get("basket_total") or DEFAULT_BASKET
    if not isinstance(basket, str):
        raise ApiProblem(422, "invalid_request", 'basket_total must be a decimal string such as "12.50"',
                         field="basket_total")
    return jsonify(_answer(body["code"][:100], basket))


@bp.get("/codes")
def codes() -> Response:
    """The demo codes and what each one shows (for the till page's practice panel)."""
    require_till_session()
    return jsonify(demos())


def _wants_json() -> bool:
    return request.accept_mimetypes.best_match(["text/html", "application/json"]) == "application/json"


@bp.post("/staff-guide")
def print_staff_guide() -> BaseResponse | str | tuple[Response, int]:
    """Queue the one-page staff guide on this till's receipt printer (a real print, not practice).

    The till page's button asks for JSON (``{"print_job_id"}``, null with no printer); the practice
    page's form gets the page back."""
    if _wants_json():
        require_till_session()
    elif not till_signed_in():
        return redirect(url_for("till.choose"))
    job = printed_signs.queue_staff_guide(current_store().ctx, lang=current_language(), demos=demos())
    if _wants_json():
        return jsonify({"print_job_id": job}), 201 if job else 200
    return render_template("promo/practice.html", demos=demos(), answer=None, code="",
                           basket=DEFAULT_BASKET, till_id=session.get("till_id"), printed=job or 0)
