"""Promotion pages: the program's public join page (the signs' QR) and the manager's message preview."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, render_template, request, session
from werkzeug.wrappers import Response

from pos_referral.config_sources import shop_config_file
from pos_referral.domain.rules import Program
from pos_referral.services import messages
from pos_referral.web.auth import current_store
from pos_referral.web.i18n import LANGUAGES, current_language
from pos_referral.web.manager.auth import manager_required
from pos_referral.web.promo.public import follow_phone_language, public_page

bp = Blueprint("promo", __name__)


def _program(program_id: str | None) -> Program:
    settings = current_store().settings
    program = settings.program(program_id) if program_id else settings.default_program
    if program is None:
        abort(404)
    return program


@bp.get("/join")
@bp.get("/join/<program_id>")
def join(program_id: str | None = None) -> Response:
    """The program's public page behind the in-store signs: the offer and how to take part."""
    follow_phone_language()  # a public page (the manager's preview below is not)
    store = current_store()
    program = _program(program_id)
    lang = current_language()
    context = messages.program_context(store.settings, program, lang)
    folder = messages.messages_folder(store.settings)
    steps = [s for s in messages.render("how_it_works", lang, context, folder=folder).text.splitlines() if s.strip()]
    return public_page(
        "promo/join.html", program=program, store_name=store.settings.config.store.name,
        headline=messages.render("landing_headline", lang, context, folder=folder).text, offer=context["offer"],
        steps=steps, kiosk=store.settings.config.kiosk.enabled, running=program.is_running(
            store.ctx.clock().astimezone(store.ctx.tz).date()))


@bp.get("/manager/messages")
@manager_required
def preview_messages() -> str:
    """Every customer-facing text of a program in one language, as customers will see it."""
    store = current_store()
    lang = request.args.get("lang", store.settings.config.store.language)
    lang = lang if lang in LANGUAGES else "en"
    program = _program(request.args.get("program"))
    folder = messages.messages_folder(store.settings)
    items: list[dict[str, Any]] = []
    try:
        context = messages.sample_context(store.settings, program, lang)
    except messages.MessageError as exc:
        context, items = {}, [{"kind": "_reward.txt", "error": str(exc)}]
    for kind in messages.KINDS if context else ():
        try:
            rendered = messages.render(kind, lang, context, folder=folder)
            items.append({"kind": kind, "subject": rendered.subject, "text": rendered.text, "html": rendered.html})
        except messages.MessageError as exc:  # shown, so the manager sees which file to fix
            items.append({"kind": kind, "error": str(exc)})
    return render_template("promo/messages.html", items=items, lang=lang, languages=LANGUAGES, program=program,
                           programs=store.settings.programs, folder=str(folder), staff_name=session.get("staff_name"),
                           editable=not store.settings.shipped_config,
                           shop_folder=str(shop_config_file(store.settings.data_dir).parent / "messages"))
