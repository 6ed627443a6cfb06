"""``/kiosk/join``: a customer joins on their own — phone or email, consent — and gets a card printed.

The form is CSRF protected and rate limited per client address (a kiosk is one address; a
phone on the shop's Wi-Fi another), so nobody can print a roll of cards or mint codes in bulk.
"""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from flask_babel import gettext as _

from pos_referral.domain.identity import IdentityError, normalise_email, normalise_phone
from pos_referral.domain.text import clean_name
from pos_referral.services import cards
from pos_referral.services.customers import CustomerInput
from pos_referral.services.referral_codes import SequenceExhausted
from pos_referral.web.auth import current_store
from pos_referral.web.i18n import current_language
from pos_referral.web.offer_text import friend_offer, referrer_offer

bp = Blueprint("kiosk", __name__, url_prefix="/kiosk")


def _form(error: str | None = None, status: int = 200, **values: str) -> tuple[str, int]:
    program = current_store().settings.default_program
    return render_template("kiosk_join.html", error=error, values=values, program=program,
                           friend_lines=friend_offer(program), referrer_lines=referrer_offer(program)), status


@bp.before_request
def _enabled() -> None:
    if not current_store().settings.config.kiosk.enabled:
        abort(404)


@bp.get("/join")
def join_form() -> tuple[str, int]:
    """The join form."""
    return _form()


@bp.post("/join")
def join() -> tuple[str, int]:
    """Give the customer a code and print it as a referral card."""
    store = current_store()
    limit = current_store().limits.named("kiosk", store.settings.config.kiosk.joins_per_minute)
    key = f"kiosk:{request.remote_addr}"
    contact = request.form.get("contact", "").strip()[:254]
    first_name = clean_name(request.form.get("first_name", ""))
    values = {"contact": contact, "first_name": first_name}
    wait = limit.retry_after(key)
    if wait:
        return _form(_("Please wait %(s)d seconds before joining again.", s=wait), 429, **values)
    if request.form.get("consent") != "yes":
        return _form(_("Please tick the box to agree, so we may keep your code for you."), 422, **values)
    try:
        identity = normalise_email(contact) if "@" in contact else normalise_phone(contact)
    except IdentityError:
        return _form(_("Please type a phone number (with country code) or an email address."), 422, **values)
    limit.record_failure(key)  # every join counts against the limit, not only failures
    given = CustomerInput(identity=identity, first_name=first_name, language=current_language())
    try:
        cards.issue_with_card(store.ctx, given, channel="kiosk", till_id="kiosk", language=current_language())
    except SequenceExhausted:
        return _form(_("We cannot make new codes right now. Please ask at the till."), 503, **values)
    # One answer whether the contact was new or already known (no oracle for who is a customer): the code
    # is never shown on screen, the card (printed only for a new customer) carries it, and an existing
    # customer's code is never shown or printed to whoever typed their number.
    printer = store.settings.config.printer.type != "none"
    return render_template("kiosk_done.html", printer=printer, first_name=first_name), 200
