"""The sign and the staff guide on the receipt printer, through the print queue."""

from __future__ import annotations

from typing import Any

from pos_referral.domain.money import format_money
from pos_referral.domain.rules import Program
from pos_referral.services import messages, print_jobs
from pos_referral.services.context import StoreContext
from pos_referral.services.promo import signage, training


def _lang(ctx: StoreContext, lang: str | None) -> str:
    return messages.language(lang or ctx.settings.config.printer.language or ctx.settings.config.store.language)


def sign_context(ctx: StoreContext, program: Program, *, lang: str, url: str) -> dict[str, Any]:
    words = signage.sign_text(ctx.settings, program, lang)
    return {"store_name": words.store_name, "headline": words.headline, "offer": words.offer,
            "steps_title": words.steps_title, "steps": list(words.steps), "scan_caption": words.scan_caption,
            "url": url, "lang": lang}


def queue_sign(ctx: StoreContext, *, base_url: str = "", lang: str | None = None) -> int | None:
    """``sign.receipt``: the counter sign (offer, three steps, QR to the join page)."""
    program = ctx.settings.default_program
    lang = _lang(ctx, lang)
    url = signage.join_url(ctx.settings, program, base_url)
    return print_jobs.queue(ctx, "sign", sign_context(ctx, program, lang=lang, url=url))


def queue_staff_guide(ctx: StoreContext, *, lang: str | None = None,
                      demos: list[dict[str, str]] | None = None) -> int | None:
    """``staff_guide.receipt``: the one-page staff guide with the demo codes to practise on.

    ``demos`` (code, what) lets the till pass the descriptions in its own language."""
    program = ctx.settings.default_program
    lang = _lang(ctx, lang)
    words = signage.sign_text(ctx.settings, program, lang)
    context = {
        "store_name": words.store_name, "program_name": program.name, "offer": words.offer,
        "steps": list(words.steps), "minimum": format_money(program.minimum_basket) if program.minimum_basket else "",
        "hold_days": program.hold_days, "currency": ctx.settings.config.store.currency, "lang": lang,
        "demos": [{"code": d["code"], "what": d["what"]} for d in demos[:4]] if demos
        else [{"code": d.code, "what": d.what} for d in training.DEMOS[:4]],
    }
    return print_jobs.queue(ctx, "staff_guide", context)
