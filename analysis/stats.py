"""The few statistics a study's answer rests on: bootstrap CIs, a permutation test, Wilson intervals, Holm.

Choices, and why:
- Confidence intervals of means and of differences of means are percentile bootstraps
  (``scipy.stats.bootstrap``, 9,999 resamples, a fixed seed so a report is reproducible to the digit). Percentile
  rather than BCa because BCa is undefined on degenerate samples (every seed at the same value, common for
  "modes captured" and for 0/1 stability) and the report must not change method row by row.
- A difference resamples seeds within each group independently (``paired=False``): seeds are not paired across
  configurations.
- p-values are two-sided permutation tests of the difference of means (``scipy.stats.permutation_test``), exact
  whenever the number of distinct relabellings is at most the resample count, which is always the case for a few
  seeds per group. No normality assumption, which a handful of GAN runs cannot support; the price is an honest
  floor (3 vs 3 seeds cannot give p below 0.1).
- With fewer than 2 values in a group there is no spread to resample: the CI and p are NaN and the report says so.
- Proportions (the share of seeds that trained stably) get Wilson score intervals, which stay inside [0, 1] and
  behave at 0/n and n/n where the normal interval collapses.
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np
from scipy import stats

CONFIDENCE = 0.95
N_RESAMPLES = 9999
SEED = 0


def finite(values: Sequence[float] | np.ndarray) -> np.ndarray:
    """float array of the finite values only (NaN and inf are dropped: they are not measurements)."""
    a = np.asarray(values, dtype=float).ravel()
    return a[np.isfinite(a)]


def _mean(x: np.ndarray, axis: int = -1) -> np.ndarray:
    return np.mean(x, axis=axis)


def _diff(x: np.ndarray, y: np.ndarray, axis: int = -1) -> np.ndarray:
    return np.mean(x, axis=axis) - np.mean(y, axis=axis)


def bootstrap_mean_ci(values, confidence: float = CONFIDENCE, n_resamples: int = N_RESAMPLES,
                      seed: int = SEED) -> tuple[float, float]:
    """Percentile bootstrap CI of the mean of the finite values; (nan, nan) with fewer than 2."""
    x = finite(values)
    if len(x) < 2:
        return math.nan, math.nan
    if np.all(x == x[0]):
        return float(x[0]), float(x[0])
    res = stats.bootstrap((x,), _mean, n_resamples=n_resamples, confidence_level=confidence, method="percentile",
                          vectorized=True, rng=np.random.default_rng(seed))
    return float(res.confidence_interval.low), float(res.confidence_interval.high)


def bootstrap_diff_ci(x, y, confidence: float = CONFIDENCE, n_resamples: int = N_RESAMPLES,
                      seed: int = SEED) -> tuple[float, float]:
    """Percentile bootstrap CI of mean(x) - mean(y), resampling within x and within y; nan if either has < 2."""
    x, y = finite(x), finite(y)
    if len(x) < 2 or len(y) < 2:
        return math.nan, math.nan
    if np.all(x == x[0]) and np.all(y == y[0]):
        d = float(x[0] - y[0])
        return d, d
    res = stats.bootstrap((x, y), _diff, n_resamples=n_resamples, confidence_level=confidence,
                          method="percentile", vectorized=True, paired=False, rng=np.random.default_rng(seed))
    return float(res.confidence_interval.low), float(res.confidence_interval.high)


def permutation_pvalue(x, y, n_resamples: int = N_RESAMPLES, seed: int = SEED) -> float:
    """Two-sided permutation p-value of mean(x) - mean(y) (exact for small groups); nan if a group has < 2 values
    (scipy requires two per group, and one seed cannot say much anyway)."""
    x, y = finite(x), finite(y)
    if len(x) < 2 or len(y) < 2:
        return math.nan
    if np.all(np.concatenate([x, y]) == x[0]):
        return 1.0  # every relabelling gives the same difference, 0
    res = stats.permutation_test((x, y), _diff, permutation_type="independent", vectorized=True,
                                 n_resamples=n_resamples, alternative="two-sided", rng=np.random.default_rng(seed))
    return float(min(res.pvalue, 1.0))


def smallest_pvalue(n_x: int, n_y: int) -> float:
    """The smallest two-sided p that ``permutation_pvalue`` can return for groups of n_x and n_y values: only the
    observed split and its mirror are that extreme among the C(n_x + n_y, n_x) relabellings (3 vs 3: 0.1)."""
    if n_x < 2 or n_y < 2:
        return math.nan
    return min(1.0, 2 / math.comb(n_x + n_y, n_x))


def wilson_interval(successes: int, n: int, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Wilson score interval of a proportion successes / n (no continuity correction); nan when n == 0."""
    if n <= 0:
        return math.nan, math.nan
    if not 0 <= successes <= n:
        raise ValueError(f"successes = {successes} is out of range; allowed: 0 <= successes <= n = {n}")
    z = float(stats.norm.ppf(0.5 + confidence / 2))
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z / denom * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def holm(pvalues: Sequence[float]) -> np.ndarray:
    """Holm-Bonferroni adjusted p-values (NaN stays NaN and does not count as a test)."""
    p = np.asarray(pvalues, dtype=float)
    out = np.full_like(p, np.nan)
    idx = np.flatnonzero(np.isfinite(p))
    m = len(idx)
    if m == 0:
        return out
    order = idx[np.argsort(p[idx], kind="stable")]
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[i]))
        out[i] = running
    return out


def pooled_sd(x, y) -> float:
    """Pooled standard deviation of two samples (the scale of a standardized effect); nan when undefined."""
    x, y = finite(x), finite(y)
    dof = len(x) + len(y) - 2
    if dof <= 0:
        return math.nan
    ss = (np.var(x, ddof=1) * (len(x) - 1) if len(x) > 1 else 0.0) + \
         (np.var(y, ddof=1) * (len(y) - 1) if len(y) > 1 else 0.0)
    return float(math.sqrt(ss / dof))
