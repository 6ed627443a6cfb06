"""``/r/<code>``: the page behind the receipt QR, for the friend who got the code and for its owner.

Public and small (one request, no external assets, well under 60 KB): the offer, how to use it,
a QR the cashier can scan off the phone, share links, the program's rules. The owner's progress
appears only with the signature printed on their own receipt (``?s=``); anyone else sees at most
the owner's first name. Unknown or mistyped codes get a friendly 404 page, never an error dump.

The headline and the share messages come from the shop's editable message templates
(``config/messages/<lang>/``, see ``services/messages.py``), one per channel, in the page's language.
The owner also sees their named status (ambassador) and, when mail is on, links to invite friends by
email and to ask for status mails.
"""

from __future__ import annotations

import logging
from datetime import datetime
from functools import lru_cache
from typing import Any
from urllib.parse import quote

import qrcode
import qrcode.image.svg
from flask import Blueprint, redirect, request, url_for
from flask_babel import gettext as _
from markupsafe import Markup
from werkzeug.wrappers import Response

from pos_referral.domain.codes import CodeKind, format_display
from pos_referral.domain.errors import Refusal
from pos_referral.domain.money import parse_money
from pos_referral.domain.rules import Program
from pos_referral.services import checkout, landing_page, messages, owner_links, rewards
from pos_referral.services.promo import ambassador
from pos_referral.web.auth import current_store
from pos_referral.web.i18n import current_language
from pos_referral.web.offer_text import friend_offer, program_text, referrer_offer
from pos_referral.web.promo.public import follow_phone_language, public_page

bp = Blueprint("landing", __name__)
logger = logging.getLogger(__name__)


bp.before_request(follow_phone_language)


@lru_cache(maxsize=512)
def qr_svg(url: str) -> Markup:
    """The page's own address as an inline SVG path (about 3 KB), drawn on the server."""
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=2,
                       image_factory=qrcode.image.svg.SvgPathImage)
    qr.add_data(url)
    svg = qr.make_image().to_string(encoding="unicode")
    svg = svg[svg.index("<svg"):]
    return Markup(svg.replace("<svg ", '<svg role="img" aria-hidden="true" ', 1))


def _with_link(text: str, url: str) -> str:
    return text if url in text else f"{text} {url}"


SHARE_ORDER = ("whatsapp", "sms", "email", "x", "facebook")  # share_links' order; web/share.py counts each


def share_links(texts: dict[str, str], url: str) -> list[tuple[str, str]]:
    """One link per channel, each carrying that channel's message (``messages.share_texts``)."""
    return [
        ("WhatsApp", f"https://wa.me/?text={quote(_with_link(texts['whatsapp'], url))}"),
        ("SMS", f"sms:?&body={quote(_with_link(texts['sms'], url))}"),
        (_("Email"), f"mailto:?subject={quote(texts.get('email_subject', ''))}"
                     f"&body={quote(_with_link(texts['email'], url))}"),
        ("X", f"https://twitter.com/intent/tweet?text={quote(texts['x'].replace(url, '').strip())}&url={quote(url)}"),
        ("Facebook", f"https://www.facebook.com/sharer/sharer.php?u={quote(url)}"
                     f"&quote={quote(texts['facebook'].replace(url, '').strip())}"),
    ]


def share_texts(program: Program, code: str, url: str) -> dict[str, str]:
    """The shop's share messages in the page's language; the built-in sentence if a template is broken."""
    store = current_store()
    try:
        return messages.share_texts(store.settings, program, current_language(), code=code, link=url)
    except messages.MessageError:
        logger.exception("share message templates cannot be rendered; using the built-in text")
    offer = friend_offer(program)
    text = _("Use my code %(code)s at %(store)s: %(offer)s", code=format_display(code),
             store=store.settings.config.store.name, offer=offer[0] if offer else program.name)
    subject = _("A gift for you from %(store)s", store=store.settings.config.store.name)
    return {channel: text for channel in messages.SHARE_CHANNELS} | {"email_subject": subject}


def headline(program: Program) -> str:
    """The page's headline from ``landing_headline.txt`` (the program's own headline in the shop's language)."""
    store = current_store()
    lang = current_language()
    try:
        context = messages.program_context(store.settings, program, lang)
        return messages.render("landing_headline", lang, context, folder=messages.messages_folder(store.settings)).text
    except messages.MessageError:
        logger.exception("landing_headline cannot be rendered; using the program's headline")
        return program_text(program.texts.headline, program)


def _unknown(status: int, reason: str, typed: str = "") -> Response:
    return public_page("landing_unknown.html", status, reason=reason, typed=typed[:40])


