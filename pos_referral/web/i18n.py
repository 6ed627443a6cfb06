"""Languages of the till, kiosk and landing pages (Flask-Babel).

Catalogs are ``kiosk_ui/translations/<lang>/LC_MESSAGES/messages.po`` (committed, editable by a
shop). The binary ``.mo`` files are not committed: ``compile_catalogs`` writes them into the data
folder at app start when missing or older than their ``.po`` — no manual build step, nothing
written into the (possibly read-only) installed package, and an edited ``.po`` takes effect on
the next restart.

Choice of language: ``?lang=xx`` (remembered in a cookie) > the cookie > the phone's
``Accept-Language`` (landing pages only) > ``[store] language``.
"""

from __future__ import annotations

import logging
import os
import tempfile
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, Response, current_app, g, request
from flask_babel import Babel, format_date, get_locale
from flask_babel import lazy_gettext as _l

from pos_referral.bootstrap import Store
from pos_referral.domain.errors import REASONS
from pos_referral.domain.money_text import fill_amounts, money_text
from pos_referral.domain.rules import Program
from pos_referral.resources import kiosk_ui_dir

logger = logging.getLogger(__name__)

LANGUAGES: dict[str, str] = {
    "en": "English", "id": "Bahasa Indonesia", "nb": "Norsk bokmål", "th": "ไทย", "it": "Italiano", "pl": "Polski",
}
COOKIE = "lang"
_ALIASES = {"no": "nb", "nn": "nb", "in": "id"}  # what phones send for Norwegian; old code for Indonesian

# The cashier reads these aloud, so they are translated (the catalog's entries are the English
# messages of domain/errors.py); the API keeps English in ``message``. ``unknown_customer`` answers
# API clients only; ``rate_limited`` is the web's own refusal (too many unknown codes).
REASON_TEXT: dict[str, Any] = {code: _l(reason.message) for code, reason in REASONS.items()
                               if code != "unknown_customer"}
REASON_TEXT["rate_limited"] = _l("Too many unknown codes; wait a minute before trying again.")
# the web's answer when another process holds the database past the busy timeout (web/problems.py)
REASON_TEXT["database_busy"] = _l("The till is busy for a moment. Nothing was recorded: please try again.")


def reason_text(code: str | None) -> str:
    if not code:
        return ""
    if code in REASON_TEXT:
        return str(REASON_TEXT[code])
    return REASONS[code].message if code in REASONS else code


def compile_catalogs(source: Path, target: Path) -> list[str]:
    """Compile every ``<lang>/LC_MESSAGES/messages.po`` under ``source`` into ``target``; return langs."""
    done: list[str] = []
    for po in sorted(source.glob("*/LC_MESSAGES/messages.po")):
        lang = po.parts[-3]
        mo = target / lang / "LC_MESSAGES" / "messages.mo"
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            mo.parent.mkdir(parents=True, exist_ok=True)
            with po.open("rb") as fh:
                catalog = read_po(fh, locale=lang)
            fd, tmp = tempfile.mkstemp(dir=mo.parent, suffix=".tmp")
            with os.fdopen(fd, "wb") as out:
                write_mo(out, catalog)
            os.replace(tmp, mo)  # atomic: two processes starting at once never see half a file
        done.append(lang)
    return done


def _from_header() -> str | None:
    for value, _quality in request.accept_languages:
        primary = value.split("-")[0].split("_")[0].lower()
        primary = _ALIASES.get(primary, primary)
        if primary in LANGUAGES:
            return primary
    return None


def select_locale() -> str:
    asked = request.args.get("lang", "")
    if asked in LANGUAGES:
        g.lang_chosen = asked
        return asked
    cookie = request.cookies.get(COOKIE, "")
    if cookie in LANGUAGES:
        return cookie
    if g.get("follow_browser"):
        found = _from_header()
        if found:
            return found
    store: Store = current_app.extensions["pos_referral"]
    return store.settings.config.store.language


def current_language() -> str:
    return str(get_locale() or "en")


def money(minor: int) -> str:
    """Money in the shop's currency, written the way this page's language writes it."""
    store: Store = current_app.extensions["pos_referral"]
    return money_text(minor, store.settings.config.store.currency, current_language())


def program_money(text: str, program: Program) -> str:
    """A program's prose with its ``{minimum}``, ``{referrer_amount}``, ... as money in this page's language."""
    store: Store = current_app.extensions["pos_referral"]
    return fill_amounts(text, program, store.settings.config.store.currency, current_language())


def day(value: date | None) -> str:
    return format_date(value, "long") if value else ""


def switch_url(lang: str) -> str:
    """This page in another language (other query arguments, e.g. an owner signature, kept)."""
    args = {k: v for k, v in request.args.items() if k != "lang"}
    args["lang"] = lang
    return f"{request.path}?{urlencode(args)}"


def _remember_choice(resp: Response) -> Response:
    chosen = g.get("lang_chosen")
    if chosen:
        resp.set_cookie(COOKIE, chosen, max_age=365 * 86400, samesite="Lax", httponly=True,
                        secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")))
    return resp


def init_i18n(app: Flask, store: Store) -> None:
    """Compile catalogs into the data folder and bind Flask-Babel with the store's default."""
    target = store.settings.data_dir / "i18n"
    try:
        compile_catalogs(kiosk_ui_dir() / "translations", target)
    except OSError as exc:  # a read-only data folder: pages fall back to English, the till still works
        logger.warning("cannot compile translations into %s: %s", target, exc)
    app.config.setdefault("BABEL_DEFAULT_LOCALE", store.settings.config.store.language)
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", store.settings.config.store.timezone)
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(target)
    Babel(app, locale_selector=select_locale)
    app.after_request(_remember_choice)
    app.jinja_env.globals.update(
        LANGUAGES=LANGUAGES, switch_url=switch_url, current_language=current_language, money=money, day=day,
        reason_text=reason_text,
    )
