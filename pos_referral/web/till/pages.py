"""The cashier's till page: PIN sign-in per till, scan-and-answer, confirm, override, cards, status.

The page talks to the JSON API with its signed-in session (never with a till's API token) and
sends the CSRF token in ``X-CSRFToken`` on every write. Serial scans arrive by server-sent events.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from werkzeug.wrappers import Response as BaseResponse

from pos_referral.domain.money_text import money_parts
from pos_referral.scanner.events import ScanBus
from pos_referral.services import cards, staff, staff_sessions, tills
from pos_referral.services.customers import CustomerInputError
from pos_referral.services.overrides import OverrideError, OverrideRequest, record_override
from pos_referral.services.tills import TILL_ID
from pos_referral.web.api.input import customer_field, json_body, money_field, sale_id_field
from pos_referral.web.auth import (
    client_address,
    current_store,
    end_staff_session,
    require_till_session,
    start_staff_session,
    till_signed_in,
)
from pos_referral.web.display import publish as display
from pos_referral.web.display.access import display_key
from pos_referral.web.i18n import REASON_TEXT, current_language
from pos_referral.web.problems import ApiProblem
from pos_referral.web.till.practice import demos
from pos_referral.web.till.strings import js_strings

bp = Blueprint("till", __name__, url_prefix="/till")

TILL_COOKIE = "till"
SSE_KEEPALIVE = 15.0
SSE_LIFETIME = 600.0  # then the browser reconnects, so a waitress thread is never held for ever


def _known_till(till_id: str) -> None:
    if not TILL_ID.match(till_id) or not tills.till_exists(current_store().ctx, till_id):
        abort(404, description=_("There is no till called %(till)s. Ask a manager to add it.", till=till_id[:32]))


@bp.get("")
@bp.get("/")
def choose() -> BaseResponse | str:
    """Which till is this? Remembered in a cookie after the first sign-in."""
    remembered = request.cookies.get(TILL_COOKIE, "")
    known = tills.active_tills(current_store().ctx)
    if remembered in known:
        return redirect(url_for("till.page", till_id=remembered))
    return render_template("till_choose.html", tills=known)


def _sign_in_page(till_id: str, error: str | None = None, status: int = 200, chosen: str = "",
                  wait: int = 0) -> BaseResponse:
    """The PIN sign-in: type a name (or tap one of those who signed in at this till recently) and a PIN."""
    ctx = current_store().ctx
    names = staff_sessions.recent_names(ctx, till_id, current_store().settings.config.sign_in.till_names_days)
    anyone = bool(names) or bool(staff.staff_names(ctx, staff.ROLES))
    resp = make_response(render_template("till_signin.html", till_id=till_id, names=names, error=error,
                                         chosen=chosen, anyone=anyone), status)
    if wait:
        resp.headers["Retry-After"] = str(wait)
    return resp


@bp.get("/<till_id>")
def page(till_id: str) -> BaseResponse | str:
    """The till page when signed in at this till, else its PIN sign-in."""
    _known_till(till_id)
    store = current_store()
    if not till_signed_in(till_id):
        return _sign_in_page(till_id)
    return render_template(
        "till.html", till_id=till_id, staff_name=session.get("staff"), role=session.get("role"),
        managers=staff.staff_names(store.ctx, ("manager",)), strings=js_strings(), demos=demos(),
        chain=bool(store.settings.config.central.url),  # a standalone shop has no sync chip at all
        display_url=url_for("display.page", till_id=till_id, k=display_key(store.ctx.secrets.session_key, till_id)),
        config={"till": till_id, "currency": store.settings.config.store.currency, "lang": current_language(),
                "money": money_parts(store.settings.config.store.currency, current_language()),
                "serial": bool(store.settings.config.scanner.serial_url),
                # "Give card on the receipt" (F7): only where the print proxy runs and waits for it
                "proxy_arm": store.settings.config.proxy.enabled and store.settings.config.proxy.offer == "armed"},
    )


@bp.post("/<till_id>/sign-in")
def sign_in(till_id: str) -> BaseResponse:
    """Check a name and PIN; wrong PINs slow this name and address down, never lock anyone out; audited."""
    _known_till(till_id)
    store = current_store()
    throttle, address = store.sign_ins, client_address()
    name, pin = request.form.get("name", "").strip(), request.form.get("pin", "")
    if not name or len(name) > 40 or not (pin.isdigit() and pin.isascii()) or len(pin) > staff.MAX_PIN:
        return _sign_in_page(till_id, _("Type your name and your PIN."), 422, name[:40])
    wait = throttle.wait(name, address)
    if wait:
        return _sign_in_page(till_id, _("Too many wrong PINs. Wait %(s)d seconds, then try again.", s=wait), 429,
                             name, wait)
    result = staff.sign_in(store.ctx, secret=pin, name=name, where=f"till {till_id}", till_id=till_id)
    if isinstance(result, staff.SignInRefused):
        if result.reason == "pin_too_short":  # the right PIN, from before managers needed 6 digits
            return _sign_in_page(till_id, _("This PIN is too short for a manager. Set a new one of 6 to 8 digits "
                                            "(staff page or pos-referral manager add)."), 403, name)
        throttle.failed(name, address)
        return _sign_in_page(till_id, _("Wrong name or PIN. Please try again."), 401, name)
    throttle.succeeded(name, address)
    start_staff_session(result, till_id=till_id, staff=result.name)
    resp = redirect(url_for("till.page", till_id=till_id))
    resp.set_cookie(TILL_COOKIE, till_id, max_age=365 * 86400, httponly=True, samesite="Lax",
                    secure=store.settings.config.server.secure_cookies)
    return resp


@bp.post("/sign-out")
def sign_out() -> BaseResponse:
    """End the cashier's session, and every copy of it (the till stays chosen)."""
    till_id = session.get("till_id") or request.cookies.get(TILL_COOKIE, "")
    end_staff_session(f"till {till_id}")
    return redirect(url_for("till.page", till_id=till_id) if till_id else url_for("till.choose"))


