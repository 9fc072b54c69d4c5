"""The statistics a study's answer rests on, each checked by simulation at the seed counts the studies use.

``python -m analysis.calibrate`` re-runs that simulation and writes docs/STATISTICS.md; what follows, here and in
the modules beside this one, is why each procedure was chosen (the table there shows how it behaves). This module
holds the textbook procedures; ``analysis.ranks`` the exact rank test; ``analysis.every_seed`` the test over every
seed, failed ones included (the two-part test); ``analysis.power`` what a number of seeds can resolve.

- **Means and differences of means: Student's and Welch's t.** ``mean_ci`` is the t interval of a mean,
  ``diff_ci`` and ``diff_pvalue`` are Welch's interval and test for mean(x) - mean(y) of independent groups
  (Satterthwaite's degrees of freedom, no equal-variance assumption). A handful of seeds is the normal case, and at
  3 to 10 values the t procedures hold their level for normal data by construction, where a percentile bootstrap
  of 3 values covers the truth only about 78% of the time: it cannot see spread that its few values do not show,
  and the t quantile pays exactly for that. For skewed data the difference of two groups of the same shape errs
  on the safe side, while the interval of a single mean runs short (docs/STATISTICS.md).
- **Two shares (stability rates): Newcombe's hybrid score interval and Boschloo's exact test.** The interval
  (Newcombe 1998, method 10) combines the groups' Wilson intervals, so it stays inside [-1, 1] and is never of
  zero width at 0/n against n/n; Boschloo's unconditional test is exact (never above its level) and more powerful
  than Fisher's at small n (0 of 3 against 3 of 3: p = 0.031 against Fisher's 0.1).
- **Many comparisons: Holm.** Valid under any dependence between the tests, and uniformly more powerful than
  Bonferroni.
- Non-finite values are dropped before any of this (they are not measurements); the callers count failures.
"""
from __future__ import annotations

import functools
import math
from typing import Sequence

import numpy as np
from scipy import stats

from analysis.ranks import rank_pvalue

CONFIDENCE = 0.95
ALPHA = 0.05


def finite(values: Sequence[float] | np.ndarray) -> np.ndarray:
    """float array of the finite values only (NaN and inf are dropped: they are not measurements)."""
    a = np.asarray(values, dtype=float).ravel()
    return a[np.isfinite(a)]


# ------------------------------------------------------------------------------------------ means (t, Welch)
def mean_ci(values, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Student's t interval of the mean of the finite values; (nan, nan) with fewer than 2."""
    x = finite(values)
    n = len(x)
    if n < 2:
        return math.nan, math.nan
    half = float(stats.t.ppf(0.5 + confidence / 2, n - 1)) * float(np.std(x, ddof=1)) / math.sqrt(n)
    m = float(np.mean(x))
    return m - half, m + half


def _welch(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    """(mean(x) - mean(y), its standard error, Satterthwaite's degrees of freedom); dof nan when se is 0."""
    vx, vy = np.var(x, ddof=1) / len(x), np.var(y, ddof=1) / len(y)
    se2 = float(vx + vy)
    d = float(np.mean(x) - np.mean(y))
    if se2 == 0:
        return d, 0.0, math.nan
    dof = se2 ** 2 / (vx ** 2 / (len(x) - 1) + vy ** 2 / (len(y) - 1))
    return d, math.sqrt(se2), float(dof)


def diff_ci(x, y, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Welch's interval of mean(x) - mean(y) for independent groups; nan if either has fewer than 2 finite values.
    Both groups without spread give the zero-width interval at the difference (the data show no uncertainty)."""
    x, y = finite(x), finite(y)
    if len(x) < 2 or len(y) < 2:
        return math.nan, math.nan
    d, se, dof = _welch(x, y)
    if se == 0:
        return d, d
    half = float(stats.t.ppf(0.5 + confidence / 2, dof)) * se
    return d - half, d + half


def diff_pvalue(x, y) -> float:
    """Welch's two-sided test of mean(x) = mean(y); nan if either group has fewer than 2 finite values.

    Both groups without spread: 1 when their values are equal, else the exact permutation p of the two groups
    (Welch's statistic would be infinite; the permutation test says what so few constant values can show)."""
    x, y = finite(x), finite(y)
    if len(x) < 2 or len(y) < 2:
        return math.nan
    d, se, dof = _welch(x, y)
    if se == 0:
        return 1.0 if d == 0 else rank_pvalue(x, y)
    return float(2 * stats.t.sf(abs(d) / se, dof))


# ------------------------------------------------------------------------------------------------ proportions
def wilson_interval(successes: int, n: int, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Wilson score interval of a proportion successes / n (no continuity correction); nan when n == 0."""
    if n <= 0:
        return math.nan, math.nan
    if not 0 <= successes <= n:
        raise ValueError(f"successes = {successes} is out of range; allowed: 0 <= successes <= n = {n}")
    ci = stats.binomtest(successes, n).proportion_ci(confidence_level=confidence, method="wilson")
    return float(ci.low), float(ci.high)


def proportion_diff_ci(k_x: int, n_x: int, k_y: int, n_y: int,
                       confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Newcombe's hybrid score interval of k_x/n_x - k_y/n_y (method 10 of Newcombe 1998); nan if a group is
    empty."""
    if n_x <= 0 or n_y <= 0:
        return math.nan, math.nan
    px, py = k_x / n_x, k_y / n_y
    lx, ux = wilson_interval(k_x, n_x, confidence)
    ly, uy = wilson_interval(k_y, n_y, confidence)
    d = px - py
    return d - math.sqrt((px - lx) ** 2 + (uy - py) ** 2), d + math.sqrt((ux - px) ** 2 + (py - ly) ** 2)


@functools.lru_cache(maxsize=4096)  # a pure function of four counts, and Boschloo's maximisation is slow
def proportion_diff_pvalue(k_x: int, n_x: int, k_y: int, n_y: int) -> float:
    """Boschloo's exact two-sided test of k_x/n_x = k_y/n_y; nan if a group is empty, 1 when both shares are 0 or
    both are 1 (no table is more extreme)."""
    if n_x <= 0 or n_y <= 0:
        return math.nan
    if k_x + k_y in (0, n_x + n_y):
        return 1.0
    table = np.array([[k_x, k_y], [n_x - k_x, n_y - k_y]])  # columns: the two groups
    return float(min(1.0, stats.boschloo_exact(table, alternative="two-sided").pvalue))


def proportion_floor(n_x: int, n_y: int) -> float:
    """The smallest p ``proportion_diff_pvalue`` can give groups of n_x and n_y: that of 0/n_x against n_y/n_y."""
    if n_x <= 0 or n_y <= 0:
        return math.nan
    return proportion_diff_pvalue(0, n_x, n_y, n_y)


# ----------------------------------------------------------------------------------------------- many tests
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
