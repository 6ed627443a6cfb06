"""Web entry points: one blueprint per audience."""

from __future__ import annotations

from flask import Flask

from pos_referral.web import api, api_print, health, kiosk, landing, manager, openapi, promo, sync_api, till
from pos_referral.web.auth import csrf


def register_blueprints(app: Flask) -> None:
    # the API checks CSRF itself when a cookie (not a bearer token) authorises it; sync uses store tokens
    for bp in (api.bp, api_print.bp, sync_api.bp):
        csrf.exempt(bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(openapi.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(api_print.bp)  # print jobs, reprints, footers for POS programs that print
    app.register_blueprint(till.bp)
    app.register_blueprint(landing.bp)
    app.register_blueprint(kiosk.bp)
    manager.register(app)  # manager reports and staff PINs
    app.register_blueprint(sync_api.bp)  # chain sync: store token, answers 404 unless this is central
    promo.register(app)  # promotion: /join, invitations, unsubscribe, practice till, card offers
