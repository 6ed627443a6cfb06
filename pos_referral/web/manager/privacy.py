"""Manager page for privacy requests: find a customer, download everything held (JSON), forget them.

The phone or email a manager types is sent in a POST body, never in a URL (no address in server
logs or browser history). Export and forget are audited with the manager's name (services/privacy).
"""

from __future__ import annotations

import json

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response as BaseResponse

from pos_referral.services.privacy.lookup import SubjectError
from pos_referral.services.privacy.requests import export_customer, find_customers, forget_customer
from pos_referral.web.auth import current_central, current_store
from pos_referral.web.manager.auth import manager_required

bp = Blueprint("manager_privacy", __name__, url_prefix="/manager/customers")


def _actor() -> str:
    return str(session.get("staff_name") or "manager")


def _at_a_store() -> None:
    if current_central() is not None:
        abort(404, description="Privacy requests are made at a store; central carries them out through sync.")


@bp.get("")
@bp.get("/")
@manager_required
def index() -> str:
    """The search form (on central: where to make the request instead)."""
    return render_template("manager/customers.html", found=None, subject="", staff_name=session.get("staff_name"),
                           central=current_central() is not None)


@bp.post("/find")
@manager_required
def find() -> str | BaseResponse:
    """The customer rows a customer id, phone number or email address names."""
    _at_a_store()
    subject = request.form.get("subject", "")
    try:
        found = find_customers(current_store().ctx, subject)
    except SubjectError as exc:
        flash(f"{exc}.")
        return redirect(url_for("manager_privacy.index"))
    return render_template("manager/customers.html", found=found, subject=subject.strip(),
                           staff_name=session.get("staff_name"))


@bp.post("/export")
@manager_required
def export() -> BaseResponse:
    """Everything held about the customer, as a JSON download (audited)."""
    _at_a_store()
    try:
        doc = export_customer(current_store().ctx, request.form.get("subject", ""), _actor())
    except SubjectError as exc:
        flash(f"{exc}.")
        return redirect(url_for("manager_privacy.index"))
    if doc is None:
        flash("No customer found for that id, phone number or email address.")
        return redirect(url_for("manager_privacy.index"))
    name = f"customer-{doc['customer_ids'][0]}.json"
    return Response(json.dumps(doc, indent=2, ensure_ascii=False), mimetype="application/json",
                    headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})


@bp.post("/forget")
@manager_required
def forget() -> BaseResponse:
    """Erase the customer's name and contact data here and, through sync, in the whole chain (audited)."""
    _at_a_store()
    if request.form.get("confirm") != "yes":
        flash("Nothing was erased: tick the box to confirm first.")
        return redirect(url_for("manager_privacy.index"))
    try:
        result = forget_customer(current_store().ctx, request.form.get("subject", ""), _actor())
    except SubjectError as exc:
        flash(f"{exc}.")
        return redirect(url_for("manager_privacy.index"))
    if not result.found:
        flash("No customer found for that id, phone number or email address.")
    else:
        again = "" if result.newly_forgotten else " (already forgotten before)"
        flash(f"Forgotten{again}: {result.erased.line()}. Other stores and central follow on the next sync.")
    return redirect(url_for("manager_privacy.index"))
