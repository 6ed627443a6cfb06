"""Manager download of the books: the reward liability ledger per day or month, as CSV (reports/books.py)."""

from __future__ import annotations

from flask import Blueprint, Response, abort, request

from pos_referral.services.reports import books
from pos_referral.services.reports.date_range import RangeError, parse_range
from pos_referral.web.auth import current_store
from pos_referral.web.manager.auth import manager_required

bp = Blueprint("manager_books", __name__, url_prefix="/manager/books")


@bp.get("/ledger.csv")
@manager_required
def ledger_csv() -> Response:
    """The books of the chosen range (``?from&to&period=day|month``): what ``report ledger`` prints."""
    period = request.args.get("period", "month")
    if period not in ("day", "month"):
        abort(400, description="period is day or month")
    ctx = current_store().ctx
    try:
        rng = parse_range(request.args.get("from"), request.args.get("to"), ctx.tz, ctx.clock())
    except RangeError as exc:
        abort(400, description=str(exc))
    result = books.build_books(ctx, rng, period)
    filename = f"ledger_{period}_{rng.first.isoformat()}_{rng.last.isoformat()}.csv"
    return Response(books.to_csv(result, rng), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"})
