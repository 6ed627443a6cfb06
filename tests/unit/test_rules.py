"""Program rules: every reward type, tiers, variants, caps windows, dates, sides, and config errors."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from pos_referral.config import ConfigError, load_settings
from pos_referral.domain.money import MoneyError, format_money, parse_money, percent_of
from pos_referral.domain.rules import ProgramError, load_program


def program(**extra: Any) -> Any:
    raw: dict[str, Any] = {
        "id": "p1", "name": "P",
        "friend_reward": {"type": "percent_off", "percent": "10"},
        "referrer_reward": {"type": "amount_off", "amount": "10.00"},
    }
    raw.update(extra)
    return load_program(raw)


def test_percent_off_rounds_half_up_to_the_cent() -> None:
    p = program(friend_reward={"type": "percent_off", "percent": "12.5"})
    assert p.friend_reward.discount_for(1004) == 126  # 125.5 -> 126
    assert percent_of(1, Decimal("50")) == 1


def test_percent_off_respects_its_maximum() -> None:
    p = program(friend_reward={"type": "percent_off", "percent": "50", "max_amount": "20.00"})
    assert p.friend_reward.discount_for(10_000) == 2000


def test_amount_off_never_exceeds_the_basket() -> None:
    p = program(friend_reward={"type": "amount_off", "amount": "15.00"})
    assert p.friend_reward.discount_for(900) == 900
    assert p.friend_reward.discount_for(5000) == 1500


@pytest.mark.parametrize("reward", [
    {"type": "free_item", "item": "Coffee"},
    {"type": "points", "points": 100},
    {"type": "early_access", "description": "Sale preview"},
])
def test_non_money_rewards_give_no_discount(reward: dict[str, Any]) -> None:
    p = program(friend_reward=reward)
    assert p.friend_reward.discount_for(5000) == 0


@pytest.mark.parametrize("reward, expected", [
    ({"type": "percent_off"}, "percent between 0 and 100"),
    ({"type": "amount_off"}, "amount"),
    ({"type": "free_item"}, "item"),
    ({"type": "points"}, "points > 0"),
    ({"type": "percent_off", "percent": "150"}, "percent between 0 and 100"),
])
def test_incomplete_rewards_are_refused_with_the_key(reward: dict[str, Any], expected: str) -> None:
    with pytest.raises(ProgramError, match=f"friend_reward.*{expected}"):
        program(friend_reward=reward)


def test_price_tiers_give_percent_for_small_and_amount_for_large_baskets() -> None:
    p = program(friend_tiers=[{"from": "100.00", "reward": {"type": "amount_off", "amount": "15.00"}}])
    assert p.friend_reward_for(9999).discount_for(9999) == 1000
    assert p.friend_reward_for(10_000).discount_for(10_000) == 1500


def test_ab_variants_split_codes_by_weight_and_are_stable() -> None:
    p = program(variants=[
        {"name": "A", "weight": 3, "friend_reward": {"type": "percent_off", "percent": "10"}},
        {"name": "B", "weight": 1, "friend_reward": {"type": "amount_off", "amount": "5.00"}},
    ])
    counts = Counter(p.variant_for(f"CODE{i}").name for i in range(4000))  # type: ignore[union-attr]
    assert 2800 < counts["A"] < 3200 and counts["A"] + counts["B"] == 4000
    assert p.variant_for("X1") == p.variant_for("X1")
    assert p.friend_reward_for(5000, "B").discount_for(5000) == 500


def test_start_and_end_dates_bound_the_program() -> None:
    p = program(starts="2026-03-01", ends="2026-03-31")
    assert not p.is_running(date(2026, 2, 28))
    assert p.is_running(date(2026, 3, 1)) and p.is_running(date(2026, 3, 31))
    assert not p.is_running(date(2026, 4, 1))
    with pytest.raises(ProgramError, match="ends"):
        program(starts="2026-03-01", ends="2026-02-01")


def test_calendar_year_cap_window_starts_at_local_new_year() -> None:
    p = program(cap={"max_count": 3, "window": "calendar_year"})
    oslo = ZoneInfo("Europe/Oslo")
    start = p.cap.window_start(datetime(2026, 6, 1, 12, tzinfo=UTC), oslo)
    assert start == datetime(2025, 12, 31, 23, 0, tzinfo=UTC)  # 00:00 on 1 January in Oslo


def test_calendar_month_and_rolling_windows() -> None:
    now = datetime(2026, 6, 15, 12, tzinfo=UTC)
    month = program(cap={"max_count": 1, "window": "calendar_month"}).cap
    assert month.window_start(now, ZoneInfo("Asia/Jakarta")) == datetime(2026, 5, 31, 17, 0, tzinfo=UTC)
    rolling = program(cap={"max_count": 1, "window": "rolling", "days": 30}).cap
    assert rolling.window_start(now, ZoneInfo("UTC")) == datetime(2026, 5, 16, 12, tzinfo=UTC)


def test_sides_decide_who_is_rewarded() -> None:
    assert program(sides="referrer_only").friend_gets_reward() is False
    assert program(sides="friend_only").referrer_gets_reward() is False
    both = program()
    assert both.friend_gets_reward() and both.referrer_gets_reward()


def test_money_is_decimal_strings_never_floats() -> None:
    assert parse_money("12.50") == 1250 and parse_money("7") == 700 and format_money(1250) == "12.50"
    assert format_money(-5) == "-0.05"
    for bad in (12.5, "1.234", "-1.00", "abc", "NaN", True, None):
        with pytest.raises(MoneyError):
            parse_money(bad)


def _write(tmp_path: Path, store: str, prog: str | None) -> Path:
    (tmp_path / "programs").mkdir(exist_ok=True)
    (tmp_path / "store.toml").write_text(store)
    if prog is not None:
        (tmp_path / "programs" / "p.toml").write_text(prog)
    return tmp_path / "store.toml"


GOOD_PROGRAM = """id = "p"\nname = "P"\nfriend_reward = {type = "percent_off", percent = "10"}
referrer_reward = {type = "amount_off", amount = "5.00"}\n"""


def test_unknown_config_key_names_file_and_key(tmp_path: Path) -> None:
    path = _write(tmp_path, "[printer]\ntipe = 'network'\n", GOOD_PROGRAM)
    with pytest.raises(ConfigError, match=r"store\.toml: printer\.tipe: unknown key"):
        load_settings(path, environ={})


def test_bad_config_value_says_what_is_expected(tmp_path: Path) -> None:
    path = _write(tmp_path, "[store]\ntimezone = 'Mars/Base'\n", GOOD_PROGRAM)
    with pytest.raises(ConfigError, match=r"store\.timezone: .*unknown time zone"):
        load_settings(path, environ={})


def test_missing_program_stops_start_up(tmp_path: Path) -> None:
    path = _write(tmp_path, "", None)
    with pytest.raises(ConfigError, match="no program found"):
        load_settings(path, environ={})


def test_bad_program_names_its_file_and_key(tmp_path: Path) -> None:
    path = _write(tmp_path, "", GOOD_PROGRAM.replace('"5.00"', '"5.001"'))
    with pytest.raises(ConfigError, match=r"p\.toml: referrer_reward\.amount: .*two decimal places"):
        load_settings(path, environ={})


def test_environment_overrides_config(tmp_path: Path) -> None:
    path = _write(tmp_path, "", GOOD_PROGRAM)
    environ = {"POS_REFERRAL_PRINTER__TYPE": "network", "POS_REFERRAL_PRINTER__HOST": "10.0.0.9",
               "POS_REFERRAL_SERVER__PORT": "9000"}
    settings = load_settings(path, environ=environ)
    assert settings.config.printer.type == "network" and settings.config.server.port == 9000


def test_shipped_default_program_is_valid_and_default() -> None:
    settings = load_settings(environ={})
    assert settings.default_program.id == "bring-a-friend"
    assert settings.default_program.texts.terms
