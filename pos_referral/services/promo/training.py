"""Staff training mode: demo codes that show every till outcome, computed without the database.

Practice never opens a session, writes a row, queues a print job or an outbox event: the answer
is built from the program's rules alone, so nothing practised is recorded, printed as real,
counted in reports or synced. Demo codes are not valid codes (``DEMO`` is not Crockford base32
after normalisation and has no check symbol), so a demo code scanned on the real till is refused
as mistyped and can never give a real discount.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from pos_referral.domain.errors import N_, REASONS
from pos_referral.domain.money import format_money
from pos_referral.domain.money_text import money_text
from pos_referral.domain.rules import Program


@dataclass(frozen=True)
class Demo:
    code: str
    outcome: str  # "discount", "voucher", or a refusal reason
    what: str  # what the code shows, for the practice sheet


# What to say to the customer, per outcome (the cashier's screen text is the reason's message), with
# ``%(discount)s`` and ``%(minimum)s`` to fill in; the till translates it first (web/till/practice.py).
SAY: dict[str, str] = {
    "discount": N_("Your friend's code gives you %(discount)s off today. Here is your own code on the receipt: "
                   "share it and you get a reward too."),
    "voucher": N_("Your reward voucher takes %(discount)s off today. Thank you for bringing friends!"),
    "unknown_code": N_("I can't find this code. Could you check it, or show me the QR code on your phone?"),
    "mistyped_code": N_("It looks like a typo. Let me scan the QR code or type it again."),
    "expired": N_("I'm sorry, this code has expired. I can give you your own code today, though."),
    "self_referral": N_("This is your own code: it is for your friends. Share it and you get a reward when they "
                        "shop."),
    "already_referred": N_("You have already used a friend's code with us, so the offer can't be used again."),
    "not_new_customer": N_("This welcome offer is for new customers. You can still get your own code to share."),
    "below_minimum": N_("The offer starts from %(minimum)s. Would you like to add something?"),
    "cap_reached": N_("Your friend's code has reached its limit for now, so it can't give a discount today."),
    "velocity_limit": N_("This code has been used a lot in the last hour, so I can't apply it right now. Could you "
                         "try again a little later?"),
    "program_inactive": N_("The referral offer is not running today. I'm sorry about that."),
    "customer_required": N_("To apply the offer I need your phone number or email. It stays private."),
    "already_redeemed": N_("This voucher has already been used."),
    "voucher_revoked": N_("This voucher has been cancelled. A manager can tell you more."),
    "store_not_allowed": N_("This voucher can only be used at the shop that issued it."),
}
NOT_A_DEMO = N_("Practice mode: scan one of the demo codes (they start with DEMO).")

REFUSALS = ("unknown_code", "mistyped_code", "expired", "self_referral", "already_referred", "not_new_customer",
            "below_minimum", "cap_reached", "velocity_limit", "program_inactive", "customer_required",
            "already_redeemed", "voucher_revoked", "store_not_allowed")

DEMOS: tuple[Demo, ...] = (
    Demo("DEMO-GOOD", "discount", N_("a friend's code that gives the discount")),
    Demo("DEMO-VOUCHER", "voucher", N_("a referrer's reward voucher")),
    *(Demo(f"DEMO-{reason.upper().replace('_', '-')}", reason, REASONS[reason].message) for reason in REFUSALS),
)


@dataclass(frozen=True)
class PracticeAnswer:
    """Shaped like the API's quote answer, plus what to say; ``practice`` is always True."""

    code: str
    kind: str
    eligible: bool
    discount: str
    reason: str | None
    message: str
    say: str
    practice: bool = True

    def view(self) -> dict[str, Any]:
        return asdict(self)


def _money(minor: int, currency: str, lang: str) -> str:
    return money_text(minor, currency, lang) if currency else format_money(minor)


def _key(raw: str) -> str:
    return "".join(ch for ch in raw.upper() if ch.isalnum())


_BY_KEY = {_key(d.code): d for d in DEMOS}


def find_demo(raw: str) -> Demo | None:
    """The demo a scan or typed text means (case, spaces and hyphens do not matter)."""
    return _BY_KEY.get(_key(raw[:100]))


def practice_quote(program: Program, raw_code: str, basket_minor: int, currency: str = "",
                   lang: str = "en") -> PracticeAnswer:
    """What the till would show for this demo code and basket (pure: no database, no printer).

    Money in ``say`` and ``message`` is written for ``lang`` (``"€2.50"``); ``discount`` stays a decimal."""
    demo = find_demo(raw_code)
    minimum = _money(program.minimum_basket, currency, lang)
    if demo is None:
        return PracticeAnswer(raw_code[:40], "practice", False, "0.00", "not_a_demo_code", NOT_A_DEMO,
                              "Nothing to say yet: this is practice.")
    outcome = demo.outcome
    kind = "voucher" if outcome in ("voucher", "already_redeemed", "voucher_revoked", "store_not_allowed") \
        else "referral"
    discount = 0
    if outcome == "discount":
        if basket_minor < program.minimum_basket:
            outcome = "below_minimum"
        else:
            discount = program.friend_reward_for(basket_minor).discount_for(basket_minor)
    elif outcome == "voucher":
        discount = program.referrer_reward.discount_for(basket_minor)
    money = _money(discount, currency, lang)
    say = SAY[outcome] % {"discount": money, "minimum": minimum}
    if outcome in ("discount", "voucher"):
        message = f"Apply {money} off." if discount else "Give the reward described on the voucher."
        return PracticeAnswer(demo.code, kind, True, format_money(discount), None, message, say)
    return PracticeAnswer(demo.code, kind, False, "0.00", outcome, REASONS[outcome].message, say)
