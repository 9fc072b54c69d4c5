"""The statistics the answers rest on, against independent values: hand formulas, scipy, published examples."""
import math

import numpy as np
import pytest
from scipy import stats as sps

from analysis import stats


def test_wilson_matches_the_hand_formula_and_scipy_for_7_of_10():
    # by hand: z = 1.959963984540054, p = 0.7, n = 10
    z = 1.959963984540054
    centre = (0.7 + z * z / 20) / (1 + z * z / 10)
    half = z / (1 + z * z / 10) * math.sqrt(0.7 * 0.3 / 10 + z * z / 400)
    lo, hi = stats.wilson_interval(7, 10)
    assert (lo, hi) == pytest.approx((centre - half, centre + half), abs=1e-12)
    assert (lo, hi) == pytest.approx((0.39677814746114526, 0.892208732593699), abs=1e-12)
    ref = sps.binomtest(7, 10).proportion_ci(confidence_level=0.95, method="wilson")
    assert (lo, hi) == pytest.approx((ref.low, ref.high), abs=1e-12)


@pytest.mark.parametrize("k,n", [(0, 5), (5, 5), (1, 3), (12, 40)])
def test_wilson_matches_scipy_at_the_edges(k, n):
    ref = sps.binomtest(k, n).proportion_ci(method="wilson")
    assert stats.wilson_interval(k, n) == pytest.approx((ref.low, ref.high), abs=1e-12)


def test_wilson_of_no_trials_is_nan_and_bad_counts_raise():
    assert all(math.isnan(v) for v in stats.wilson_interval(0, 0))
    with pytest.raises(ValueError, match="successes = 4 is out of range"):
        stats.wilson_interval(4, 3)


def test_mean_ci_is_students_t_interval_and_drops_non_finite_values():
    x = np.array([3.0, 4.5, 7.0, 5.5])
    ref = sps.t.interval(0.95, len(x) - 1, loc=x.mean(), scale=sps.sem(x))
    assert stats.mean_ci(np.append(x, [np.nan, np.inf])) == pytest.approx(ref, rel=1e-12)
    # by hand, 3 values: mean 2, SD 1, t(0.975, 2) = 4.302652729749464 (tables: 4.303)
    assert stats.mean_ci([1.0, 2.0, 3.0]) == pytest.approx((2 - 4.302652729749464 / math.sqrt(3),
                                                            2 + 4.302652729749464 / math.sqrt(3)), rel=1e-12)


def test_mean_ci_with_fewer_than_two_values_is_nan_and_without_spread_is_the_value():
    assert all(math.isnan(v) for v in stats.mean_ci([4.0]))
    assert all(math.isnan(v) for v in stats.mean_ci([4.0, math.nan]))
    assert stats.mean_ci([2.0, 2.0, 2.0]) == (2.0, 2.0)


def test_diff_ci_and_diff_pvalue_are_welchs_as_scipy_computes_them():
    x, y = np.array([10.0, 12.5, 11.0, 14.0]), np.array([7.0, 9.5, 8.0])
    ref = sps.ttest_ind(x, y, equal_var=False)
    assert stats.diff_ci(np.append(x, np.nan), y) == pytest.approx(tuple(ref.confidence_interval(0.95)), rel=1e-12)
    assert stats.diff_pvalue(x, np.append(y, -np.inf)) == pytest.approx(ref.pvalue, rel=1e-12)


def test_welch_without_spread_or_values():
    assert all(math.isnan(v) for v in stats.diff_ci([1.0], [1.0, 2.0]))
    assert math.isnan(stats.diff_pvalue([1.0, 2.0], [3.0]))
    assert stats.diff_ci([1.0, 1.0], [0.0, 0.0]) == (1.0, 1.0)
    assert stats.diff_pvalue([5.0, 5.0], [5.0, 5.0, 5.0]) == 1.0
    # both groups constant but different: no spread to test against, so the exact rank test: 2 / C(5, 2)
    assert stats.diff_pvalue([1.0, 1.0], [2.0, 2.0, 2.0]) == pytest.approx(0.2)


def test_worst_rank_scores_put_collapsed_behind_finished_and_diverged_last_and_orient_by_mode():
    got = stats.worst_rank_scores([3.0, 1.0, math.nan], 2, "min", collapsed=[0.5])
    assert got.tolist() == [[0.0, 3.0], [0.0, 1.0], [1.0, 0.5], [2.0, 0.0], [2.0, 0.0]]
    assert stats.worst_rank_scores([3.0, 1.0], 1, "max").tolist() == [[0.0, -3.0], [0.0, -1.0], [2.0, 0.0]]
    # a collapsed seed whose value beats every finished one still ranks behind them all; diverged seeds tie
    assert stats.prob_worse(stats.worst_rank_scores([], 0, "min", collapsed=[1.0]),
                            stats.worst_rank_scores([50.0], 0, "min")) == 1.0
    assert stats.prob_worse(stats.worst_rank_scores([], 1, "min"), stats.worst_rank_scores([], 1, "min")) == 0.5
    with pytest.raises(ValueError, match="mode = 'best'"):
        stats.worst_rank_scores([1.0], 0, "best")
    with pytest.raises(ValueError, match="n_failed = -1"):
        stats.worst_rank_scores([1.0], -1, "min")


