"""Program rules as data: what a referral program promises, validated once at start-up.

A program is one TOML file in ``config/programs/``; this module turns it into a frozen
``Program`` and answers the pure questions the till asks (is it running, what does the friend
get for this basket, which A/B variant does a code belong to, where does a cap window start).
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from pos_referral.domain.money import MoneyError, parse_money, percent_of

RewardType = Literal["percent_off", "amount_off", "free_item", "points", "early_access"]


class ProgramError(ValueError):
    """A program file that cannot run; the message names the key."""


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _money(value: Any) -> int:
    try:
        return parse_money(value)
    except MoneyError as exc:
        raise ValueError(str(exc)) from None


class Reward(_Frozen):
    """One side's reward. Money amounts are minor units after validation."""

    type: RewardType
    percent: Decimal = Decimal(0)
    amount: int = 0
    max_amount: int = 0
    item: str = ""
    points: int = Field(0, ge=0)
    description: str = ""

    _money_fields = field_validator("amount", "max_amount", mode="before")(classmethod(lambda cls, v: _money(v)))

    @model_validator(mode="after")
    def _complete(self) -> Reward:
        needs = {
            "percent_off": self.percent > 0 and self.percent <= 100,
            "amount_off": self.amount > 0,
            "free_item": bool(self.item),
            "points": self.points > 0,
            "early_access": bool(self.item or self.description),
        }
        if not needs[self.type]:
            expected = {
                "percent_off": "percent between 0 and 100",
                "amount_off": 'amount such as "10.00"',
                "free_item": "item (what is given)",
                "points": "points > 0",
                "early_access": "item or description (what early access means)",
            }[self.type]
            raise ValueError(f"a {self.type} reward needs {expected}")
        return self

    def discount_for(self, basket_minor: int) -> int:
        """Money off this basket; never more than the basket, never more than ``max_amount``."""
        if self.type == "percent_off":
            off = percent_of(basket_minor, self.percent)
            if self.max_amount:
                off = min(off, self.max_amount)
        elif self.type == "amount_off":
            off = self.amount
        else:
            off = 0
        return max(0, min(off, basket_minor))

    def value_minor(self) -> int:
        """What the reward costs the shop when it is a fixed amount (for caps and liability)."""
        return self.amount if self.type == "amount_off" else self.max_amount


class Tier(_Frozen):
    """A friend reward that applies from a basket size upwards (price tiers)."""

    from_basket: int = Field(alias="from")
    reward: Reward

    _m = field_validator("from_basket", mode="before")(classmethod(lambda cls, v: _money(v)))


class Variant(_Frozen):
    """An A/B variant: a share of codes gets another friend reward."""

    name: str = Field(min_length=1, max_length=32)
    weight: int = Field(ge=1)
    friend_reward: Reward


class Cap(_Frozen):
    """How much one referrer may earn in a window (count and/or money)."""

    max_count: int = Field(0, ge=0)
    max_amount: int = 0
    window: Literal["rolling", "calendar_month", "calendar_year"] = "calendar_year"
    days: int = Field(365, ge=1)

    _m = field_validator("max_amount", mode="before")(classmethod(lambda cls, v: _money(v)))

    def admits(self, used_count: int, used_money: int, value: int) -> bool:
        """Whether one more reward worth ``value`` fits beside ``used_count`` rewards worth ``used_money``
        inside the window (a limit of 0 means none): the one place the cap's arithmetic is written."""
        if self.max_count and used_count >= self.max_count:
            return False
        return not (self.max_amount and used_money + value > self.max_amount)

    @property
    def limited(self) -> bool:
        return bool(self.max_count or self.max_amount)

    def window_start(self, now: datetime, tz: ZoneInfo) -> datetime:
        """Start (UTC-aware) of the window containing ``now``, calendar windows in the store's zone."""
        if self.window == "rolling":
            return now - timedelta(days=self.days)
        local = now.astimezone(tz)
        first = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        if self.window == "calendar_year":
            first = first.replace(month=1)
        return first.astimezone(ZoneInfo("UTC"))