@bp.get("/events")
def events() -> Response:
    """Server-sent events: scans from a serial scanner for this till (or for every till)."""
    till_id = require_till_session()
    bus: ScanBus = current_store().scans
    ctx, staff_id, version = current_store().ctx, session.get("staff_id"), session.get("sv")

    def stream() -> Iterator[str]:
        with bus.subscribe(till_id) as sub:
            yield "retry: 2000\n\n"
            yield f"event: hello\ndata: {json.dumps({'till': till_id})}\n\n"
            deadline = time.monotonic() + SSE_LIFETIME
            while time.monotonic() < deadline and not sub.closed:
                scan = sub.get(timeout=SSE_KEEPALIVE)
                if sub.closed:
                    break
                if scan is None:
                    if not isinstance(staff_id, int) or staff_sessions.session_version(ctx, staff_id) != version:
                        break  # signed out, deactivated or a new PIN: the stream ends with the session
                    yield ": keep-alive\n\n"
                else:
                    yield f"event: scan\ndata: {json.dumps({'code': scan.code, 'source': scan.source})}\n\n"

    return Response(stream(), mimetype="text/event-stream",
                    headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


@bp.post("/display/clear")
def display_clear() -> tuple[str, int]:
    """The cashier cleared the till: a "you save" still on the customer display goes back to the offer."""
    display.quote_cleared(current_store().display, require_till_session())
    return "", 204


@bp.post("/override")
def override() -> tuple[Response, int]:
    """A manager's PIN and reason turn a refusal into an audited manual discount, exactly once."""
    till_id = require_till_session()
    body = json_body()
    key = request.headers.get("Idempotency-Key", "").strip()
    if not 1 <= len(key) <= 128:
        raise ApiProblem(400, "idempotency_key_required", _("Reload the till page and try again."))
    note = " ".join(str(body.get("note") or "").split())[:200]
    if len(note) < 3:
        raise ApiProblem(422, "note_required", _("Write the reason for the override."), field="note")
    store = current_store()
    manager = str(body.get("manager") or "")[:40]
    pin = str(body.get("pin") or "")[:16]
    wait = store.sign_ins.wait(manager, client_address()) if manager else 0
    if wait:
        raise ApiProblem(429, "too_many_attempts", _("Too many wrong PINs. Wait %(s)d seconds, then try again.",
                                                     s=wait), retry_after=wait)
    checked = staff.sign_in(store.ctx, secret=pin, name=manager, roles=("manager",),
                            where=f"override at till {till_id}") if pin.isdigit() and manager else None
    if not isinstance(checked, staff.SignedIn):
        if isinstance(checked, staff.SignInRefused) and checked.reason == "pin_too_short":
            raise ApiProblem(403, "manager_pin_refused", _("This PIN is too short for a manager. Set a new one of 6 "
                                                           "to 8 digits (staff page or pos-referral manager add)."))
        if manager:
            store.sign_ins.failed(manager, client_address())
        raise ApiProblem(403, "manager_pin_refused", _("That is not a manager's PIN."))
    store.sign_ins.succeeded(manager, client_address())
    req = OverrideRequest(
        code=str(body.get("code") or "")[:500], sale_id=sale_id_field(body),
        basket_minor=money_field(body, "basket_total") or 0, customer=customer_field(body), till_id=till_id,
        cashier=str(session.get("staff") or ""), manager=checked.name, note=note, key=key,
        raw_body={k: v for k, v in body.items() if k != "pin"},
    )
    try:
        answer, replayed = record_override(store.ctx, req)
    except OverrideError as exc:
        text = REASON_TEXT.get(exc.code)
        raise ApiProblem(exc.status, exc.code, str(text) if text else _("This code cannot be overridden.")) from None
    return jsonify(answer), 200 if replayed else 201


@bp.post("/issue")
def issue() -> tuple[Response, int]:
    """Give the customer at the till their own referral code, printed as a card."""
    till_id = require_till_session()
    body = json_body()
    customer = customer_field(body, required=True)
    store = current_store()
    try:
        card = cards.issue_with_card(store.ctx, customer, channel="card", till_id=till_id,
                                     language=customer.language, print_card=bool(body.get("print", True)),
                                     reprint_owner=True,  # the cashier sees the customer in person
                                     staff=str(session.get("staff") or ""))
    except CustomerInputError as exc:
        raise ApiProblem(422, "invalid_request", str(exc), field="customer") from None
    answer: dict[str, Any] = {"code": card.issued.code, "display_code": card.issued.display_code,
                              "landing_url": card.landing_url, "created": card.issued.created,
                              "print_job_id": card.print_job_id}
    resp = jsonify(answer)
    display.code_given(resp, store.display, till_id, card.issued.code, card.landing_url, customer.first_name)
    return resp, 201 if card.issued.created else 200
