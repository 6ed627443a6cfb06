"""pos-referral: a shop's referral program — codes, till, receipts, landing pages, reports, chain sync."""

from __future__ import annotations

from importlib.metadata import version
from typing import Any

from flask import Flask

from pos_referral.bootstrap import Central, Store, build_store
from pos_referral.central.service import MAX_BATCH_BYTES
from pos_referral.config import Settings, load_settings
from pos_referral.resources import kiosk_ui_dir
from pos_referral.web import register_blueprints
from pos_referral.web.auth import CENTRAL, EXTENSION, csrf
from pos_referral.web.hosts import restrict_hosts
from pos_referral.web.i18n import init_i18n
from pos_referral.web.problems import register_error_handlers

__version__ = version("pos-referral")


def create_app(
    settings: Settings | None = None, *, store: Store | None = None, central: Central | None = None,
    test_config: dict[str, Any] | None = None,
) -> Flask:
    """Build the Flask app around a store (built here from settings when not given), or around a
    central worker (``central``: the same pages plus the chain's sync endpoints)."""
    if central is not None:
        store = central.store
    if store is None:
        store = build_store(settings or load_settings())
    ui = kiosk_ui_dir()
    app = Flask(__name__, template_folder=str(ui / "templates"), static_folder=str(ui / "static"))
    app.config.update(
        SECRET_KEY=store.ctx.secrets.session_key,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=store.settings.config.server.secure_cookies,
        JSON_SORT_KEYS=False,
        MAX_CONTENT_LENGTH=MAX_BATCH_BYTES if central is not None else 64 * 1024,
        WTF_CSRF_TIME_LIMIT=12 * 3600,  # a till stays open for a whole shift
    )
    if test_config:
        app.config.update(test_config)
    app.extensions[EXTENSION] = store
    app.extensions[CENTRAL] = central
    csrf.init_app(app)
    init_i18n(app, store)  # Flask-Babel: catalogs compiled into the data folder, store language default
    register_error_handlers(app)
    restrict_hosts(app, store.settings)  # before every blueprint's own checks
    register_blueprints(app)
    return app
