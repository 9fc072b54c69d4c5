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
- **A comparison in which some seed failed: the two-part test.** A seed that diverged has no metric value, and a
  collapsed generator's value is not a measurement of a working one: dropping them ranks a variant on its
  survivors, while ranking them behind every finished seed in one test lets one failed baseline seed block a
  variant whose every finished seed is worse (it ties with, or ranks behind, all of them). So ``two_part`` tests
  the two things a failed seed mixes up, separately, and joins them by a weighted Bonferroni split of the level:
  *how the seeds failed*, an exact permutation test of mean ranks (``rank_pvalue``) over ``failure_scores``
  (every finished seed tied best, a collapsed seed behind them ranked by its measured value, a diverged one last),
  and *how well the finished seeds did*, Welch's test over the finished seeds alone. Given which seeds failed, the
  finished seeds of two groups with no difference are still two samples of one distribution, so the second part
  keeps its level whatever the first found; the split makes p = min(p_failure / w, p_quality / (1 - w)) a valid
  p-value for any weight w fixed before the labels are looked at. The weight is read from the pooled seeds only
  (which is the same under every relabelling, so it does not spend the level): the failures get w =
  ``FAILURE_WEIGHT`` (3/4) when their smallest possible p (``rank_floor_of``) lets them reach 0.05 at that weight,
  none when it does not (a single failed seed cannot tell two groups apart), and all of it when no relabelling
  leaves two finished seeds a side for Welch's test. Three quarters, because a variant that failed in every seed
  must be callable at 6 seeds a side over the 16 comparisons of the architecture ablation (2 / C(12, 6) / w x 16
  < 0.05 needs w > 0.69), while the finished seeds keep a quarter of the level when failures could decide.
  ``prob_worse`` is the matching effect size over every seed: the share of (level seed, baseline seed) pairs in
  which the level's seed did worse in ``worst_rank_scores``' order (finished by value, then collapsed by value,
  then diverged), ties half. The price of exactness is a floor: no relabelling test of n against n seeds can go
  below ``rank_floor(n, n)`` = 2 / C(2n, n) (3 vs 3: 0.1), and tied failures raise it (``rank_floor_of``), which
  ``seeds_needed`` turns into the seed count that could resolve an effect.
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
from typing import NamedTuple, Sequence

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
FINISHED_TIER, COLLAPSED_TIER, DIVERGED_TIER = 0.0, 1.0, 2.0  # the outcomes of a seed, best first


def _badness(values, mode: str) -> np.ndarray:
    if mode not in ("min", "max"):
        raise ValueError(f"mode = {mode!r}; allowed: 'min' | 'max'")
    x = finite(values)
    return x if mode == "min" else -x


def _tiers(tier: float, badness: np.ndarray) -> np.ndarray:
    return np.column_stack([np.full(len(badness), tier), badness]).reshape(len(badness), 2)


def worst_rank_scores(values, n_failed: int, mode: str, collapsed=()) -> np.ndarray:
    """Badness scores of one group in the order of every seed, as rows (tier, badness) compared lexicographically:
    each finished seed's finite value (negated when larger is better), then each collapsed seed's value behind
    every finished one (a collapsed generator's value orders collapses among themselves, it does not compete with
    a working generator's), then ``n_failed`` seeds that failed without a value (diverged) last, tied."""
    if n_failed < 0:
        raise ValueError(f"n_failed = {n_failed}; allowed: >= 0")
    return np.concatenate([_tiers(FINISHED_TIER, _badness(values, mode)),
                           _tiers(COLLAPSED_TIER, _badness(collapsed, mode)),
                           _tiers(DIVERGED_TIER, np.zeros(int(n_failed)))])


def failure_scores(n_finished: int, collapsed, n_diverged: int, mode: str) -> np.ndarray:
    """The scores of the failure part of ``two_part``: ``worst_rank_scores`` with every finished seed tied (how well a
    finished seed did is the other part's question, and leaving it out keeps the two parts independent)."""
    return worst_rank_scores(np.zeros(int(n_finished)), n_diverged, "min", collapsed=_badness(collapsed, mode))


