"""Web entry points: one blueprint per audience."""

from __future__ import annotations

from flask import Flask

from pos_referral.web import claim, health, home, kiosk, landing, share, sync_api
from pos_referral.web.api import card_offers, openapi, printing, proxy, routes, sales
from pos_referral.web.auth import check_staff_session, csrf
from pos_referral.web.display import pages as display_pages
from pos_referral.web.headers import secure_headers
from pos_referral.web.manager import books, dashboard, privacy, reconciliation, staff
from pos_referral.web.promo import invite, join, unsubscribe
from pos_referral.web.till import pages, practice


def register_blueprints(app: Flask) -> None:
    app.before_request(check_staff_session)  # first: a revoked staff session is empty for every view below
    app.after_request(secure_headers)
    # JSON APIs check CSRF themselves when a cookie (not a bearer token) authorises them; sync uses store
    # tokens; unsubscribe is RFC 8058 one-click (mail clients POST without a form token; the token is the key)
    for exempt in (routes.bp, printing.bp, card_offers.bp, proxy.bp, sales.bp, share.bp, sync_api.bp,
                   unsubscribe.bp):
        csrf.exempt(exempt)
    for bp in (home.bp, health.bp, openapi.bp, routes.bp, printing.bp, card_offers.bp, sales.bp,  # till, POS software
               proxy.bp,  # "Give card" for the print proxy (the till's F7, a POS macro key)
               pages.bp, practice.bp,  # the cashier's till page and its practice mode
               display_pages.bp,  # the customer display beside the till (its link's key, no sign-in)
               claim.bp, landing.bp, share.bp, kiosk.bp, join.bp, invite.bp, unsubscribe.bp,  # customers
               dashboard.bp, staff.bp, books.bp, privacy.bp, reconciliation.bp,  # managers
               sync_api.bp):  # chain sync: store tokens; answers 404 unless this is central
        app.register_blueprint(bp)
