"""What a number of seeds can resolve: the seeds a test needs to pass Holm's correction at all, and the smallest
difference Welch's test finds with a given probability.

Why here and not in the answer: these numbers are what the reports quote when an effect is not clear (more seeds
would resolve it, or it is smaller than this), and they must come from the same procedures as the tests: a test's
floor (``analysis.ranks.rank_floor``, ``analysis.every_seed.two_part_floor``, ``analysis.stats.proportion_floor``)
and Welch's power by simulation.
"""
from __future__ import annotations

import math

import numpy as np
from scipy import stats

from analysis.stats import ALPHA

SEED = 0  # the power simulation's draws: the same for every difference, so the power grows with it


def seeds_needed(floor, n_tests: int, alpha: float = ALPHA, most: int = 50) -> int | None:
    """The smallest n such that a test with n seeds on each side can pass Holm over ``n_tests`` comparisons at
    ``alpha`` (``floor(n, n) * n_tests < alpha``); None if not even ``most`` would."""
    for n in range(2, most + 1):
        f = floor(n, n)
        if math.isfinite(f) and f * max(n_tests, 1) < alpha:
            return n
    return None


POWER_DRAWS = 20_000


def welch_power(d: float, n: int, level: float, draws: int = POWER_DRAWS, n_y: int | None = None) -> float:
    """P(Welch's two-sided p < level) for a difference of d SDs between a group of n and one of ``n_y`` (default n)
    normal values with equal spreads, by simulation (fixed seed; the same draws for every d, so the power grows
    with d)."""
    m = n if n_y is None else n_y
    rng = np.random.default_rng(SEED)
    x, y = rng.normal(size=(draws, n)), rng.normal(size=(draws, m))  # [draws, n], [draws, m]
    vx, vy = x.var(axis=1, ddof=1) / n, y.var(axis=1, ddof=1) / m
    se = np.sqrt(vx + vy)
    dof = (vx + vy) ** 2 / (vx ** 2 / (n - 1) + vy ** 2 / (m - 1))
    t = (x.mean(axis=1) - y.mean(axis=1) + d) / se
    return float(np.mean(2 * stats.t.sf(np.abs(t), dof) < level))


def detectable_effect(n: int, n_tests: int, power: float = 0.8, alpha: float = ALPHA, n_y: int | None = None,
                      share: float = 1.0) -> float:
    """The difference of means, in seed-to-seed SDs, that Welch's test with n seeds against ``n_y`` (default n)
    calls with probability ``power`` at Holm's strictest level alpha / n_tests, of which it holds ``share`` (the
    finished seeds' part of a two-part test: 1 - w) (normal data, equal spreads; ``welch_power``, bisected to 0.01
    SD); nan for fewer than 2 seeds on a side or no share."""
    if n < 2 or (n_y is not None and n_y < 2) or not share > 0:
        return math.nan
    level = share * alpha / max(n_tests, 1)
    lo, hi = 0.0, 1.0
    while welch_power(hi, n, level, n_y=n_y) < power:
        lo, hi = hi, 2 * hi
    while hi - lo > 0.01:
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if welch_power(mid, n, level, n_y=n_y) < power else (lo, mid)
    return hi
