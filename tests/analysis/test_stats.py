"""The statistics the answers rest on, against independent values: hand formulas, scipy, exact enumeration."""
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


def test_bootstrap_mean_ci_is_scipys_percentile_bootstrap_with_the_fixed_seed():
    x = np.array([3.1, 4.7, 2.2, 5.9, 4.4, 3.8, 6.1])
    ref = sps.bootstrap((x,), np.mean, n_resamples=9999, method="percentile",
                        rng=np.random.default_rng(stats.SEED)).confidence_interval
    assert stats.bootstrap_mean_ci(x) == pytest.approx((ref.low, ref.high), rel=1e-12)


def test_bootstrap_mean_ci_matches_the_normal_closed_form_for_a_large_sample():
    x = np.random.default_rng(1).normal(10.0, 2.0, size=2000)
    se = x.std(ddof=0) / math.sqrt(len(x))  # the bootstrap's standard error is the plug-in one
    z = sps.norm.ppf(0.975)
    lo, hi = stats.bootstrap_mean_ci(x)
    # Monte-Carlo error of a 2.5% quantile of 9,999 resamples is about 0.03 se
    assert lo == pytest.approx(x.mean() - z * se, abs=0.1 * se)
    assert hi == pytest.approx(x.mean() + z * se, abs=0.1 * se)


def test_bootstrap_diff_ci_matches_the_closed_form_and_drops_non_finite_values():
    rng = np.random.default_rng(2)
    x, y = rng.normal(5.0, 1.0, 1500), rng.normal(3.0, 2.0, 1000)
    se = math.sqrt(x.var() / len(x) + y.var() / len(y))
    z = sps.norm.ppf(0.975)
    d = x.mean() - y.mean()
    lo, hi = stats.bootstrap_diff_ci(np.append(x, [np.nan, np.inf]), y)
    assert lo == pytest.approx(d - z * se, abs=0.1 * se)
    assert hi == pytest.approx(d + z * se, abs=0.1 * se)


def test_one_value_gives_no_ci_and_constant_values_a_point():
    assert all(math.isnan(v) for v in stats.bootstrap_mean_ci([4.0]))
    assert all(math.isnan(v) for v in stats.bootstrap_mean_ci([4.0, math.nan]))
    assert all(math.isnan(v) for v in stats.bootstrap_diff_ci([1.0], [1.0, 2.0]))
    assert stats.bootstrap_mean_ci([2.0, 2.0, 2.0]) == (2.0, 2.0)
    assert stats.bootstrap_diff_ci([1.0, 1.0], [0.0, 0.0]) == (1.0, 1.0)


def test_permutation_pvalue_is_exact_for_small_groups():
    # 3 vs 3: 20 equally likely splits; only {1,2,3} | {4,5,6} and its mirror are as extreme as observed
    assert stats.permutation_pvalue([1, 2, 3], [4, 5, 6]) == pytest.approx(2 / 20)
    # identical groups: every split is at least as extreme as a difference of 0
    assert stats.permutation_pvalue([1, 2, 3], [1, 2, 3]) == pytest.approx(1.0)
    assert stats.permutation_pvalue([5.0, 5.0], [5.0, 5.0, 5.0]) == 1.0
    assert math.isnan(stats.permutation_pvalue([5.0, 6.0], [1.0]))
    assert math.isnan(stats.permutation_pvalue([], [1.0, 2.0]))


@pytest.mark.parametrize("n_x, n_y, want", [(3, 3, 2 / 20), (4, 4, 2 / 70), (5, 5, 2 / 252), (3, 5, 2 / 56),
                                            (2, 2, 2 / 6)])
def test_smallest_pvalue_is_what_the_permutation_test_gives_two_fully_separated_groups(n_x, n_y, want):
    x, y = list(range(n_x)), list(range(100, 100 + n_y))
    assert stats.smallest_pvalue(n_x, n_y) == pytest.approx(want, rel=1e-12)
    assert stats.permutation_pvalue(x, y) == pytest.approx(want, rel=1e-12)
    assert math.isnan(stats.smallest_pvalue(1, 3))


def test_holm_adjusts_in_order_and_keeps_nan():
    out = stats.holm([0.01, 0.04, 0.03, math.nan])
    assert out[:3] == pytest.approx([0.03, 0.06, 0.06])
    assert math.isnan(out[3])


def test_pooled_sd_matches_its_definition():
    x, y = [1.0, 2.0, 4.0], [3.0, 7.0]
    want = math.sqrt((np.var(x, ddof=1) * 2 + np.var(y, ddof=1) * 1) / 3)
    assert stats.pooled_sd(x, y) == pytest.approx(want)
    assert math.isnan(stats.pooled_sd([1.0], [2.0]))
