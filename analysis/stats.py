"""The statistics a study's answer rests on, each checked by simulation at the seed counts the studies use.

``python -m analysis.calibrate`` re-runs that simulation and writes docs/STATISTICS.md; what follows is why each
procedure was chosen (the table there shows how it behaves).

- **Means and differences of means: Student's and Welch's t.** ``mean_ci`` is the t interval of a mean,
  ``diff_ci`` and ``diff_pvalue`` are Welch's interval and test for mean(x) - mean(y) of independent groups
  (Satterthwaite's degrees of freedom, no equal-variance assumption). A handful of seeds is the normal case, and at
  3 to 10 values the t procedures hold their level for normal data by construction, where a percentile bootstrap
  of 3 values covers the truth only about 78% of the time: it cannot see spread that its few values do not show,
  and the t quantile pays exactly for that. For skewed data the difference of two groups of the same shape errs
  on the safe side, while the interval of a single mean runs short (docs/STATISTICS.md).
- **A comparison in which some seed failed: an exact worst-rank test.** A seed that diverged has no metric
  value, and a collapsed generator's value is not a measurement of a working one; dropping them ranks a variant on
  its survivors. ``worst_rank_scores`` puts every failed seed behind every finished one (tied with the other
  failures), ``rank_pvalue`` is the exact two-sided permutation test of the mean ranks (Mann-Whitney with ties;
  its exact distribution over every relabelling by dynamic programming), and ``prob_worse`` is the matching
  effect size: the share of (level seed, baseline seed) pairs in which the level's seed did worse, ties half.
  The price is a floor: with n and m seeds no relabelling test can go below ``rank_floor(n, m)`` = 2 / C(n+m, n)
  (3 vs 3: 0.1), which ``seeds_needed`` turns into the seed count that could resolve an effect.
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

CONFIDENCE = 0.95
ALPHA = 0.05
EXACT_LIMIT_VALUES = 400  # the worst-rank test is exact up to this many seeds in all; beyond, a seeded Monte Carlo
MONTE_CARLO_RESAMPLES = 99_999
SEED = 0


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


# ------------------------------------------------------------------------------------------- worst-rank test
def worst_rank_scores(values, n_failed: int, mode: str) -> np.ndarray:
    """Badness scores of one group: each finite value (negated when larger is better), then ``n_failed`` +inf for
    the seeds that failed (diverged or collapsed): worse than any finished seed, tied with each other."""
    if mode not in ("min", "max"):
        raise ValueError(f"mode = {mode!r}; allowed: 'min' | 'max'")
    if n_failed < 0:
        raise ValueError(f"n_failed = {n_failed}; allowed: >= 0")
    x = finite(values)
    return np.concatenate([x if mode == "min" else -x, np.full(int(n_failed), np.inf)])


def rank_pvalue(x, y) -> float:
    """Exact two-sided permutation test of the mean midranks of x and y (Mann-Whitney, ties allowed; +inf values
    rank last): 2 min(P(T <= t), P(T >= t)) for the rank sum T of x over every relabelling, at most 1. nan if a
    group is empty or there are fewer than 4 values, 1 when every value is tied."""
    x, y = np.asarray(x, dtype=float).ravel(), np.asarray(y, dtype=float).ravel()
    x, y = x[~np.isnan(x)], y[~np.isnan(y)]
    if len(x) == 0 or len(y) == 0 or len(x) + len(y) < 4:
        return math.nan
    ranks = stats.rankdata(np.concatenate([x, y]))  # [n + m], midranks
    if np.all(ranks == ranks[0]):
        return 1.0
    if len(ranks) > EXACT_LIMIT_VALUES:
        res = stats.permutation_test((ranks[:len(x)], ranks[len(x):]), _rank_sum, permutation_type="independent",
                                     vectorized=True, alternative="two-sided", n_resamples=MONTE_CARLO_RESAMPLES,
                                     rng=np.random.default_rng(SEED))
        return float(min(res.pvalue, 1.0))
    doubled = np.rint(2 * ranks).astype(int)  # midranks are multiples of 1/2: exact integers
    dist = _subset_sum_distribution(doubled, len(x))
    t = int(doubled[:len(x)].sum())
    return float(min(1.0, 2 * min(dist[:t + 1].sum(), dist[t:].sum())))


def _rank_sum(x: np.ndarray, y: np.ndarray, axis: int = -1) -> np.ndarray:
    return np.sum(x, axis=axis)


def _subset_sum_distribution(values: np.ndarray, k: int) -> np.ndarray:
    """P(sum of a uniformly random k-subset of ``values`` = s) for s = 0 .. sum(values): the exact permutation
    distribution of a rank sum, by dynamic programming over the values (counts in float64, then normalised)."""
    total = int(values.sum())
    ways = np.zeros((k + 1, total + 1))  # ways[j, s]: j-subsets of the values so far with sum s
    ways[0, 0] = 1.0
    for v in values:
        grown = ways.copy()
        grown[1:, v:] += ways[:-1, :total + 1 - v]
        ways = grown
    return ways[k] / ways[k].sum()


def prob_worse(x, y) -> float:
    """P(a seed of x is worse than a seed of y) from badness scores (``worst_rank_scores``), ties counted half:
    0.5 when neither group is worse, 1 when every x seed is worse than every y seed. nan for an empty group."""
    x, y = np.asarray(x, dtype=float).ravel(), np.asarray(y, dtype=float).ravel()
    if len(x) == 0 or len(y) == 0:
        return math.nan
    gt = (x[:, None] > y[None, :]).sum()  # [n, m] pairs
    eq = (x[:, None] == y[None, :]).sum()
    return float((gt + 0.5 * eq) / (len(x) * len(y)))


def rank_floor(n_x: int, n_y: int) -> float:
    """The smallest two-sided p that ``rank_pvalue`` (or any relabelling test) can give groups of n_x and n_y:
    only the observed split and its mirror are that extreme among the C(n_x + n_y, n_x) relabellings."""
    if n_x < 1 or n_y < 1 or n_x + n_y < 4:
        return math.nan
    return min(1.0, 2 / math.comb(n_x + n_y, n_x))


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


def seeds_needed(floor, n_tests: int, alpha: float = ALPHA, most: int = 50) -> int | None:
    """The smallest n such that a test with n seeds on each side can pass Holm over ``n_tests`` comparisons at
    ``alpha`` (``floor(n, n) * n_tests < alpha``); None if not even ``most`` would."""
    for n in range(2, most + 1):
        f = floor(n, n)
        if math.isfinite(f) and f * max(n_tests, 1) < alpha:
            return n
    return None


POWER_DRAWS = 20_000


def welch_power(d: float, n: int, level: float, draws: int = POWER_DRAWS) -> float:
    """P(Welch's two-sided p < level) for a difference of d SDs between two groups of n normal values with equal
    spreads, by simulation (fixed seed; the same draws for every d, so the power grows with d)."""
    rng = np.random.default_rng(SEED)
    x, y = rng.normal(size=(draws, n)), rng.normal(size=(draws, n))  # [draws, n] each
    vx, vy = x.var(axis=1, ddof=1) / n, y.var(axis=1, ddof=1) / n
    se = np.sqrt(vx + vy)
    dof = (vx + vy) ** 2 / (vx ** 2 / (n - 1) + vy ** 2 / (n - 1))
    t = (x.mean(axis=1) - y.mean(axis=1) + d) / se
    return float(np.mean(2 * stats.t.sf(np.abs(t), dof) < level))


def detectable_effect(n: int, n_tests: int, power: float = 0.8, alpha: float = ALPHA) -> float:
    """The difference of means, in seed-to-seed SDs, that Welch's test with n seeds on each side calls with
    probability ``power`` at Holm's strictest level alpha / n_tests (normal data, equal spreads, no failed seed;
    ``welch_power``, bisected to 0.01 SD); nan for n < 2."""
    if n < 2:
        return math.nan
    level = alpha / max(n_tests, 1)
    lo, hi = 0.0, 1.0
    while welch_power(hi, n, level) < power:
        lo, hi = hi, 2 * hi
    while hi - lo > 0.01:
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if welch_power(mid, n, level) < power else (lo, mid)
    return hi


def pooled_sd(x, y) -> float:
    """Pooled standard deviation of two samples (the scale of a standardized effect); nan when undefined."""
    x, y = finite(x), finite(y)
    dof = len(x) + len(y) - 2
    if dof <= 0:
        return math.nan
    ss = (np.var(x, ddof=1) * (len(x) - 1) if len(x) > 1 else 0.0) + \
         (np.var(y, ddof=1) * (len(y) - 1) if len(y) > 1 else 0.0)
    return float(math.sqrt(ss / dof))
