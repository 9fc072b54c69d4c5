"""Each metric's range, from its definition, and the clipping the figures and report.md apply to intervals."""
import math

import numpy as np
import pandas as pd

from analysis.bounds import (bounds_text, clip, clip_interval, effect_bounds, metric_bounds, shown_effects,
                             shown_published, shown_summary)


def test_ranges_by_definition():
    assert metric_bounds("precision") == (0.0, 1.0)
    assert metric_bounds("stability") == (0.0, 1.0)  # a share of seeds
    assert metric_bounds("high_quality_frac") == (0.0, 1.0)
    assert metric_bounds("classes_covered") == (0.0, 10.0)
    assert metric_bounds("class_kl") == (0.0, math.log(10))
    assert metric_bounds("cis") == (1.0, 10.0)
    assert metric_bounds("fd") == (0.0, math.inf)
    assert metric_bounds("parzen_ll") == (-math.inf, math.inf)


def test_a_mixture_bounds_modes_by_its_dataset():
    ring, grid = pd.DataFrame({"dataset": ["ring8"] * 2}), pd.DataFrame({"dataset": ["grid25"]})
    assert metric_bounds("modes_captured", ring) == (0.0, 8.0)
    assert metric_bounds("modes_captured", grid) == (0.0, 25.0)
    assert metric_bounds("reverse_kl", ring) == (0.0, math.log(8))
    mixed = pd.DataFrame({"dataset": ["ring8", "grid25"]})
    assert metric_bounds("modes_captured", mixed) == (0.0, math.inf)
    assert metric_bounds("modes_captured") == (0.0, math.inf)


def test_a_difference_spans_the_width_of_the_range_either_way():
    ring = pd.DataFrame({"dataset": ["ring8"]})
    assert effect_bounds("modes_captured", ring) == (-8.0, 8.0)
    assert effect_bounds("stability") == (-1.0, 1.0)
    assert effect_bounds("fd") == (-math.inf, math.inf)


def test_clip_keeps_nan_and_text_names_the_range():
    out = clip([-30.0, 3.0, 33.0, float("nan")], (0.0, 8.0))
    assert out[:3].tolist() == [0.0, 3.0, 8.0] and math.isnan(out[3])
    assert isinstance(out, np.ndarray)
    assert bounds_text((0.0, 8.0)) == "[0, 8]"
    assert bounds_text((0.0, math.inf)) == "[0, inf)"
    assert bounds_text((-1.0, 1.0), scale=100) == "[-100, 100]"
    assert bounds_text((-math.inf, math.inf)) == ""


def test_clip_interval_says_which_intervals_clipping_moved():
    lo, hi, moved = clip_interval([-0.5, 0.2, float("nan"), 0.0], [0.3, 1.2, float("nan"), 1.0], (0.0, 1.0))
    assert lo[[0, 1, 3]].tolist() == [0.0, 0.2, 0.0] and hi[[0, 1, 3]].tolist() == [0.3, 1.0, 1.0]
    assert math.isnan(lo[2]) and math.isnan(hi[2])
    assert moved.tolist() == [True, True, False, False]  # an end on the bound, or missing, is not moved


def test_shown_summary_clips_each_metric_to_its_range_and_leaves_the_summary_as_computed():
    summary = pd.DataFrame({"modes_captured_ci_low": [-2.5, 7.0], "modes_captured_ci_high": [14.5, 8.0],
                            "parzen_ll_ci_low": [-273.0, 1.0], "parzen_ll_ci_high": [473.0, 2.0],
                            "stability_ci_low": [0.44, 0.2], "stability_ci_high": [1.0, 0.9]})
    ring = pd.DataFrame({"dataset": ["ring8"]})
    shown = shown_summary(summary, ["modes_captured", "parzen_ll"], ring)
    assert shown["modes_captured_ci_low"].tolist() == [0.0, 7.0]
    assert shown["modes_captured_ci_high"].tolist() == [8.0, 8.0]
    assert shown["modes_captured_ci_clipped"].tolist() == [True, False]
    assert shown["parzen_ll_ci_low"].tolist() == [-273.0, 1.0]
    assert shown["parzen_ll_ci_clipped"].tolist() == [False, False]
    assert shown["stability_ci_clipped"].tolist() == [False, False]
    assert summary["modes_captured_ci_low"].tolist() == [-2.5, 7.0]  # a copy: the data keeps what was computed
    assert "modes_captured_ci_clipped" not in summary.columns


def test_shown_effects_and_published_clip_each_row_to_its_metrics_range():
    ring = pd.DataFrame({"dataset": ["ring8"]})
    effects = pd.DataFrame({"metric": ["modes_captured", "stability", "parzen_ll"],
                            "ci_low": [-6.6, -1.2, -300.0], "ci_high": [10.6, 0.4, 500.0]})
    shown = shown_effects(effects, ring)
    assert shown["ci_low"].tolist() == [-6.6, -1.0, -300.0]
    assert shown["ci_high"].tolist() == [8.0, 0.4, 500.0]
    assert shown["ci_clipped"].tolist() == [True, True, False]
    assert effects["ci_high"].tolist() == [10.6, 0.4, 500.0]
    published = pd.DataFrame({"metric": ["high_quality_frac", "modes_captured"], "ours_ci_low": [-0.56, 7.0],
                              "ours_ci_high": [1.16, 8.0]})
    shown = shown_published(published, ring)
    assert shown["ours_ci_low"].tolist() == [0.0, 7.0]
    assert shown["ours_ci_high"].tolist() == [1.0, 8.0]
    assert shown["ci_clipped"].tolist() == [True, False]