def test_rank_pvalue_of_score_rows_is_the_test_of_their_lexicographic_order():
    # rows (tier, badness) rank as the 1-D values 0 .. 5 with ties where rows are equal
    x = stats.worst_rank_scores([2.0], 1, "min", collapsed=[9.0])  # ranks 2, 4, 5.5
    y = stats.worst_rank_scores([1.0, 3.0], 1, "min")                # ranks 1, 3, 5.5
    assert stats.rank_pvalue(x, y) == pytest.approx(stats.rank_pvalue([2.0, 4.0, 6.0], [1.0, 3.0, 6.0]), rel=1e-12)
    assert stats.prob_worse(x, y) == pytest.approx(stats.prob_worse([2.0, 4.0, 6.0], [1.0, 3.0, 6.0]))
    assert stats.mean_ranks([x, y, np.zeros((0, 2))])[:2] == pytest.approx([(2 + 4 + 5.5) / 3, (1 + 3 + 5.5) / 3])


def test_rank_floor_of_counts_the_relabellings_tied_failures_allow():
    # 6 diverged against 5 finished and 1 diverged: the 7 tied seeds split 6 / 1 in 7 ways of C(12, 6) = 924
    dead, base = stats.worst_rank_scores([], 6, "min"), stats.worst_rank_scores(np.arange(5.0), 1, "min")
    assert stats.rank_floor_of(dead, base) == pytest.approx(2 * 7 / 924, rel=1e-12)
    assert stats.rank_pvalue(dead, base) == pytest.approx(2 * 7 / 924, rel=1e-12)
    # no ties: the floor of rank_floor
    assert stats.rank_floor_of(np.arange(6.0), np.arange(6.0) + 10) == pytest.approx(stats.rank_floor(6, 6))
    assert stats.rank_floor_of([1.0, 1.0], [1.0, 1.0]) == 1.0
    assert math.isnan(stats.rank_floor_of([1.0], [2.0, 3.0]))


def seeds(finished=(), collapsed=(), diverged=0):
    return stats.Seeds(np.asarray(finished, dtype=float), np.asarray(collapsed, dtype=float), diverged)


def test_two_part_joins_the_failures_and_the_finished_seeds_by_a_weighted_split():
    noise = np.array([-1.5, 0.5, 1.0, -0.5, 0.5, 0.0])
    base = seeds(40 + noise[:5], [41.0])
    # every seed collapsed, all worse than the baseline's collapsed seed: the failures decide, at 3/4 of the level
    got = stats.two_part(seeds(collapsed=200 + noise), base, "min")
    assert (got["w_failure"], got["p_failure"], got["prob_worse_failure"]) == (0.75, pytest.approx(2 / 924), 1.0)
    assert math.isnan(got["p_quality"])
    assert (got["p"], got["floor"]) == (pytest.approx(2 / 924 / 0.75), pytest.approx(2 / 924 / 0.75))
    # every seed finished, all worse: one failed baseline seed cannot decide (weight 0), Welch over the finished
    got = stats.two_part(seeds(55 + noise), base, "min")
    assert (got["w_failure"], got["p_failure"], got["floor"]) == (0.0, 1.0, 0.0)
    assert got["p"] == got["p_quality"] == pytest.approx(stats.diff_pvalue(55 + noise, 40 + noise[:5]))
    # both parts weighted: the smaller weighted p
    x, y = seeds([50.0, 52.0], diverged=5), seeds(np.append(40 + noise, 40.3))  # 7 seeds a side
    got = stats.two_part(x, y, "min")
    assert got["w_failure"] == 0.75
    assert got["p"] == pytest.approx(min(got["p_failure"] / 0.75, got["p_quality"] / 0.25))
    # no relabelling leaves 2 finished seeds a side: the failures get the whole level
    got = stats.two_part(seeds(collapsed=[9.0, 8.0, 7.0]), seeds([1.0, 2.0], [3.0]), "min")
    assert (got["w_failure"], got["p"]) == (1.0, pytest.approx(got["p_failure"]))


def test_two_part_floor_scales_the_failures_to_n_seeds_a_side():
    dead, base = seeds(diverged=6), seeds(np.arange(5.0), diverged=1)
    assert stats.two_part_floor(6, dead, base, "min") == pytest.approx(2 * 7 / 924 / 0.75)
    assert stats.two_part_floor(8, dead, base, "min") == pytest.approx(2 * 9 / 12870 / 0.75)  # 1 of 8 diverged
    assert stats.seeds_needed(lambda n, _: stats.two_part_floor(n, dead, base, "min"), 16) == 8


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
    assert stats.rank_pvalue(x, y) == pytest.approx(_scipy_rank_permutation_p(np.array(x), np.array(y)), rel=1e-9)


