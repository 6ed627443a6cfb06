"""What the till's actions tell its customer display, called where those actions are answered.

Each call builds a ``Shown`` from what the answer already holds (no query, no formatting: the display's
own stream phrases it in the display's language) and publishes it when the till's answer has been
written (the WSGI ``close`` of that answer), so neither the bus nor a display's thread waking up to
phrase it runs while the till waits. The bus itself never blocks and never raises.
"""

from __future__ import annotations

from werkzeug.wrappers import Response

from pos_referral.display.bus import DisplayBus, Shown
from pos_referral.domain.codes import CodeKind
from pos_referral.services.checkout import Evaluation


def _after(resp: Response, bus: DisplayBus, shown: Shown) -> None:
    resp.call_on_close(lambda: bus.publish(shown))


def quote_answered(resp: Response, bus: DisplayBus, till_id: str, ev: Evaluation | None, reason: str | None,
                   first_name: str = "") -> None:
    """An eligible friend's code shows "you save"; any other answer takes the display back to the offer
    (a refusal is the cashier's to explain, not the screen's)."""
    if ev is not None and reason is None and ev.kind is CodeKind.REFERRAL:
        _after(resp, bus, Shown("quote", till_id, first_name=first_name, discount_minor=ev.discount_minor,
                                reward=ev.reward_rule))
    else:
        _after(resp, bus, Shown("idle", till_id))


def code_given(resp: Response, bus: DisplayBus, till_id: str, code: str, landing_url: str,
               first_name: str = "") -> None:
    """The customer's own code (a friend's new code after the sale, or a card issued at the till)."""
    _after(resp, bus, Shown("code", till_id, first_name=first_name, code=code, landing_url=landing_url))


def quote_cleared(bus: DisplayBus, till_id: str) -> None:
    """The till was cleared: a quote goes, but the customer's own code stays its ``show_seconds`` (the
    cashier clears for the next customer while this one may still be scanning it)."""
    if bus.current(till_id).state == "quote":
        bus.publish(Shown("idle", till_id))
