"""``/r/<code>/claim``: the customer who got a bearer code on a receipt names themselves, once.

The printed QR carries the owner signature (``?s=``), so only whoever holds the paper reaches the
form; without it (or for a code that is not a bearer code) the page is the friendly not-found page.
The page says why we ask: so the rewards friends earn with the code reach the right person, and so a
lost receipt does not lose them. The contact is kept only as a keyed hash and a masked hint.
"""

from __future__ import annotations

from flask import Blueprint, redirect, request
from werkzeug.wrappers import Response

from pos_referral.domain.codes import format_display
from pos_referral.services import owner_links
from pos_referral.services.customers import CustomerInput, CustomerInputError
from pos_referral.services.proxy_offers import claims
from pos_referral.web.auth import current_store
from pos_referral.web.i18n import current_language
from pos_referral.web.promo.public import follow_phone_language, public_page

bp = Blueprint("claim", __name__)
CLAIMS_PER_MINUTE = 5  # per client address: a claim form is no place to try phone numbers


bp.before_request(follow_phone_language)


def _page(code: str, signature: str, status: int = 200, **extra: object) -> Response:
    store = current_store()
    values: dict[str, object] = dict(contact="", first_name="", error=None, outcome=None)
    values.update(extra)
    return public_page("claim.html", status, code=code, display_code=format_display(code), signature=signature,
                       store_name=store.settings.config.store.name, **values)


def _not_found(code: str) -> Response:
    return public_page("landing_unknown.html", 404, reason="unknown_code", typed=code[:40])


@bp.get("/r/<code>/claim")
def claim_form(code: str) -> Response:
    """Why we ask, and the form (phone or email, first name optional); or "already claimed"."""
    signature = request.args.get("s", "")
    found = claims.claimable(current_store().ctx, code, signature)
    if found is None or not found.owner:
        return _not_found(code)
    if found.claimed:
        return _page(code, signature, outcome="already_claimed")
    return _page(code, signature)


@bp.post("/r/<code>/claim")
def claim_code(code: str) -> Response:
    """Claim it (one conditional update); a second claim is refused politely."""
    store = current_store()
    signature = request.args.get("s", "")
    contact = request.form.get("contact", "").strip()[:254]
    first_name = request.form.get("first_name", "").strip()[:40]
    limit = store.limits.named("claim", CLAIMS_PER_MINUTE)
    key = f"claim:{request.remote_addr}"
    if limit.retry_after(key):
        return _page(code, signature, 429, contact=contact, first_name=first_name, error="rate_limited")
    limit.record_failure(key)
    field = "email" if "@" in contact else "phone"
    try:
        given = CustomerInput.parse({field: contact, "first_name": first_name, "language": current_language()})
    except CustomerInputError:
        given = CustomerInput()
    if given.identity is None:
        return _page(code, signature, 422, contact=contact, first_name=first_name, error="contact")
    outcome = claims.claim(store.ctx, code, signature, given)
    if outcome.outcome in ("not_claimable", "not_owner"):
        return _not_found(code)
    if outcome.done:  # on to the code's page, as its owner: progress, share links
        generation = owner_links.generation_of(store.ctx, code)
        return redirect(owner_links.owner_url(store.ctx, f"/r/{code}", code, generation) + "&claimed=1", 303)
    status = 409 if outcome.outcome == "already_claimed" else 422
    return _page(code, signature, status, outcome=outcome.outcome)
