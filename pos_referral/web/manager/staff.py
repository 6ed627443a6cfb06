"""Manager page for cashiers' PINs: add a cashier, reset a PIN, deactivate. Every change is audited."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response as BaseResponse

from pos_referral.services import staff_admin, staff_sessions
from pos_referral.services.staff import StaffError
from pos_referral.web.auth import current_store
from pos_referral.web.manager.auth import manager_required

bp = Blueprint("manager_staff", __name__, url_prefix="/manager/staff")


def _actor() -> str:
    return str(session.get("staff_name") or "manager")


@bp.get("")
@bp.get("/")
@manager_required
def index() -> str:
    """Everyone who signs in at the tills, with their state."""
    return render_template("manager/staff.html", staff=staff_admin.list_staff(current_store().ctx),
                           staff_name=session.get("staff_name"))


def _done(message: str) -> BaseResponse:
    flash(message)
    return redirect(url_for("manager_staff.index"))


@bp.post("/add")
@manager_required
def add() -> BaseResponse:
    """Add a cashier with a PIN."""
    name, pin = request.form.get("name", ""), request.form.get("pin", "")
    try:
        staff_admin.add_cashier(current_store().ctx, name, pin, actor=_actor())
    except StaffError as exc:
        return _done(f"Not added: {exc}.")
    return _done(f"Cashier {name.strip()} added.")


@bp.post("/<int:staff_id>/pin")
@manager_required
def reset_pin(staff_id: int) -> BaseResponse:
    """Give someone a new PIN (a manager's: 6-8 digits); their sessions end."""
    ctx = current_store().ctx
    try:
        name = staff_admin.reset_pin(ctx, staff_id, request.form.get("pin", ""), actor=_actor())
    except StaffError as exc:
        return _done(f"PIN not changed: {exc}.")
    if session.get("staff_id") == staff_id:  # their own PIN: their other sessions end, this one goes on
        session["sv"] = staff_sessions.session_version(ctx, staff_id)
    return _done(f"New PIN saved for {name}.")


@bp.post("/<int:staff_id>/deactivate")
@manager_required
def deactivate(staff_id: int) -> BaseResponse:
    """Stop someone signing in at the tills and here."""
    try:
        name = staff_admin.deactivate(current_store().ctx, staff_id, actor=_actor())
    except StaffError as exc:
        return _done(f"Not deactivated: {exc}.")
    return _done(f"{name} can no longer sign in.")
