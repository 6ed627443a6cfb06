"""pos-referral: a shop's referral program — codes, till, receipts, landing pages, reports, chain sync."""

from __future__ import annotations

from typing import Any

from flask import Flask

from pos_referral.bootstrap import Store, build_store
from pos_referral.config import Settings, load_settings
from pos_referral.resources import kiosk_ui_dir

__version__ = "0.1.0"


def create_app(
    settings: Settings | None = None, *, store: Store | None = None, test_config: dict[str, Any] | None = None
) -> Flask:
    """Build the Flask app around a store (built here from settings when not given)."""
    from pos_referral.web import register_blueprints
    from pos_referral.web.auth import EXTENSION, csrf
    from pos_referral.web.problems import register_error_handlers

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
        MAX_CONTENT_LENGTH=64 * 1024,
    )
    if test_config:
        app.config.update(test_config)
    app.extensions[EXTENSION] = store
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", 12 * 3600)  # a till stays open for a whole shift
    csrf.init_app(app)
    from pos_referral.web.i18n import init_i18n

    init_i18n(app, store)  # Flask-Babel: catalogs compiled into the data folder, store language default
    register_error_handlers(app)
    register_blueprints(app)
    from pos_referral.web.perf_hot_path import HotPath

    # the till's quote and redemption calls skip Flask's per-request machinery (same functions)
    app.wsgi_app = HotPath(app, store, app.wsgi_app)  # type: ignore[method-assign]
    return app
