"""``/display/<till>``: the customer display page and its server-sent events.

One page per till on a tablet or second screen facing the customer. It shows the program's offer and a
QR to join (idle), "you save" when the till's quote of a friend's code is eligible, and the customer's
own code with its QR after the sale, back to the offer after ``[display] show_seconds``. Updates come
by server-sent events from the till's actions (``display/bus.py``); each (re)connect starts with the
till's current picture, so a display that lost its stream shows the same as one that did not.

The page speaks the shop's language; the customer may switch (``?lang=``), and the next customer gets
the shop's language again. Nothing is cached and no cookie is set. Its CSP allows only this service's
own script, style and event stream.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

from flask import Blueprint, Response, abort, current_app, make_response, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _

from pos_referral.display.bus import DisplayBus, Shown
from pos_referral.domain.codes import format_display
from pos_referral.services import tills
from pos_referral.services.tills import TILL_ID
from pos_referral.web.auth import current_store
from pos_referral.web.display.access import key_matches
from pos_referral.web.i18n import LANGUAGES, money
from pos_referral.web.landing import headline, qr_svg
from pos_referral.web.offer_text import friend_offer, referrer_offer, reward_text

bp = Blueprint("display", __name__, url_prefix="/display")

STREAM_LIFETIME = 600.0  # then the display reconnects, so no server thread is held for ever
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")


def _allowed(till_id: str) -> None:
    """The till exists and the link's key is its display key; else the same 404 for both."""
    store = current_store()
    if not (TILL_ID.match(till_id) and key_matches(store.ctx.secrets.session_key, till_id, request.args.get("k", ""))
            and tills.till_exists(store.ctx, till_id)):
        abort(404)


def _language() -> str:
    """``?lang=`` when the customer chose one, else the shop's language (never the cookie of another page)."""
    asked = request.args.get("lang", "")
    return asked if asked in LANGUAGES else current_store().settings.config.store.language


def join_url() -> str:
    """Where the idle QR leads: the kiosk's join page when it is on, else the program's public page;
    always from ``Settings.public_base``, never from the request's Host."""
    settings = current_store().settings
    return settings.public_base + ("/kiosk/join" if settings.config.kiosk.enabled else "/join")


def view(shown: Shown, now: float) -> dict[str, Any]:
    """What the display shows for ``shown`` at ``now``, phrased in the current locale; an expired
    picture is idle. Built on the display's own thread, never on the till's."""
    display = current_store().settings.config.display
    limit = display.show_seconds if shown.state == "code" else display.quote_seconds
    left = shown.at + limit - now
    if shown.state == "idle" or left <= 0:
        return {"state": "idle", "seq": shown.seq}
    body: dict[str, Any] = {"state": shown.state, "seq": shown.seq, "seconds": round(left, 1),
                            "hello": _("Hello, %(name)s!", name=shown.first_name) if shown.first_name else ""}
    if shown.state == "quote":
        if shown.discount_minor or shown.reward is None:
            body["headline"] = _("Your friend's code: you save %(amount)s", amount=money(shown.discount_minor))
        else:
            body["headline"] = _("Your friend's code: %(reward)s", reward=reward_text(shown.reward))
    else:
        body["code"] = format_display(shown.code)
        body["qr"] = str(qr_svg(shown.landing_url))
    return body


@bp.get("/<till_id>")
def page(till_id: str) -> Response:
    """The display page: the idle offer rendered; the rest arrives over ``events``."""
    _allowed(till_id)
    store = current_store()
    program = store.settings.default_program
    lang, key = _language(), request.args.get("k", "")
    with force_locale(lang):
        html = render_template(
            "display.html", till_id=till_id, lang=lang, shop_lang=store.settings.config.store.language,
            store_name=store.settings.config.store.name, headline=headline(program),
            friend_lines=friend_offer(program), referrer_lines=referrer_offer(program), join_qr=qr_svg(join_url()),
            events_url=url_for("display.events", till_id=till_id, k=key, lang=lang),
            heartbeat=store.settings.config.display.heartbeat_seconds,
            home_url=url_for("display.page", till_id=till_id, k=key),
            languages=[(code, name, url_for("display.page", till_id=till_id, k=key, lang=code))
                       for code, name in LANGUAGES.items()])
    resp = make_response(html)
    resp.headers["Content-Security-Policy"] = CSP
    resp.headers["Referrer-Policy"] = "no-referrer"
    resp.headers["Cache-Control"] = "no-store"
    return resp


def _event(name: str, data: dict[str, Any]) -> str:
    return f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


@bp.get("/<till_id>/events")
def events(till_id: str) -> Response:
    """Server-sent events: the till's current picture at once, then every change, a ping as heartbeat."""
    _allowed(till_id)
    store = current_store()
    bus: DisplayBus = store.display
    heartbeat = store.settings.config.display.heartbeat_seconds
    sub = bus.subscribe(till_id)
    if sub is None:  # every stream is taken by other tills' displays: the page tries again later
        resp = make_response("too many customer displays are open", 503)
        resp.headers["Retry-After"] = "10"
        return resp
    lang, app = _language(), current_app._get_current_object()  # type: ignore[attr-defined]

    def phrased(shown: Shown) -> str:
        """One picture in the display's language, in a context of its own: the stream holds none between
        events (its thread waits most of the time; two streams on one thread must not nest contexts)."""
        with app.app_context(), force_locale(lang):
            return _event("show", view(shown, bus.clock()))

    def stream() -> Iterator[str]:
        with sub:
            yield "retry: 1000\n\n"
            yield phrased(bus.current(till_id))
            deadline = time.monotonic() + STREAM_LIFETIME
            while time.monotonic() < deadline and not sub.closed:
                shown = sub.get(timeout=heartbeat)
                if sub.closed:
                    break
                # a ping is an event, so the page notices a silent stream and reconnects
                yield _event("ping", {}) if shown is None else phrased(shown)

    resp = Response(stream(), mimetype="text/event-stream",
                    headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
    resp.call_on_close(sub.close)  # also when the stream ends before its first chunk
    return resp
