"""The textbook statistics (analysis.stats) against independent values: hand formulas, scipy, published examples."""
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


def test_holm_adjusts_in_order_and_keeps_nan():
    out = stats.holm([0.01, 0.04, 0.03, math.nan])
    assert out[:3] == pytest.approx([0.03, 0.06, 0.06])
    assert math.isnan(out[3])


def test_pooled_sd_matches_its_definition():
    x, y = [1.0, 2.0, 4.0], [3.0, 7.0]
    want = math.sqrt((np.var(x, ddof=1) * 2 + np.var(y, ddof=1) * 1) / 3)
    assert stats.pooled_sd(x, y) == pytest.approx(want)
    assert math.isnan(stats.pooled_sd([1.0], [2.0]))
