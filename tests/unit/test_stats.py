"""The A/B statistics against values published for them (textbook and R results)."""

from __future__ import annotations

import pytest

from pos_referral.domain import stats


def test_wilson_interval_matches_the_published_values() -> None:
    # Newcombe (1998), 81/263: 0.2553 to 0.3662; 0 of 10: 0 to 0.2775
    low, high = stats.wilson(81, 263) or (0, 0)
    assert (round(low, 4), round(high, 4)) == (0.2553, 0.3662)
    low, high = stats.wilson(0, 10) or (0, 0)
    assert low == 0 and round(high, 4) == 0.2775
    assert stats.wilson(0, 0) is None


def test_fisher_exact_matches_r() -> None:
    # fisher.test(matrix(c(1, 9, 11, 3), 2)) in R: p = 0.002759
    assert stats.fisher_exact(1, 10, 11, 14) == pytest.approx(0.002759, abs=1e-6)
    assert stats.fisher_exact(3, 10, 3, 10) == pytest.approx(1.0)


def test_small_counts_use_fisher_and_large_ones_the_z_test() -> None:
    small = stats.compare(2, 10, 7, 10)
    assert small is not None and small.test == "fisher"
    large = stats.compare(200, 1000, 250, 1000)
    # prop.test(c(200, 250), c(1000, 1000), correct = FALSE): X-squared = 7.168 (z = 2.677), p = 0.00742
    assert large is not None and large.test == "z" and large.p_value == pytest.approx(0.00742, abs=1e-5)
    assert stats.compare(1, 0, 1, 10) is None


def test_sample_size_for_80_percent_power() -> None:
    # Fleiss without continuity correction: 10 % vs 15 % needs 686 per group
    assert stats.sample_size(0.10, 0.15) == 686
    assert stats.sample_size(0.2, 0.2) is None
