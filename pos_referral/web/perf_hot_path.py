"""The till's two hottest calls without Flask's per-request machinery.

``POST /api/v1/checkouts/quote`` and ``POST /api/v1/redemptions`` with a bearer token are what a
till sends while a customer waits. Flask's request context, session opening, URL matching,
blueprint hooks and response object cost more than the quote itself (an empty Flask route ran
at ~0.6x of a bare WSGI app here), so this WSGI layer answers those two calls directly. It runs
the very same functions as the routes (``api.quote_answer`` / ``api.redeem_answer``), the same
token check, rate limits and problem+json bodies; observers (the report events) get each call.
Everything else — other paths, cookie-authorised till pages, malformed bodies, unusual framing —
goes on to Flask unchanged, so error answers for odd requests stay Flask's own.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from flask import Flask
from werkzeug.wsgi import get_current_url

from pos_referral.bootstrap import Store
from pos_referral.domain.errors import Refusal
from pos_referral.services.redemptions import canonical_json
from pos_referral.services.reports_events import held_notes
from pos_referral.web import api
from pos_referral.web.problems import PROBLEM_JSON, ApiProblem, problem_body
from pos_referral.web.waitress_batches import Batching

logger = logging.getLogger(__name__)

OBSERVERS = "pos_referral.hot_path_observers"
QUOTE, REDEEM = "/api/v1/checkouts/quote", "/api/v1/redemptions"
VOUCHERS = "/api/v1/vouchers/"
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
_STATUS = {s.value: f"{s.value} {s.phrase}" for s in HTTPStatus}


@dataclass(frozen=True)
class HotCall:
    """One answered hot call, for observers (what an ``after_request`` hook would have seen)."""

    path: str
    status: int
    body: dict[str, Any]
    answer: dict[str, Any]
    replayed: bool
    till_id: str


Observer = Callable[[Flask, HotCall], None]


def observe(app: Flask, fn: Observer) -> None:
    """Call ``fn(app, call)`` after every call the hot path answers (never raises into the till)."""
    app.extensions.setdefault(OBSERVERS, []).append(fn)


_BASE_URLS: dict[tuple[str, str, str, str], str] = {}


def _base_url(environ: dict[str, Any]) -> str:
    """What Flask's ``request.host_url`` gives (scheme and host), remembered per (scheme, Host, server).

    werkzeug rebuilds and re-validates it on every call (~50 us); a till sends the same Host each time."""
    key = (environ.get("wsgi.url_scheme", ""), environ.get("HTTP_HOST", ""), environ.get("SERVER_NAME", ""),
           str(environ.get("SERVER_PORT", "")))
    found = _BASE_URLS.get(key)
    if found is None:
        found = get_current_url(environ, host_only=True).rstrip("/")
        if len(_BASE_URLS) < 256:  # a handful in practice; never grows without bound
            _BASE_URLS[key] = found
    return found


def _is_json(content_type: str) -> bool:
    mimetype = content_type.partition(";")[0].strip().lower()
    return mimetype == "application/json" or (mimetype.startswith("application/") and mimetype.endswith("+json"))


class HotPath:
    """WSGI middleware in front of ``app.wsgi_app`` (installed by ``create_app``)."""

    def __init__(self, app: Flask, store: Store, flask_wsgi: WSGIApp) -> None:
        self._app, self._store, self._next = app, store, flask_wsgi
        self._max_body = int(app.config.get("MAX_CONTENT_LENGTH") or 64 * 1024)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if (path != QUOTE and path != REDEEM) or environ.get("REQUEST_METHOD") != "POST":
            return self._next(environ, start_response)
        scheme, _, token = environ.get("HTTP_AUTHORIZATION", "").partition(" ")
        length = environ.get("CONTENT_LENGTH") or ""
        if (scheme.lower() != "bearer" or not token.strip() or not length.isdigit()
                or int(length) > self._max_body or not _is_json(environ.get("CONTENT_TYPE", ""))):
            return self._next(environ, start_response)
        raw = environ["wsgi.input"].read(int(length))
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        if not isinstance(body, dict) or len(raw) != int(length):
            environ["wsgi.input"] = io.BytesIO(raw)  # Flask reads it again and answers as it always does
            return self._next(environ, start_response)
        status, answer, headers, encoded = self._answer(environ, path, token.strip(), body)
        return self._send(start_response, status, answer, headers, encoded)

    def _answer(self, environ: dict[str, Any], path: str, token: str,
                body: dict[str, Any]) -> tuple[int, dict[str, Any], list[tuple[str, str]], str]:
        """(status, answer, headers, the answer already encoded by ``canonical_json``, or "")."""
        headers: list[tuple[str, str]] = []
        till_id, encoded = "", ""
        try:
            found = self._store.tokens.till_for(token)
            if found is None:
                raise ApiProblem(401, "unauthorized", "This API token is not valid for any till of this store.")
            till_id = found
            remote = environ.get("REMOTE_ADDR")
            if path == QUOTE:
                status, answer, replayed = 200, api.quote_answer(self._store, till_id, remote, body), False
            else:
                api.guard_lookups(self._store, till_id, remote)
                done = api.redeem_answer(self._store, till_id, remote, body, environ.get("HTTP_IDEMPOTENCY_KEY", ""),
                                         _base_url(environ))
                status, answer, replayed, encoded = done.status, done.body, done.replayed, done.encoded
                if replayed:
                    headers.append(("Idempotent-Replayed", "true"))
        except ApiProblem as exc:
            status, replayed = exc.status, False
            answer = problem_body(exc.status, exc.code, exc.detail, path, **exc.extra)
            if "retry_after" in exc.extra:
                headers.append(("Retry-After", str(exc.extra["retry_after"])))
        except Refusal as exc:
            status, replayed = exc.reason.status, False
            answer = problem_body(status, exc.code, exc.detail, path, reason=exc.code)
        except Exception:
            logger.exception("unexpected error on POST %s", path)
            status, replayed = 500, False
            answer = _internal_error(path)
        headers.append(("Content-Type", "application/json" if status < 400 else PROBLEM_JSON))
        if status < 500:
            self._tell(HotCall(path, status, body, answer, replayed, till_id))
        return status, answer, headers, encoded

    def _tell(self, call: HotCall) -> None:
        for fn in self._app.extensions.get(OBSERVERS, ()):
            try:
                fn(self._app, call)
            except Exception:  # a report count is never worth a failed sale
                logger.exception("hot path observer failed for %s", call.path)

    @staticmethod
    def _send(start_response: Callable[..., Any], status: int, answer: dict[str, Any],
              headers: list[tuple[str, str]], encoded: str = "") -> Iterable[bytes]:
        payload = _payload(answer, encoded)
        headers.append(("Content-Length", str(len(payload))))
        start_response(_STATUS.get(status, f"{status} UNKNOWN"), headers)
        return [payload]


def _internal_error(path: str) -> dict[str, Any]:
    return problem_body(500, "internal_error", "Something went wrong; nothing was recorded.", path)


def _payload(answer: dict[str, Any], encoded: str = "") -> bytes:
    """The body sent: ``encoded`` when the answer already has it, else the answer encoded now."""
    return ((encoded or canonical_json(answer)) + "\n").encode()


def answered_inline(method: str, path: str) -> bool:
    """What the server may answer on its I/O thread (``web.waitress_inline``): the quote, which only reads."""
    return path == QUOTE and method == "POST"


def batched(method: str, path: str, headers: dict[str, str]) -> bool:
    """What the server answers in shared-commit batches (``web.waitress_batches``): the calls that
    record a redemption, referral or voucher. Their only writes are the unit they hand to
    ``GroupCommit.run`` (sessions are signed cookies, report events wait in ``held_notes``)."""
    return method == "POST" and (path == REDEEM or (path.startswith(VOUCHERS) and path.endswith("/redeem")))


def batching(store: Store) -> Batching:
    """How ``pos-referral serve`` batches redemptions for ``store``."""

    def run_shared(steps: Sequence[Callable[[], None]]) -> Exception | None:
        group = store.db.group_commit
        if group is None:  # no shared commits (PostgreSQL): each step commits its own work
            for step in steps:
                step()
            return None
        with held_notes() as notes:  # report events wait for the COMMIT: a failed one counts nothing
            error = group.run_shared(steps)
        if error is None:
            for recorder, item in notes:
                recorder.note(item)
        return error

    def failed(environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes]:
        payload = _payload(_internal_error(environ.get("PATH_INFO", "")))
        return _STATUS[500], [("Content-Type", PROBLEM_JSON), ("Content-Length", str(len(payload)))], payload

    return Batching(accepts=batched, run_shared=run_shared, failed=failed)
