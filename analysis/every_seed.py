"""The test of two configurations over every seed, a failed one included: the worst-rank order of seeds and the
two-part test.

Why: a seed that diverged has no metric value, and a collapsed generator's value is not a measurement of a working one:
dropping them ranks a variant on its survivors, while ranking them behind every finished seed in one test lets one
failed baseline seed block a variant whose every finished seed is worse (it ties with, or ranks behind, all of
them). So ``two_part`` tests the two things a failed seed mixes up, separately, and joins them by a weighted
Bonferroni split of the level: *how the seeds failed*, an exact permutation test of mean ranks (``rank_pvalue``)
over ``failure_scores`` (every finished seed tied best, a collapsed seed behind them ranked by its measured value, a
diverged one last), and *how well the finished seeds did*, Welch's test over the finished seeds alone. Given which
seeds failed, the finished seeds of two groups with no difference are still two samples of one distribution, so the
second part keeps its level whatever the first found; the split makes p = min(p_failure / w, p_quality / (1 - w)) a
valid p-value for any weight w fixed before the labels are looked at. The weight is read from the pooled seeds only
(which is the same under every relabelling, so it does not spend the level): the failures get w = ``FAILURE_WEIGHT``
(3/4) when their smallest possible p (``rank_floor_of``) lets them reach 0.05 at that weight, none when it does not
(a single failed seed cannot tell two groups apart), and all of it when no relabelling leaves two finished seeds a
side for Welch's test. Three quarters, because a variant that failed in every seed must be callable at 6 seeds a
side over the 16 comparisons of the architecture ablation (2 / C(12, 6) / w x 16 < 0.05 needs w > 0.69), while the
finished seeds keep a quarter of the level when failures could decide. ``prob_worse`` is the matching effect size
over every seed: the share of (level seed, baseline seed) pairs in which the level's seed did worse in
``worst_rank_scores``' order (finished by value, then collapsed by value, then diverged), ties half. The rank test's
floor (``analysis.ranks``) raised by tied failures is what ``analysis.power.seeds_needed`` turns into the seed count
that could resolve an effect (``two_part_floor``).
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from analysis.ranks import prob_worse, rank_floor_of, rank_pvalue
from analysis.stats import ALPHA, diff_pvalue, finite

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
