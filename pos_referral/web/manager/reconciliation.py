"""Central's reconciliation page: the open conflicts between stores, each resolved with a note (audited)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response as BaseResponse

from pos_referral.central.reconciliation import ResolveError, open_conflicts, resolve, resolved
from pos_referral.web.auth import current_central, current_store
from pos_referral.web.manager.auth import manager_required

bp = Blueprint("manager_reconciliation", __name__, url_prefix="/manager/reconciliation")


def _central_only() -> None:
    if current_central() is None:
        abort(404, description="The reconciliation list is kept by central.")


@bp.get("")
@bp.get("/")
@manager_required
def index() -> str:
    """Open items first (oldest first), then the latest resolved ones with who resolved them and why."""
    _central_only()
    db = current_store().ctx.db
    return render_template("manager/reconciliation.html", open_items=open_conflicts(db), done=resolved(db),
                           staff_name=session.get("staff_name"))


@bp.post("/<item>/resolve")
@manager_required
def resolve_item(item: str) -> BaseResponse:
    """Resolve one item with the manager's note; refused (the page says why) without a note or when done."""
    _central_only()
    if len(item) > 40:
        abort(400, description="There is no such item.")
    try:
        done = resolve(current_store().ctx, item, request.form.get("note", ""), str(session.get("staff_name") or
                                                                                     "manager"))
    except ResolveError as exc:
        flash(f"Not resolved: {exc}.")
        return redirect(url_for("manager_reconciliation.index"))
    flash(f"Item #{done.id} ({done.kind} at S{done.store_no:03d}) is resolved.")
    return redirect(url_for("manager_reconciliation.index"))
