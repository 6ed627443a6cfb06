"""The headers every public, phone-first page gets (landing-style pages of the promotion)."""

from __future__ import annotations

import secrets
from typing import Any

from flask import make_response, render_template
from werkzeug.wrappers import Response


def public_page(template: str, status: int = 200, **context: Any) -> Response:
    """A public, phone-first page with the landing pages' headers (strict CSP, no referrer)."""
    nonce = secrets.token_urlsafe(12)
    resp = make_response(render_template(template, nonce=nonce, **context), status)
    resp.headers["Content-Security-Policy"] = (
        f"default-src 'none'; style-src 'nonce-{nonce}'; script-src 'nonce-{nonce}'; img-src data:; "
        "form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
    resp.headers["Referrer-Policy"] = "no-referrer"
    resp.headers["Cache-Control"] = "private, no-cache"
    resp.headers["X-Content-Type-Options"] = "nosniff"
    return resp
