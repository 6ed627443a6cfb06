"""``/unsubscribe/<token>``: one button, then a confirmation; works at once and needs no sign-in.

The mail's link opens a page with a single "Unsubscribe" button rather than unsubscribing on the
GET, because mail scanners open every link in a mail; mail clients that support RFC 8058 POST
to the same address (``List-Unsubscribe-Post``) and unsubscribe with no page at all.
"""

from __future__ import annotations

from flask import Blueprint
from werkzeug.wrappers import Response

from pos_referral.services.mail import contacts as mail_contacts
from pos_referral.web.auth import current_store
from pos_referral.web.promo.public import follow_phone_language, public_page

bp = Blueprint("unsubscribe", __name__)


bp.before_request(follow_phone_language)


@bp.get("/unsubscribe/<token>")
def confirm(token: str) -> Response:
    """The one-button page."""
    known = len(token) <= 80 and mail_contacts.token_known(current_store().ctx, token)
    return public_page("promo/unsubscribe.html", 200 if known else 404, token=token, done=False, known=known,
                       store_name=current_store().settings.config.store.name)


@bp.post("/unsubscribe/<token>")
def unsubscribe(token: str) -> Response:
    """Stop the mails now (the button, or a mail client's one-click POST)."""
    known = mail_contacts.unsubscribe(current_store().ctx, token)
    return public_page("promo/unsubscribe.html", 200 if known else 404, token=token, done=known, known=known,
                       store_name=current_store().settings.config.store.name)