@bp.get("/r")
@bp.get("/r/")
def find() -> Response:
    """The "type your code" form of the friendly not-found page."""
    typed = request.args.get("code", "").strip()
    if typed:
        return redirect(url_for("landing.landing", code=typed[:100]))
    return _unknown(404, "unknown_code")


@bp.get("/r/<path:code>")
def landing(code: str) -> Response:
    """What the friend gets and how, share links, and the owner's progress for the owner only."""
    store = current_store()
    ctx = store.ctx
    key = f"landing:{request.remote_addr}"
    if store.limiter.retry_after(key):
        return _unknown(429, "rate_limited", code)
    try:
        info = checkout.lookup(ctx, code)
    except Refusal as exc:
        if exc.reason.status == 503:  # the shop is not connected yet: not the visitor's mistake
            return _unknown(503, exc.code, code)
        store.limiter.record_failure(key)
        return _unknown(404, exc.code, code)
    row = info.code
    if row.kind != CodeKind.REFERRAL.value or info.program is None:
        return _unknown(404, "unknown_code", code)  # vouchers are private: no public page
    if code != row.code:  # lower case, hyphens, a mistaken O for 0: one canonical address
        query = f"?{request.query_string.decode('ascii', 'replace')}" if request.query_string else ""
        return redirect(url_for("landing.landing", code=row.code) + query, 301)
    program = info.program
    public_url = ctx.landing_url(row.code)
    owner = owner_links.is_owner(ctx, row.code, row.owner_generation, request.args.get("s"))
    language = current_language()
    landing_page.count_visit(ctx, row.code, language)
    first_name = landing_page.referrer_first_name(ctx, row.customer_id)
    texts = share_texts(program, row.code, public_url)
    signature = request.args.get("s", "") if owner else ""
    mail_links = {"invite": url_for("invite.invite_form", code=row.code, s=signature),
                  "updates": url_for("invite.updates_form", code=row.code, s=signature)} \
        if owner and store.settings.config.mail.enabled else None
    return public_page(
        "landing.html", 200,
        code=row.code, display_code=format_display(row.code), status=info.status, program=program,
        first_name=first_name, owner=owner, progress=_progress(row.code, row.customer_id, program) if owner else None,
        friend_lines=friend_offer(program), referrer_lines=referrer_offer(program), qr=qr_svg(public_url),
        public_url=public_url, share=[(label, url_for("share.go", code=row.code, channel=channel, lang=language))
                                      for channel, (label, _) in zip(SHARE_ORDER, share_links(texts, public_url),
                                                                     strict=True)],
        share_text=texts["x"].replace(public_url, "").strip(),
        mail_links=mail_links, just_claimed=owner and request.args.get("claimed") == "1",  # from web/claim.py
        expires_at=row.expires_at, store_name=store.settings.config.store.name,
        headline=headline(program), who=program_text(program.texts.who_may_join, program),
        terms=program_text(program.texts.terms, program),
        faq=[(program_text(item.q, program), program_text(item.a, program)) for item in program.texts.faq],
        program_text=program_text,
    )


def _progress(code: str, customer_id: str, program: Program) -> dict[str, Any]:
    ctx = current_store().ctx
    summary = rewards.customer_rewards(ctx, customer_id) or {"rewards": [], "successful_referrals": 0}
    items = [r for r in summary["rewards"] if r["source"] == "referral" or r["source"] == "milestone"]
    vouchers = [
        {"display_code": r["voucher_display_code"], "amount": parse_money(r["amount"]), "item": r["item"],
         "expires_at": datetime.fromisoformat(r["expires_at"]) if r["expires_at"] else None}
        for r in items
        if r["voucher_code"] and r["status"] == "released" and not (r["voucher_redeemed"] or r["voucher_revoked"])
    ]
    done = int(summary.get("successful_referrals", 0))
    upcoming = [m for m in program.milestones if m.referrals > done]
    nxt = min(upcoming, key=lambda m: m.referrals) if upcoming else None
    held = ambassador.status_from_count(program, done)  # the same count as the milestones: one query
    return {
        "status": program_text(held.status) if held else "",
        "perk": program_text(held.perk) if held else "",
        "joined": landing_page.friends_joined(ctx, code),
        "waiting": sum(1 for r in items if r["status"] == "pending"),
        "points": int(summary.get("points", 0)),  # each released reward once (rewards.points_of)
        "vouchers": vouchers,
        "next_milestone": nxt,
        "to_go": (nxt.referrals - done) if nxt else 0,
    }
