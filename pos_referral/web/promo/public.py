"""The headers every public, phone-first page gets: the landing pages and the promotion's pages."""

from __future__ import annotations

import secrets
from typing import Any

from flask import g, make_response, render_template
from werkzeug.wrappers import Response


def public_page(template: str, http_status: int = 200, **context: Any) -> Response:
    """A public, phone-first page: strict CSP (inline style and script by nonce only), no referrer."""
    nonce = secrets.token_urlsafe(12)
    resp = make_response(render_template(template, nonce=nonce, **context), http_status)
    resp.headers["Content-Security-Policy"] = (
        f"default-src 'none'; style-src 'nonce-{nonce}'; script-src 'nonce-{nonce}'; img-src data:; "
        "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")  # self: the share beacon
    resp.headers["Referrer-Policy"] = "no-referrer"  # the owner's ?s= must never leak to a share site
    resp.headers["Cache-Control"] = "private, no-cache"
    resp.headers["X-Content-Type-Options"] = "nosniff"
    return resp


def follow_phone_language() -> None:
    """``before_request`` of the public pages: they speak the phone's language (Accept-Language)."""
    g.follow_browser = True
