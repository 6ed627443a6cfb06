"""Headers every answer gets unless its view set its own (public pages set a strict CSP with a nonce).

No page of this service may be framed by another site (a framed till or manager page could be
clicked through unseen), no answer is sniffed into another type, and nothing shown to signed-in
staff (customer names, contacts, reports) is kept in a browser's or proxy's cache.
"""

from __future__ import annotations

from flask import current_app, request, session
from werkzeug.wrappers import Response

# Staff pages keep their inline styles; what they must never do is load into a frame or post elsewhere.
STAFF_CSP = "frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'"


def secure_headers(resp: Response) -> Response:
    """``after_request``: the defaults above, without overriding what a view chose."""
    headers = resp.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    if resp.mimetype == "text/html":
        headers.setdefault("Content-Security-Policy", STAFF_CSP)
    has_cookie = bool(request.cookies.get(current_app.config["SESSION_COOKIE_NAME"]))
    if has_cookie and ("staff_id" in session or "role" in session):  # no cookie: leave the session untouched
        headers["Cache-Control"] = "no-store"  # a signed-in person's pages, exports and answers
    return resp
