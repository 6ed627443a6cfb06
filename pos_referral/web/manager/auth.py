"""Who may see the manager pages: a manager signed in here with name and password.

The session carries ``staff_id``, ``staff_name`` and ``role`` (the keys the till page uses too)
plus ``manager_since``, set only by this page's password sign-in: a manager who signed in at a
till with a PIN is asked for the password before reports; a cashier gets a friendly 403.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

from flask import redirect, render_template, request, session, url_for

SESSION_HOURS = 12
F = TypeVar("F", bound=Callable[..., Any])


def manager_signed_in() -> bool:
    since = session.get("manager_since")
    return (session.get("role") == "manager" and isinstance(since, (int, float))
            and time.time() - since < SESSION_HOURS * 3600)


def safe_next(target: str | None) -> str:
    """Only a path on this site (never ``//evil`` or an absolute URL) is followed after sign-in."""
    if target and target.startswith("/manager") and not urlsplit(target).netloc and "\\" not in target:
        return target
    return url_for("manager.dashboard")


def manager_required(view: F) -> F:
    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if manager_signed_in():
            return view(*args, **kwargs)
        if session.get("role") == "cashier" or (session.get("role") and session.get("role") != "manager"):
            name = session.get("staff_name") or session.get("staff")
            return render_template("manager/forbidden.html", name=name), 403
        return redirect(url_for("manager.login", next=request.full_path.rstrip("?")))

    return cast(F, wrapped)
