"""The exact rank test (analysis.ranks) against scipy's permutation test and the counts of relabellings."""
import math

import numpy as np
import pytest
from scipy import stats as sps

from analysis import every_seed, ranks


def test_rank_pvalue_of_score_rows_is_the_test_of_their_lexicographic_order():
    # rows (tier, badness) rank as the 1-D values 0 .. 5 with ties where rows are equal
    x = every_seed.worst_rank_scores([2.0], 1, "min", collapsed=[9.0])  # ranks 2, 4, 5.5
    y = every_seed.worst_rank_scores([1.0, 3.0], 1, "min")                # ranks 1, 3, 5.5
    assert ranks.rank_pvalue(x, y) == pytest.approx(ranks.rank_pvalue([2.0, 4.0, 6.0], [1.0, 3.0, 6.0]), rel=1e-12)
    assert ranks.prob_worse(x, y) == pytest.approx(ranks.prob_worse([2.0, 4.0, 6.0], [1.0, 3.0, 6.0]))
    assert ranks.mean_ranks([x, y, np.zeros((0, 2))])[:2] == pytest.approx([(2 + 4 + 5.5) / 3, (1 + 3 + 5.5) / 3])


def test_rank_floor_of_counts_the_relabellings_tied_failures_allow():
    # 6 diverged against 5 finished and 1 diverged: the 7 tied seeds split 6 / 1 in 7 ways of C(12, 6) = 924
    dead, base = every_seed.worst_rank_scores([], 6, "min"), every_seed.worst_rank_scores(np.arange(5.0), 1, "min")
    assert ranks.rank_floor_of(dead, base) == pytest.approx(2 * 7 / 924, rel=1e-12)
    assert ranks.rank_pvalue(dead, base) == pytest.approx(2 * 7 / 924, rel=1e-12)
    # no ties: the floor of rank_floor
    assert ranks.rank_floor_of(np.arange(6.0), np.arange(6.0) + 10) == pytest.approx(ranks.rank_floor(6, 6))
    assert ranks.rank_floor_of([1.0, 1.0], [1.0, 1.0]) == 1.0
    assert math.isnan(ranks.rank_floor_of([1.0], [2.0, 3.0]))


def _scipy_rank_permutation_p(x, y):
    r = sps.rankdata(np.concatenate([x, y]))
    return sps.permutation_test((r[:len(x)], r[len(x):]), lambda a, b, axis=-1: a.mean(axis) - b.mean(axis),
                                permutation_type="independent", vectorized=True, n_resamples=np.inf).pvalue


@pytest.mark.parametrize("x,y", [
    ([1.0, 2.0, math.inf], [4.0, 5.0, 6.0]),
    ([1.0, math.inf, math.inf], [math.inf, 5.0, 6.0, 2.0]),
    ([0.5, 0.5, 3.0, 7.0, math.inf], [0.5, 2.0, 2.0, 8.0, 9.0, math.inf]),
    ([1.0, 2.0, 3.0, 4.0, 5.0, 6.0], [7.0, 8.0, 9.0, 10.0, 11.0, math.inf]),
])
def test_rank_pvalue_is_the_exact_permutation_test_of_midranks(x, y):
    assert ranks.rank_pvalue(x, y) == pytest.approx(_scipy_rank_permutation_p(np.array(x), np.array(y)), rel=1e-9)


@pytest.mark.parametrize("n_x,n_y,want", [(2, 2, 1 / 3), (3, 3, 0.1), (4, 4, 2 / 70), (5, 5, 2 / 252),
                                          (3, 5, 2 / 56), (6, 6, 2 / 924)])
def test_rank_floor_is_what_the_rank_test_gives_two_fully_separated_groups(n_x, n_y, want):
    assert ranks.rank_floor(n_x, n_y) == pytest.approx(want, rel=1e-12)
    assert ranks.rank_pvalue(np.arange(n_x), np.arange(n_y) + 100.0) == pytest.approx(want, rel=1e-9)


def test_rank_pvalue_edges():
    assert ranks.rank_pvalue([math.inf, math.inf], [math.inf, math.inf]) == 1.0
    assert math.isnan(ranks.rank_pvalue([], [1.0, 2.0, 3.0, 4.0]))
    assert math.isnan(ranks.rank_pvalue([1.0], [2.0, 3.0]))
    assert math.isnan(ranks.rank_floor(1, 2))


def test_prob_worse_counts_pairs_with_ties_half():
    # of the 6 pairs, x is worse in (3, 1), (3, 2), (inf, 1), (inf, 2), (inf, 3); (3, 3) is a tie
    assert ranks.prob_worse([3.0, math.inf], [1.0, 2.0, 3.0]) == pytest.approx(5.5 / 6)
    assert ranks.prob_worse([1.0], [1.0]) == 0.5
    assert math.isnan(ranks.prob_worse([], [1.0]))
