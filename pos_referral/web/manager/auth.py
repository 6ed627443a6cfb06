"""Who may see the manager pages: a manager signed in here with name and password.

The session carries ``staff_id``, ``staff_name``, ``role`` and ``sv`` (the member's session version,
checked on every request by web/auth.py) plus ``manager_since`` and ``seen``, set only by this page's
password sign-in: a manager who signed in at a till with a PIN is asked for the password before
reports; a cashier gets a friendly 403. The pages sign out after ``[manager] idle_minutes`` unused and
after ``session_hours`` in any case (times from the store's clock, kept in the signed cookie).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, session, url_for

from pos_referral.web.auth import current_store

F = TypeVar("F", bound=Callable[..., Any])


def now_seconds() -> float:
    return current_store().ctx.clock().timestamp()


def manager_signed_in() -> bool:
    since, seen = session.get("manager_since"), session.get("seen")
    if session.get("role") != "manager" or not isinstance(since, (int, float)) or not isinstance(seen, (int, float)):
        return False
    limits = current_store().settings.config.manager
    now = now_seconds()
    return now - since < limits.session_hours * 3600 and now - seen < limits.idle_minutes * 60


def safe_next(target: str | None) -> str:
    """Only a path on this site (never ``//evil`` or an absolute URL) is followed after sign-in."""
    if target and target.startswith("/manager") and not urlsplit(target).netloc and "\\" not in target:
        return target
    return url_for("manager.dashboard")


def manager_required(view: F) -> F:
    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if manager_signed_in():
            session["seen"] = now_seconds()
            return view(*args, **kwargs)
        if session.get("role") == "cashier" or (session.get("role") and session.get("role") != "manager"):
            name = session.get("staff_name") or session.get("staff")
            return render_template("manager/forbidden.html", name=name), 403
        if isinstance(session.get("manager_since"), (int, float)):  # timed out: the password again
            session.clear()
            flash("You were signed out after a while without use. Please sign in again.")
        return redirect(url_for("manager.login", next=request.full_path.rstrip("?")))

    return cast(F, wrapped)
