"""Every customer-facing text as an editable template file per language, with the program's values.

Files live in ``config/messages/<lang>/<kind>.txt`` (Jinja, sandboxed): a shop rewords a mail or a
share message by editing a file, no code change, and an edit shows on the next render (the loader
checks file times). A missing file in one language falls back to English. A mail's ``.txt`` starts
with a ``Subject:`` line; its HTML part is ``<kind>.html`` when a shop writes one, else the shared
``_mail_layout.html`` around the plain text, so translators edit one file per mail.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel.dates import format_date
from babel.numbers import format_percent
from jinja2 import ChoiceLoader, FileSystemLoader, StrictUndefined, TemplateError, TemplateNotFound
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup, escape

from pos_referral.config import Settings
from pos_referral.domain.codes import format_display
from pos_referral.domain.money_text import fill_amounts
from pos_referral.domain.money_text import money_text as money_words
from pos_referral.domain.rules import Program, Reward
from pos_referral.resources import config_dir

LANGUAGES = ("en", "id", "nb", "th", "it", "pl")
SHARE_CHANNELS = ("whatsapp", "sms", "email", "x", "facebook")
MAIL_KINDS = ("mail_invitation", "mail_friend_used", "mail_reward_ready", "mail_reminder", "mail_milestone")
KINDS = (*(f"share_{c}" for c in SHARE_CHANNELS), "landing_headline", "how_it_works", "sign_labels", "invitation_note",
         *MAIL_KINDS)
_URL = re.compile(r"https?://[^\s<>\"']+")


class MessageError(Exception):
    """A template that cannot be rendered (missing, broken, or naming a value that does not exist)."""


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str | None = None


def messages_folder(settings: Settings | None = None) -> Path:
    """The store's ``messages/`` beside its ``store.toml``, else the shipped one."""
    if settings is not None and (settings.config_dir / "messages").is_dir():
        return settings.config_dir / "messages"
    return config_dir() / "messages"


def language(lang: str | None) -> str:
    return lang if lang in LANGUAGES else "en"


def _linkify(text: str, allowed: list[str] | tuple[str, ...] = ()) -> Markup:
    """Escape plain text and turn only our own URLs (the page link, unsubscribe) into links.

    Anything else that looks like a URL stays inert text, so no value can smuggle a link in."""
    html = str(escape(text))
    for url in sorted({u for u in allowed if u and _URL.fullmatch(u)}, key=len, reverse=True):
        safe = str(escape(url))
        html = html.replace(safe, f'<a href="{safe}">{safe}</a>')
    return Markup(html)


@lru_cache(maxsize=64)
def _environment(folder: str, lang: str) -> SandboxedEnvironment:
    paths = [str(Path(folder) / lang)] + ([str(Path(folder) / "en")] if lang != "en" else [])
    env = SandboxedEnvironment(
        loader=ChoiceLoader([FileSystemLoader(paths)]), undefined=StrictUndefined, auto_reload=True,
        autoescape=lambda name: bool(name and name.endswith(".html")),
    )
    env.filters["linkify"] = _linkify
    return env


def _render_file(env: SandboxedEnvironment, name: str, context: Mapping[str, Any]) -> str:
    try:
        return env.get_template(name).render(**context)
    except TemplateNotFound:
        raise MessageError(f"message template {name} not found") from None
    except TemplateError as exc:
        raise MessageError(f"{name}: {exc}") from None


def _split_subject(text: str) -> tuple[str, str]:
    first, _, rest = text.strip().partition("\n")
    if first.lower().startswith("subject:"):
        return first.split(":", 1)[1].strip(), rest.strip()
    return "", text.strip()


def render(kind: str, lang: str, context: Mapping[str, Any], *, folder: Path | None = None) -> Rendered:
    """Render one message kind (see KINDS) in ``lang``; mails get their footer and an HTML part."""
    if kind not in KINDS:
        raise MessageError(f"unknown message kind {kind!r}")
    lang = language(lang)
    env = _environment(str(folder or messages_folder()), lang)
    values = {"lang": lang, "kind": kind, **context}
    subject, text = _split_subject(_render_file(env, f"{kind}.txt", values))
    if kind not in MAIL_KINDS:
        return Rendered(subject, text)
    footer = _render_file(env, "_mail_footer.txt", values).strip()
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    html_values = {**values, "subject": subject, "paragraphs": paragraphs,
                   "linkable": [str(values.get("link") or ""), str(values.get("unsubscribe_url") or "")],
                   "footer": [p.strip() for p in footer.split("\n") if p.strip()]}
    try:
        html = _render_file(env, f"{kind}.html", html_values)
    except MessageError as exc:
        if "not found" not in str(exc):
            raise
        html = _render_file(env, "_mail_layout.html", html_values)
    return Rendered(subject, f"{text}\n\n-- \n{footer}\n", html)


