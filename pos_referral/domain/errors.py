"""Typed reasons: why a code is refused, what HTTP says, and what the cashier reads aloud.

The ``code`` strings are the API contract (store POS software switches on them): extend, never rename.
The messages are English here (the API's ``message``); the till shows them translated (``web/i18n.py``).
"""

from __future__ import annotations

from dataclasses import dataclass


def N_(message: str) -> str:
    """Marks English text for the translation catalog (pybabel's default ``N_`` keyword, see
    kiosk_ui/translations/babel.cfg) and returns it unchanged: the web layer translates it when shown."""
    return message


@dataclass(frozen=True)
class Reason:
    code: str
    status: int
    message: str


REASONS: dict[str, Reason] = {
    r.code: r
    for r in (
        Reason("unknown_code", 404, N_("This code is not one of ours. Please check it with the customer.")),
        Reason("mistyped_code", 422, N_("This code has a typo. Please type it again or scan it.")),
        Reason("expired", 409, N_("This code has expired.")),
        Reason("self_referral", 409, N_("Customers cannot use their own code.")),
        Reason("already_referred", 409, N_("This customer has already used a friend's code.")),
        Reason("not_new_customer", 409, N_("This offer is for new customers only.")),
        Reason("below_minimum", 409, N_("The basket is below the minimum for this offer.")),
        Reason("cap_reached", 409, N_("This code has reached its limit for now.")),
        Reason("velocity_limit", 409, N_("This code was used by many friends in the last hour. Try again later.")),
        Reason("program_inactive", 409, N_("This referral program is not running today.")),
        Reason("customer_required", 422, N_("Ask the customer for a phone number or email to apply the offer.")),
        Reason("already_redeemed", 409, N_("This voucher has already been used.")),
        Reason("voucher_revoked", 409, N_("This voucher has been cancelled.")),
        Reason("wrong_kind", 422, N_("This is not a code of the expected kind.")),
        Reason("sale_already_used", 409, N_("This sale already has a referral discount.")),
        Reason("unknown_customer", 404, "No customer with this id is known here."),  # API clients only
        Reason("unknown_sale", 404, N_("No referral discount was recorded for this sale.")),
        Reason("store_not_allowed", 409, N_("This voucher can only be used at the store that issued it.")),
        Reason("store_not_joined", 503, N_(
            "This shop has not connected to the chain yet. Check the network: codes work once it has connected.")),
    )
}


class Refusal(Exception):
    """A business refusal with a typed reason; the API maps it to problem+json."""

    def __init__(self, code: str, detail: str | None = None) -> None:
        self.reason = REASONS[code]
        self.code = code
        self.detail = detail or self.reason.message
        super().__init__(f"{code}: {self.detail}")
