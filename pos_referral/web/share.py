"""``/s/<code>/<channel>``: the landing page's share buttons, counted on the way to the channel.

GET adds one to the code's count for the channel and redirects to the channel's share address (the same
message as the page shows); POST is the beacon of "copy link" and the phone's share menu (204). Only the
count is kept: no address, agent or cookie (services/reports/shares.py). A code that is not a referral
code of this shop gets the landing page's friendly 404 and counts nothing.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from flask import Blueprint, abort, redirect
from werkzeug.wrappers import Response

from pos_referral.domain.codes import CodeKind
from pos_referral.domain.errors import Refusal
from pos_referral.domain.rules import Program
from pos_referral.services import checkout
from pos_referral.services.reports import shares
from pos_referral.web.auth import current_store
from pos_referral.web.landing import share_links, share_texts
from pos_referral.web.promo.public import follow_phone_language

bp = Blueprint("share", __name__)
bp.before_request(follow_phone_language)  # the message in the page's language, as on the landing page
logger = logging.getLogger(__name__)
LINKED = ("whatsapp", "sms", "email", "x", "facebook")  # the order of landing.share_links


def _referral_code(code: str) -> tuple[str, Program]:
    try:
        info = checkout.lookup(current_store().ctx, code)
    except Refusal:
        abort(404)
    if info.code.kind != CodeKind.REFERRAL.value or info.program is None:
        abort(404)
    return info.code.code, info.program


def _count(code: str, channel: str) -> None:
    try:
        shares.count_share(current_store().ctx, code, channel)
    except sa.exc.SQLAlchemyError:  # a count never stops the share
        logger.warning("share of %s by %s not counted", code, channel, exc_info=True)


@bp.get("/s/<code>/<channel>")
def go(code: str, channel: str) -> Response:
    """Count one share of the code through a channel, then go on to that channel's share address."""
    if channel not in LINKED:
        abort(404)
    found, program = _referral_code(code)
    url = current_store().ctx.landing_url(found)
    target = dict(zip(LINKED, (href for _, href in share_links(share_texts(program, found, url), url)), strict=True))
    _count(found, channel)
    return redirect(target[channel], 302)


@bp.post("/s/<code>/<channel>")
def beacon(code: str, channel: str) -> tuple[str, int]:
    """The beacon of "copy link" and the phone's share menu: count one share, answer 204."""
    if channel not in shares.CHANNELS:
        abort(404)
    found, _ = _referral_code(code)
    _count(found, channel)
    return "", 204
