"""Manager pages: password sign-in, the report dashboard, CSV exports, the printed daily summary."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.wrappers import Response as BaseResponse

from pos_referral.central import store_lag
from pos_referral.central.stores import StoreError
from pos_referral.services import staff
from pos_referral.services.backups.backup_status import backup_health
from pos_referral.services.reports import dashboard as reports
from pos_referral.services.reports import periods
from pos_referral.services.reports.daily_summary import queue_daily_summary
from pos_referral.services.reports.date_range import DateRange, RangeError, parse_range
from pos_referral.web.auth import client_address, current_central, current_store, end_staff_session, start_staff_session
from pos_referral.web.i18n import current_language
from pos_referral.web.manager.auth import manager_required, safe_next
from pos_referral.web.manager.charts import funnel_chart, trend_chart

bp = Blueprint("manager", __name__, url_prefix="/manager")


def _chain() -> list[store_lag.StoreLag] | None:
    """The chain's stores and their sync lag on central; None on a store."""
    if current_central() is None:
        return None
    store = current_store()
    return store_lag.chain_stores(store.ctx.db, store.ctx.clock())


def _range(chain: list[store_lag.StoreLag] | None = None) -> DateRange:
    store = current_store()
    try:
        store_no = store_lag.parse_store_filter(request.args.get("store"), chain) if chain is not None else None
        return parse_range(request.args.get("from"), request.args.get("to"), store.ctx.tz, store.ctx.clock(),
                           store_no)
    except (RangeError, StoreError) as exc:
        abort(400, description=str(exc))


def range_args(rng: DateRange) -> dict[str, str]:
    """The query arguments that name a report's range (and store) in links and forms."""
    args = {"from": rng.first.isoformat(), "to": rng.last.isoformat()}
    if rng.store_no is not None:
        args["store"] = f"S{rng.store_no:03d}"
    return args


@bp.get("/login")
def login() -> str:
    """The manager's sign-in form (name and password)."""
    return render_template("manager/login.html", error=None, name="", next=request.args.get("next", ""))


@bp.post("/login")
def login_post() -> BaseResponse:
    """Check a manager's password; wrong ones slow this name and address down (never a lock-out); audited."""
    store = current_store()
    name, password = request.form.get("name", "").strip(), request.form.get("password", "")
    nxt = request.form.get("next", "")
    throttle, address = store.sign_ins, client_address()

    def refuse(message: str, status: int, wait: int = 0) -> BaseResponse:
        resp = make_response(render_template("manager/login.html", error=message, name=name, next=nxt), status)
        if wait:
            resp.headers["Retry-After"] = str(wait)
        return resp

    if not name or not password or len(password) > 256 or len(name) > 40:
        return refuse("Type your name and password.", 422)
    wait = throttle.wait(name, address)
    if wait:
        return refuse(f"Too many failed sign-ins. Wait {wait} seconds, then try again.", 429, wait)
    result = staff.sign_in(store.ctx, secret=password, name=name, use_password=True, roles=("manager",),
                           where="manager pages")
    if isinstance(result, staff.SignInRefused):
        throttle.failed(name, address)
        return refuse("Wrong name or password.", 401)
    throttle.succeeded(name, address)
    now = store.ctx.clock().timestamp()
    start_staff_session(result, staff_name=result.name, manager_since=now, seen=now)
    return redirect(safe_next(nxt))


@bp.post("/logout")
def logout() -> BaseResponse:
    """Sign out of the manager pages: every copy of this session stops working."""
    end_staff_session("manager pages")
    return redirect(url_for("manager.login"))


def _page_text(currency: str) -> Callable[[Any, str], str]:
    """The page's cell text: money in the shop's currency as this page's language writes it."""
    lang = current_language()
    return lambda value, kind: reports.page_text(value, kind, currency, lang)


@bp.get("")
@bp.get("/")
@manager_required
def dashboard() -> str:
    """The report for a date range (on central: all stores or one, with each store's sync lag)."""
    chain = _chain()
    rng = _range(chain)
    store = current_store()
    report = reports.build_report(store.ctx, rng)
    tables = dict(reports.TABLES)
    show = _page_text(report.currency)
    report.tables["kpis"] = [{**row, "value": show(row["raw"], "money")} if row["kind"] == "money" else row
                             for row in report.tables["kpis"]]  # the page's copy; CSV and JSON build their own
    step, trend = periods.readable(report.tables["trend"])
    if step == "week":  # a long range: the page shows weeks (the CSV and JSON keep every day)
        columns = reports.TABLES["trend"][1]
        report.tables["trend"] = trend
        report.columns["trend"] = [("week", "Week", "text"), *columns[1:]]
        tables["trend"] = ("Weekly trend (the CSV has every day)", columns)
    return render_template(
        "manager/dashboard.html", report=report, tables=tables, fmt=show,
        kpis={row["key"]: row for row in report.tables["kpis"]},
        trend_svg=trend_chart(trend, weekly=step == "week"), funnel_svg=funnel_chart(report.tables["funnel"]),
        summary_day=rng.last.isoformat(), staff_name=session.get("staff_name"),
        chain=chain, range_args=range_args(rng), lag_text=store_lag.lag_text, definitions=reports.DEFINITIONS,
        backup=None if chain is not None else backup_health(store.settings, store.ctx.clock()),
    )


@bp.get("/export/<name>.csv")
@manager_required
def export(name: str) -> Response:
    """One dashboard table as CSV (the whole table, not only the rows the page shows)."""
    if name not in reports.TABLES:
        abort(404, description="There is no such report table.")
    rng = _range(_chain())
    store = current_store()
    report = reports.build_report(store.ctx, rng, parts=(name,), limit=None)
    where = "" if rng.store_no is None else f"S{rng.store_no:03d}_"
    filename = f"{name}_{where}{rng.first.isoformat()}_{rng.last.isoformat()}.csv"
    return Response(reports.to_csv(report, name), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"',
                             "Cache-Control": "no-store"})


@bp.get("/report.json")
@manager_required
def report_json() -> Response:
    """The whole report as JSON (what ``pos-referral report --format json`` prints)."""
    rng = _range(_chain())
    store = current_store()
    return jsonify(reports.to_json(reports.build_report(store.ctx, rng, limit=None)))


@bp.post("/summary/print")
@manager_required
def print_summary() -> BaseResponse:
    """Queue the daily summary of the chosen day on the receipt printer."""
    store = current_store()
    try:
        day = parse_range(None, request.form.get("day"), store.ctx.tz, store.ctx.clock()).last
    except RangeError as exc:
        abort(400, description=str(exc))
    job_id = queue_daily_summary(store.ctx, day)
    flash(f"The summary of {day.isoformat()} is queued on the receipt printer (job {job_id})." if job_id else
          "This shop has no receipt printer configured ([printer] type = \"none\"): nothing was printed.")
    params = urlencode({k: v for k, v in request.args.items() if k in ("from", "to", "store")})
    return redirect(url_for("manager.dashboard") + (f"?{params}" if params else ""))
