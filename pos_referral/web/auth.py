"""Who is calling: a till's bearer token for the API (or the till page's signed-in session).

Staff sessions (till page, manager pages) are Flask's signed cookie plus the member's
``session_version`` (services/staff_sessions.py): ``check_staff_session`` runs before every request
and empties a session whose member signed out elsewhere, was deactivated or got a new PIN or password.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, g, request, session
from flask_babel import gettext
from flask_wtf.csrf import CSRFError, CSRFProtect

from pos_referral.bootstrap import Central, Store
from pos_referral.services import staff_sessions
from pos_referral.services.staff import ROLES, SignedIn
from pos_referral.web.problems import ApiProblem

EXTENSION = "pos_referral"
CENTRAL = "pos_referral.central"

# CSRF on every form and every cookie-authenticated write; bound to the app in create_app.
# Bearer-token API calls carry no cookie and are exempt (see register_blueprints).
csrf = CSRFProtect()


def current_store() -> Store:
    store: Store = current_app.extensions[EXTENSION]
    return store


def current_central() -> Central | None:
    """The central worker this app serves, or None in a store."""
    central: Central | None = current_app.extensions.get(CENTRAL)
    return central


def check_staff_session() -> None:
    """Before every request: a staff session whose version is no longer the member's ends here."""
    if request.endpoint == "static" or not request.cookies.get(current_app.config["SESSION_COOKIE_NAME"]):
        return  # no cookie: nothing to check (and the session is not touched, so no ``Vary: Cookie``)
    if "role" not in session and "staff_id" not in session:
        return  # a visitor's session (a CSRF token, a language): nobody is signed in
    staff_id, version = session.get("staff_id"), session.get("sv")
    if (not isinstance(staff_id, int) or not isinstance(version, int)
            or staff_sessions.session_version(current_store().ctx, staff_id) != version):
        session.clear()


def start_staff_session(member: SignedIn, **extra: Any) -> None:
    """A new session for ``member`` (a fresh cookie: nothing from before the sign-in is kept)."""
    session.clear()
    session.update(staff_id=member.staff_id, role=member.role, sv=member.session_version, **extra)


def end_staff_session(where: str) -> None:
    """Sign out: this member's sessions end everywhere (every copy of the cookie), then this one is emptied."""
    staff_id = session.get("staff_id")
    if isinstance(staff_id, int) and session.get("sv") is not None:
        name = str(session.get("staff_name") or session.get("staff") or staff_id)
        staff_sessions.end_sessions(current_store().ctx, staff_id, actor=name, why=f"signed out ({where})")
    session.clear()


def client_address() -> str:
    """The client's address as this server saw it (never a forwarded header: anyone can write one)."""
    return str(request.remote_addr or "?")


def till_signed_in(till_id: str | None = None) -> bool:
    """Someone signed in at a till in this browser session (at ``till_id``, when given)."""
    return bool(session.get("till_id")) and session.get("role") in ROLES and (
        till_id is None or session.get("till_id") == till_id)


def require_till_session() -> str:
    """The till this browser session is signed in at; 401 (for the till page's script) when none."""
    if not till_signed_in():
        raise ApiProblem(401, "unauthorized", gettext("Your session has ended. Please sign in again."))
    return str(session["till_id"])


def require_till() -> None:
    """Before every API request: a valid ``Authorization: Bearer <token>`` or a till session."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        till_id = current_store().tokens.till_for(token.strip())
        if till_id is None:
            raise ApiProblem(401, "unauthorized", "This API token is not valid for any till of this store.")
        g.till_id, g.staff = till_id, ""
        return
    if till_signed_in():
        # a cookie alone must not authorise a write: the till page sends its CSRF token (X-CSRFToken)
        try:
            csrf.protect()
        except CSRFError:
            detail = "Reload the till page: its security token is missing or old."
            raise ApiProblem(403, "csrf_failed", detail) from None
        g.till_id, g.staff = session["till_id"], str(session.get("staff") or "")
        return
    raise ApiProblem(401, "unauthorized", "Send Authorization: Bearer <till token> (see `pos-referral till add`).")