class Velocity(_Frozen):
    """Refuse a referral code at the till once ``max_friends_per_hour`` friends used it within the last
    hour (0: off). Counted at this store; the manager report's velocity flags are separate and always on."""

    max_friends_per_hour: int = Field(0, ge=0)


class Milestone(_Frozen):
    """A bonus at N successful referrals, optionally with a named status (e.g. Ambassador)."""

    referrals: int = Field(ge=1)
    reward: Reward | None = None
    status: str = ""
    perk: str = ""


class Goals(_Frozen):
    new_referred_customers_per_month: int = Field(0, ge=0)
    budget_per_month: int = 0

    _m = field_validator("budget_per_month", mode="before")(classmethod(lambda cls, v: _money(v)))


class FaqItem(_Frozen):
    q: str
    a: str


class Texts(_Frozen):
    headline: str = ""
    who_may_join: str = ""
    terms: str = ""
    faq: tuple[FaqItem, ...] = ()


class Program(_Frozen):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")
    name: str
    default: bool = False
    starts: date | None = None
    ends: date | None = None
    sides: Literal["both", "referrer_only", "friend_only"] = "both"
    new_customers_only: bool = True
    minimum_basket: int = 0
    hold_days: int = Field(14, ge=0)
    code_valid_days: int = Field(0, ge=0)
    reward_valid_days: int = Field(0, ge=0)
    friend_reward: Reward
    friend_tiers: tuple[Tier, ...] = ()
    referrer_reward: Reward
    variants: tuple[Variant, ...] = ()
    cap: Cap = Cap()
    # True: a referrer at the cap makes the code refuse the friend (``cap_reached``), as before;
    # False (default): the friend still gets the offer, the referrer earns nothing more
    cap_blocks_friend: bool = False
    velocity: Velocity = Velocity()
    milestones: tuple[Milestone, ...] = ()
    goals: Goals = Goals()
    texts: Texts = Texts()

    _m = field_validator("minimum_basket", mode="before")(classmethod(lambda cls, v: _money(v)))

    @model_validator(mode="after")
    def _consistent(self) -> Program:
        if self.starts and self.ends and self.ends < self.starts:
            raise ValueError("ends: must not be before starts")
        return self

    def is_running(self, today: date) -> bool:
        return (self.starts is None or today >= self.starts) and (self.ends is None or today <= self.ends)

    def variant_for(self, code: str) -> Variant | None:
        """Stable A/B assignment from the code itself, so every store agrees offline."""
        if not self.variants:
            return None
        total = sum(v.weight for v in self.variants)
        point = int.from_bytes(hashlib.sha256(f"{self.id}:{code}".encode()).digest()[:4], "big") % total
        for variant in self.variants:
            if point < variant.weight:
                return variant
            point -= variant.weight
        return self.variants[-1]

    def friend_reward_for(self, basket_minor: int, variant_name: str | None = None) -> Reward:
        """The friend's reward for this basket: price tier first, else the variant, else the default."""
        tier = max(
            (t for t in self.friend_tiers if basket_minor >= t.from_basket),
            key=lambda t: t.from_basket,
            default=None,
        )
        if tier is not None:
            return tier.reward
        for variant in self.variants:
            if variant.name == variant_name:
                return variant.friend_reward
        return self.friend_reward

    def friend_gets_reward(self) -> bool:
        return self.sides in ("both", "friend_only")

    def referrer_gets_reward(self) -> bool:
        return self.sides in ("both", "referrer_only")


def load_program(raw: dict[str, Any]) -> Program:
    """Validate one program file's content; raise ProgramError naming the key."""
    try:
        return Program.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(p) for p in first["loc"] if not str(p).startswith("function-")) or "(top level)"
        msg = "unknown key" if first["type"] == "extra_forbidden" else first["msg"]
        raise ProgramError(f"{key}: {msg}") from None