def _order(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, int]:
    """Pooled ordering keys of x and y (1-D values, +inf last; or ``worst_rank_scores`` rows, lexicographic), NaN
    values dropped, and the length of x's part."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x.ndim == 2 or y.ndim == 2:
        x, y = x.reshape(-1, 2), y.reshape(-1, 2)
        x, y = x[~np.isnan(x).any(axis=1)], y[~np.isnan(y).any(axis=1)]
        pooled = np.concatenate([x, y])
        if len(pooled) == 0:
            return np.zeros(0), len(x)
        return np.unique(pooled, axis=0, return_inverse=True)[1].ravel().astype(float), len(x)
    x, y = x.ravel(), y.ravel()
    x, y = x[~np.isnan(x)], y[~np.isnan(y)]
    return np.concatenate([x, y]), len(x)


def _rank_distribution(x, y) -> tuple[np.ndarray, int, int] | None:
    """(the exact distribution of x's doubled midrank sum over every relabelling, the observed sum, len(x)); None
    if a group is empty or there are fewer than 4 values."""
    keys, n_x = _order(x, y)
    if n_x == 0 or len(keys) == n_x or len(keys) < 4:
        return None
    doubled = np.rint(2 * stats.rankdata(keys)).astype(int)  # midranks are multiples of 1/2: exact integers
    return _subset_sum_distribution(doubled, n_x), int(doubled[:n_x].sum()), n_x


def rank_pvalue(x, y) -> float:
    """Exact two-sided permutation test of the mean midranks of x and y (Mann-Whitney, ties allowed; +inf values
    rank last; ``worst_rank_scores`` rows in their order): 2 min(P(T <= t), P(T >= t)) for the rank sum T of x over
    every relabelling, at most 1. nan if a group is empty or there are fewer than 4 values, 1 when every value is
    tied."""
    keys, n_x = _order(x, y)
    if n_x == 0 or len(keys) == n_x or len(keys) < 4:
        return math.nan
    ranks = stats.rankdata(keys)  # [n + m], midranks
    if np.all(ranks == ranks[0]):
        return 1.0
    if len(ranks) > EXACT_LIMIT_VALUES:
        res = stats.permutation_test((ranks[:n_x], ranks[n_x:]), _rank_sum, permutation_type="independent",
                                     vectorized=True, alternative="two-sided", n_resamples=MONTE_CARLO_RESAMPLES,
                                     rng=np.random.default_rng(SEED))
        return float(min(res.pvalue, 1.0))
    dist, t, _ = _rank_distribution(x, y)
    return float(min(1.0, 2 * min(dist[:t + 1].sum(), dist[t:].sum())))


def mean_ranks(groups: Sequence[np.ndarray]) -> list[float]:
    """Each group's mean midrank among the pooled seeds of every group (``worst_rank_scores`` rows; 1 = best): the
    every-seed order of many configurations at once. nan for an empty group."""
    rows = [np.asarray(g, dtype=float).reshape(-1, 2) for g in groups]
    pooled = np.concatenate(rows) if rows else np.zeros((0, 2))
    if len(pooled) == 0:
        return [math.nan] * len(rows)
    ranks = stats.rankdata(np.unique(pooled, axis=0, return_inverse=True)[1].ravel())
    out, start = [], 0
    for r in rows:
        out.append(float(ranks[start:start + len(r)].mean()) if len(r) else math.nan)
        start += len(r)
    return out


def rank_floor_of(x, y) -> float:
    """The smallest p ``rank_pvalue`` can give over every relabelling of these pooled values: that of the most
    extreme rank sum either way. Ties raise it above ``rank_floor``: 6 seeds that all diverged against 1 of 6 that
    did can be relabelled 7 ways with the same sum, so p >= 2 x 7 / C(12, 6) = 0.015. nan as ``rank_pvalue``."""
    keys, n_x = _order(x, y)
    if n_x == 0 or len(keys) == n_x or len(keys) < 4:
        return math.nan
    if len(keys) > EXACT_LIMIT_VALUES:
        return rank_floor(n_x, len(keys) - n_x)
    dist = _rank_distribution(x, y)[0]
    seen = np.flatnonzero(dist > 0)
    if len(seen) == 1:
        return 1.0
    return float(min(1.0, 2 * min(dist[seen[0]], dist[seen[-1]])))


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
    keys, n_x = _order(x, y)
    kx, ky = keys[:n_x], keys[n_x:]
    if len(kx) == 0 or len(ky) == 0:
        return math.nan
    gt = (kx[:, None] > ky[None, :]).sum()  # [n, m] pairs
    eq = (kx[:, None] == ky[None, :]).sum()
    return float((gt + 0.5 * eq) / (len(kx) * len(ky)))


def rank_floor(n_x: int, n_y: int) -> float:
    """The smallest two-sided p that ``rank_pvalue`` (or any relabelling test) can give groups of n_x and n_y:
    only the observed split and its mirror are that extreme among the C(n_x + n_y, n_x) relabellings."""
    if n_x < 1 or n_y < 1 or n_x + n_y < 4:
        return math.nan
    return min(1.0, 2 / math.comb(n_x + n_y, n_x))


# ----------------------------------------------------------------------------------------- the two-part test
FAILURE_WEIGHT = 0.75  # the failure part's share of the level when it can decide (module docstring: why 3/4)


class Seeds(NamedTuple):
    """One group's seeds by outcome: the finished seeds' values, the collapsed seeds' values, how many diverged
    (or failed without a finite value)."""
    finished: np.ndarray
    collapsed: np.ndarray
    n_diverged: int

    @property
    def n(self) -> int:
        return len(self.finished) + len(self.collapsed) + self.n_diverged


def failure_weight(x: Seeds, y: Seeds, mode: str, alpha: float = ALPHA) -> float:
    """The failure part's weight w in ``two_part``, from what every relabelling of the pooled seeds shares (so it
    spends no level): 1 when no relabelling leaves 2 finished seeds a side (Welch's test is impossible), else
    ``FAILURE_WEIGHT`` when the failures' smallest possible p (``rank_floor_of``) lets them reach ``alpha`` at that
    weight, else 0 (they cannot tell the groups apart: one failed seed, or many tied ones)."""
    if len(x.finished) + len(y.finished) < 4 or x.n < 2 or y.n < 2:
        return 1.0
    floor = rank_floor_of(failure_scores(len(x.finished), x.collapsed, x.n_diverged, mode),
                          failure_scores(len(y.finished), y.collapsed, y.n_diverged, mode))
    return FAILURE_WEIGHT if math.isfinite(floor) and floor / FAILURE_WEIGHT < alpha else 0.0


def two_part(x: Seeds, y: Seeds, mode: str) -> dict[str, float]:
    """The test of x against y when a seed failed (module docstring): ``p`` = min(p_failure / w, p_quality /
    (1 - w)) at most 1, a part of weight 0 left out and a quality part without 2 finished seeds a side counted as
    p_quality = 1; nan when neither part can be computed. Also the parts, the weight, ``floor`` (the smallest ``p``
    these seeds' outcomes allow: 0 when Welch's test runs, however extreme its values could be; else the failure
    part's floor / w) and ``prob_worse_failure`` (``prob_worse`` of the failure scores: which side failed worse)."""
    fx = failure_scores(len(x.finished), x.collapsed, x.n_diverged, mode)
    fy = failure_scores(len(y.finished), y.collapsed, y.n_diverged, mode)
    w = failure_weight(x, y, mode)
    p_f, floor_f, p_q = rank_pvalue(fx, fy), rank_floor_of(fx, fy), diff_pvalue(x.finished, y.finished)
    candidates, floors = [], []
    if w > 0 and math.isfinite(p_f):
        candidates.append(p_f / w)
        floors.append(floor_f / w)
    if w < 1 and math.isfinite(p_q):
        candidates.append(p_q / (1 - w))
        floors.append(0.0)
    if not candidates:
        p = floor = 1.0 if w < 1 and math.isfinite(p_f) else math.nan
    else:
        p, floor = min(1.0, min(candidates)), min(1.0, min(floors))
    return {"p": p, "p_failure": p_f, "p_quality": p_q, "w_failure": w, "floor": floor,
            "prob_worse_failure": prob_worse(fx, fy)}


def every_seed_test(x: Seeds, y: Seeds, mode: str) -> dict[str, float | str]:
    """The test of x against y over every seed, as the reports run it: Welch's t over the finished seeds when no seed
    of either group failed (floor 0 with 2 seeds a side), else ``two_part``; ``test`` names which."""
    if x.n == len(x.finished) and y.n == len(y.finished):
        p = diff_pvalue(x.finished, y.finished)
        return {"test": "welch", "p": p, "p_failure": math.nan, "p_quality": p, "w_failure": 0.0,
                "floor": 0.0 if len(x.finished) >= 2 and len(y.finished) >= 2 else math.nan,
                "prob_worse_failure": math.nan}
    return {"test": "two-part", **two_part(x, y, mode)}


def two_part_floor(n: int, x: Seeds, y: Seeds, mode: str) -> float:
    """The ``two_part`` floor with n seeds a side that fail as x's and y's did (each outcome's share of the seeds
    kept, rounded; collapsed values distinct): what ``seeds_needed`` asks of more seeds."""
    def scaled(s: Seeds) -> Seeds:
        c, d = round(n * len(s.collapsed) / s.n), round(n * s.n_diverged / s.n)
        c, d = min(c, n), min(d, n - min(c, n))
        return Seeds(np.arange(float(n - c - d)), np.arange(float(c)) + 1000.0 * (1 + (s is y)), d)
    return two_part(scaled(x), scaled(y), mode)["floor"]


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


def pooled_sd(x, y) -> float:
    """Pooled standard deviation of two samples (the scale of a standardized effect); nan when undefined."""
    x, y = finite(x), finite(y)
    dof = len(x) + len(y) - 2
    if dof <= 0:
        return math.nan
    ss = (np.var(x, ddof=1) * (len(x) - 1) if len(x) > 1 else 0.0) + \
         (np.var(y, ddof=1) * (len(y) - 1) if len(y) > 1 else 0.0)
    return float(math.sqrt(ss / dof))
