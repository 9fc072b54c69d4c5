"""Still improving at the end of the budget, or converged: read off the curves of the seeds that trained."""
import math

import pandas as pd
import pytest

from analysis.convergence import curve_points, still_improving


def history(values, steps=(100, 200, 300, 400)):
    return pd.DataFrame({"g_steps": list(steps), "fd": list(values)})


def test_curve_points_are_the_first_the_three_quarter_and_the_final_value():
    assert curve_points(history([9.0, 7.0, 5.0, 4.0]), "fd") == (9.0, 5.0, 4.0)  # 300 = 3/4 of 400
    # no evaluation exactly at 3/4: the last one before it (200 of 500)
    assert curve_points(history([9.0, 7.0, 5.0], steps=(100, 200, 500)), "fd") == (9.0, 7.0, 5.0)
    # non-finite values are not evaluations of the metric
    assert curve_points(history([9.0, math.nan, 5.0, 4.0]), "fd") == (9.0, 5.0, 4.0)
    first, at_3q, final = curve_points(history([4.0], steps=(400,)), "fd")
    assert (first, final) == (4.0, 4.0) and math.isnan(at_3q)
    assert all(math.isnan(v) for v in curve_points(history([1.0, 2.0, 3.0, 4.0]), "cis"))


def group(rows, labels=None):
    g = pd.DataFrame(rows, columns=["first_fd", "three_quarter_fd", "final_fd"])
    return g.assign(_label=labels or ["stable"] * len(g))


def test_still_improving_compares_the_last_quarters_gain_with_the_whole_gain():
    # means: first 100, 3/4 40, end 20: the last quarter brought 20 / 80 = 25% of the improvement
    assert still_improving(group([[110, 45, 25], [90, 35, 15]]), "fd", "min") == (True, pytest.approx(0.25))
    # end 38.4 against 40 at 3/4: 1.6 / 61.6 = 2.6%
    assert still_improving(group([[100, 40, 38.4]]), "fd", "min") == (False, pytest.approx(1.6 / 61.6))
    # a metric where higher is better: 2 -> 6 -> 7.5: 1.5 / 5.5
    g = pd.DataFrame({"first_cis": [2.0], "three_quarter_cis": [6.0], "final_cis": [7.5], "_label": ["stable"]})
    assert still_improving(g, "cis", "max") == (True, pytest.approx(1.5 / 5.5))


def test_only_seeds_that_trained_are_read_and_nothing_improved_is_no_answer():
    g = group([[100, 40, 38.4], [100, 90, 10]], labels=["stable", "collapsed"])
    assert still_improving(g, "fd", "min") == (False, pytest.approx(1.6 / 61.6))
    assert still_improving(group([[100, 40, 38.4]], labels=["diverged"]), "fd", "min") == (None, pytest.approx(
        math.nan, nan_ok=True))
    flat, share = still_improving(group([[20, 25, 30]]), "fd", "min")  # it got worse: no improvement to share
    assert flat is None and math.isnan(share)
    flat, share = still_improving(group([[20, math.nan, 10]]), "fd", "min")  # no 3/4 point
    assert flat is None and math.isnan(share)
