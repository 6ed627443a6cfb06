"""RFC 7807 problem+json for the API; HTML error pages elsewhere. No request ever ends in a bare 500."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from pos_referral.domain.errors import Refusal
from pos_referral.services.unit_of_work import is_busy
from pos_referral.web.i18n import reason_text

logger = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
BUSY_RETRY_AFTER = 2  # seconds; the lock holder is usually a backup, a migration or a CLI command
BUSY_DETAIL = "The database is busy for a moment; nothing was recorded. Try again (same Idempotency-Key)."


class ApiProblem(Exception):
    """An API error with a stable ``code`` member."""

    def __init__(self, status: int, code: str, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail, self.extra = status, code, detail, extra


def problem_body(status: int, code: str, detail: str, instance: str, **extra: Any) -> dict[str, Any]:
    """The RFC 7807 members (plus ``code`` and any extras) for one problem."""
    body: dict[str, Any] = {
        "type": f"https://pos-referral.invalid/problems/{code}",
        "title": code.replace("_", " ").capitalize(),
        "status": status,
        "code": code,
        "detail": detail,
        "instance": instance,
    }
    body.update(extra)
    return body


def problem(status: int, code: str, detail: str, **extra: Any) -> Response:
    resp = jsonify(problem_body(status, code, detail, request.path, **extra))
    resp.status_code = status
    resp.mimetype = PROBLEM_JSON
    return resp


def _wants_json() -> bool:
    """The API, sync and health paths; and any page's script that asks for JSON (the till page's fetches)."""
    if request.path.startswith(("/api/", "/sync/", "/healthz")):
        return True
    return request.accept_mimetypes.best_match(["text/html", PROBLEM_JSON, "application/json"]) in (
        PROBLEM_JSON, "application/json")


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ApiProblem)
    def _api_problem(exc: ApiProblem) -> Response:
        resp = problem(exc.status, exc.code, exc.detail, **exc.extra)
        if "retry_after" in exc.extra:
            resp.headers["Retry-After"] = str(exc.extra["retry_after"])
        return resp

    @app.errorhandler(Refusal)
    def _refusal(exc: Refusal) -> Response | tuple[str, int]:
        if _wants_json():
            return problem(exc.reason.status, exc.code, exc.detail, reason=exc.code)
        # a page (landing, kiosk): the reason in the visitor's language
        return render_template("error.html", status=exc.reason.status, message=reason_text(exc.code)), \
            exc.reason.status

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Response | tuple[str, int]:
        status = exc.code or 500
        code = (exc.name or "error").lower().replace(" ", "_")
        if _wants_json():
            resp = problem(status, code, exc.description or exc.name)
            if status == 405 and exc.valid_methods:  # type: ignore[attr-defined]
                resp.headers["Allow"] = ", ".join(exc.valid_methods)  # type: ignore[attr-defined]
            return resp
        return render_template("error.html", status=status, message=exc.description), status

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response | tuple[str, int] | tuple[str, int, dict[str, str]]:
        if is_busy(exc):  # another process held the database past the busy timeout: nothing was recorded
            logger.warning("database busy on %s %s: %s", request.method, request.path, exc)
            retry = {"Retry-After": str(BUSY_RETRY_AFTER)}
            if _wants_json():
                resp = problem(503, "database_busy", BUSY_DETAIL, retry_after=BUSY_RETRY_AFTER)
                resp.headers.update(retry)
                return resp
            return render_template("error.html", status=503, message=reason_text("database_busy")), 503, retry
        logger.exception("unexpected error on %s %s", request.method, request.path)
        if _wants_json():
            return problem(500, "internal_error", "Something went wrong; nothing was recorded.")
        return render_template("error.html", status=500, message="Something went wrong."), 500
