"""``/healthz``: is the database writable-ready, is the printer answering, is sync late (public, no secrets).

``printer.state`` is one of ready, paper_low, paper_out, cover_open, offline, unknown (null: no printer);
``sync.mode`` is standalone (no sync), central (the chain's central service) or chain, with
``sync.state`` ok or late (services/health.py); ``backup.state`` is ok, late, failed (with ``error``), none
(no backup yet) or off, with the newest good backup's time, file and size (services/backups/backup_status.py).
``proxy`` (only while the print proxy runs): its counters (connections, refused, printer_errors, receipts,
footers, misses by cause; proxy/stats.py).
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from pos_referral.services.backups.backup_status import backup_health
from pos_referral.services.health import database_health, sync_health
from pos_referral.web.auth import current_central, current_store

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    """Liveness and the state a cashier or monitor cares about."""
    store = current_store()
    body: dict[str, object] = {"status": "ok", "store": store.settings.config.store.number}
    body.update(database_health(store.db))
    if body["database"] != "ok":
        body["status"] = "degraded"
    body["printer"] = store.printer_status()
    if store.proxy_stats is not None:  # the print proxy runs ([proxy] enabled)
        body["proxy"] = store.proxy_status()
    central = current_central() is not None
    body["sync"] = {"mode": "central"} if central else sync_health(store.ctx)
    if not central:  # a store's backups (services/backups/): state ok, late, failed, none or off
        body["backup"] = backup_health(store.settings, store.ctx.clock())
    return jsonify(body), 200 if body["status"] == "ok" else 503
