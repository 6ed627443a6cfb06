"""The till's decision: what a code is worth on this basket for this customer, or why nothing.

Pure: services load the facts (the code's row, its program, the customer at the till, the
referrer's cap usage) and ask here. The order of the checks is the order in which the cashier
hears the reasons, and it is written only here; so are the code status rules (``code_status``)
that the code's status page shows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from pos_referral.domain.errors import REASONS
from pos_referral.domain.rules import Program
from pos_referral.domain.rules import Reward as RewardRule

# a code's status (``code_status``) -> the reason a till hears for it
STATUS_REASONS = {"revoked": "voucher_revoked", "redeemed": "already_redeemed", "inactive": "program_inactive",
                  "expired": "expired"}


@dataclass(frozen=True)
class CodeState:
    """What a code's row says about it now (referral codes are never redeemed or revoked)."""

    expires_at: datetime | None = None
    redeemed: bool = False
    revoked: bool = False


def code_status(state: CodeState, now: datetime, program_running: bool | None = None) -> str:
    """active | revoked | redeemed | inactive | expired: the one place a code's status is decided.

    ``program_running`` is asked of referral codes only: a voucher already earned stays good when
    its program ends."""
    if state.revoked:
        return "revoked"
    if state.redeemed:
        return "redeemed"
    if program_running is False:
        return "inactive"
    if state.expires_at is not None and state.expires_at <= now:
        return "expired"
    return "active"


@dataclass(frozen=True)
class Friend:
    """The customer at the till, as this store knows them."""

    customer_id: str
    already_referred: bool  # has used a friend's code in this program before
    # has bought here before (a referral or voucher used on a sale, a code given on a receipt); merely being
    # registered (a kiosk join, a card, someone typing this number) does not make a customer "not new"
    has_bought: bool = True


@dataclass(frozen=True)
class CapUsage:
    """The referrer's live referral rewards (pending or released) inside the program's cap window."""

    count: int = 0
    money: int = 0


@dataclass(frozen=True)
class ReferralFacts:
    program: Program | None
    code: CodeState
    referrer_id: str
    variant: str
    friend: Friend | None  # None: no customer given, or one this store has never seen
    customer_given: bool
    customer_id_given: bool  # the till named a customer id (which must then be known)
    basket_minor: int
    cap_used: CapUsage
    today: date  # in the store's time zone
    now: datetime
    recording: bool = False  # a redemption, not a quote: the customer must be known or given
    friends_last_hour: int = 0  # redemptions of this code in the last hour (asked only with a velocity limit)


@dataclass(frozen=True)
class VoucherFacts:
    code: CodeState
    has_reward: bool  # a voucher without its reward row was cancelled
    discount_minor: int  # what the voucher's reward takes off this basket
    away_unconfirmed: int | None  # earned at another store: its vouchers not yet confirmed by central
    away_allowance: int
    now: datetime


@dataclass(frozen=True)
class Decision:
    reason: str | None = None  # a key of domain.errors.REASONS, None when eligible
    discount_minor: int = 0
    reward_rule: RewardRule | None = None
    notes: tuple[str, ...] = field(default=())
    referrer_capped: bool = False  # eligible, but the referrer is at the cap: no reward for them this time

    @property
    def eligible(self) -> bool:
        return self.reason is None


def decide_referral(f: ReferralFacts) -> Decision:
    """Program running, code status, the friend (self, already referred, new only), basket minimum,
    the code's velocity limit, the referrer's cap, then the friend's reward for this basket (price
    tier, A/B variant).

    A referrer at the cap does not cost the friend the offer: the friend is eligible and the
    referrer earns nothing more (``referrer_capped``), unless the program says ``cap_blocks_friend``
    or gives the friend nothing anyway (referrer-only), and then the code refuses (``cap_reached``)."""
    program = f.program
    if program is None:
        return Decision("program_inactive")
    status = code_status(f.code, f.now, program.is_running(f.today))
    if status != "active":
        return Decision(STATUS_REASONS[status])
    if f.friend is not None:
        if f.friend.customer_id == f.referrer_id:
            return Decision("self_referral")
        if f.friend.already_referred:
            return Decision("already_referred")
        if program.new_customers_only and f.friend.has_bought:
            return Decision("not_new_customer")
    if f.basket_minor < program.minimum_basket:
        return Decision("below_minimum")
    limit = program.velocity.max_friends_per_hour
    if limit and f.friends_last_hour >= limit:
        return Decision("velocity_limit")
    capped = program.referrer_gets_reward() and not program.cap.admits(
        f.cap_used.count, f.cap_used.money, program.referrer_reward.value_minor())
    if capped and (program.cap_blocks_friend or not program.friend_gets_reward()):
        return Decision("cap_reached")
    if f.recording and not f.customer_given:
        return Decision("customer_required")
    if f.recording and f.customer_id_given and f.friend is None:
        return Decision("unknown_customer")
    rule = program.friend_reward_for(f.basket_minor, f.variant or None) if program.friend_gets_reward() else None
    notes = () if f.customer_given else (REASONS["customer_required"].message,)
    return Decision(None, rule.discount_for(f.basket_minor) if rule else 0, rule, notes, referrer_capped=capped)


def decide_voucher(f: VoucherFacts) -> Decision:
    """Cancelled, used, expired, then a voucher from another store beyond this store's offline allowance."""
    status = "revoked" if not f.has_reward else code_status(f.code, f.now)
    if status != "active":
        return Decision(STATUS_REASONS[status])
    if f.away_unconfirmed is not None and f.away_unconfirmed >= f.away_allowance:
        return Decision("store_not_allowed")
    return Decision(None, f.discount_minor)
