"""The sign-in throttle's arithmetic: growing delays per name and address, capped, never a lock-out."""

from __future__ import annotations

from pos_referral.services.sign_in_throttle import SignInThrottle, ThrottlePolicy, client_key


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_delays_double_after_the_free_tries_up_to_the_cap() -> None:
    clock = Clock()
    throttle = SignInThrottle(ThrottlePolicy(free_attempts=3, max_delay=60), clock)
    waits = []
    for _ in range(12):
        waits.append(throttle.wait("Ann", "10.0.0.9"))
        clock.now += waits[-1]
        throttle.failed("Ann", "10.0.0.9")
    assert waits == [0, 0, 0, 1, 2, 4, 8, 16, 32, 60, 60, 60]


def test_other_addresses_failures_delay_a_name_only_a_little_and_only_after_failing_there() -> None:
    clock = Clock()
    throttle = SignInThrottle(ThrottlePolicy(account_max_delay=30), clock)
    for i in range(200):  # a botnet: one wrong PIN each from 200 addresses
        throttle.failed("Ann", f"198.51.100.{i}")
    assert throttle.wait("Ann", "10.0.0.9") == 0  # the real Ann at her till: checked at once
    throttle.failed("Ann", "10.0.0.9")  # she mistypes
    assert 0 < throttle.wait("Ann", "10.0.0.9") <= 30  # a short wait, counted from her own try
    clock.now += 30
    throttle.failed("Ann", "198.51.100.7")  # the botnet goes on: her wait does not start again
    assert throttle.wait("Ann", "10.0.0.9") == 0


def test_a_right_pin_forgets_its_pair_and_quiet_counters_are_forgotten() -> None:
    clock = Clock()
    throttle = SignInThrottle(ThrottlePolicy(free_attempts=1, free_attempts_per_address=50), clock)
    throttle.failed("Ann", "10.0.0.9")
    assert throttle.wait("ann ", "10.0.0.9") == 1  # names count case- and space-blind
    throttle.succeeded("Ann", "10.0.0.9")
    assert throttle.wait("Ann", "10.0.0.9") == 0
    for _ in range(60):
        throttle.failed("Bo", "10.0.0.8")
    clock.now += throttle.policy.forget_after + 1
    assert throttle.wait("Bo", "10.0.0.8") == 0


def test_an_ipv6_client_counts_by_its_network() -> None:
    assert client_key("2001:db8:1:2:aaaa::1") == client_key("2001:db8:1:2:bbbb::2") == "2001:db8:1:2::/64"
    assert client_key("::ffff:192.0.2.7") == "192.0.2.7" and client_key("192.0.2.7") == "192.0.2.7"
    assert client_key(None) == "?"


def test_a_busy_tills_typos_over_a_day_never_add_up_to_a_delay() -> None:
    clock = Clock()
    throttle = SignInThrottle(ThrottlePolicy(), clock)
    for hour in range(10):  # every half hour a cashier mistypes her PIN once, then gets it right
        for who in ("Ann", "Bo"):
            clock.now += 1800
            throttle.failed(who, "10.0.0.9")
            assert throttle.wait(who, "10.0.0.9") == 0, hour
            throttle.succeeded(who, "10.0.0.9")