@pytest.mark.parametrize("n_x,n_y,want", [(2, 2, 1 / 3), (3, 3, 0.1), (4, 4, 2 / 70), (5, 5, 2 / 252),
                                          (3, 5, 2 / 56), (6, 6, 2 / 924)])
def test_rank_floor_is_what_the_rank_test_gives_two_fully_separated_groups(n_x, n_y, want):
    assert stats.rank_floor(n_x, n_y) == pytest.approx(want, rel=1e-12)
    assert stats.rank_pvalue(np.arange(n_x), np.arange(n_y) + 100.0) == pytest.approx(want, rel=1e-9)


def test_rank_pvalue_edges():
    assert stats.rank_pvalue([math.inf, math.inf], [math.inf, math.inf]) == 1.0
    assert math.isnan(stats.rank_pvalue([], [1.0, 2.0, 3.0, 4.0]))
    assert math.isnan(stats.rank_pvalue([1.0], [2.0, 3.0]))
    assert math.isnan(stats.rank_floor(1, 2))


def test_prob_worse_counts_pairs_with_ties_half():
    # of the 6 pairs, x is worse in (3, 1), (3, 2), (inf, 1), (inf, 2), (inf, 3); (3, 3) is a tie
    assert stats.prob_worse([3.0, math.inf], [1.0, 2.0, 3.0]) == pytest.approx(5.5 / 6)
    assert stats.prob_worse([1.0], [1.0]) == 0.5
    assert math.isnan(stats.prob_worse([], [1.0]))


def test_newcombe_interval_matches_newcombes_published_example_and_never_has_zero_width():
    # Newcombe (1998), Stat. Med. 17: 873, table II, example (a), method 10: 56/70 - 48/80 = 0.2 (0.0524, 0.3339)
    assert stats.proportion_diff_ci(56, 70, 48, 80) == pytest.approx((0.0524, 0.3339), abs=5e-5)
    lo_w, hi_w = stats.wilson_interval(0, 3)
    assert stats.proportion_diff_ci(0, 3, 3, 3) == pytest.approx((-1.0, -1.0 + math.sqrt(2) * hi_w), abs=1e-12)
    assert all(math.isnan(v) for v in stats.proportion_diff_ci(1, 0, 1, 3))


def test_proportion_pvalue_is_boschloos_exact_test():
    table = np.array([[1, 6], [5, 0]])
    assert stats.proportion_diff_pvalue(1, 6, 6, 6) == pytest.approx(
        sps.boschloo_exact(table, alternative="two-sided").pvalue, rel=1e-12)
    assert stats.proportion_floor(3, 3) == pytest.approx(2 / 2 ** 6, rel=1e-9)  # the most extreme of 3 vs 3
    assert stats.proportion_diff_pvalue(0, 3, 0, 4) == 1.0
    assert stats.proportion_diff_pvalue(3, 3, 4, 4) == 1.0
    assert math.isnan(stats.proportion_diff_pvalue(0, 0, 1, 2))


def test_seeds_needed_for_the_ablations_16_comparisons():
    assert stats.seeds_needed(stats.rank_floor, 16) == 6  # 2 / C(12, 6) * 16 = 0.035; 5 seeds: 0.13
    assert stats.seeds_needed(stats.rank_floor, 4) == 5   # 2 / C(10, 5) * 4 = 0.032
    assert stats.seeds_needed(stats.proportion_floor, 16) == 5
    assert stats.seeds_needed(lambda n, m: 1.0, 3) is None


def test_detectable_effect_is_where_welchs_simulated_power_reaches_80_percent():
    d_split = stats.detectable_effect(5, 16, n_y=6, share=0.25)
    assert stats.welch_power(d_split, 5, 0.25 * 0.05 / 16, n_y=6) >= 0.8 > \
        stats.welch_power(d_split - 0.01, 5, 0.25 * 0.05 / 16, n_y=6)
    assert math.isnan(stats.detectable_effect(6, 16, n_y=1)) and math.isnan(stats.detectable_effect(6, 16, share=0))
    d = stats.detectable_effect(6, 16)
    level = 0.05 / 16
    assert d == pytest.approx(2.95, abs=0.01)
    assert stats.welch_power(d, 6, level) == pytest.approx(0.80, abs=0.01)
    assert stats.welch_power(d - 0.01, 6, level) < 0.8 <= stats.welch_power(d, 6, level)
    assert stats.welch_power(0.0, 10, 0.05) == pytest.approx(0.05, abs=0.006)  # the test's level, no effect
    assert math.isnan(stats.detectable_effect(1, 4))


def test_holm_adjusts_in_order_and_keeps_nan():
    out = stats.holm([0.01, 0.04, 0.03, math.nan])
    assert out[:3] == pytest.approx([0.03, 0.06, 0.06])
    assert math.isnan(out[3])


def test_pooled_sd_matches_its_definition():
    x, y = [1.0, 2.0, 4.0], [3.0, 7.0]
    want = math.sqrt((np.var(x, ddof=1) * 2 + np.var(y, ddof=1) * 1) / 3)
    assert stats.pooled_sd(x, y) == pytest.approx(want)
    assert math.isnan(stats.pooled_sd([1.0], [2.0]))
