"""The statistics behind the A/B verdict: Wilson intervals, a two-proportion test, a sample size.

Pure functions over counts (no database, no scipy): a proportion's 95 % interval is Wilson's score
interval (right near 0 % and 100 % and for small counts, where the normal "plus or minus" interval is
not); two variants are compared with the two-proportion z-test, or with Fisher's exact test when an
expected cell count is below 5 (the z-test's normal approximation is then unreliable); "how many more"
is the classic sample size for two proportions at a 5 % two-sided level and 80 % power.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

Z_95 = 1.959963984540054  # two-sided 5 %
Z_POWER_80 = 0.8416212335729143  # one-sided 20 %
ALPHA = 0.05


@dataclass(frozen=True)
class Comparison:
    p_value: float
    test: str  # "z" (two-proportion z-test) | "fisher" (Fisher's exact test)


def wilson(successes: int, n: int, z: float = Z_95) -> tuple[float, float] | None:
    """Wilson score interval for ``successes`` out of ``n`` (None when ``n`` is 0)."""
    if n <= 0:
        return None
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def _log_hypergeom(a: int, row1: int, row2: int, col1: int) -> float:
    """log P(top-left cell = a) for a 2x2 table with the given margins."""
    return (_log_comb(row1, a) + _log_comb(row2, col1 - a) - _log_comb(row1 + row2, col1))


def _log_comb(n: int, k: int) -> float:
    return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)


def fisher_exact(x1: int, n1: int, x2: int, n2: int) -> float:
    """Two-sided Fisher exact p-value: the probability of every table as or less likely than this one."""
    col1 = x1 + x2
    low, high = max(0, col1 - n2), min(n1, col1)
    observed = _log_hypergeom(x1, n1, n2, col1)
    total = 0.0
    for a in range(low, high + 1):
        lp = _log_hypergeom(a, n1, n2, col1)
        if lp <= observed + 1e-7:
            total += math.exp(lp)
    return min(1.0, total)


def z_test(x1: int, n1: int, x2: int, n2: int) -> float:
    """Two-sided p-value of the pooled two-proportion z-test."""
    pooled = (x1 + x2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0:
        return 1.0
    z = (x1 / n1 - x2 / n2) / se
    return math.erfc(abs(z) / math.sqrt(2))


def compare(x1: int, n1: int, x2: int, n2: int) -> Comparison | None:
    """Are two conversion rates different? None when either group is empty."""
    if n1 <= 0 or n2 <= 0:
        return None
    total, col1 = n1 + n2, x1 + x2
    expected = [n1 * col1 / total, n1 * (total - col1) / total, n2 * col1 / total, n2 * (total - col1) / total]
    if min(expected) < 5:
        return Comparison(fisher_exact(x1, n1, x2, n2), "fisher")
    return Comparison(z_test(x1, n1, x2, n2), "z")


def sample_size(p1: float, p2: float) -> int | None:
    """Codes per variant needed to tell ``p1`` from ``p2`` (5 % two-sided, 80 % power); None if equal."""
    if p1 == p2:
        return None
    mean = (p1 + p2) / 2
    top = Z_95 * math.sqrt(2 * mean * (1 - mean)) + Z_POWER_80 * math.sqrt(p1 * (1 - p1) + p2 * (1 - p2))
    return math.ceil(top * top / ((p1 - p2) ** 2))
