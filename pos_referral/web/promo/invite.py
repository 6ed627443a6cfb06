"""Owner-only pages behind the signed link on a referrer's receipt: invite friends, get status mails.

``/invite/<code>?s=...`` invites up to five friends by email with a pre-written message the
referrer may edit; ``/updates/<code>?s=...`` asks for the referrer's address and consent for
status mails. Without the owner's signature both answer 404, as for an unknown code.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, request
from werkzeug.wrappers import Response

from pos_referral.domain.codes import CodeKind, format_display
from pos_referral.domain.errors import Refusal
from pos_referral.services import checkout, messages, owner_links
from pos_referral.services.mail import contacts as mail_contacts
from pos_referral.services.mail import invite as mail_invite
from pos_referral.web.auth import current_store
from pos_referral.web.i18n import current_language
from pos_referral.web.promo.public import follow_phone_language, public_page

bp = Blueprint("invite", __name__)
INVITES_PER_MINUTE = 5  # per client address, on top of the per-referrer daily limit


bp.before_request(follow_phone_language)


def _owned() -> tuple[checkout.CodeInfo, str]:
    """The code's row when the request carries its owner's signature, else 404."""
    ctx = current_store().ctx
    code = str((request.view_args or {}).get("code", ""))
    signature = request.args.get("s", "")
    try:
        info = checkout.lookup(ctx, code)
    except Refusal:
        abort(404)
    if info.code.kind != CodeKind.REFERRAL.value or info.program is None:
        abort(404)
    if not owner_links.is_owner(ctx, info.code.code, info.code.owner_generation, signature):
        abort(404)
    return info, signature


def _page(template: str, info: checkout.CodeInfo, signature: str, status: int = 200, **extra: Any) -> Response:
    store = current_store()
    return public_page(template, status, code=info.code.code, display_code=format_display(info.code.code),
                       signature=signature, store_name=store.settings.config.store.name,
                       mail_on=store.settings.config.mail.enabled, **extra)


@bp.get("/invite/<code>")
def invite_form(code: str) -> Response:
    """Up to five addresses and the pre-written message (editable)."""
    info, signature = _owned()
    assert info.program is not None
    note = mail_invite.default_note(current_store().ctx, info.program, current_language())
    return _page("promo/invite.html", info, signature, note=note, emails=[""] * mail_invite.MAX_FRIENDS,
                 result=None, error=None, max_friends=mail_invite.MAX_FRIENDS)


@bp.post("/invite/<code>")
def send_invites(code: str) -> Response:
    """Queue the invitations (sent by the mail worker; the addresses are forgotten once sent)."""
    info, signature = _owned()
    assert info.program is not None
    store = current_store()
    emails = [e[:254] for e in request.form.getlist("email")][: mail_invite.MAX_FRIENDS + 1]
    note = request.form.get("note", "")[:2000]
    shown = (emails + [""] * mail_invite.MAX_FRIENDS)[: mail_invite.MAX_FRIENDS]
    limit = current_store().limits.named("invite", INVITES_PER_MINUTE)
    key = f"invite:{request.remote_addr}"

    def again(error: str, status: int) -> Response:
        return _page("promo/invite.html", info, signature, status, note=note, emails=shown, result=None,
                     error=error, max_friends=mail_invite.MAX_FRIENDS)

    if limit.retry_after(key):
        return again("rate_limited", 429)
    limit.record_failure(key)
    try:
        result = mail_invite.invite(store.ctx, code=info.code.code, referrer_id=info.code.customer_id,
                                    program=info.program, emails=emails, note=note, lang=current_language())
    except mail_invite.InviteError as exc:
        return again(exc.code, 429 if exc.code == "rate_limited" else 422)
    return _page("promo/invite.html", info, signature, 201, note=note, emails=[""] * mail_invite.MAX_FRIENDS,
                 result=result, error=None, max_friends=mail_invite.MAX_FRIENDS)


@bp.get("/updates/<code>")
def updates_form(code: str) -> Response:
    """Ask for the owner's address and consent for status mails."""
    info, signature = _owned()
    return _page("promo/updates.html", info, signature, done=False, error=None, email="")


@bp.post("/updates/<code>")
def updates_subscribe(code: str) -> Response:
    """Record consent and the address (kept only while they want mail)."""
    info, signature = _owned()
    email = request.form.get("email", "").strip()[:254]
    if request.form.get("consent") != "yes":
        return _page("promo/updates.html", info, signature, 422, done=False, error="consent", email=email)
    try:
        mail_contacts.subscribe_customer(current_store().ctx, info.code.customer_id, email,
                                         messages.language(current_language()), source="landing")
    except mail_contacts.ContactError:
        return _page("promo/updates.html", info, signature, 422, done=False, error="email", email=email)
    return _page("promo/updates.html", info, signature, done=True, error=None, email="")
