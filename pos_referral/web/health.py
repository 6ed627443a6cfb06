"""``/healthz``: is the database writable-ready, is the printer answering (public, no secrets)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, Response, jsonify

from pos_referral.db.models import OutboxEvent, PrintJob
from pos_referral.services.unit_of_work import UnitOfWork
from pos_referral.web.auth import current_store

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    """Liveness and the state a cashier or monitor cares about."""
    store = current_store()
    body: dict[str, object] = {"status": "ok", "store": store.settings.config.store.number}
    try:
        with UnitOfWork(store.db, write=False) as uow:
            body["database"] = "ok"
            body["print_queue"] = {
                status: count
                for status, count in uow.session.execute(
                    sa.select(PrintJob.status, sa.func.count()).group_by(PrintJob.status)
                ).all()
            }
            body["sync_backlog"] = uow.session.scalar(
                sa.select(sa.func.count()).select_from(OutboxEvent).where(OutboxEvent.sent_at.is_(None))
            )
    except sa.exc.SQLAlchemyError:
        body.update(status="degraded", database="unavailable")
    printer = getattr(store, "printer_status", None)
    if callable(printer):
        body["printer"] = printer()
    return jsonify(body), 200 if body["status"] == "ok" else 503
