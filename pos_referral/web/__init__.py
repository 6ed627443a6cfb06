"""Web entry points: one blueprint per audience."""

from __future__ import annotations

from flask import Flask


def register_blueprints(app: Flask) -> None:
    from pos_referral.web import api, api_print, health, openapi
    from pos_referral.web.auth import csrf

    csrf.exempt(api.bp)  # the API checks CSRF itself when a cookie (not a bearer token) authorises it
    csrf.exempt(api_print.bp)

    app.register_blueprint(health.bp)
    app.register_blueprint(openapi.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(api_print.bp)  # print jobs, reprints, footers for POS programs that print
    from pos_referral.web import kiosk, landing, till  # the till, kiosk and customer pages

    app.register_blueprint(till.bp)
    app.register_blueprint(landing.bp)
    app.register_blueprint(kiosk.bp)
    from pos_referral.web import manager  # manager reports and staff PINs (+ the report-events hook)

    manager.register(app)
    from pos_referral.web import sync_api  # chain sync: store token, answers 404 unless this is central

    csrf.exempt(sync_api.bp)
    app.register_blueprint(sync_api.bp)
    from pos_referral.web import promo  # promotion: /join, invitations, unsubscribe, practice till, card offers

    promo.register(app)
