"""Notice quotes, refusals, voucher sales and who did what, for the reports, without touching the till path.

An ``after_request`` hook reads the request and answer that the API and till views already
produced and hands a small record to the store's ``EventRecorder`` (an in-memory append); the
recorder's own thread writes them in batches. The views themselves are not changed, and the
hook never raises: a report count is never worth a failed sale.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from flask import Flask, Response, current_app, g, request, session

from pos_referral.domain.money import MoneyError, parse_money
from pos_referral.services.context import StoreContext
from pos_referral.services.reports_events import EventRecorder, Noted, recorder_for
from pos_referral.web.auth import EXTENSION, current_store

if TYPE_CHECKING:
    from pos_referral.web.perf_hot_path import HotCall

logger = logging.getLogger(__name__)

_REDEEM_PATHS = ("/api/v1/redemptions",)
_ISSUE_PATHS = ("/api/v1/referral-codes", "/till/issue")


def install(app: Flask) -> None:
    from pos_referral.web.perf_hot_path import observe

    app.after_request(_after)
    observe(app, _after_hot)  # quotes and redemptions answered without Flask (web/perf_hot_path.py)


def _after_hot(app: Flask, call: HotCall) -> None:
    found = app.extensions.get("pos_referral.report_events")
    if not isinstance(found, EventRecorder):
        with app.app_context():
            found = recorder()
    at = app.extensions[EXTENSION].ctx.clock()
    item = _noted(call.path, call.path in _REDEEM_PATHS, call.status, call.body, call.answer, call.replayed,
                  call.till_id, "", at)
    if item is not None:
        found.note(item)


def recorder(ctx: StoreContext | None = None) -> EventRecorder:
    store = current_store()
    extensions: dict[str, Any] = current_app.extensions
    created = "pos_referral.report_events" not in extensions
    found = recorder_for(ctx or store.ctx, extensions)
    if created:
        store.background.append(found)  # type: ignore[arg-type]  # Store.close() calls its stop(): a last flush
    return found


def flush(ctx: StoreContext) -> None:
    """Write buffered events now, so a report counts everything up to this moment."""
    try:
        recorder(ctx).flush()
    except Exception:  # the report is still worth showing
        logger.exception("report events could not be flushed before a report")


def _basket(body: dict[str, Any]) -> int:
    try:
        return parse_money(body.get("basket_total") or 0)
    except MoneyError:
        return 0


def _after(response: Response) -> Response:
    if request.method != "POST" or response.status_code >= 500:
        return response
    path = request.path
    is_redeem = path in _REDEEM_PATHS or (path.startswith("/api/v1/vouchers/") and path.endswith("/redeem"))
    if path != "/api/v1/checkouts/quote" and not is_redeem and path not in _ISSUE_PATHS:
        return response
    try:
        body = request.get_json(silent=True)
        till = str(g.get("till_id") or session.get("till_id") or "")
        staff = str(session.get("staff_name") or session.get("staff") or "")
        item = _noted(path, is_redeem, response.status_code, body if isinstance(body, dict) else {},
                      response.get_json(silent=True), bool(response.headers.get("Idempotent-Replayed")), till, staff,
                      current_store().ctx.clock())
        if item is not None:
            recorder().note(item)
    except Exception:  # never let counting break an answer
        logger.exception("report event not noted for %s", path)
    return response


def _noted(path: str, is_redeem: bool, status: int, body: dict[str, Any], answer: Any, replayed: bool, till: str,
           staff: str, at: datetime) -> Noted | None:
    answer = answer if isinstance(answer, dict) else {}
    if path == "/api/v1/checkouts/quote":  # the commonest call: built directly, no copy of a base record
        if status != 200:
            return None
        return Noted(at=at, kind="voucher_quote" if answer.get("kind") == "voucher" else "quote", till_id=till,
                     staff=staff, code=str(answer.get("code") or body.get("code") or ""),
                     reason=str(answer.get("reason") or ""), basket_minor=_basket(body),
                     customer=body.get("customer"))
    base = Noted(at=at, kind="", till_id=till, staff=staff)
    code = str(body.get("code") or path.removeprefix("/api/v1/vouchers/").removesuffix("/redeem"))
    if is_redeem and 400 <= status < 500 and answer.get("code"):
        return replace(base, kind="refused", code=code, reason=str(answer["code"]), basket_minor=_basket(body),
                     customer=body.get("customer"), sale_id=str(body.get("sale_id") or ""))
    if status != 201 or replayed:
        return None
    if is_redeem and answer.get("kind") == "voucher":
        return replace(base, kind="voucher_sale", code=code, sale_id=str(answer.get("sale_id") or ""),
                     customer=str(answer.get("customer_id") or ""), basket_minor=_basket(body))
    if not base.staff:  # staff attribution only: API-token calls have no cashier
        return None
    if is_redeem:
        friend = answer.get("friend_code") or {}
        return replace(base, kind="redeemed", code=str(friend.get("code") or ""),
                       sale_id=str(answer.get("sale_id") or ""))
    return replace(base, kind="issued", code=str(answer.get("code") or ""))