def money_text(minor: int, currency: str, lang: str) -> str:
    return money_words(minor, currency, language(lang))


def date_text(value: date | datetime | None, lang: str) -> str:
    if value is None:
        return ""
    return format_date(value.date() if isinstance(value, datetime) else value, format="long", locale=language(lang))


def reward_values(rule: Reward | Mapping[str, Any], currency: str, lang: str) -> dict[str, Any]:
    """A reward's values, formatted for ``lang``, for the ``_reward.txt`` partial."""
    raw = rule.model_dump() if isinstance(rule, Reward) else dict(rule)
    return {
        "type": raw.get("type") or raw.get("reward_type", ""),
        "percent": format_percent(Decimal(str(raw.get("percent") or 0)) / 100, locale=language(lang)),
        "amount": money_text(int(raw.get("amount") or raw.get("amount_minor") or 0), currency, lang),
        "max_amount": money_text(int(raw["max_amount"]), currency, lang) if raw.get("max_amount") else "",
        "item": str(raw.get("item") or ""), "points": int(raw.get("points") or 0),
        "description": str(raw.get("description") or ""),
    }


def reward_text(rule: Reward | Mapping[str, Any], currency: str, lang: str, *, folder: Path | None = None) -> str:
    """"10% off (up to 30,00 €)", "a free Tote bag", ... in ``lang`` (``_reward.txt``)."""
    env = _environment(str(folder or messages_folder()), language(lang))
    return _render_file(env, "_reward.txt", {"r": reward_values(rule, currency, lang)}).strip()


def program_context(settings: Settings, program: Program, lang: str, *, code: str = "", link: str = "",
                    **extra: Any) -> dict[str, Any]:
    """The values every template may use: the offer, the referrer's reward, code, link and dates."""
    lang = language(lang)
    store = settings.config.store
    folder = messages_folder(settings)
    offer = reward_text(program.friend_reward, store.currency, lang, folder=folder) \
        if program.friend_gets_reward() else ""
    referrer = reward_text(program.referrer_reward, store.currency, lang, folder=folder) \
        if program.referrer_gets_reward() else ""
    return {
        "store_name": store.name, "program_name": program.name, "currency": store.currency,
        "offer": offer, "referrer_reward": referrer,
        "minimum": money_text(program.minimum_basket, store.currency, lang) if program.minimum_basket else "",
        "new_customers_only": program.new_customers_only, "hold_days": program.hold_days,
        "reward_valid_days": program.reward_valid_days,
        "starts": date_text(program.starts, lang), "ends": date_text(program.ends, lang),
        # the program file's prose is in the shop's language: used only when the reader shares it
        "headline": fill_amounts(program.texts.headline, program, store.currency, lang) if lang == store.language
        else "",
        "code": code, "display_code": format_display(code) if code else "", "link": link,
        "first_name": "", **extra,
    }


def share_texts(settings: Settings, program: Program, lang: str, *, code: str, link: str) -> dict[str, str]:
    """The pre-written share message per channel (whatsapp, sms, email, x, facebook) for a code's page.

    ``email`` is the body; ``email_subject`` its subject. ``x`` carries no link (the share URL does)."""
    context = program_context(settings, program, lang, code=code, link=link)
    folder = messages_folder(settings)
    out: dict[str, str] = {}
    for channel in SHARE_CHANNELS:
        rendered = render(f"share_{channel}", lang, context, folder=folder)
        out[channel] = rendered.text
        if rendered.subject:
            out[f"{channel}_subject"] = rendered.subject
    return out


def sample_context(settings: Settings, program: Program, lang: str) -> dict[str, Any]:
    """Made-up customer values for the manager's preview page (never a real customer's)."""
    code = "2K3M7QW2XC9P4T"
    base_url = settings.public_base
    now = date.today()
    return program_context(
        settings, program, lang, code=code, link=f"{base_url}/r/{code}",
        first_name="Ann", referrer_name="Ann", note=render("invitation_note", lang, program_context(
            settings, program, lang), folder=messages_folder(settings)).text,
        hold_until=date_text(now, lang), reward=reward_text(program.referrer_reward, settings.config.store.currency,
                                                           lang, folder=messages_folder(settings)),
        voucher_display_code="V2K3-M7QW-2XC9-P4", expires=date_text(now, lang), referrals=5,
        status="Ambassador", perk="", unsubscribe_url=f"{base_url}/unsubscribe/example", qr_cid="",
    )
