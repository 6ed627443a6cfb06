"""The till's decision: which reason the cashier hears first, what a code's status is, and what a cap admits."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pos_referral.domain.eligibility import (
    CapUsage,
    CodeState,
    Decision,
    Friend,
    ReferralFacts,
    VoucherFacts,
    code_status,
    decide_referral,
    decide_voucher,
)
from pos_referral.domain.errors import REASONS
from pos_referral.domain.rules import Cap, Program, load_program

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
TODAY = NOW.date()
ASK_FOR_CUSTOMER = REASONS["customer_required"].message


def program(**extra: Any) -> Program:
    """A small spring program: 10% off from 20.00 for the friend, 10.00 for the referrer, at most 3 (25.00)."""
    raw: dict[str, Any] = {
        "id": "spring", "name": "Spring", "starts": "2026-01-01", "minimum_basket": "20.00",
        "friend_reward": {"type": "percent_off", "percent": "10"},
        "referrer_reward": {"type": "amount_off", "amount": "10.00"},
        "cap": {"max_count": 3, "max_amount": "25.00"},
    }
    raw.update(extra)
    return load_program(raw)


SPRING = program()


def strict(**extra: Any) -> Program:
    """SPRING opting into the old cap rule (a referrer at the cap refuses the friend) and a velocity limit of 3."""
    return program(cap_blocks_friend=True, velocity={"max_friends_per_hour": 3}, **extra)


def eligible_facts(**changes: Any) -> ReferralFacts:
    """A new friend, named by phone, with a 50.00 basket and a referrer far from the cap."""
    facts = ReferralFacts(
        program=SPRING, code=CodeState(expires_at=NOW + timedelta(days=30)), referrer_id="ann", variant="",
        friend=None, customer_given=True, customer_id_given=False, basket_minor=5000, cap_used=CapUsage(),
        today=TODAY, now=NOW)
    return replace(facts, **changes)


def test_a_new_friend_gets_the_friends_reward_on_the_basket() -> None:
    decision = decide_referral(eligible_facts())
    assert decision == Decision(None, 500, SPRING.friend_reward, ())
    assert decision.eligible


def test_reasons_come_in_the_order_the_cashier_hears_them() -> None:
    """Everything is wrong at once; putting each thing right reveals the next reason, in the order of the checks."""
    ended = strict(ends="2026-05-31")
    facts = eligible_facts(program=ended, code=CodeState(expires_at=NOW), friend=Friend("ann", already_referred=True),
                           basket_minor=1999, cap_used=CapUsage(count=3, money=3000), friends_last_hour=3)
    heard = []
    for put_right in (
        {"program": strict()},  # program_inactive
        {"code": CodeState(expires_at=NOW + timedelta(seconds=1))},  # expired
        {"friend": Friend("bob", already_referred=True)},  # self_referral
        {"friend": Friend("bob", already_referred=False)},  # already_referred
        {"program": strict(new_customers_only=False)},  # not_new_customer
        {"basket_minor": 2000},  # below_minimum
        {"friends_last_hour": 2},  # velocity_limit
        {"cap_used": CapUsage(count=2, money=1500)},  # cap_reached
    ):
        heard.append(decide_referral(facts).reason)
        facts = replace(facts, **put_right)
    heard.append(decide_referral(facts).reason)
    assert heard == ["program_inactive", "expired", "self_referral", "already_referred", "not_new_customer",
                     "below_minimum", "velocity_limit", "cap_reached", None]


def test_a_redemption_without_a_customer_is_refused_only_after_every_other_check() -> None:
    nobody = eligible_facts(program=strict(), customer_given=False, recording=True)
    assert decide_referral(replace(nobody, basket_minor=100)).reason == "below_minimum"
    assert decide_referral(replace(nobody, cap_used=CapUsage(count=3))).reason == "cap_reached"
    assert decide_referral(nobody).reason == "customer_required"
    unknown_id = eligible_facts(program=strict(), customer_id_given=True, recording=True)
    assert decide_referral(replace(unknown_id, cap_used=CapUsage(count=3))).reason == "cap_reached"
    assert decide_referral(unknown_id).reason == "unknown_customer"
    assert decide_referral(eligible_facts(recording=True)).eligible  # a new friend named by phone


def test_a_quote_without_a_customer_is_eligible_and_asks_for_one() -> None:
    decision = decide_referral(eligible_facts(customer_given=False))
    assert decision.eligible and decision.discount_minor == 500
    assert decision.notes == (ASK_FOR_CUSTOMER,)
    assert decide_referral(eligible_facts()).notes == ()


def test_a_program_that_is_gone_or_not_yet_started_is_inactive_before_anything_else() -> None:
    expired_code = CodeState(expires_at=NOW - timedelta(days=1))
    assert decide_referral(eligible_facts(program=None, code=expired_code)).reason == "program_inactive"
    later = program(starts="2026-07-01")
    assert decide_referral(eligible_facts(program=later, code=expired_code)).reason == "program_inactive"
    assert decide_referral(eligible_facts(program=program(ends="2026-06-15"))).eligible  # its last day


def test_a_known_customer_is_not_new_only_when_the_program_asks_for_new_customers() -> None:
    returning = Friend("bob", already_referred=False)
    assert decide_referral(eligible_facts(friend=returning)).reason == "not_new_customer"
    open_to_all = program(new_customers_only=False)
    assert decide_referral(eligible_facts(program=open_to_all, friend=returning)).eligible


def test_price_tiers_then_ab_variants_choose_the_friends_reward() -> None:
    tiered = program(
        friend_tiers=[{"from": "100.00", "reward": {"type": "amount_off", "amount": "15.00"}}],
        variants=[{"name": "A", "weight": 1, "friend_reward": {"type": "percent_off", "percent": "10"}},
                  {"name": "B", "weight": 1, "friend_reward": {"type": "amount_off", "amount": "7.00"}}])
    small_b = decide_referral(eligible_facts(program=tiered, variant="B", basket_minor=5000))
    assert small_b.discount_minor == 700 and small_b.reward_rule == tiered.variants[1].friend_reward
    small_a = decide_referral(eligible_facts(program=tiered, variant="A", basket_minor=5000))
    assert small_a.discount_minor == 500
    large_b = decide_referral(eligible_facts(program=tiered, variant="B", basket_minor=10_000))
    assert large_b.discount_minor == 1500 and large_b.reward_rule == tiered.friend_tiers[0].reward
    retired = decide_referral(eligible_facts(program=tiered, variant="C", basket_minor=5000))
    assert retired.reward_rule == tiered.friend_reward  # a variant no longer in the file: the default reward


def test_the_cap_is_asked_only_when_the_referrer_is_rewarded() -> None:
    full = CapUsage(count=3, money=3000)
    assert decide_referral(eligible_facts(program=strict(), cap_used=full)).reason == "cap_reached"
    friend_only = program(sides="friend_only", cap_blocks_friend=True)
    decision = decide_referral(eligible_facts(program=friend_only, cap_used=full))
    assert decision.eligible and not decision.referrer_capped


def test_a_referrer_at_the_cap_does_not_cost_the_friend_the_offer() -> None:
    full = CapUsage(count=3, money=3000)
    decision = decide_referral(eligible_facts(cap_used=full))
    assert decision.eligible and decision.discount_minor == 500 and decision.referrer_capped
    assert not decide_referral(eligible_facts()).referrer_capped
    # a referrer-only program has nothing for the friend: at the cap the code still refuses
    referrer_only = program(sides="referrer_only")
    assert decide_referral(eligible_facts(program=referrer_only, cap_used=full)).reason == "cap_reached"


def test_a_code_used_by_too_many_friends_within_the_hour_is_refused() -> None:
    busy = program(velocity={"max_friends_per_hour": 3})
    assert decide_referral(eligible_facts(program=busy, friends_last_hour=2)).eligible
    assert decide_referral(eligible_facts(program=busy, friends_last_hour=3)).reason == "velocity_limit"
    assert decide_referral(eligible_facts(friends_last_hour=10**6)).eligible  # 0 (the default): no limit


def test_a_referrer_only_program_gives_the_friend_nothing_but_accepts_the_code() -> None:
    decision = decide_referral(eligible_facts(program=program(sides="referrer_only")))
    assert decision.eligible and decision.discount_minor == 0 and decision.reward_rule is None


def test_the_cap_counts_the_referrers_reward_value_against_the_money_limit() -> None:
    # 25.00 limit, 10.00 per reward: 15.00 used leaves room for exactly one more, 15.01 does not
    assert not decide_referral(eligible_facts(cap_used=CapUsage(count=1, money=1500))).referrer_capped
    assert decide_referral(eligible_facts(cap_used=CapUsage(count=1, money=1501))).referrer_capped
    assert decide_referral(eligible_facts(program=strict(), cap_used=CapUsage(1, 1501))).reason == "cap_reached"


# --- every combination: the first failing check in the cashier's order is the reason --------------------------

WHO = ("nobody", "stranger", "unknown_id", "known_friend_by_id", "known_friend", "referrer")


@given(running=st.sampled_from(["running", "ended", "missing"]), expired=st.booleans(), who=st.sampled_from(WHO),
       already_referred=st.booleans(), new_only=st.booleans(), below_minimum=st.booleans(), cap_full=st.booleans(),
       friend_only=st.booleans(), recording=st.booleans(), blocks=st.booleans(), busy=st.booleans())
def test_the_reason_is_always_the_first_failing_check(
    running: str, expired: bool, who: str, already_referred: bool, new_only: bool, below_minimum: bool,
    cap_full: bool, friend_only: bool, recording: bool, blocks: bool, busy: bool,
) -> None:
    known = who in ("known_friend_by_id", "known_friend", "referrer")
    prog = None if running == "missing" else program(
        ends="2026-06-14" if running == "ended" else None, new_customers_only=new_only,
        sides="friend_only" if friend_only else "both", cap_blocks_friend=blocks, velocity={"max_friends_per_hour": 5})
    facts = eligible_facts(
        program=prog, code=CodeState(expires_at=NOW if expired else None),
        friend=Friend("ann" if who == "referrer" else "bob", already_referred) if known else None,
        customer_given=who != "nobody", customer_id_given=who in ("unknown_id", "known_friend_by_id"),
        basket_minor=1999 if below_minimum else 2000, cap_used=CapUsage(3, 3000) if cap_full else CapUsage(2, 1500),
        recording=recording, friends_last_hour=5 if busy else 4)
    checks = [
        ("program_inactive", running != "running"),
        ("expired", expired),
        ("self_referral", who == "referrer"),
        ("already_referred", known and already_referred),
        ("not_new_customer", known and new_only),
        ("below_minimum", below_minimum),
        ("velocity_limit", busy),
        ("cap_reached", cap_full and not friend_only and blocks),
        ("customer_required", recording and who == "nobody"),
        ("unknown_customer", recording and who == "unknown_id"),
    ]
    expected = next((reason for reason, failed in checks if failed), None)
    decision = decide_referral(facts)
    assert decision.reason == expected
    if expected is None:
        assert decision.discount_minor == 200  # 10% of 20.00
        assert decision.notes == (() if who != "nobody" else (ASK_FOR_CUSTOMER,))
        assert decision.referrer_capped == (cap_full and not friend_only)
    else:
        assert decision.discount_minor == 0 and decision.reward_rule is None


# --- code status -----------------------------------------------------------------------------------------------

@given(revoked=st.booleans(), redeemed=st.booleans(), running=st.sampled_from([None, True, False]),
       expires_in=st.one_of(st.none(), st.integers(-3, 3)))
def test_a_codes_status_is_the_first_that_holds_revoked_redeemed_inactive_expired(
    revoked: bool, redeemed: bool, running: bool | None, expires_in: int | None,
) -> None:
    expires_at = None if expires_in is None else NOW + timedelta(microseconds=expires_in)
    state = CodeState(expires_at=expires_at, revoked=revoked, redeemed=redeemed)
    order = [("revoked", revoked), ("redeemed", redeemed), ("inactive", running is False),
             ("expired", expires_in is not None and expires_in <= 0)]
    expected = next((status for status, holds in order if holds), "active")
    assert code_status(state, NOW, running) == expected


def test_a_code_expires_at_the_instant_on_it_not_after() -> None:
    assert code_status(CodeState(expires_at=NOW), NOW) == "expired"
    assert code_status(CodeState(expires_at=NOW + timedelta(microseconds=1)), NOW) == "active"
    assert code_status(CodeState(expires_at=None), NOW) == "active"  # never expires


def test_a_voucher_stays_good_when_its_program_has_ended() -> None:
    """Vouchers are asked without a program: only their own row decides."""
    assert code_status(CodeState(), NOW) == "active"
    assert code_status(CodeState(), NOW, program_running=False) == "inactive"  # what a referral code would hear
    assert decide_voucher(voucher_facts()).eligible


# --- vouchers ----------------------------------------------------------------------------------------------------

def voucher_facts(**changes: Any) -> VoucherFacts:
    facts = VoucherFacts(code=CodeState(expires_at=NOW + timedelta(days=90)), has_reward=True, discount_minor=1000,
                         away_unconfirmed=None, away_allowance=3, now=NOW)
    return replace(facts, **changes)


def test_a_good_voucher_takes_its_value_off_the_basket() -> None:
    assert decide_voucher(voucher_facts()) == Decision(None, 1000)


def test_voucher_reasons_come_in_order_cancelled_used_expired_then_another_stores_allowance() -> None:
    facts = voucher_facts(code=CodeState(expires_at=NOW, redeemed=True, revoked=True), has_reward=False,
                          away_unconfirmed=3)
    heard = []
    for put_right in ({"has_reward": True},
                      {"code": CodeState(expires_at=NOW, redeemed=True)},
                      {"code": CodeState(expires_at=NOW)},
                      {"code": CodeState(expires_at=None)},
                      {"away_unconfirmed": 2}):
        heard.append(decide_voucher(facts).reason)
        facts = replace(facts, **put_right)
    heard.append(decide_voucher(facts).reason)
    assert heard == ["voucher_revoked", "voucher_revoked", "already_redeemed", "expired", "store_not_allowed", None]


def test_a_voucher_whose_reward_was_taken_back_is_cancelled_even_if_its_code_looks_unused() -> None:
    assert decide_voucher(voucher_facts(has_reward=False)) == Decision("voucher_revoked")


@pytest.mark.parametrize("unconfirmed, allowed", [(None, True), (0, True), (2, True), (3, False), (9, False)])
def test_a_voucher_from_another_store_is_taken_while_this_stores_unconfirmed_ones_are_under_the_allowance(
    unconfirmed: int | None, allowed: bool,
) -> None:
    decision = decide_voucher(voucher_facts(away_unconfirmed=unconfirmed, away_allowance=3))
    assert decision.eligible is allowed
    assert decision.discount_minor == (1000 if allowed else 0)


# --- caps --------------------------------------------------------------------------------------------------------

def cap(**limits: Any) -> Cap:
    return program(cap=limits).cap


def test_a_cap_without_limits_admits_everything() -> None:
    assert cap().admits(10**9, 10**12, 10**9)
    assert not cap().limited


def test_a_count_cap_admits_up_to_its_count() -> None:
    three = cap(max_count=3)
    assert three.admits(2, 10**12, 10**9) and not three.admits(3, 0, 0)


def test_a_money_cap_admits_a_reward_that_fits_exactly() -> None:
    thirty = cap(max_amount="30.00")
    assert thirty.admits(10**6, 2000, 1000)  # 20.00 + 10.00 = 30.00: fits
    assert not thirty.admits(0, 2001, 1000)
    assert not thirty.admits(0, 0, 3001)  # one reward larger than the whole cap


def test_a_cap_with_both_limits_refuses_when_either_is_reached() -> None:
    both = cap(max_count=3, max_amount="30.00")
    assert both.admits(2, 2000, 1000)
    assert not both.admits(3, 0, 1000)
    assert not both.admits(0, 2500, 1000)


@given(max_count=st.integers(0, 5), max_amount=st.integers(0, 5000), used_count=st.integers(0, 8),
       used_money=st.integers(0, 8000), value=st.integers(0, 3000))
def test_an_admitted_reward_never_takes_the_referrer_past_either_limit(
    max_count: int, max_amount: int, used_count: int, used_money: int, value: int,
) -> None:
    limits = cap(max_count=max_count, max_amount=f"{max_amount // 100}.{max_amount % 100:02d}")
    admitted = limits.admits(used_count, used_money, value)
    count_fits = max_count == 0 or used_count + 1 <= max_count
    money_fits = max_amount == 0 or used_money + value <= max_amount
    assert admitted == (count_fits and money_fits)
    if admitted:  # a referrer who has used less, or earns less, is admitted too
        assert limits.admits(used_count // 2, used_money // 2, value // 2)

