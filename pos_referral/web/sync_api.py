"""Sync endpoints of a central worker: stores push events and pull changes with their sync token."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, g, jsonify, request

from pos_referral.bootstrap import Central
from pos_referral.central.audit_heads import receive_head
from pos_referral.central.backups import BackupRefused, receive_backup
from pos_referral.central.changes import read_changes
from pos_referral.central.ingest import BatchError, decode_batch, ingest
from pos_referral.central.joins import JoinRefused, join, note_chain_store
from pos_referral.central.stores import store_for_token, touch
from pos_referral.domain.codes import Keyring
from pos_referral.services.audit_head import Head, HeadError
from pos_referral.web.auth import current_central
from pos_referral.web.problems import ApiProblem

bp = Blueprint("sync", __name__, url_prefix="/sync/v1")
MAX_EVENTS = 5000
MAX_CHANGES = 2000


def _central() -> Central:
    central = current_central()
    if central is None:
        raise ApiProblem(404, "not_central", "This service is a store, not the chain's central service.")
    return central


@bp.before_request
def _require_store() -> None:
    central = _central()
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    store_no = store_for_token(central.ctx.db, token.strip()) if scheme.lower() == "bearer" and token else None
    if store_no is None:
        raise ApiProblem(401, "unauthorized", "Send Authorization: Bearer <store sync token> "
                                              "(see `pos-referral central store add`).")
    g.store_no = store_no


@bp.post("/events")
def push_events() -> Response:
    """Store events in, idempotently; the answer's cursor is the last store seq central has applied."""
    raw = request.get_data(cache=False)
    try:
        body: Any = decode_batch(raw)
    except BatchError as exc:
        raise ApiProblem(400, "invalid_request", str(exc)) from None
    if not isinstance(body, dict) or not isinstance(body.get("events"), list):
        raise ApiProblem(400, "invalid_request", "Send {\"store_no\", \"after\", \"events\": [...]}.")
    if body.get("store_no") != g.store_no:
        raise ApiProblem(403, "wrong_store", f"This token belongs to store {g.store_no}.")
    after, events = body.get("after", 0), body["events"]
    if not isinstance(after, int) or after < 0 or len(events) > MAX_EVENTS:
        raise ApiProblem(422, "invalid_request", f"after must be an integer >= 0; at most {MAX_EVENTS} events")
    _central().refresh_keys()  # codes minted under a key adopted (at another worker) since this one started
    try:
        result = ingest(_central().ctx, g.store_no, after, events, raw)
    except BatchError as exc:
        raise ApiProblem(422, "invalid_batch", str(exc)) from None
    return jsonify({"cursor": result.cursor, "applied": result.applied, "duplicates": result.duplicates,
                    "conflicts": result.conflicts})


@bp.post("/audit-head")
def push_audit_head() -> Response:
    """The store's audit head (entries, last_id, mac): kept as a witness; a shorter or other head is refused."""
    body: Any = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiProblem(400, "invalid_request", "Send {\"store_no\", \"entries\", \"last_id\", \"mac\"}.")
    if body.get("store_no") != g.store_no:
        raise ApiProblem(403, "wrong_store", f"This token belongs to store {g.store_no}.")
    try:
        head = Head.from_dict(body)
    except HeadError as exc:
        raise ApiProblem(422, "invalid_request", str(exc)) from None
    central = _central()
    got = receive_head(central.ctx.db, g.store_no, head, central.ctx.clock())
    return jsonify({"accepted": got.accepted, **got.kept.as_dict()})


@bp.get("/changes")
def pull_changes() -> Response:
    """Vouchers, revocations, reward states and programs after ``since``; the chain's keys when the store's are old."""
    central = _central()
    central.refresh_keys()
    since = request.args.get("since", 0, type=int) or 0
    limit = min(max(request.args.get("limit", MAX_CHANGES, type=int) or MAX_CHANGES, 1), MAX_CHANGES)
    changes = read_changes(central.ctx.db, since, limit)
    touch(central.ctx.db, g.store_no, central.ctx.clock())
    if (request.args.get("keys_version", type=int) or 0) > 0 and g.store_no not in central.chain_stores:
        note_chain_store(central.ctx.db, g.store_no, central.ctx.clock())  # it holds the chain's keys: number taken
        central.chain_stores.add(g.store_no)
    body: dict[str, Any] = {"changes": changes, "cursor": changes[-1]["id"] if changes else since,
                            "more": len(changes) == limit, "keys_version": central.keys_version}
    if request.args.get("keys_version", type=int) != central.keys_version:
        body["keys"] = central.keys()
    return jsonify(body)


@bp.post("/join")
def join_chain() -> Response:
    """A shop that ran standalone joins: the chain adopts its code keys and pepper (central/joins.py)."""
    body: Any = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiProblem(400, "invalid_request", "Send {\"store_no\", \"keyring\", \"pepper\", \"customers\"}.")
    if body.get("store_no") != g.store_no:
        raise ApiProblem(403, "wrong_store", f"This token belongs to store {g.store_no}, not to store "
                                             f"{body.get('store_no')}: join with the token of the shop's own number "
                                             "([store] number), or give the shop that number.")
    try:
        keyring, pepper = Keyring.from_dict(body["keyring"]), bytes.fromhex(str(body["pepper"]))
        customers = int(body.get("customers", 0))
    except (KeyError, TypeError, ValueError):
        raise ApiProblem(422, "invalid_request", "keyring, pepper (hex) and customers are required.") from None
    central = _central()
    try:
        joined = join(central.ctx.db, g.store_no, keyring, pepper, customers, central.ctx.clock())
    except JoinRefused as exc:
        raise ApiProblem(409, exc.code, str(exc)) from None
    central.refresh_keys()
    return jsonify({"store_no": joined.store_no, "adopted_keys": joined.adopted_keys,
                    "keys_version": joined.keys_version})


@bp.put("/backup")
def put_backup() -> Response:
    """A store's newest verified backup (``[backup] send_to_central``): kept, the newest few per store."""
    if request.args.get("store_no", type=int) != g.store_no:
        raise ApiProblem(403, "wrong_store", f"This token belongs to store {g.store_no}.")
    settings = _central().ctx.settings
    if request.content_length is None:
        raise ApiProblem(411, "length_required", "Send the file with a Content-Length header.")
    request.max_content_length = settings.config.central.backup_max_mb * 1024 * 1024
    if request.content_length > request.max_content_length:
        raise ApiProblem(413, "too_large", f"A backup may be at most {settings.config.central.backup_max_mb} MB "
                                           "([central] backup_max_mb).")
    try:
        kept = receive_backup(settings, g.store_no, request.args.get("name", ""),
                              request.args.get("sha256", ""), request.stream)
    except BackupRefused as exc:
        raise ApiProblem(exc.status, exc.code, str(exc)) from None
    return jsonify({"stored": kept.name, "size": kept.size, "kept": kept.kept})
