"""The exact rank test of two groups of seeds: the permutation test of their mean midranks, its floor, and the
matching effect size.

Why exact: at a handful of seeds a side the normal approximation of Mann-Whitney misstates the p-value, and ties
(seeds that failed alike) are the normal case, so the distribution of the rank sum is computed over every
relabelling (``_subset_sum_distribution``), up to ``EXACT_LIMIT_VALUES`` seeds in all, beyond which a seeded Monte
Carlo stands in. The price of exactness is a floor: no relabelling test of n against n seeds can go below
``rank_floor(n, n)`` = 2 / C(2n, n) (3 vs 3: 0.1), and tied values raise it (``rank_floor_of``). The values ranked
are numbers (+inf last) or the rows of ``analysis.every_seed.worst_rank_scores``, in their order.
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np
from scipy import stats

EXACT_LIMIT_VALUES = 400  # the worst-rank test is exact up to this many seeds in all; beyond, a seeded Monte Carlo
MONTE_CARLO_RESAMPLES = 99_999
SEED = 0


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
