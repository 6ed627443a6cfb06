"""API v1 for the print queue and for POS programs that print the referral footer themselves."""

from __future__ import annotations

from typing import Any, cast, get_args

from flask import Blueprint, Response, jsonify, request

from pos_referral.db.models import PrintJob
from pos_referral.printing.profiles import UnknownProfileError
from pos_referral.printing.render import Format, render_footer
from pos_referral.services import print_jobs
from pos_referral.web.auth import current_store, require_till
from pos_referral.web.problems import ApiProblem

bp = Blueprint("api_print", __name__, url_prefix="/api/v1")
bp.before_request(require_till)

FORMATS: tuple[str, ...] = get_args(Format)
MEDIA_TYPES = {"escpos": "application/vnd.escpos", "text": "text/plain; charset=utf-8", "png": "image/png"}


def job_view(job: PrintJob) -> dict[str, Any]:
    return {
        "id": job.id,
        "template": job.template,
        "status": job.status,
        "attempts": job.attempts,
        "last_error": job.last_error or None,
        "bytes_sent": job.bytes_sent,
        "reprint": job.reprint_of is not None,
        "reprint_of": job.reprint_of,
        "redemption_id": job.redemption_id,
        "created_at": job.created_at.isoformat(),
        "updated_at": job.updated_at.isoformat(),
        "next_attempt_at": job.next_attempt_at.isoformat() if job.status != "done" else None,
        "printer": current_store().printer_status(),
    }


MAX_JOB_ID = 2**63 - 1  # a database integer; a larger id in the path cannot name a job


def _job_not_found(job_id: int) -> ApiProblem:
    return ApiProblem(404, "print_job_not_found", f"There is no print job {job_id}.")


@bp.get("/print-jobs/<int:job_id>")
def get_print_job(job_id: int) -> Response:
    """A job's state (queued, printing, done, failed), attempts, last error, and the printer's last known state."""
    if job_id > MAX_JOB_ID:
        raise _job_not_found(job_id)
    job = print_jobs.find(current_store().db, job_id)
    if job is None:
        raise _job_not_found(job_id)
    return jsonify(job_view(job))


@bp.post("/print-jobs/<int:job_id>/reprint")
def reprint_job(job_id: int) -> tuple[Response, int]:
    """Queue the same content again, marked REPRINT on the paper."""
    if job_id > MAX_JOB_ID:
        raise _job_not_found(job_id)
    store = current_store()
    job = print_jobs.reprint(store.db, job_id, store.ctx.clock(), ctx=store.ctx)
    if job is None:
        raise _job_not_found(job_id)
    if store.print_worker is not None:
        store.print_worker.notify()
    return jsonify(job_view(job)), 201


@bp.get("/redemptions/<redemption_id>/footer")
def redemption_footer_bytes(redemption_id: str) -> Response:
    """The referral footer of a redemption, rendered for the printer profile the caller names, to append
    to its own receipt: ``format`` escpos (default), text or png; ``profile`` (default: this store's);
    ``paper`` 58 or 80 (default: from the profile)."""
    requested = request.args.get("format", "escpos")
    if requested not in FORMATS:
        raise ApiProblem(422, "invalid_format", f"format must be one of {', '.join(FORMATS)}.", field="format")
    fmt = cast(Format, requested)
    paper = request.args.get("paper", "")
    if paper not in ("", "58", "80"):
        raise ApiProblem(422, "invalid_paper", "paper must be 58 or 80 (millimetres).", field="paper")
    store = current_store()
    profile = request.args.get("profile") or store.settings.config.printer.profile
    context = print_jobs.redemption_footer(store.ctx, redemption_id)
    if context is None:
        raise ApiProblem(404, "redemption_not_found",
                         f"There is no referral redemption {redemption_id} with a footer to print.")
    try:
        data = render_footer(context, profile, fmt, paper_mm=int(paper) if paper else None)
    except UnknownProfileError as exc:
        raise ApiProblem(422, "unknown_printer_profile", str(exc), field="profile") from None
    return Response(data, mimetype=MEDIA_TYPES[fmt], headers={"Cache-Control": "no-store"})
